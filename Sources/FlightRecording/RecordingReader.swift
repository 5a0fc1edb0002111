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
}

/// Opens `path` with the player for its format: a Skygate recording by its magic, else a
/// `.tlog` when its first record frames as one. PX4 `.ulg` (magic `ULog`) and pcap are named in
/// the error until their players exist.
public func openRecording(path: String) throws(RecordingError) -> any RecordingReader {
    try openRecording(file: MappedFile(path: path))
}

/// `openRecording(path:)` for a file already in memory (mapped, or copied by a fuzz target).
func openRecording(file: MappedFile) throws(RecordingError) -> any RecordingReader {
    let path = file.path
    let bytes = file.bytes
    if bytes.count >= 8 && bytes.prefix(8).elementsEqual(RecordingFormat.fileMagic) {
        return try SkygateRecordingReader(file: file)
    }
    if bytes.count >= 4 && bytes.prefix(4).elementsEqual("ULog".utf8) {
        throw .notARecording(path: path, reason: "a PX4 ULog file; ULog replay is not supported yet")
    }
    if bytes.count >= 4 {
        let magic = bytes.littleEndian(at: 0, as: UInt32.self)
        if magic == 0xA1B2_C3D4 || magic == 0xD4C3_B2A1 || magic == 0x0A0D_0D0A {
            throw .notARecording(path: path, reason: "a pcap capture; pcap replay is not supported yet")
        }
    }
    if TlogReader.looksLikeTlog(bytes) { return TlogReader(file: file) }
    throw .notARecording(path: path, reason: bytes.isEmpty ? "the file is empty" : "no Skygate magic and no MAVLink frame after an 8-byte timestamp")
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

    public init() {}

    /// Problems kept in a report; later ones are only counted.
    public static let problemsMax = Limits.Recording.readProblemsMax

    /// Whether nothing was damaged, skipped or cut off.
    public var isIntact: Bool { chunksDamaged == 0 && recordsDamaged == 0 && bytesSkipped == 0 && trailingBytes == 0 }

    mutating func note(_ problem: String) {
        if problems.count < Self.problemsMax { problems.append(problem) }
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
            return text + ", nothing damaged" + unclosed
        }
        var lost: [String] = []
        if chunksDamaged > 0 { lost.append("\(chunksDamaged) damaged chunks (\(recordsDamaged) records)") }
        else if recordsDamaged > 0 { lost.append("\(recordsDamaged) damaged records") }
        if bytesSkipped > 0 { lost.append("\(bytesSkipped) bytes skipped in \(resyncs) resyncs") }
        if trailingBytes > 0 { lost.append("\(trailingBytes) bytes cut off at the end") }
        return text + "; lost: " + lost.joined(separator: ", ")
    }
}
