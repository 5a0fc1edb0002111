import DroneSimulator
import Foundation
import Telemetry
import UDPTransport

/// A simulated fleet flown into a gateway over UDP on a dedicated thread (the paced runner
/// sleeps between ticks, which must not happen on the Swift concurrency pool): what `demo` and
/// `bench` run, and what the end-to-end tests fly.
public enum FleetSender {
    /// What a flight sent.
    public struct Outcome: Sendable {
        public var summary: SimulationSummary
        /// When the first datagram was about to be sent (the start of the timed part).
        public var started: Date
        /// Whether the fleet sent everything it had (false when `shouldStop` cut a paced run short).
        public var isFinished: Bool
    }

    /// A Skygate-speaking fleet for `configuration`, with no keys.
    public static func makeFleet(_ configuration: FleetConfiguration) -> FleetSimulator<SkygateTelemetryEncoder> {
        FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(keys: .init(), startTimeMicroseconds: configuration.startTimeMicroseconds))
    }

    /// Flies `fleet` to `destination`. Paced runs check `shouldStop` at every wake-up. Unpaced
    /// runs (`.asFastAsPossible`) generate every datagram first, outside the timed part, and then
    /// only send, to the end, so the figure measured is the receiver's and not the generator's.
    public static func fly<Encoder: TelemetryEncoder>(
        _ fleet: FleetSimulator<Encoder>, to destination: SocketAddress, pacing: Pacing,
        shouldStop: @escaping @Sendable () -> Bool = { false }
    ) async throws(PlaybackError) -> Outcome {
        let sender: UDPSender
        do { sender = try UDPSender(destination: destination) } catch { throw PlaybackError("--to \(destination): \(error)") }
        // The fleet, the sender and the prepared batches move to the sending thread and are used
        // only there until the continuation resumes.
        // The work is built here, where the encoder's type is known, and only then handed to the
        // thread, so the thread's closure captures no generic metatype (which is not Sendable).
        var sink = sender
        let work: () -> Outcome
        if pacing == .asFastAsPossible {
            let prepared = prepareAll(fleet)
            work = {
                let started = Date()
                for batch in prepared { sink.send(batch) }
                return Outcome(summary: fleet.makeSummary(run: nil), started: started, isFinished: true)
            }
        } else {
            work = {
                let started = Date()
                let report = SimulationRunner.run(fleet, into: &sink, clock: MonotonicClock(), pacing: pacing, shouldStop: shouldStop)
                return Outcome(summary: fleet.makeSummary(run: report), started: started, isFinished: fleet.isFinished)
            }
        }
        nonisolated(unsafe) let unsafeWork = work
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: unsafeWork()) }
        }
    }

    /// Flies `fleet` to `destination` as fast as possible on the calling thread (tests).
    public static func flyNow<Encoder: TelemetryEncoder>(_ fleet: FleetSimulator<Encoder>, to destination: SocketAddress)
        throws(PlaybackError) -> SimulationSummary
    {
        var sender: UDPSender
        do { sender = try UDPSender(destination: destination) } catch { throw PlaybackError("--to \(destination): \(error)") }
        let report = SimulationRunner.run(fleet, into: &sender, clock: MonotonicClock(), pacing: .asFastAsPossible)
        return fleet.makeSummary(run: report)
    }

    /// Every datagram of the run, generated up front in batches of one `sendmmsg` call each.
    static func prepareAll<Encoder: TelemetryEncoder>(_ fleet: FleetSimulator<Encoder>) -> [DatagramBatch] {
        var batches: [DatagramBatch] = []
        // Bounded: every pass generates at least one datagram until the fleet is finished.
        while !fleet.isFinished {
            let batch = DatagramBatch(capacity: Limits.Simulator.datagramsPerBatchMax, slotLength: fleet.datagramLengthMax)
            fleet.generate(untilMicroseconds: .max, into: batch)
            if !batch.isEmpty { batches.append(batch) }
        }
        return batches
    }
}
