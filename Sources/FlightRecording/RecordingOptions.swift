/// The bounds of a recorder, each with its reason (after `Telemetry.Limits`). `validate()` checks
/// how they relate; writers refuse options with problems.
public struct RecordingOptions: Sendable, Equatable {
    /// A chunk is compressed and written when its records reach this many bytes... (256 KiB
    /// compresses well and inflates in about a millisecond, so seeking stays cheap).
    public var chunkBytesMax = 256 << 10
    /// ...or when its first record is this old, so a power cut loses at most this much.
    public var chunkInterval: Duration = .seconds(1)
    /// zlib level: 1 is the fastest and compresses telemetry nearly as well as 6 (repeated field
    /// layouts), and the recorder must keep up with the socket.
    public var compressionLevel: Int32 = 1
    /// `fdatasync` after each chunk, so "readable up to the last whole chunk" survives a power cut.
    public var syncsEachChunk = true

    /// A directory recorder starts a new file when the current one reaches this size...
    public var fileBytesMax = 256 << 20
    /// ...or spans this much time, so files stay easy to copy and to find by time.
    public var fileDuration: Duration = .seconds(3_600)
    /// A directory recorder deletes its oldest recordings to keep the directory under this
    /// (as mavlink-router's log endpoint does), so recording never fills the disk by itself.
    public var directoryBytesMax = 8 << 30

    public init() {}

    /// Problems with the options, as messages naming the option.
    public func validate() -> [String] {
        var problems: [String] = []
        if chunkBytesMax < 4_096 || chunkBytesMax > RecordingFormat.chunkUncompressedBytesMax / 2 {
            problems.append("chunkBytesMax \(chunkBytesMax) must be in 4096...\(RecordingFormat.chunkUncompressedBytesMax / 2)")
        }
        if chunkInterval < .milliseconds(10) || chunkInterval > .seconds(60) {
            problems.append("chunkInterval \(chunkInterval) must be in 10 ms...60 s")
        }
        if compressionLevel < 1 || compressionLevel > 9 {
            problems.append("compressionLevel \(compressionLevel) must be in 1...9")
        }
        if fileBytesMax < 4 * chunkBytesMax {
            problems.append("fileBytesMax \(fileBytesMax) must hold at least four chunks (\(4 * chunkBytesMax) bytes)")
        }
        if fileDuration < .seconds(1) {
            problems.append("fileDuration \(fileDuration) must be at least 1 s")
        }
        if directoryBytesMax < 2 * fileBytesMax {
            problems.append("directoryBytesMax \(directoryBytesMax) must hold at least two files (\(2 * fileBytesMax) bytes)")
        }
        return problems
    }

    var chunkIntervalNanoseconds: UInt64 { chunkInterval.nanosecondsClamped }
    var fileDurationNanoseconds: UInt64 { fileDuration.nanosecondsClamped }
}
