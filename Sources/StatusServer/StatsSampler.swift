import Hummingbird
import ServiceLifecycle
import Telemetry

/// Samples the source's counters into a `StatsHistory` once a second until the service group
/// shuts down: one `statsReport()` per second, whatever the number of viewers.
public struct StatsSampler: Service {
    public static let interval = Limits.Status.statsSampleInterval

    let source: any StatusSource
    let history: StatsHistory

    public init(source: any StatusSource, history: StatsHistory) {
        self.source = source
        self.history = history
    }

    /// Takes one sample now.
    public func sample() {
        let report = source.statsReport()
        var sample = report.counterSample
        sample.seconds = report.uptime_seconds
        history.append(sample)
    }

    public func run() async throws {
        // Bounded by shutdown: each pass sleeps a second, and cancellation ends the sleep.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            sample()
            try? await Task.sleep(for: Self.interval)
        }
    }
}
