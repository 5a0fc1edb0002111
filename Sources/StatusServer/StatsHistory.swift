import Synchronization
import Telemetry

/// The counters one per-second snapshot keeps: plain integers, so the ring is one fixed array.
public struct CounterSample: Sendable, Equatable {
    public var received: UInt64 = 0
    public var stored: UInt64 = 0
    public var duplicate: UInt64 = 0
    public var rejected: UInt64 = 0
    public var dropped: UInt64 = 0
    public var samplesStored: UInt64 = 0
    public var datagramsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var kernelDrops: UInt64 = 0
    public var ringDepth: Int = 0
    public var commitLatencyP50Milliseconds: Double = 0
    public var commitLatencyP99Milliseconds: Double = 0
    public var lastBatchSamples: Int = 0
    /// When it was taken, seconds on the caller's clock (uptime).
    public var seconds: Double = 0

    public init() {}
}

/// Rates over one window (per second), like readsb's 1/5/15-minute stats.
public struct StatsWindow: Codable, Sendable, Equatable {
    public var seconds: Double
    public var received_per_second: Double
    public var stored_per_second: Double
    public var duplicate_per_second: Double
    public var rejected_per_second: Double
    public var dropped_per_second: Double
    public var samples_stored_per_second: Double
    public var datagrams_per_second: Double
    public var kernel_drops_per_second: Double
    public var ring_depth_max: Int
}

/// A fixed ring of per-second counter snapshots, sampled once a second by a task
/// (`StatsSampler`): the rolling 1/5/15-minute windows and the page's 15-minute charts come from
/// it. Memory is fixed (`capacity` samples); a request copies at most `capacity` of them.
public final class StatsHistory: Sendable {
    /// Samples kept: `Limits.Status.statsHistorySamples`.
    public static let capacity = Limits.Status.statsHistorySamples
    /// The windows `/api/stats` reports.
    public static let windowSeconds: [(name: String, seconds: Int)] = [("1m", 60), ("5m", 300), ("15m", 900)]

    private struct Ring {
        var samples = [CounterSample](repeating: CounterSample(), count: StatsHistory.capacity)
        var next = 0
        var count = 0
    }

    private let ring = Mutex(Ring())

    public init() {}

    /// Appends a snapshot, overwriting the oldest once full.
    public func append(_ sample: CounterSample) {
        ring.withLock { ring in
            ring.samples[ring.next] = sample
            ring.next = ring.next + 1 == Self.capacity ? 0 : ring.next + 1
            ring.count = min(ring.count + 1, Self.capacity)
        }
    }

    /// The last `limit` snapshots, oldest first.
    public func recent(_ limit: Int = StatsHistory.capacity) -> [CounterSample] {
        ring.withLock { ring in
            let taken = min(limit, ring.count)
            return (0..<taken).map { offset in
                ring.samples[(ring.next - taken + offset + Self.capacity) % Self.capacity]
            }
        }
    }

    /// Rates over each window that has at least two samples.
    public func windows() -> [String: StatsWindow] {
        let samples = recent()
        guard let last = samples.last, samples.count >= 2 else { return [:] }
        var result: [String: StatsWindow] = [:]
        for (name, seconds) in Self.windowSeconds {
            let slice = samples.suffix(seconds + 1)
            guard let first = slice.first else { continue }
            let elapsed = last.seconds - first.seconds
            guard elapsed > 0 else { continue }
            func rate(_ key: KeyPath<CounterSample, UInt64>) -> Double {
                Double(last[keyPath: key] &- first[keyPath: key]) / elapsed
            }
            result[name] = StatsWindow(
                seconds: elapsed, received_per_second: rate(\.received), stored_per_second: rate(\.stored),
                duplicate_per_second: rate(\.duplicate), rejected_per_second: rate(\.rejected),
                dropped_per_second: rate(\.dropped), samples_stored_per_second: rate(\.samplesStored),
                datagrams_per_second: rate(\.datagramsReceived), kernel_drops_per_second: rate(\.kernelDrops),
                ring_depth_max: slice.map(\.ringDepth).max() ?? 0)
        }
        return result
    }

    /// Per-second series for the page's charts, oldest first: one point per pair of adjacent
    /// snapshots (rates), plus the gauges at the later one.
    public func series() -> StatsSeries {
        let samples = recent()
        var series = StatsSeries()
        guard samples.count >= 2 else { return series }
        for index in 1..<samples.count {
            let before = samples[index - 1], after = samples[index]
            let elapsed = max(after.seconds - before.seconds, 1e-3)
            series.t.append((after.seconds * 10).rounded() / 10)
            series.received.append(Double(after.received &- before.received) / elapsed)
            series.stored.append(Double(after.stored &- before.stored) / elapsed)
            series.rejected.append(Double(after.rejected &- before.rejected) / elapsed)
            series.dropped.append(Double(after.dropped &- before.dropped + after.kernelDrops &- before.kernelDrops) / elapsed)
            series.ring_depth.append(after.ringDepth)
            series.commit_p50_ms.append(after.commitLatencyP50Milliseconds)
            series.commit_p99_ms.append(after.commitLatencyP99Milliseconds)
            series.batch_samples.append(after.lastBatchSamples)
        }
        return series
    }
}

/// `GET /api/stats/history`: the last 15 minutes, one point per second, as parallel arrays.
public struct StatsSeries: Codable, Sendable, Equatable {
    /// Uptime seconds of each point.
    public var t: [Double] = []
    public var received: [Double] = []
    public var stored: [Double] = []
    public var rejected: [Double] = []
    /// Ring drops, store failures and kernel drops together.
    public var dropped: [Double] = []
    public var ring_depth: [Int] = []
    public var commit_p50_ms: [Double] = []
    public var commit_p99_ms: [Double] = []
    public var batch_samples: [Int] = []
}
