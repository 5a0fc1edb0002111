/// Reads a MAVLink telemetry log (`.tlog`, as QGroundControl, MAVProxy and mavlink-router write
/// them): records of an 8-byte big-endian timestamp (µs since the Unix epoch) followed by one
/// MAVLink v1 or v2 frame, whose length comes from the frame's own header. Each frame is handed
/// out as one datagram, stamped with its record's time, so it goes down the same path as a frame
/// from the socket (the gateway's decoder checks its CRC).
///
/// A record is accepted when its timestamp is plausible and a frame start byte follows it. When
/// one is not, the reader resynchronises: it looks for the next offset where a record is accepted
/// *and* is followed by another accepted record (or by the end of the file), so a stray 0xFD
/// inside a payload does not pass for a record; the bytes in between are counted as skipped.
public final class TlogReader: RecordingReader {
    public var path: String { file.path }
    public var kind: RecordingFormatKind { .tlog }
    let file: MappedFile

    /// Timestamps outside this range (2001-09-09 to 2100-01-01, in µs) are taken for damage.
    static let plausibleMicroseconds: ClosedRange<UInt64> = 1_000_000_000_000_000...4_102_444_800_000_000
    /// Bytes of the timestamp before each frame.
    static let timestampLength = 8

    public convenience init(path: String) throws(RecordingError) {
        self.init(file: try MappedFile(path: path))
    }

    init(file: MappedFile) {
        self.file = file
    }

    /// Whether `bytes` starts with a plausible .tlog record.
    static func looksLikeTlog(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if case .record = record(in: bytes, at: 0) { return true }
        return false
    }

    /// What starts at one offset.
    enum RecordProbe: Equatable {
        /// A whole record of `length` bytes (timestamp and frame) stamped `microseconds`.
        case record(length: Int, microseconds: UInt64)
        /// A plausible record whose frame runs past the end of the file.
        case cutOff
        /// Not a record.
        case invalid
    }

    static func record(in bytes: UnsafeRawBufferPointer, at offset: Int) -> RecordProbe {
        let frameStart = offset + timestampLength
        guard frameStart < bytes.count else { return offset < bytes.count ? .cutOff : .invalid }
        let microseconds = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        guard plausibleMicroseconds.contains(microseconds) else { return .invalid }
        switch MAVLinkFraming.frameLength(UnsafeRawBufferPointer(rebasing: bytes[frameStart...])) {
        case .frame(let length): return .record(length: timestampLength + length, microseconds: microseconds)
        case .needMoreBytes: return .cutOff
        case .notAFrame: return .invalid
        }
    }

    public func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport {
        var report = ReadReport()
        let bytes = file.bytes
        let from = fromNanoseconds ?? 0
        let until = untilNanoseconds ?? .max
        let noSource = UnsafeRawBufferPointer(start: nil, count: 0)
        var offset = 0
        var pages = file.pageRelease
        // Bounded: every pass advances `offset` by at least one byte or ends the loop.
        while offset < bytes.count {
            pages.passed(offset)
            switch Self.record(in: bytes, at: offset) {
            case .record(let length, let microseconds):
                let nanoseconds = microseconds &* 1_000
                report.datagramsFound += 1
                report.noteTime(nanoseconds)
                if nanoseconds >= from && nanoseconds < until {
                    report.datagramsRead += 1
                    let frame = UnsafeRawBufferPointer(rebasing: bytes[offset + Self.timestampLength..<offset + length])
                    let datagram = RecordedDatagram(receivedNanoseconds: nanoseconds, bytes: frame, source: noSource, isTruncated: false)
                    if !body(datagram) { return report }
                }
                offset += length
            case .cutOff:
                report.trailingBytes = bytes.count - offset
                report.note("\(bytes.count - offset) bytes at the end are an incomplete record")
                return report
            case .invalid:
                guard let next = nextRecord(after: offset) else {
                    let remaining = bytes.count - offset
                    report.bytesSkipped += remaining
                    report.resyncs += 1
                    report.recordsDamaged += 1
                    report.note("\(remaining) bytes from byte \(offset) to the end hold no readable record")
                    return report
                }
                report.bytesSkipped += next - offset
                report.resyncs += 1
                report.recordsDamaged += 1
                report.note("\(next - offset) unreadable bytes skipped at byte \(offset)")
                offset = next
            }
        }
        return report
    }

    /// The next offset after `offset` where a record starts that is followed by another record,
    /// by an incomplete record at the end, or by the end itself.
    private func nextRecord(after offset: Int) -> Int? {
        let bytes = file.bytes
        var candidate = offset + 1
        while candidate + Self.timestampLength < bytes.count {
            let start = bytes[candidate + Self.timestampLength]
            if start == MAVLinkFraming.startV1 || start == MAVLinkFraming.startV2,
                case .record(let length, _) = Self.record(in: bytes, at: candidate)
            {
                let following = candidate + length
                if following == bytes.count || Self.record(in: bytes, at: following) != .invalid { return candidate }
            }
            candidate += 1
        }
        return nil
    }
}
