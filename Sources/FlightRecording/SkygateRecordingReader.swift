/// Reads a Skygate recording (docs/recording-format.md). With a valid trailer and index it seeks
/// by time straight to the first chunk that matters; without them (a recording cut off, or a
/// damaged end) it scans the chunks from the header on. Each chunk's header CRC is checked before
/// its length is trusted and its payload CRC before it is inflated; a damaged chunk is skipped
/// and counted, and the scan resynchronises on the next chunk magic with a valid header.
public final class SkygateRecordingReader: RecordingReader {
    public var path: String { file.path }
    public var kind: RecordingFormatKind { .skygate }
    /// From the header.
    public let formatVersion: UInt16
    public let startNanoseconds: UInt64
    public let gatewayVersion: String
    /// The chunk index from the trailer; nil when the recording was not closed or its end is damaged.
    public let index: [ChunkIndexEntry]?
    /// Where chunks start (after the header) and where they end (the index, or the file's end).
    let chunksStart: Int
    let chunksEnd: Int
    let file: MappedFile
    /// Made on the first chunk read: opening a file (format sniffing, `inspect` of a damaged
    /// file) allocates no 4 MiB inflate buffer.
    private lazy var decompressor = ChunkDecompressor()
    private var headerProblem: String?

    /// One entry of the chunk index.
    public struct ChunkIndexEntry: Sendable, Equatable {
        public var offset: Int
        public var firstNanoseconds: UInt64
        public var lastNanoseconds: UInt64
        public var recordCount: Int
    }

    public convenience init(path: String) throws(RecordingError) {
        try self.init(file: MappedFile(path: path))
    }

    init(file: MappedFile) throws(RecordingError) {
        self.file = file
        let bytes = file.bytes
        guard bytes.count >= RecordingFormat.headerFixedLength + 4, bytes.prefix(8).elementsEqual(RecordingFormat.fileMagic) else {
            throw .notARecording(path: file.path, reason: "no Skygate recording header")
        }
        let version = bytes.littleEndian(at: RecordingFormat.HeaderField.version, as: UInt16.self)
        guard version <= RecordingFormat.version else { throw .unsupportedVersion(path: file.path, version: version) }
        formatVersion = version
        let headerLength = Int(bytes.littleEndian(at: RecordingFormat.HeaderField.headerLength, as: UInt16.self))
        let versionLength = Int(bytes.littleEndian(at: RecordingFormat.HeaderField.gatewayVersionLength, as: UInt16.self))
        let headerIsValid = headerLength == RecordingFormat.headerFixedLength + versionLength + 4 && headerLength <= bytes.count
            && RecordingFormat.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<headerLength - 4]))
                == bytes.littleEndian(at: headerLength - 4, as: UInt32.self)
        if headerIsValid {
            startNanoseconds = bytes.littleEndian(at: RecordingFormat.HeaderField.startNanoseconds, as: UInt64.self)
            let versionStart = RecordingFormat.HeaderField.gatewayVersion
            gatewayVersion = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[versionStart..<versionStart + versionLength]), as: UTF8.self)
            chunksStart = headerLength
        } else {
            // The magic is right but the rest of the header is not: keep going, the chunks are
            // self-describing; the scan finds the first one.
            startNanoseconds = 0
            gatewayVersion = ""
            chunksStart = 8
            headerProblem = "the file header is damaged (its CRC does not match); chunks read by scanning"
        }
        if let (entries, indexOffset) = Self.readIndex(bytes, chunksStart: chunksStart) {
            index = entries
            chunksEnd = indexOffset
        } else {
            index = nil
            chunksEnd = bytes.count
        }
    }

    /// The trailer and the index it points to, when both are intact and consistent.
    static func readIndex(_ bytes: UnsafeRawBufferPointer, chunksStart: Int) -> ([ChunkIndexEntry], Int)? {
        let trailerLength = RecordingFormat.trailerLength
        guard bytes.count >= chunksStart + trailerLength + RecordingFormat.indexHeaderLength + 4 else { return nil }
        let trailerStart = bytes.count - trailerLength
        let trailer = UnsafeRawBufferPointer(rebasing: bytes[trailerStart...])
        guard trailer.littleEndian(at: 0, as: UInt32.self) == RecordingFormat.trailerMagic,
            RecordingFormat.crc32(UnsafeRawBufferPointer(rebasing: trailer[0..<trailerLength - 4]))
                == trailer.littleEndian(at: trailerLength - 4, as: UInt32.self)
        else { return nil }
        // Offsets stay UInt64 until they are known to lie inside the file: a trailer whose CRC
        // matches may still be hostile, and `Int(clamping:)` plus a length overflowed (a trap).
        let storedIndexOffset = trailer.littleEndian(at: RecordingFormat.TrailerField.indexOffset, as: UInt64.self)
        let chunkCount = Int(trailer.littleEndian(at: RecordingFormat.TrailerField.chunkCount, as: UInt32.self))
        let indexLength = RecordingFormat.indexHeaderLength + chunkCount * RecordingFormat.indexEntryLength + 4
        guard storedIndexOffset >= UInt64(chunksStart), storedIndexOffset <= UInt64(trailerStart),
            UInt64(trailerStart) - storedIndexOffset == UInt64(indexLength)
        else { return nil }
        let indexOffset = Int(storedIndexOffset)
        let index = UnsafeRawBufferPointer(rebasing: bytes[indexOffset..<trailerStart])
        guard index.littleEndian(at: 0, as: UInt32.self) == RecordingFormat.indexMagic,
            Int(index.littleEndian(at: RecordingFormat.IndexField.entryCount, as: UInt32.self)) == chunkCount,
            RecordingFormat.crc32(UnsafeRawBufferPointer(rebasing: index[0..<indexLength - 4]))
                == index.littleEndian(at: indexLength - 4, as: UInt32.self)
        else { return nil }
        var entries: [ChunkIndexEntry] = []
        entries.reserveCapacity(chunkCount)
        var previousOffset = chunksStart - 1
        for number in 0..<chunkCount {
            let at = RecordingFormat.indexHeaderLength + number * RecordingFormat.indexEntryLength
            // An entry beyond the index is refused before it becomes an Int (no overflow below).
            let storedOffset = index.littleEndian(at: at + RecordingFormat.IndexField.entryOffset, as: UInt64.self)
            guard storedOffset <= UInt64(indexOffset) else { return nil }
            let entry = ChunkIndexEntry(
                offset: Int(storedOffset),
                firstNanoseconds: index.littleEndian(at: at + RecordingFormat.IndexField.entryFirstNanoseconds, as: UInt64.self),
                lastNanoseconds: index.littleEndian(at: at + RecordingFormat.IndexField.entryLastNanoseconds, as: UInt64.self),
                recordCount: Int(index.littleEndian(at: at + RecordingFormat.IndexField.entryRecordCount, as: UInt32.self)))
            // An index that points backwards or past itself is not trusted at all.
            guard entry.offset > previousOffset, entry.offset + RecordingFormat.chunkHeaderLength <= indexOffset else { return nil }
            previousOffset = entry.offset
            entries.append(entry)
        }
        return (entries, indexOffset)
    }

    /// The index entry of the first chunk that may hold a record at or after `nanoseconds`
    /// (the first whose last record is not earlier), or nil when none does or there is no index.
    /// Chunks are in receive order, and receive times rise, so a binary search on the last times
    /// finds it without reading any chunk.
    public func chunkNumber(atOrAfter nanoseconds: UInt64) -> Int? {
        guard let index else { return nil }
        var low = 0
        var high = index.count
        while low < high {
            let middle = (low + high) / 2
            if index[middle].lastNanoseconds < nanoseconds { low = middle + 1 } else { high = middle }
        }
        return low < index.count ? low : nil
    }

    public func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport {
        var report = ReadReport()
        report.hasIndex = index != nil
        if let headerProblem { report.note(headerProblem) }
        let window = TimeWindow(from: fromNanoseconds, until: untilNanoseconds)
        var offset = chunksStart
        if let index, fromNanoseconds != nil {
            guard let first = chunkNumber(atOrAfter: window.from) else { return report }
            offset = index[first].offset
        }
        var pages = file.pageRelease
        // Bounded: every pass advances `offset` by at least one byte, or ends.
        while offset < chunksEnd {
            pages.passed(offset)
            switch nextChunk(at: offset, report: &report) {
            case .end:
                return report
            case .skip(to: let next):
                offset = next
            case .chunk(let chunk):
                if chunk.firstNanoseconds >= window.until { return report }
                if window.isBounded && chunk.lastNanoseconds < window.from {
                    offset = chunk.nextOffset
                    continue
                }
                guard let records = verifiedRecords(of: chunk) else {
                    report.chunksDamaged += 1
                    report.recordsDamaged += chunk.recordCount
                    report.note("chunk at byte \(chunk.offset) is damaged; its \(chunk.recordCount) records are lost")
                    offset = chunk.nextOffset
                    continue
                }
                report.chunksRead += 1
                guard Self.deliver(records, count: chunk.recordCount, in: window, report: &report, to: body) else { return report }
                offset = chunk.nextOffset
            }
        }
        return report
    }

    /// The time filter of a read: `from..<until`, ns.
    struct TimeWindow {
        let from: UInt64
        let until: UInt64
        /// Whether a start was given (chunks wholly before it are skipped unread).
        let isBounded: Bool

        init(from: UInt64?, until: UInt64?) {
            self.from = from ?? 0
            self.until = until ?? .max
            isBounded = from != nil
        }

        func contains(_ time: UInt64) -> Bool { time >= from && time < until }
    }

    /// A chunk header that passed its CRC, with where its payload lies.
    struct Chunk {
        let offset: Int
        let compressedLength: Int
        let uncompressedLength: Int
        let recordCount: Int
        let firstNanoseconds: UInt64
        let lastNanoseconds: UInt64
        let payloadCRC: UInt32
        var payloadStart: Int { offset + RecordingFormat.chunkHeaderLength }
        var nextOffset: Int { payloadStart + compressedLength }

        init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
            typealias Field = RecordingFormat.ChunkField
            self.offset = offset
            compressedLength = Int(bytes.littleEndian(at: offset + Field.compressedLength, as: UInt32.self))
            uncompressedLength = Int(bytes.littleEndian(at: offset + Field.uncompressedLength, as: UInt32.self))
            recordCount = Int(bytes.littleEndian(at: offset + Field.recordCount, as: UInt32.self))
            firstNanoseconds = bytes.littleEndian(at: offset + Field.firstNanoseconds, as: UInt64.self)
            lastNanoseconds = bytes.littleEndian(at: offset + Field.lastNanoseconds, as: UInt64.self)
            payloadCRC = bytes.littleEndian(at: offset + Field.payloadCRC, as: UInt32.self)
        }
    }

    /// What the scan finds at an offset.
    enum ScanStep {
        /// A whole chunk whose header verified.
        case chunk(Chunk)
        /// Unreadable bytes: go on at the next valid chunk header.
        case skip(to: Int)
        /// Nothing more can be read (noted in the report).
        case end
    }

    /// The chunk at `offset`, or where to go on after damage, or the end; damage is noted in `report`.
    func nextChunk(at offset: Int, report: inout ReadReport) -> ScanStep {
        let bytes = file.bytes
        let remaining = chunksEnd - offset
        guard remaining >= RecordingFormat.chunkHeaderLength && Self.isChunkHeader(bytes, at: offset) else {
            return resynchronise(at: offset, report: &report)
        }
        let chunk = Chunk(bytes, at: offset)
        guard chunk.nextOffset <= chunksEnd else {
            report.trailingBytes += remaining
            report.note("the last chunk (byte \(offset), \(chunk.recordCount) records) was cut off mid-write")
            return .end
        }
        return .chunk(chunk)
    }

    /// After bytes that are no chunk header: an unfinished index ends the chunks; otherwise skip to
    /// the next valid header, or note the rest as cut off or unreadable.
    private func resynchronise(at offset: Int, report: inout ReadReport) -> ScanStep {
        let bytes = file.bytes
        let remaining = chunksEnd - offset
        if index == nil && remaining >= 4 && bytes.littleEndian(at: offset, as: UInt32.self) == RecordingFormat.indexMagic {
            // An index whose trailer is damaged or missing (cut off while closing): the chunks end
            // here, and the rest is counted as cut off, though no record is lost.
            report.trailingBytes += remaining
            report.note("the index or trailer at byte \(offset) is incomplete or damaged; chunks read by scanning")
            return .end
        }
        guard let next = nextChunkHeader(after: offset) else {
            if remaining < RecordingFormat.chunkHeaderLength {
                report.trailingBytes += remaining
                report.note("\(remaining) bytes at the end are not a whole chunk (the recording was cut off)")
            } else {
                report.bytesSkipped += remaining
                report.resyncs += 1
                report.note("\(remaining) bytes from byte \(offset) to the end hold no readable chunk")
            }
            return .end
        }
        report.bytesSkipped += next - offset
        report.resyncs += 1
        report.note("\(next - offset) unreadable bytes skipped at byte \(offset)")
        return .skip(to: next)
    }

    /// The chunk's records, inflated, when its payload CRC matches and they parse whole.
    private func verifiedRecords(of chunk: Chunk) -> UnsafeRawBufferPointer? {
        let payload = UnsafeRawBufferPointer(rebasing: file.bytes[chunk.payloadStart..<chunk.nextOffset])
        guard RecordingFormat.crc32(payload) == chunk.payloadCRC,
            let records = decompressor.decompress(payload, expectedLength: chunk.uncompressedLength),
            Self.recordsAreWellFormed(records, count: chunk.recordCount)
        else { return nil }
        return records
    }

    /// Hands the records inside `window` to `body`; returns false when `body` asked to stop.
    static func deliver(
        _ records: UnsafeRawBufferPointer, count: Int, in window: TimeWindow, report: inout ReadReport,
        to body: (RecordedDatagram) -> Bool
    ) -> Bool {
        typealias Field = RecordingFormat.RecordField
        var at = 0
        for _ in 0..<count {
            let time = records.littleEndian(at: at + Field.receivedNanoseconds, as: UInt64.self)
            let length = Int(records.littleEndian(at: at + Field.datagramLength, as: UInt16.self))
            let sourceLength = Int(records[at + Field.sourceLength])
            let flags = records[at + Field.flags]
            let sourceStart = at + RecordingFormat.recordHeaderLength
            let datagramStart = sourceStart + sourceLength
            at = datagramStart + length
            report.datagramsFound += 1
            report.noteTime(time)
            guard window.contains(time) else { continue }
            report.datagramsRead += 1
            let datagram = RecordedDatagram(
                receivedNanoseconds: time, bytes: UnsafeRawBufferPointer(rebasing: records[datagramStart..<at]),
                source: UnsafeRawBufferPointer(rebasing: records[sourceStart..<datagramStart]),
                isTruncated: flags & RecordingFormat.recordFlagTruncated != 0)
            if !body(datagram) { return false }
        }
        return true
    }

    /// Whether a chunk header with the magic and a matching header CRC starts at `offset`.
    static func isChunkHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + RecordingFormat.chunkHeaderLength <= bytes.count,
            bytes.littleEndian(at: offset, as: UInt32.self) == RecordingFormat.chunkMagic
        else { return false }
        let header = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + RecordingFormat.chunkHeaderLength - 4])
        return RecordingFormat.crc32(header) == bytes.littleEndian(at: offset + RecordingFormat.ChunkField.headerCRC, as: UInt32.self)
    }

    /// The next offset after `offset` where a valid chunk header starts, before `chunksEnd`.
    private func nextChunkHeader(after offset: Int) -> Int? {
        let bytes = file.bytes
        var candidate = offset + 1
        while candidate + RecordingFormat.chunkHeaderLength <= chunksEnd {
            if bytes[candidate] == 0x53 && Self.isChunkHeader(bytes, at: candidate) { return candidate }
            candidate += 1
        }
        return nil
    }

    /// Whether `records` parses into exactly `count` records that fill it: checked before any
    /// record is handed out, so a chunk is delivered whole or not at all.
    static func recordsAreWellFormed(_ records: UnsafeRawBufferPointer, count: Int) -> Bool {
        var at = 0
        for _ in 0..<count {
            guard at + RecordingFormat.recordHeaderLength <= records.count else { return false }
            let length = Int(records.littleEndian(at: at + RecordingFormat.RecordField.datagramLength, as: UInt16.self))
            let sourceLength = Int(records[at + RecordingFormat.RecordField.sourceLength])
            guard sourceLength <= RecordedSource.bytesMax else { return false }
            at += RecordingFormat.recordHeaderLength + sourceLength + length
            guard at <= records.count else { return false }
        }
        return at == records.count
    }
}
