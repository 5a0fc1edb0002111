import CZlib

/// zlib deflate for one chunk at a time, each chunk a complete zlib stream (so a reader can
/// inflate any chunk alone). The `z_stream` lives at a fixed address because zlib keeps a pointer
/// back to it and refuses a moved stream; it and the output buffer are allocated once.
final class ChunkCompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    /// Output buffer, `deflateBound` of the largest chunk.
    let output: UnsafeMutableRawPointer
    let outputCapacity: Int

    init(level: Int32, inputBytesMax: Int) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit_(stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Only running out of memory or a zlib/header mismatch fails here: programmer errors.
        precondition(status == Z_OK, "deflateInit failed: \(status)")
        outputCapacity = Int(deflateBound(stream, UInt(inputBytesMax)))
        output = .allocate(byteCount: outputCapacity, alignment: 16)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses `input` (at most the `inputBytesMax` given at init) into `output`; returns the
    /// compressed length.
    func compress(_ input: UnsafeRawBufferPointer) -> Int {
        precondition(Int(deflateBound(stream, UInt(input.count))) <= outputCapacity, "chunk larger than the compressor was sized for")
        deflateReset(stream)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(outputCapacity)
        let status = deflate(stream, Z_FINISH)
        // With deflateBound's room one Z_FINISH call always completes the stream.
        precondition(status == Z_STREAM_END, "deflate did not finish: \(status)")
        return Int(stream.pointee.total_out)
    }
}

/// zlib inflate for one chunk at a time, into a buffer of `RecordingFormat.chunkUncompressedBytesMax`.
final class ChunkDecompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    let output: UnsafeMutableRawPointer
    let outputCapacity = RecordingFormat.chunkUncompressedBytesMax

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit failed: \(status)")
        output = .allocate(byteCount: outputCapacity, alignment: 16)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Inflates one chunk's payload; nil when it is not a complete zlib stream of exactly
    /// `expectedLength` bytes (damage the CRC did not catch, or a lying header).
    func decompress(_ input: UnsafeRawBufferPointer, expectedLength: Int) -> UnsafeRawBufferPointer? {
        guard expectedLength <= outputCapacity else { return nil }
        inflateReset(stream)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(outputCapacity)
        let status = inflate(stream, Z_FINISH)
        guard status == Z_STREAM_END, Int(stream.pointee.total_out) == expectedLength else { return nil }
        return UnsafeRawBufferPointer(start: output, count: expectedLength)
    }
}
