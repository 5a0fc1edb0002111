#if canImport(Glibc)
import Glibc
#endif
import Telemetry

/// Writes one Skygate recording: the header at once, then records gathered into chunks that are
/// compressed and written whole (each with its length, time range, record count and CRCs), and at
/// `close()` the chunk index and the trailer. A file cut off at any moment therefore reads back up
/// to its last whole chunk. Buffers are allocated once, at their bounds; not thread-safe (one
/// recorder thread owns a writer).
public final class RecordingWriter {
    public let path: String
    public let options: RecordingOptions
    /// Start time written in the header (ns since the Unix epoch).
    public let startNanoseconds: UInt64

    /// Bytes written to the file so far (header and whole chunks; not the open chunk).
    public private(set) var bytesWritten = 0
    /// Records in written chunks plus the open chunk.
    public private(set) var recordCount = 0
    public private(set) var chunkCount = 0
    /// Time of the first and last record appended, ns.
    public private(set) var firstRecordNanoseconds: UInt64?
    public private(set) var lastRecordNanoseconds: UInt64?

    private var descriptor: Int32
    private var isFailed = false
    private let compressor: ChunkCompressor
    /// The open chunk's uncompressed records.
    private let chunk: UnsafeMutableRawPointer
    private var chunkLength = 0
    private var chunkRecords = 0
    private var chunkFirstNanoseconds: UInt64 = 0
    private var chunkLastNanoseconds: UInt64 = 0
    /// Where the open chunk was started, on the caller's clock (for `chunkInterval`).
    private var chunkOpenedNanoseconds: UInt64 = 0
    private var index = ByteWriter()

    /// Creates (or truncates) `path` and writes the header. `gatewayVersion` is cut to
    /// `RecordingFormat.gatewayVersionBytesMax` bytes.
    public init(path: String, startNanoseconds: UInt64, gatewayVersion: String, options: RecordingOptions = RecordingOptions())
        throws(RecordingError)
    {
        let problems = options.validate()
        guard problems.isEmpty else { throw .invalidOptions(problems.joined(separator: "; ")) }
        self.path = path
        self.options = options
        self.startNanoseconds = startNanoseconds
        // 0600: a recording holds every datagram, tagged ones too, readable by whoever reads the file.
        let fd = PrivateFile.open(path, flags: O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw RecordingError.from(errno: errno, operation: "open", path: path) }
        descriptor = fd
        compressor = ChunkCompressor(level: options.compressionLevel, inputBytesMax: options.chunkBytesMax)
        chunk = .allocate(byteCount: options.chunkBytesMax, alignment: 16)

        var header = ByteWriter()
        let version = Array(gatewayVersion.utf8.prefix(RecordingFormat.gatewayVersionBytesMax))
        header.append(RecordingFormat.fileMagic)
        header.append(RecordingFormat.version)
        header.append(UInt16(RecordingFormat.headerFixedLength + version.count + 4))
        header.append(UInt32(0))
        header.append(startNanoseconds)
        header.append(UInt16(version.count))
        header.append(version)
        header.appendCRC()
        do throws(RecordingError) {
            try writeAll(header.bytes)
        } catch {
            // The object is fully initialised here, so deinit runs and frees the chunk buffer.
            Glibc.close(fd)
            descriptor = -1
            throw error
        }
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
        chunk.deallocate()
    }

    /// Bytes the file will have once the open chunk is written (its uncompressed size: an upper
    /// bound, for rotation).
    public var pendingBytes: Int { bytesWritten + chunkLength }

    /// Whether the open chunk should be written now: its first record was appended at least
    /// `chunkInterval` ago on the caller's clock.
    public func isChunkDue(nowNanoseconds: UInt64) -> Bool {
        chunkRecords > 0 && nowNanoseconds &- chunkOpenedNanoseconds >= options.chunkIntervalNanoseconds
    }

    /// Appends one datagram. Writes the open chunk first when this record would overflow it or
    /// when its time span would exceed `chunkInterval`. `source` is a `RecordedSource` form.
    /// `nowNanoseconds` is the caller's clock for `isChunkDue` (defaults to the record's time).
    public func append(
        receivedNanoseconds: UInt64, source: UnsafeRawBufferPointer, datagram: UnsafeRawBufferPointer, isTruncated: Bool = false,
        nowNanoseconds: UInt64? = nil
    ) throws(RecordingError) {
        guard descriptor >= 0, !isFailed else { throw .closed(path: path) }
        precondition(source.count <= RecordedSource.bytesMax, "source of \(source.count) bytes")
        let datagramBytes = min(datagram.count, Int(UInt16.max))
        let recordLength = RecordingFormat.recordHeaderLength + source.count + datagramBytes
        precondition(recordLength <= options.chunkBytesMax, "a record longer than a chunk")
        if chunkRecords > 0
            && (chunkLength + recordLength > options.chunkBytesMax
                || receivedNanoseconds &- chunkFirstNanoseconds >= options.chunkIntervalNanoseconds)
        {
            try writeChunk()
        }
        if chunkRecords == 0 {
            chunkFirstNanoseconds = receivedNanoseconds
            chunkLastNanoseconds = receivedNanoseconds
            chunkOpenedNanoseconds = nowNanoseconds ?? receivedNanoseconds
        }
        let record = chunk + chunkLength
        record.storeBytes(of: receivedNanoseconds.littleEndian, toByteOffset: 0, as: UInt64.self)
        record.storeBytes(of: UInt16(datagramBytes).littleEndian, toByteOffset: 8, as: UInt16.self)
        record.storeBytes(of: UInt8(source.count), toByteOffset: 10, as: UInt8.self)
        record.storeBytes(of: isTruncated ? RecordingFormat.recordFlagTruncated : 0, toByteOffset: 11, as: UInt8.self)
        if let base = source.baseAddress {
            (record + RecordingFormat.recordHeaderLength).copyMemory(from: base, byteCount: source.count)
        }
        if let base = datagram.baseAddress {
            (record + RecordingFormat.recordHeaderLength + source.count).copyMemory(from: base, byteCount: datagramBytes)
        }
        chunkLength += recordLength
        chunkRecords += 1
        chunkFirstNanoseconds = min(chunkFirstNanoseconds, receivedNanoseconds)
        chunkLastNanoseconds = max(chunkLastNanoseconds, receivedNanoseconds)
        recordCount += 1
        if firstRecordNanoseconds == nil { firstRecordNanoseconds = receivedNanoseconds }
        lastRecordNanoseconds = receivedNanoseconds
    }

    /// Writes the open chunk if its interval has passed on the caller's clock.
    public func writeChunkIfDue(nowNanoseconds: UInt64) throws(RecordingError) {
        if isChunkDue(nowNanoseconds: nowNanoseconds) { try writeChunk() }
    }

    /// Compresses and writes the open chunk (nothing when it is empty), then syncs if configured.
    public func writeChunk() throws(RecordingError) {
        guard descriptor >= 0, !isFailed else { throw .closed(path: path) }
        guard chunkRecords > 0 else { return }
        let compressedLength = compressor.compress(UnsafeRawBufferPointer(start: chunk, count: chunkLength))
        let payload = UnsafeRawBufferPointer(start: compressor.output, count: compressedLength)
        var header = ByteWriter()
        header.bytes.reserveCapacity(RecordingFormat.chunkHeaderLength)
        header.append(RecordingFormat.chunkMagic)
        header.append(UInt32(compressedLength))
        header.append(UInt32(chunkLength))
        header.append(UInt32(chunkRecords))
        header.append(chunkFirstNanoseconds)
        header.append(chunkLastNanoseconds)
        header.append(RecordingFormat.crc32(payload))
        header.appendCRC()
        let offset = bytesWritten
        do throws(RecordingError) {
            try writeAll(header.bytes)
            try writeAll(payload)
            if options.syncsEachChunk && fdatasync(descriptor) != 0 {
                throw RecordingError.from(errno: errno, operation: "fdatasync", path: path)
            }
        } catch {
            isFailed = true
            throw error
        }
        index.append(UInt64(offset))
        index.append(chunkFirstNanoseconds)
        index.append(chunkLastNanoseconds)
        index.append(UInt32(chunkRecords))
        index.append(UInt32(0))
        chunkCount += 1
        chunkLength = 0
        chunkRecords = 0
    }

    /// Writes the open chunk, the chunk index and the trailer, syncs and closes the file.
    /// The writer cannot be used afterwards. A failure leaves a file readable by linear scan.
    public func close() throws(RecordingError) {
        guard descriptor >= 0 else { return }
        defer {
            Glibc.close(descriptor)
            descriptor = -1
        }
        guard !isFailed else { throw .closed(path: path) }
        try writeChunk()
        let indexOffset = bytesWritten
        var indexBytes = ByteWriter()
        indexBytes.append(RecordingFormat.indexMagic)
        indexBytes.append(UInt32(chunkCount))
        indexBytes.append(index.bytes)
        indexBytes.appendCRC()
        var trailer = ByteWriter()
        trailer.append(RecordingFormat.trailerMagic)
        trailer.append(UInt32(0))
        trailer.append(UInt64(indexOffset))
        trailer.append(UInt64(recordCount))
        trailer.append(UInt32(chunkCount))
        trailer.appendCRC()
        try writeAll(indexBytes.bytes)
        try writeAll(trailer.bytes)
        if fsync(descriptor) != 0 { throw RecordingError.from(errno: errno, operation: "fsync", path: path) }
    }

    private func writeAll(_ array: [UInt8]) throws(RecordingError) {
        // Array.withUnsafeBytes rethrows untyped errors; carry the typed one out by value.
        let failure: RecordingError? = array.withUnsafeBytes { bytes in
            do throws(RecordingError) {
                try writeAll(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Writes every byte, retrying short writes and EINTR (bounded: each pass writes or fails).
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(RecordingError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw RecordingError.from(errno: errno, operation: "write", path: path)
            }
            if written == 0 { throw RecordingError.io(operation: "write", path: path, errno: EIO) }
            offset += written
        }
        bytesWritten += bytes.count
    }
}
