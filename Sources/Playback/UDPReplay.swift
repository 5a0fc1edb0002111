import FlightRecording
import Telemetry
import UDPTransport

/// `replay --to`: sends recorded datagrams over UDP with their recorded timing scaled by a
/// speed factor (`ReplaySchedule`), or as fast as possible, in `sendmmsg` batches of whatever is
/// due. Files play one after another; a file that starts within `Limits.Replay.fileGapHonoured`
/// of the previous one's end keeps the timeline, any other starts its own.
public struct UDPReplay {
    /// What a replay did, for the command's closing lines.
    public struct Report: Sendable {
        public var datagramsSent = 0
        /// Datagrams longer than a UDP payload can be, not sent.
        public var datagramsSkipped = 0
        /// Wall time between the first and the last send call, s.
        public var wallSeconds = 0.0
        /// Recorded time between the first and the last datagram played, s.
        public var recordedSeconds = 0.0
        public var sendErrors = 0
        /// The system's words for the last send error.
        public var lastSendError = ""
        /// Files whose player reported damage, with the report.
        public var damagedFiles: [(path: String, report: ReadReport)] = []

        /// The timing error against `recordedSeconds / speed`, in percent (nil unpaced or empty).
        public func timingErrorPercent(speed: Double?) -> Double? {
            guard let speed, recordedSeconds > 0 else { return nil }
            let expected = recordedSeconds / speed
            return (wallSeconds - expected) / expected * 100
        }
    }

    public let destination: SocketAddress
    /// nil sends as fast as possible.
    public let speed: Double?
    public let fromNanoseconds: UInt64?
    public let untilNanoseconds: UInt64?
    /// Start again after the last file until `shouldStop` says so.
    public let loops: Bool

    public init(destination: SocketAddress, speed: Double?, fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, loops: Bool) {
        precondition(speed.map { $0 > 0 && $0.isFinite } ?? true, "speed must be positive")
        self.destination = destination
        self.speed = speed
        self.fromNanoseconds = fromNanoseconds
        self.untilNanoseconds = untilNanoseconds
        self.loops = loops
    }

    /// Plays `readers` until they end (or, looping, until `shouldStop`); `onDatagram` sees each
    /// datagram's time since the first one played (for a progress line).
    public func play(
        _ readers: [any RecordingReader], shouldStop: @escaping () -> Bool,
        onDatagram: (_ flightNanoseconds: UInt64) -> Void = { _ in }
    ) throws(PlaybackError) -> Report {
        let sender: UDPSender
        do { sender = try UDPSender(destination: destination) } catch { throw PlaybackError("--to \(destination): \(error)") }
        var pass = Pass(
            sender: sender, batch: DatagramBatch(capacity: Limits.Replay.sendBatchDatagrams, slotLength: Limits.Transport.datagramBytesMaxUDP),
            schedule: ReplaySchedule(speed: speed ?? 1), isPaced: speed != nil, shouldStop: shouldStop)
        // Bounded by the files, or by `shouldStop` when looping.
        repeat {
            for reader in readers {
                pass.play(reader, from: fromNanoseconds, until: untilNanoseconds, onDatagram: onDatagram)
                if shouldStop() { break }
            }
            if loops { pass.startOver() }
        } while loops && !shouldStop()
        var report = pass.report
        report.sendErrors = sender.sendErrorCount
        if sender.sendErrorCount > 0 { report.lastSendError = sender.lastErrorText }
        return report
    }

    /// The state of one replay across files and loops.
    struct Pass {
        let sender: UDPSender
        let batch: DatagramBatch
        var schedule: ReplaySchedule
        let isPaced: Bool
        let shouldStop: () -> Bool
        var report = Report()
        var firstSent: UInt64?
        var lastSent: UInt64 = 0
        var firstRecorded: UInt64?
        var lastRecorded: UInt64 = 0
        var previousEnd: UInt64?

        mutating func play(_ reader: any RecordingReader, from: UInt64?, until: UInt64?, onDatagram: (UInt64) -> Void) {
            var isFirstOfFile = true
            let readReport = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
                let recorded = datagram.receivedNanoseconds
                if isFirstOfFile {
                    isFirstOfFile = false
                    // A file that does not follow the previous one closely starts its own timeline.
                    if let end = previousEnd, recorded < end || recorded - end > Limits.Replay.fileGapHonoured.nanosecondsClamped {
                        schedule.reanchor()
                    }
                }
                if firstRecorded == nil { firstRecorded = recorded }
                lastRecorded = recorded
                previousEnd = recorded
                guard datagram.bytes.count <= Limits.Transport.datagramBytesMaxUDP else {
                    report.datagramsSkipped += 1
                    return true
                }
                if isPaced { waitUntilDue(recorded: recorded) }
                batch.append(datagram.bytes)
                if batch.remainingCapacity == 0 { flush() }
                onDatagram(recorded &- (firstRecorded ?? recorded))
                return !shouldStop()
            }
            flush()
            if !readReport.isIntact { report.damagedFiles.append((reader.path, readReport)) }
            report.wallSeconds = Double(lastSent &- (firstSent ?? lastSent)) / 1e9
            report.recordedSeconds = Double(lastRecorded &- (firstRecorded ?? lastRecorded)) / 1e9
        }

        /// Sends what is batched and sleeps until `recorded` is due, when it is not yet.
        mutating func waitUntilDue(recorded: UInt64) {
            let now = SystemClock.monotonicNanoseconds()
            let due = schedule.dueWall(recorded: recorded, nowWall: now)
            guard due > now else { return }
            flush()
            SystemClock.sleep(untilMonotonicNanoseconds: due, shouldStop: shouldStop)
        }

        mutating func flush() {
            guard !batch.isEmpty else { return }
            sender.send(batch)
            let now = SystemClock.monotonicNanoseconds()
            if firstSent == nil { firstSent = now }
            lastSent = now
            report.datagramsSent += batch.count
            batch.removeAll()
        }

        /// The next loop starts its own timeline.
        mutating func startOver() {
            schedule.reanchor()
            previousEnd = nil
        }
    }
}
