import ArgumentParser
import DroneSimulator
import FlightRecording
import Foundation
import Gateway
import TelemetryExport

#if canImport(Glibc)
import Glibc
#endif

/// `skygate replay`: plays Skygate recordings and MAVLink .tlog files, either over UDP to a
/// gateway with the original timing scaled by `--speed`, or straight into a database through
/// the gateway's own pipeline (no socket) as fast as it can.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay recordings (.skyrec) or MAVLink .tlog files over UDP or into a database.",
        discussion: """
            Files play one after another; a file that starts within 60 s of the previous one's end keeps the timeline. \
            Times are ISO 8601 UTC, microseconds since the Unix epoch, or +SECONDS from the start of the first file.
            """
    )

    @Argument(help: "Recordings or .tlog files, played in the order given.") var files: [String]
    @Option(help: "Send the datagrams over UDP to HOST:PORT with the recorded timing.") var to: String?
    @Option(help: "Feed the datagrams through the gateway pipeline into this SQLite database.") var db: String?
    @Option(help: "Speed factor for --to (1 = real time, 10 = ten times faster) or 'max'.") var speed: String = "1"
    @Option(help: "Start at this time.") var from: String?
    @Option(help: "Stop before this time.") var until: String?
    @Flag(help: "Start again from the beginning after the last file (--to only), until SIGINT.") var loop = false

    /// Longest datagram a replay sends (the largest UDP payload).
    static let datagramBytesMax = 65_507
    /// Datagrams sent per sendmmsg call at most; the pacing sends whatever is due together.
    static let sendBatchDatagrams = 64
    /// How often the progress line is redrawn.
    static let progressInterval: Double = 0.25

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("FILE: give at least one recording or .tlog") }
        guard (to == nil) != (db == nil) else { throw ValidationError("--to/--db: give exactly one of --to HOST:PORT or --db FILE") }
        if let to { _ = try Self.address(to) }
        if db != nil && speed != "max" && speed != "1" {
            throw ValidationError("--speed: --db replays as fast as it can; pace with --to instead (got '\(speed)')")
        }
        if db != nil && loop { throw ValidationError("--loop: only with --to (looping into a database would store duplicates)") }
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

    static func address(_ text: String) throws -> DroneSimulator.SocketAddress {
        do { return try DroneSimulator.SocketAddress(parsing: text) } catch { throw ValidationError("--to: \(error)") }
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
            do { readers.append(try openRecording(path: file)) } catch { throw ValidationError("FILE: \(error)") }
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
        let runner: ReplayRunner
        do { runner = try ReplayRunner(databasePath: path) } catch { throw ValidationError(error.description) }
        var progress = ProgressLine()
        let started = Date()
        var reports: [(String, ReadReport)] = []
        var flightStart: UInt64?
        for reader in readers {
            let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
                runner.feed(datagram)
                if flightStart == nil { flightStart = datagram.receivedNanoseconds }
                progress.update(flightNanoseconds: datagram.receivedNanoseconds &- (flightStart ?? 0), datagrams: 1)
                return !StopSignal.isRaised
            }
            reports.append((reader.path, report))
            if StopSignal.isRaised { break }
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
        if let error = runner.storeError {
            print("error: \(error)")
            throw ExitCode(1)
        }
    }

    // MARK: --to

    func replayOverUDP(_ readers: [any RecordingReader], to address: DroneSimulator.SocketAddress, from: UInt64?, until: UInt64?) throws {
        let sender: UDPSender
        do { sender = try UDPSender(destination: address) } catch { throw ValidationError("--to \(address): \(error)") }
        let batch = DatagramBatch(capacity: Self.sendBatchDatagrams, slotLength: Self.datagramBytesMax)
        let pacedSpeed = speed == "max" ? nil : Double(speed)
        var schedule = ReplaySchedule(speed: pacedSpeed ?? 1)
        var progress = ProgressLine()
        var firstSent: UInt64?
        var lastSent: UInt64 = 0
        var firstRecorded: UInt64?
        var lastRecorded: UInt64 = 0
        var sent = 0
        var skipped = 0
        var previousEnd: UInt64?
        func flush() {
            guard !batch.isEmpty else { return }
            sender.send(batch)
            let now = monotonicNanoseconds()
            if firstSent == nil { firstSent = now }
            lastSent = now
            sent += batch.count
            batch.removeAll()
        }
        // Bounded by the files, or by SIGINT with --loop.
        repeat {
            for reader in readers {
                var isFirstOfFile = true
                let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
                    let recorded = datagram.receivedNanoseconds
                    if isFirstOfFile {
                        isFirstOfFile = false
                        // A file that does not follow the previous one closely starts its own timeline.
                        if let end = previousEnd, recorded < end || recorded - end > ReplaySchedule.fileGapHonouredNanoseconds {
                            schedule.reanchor()
                        }
                    }
                    if firstRecorded == nil { firstRecorded = recorded }
                    lastRecorded = recorded
                    previousEnd = recorded
                    guard datagram.bytes.count <= Self.datagramBytesMax else {
                        skipped += 1
                        return true
                    }
                    if pacedSpeed != nil {
                        let now = monotonicNanoseconds()
                        let due = schedule.dueWall(recorded: recorded, nowWall: now)
                        if due > now {
                            flush()
                            sleepUntil(monotonicNanoseconds: due)
                        }
                    }
                    batch.append(datagram.bytes)
                    if batch.remainingCapacity == 0 { flush() }
                    progress.update(flightNanoseconds: recorded &- (firstRecorded ?? recorded), datagrams: 1)
                    return !StopSignal.isRaised
                }
                flush()
                if !report.isIntact { progress.clear(); print("\(reader.path): \(report.summary)") }
                if StopSignal.isRaised { break }
            }
            if loop { schedule.reanchor(); previousEnd = nil }
        } while loop && !StopSignal.isRaised
        progress.finish()
        let wallSeconds = Double((lastSent &- (firstSent ?? lastSent))) / 1e9
        let recordedSeconds = Double(lastRecorded &- (firstRecorded ?? lastRecorded)) / 1e9
        var line = "sent \(sent) datagrams to \(address) in \(String(format: "%.3f", wallSeconds)) s"
        if let pacedSpeed, !loop, recordedSeconds > 0 {
            let expected = recordedSeconds / pacedSpeed
            line += String(format: " (recorded %.3f s at speed %g: expected %.3f s, timing error %+.2f %%)", recordedSeconds, pacedSpeed, expected, (wallSeconds - expected) / expected * 100)
        }
        print(line)
        if skipped > 0 { print("skipped \(skipped) datagrams longer than \(Self.datagramBytesMax) bytes") }
        if sender.sendErrorCount > 0 { print("send errors: \(sender.sendErrorCount) (\(String(cString: strerror(sender.lastErrorNumber))))") }
    }
}

/// ns on the monotonic clock (pacing must not follow wall-clock steps).
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Sleeps until `monotonicNanoseconds` (absolute), resuming after signals.
func sleepUntil(monotonicNanoseconds target: UInt64) {
    var deadline = timespec(tv_sec: Int(target / 1_000_000_000), tv_nsec: Int(target % 1_000_000_000))
    // Bounded: EINTR only repeats the wait for the same absolute deadline.
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {
        if StopSignal.isRaised { return }
    }
}

/// A progress line on standard error, redrawn in place, only when it is a terminal.
struct ProgressLine {
    let isTerminal = isatty(STDERR_FILENO) == 1
    var datagrams = 0
    var lastDrawn: UInt64 = 0
    let started = monotonicNanoseconds()
    var isShown = false

    mutating func update(flightNanoseconds: UInt64, datagrams added: Int) {
        datagrams += added
        guard isTerminal else { return }
        let now = monotonicNanoseconds()
        guard now - lastDrawn >= UInt64(ReplayCommand.progressInterval * 1e9) else { return }
        lastDrawn = now
        let flight = Int(flightNanoseconds / 1_000_000_000)
        let elapsed = Double(now - started) / 1e9
        let text = String(
            format: "\rreplayed %02d:%02d:%02d of flight · %d datagrams · %.0f datagrams/s ", flight / 3600, flight / 60 % 60,
            flight % 60, datagrams, Double(datagrams) / max(elapsed, 1e-9))
        FileHandle.standardError.write(Data(text.utf8))
        isShown = true
    }

    mutating func clear() {
        guard isShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        isShown = false
    }

    mutating func finish() { clear() }
}
