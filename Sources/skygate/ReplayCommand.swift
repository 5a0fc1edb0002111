import ArgumentParser
import FlightRecording
import Foundation
import MAVLinkSigning
import Playback
import TelemetryStore
import PostgresStore
import Telemetry
import TelemetryExport
import UDPTransport
import WireAuthentication

#if canImport(Glibc)
import Glibc
#endif

/// `skygate replay`: plays Skygate recordings and MAVLink .tlog files, either over UDP to a
/// gateway with the original timing scaled by `--speed`, or straight into a database through
/// the gateway's own pipeline (no socket) as fast as it can.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay recordings (.skyrec), MAVLink .tlog, PX4 .ulg, ArduPilot .bin logs or pcap/pcapng captures over UDP or into a database.",
        discussion: """
            Files play one after another; a file that starts within 60 s of the previous one's end keeps the timeline. \
            Times are ISO 8601 UTC, microseconds since the Unix epoch, or +SECONDS from the start of the first file.
            """
    )

    @Argument(help: "Recordings, .tlog, .ulg, .bin, pcap or pcapng files, played in the order given.") var files: [String]
    @Option(help: "Send the datagrams over UDP to HOST:PORT with the recorded timing.") var to: String?
    @Option(help: "Feed the datagrams through the gateway pipeline into this SQLite database or postgres://USER@HOST:PORT/DB.") var db: String?
    @Option(help: "With a postgres:// --db: file holding the password (default: PGPASSWORD).") var dbPasswordFile: String?
    @Option(help: "With a postgres:// --db: the CA the server's certificate must chain to (sslmode=verify-full).") var dbCaFile: String?
    @Option(help: "Speed factor for --to (1 = real time, 10 = ten times faster) or 'max'.") var speed: String = "1"
    @Option(help: "Start at this time.") var from: String?
    @Option(help: "Stop before this time.") var until: String?
    @Flag(help: "Start again from the beginning after the last file (--to only), until SIGINT.") var loop = false
    @Option(help: "MAVLink system id for .ulg and .bin logs (default: the log's MAV_SYS_ID / SYSID_THISMAV, else 1).")
    var systemId: Int?
    /// With --db: the zones and rules `serve` takes, evaluated over the replayed batches.
    @OptionGroup(title: "Events (with --db, as serve takes them)") var events: EventOptions
    @Option(help: "With --db: check Skygate tags with these per-drone keys, as serve --key-file does, so the replay stores what the live gateway stored.")
    var keyFile: String?
    @Option(help: "With --db: check MAVLink 2 signatures with these keys, as serve --mavlink-key-file does.") var mavlinkKeyFile: String?
    @Flag(help: "With --db: as serve --require-authentication.") var requireAuthentication = false
    @Flag(help: "With --db: as serve --require-signing.") var requireSigning = false
    @Flag(help: "With --db: as serve --allow-unsigned-from-keyed.") var allowUnsignedFromKeyed = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("FILE: give at least one recording, .tlog, .ulg, .bin or capture") }
        if let systemId, !(1...255).contains(systemId) { throw ValidationError("--system-id must be 1...255, got \(systemId)") }
        guard (to == nil) != (db == nil) else { throw ValidationError("--to/--db: give exactly one of --to HOST:PORT or --db FILE") }
        if let to { _ = try Self.address(to) }
        if db != nil && speed != "max" && speed != "1" {
            throw ValidationError("--speed: --db replays as fast as it can; pace with --to instead (got '\(speed)')")
        }
        if db != nil && loop { throw ValidationError("--loop: only with --to (looping into a database would store duplicates)") }
        if to != nil && events.zones != nil { throw ValidationError("--zones: only with --db (a gateway at --to evaluates its own zones)") }
        if speed != "max" {
            guard let value = Double(speed), value > 0, value <= 10_000 else {
                throw ValidationError("--speed must be a number above 0 and at most 10000, or 'max', got '\(speed)'")
            }
        }
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("FILE: no file at '\(file)'")
        }
        if let from, Self.parseTime(from, start: 0) == nil { throw ValidationError("--from: '\(from)' is not a time (ISO 8601 UTC, µs, or +SECONDS)") }
        if let until, Self.parseTime(until, start: 0) == nil { throw ValidationError("--until: '\(until)' is not a time (ISO 8601 UTC, µs, or +SECONDS)") }
    }

    static func address(_ text: String) throws -> SocketAddress {
        do { return try SocketAddress(parsing: text) } catch { throw ValidationError("--to: \(error)") }
    }

    /// ns since the epoch; `+SECONDS` counts from `start` (ns).
    static func parseTime(_ text: String, start: UInt64) -> UInt64? {
        if text.hasPrefix("+") {
            guard let seconds = Double(text.dropFirst()), seconds >= 0, seconds < 1e9 else { return nil }
            return start + UInt64(seconds * 1e9)
        }
        return TimeText.microseconds(from: text).map { $0 &* 1_000 }
    }

    func run() throws {
        var readers: [any RecordingReader] = []
        for file in files {
            do { readers.append(try openRecording(path: file, systemID: systemId.map(UInt8.init))) } catch { throw ValidationError("FILE: \(error)") }
        }
        var start: UInt64 = 0
        _ = readers[0].read { datagram in
            start = datagram.receivedNanoseconds
            return false
        }
        let fromTime = from.flatMap { Self.parseTime($0, start: start) }
        let untilTime = until.flatMap { Self.parseTime($0, start: start) }
        StopSignal.install()
        if let db {
            try replayIntoDatabase(readers, path: db, from: fromTime, until: untilTime)
        } else if let to {
            try replayOverUDP(readers, to: try Self.address(to), from: fromTime, until: untilTime)
        }
    }

    // MARK: --db

    func replayIntoDatabase(_ readers: [any RecordingReader], path: String, from: UInt64?, until: UInt64?) throws {
        let (zonesPath, rules) = try events.resolve()
        let store: any TelemetryStoring
        do {
            var request = StoreOpener.Request(db: path, passwordFile: dbPasswordFile)
            request.caFile = dbCaFile
            store = try StoreOpener.open(request)
        } catch {
            throw ValidationError("--db \(StoreOpener.Request(db: path).displayName): \(error)")
        }
        let (authenticator, verifier) = try makeAuthentication()
        let runner: ReplayRunner
        do {
            runner = try ReplayRunner(
                store: store, zonesPath: zonesPath, rules: rules, authenticator: authenticator, verifier: verifier)
        } catch {
            throw ValidationError(error.description)
        }
        var progress = ProgressLine()
        let started = Date()
        var flightStart: UInt64?
        let reports = runner.replay(readers, fromNanoseconds: from, untilNanoseconds: until, shouldStop: { StopSignal.isRaised }) {
            recorded in
            if flightStart == nil { flightStart = recorded }
            progress.update(flightNanoseconds: recorded &- (flightStart ?? 0), datagrams: 1)
        }
        let final = runner.finish()
        let seconds = Date().timeIntervalSince(started)
        progress.finish()
        for (path, report) in reports { print("\(path): \(report.summary)") }
        let frames = final.received
        print(
            "replayed \(final.datagramsReceived) datagrams (\(frames) frames) into \(path) in \(String(format: "%.2f", seconds)) s: "
                + "\(Int(Double(frames) / max(seconds, 1e-9))) frames/s, \(Int(Double(final.samplesStored) / max(seconds, 1e-9))) positions/s stored")
        print(FinalAccounting.text(final))
        let events = runner.events.hub.snapshot()
        if events.total > 0 { print("events: \(events.total) raised, \(runner.eventsStored) stored") }
        if let error = runner.storeError {
            print("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The same checks as `serve` with the same key files and options (its `Gateway.makeAuthentication`).
    func makeAuthentication() throws -> (HMACAuthenticator, MAVLinkSHA256Verifier) {
        var keys = DroneKeys()
        if let keyFile {
            do { keys = try DroneKeys(parsing: try SecretFile.readText(path: keyFile, option: "--key-file")) } catch {
                throw ValidationError("--key-file '\(keyFile)': \(error)")
            }
        }
        var mavlinkKeys = MAVLinkKeys()
        if let mavlinkKeyFile {
            do { mavlinkKeys = try MAVLinkKeys(parsing: try SecretFile.readText(path: mavlinkKeyFile, option: "--mavlink-key-file")) } catch {
                throw ValidationError("--mavlink-key-file '\(mavlinkKeyFile)': \(error)")
            }
        }
        return (
            HMACAuthenticator(keys: keys, requireForAllDrones: requireAuthentication, allowUntaggedFromKeyed: allowUnsignedFromKeyed),
            MAVLinkSHA256Verifier(keys: mavlinkKeys, requireSigning: requireSigning, allowUnsignedFromKeyed: allowUnsignedFromKeyed)
        )
    }

    // MARK: --to

    func replayOverUDP(_ readers: [any RecordingReader], to address: SocketAddress, from: UInt64?, until: UInt64?) throws {
        let pacedSpeed = speed == "max" ? nil : Double(speed)
        let replay = UDPReplay(destination: address, speed: pacedSpeed, fromNanoseconds: from, untilNanoseconds: until, loops: loop)
        var progress = ProgressLine()
        let report: UDPReplay.Report
        do {
            report = try replay.play(readers, shouldStop: { StopSignal.isRaised }) { flight in
                progress.update(flightNanoseconds: flight, datagrams: 1)
            }
        } catch {
            throw ValidationError(error.description)
        }
        progress.finish()
        for (path, fileReport) in report.damagedFiles { print("\(path): \(fileReport.summary)") }
        var line = "sent \(report.datagramsSent) datagrams to \(address) in \(String(format: "%.3f", report.wallSeconds)) s"
        if let pacedSpeed, !loop, let error = report.timingErrorPercent(speed: pacedSpeed) {
            line += String(
                format: " (recorded %.3f s at speed %g: expected %.3f s, timing error %+.2f %%)", report.recordedSeconds, pacedSpeed,
                report.recordedSeconds / pacedSpeed, error)
        }
        print(line)
        if report.datagramsSkipped > 0 {
            print("skipped \(report.datagramsSkipped) datagrams longer than \(Limits.Transport.datagramBytesMaxUDP) bytes")
        }
        if report.sendErrors > 0 { print("send errors: \(report.sendErrors) (\(report.lastSendError))") }
    }
}

/// A progress line on standard error, redrawn in place, only when it is a terminal.
struct ProgressLine {
    /// What the line says was done ("replayed", "loaded").
    var verb = "replayed"
    let isTerminal = isatty(STDERR_FILENO) == 1
    var datagrams = 0
    var lastDrawn: UInt64 = 0
    let started = SystemClock.monotonicNanoseconds()
    var isShown = false

    mutating func update(flightNanoseconds: UInt64, datagrams added: Int) {
        datagrams += added
        guard isTerminal else { return }
        let now = SystemClock.monotonicNanoseconds()
        guard now - lastDrawn >= Limits.Replay.progressInterval.nanosecondsClamped else { return }
        lastDrawn = now
        let flight = Int(flightNanoseconds / 1_000_000_000)
        let elapsed = Double(now - started) / 1e9
        let text = "\r\(verb) " + String(
            format: "%02d:%02d:%02d of flight · %d datagrams · %.0f datagrams/s ", flight / 3600, flight / 60 % 60,
            flight % 60, datagrams, Double(datagrams) / max(elapsed, 1e-9))
        FileHandle.standardError.write(Data(text.utf8))
        isShown = true
    }

    mutating func finish() {
        guard isShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        isShown = false
    }
}
