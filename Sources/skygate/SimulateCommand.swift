import ArgumentParser
import DroneSimulator
import Telemetry
import TelemetryWire
import UDPTransport
import WireAuthentication

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `skygate simulate`: a fleet of firmware-like drones streaming telemetry over UDP
/// (docs/simulator.md describes the model, the options and the summary).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Fly a simulated drone fleet and stream its telemetry over UDP.",
        discussion: "Deterministic: the same --seed and options send byte-identical datagrams. See docs/simulator.md."
    )

    @Option(help: "Destination HOST:PORT.") var to: String = "127.0.0.1:14550"
    @Option(parsing: .unconditional, help: "Drones in the fleet (1...\(Limits.Simulator.dronesMax)).") var drones: Int = 10
    @Option(parsing: .unconditional, help: "Samples per second per drone.") var rate: Double = 10
    @Option(parsing: .unconditional, help: "Seconds of flight to simulate.") var duration: Double = 60
    @Option(parsing: .unconditional, help: "Samples per datagram (1...\(WireFormat.maxSamplesPerFrame)).") var samplesPerDatagram: Int = 1
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1
    @Option(help: "Id of the first drone; the others follow.") var firstDroneID: UInt32 = 1
    @Option(parsing: .unconditional, help: "Percent of datagrams lost.") var loss: Double = 0
    @Option(parsing: .unconditional, help: "Percent of datagrams with bits flipped (the CRC rejects them).") var corrupt: Double = 0
    @Option(parsing: .unconditional, help: "Percent of intact datagrams sent twice.") var duplicate: Double = 0
    @Option(parsing: .unconditional, help: "Percent of datagrams sent after the drone's next one.") var reorder: Double = 0
    @Option(parsing: .unconditional, help: "Link outages per drone per minute (each loses every datagram for --outage-seconds).")
    var outageRate: Double = 0
    @Option(parsing: .unconditional, help: "Seconds each link outage lasts.") var outageSeconds: Double = 2
    @Option(help: "Key file ('<drone id> <hex key>' per line): those drones send authenticated frames.")
    var keyFile: String?
    @Option(name: .customLong("protocol"), help: "Wire protocol: skygate, mavlink2 or mavlink1 (drone ids are then MAVLink system ids, 1...255).")
    var wireProtocol: String = "skygate"
    @Option(help: "Simulated seconds per wall-clock second, or 'max' for as fast as possible.")
    var speed: String = "1"
    @Option(help: "Timestamp of the first sample: microseconds since the Unix epoch, or 'now' (the default: a gateway refuses samples older than a day). Give a number for byte-identical repeats.")
    var startTime: String?
    @Option(help: "Write per-drone counts and first/last intact positions as JSON to this file.")
    var summaryJson: String?

    func validate() throws {
        guard (1...Limits.Simulator.dronesMax).contains(drones) else {
            throw ValidationError("--drones must be in 1...\(Limits.Simulator.dronesMax), got \(drones)")
        }
        guard rate > 0 && rate <= Limits.Simulator.sampleRateMaxHz else {
            throw ValidationError("--rate must be above 0 and at most \(Limits.Simulator.sampleRateMaxHz) Hz, got \(rate)")
        }
        guard duration > 0 && duration <= Limits.Simulator.durationMaxSeconds else {
            throw ValidationError("--duration must be above 0 and at most \(Limits.Simulator.durationMaxSeconds) s, got \(duration)")
        }
        guard (duration * rate).rounded() >= 1 else {
            throw ValidationError("--duration \(duration) at --rate \(rate) gives no sample at all")
        }
        guard (1...WireFormat.maxSamplesPerFrame).contains(samplesPerDatagram) else {
            throw ValidationError(
                "--samples-per-datagram must be in 1...\(WireFormat.maxSamplesPerFrame), got \(samplesPerDatagram)")
        }
        guard UInt64(firstDroneID) + UInt64(drones) - 1 <= UInt64(UInt32.max) else {
            throw ValidationError("--first-drone-id \(firstDroneID) leaves no room for \(drones) drone ids")
        }
        for (name, value) in [("--loss", loss), ("--corrupt", corrupt), ("--duplicate", duplicate), ("--reorder", reorder)] {
            guard value >= 0 && value <= 100 else { throw ValidationError("\(name) must be a percentage in 0...100, got \(value)") }
        }
        guard outageRate >= 0 && outageRate <= 60 else {
            throw ValidationError("--outage-rate must be in 0...60 outages per minute, got \(outageRate)")
        }
        guard outageSeconds > 0 && outageSeconds <= 3_600 else {
            throw ValidationError("--outage-seconds must be above 0 and at most 3600, got \(outageSeconds)")
        }
        guard let telemetryProtocol = WireProtocol(rawValue: wireProtocol) else {
            throw ValidationError(
                "--protocol must be one of \(WireProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(wireProtocol)'")
        }
        if telemetryProtocol != .skygate {
            let range = MAVLinkTelemetryEncoder.droneIDRange
            guard range.contains(firstDroneID), UInt64(firstDroneID) + UInt64(drones) - 1 <= UInt64(range.upperBound) else {
                throw ValidationError(
                    "--protocol \(wireProtocol) needs drone ids in \(range) (MAVLink system ids): --first-drone-id \(firstDroneID) with --drones \(drones)")
            }
            guard keyFile == nil else {
                throw ValidationError("--key-file applies to --protocol skygate only (the simulator does not sign MAVLink)")
            }
        }
        _ = try parsedPacing()
        _ = try parsedStartTime()
        do {
            _ = try SocketAddress(parsing: to)
        } catch {
            throw ValidationError("--to \(error)")
        }
    }

    func parsedPacing() throws -> Pacing {
        if speed == "max" { return .asFastAsPossible }
        guard let value = Double(speed), value > 0, value <= 1_000_000 else {
            throw ValidationError("--speed must be a number above 0 or 'max', got '\(speed)'")
        }
        return .realTime(speed: value)
    }

    func parsedStartTime() throws -> UInt64 {
        // Now by default: the gateway refuses live samples older than a day (`timestamp_too_old`),
        // so a fixed past default would make `simulate --to` a gateway store nothing.
        guard let startTime, startTime != "now" else { return SystemClock.realtimeMicroseconds() }
        guard let value = UInt64(startTime) else {
            throw ValidationError("--start-time must be microseconds since the Unix epoch or 'now', got '\(startTime)'")
        }
        return value
    }

    func loadKeys() throws -> DroneKeys {
        guard let keyFile else { return DroneKeys() }
        let text: String
        do {
            text = try SecretFile.readText(path: keyFile, option: "--key-file")
        } catch {
            throw ValidationError(error.description)
        }
        do {
            return try DroneKeys(parsing: text)
        } catch {
            throw ValidationError("--key-file \(keyFile): \(error)")
        }
    }

    func run() throws {
        var configuration = FleetConfiguration(
            droneCount: drones, sampleRateHz: rate, durationSeconds: duration, samplesPerDatagram: samplesPerDatagram,
            seed: seed)
        configuration.firstDroneID = firstDroneID
        configuration.startTimeMicroseconds = try parsedStartTime()
        configuration.faults = LinkFaults(
            lossFraction: loss / 100, corruptFraction: corrupt / 100, duplicateFraction: duplicate / 100,
            reorderFraction: reorder / 100, outageRatePerMinute: outageRate, outageDurationSeconds: outageSeconds)
        let keys = try loadKeys()
        let pacing = try parsedPacing()
        let sender: UDPSender
        do {
            sender = try UDPSender(destination: try SocketAddress(parsing: to))
        } catch {
            throw ValidationError("--to \(error)")
        }

        // The seam for other protocols: each gets its encoder here (MAVLinkWire fills them in).
        guard let telemetryProtocol = WireProtocol(rawValue: wireProtocol) else { return }
        switch telemetryProtocol {
        case .skygate:
            let encoder = SkygateTelemetryEncoder(keys: keys, startTimeMicroseconds: configuration.startTimeMicroseconds)
            try simulate(FleetSimulator(configuration: configuration, encoder: encoder), sender: sender, pacing: pacing)
        case .mavlink2, .mavlink1:
            // State frames (HEARTBEAT, SYS_STATUS, GPS_RAW_INT, BATTERY_STATUS) about once a second,
            // as autopilots stream them; positions at the sample rate.
            let datagramsPerSecond = rate / Double(samplesPerDatagram)
            let encoder = MAVLinkTelemetryEncoder(
                version: telemetryProtocol == .mavlink1 ? 1 : 2,
                statePeriodDatagrams: UInt32(max(1, min(datagramsPerSecond.rounded(), 1_000))),
                startTimeMicroseconds: configuration.startTimeMicroseconds)
            try simulate(FleetSimulator(configuration: configuration, encoder: encoder), sender: sender, pacing: pacing)
        }
    }

    func simulate<Encoder: TelemetryEncoder>(_ fleet: FleetSimulator<Encoder>, sender: UDPSender, pacing: Pacing) throws {
        let isTerminal = isatty(STDERR_FILENO) != 0
        let pacingText = if case .realTime(let speed) = pacing { speed == 1 ? "real time" : "\(speed)× real time" } else { "as fast as possible" }
        print(
            "Simulating \(drones) drones at \(rate) Hz for \(duration) s (\(fleet.configuration.samplesTotal) samples, \(pacingText)) to \(to)"
        )
        var sink = sender
        let report = SimulationRunner.run(fleet, into: &sink, clock: MonotonicClock(), pacing: pacing) { progress in
            guard isTerminal else { return }
            let line =
                "\r\(progress.droneCount) drones  \(progress.datagramsSent) datagrams sent  \(Int(progress.samplesPerSecond)) samples/s  \(Int(progress.elapsed.components.seconds)) s   "
            writeToStandardError(line)
        }
        if isTerminal { writeToStandardError("\n") }
        let summary = fleet.makeSummary(run: report)
        let totals = summary.totals
        print("datagrams sent:   \(totals.datagramsSent) (\(totals.bytesSent) bytes in \(sender.sendCalls) sendmmsg calls)")
        print(
            "samples:          \(totals.samplesGenerated) generated, \(totals.samplesIntact) intact, \(totals.samplesLost) lost (\(totals.samplesLostInOutage) in outages), \(totals.samplesCorrupted) corrupted, \(totals.samplesDuplicated) duplicated"
        )
        print("datagrams reordered: \(totals.datagramsReordered)")
        print("elapsed:          \(format(report.elapsedSeconds, 3)) s")
        if report.samplesPerSecondRequested > 0 {
            print(
                "rate:             \(format(report.samplesPerSecondAchieved, 1)) samples/s achieved, \(format(report.samplesPerSecondRequested, 1)) requested, pacing error \(format(report.pacingErrorPercent, 3)) %, lag max \(format(report.lagMaxMilliseconds, 1)) ms"
            )
        } else {
            print("rate:             \(format(report.samplesPerSecondAchieved, 1)) samples/s (unpaced)")
        }
        if report.sendErrors > 0 {
            print("send errors:      \(report.sendErrors) datagrams refused by the kernel (last: \(sender.lastErrorText))")
        }
        if let summaryJson {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(summary)
            guard FileManager.default.createFile(atPath: summaryJson, contents: data) else {
                throw ValidationError("--summary-json \(summaryJson): cannot write the file")
            }
            print("summary written:  \(summaryJson)")
        }
    }

    /// Writes to the standard error descriptor directly: the C `stderr` global is shared mutable
    /// state that Swift 6 refuses to touch.
    func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }
}
