import ArgumentParser
import FlightRecording
import Foundation
import Gateway
import Playback
import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// `skygate record`: receive UDP telemetry and write every datagram to one Skygate recording,
/// storing nothing. Runs until SIGINT/SIGTERM (or `--duration`), then closes the recording with
/// its index and prints what it recorded.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record UDP telemetry into a Skygate recording without storing it.",
        discussion: "The recording holds each datagram with its receive time and sender (docs/recording-format.md); replay it with `skygate replay`."
    )

    @Option(help: "UDP HOST:PORT to receive on.") var udp: String = GatewayConfiguration().udpAddress
    @Option(help: "Recording file to write (created or replaced).") var out: String
    @Option(parsing: .unconditional, help: "Stop after this many seconds (default: run until SIGINT or SIGTERM).")
    var duration: Double?
    @Option(parsing: .unconditional, help: "Packet ring size in KiB, a power of two (default \(Limits().recordSessionRingBytes >> 10)).")
    var ringKib: Int = Limits().recordSessionRingBytes >> 10

    func validate() throws {
        if let duration, !(duration > 0 && duration <= 86_400 * 7) {
            throw ValidationError("--duration must be above 0 and at most a week of seconds, got \(duration)")
        }
        let kibMin = Limits().ringBytesMin >> 10
        guard ringKib >= kibMin, ringKib <= Limits.ringBytesMax >> 10, ringKib & (ringKib - 1) == 0 else {
            throw ValidationError("--ring-kib must be a power of two in \(kibMin)...\(Limits.ringBytesMax >> 10), got \(ringKib)")
        }
    }

    func run() throws {
        var limits = Limits()
        limits.recordSessionRingBytes = ringKib << 10
        let session: RecordSession
        do {
            // The one check of how the limits relate; the session takes the checked value.
            session = try RecordSession(udpAddress: udp, outputPath: out, limits: try ValidLimits(limits))
        } catch {
            throw ValidationError("\(error)")
        }
        StopSignal.install()
        session.start()
        print("skygate record: UDP \(session.receiver.boundAddress) → \(out)")
        fflush(nil)
        let started = Date()
        // Bounded by the signal, the duration or a recording failure; checked every 50 ms.
        while !StopSignal.isRaised && session.failure == nil {
            if let duration, Date().timeIntervalSince(started) >= duration { break }
            SystemClock.sleep(for: Limits.Commands.pollInterval)
        }
        let final = session.stop()
        let seconds = Date().timeIntervalSince(started)
        print(
            "recorded \(session.datagramsRecorded) of \(final.datagramsReceived) datagrams received in \(String(format: "%.1f", seconds)) s"
                + " (dropped ring_full \(final.dropped[.ringFull] ?? 0), not recorded after a write error \(session.datagramsNotRecorded)) into \(out)")
        if let failure = session.failure {
            print("error: \(failure)")
            throw ExitCode(1)
        }
    }
}
