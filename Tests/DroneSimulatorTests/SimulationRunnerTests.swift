import Telemetry
import Testing

@testable import DroneSimulator

/// Real-time pacing keeps the requested rate on a clock that only moves when slept on, wakes no
/// more often than the pacing tick, and after the sender was descheduled catches up in bounded
/// bursts instead of sending the whole backlog at once.
struct SimulationRunnerTests {
    /// Records, per batch, when it was sent and how many datagrams it held.
    struct TimedSink: DatagramSink {
        let clock: ManualClock
        var sends: [(time: Duration, count: Int)] = []
        mutating func send(_ batch: DatagramBatch) { sends.append((clock.now(), batch.count)) }
    }

    static func fleet() -> FleetSimulator<SkygateTelemetryEncoder> {
        let configuration = FleetConfiguration(droneCount: 200, sampleRateHz: 10, durationSeconds: 10)
        return FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(startTimeMicroseconds: configuration.startTimeMicroseconds))
    }

    @Test func realTimeKeepsTheRequestedRate() {
        let clock = ManualClock(start: .seconds(1_000))
        var sink = TimedSink(clock: clock)
        let report = SimulationRunner.run(Self.fleet(), into: &sink, clock: clock, pacing: .realTime(speed: 1))
        #expect(report.samplesPerSecondRequested == 2_000)
        #expect(report.pacingErrorPercent < 0.1)
        #expect(abs(report.elapsedSeconds - 10) < 0.01)
        #expect(sink.sends.map(\.count).reduce(0, +) == 20_000)
        // Wake-ups are at least one tick apart: no busy loop.
        for (earlier, later) in zip(clock.sleeps, clock.sleeps.dropFirst()) {
            #expect(later - earlier >= Limits.Simulator.pacingTick)
        }
        #expect(clock.sleeps.count <= 10 * 200 + 1)
    }

    @Test func fasterSpeedShortensTheRun() {
        let clock = ManualClock()
        var sink = TimedSink(clock: clock)
        let report = SimulationRunner.run(Self.fleet(), into: &sink, clock: clock, pacing: .realTime(speed: 4))
        #expect(abs(report.elapsedSeconds - 2.5) < 0.01)
        #expect(report.pacingErrorPercent < 0.5)
    }

    @Test func catchUpAfterAStallIsBounded() {
        let clock = ManualClock()
        // Every wake-up comes 300 ms late, as if the process were descheduled each time.
        clock.oversleep = .milliseconds(300)
        var sink = TimedSink(clock: clock)
        let report = SimulationRunner.run(Self.fleet(), into: &sink, clock: clock, pacing: .realTime(speed: 1))
        #expect(report.lagMaxMilliseconds >= 250)
        // Per wake-up at most catchUpMax of traffic (2,000 samples/s × 50 ms = 100), plus one
        // batch's rounding.
        var perWakeUp: [Duration: Int] = [:]
        for send in sink.sends { perWakeUp[send.time, default: 0] += send.count }
        #expect(perWakeUp.values.max() ?? 0 <= 101)
        #expect(sink.sends.map(\.count).reduce(0, +) == 20_000)
    }
}
