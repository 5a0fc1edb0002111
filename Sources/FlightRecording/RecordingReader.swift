import Telemetry
/// The seam every player plugs into: a file of recorded datagrams, read in order, optionally
/// from one time to another. Skygate recordings and MAVLink `.tlog` files implement it today;
/// PX4 `.ulg` and pcap readers slot in beside them (`RecordingFormatKind`, `openRecording`).
public protocol RecordingReader: AnyObject {
    var path: String { get }
    var kind: RecordingFormatKind { get }
    /// Hands each datagram whose time is in `from..<until` (ns; nil = unbounded) to `body`, in
    /// file order, until `body` returns false. Damage is skipped, counted and described in the
    /// returned report, never thrown.
    func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport
}

extension RecordingReader {
    /// Every datagram of the file.
    public func read(_ body: (RecordedDatagram) -> Bool) -> ReadReport {
        read(fromNanoseconds: nil, untilNanoseconds: nil, body)
    }
}

/// The file formats players know.
public enum RecordingFormatKind: String, Sendable, Codable {
    /// Skygate's own (docs/recording-format.md).
    case skygate
    /// MAVLink telemetry log: an 8-byte big-endian µs timestamp before each frame.
    case tlog
    /// PX4 ULog (`.ulg`), replayed as MAVLink 2 frames made from its topics.
    case ulog
    /// ArduPilot DataFlash binary log (`.bin`), replayed as MAVLink 2 frames made from its records.
    case dataflash
    /// Packet captures: each UDP payload is one datagram, stamped with its capture time.
    case pcap
    case pcapng

    /// The format in words, for `inspect` and errors.
    public var title: String {
        switch self {
        case .skygate: "Skygate recording"
        case .tlog: "MAVLink telemetry log (.tlog)"
        case .ulog: "PX4 ULog (.ulg)"
        case .dataflash: "ArduPilot DataFlash log (.bin)"
        case .pcap: "pcap capture"
        case .pcapng: "pcapng capture"
        }
    }
}

/// Opens `path` with the player for its format, by content, not by name: a Skygate recording by
/// its magic, a PX4 ULog by `ULog` and its version bytes, a pcap or pcapng capture by its magic, an
/// ArduPilot DataFlash log by a first FMT record (`A3 95 80` and a self-describing format), else
/// a `.tlog` when its first record frames as one. `systemID` overrides the MAVLink system id that
/// ULog and DataFlash frames carry (otherwise the log's `MAV_SYS_ID` / `SYSID_THISMAV`, else 1).
public func openRecording(path: String, systemID: UInt8? = nil) throws(RecordingError) -> any RecordingReader {
    try openRecording(file: MappedFile(path: path), systemID: systemID)
}

/// `openRecording(path:)` for a file already in memory (mapped, or copied by a fuzz target).
func openRecording(file: MappedFile, systemID: UInt8? = nil) throws(RecordingError) -> any RecordingReader {
    let path = file.path
    let bytes = file.bytes
    if bytes.count >= 8 && bytes.prefix(8).elementsEqual(RecordingFormat.fileMagic) {
        return try SkygateRecordingReader(file: file)
    }
    if ULogReader.looksLikeULog(bytes) { return ULogReader(file: file, systemID: systemID) }
    if let kind = CaptureReader.captureKind(bytes) { return CaptureReader(file: file, kind: kind) }
    if DataFlashReader.looksLikeDataFlash(bytes) { return DataFlashReader(file: file, systemID: systemID) }
    if TlogReader.looksLikeTlog(bytes) { return TlogReader(file: file) }
    throw .notARecording(
        path: path,
        reason: bytes.isEmpty
            ? "the file is empty"
            : "no Skygate, ULog, pcap or pcapng magic, no DataFlash FMT record, and no MAVLink frame after an 8-byte timestamp")
}

/// What a player recovered from a file and what it had to skip.
public struct ReadReport: Sendable, Equatable, Codable {
    /// Datagrams handed out (after the time filter).
    public var datagramsRead = 0
    /// Datagrams seen in the parts of the file that were read, filter or not.
    public var datagramsFound = 0
    /// Chunks (Skygate) read and verified; damaged chunks skipped.
    public var chunksRead = 0
    public var chunksDamaged = 0
    /// Records lost to damage: the damaged chunks' counts from their (verified) headers, or the
    /// .tlog records skipped while resynchronising.
    public var recordsDamaged = 0
    /// Bytes skipped while looking for the next chunk or record.
    public var bytesSkipped = 0
    /// Times the player lost the framing and found it again.
    public var resyncs = 0
    /// Bytes at the end too few to be a whole chunk or record (a cut-off write).
    public var trailingBytes = 0
    /// Whether a valid chunk index and trailer were found (a cleanly closed Skygate recording).
    public var hasIndex = false
    /// Time of the first and last datagram found, ns.
    public var firstNanoseconds: UInt64?
    public var lastNanoseconds: UInt64?
    /// Problems in words, first ones only (`ReadReport.problemsMax`).
    public var problems: [String] = []
    /// Records or packets passed over, by reason (autopilot logs and captures): damage such as
    /// `cut record` or `bad format definition`, and what is not replayed such as `not UDP`.
    public var skipped: [String: Int] = [:]

    public init() {}

    /// Problems kept in a report; later ones are only counted.
    public static let problemsMax = Limits.Recording.readProblemsMax

    /// Whether nothing was damaged, skipped or cut off.
    public var isIntact: Bool { chunksDamaged == 0 && recordsDamaged == 0 && bytesSkipped == 0 && trailingBytes == 0 }

    mutating func note(_ problem: String) {
        if problems.count < Self.problemsMax { problems.append(problem) }
    }

    /// Counts `count` records skipped for `reason`, and describes the first of each reason.
    mutating func skip(_ reason: String, count: Int = 1, at offset: Int? = nil) {
        if skipped[reason] == nil { note(offset.map { "\(reason) at byte \($0)" } ?? reason) }
        skipped[reason, default: 0] += count
    }

    /// A run of bytes from `offset` that no record starts in: one resync, one damaged record, the
    /// bytes up to `next` skipped (to `end` when no record follows). The one rule every player
    /// that resynchronises (ULog, DataFlash, pcap, pcapng) counts garbage by.
    mutating func skipGarbage(at offset: Int, resumingAt next: Int?, end: Int) {
        resyncs += 1
        recordsDamaged += 1
        skip("garbage", at: offset)
        bytesSkipped += (next ?? end) - offset
    }

    mutating func noteTime(_ nanoseconds: UInt64) {
        if firstNanoseconds == nil { firstNanoseconds = nanoseconds }
        lastNanoseconds = nanoseconds
    }

    /// One line for people: what was recovered and what was lost.
    public var summary: String {
        var text = "\(datagramsFound) datagrams recovered"
        if chunksRead > 0 || chunksDamaged > 0 { text += " from \(chunksRead) chunks" }
        if isIntact {
            let unclosed = chunksRead > 0 && !hasIndex ? " (no index: the recording was not closed; read by scanning)" : ""
            return text + ", nothing damaged" + unclosed + skippedSummary
        }
        var lost: [String] = []
        if chunksDamaged > 0 { lost.append("\(chunksDamaged) damaged chunks (\(recordsDamaged) records)") }
        else if recordsDamaged > 0 { lost.append("\(recordsDamaged) damaged records") }
        if bytesSkipped > 0 { lost.append("\(bytesSkipped) bytes skipped in \(resyncs) resyncs") }
        if trailingBytes > 0 { lost.append("\(trailingBytes) bytes cut off at the end") }
        return text + "; lost: " + lost.joined(separator: ", ") + skippedSummary
    }

    /// The skipped records by reason, most first, or nothing.
    var skippedSummary: String {
        guard !skipped.isEmpty else { return "" }
        let parts = skipped.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
        return "; skipped: " + parts.joined(separator: ", ")
    }
}
