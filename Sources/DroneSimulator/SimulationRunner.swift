import Telemetry
/// How a run relates simulated time to the clock.
public enum Pacing: Sendable, Equatable {
    /// Simulated time runs at `speed` times the clock (1 is real time).
    case realTime(speed: Double)
    /// No sleeping: generate and send as fast as the machine allows.
    case asFastAsPossible
}

/// A snapshot for the progress line.
public struct SimulationProgress: Sendable, Equatable {
    public var droneCount: Int
    public var samplesGenerated: Int
    public var datagramsSent: Int
    public var elapsed: Duration
    /// Samples generated per second since the start.
    public var samplesPerSecond: Double
}

/// Drives a fleet against a clock and hands every batch to a sink.
///
/// Real-time pacing wakes when the next sample is due, but at most every
/// `Limits.Simulator.pacingTick`, and sends every sample whose time has come; it sleeps on an
/// absolute deadline, never spins. A sender that fell behind catches up at most
/// `Limits.Simulator.catchUpMax` of simulated time per wake-up, so the backlog leaves as a bounded
/// series of bursts rather than one that would overflow the receiver.
public enum SimulationRunner {
    public static func run<Encoder: TelemetryEncoder, Sink: DatagramSink, Clock: SimulationClock>(
        _ fleet: FleetSimulator<Encoder>, into sink: inout Sink, clock: Clock, pacing: Pacing,
        batchCapacity: Int = Limits.Simulator.datagramsPerBatchMax,
        onProgress: (SimulationProgress) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) -> RunReport {
        let batch = DatagramBatch(capacity: batchCapacity, slotLength: fleet.datagramLengthMax)
        let configuration = fleet.configuration
        let start = configuration.startTimeMicroseconds
        let origin = clock.now()
        var datagramsSent = 0
        var lagMax: Duration = .zero
        var progressDue = origin + Limits.Simulator.progressInterval

        func sendBatch() {
            guard !batch.isEmpty else { return }
            sink.send(batch)
            datagramsSent += batch.count
            batch.removeAll()
        }
        func reportProgress(now: Duration) {
            guard now >= progressDue else { return }
            progressDue = now + Limits.Simulator.progressInterval
            let elapsed = now - origin
            onProgress(
                SimulationProgress(
                    droneCount: configuration.droneCount, samplesGenerated: fleet.samplesGenerated,
                    datagramsSent: datagramsSent, elapsed: elapsed,
                    samplesPerSecond: Double(fleet.samplesGenerated) / max(elapsed.secondsDouble, 1e-9)))
        }

        var speed = 0.0
        switch pacing {
        case .asFastAsPossible:
            // Bounded: every pass generates at least one sample or flushes, until finished (or
            // asked to stop).
            while !fleet.isFinished && !shouldStop() {
                fleet.generate(untilMicroseconds: .max, into: batch)
                sendBatch()
                reportProgress(now: clock.now())
            }
        case .realTime(let requestedSpeed):
            precondition(requestedSpeed > 0, "speed must be positive")
            speed = requestedSpeed
            let catchUp = UInt64(Double(Limits.Simulator.catchUpMax.wholeMicroseconds) * speed)
            // Bounded: simulated time advances with the clock, and the run ends at its duration
            // (or when asked to stop, checked at every wake-up: at most one pacing tick late).
            while !fleet.isFinished && !shouldStop() {
                let now = clock.now()
                let due = start &+ UInt64(max(0, Double((now - origin).wholeMicroseconds) * speed))
                let next = fleet.nextSampleTimeMicroseconds
                var target = due
                if due > next {
                    let lag = Duration.microseconds(Int64(Double(due - next) / speed))
                    if lag > lagMax { lagMax = lag }
                    if due - next > catchUp { target = next + catchUp }
                }
                // Several batches when a wake-up has more than one batch of samples due.
                repeat {
                    fleet.generate(untilMicroseconds: target, into: batch)
                    sendBatch()
                } while !fleet.isFinished
                    && (fleet.nextSampleTimeMicroseconds <= target || fleet.samplesGenerated == configuration.samplesTotal)
                if fleet.isFinished { break }
                reportProgress(now: now)
                let nextDue = origin + .microseconds(Int64(Double(fleet.nextSampleTimeMicroseconds - start) / speed))
                clock.sleep(until: max(nextDue, now + Limits.Simulator.pacingTick))
            }
        }
        let elapsed = clock.now() - origin
        let seconds = max(elapsed.secondsDouble, 1e-9)
        let achieved = Double(fleet.samplesGenerated) / seconds
        let requested = Double(configuration.droneCount) * configuration.sampleRateHz * speed
        return RunReport(
            elapsedSeconds: elapsed.secondsDouble, samplesPerSecondRequested: requested,
            samplesPerSecondAchieved: achieved,
            pacingErrorPercent: requested > 0 ? abs(achieved - requested) / requested * 100 : 0,
            lagMaxMilliseconds: Double(lagMax.wholeMicroseconds) / 1_000, sendErrors: sink.sendErrorCount)
    }
}
