import CZlib
import CZstd

// The compressed sample block (docs/storage.md "Compressed blocks"). This file depends on zstd and
// zlib only, so Scripts/fuzz-inputs.sh can compile it alone into the codec's fuzz target.
//
// A compressed block holds the same 16 columns as a version 1 block (`SampleBlock`), each encoded
// by its nature into one stream of zig-zag varints, and the stream compressed as one frame, or
// stored as it is where compressing would not shorten it by an eighth:
//
// | offset | size | field |
// | --- | --- | --- |
// | 0 | 1 | format version: 3 (Zstandard), 4 (stored), or 2 (zlib; written by schema v5 to v7, read only) |
// | 1 | 3 | zero |
// | 4 | 4 | sample count n, little-endian `UInt32` |
// | 8 | 4 | length of the varint stream before compression, little-endian `UInt32` |
// | 12 | 4 | CRC-32 (zlib's `crc32`, the IEEE polynomial) of bytes 0..<12 and 16..<end, little-endian |
// | 16 | | version 3: the varint stream as one Zstandard frame (RFC 8878) without its magic number, |
// |    | | content size, checksum or dictionary id; version 4: the varint stream itself; version 2: |
// |    | | one complete zlib stream (RFC 1950) |
//
// The CRC is there because the codecs' own checks are not enough (zlib's Adler-32 let 5 flips
// in one 2.4 KB block through that decoded to different samples, SampleCodecTests; the frames
// carry no checksum at all). A CRC-32 catches every single-bit flip and burst up to 32 bits, and
// is checked before decompressing.
//
// Version 3 replaced version 2 in schema v8: on the same varint stream, Zstandard at level 3
// decodes a 4,096-sample chunk's 48 KB in ~28 µs against zlib's ~93 µs and encodes it in ~65 µs
// against zlib level 6's ~1,000 µs, for 1.7 % more bytes (docs/performance.md, "Zstandard blocks").
//
// Version 4 came with schema v9. A sparse drone's chunk (4 samples, an 85-byte stream) framed by
// Zstandard was 82 bytes, and its frame cost more to open than its columns to decode: one drone's
// sparse hour reads ~42 of them. The encoder keeps the frame only where it is at most seven
// eighths of the stream (the rule ZFS applies to its compressed blocks), which every long chunk of
// a flight passes; otherwise it stores the stream. The decoder reads a stored stream in place.
//
// Column codings (every difference is taken modulo the column's width and read back as a signed
// value of that width, so wrap-around costs one small varint and every bit pattern round-trips):
// - delta of delta: time_us (a steady rate costs one byte a sample before compression);
// - delta: sequence, positions, velocities, heading, battery_mv;
// - runs (value's delta from the previous run, run length): stored_us, drone, status, protocol,
//   battery_pct, satellites (constant over a chunk, or changing a few times).

/// How one column is encoded.
enum SampleColumnCoding {
    case deltaOfDelta, delta, runs
}

@_spi(Benchmarking) public enum SampleCodec {
    /// The version the encoder writes (a Zstandard frame).
    public static let formatVersion: UInt8 = 3
    /// The zlib version, written by schema v5 to v7 and still read.
    public static let zlibFormatVersion: UInt8 = 2
    /// The stored version: the varint stream as it is, written when Zstandard would not save an
    /// eighth of it.
    public static let storedFormatVersion: UInt8 = 4
    public static let headerBytes = 16
    /// Columns of a block, in the version 1 layout's order.
    public static let columnCount = 16
    /// Bytes per sample of the version 1 layout (the decoder's output).
    public static let plainBytesPerSample = 53
    public static let plainHeaderBytes = 8
    /// Zstandard level of a chunk (3, the library's default: measured in docs/performance.md,
    /// "Zstandard blocks").
    public static let chunkLevel: Int32 = 3
    /// Zstandard level of a recent block (a committed batch's share of a drone group), which lives
    /// until the next compaction re-encodes its rows into chunks at `chunkLevel`: its size barely
    /// counts (a clean stop compacts every recent block), its encode time is on every commit, and
    /// a query of one drone decodes its group's recent blocks whole. −1, a fast level, stores
    /// literals without Huffman coding: a 64-sample block decodes in 1.2 µs against 3.1 µs at
    /// level 3 and encodes in 4.2 against 7.8 µs, for 13 % more bytes (`Benchmarks/StoreWriting`).
    public static let recentLevel: Int32 = -1
    /// The levels a `SampleBlockEncoder` is sized for unless told otherwise.
    public static let levels: [Int32] = [recentLevel, chunkLevel]
    /// Zstandard window: 128 KiB, past a 4,096-sample chunk's varint stream (~48 KB for a
    /// flight, at most ~400 KB for noise), so a match may reach back over most of a chunk. The
    /// decoder refuses frames that ask for more (a hostile block cannot make it allocate).
    public static let windowLog: UInt32 = 17
    /// Caps on the match finder's tables (level 3 would take 2^17 and 2^16 entries): 2^16 and
    /// 2^15 entries give 0.04 % more bytes on a 4,096-sample chunk and take the encoder's
    /// workspace from 1.70 to 1.30 MB.
    static let hashLogMax: UInt32 = 16
    static let chainLogMax: UInt32 = 15
    /// Working buffer of the encoder and the decoder between the column codings and zlib.
    static let stagingBytes = 65_536

    /// Width in bytes of each column: time_us, stored_us (8); drone, sequence, latitude,
    /// longitude, altitude, status (4); velocity north, east, down, heading, battery_mv (2);
    /// protocol, battery_pct, satellites (1).
    @inline(__always) public static func width(_ column: Int) -> Int {
        switch column {
        case 0, 1: 8
        case 2...7: 4
        case 8...12: 2
        default: 1
        }
    }

    /// Bytes per sample of the columns before `column` (its offset in a version 1 block is
    /// `plainHeaderBytes + prefix * n`).
    @inline(__always) public static func prefix(_ column: Int) -> Int {
        switch column {
        case 0...2: column * 8
        case 3...8: 16 + (column - 2) * 4
        case 9...13: 40 + (column - 8) * 2
        default: 50 + (column - 13)
        }
    }

    @inline(__always) static func coding(_ column: Int) -> SampleColumnCoding {
        switch column {
        case 0: .deltaOfDelta
        case 1, 2, 7, 13, 14, 15: .runs
        default: .delta
        }
    }

    /// Bytes of a version 1 block of `count` samples.
    @inline(__always) public static func plainSize(count: Int) -> Int { plainHeaderBytes + count * plainBytesPerSample }

    /// The longest varint of a value `width` bytes wide after zig-zag.
    @inline(__always) static func varintBytesMax(width: Int) -> Int { (width * 8 + 6) / 7 }

    /// The longest varint stream `count` samples can take: every value its widest, every run one
    /// sample long (a run length is at most `count`, so at most 5 bytes).
    @inline(__always) static func streamBytesMax(count: Int) -> Int { count * streamBytesPerSampleMax }

    /// `streamBytesMax` of one sample, summed once (a decode checks it per block).
    static let streamBytesPerSampleMax: Int = {
        var perSample = 0
        for column in 0..<columnCount {
            perSample += varintBytesMax(width: width(column)) + (coding(column) == .runs ? 5 : 0)
        }
        return perSample
    }()

    /// Blocks up to this many bytes are checksummed by `SliceBy8CRC32`, longer ones by zlib.
    static let tableCRCBytesMax = 512

    /// CRC-32 of a compressed block's bytes but the CRC field itself. zlib's `crc32` costs ~100 to
    /// 140 ns a call at any length under a few hundred bytes (the set-up and combination of its
    /// braided loop), and a query of small chunks paid it twice a block: 9 % of one drone's last
    /// hour (docs/performance.md, stop 28). Small blocks take the same CRC from eight tables
    /// instead (71 against 138 ns for 92 bytes); zlib's loop is the faster one past ~512 bytes.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count >= headerBytes else { return 0 }
        if bytes.count <= tableCRCBytesMax {
            let head = SliceBy8CRC32.update(0, base, count: 12)
            return SliceBy8CRC32.update(head, base + headerBytes, count: bytes.count - headerBytes)
        }
        let head = crc32(0, base, 12)
        return UInt32(truncatingIfNeeded: crc32(head, base + headerBytes, UInt32(bytes.count - headerBytes)))
    }

    /// The sample count of a compressed block's header (version 3, 4 or 2), nil when `bytes` is no
    /// compressed block.
    public static func sampleCount(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= headerBytes, bytes[0] == formatVersion || bytes[0] == zlibFormatVersion || bytes[0] == storedFormatVersion,
              bytes[1] == 0, bytes[2] == 0, bytes[3] == 0 else { return nil }
        return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    }

    @inline(__always) static func mask(width: Int) -> UInt64 { width >= 8 ? .max : (1 << UInt64(width * 8)) - 1 }

    /// `raw` (the low `width` bytes significant) read as a signed value of that width.
    @inline(__always) static func signExtend(_ raw: UInt64, width: Int) -> Int64 {
        let shift = UInt64(64 - width * 8)
        return Int64(bitPattern: raw << shift) >> shift
    }

    @inline(__always) static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: value << 1) ^ UInt64(bitPattern: value >> 63)
    }

    @inline(__always) static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// The compression parameters of `level` (the library's for a source of unknown size), with
    /// the window and the match finder's tables capped as above.
    static func parameters(level: Int32) -> ZSTD_compressionParameters {
        var parameters = ZSTD_getCParams(level, 0, 0)
        parameters.windowLog = min(parameters.windowLog, windowLog)
        parameters.hashLog = min(parameters.hashLog, hashLogMax)
        parameters.chainLog = min(parameters.chainLog, chainLogMax)
        return parameters
    }

    /// Bytes of workspace a decoder's Zstandard context takes (its window and block buffers
    /// included): the same for every decoder, allocated when it is made.
    static var decoderWorkspaceBytes: Int { ZSTD_estimateDStreamSize(1 << Int(windowLog)) }

    /// Bytes of an encoder's Zstandard context for blocks at any of `levels`: the library's
    /// estimate for the most demanding of their parameters.
    static func encoderWorkspaceBytes(levels: [Int32]) -> Int {
        levels.map { ZSTD_estimateCStreamSize_usingCParams(parameters(level: $0)) }.max()!
    }

    /// Bytes an encoder for `levels` allocates: its workspace and staging buffer.
    static func encoderBytes(levels: [Int32] = levels) -> Int { encoderWorkspaceBytes(levels: levels) + stagingBytes }

    /// Bytes a decoder allocates: its workspace and staging buffer.
    static var decoderBytes: Int { decoderWorkspaceBytes + stagingBytes }
}

/// CRC-32 with the IEEE polynomial, reflected (0xEDB88320), as zlib's `crc32` computes it, eight
/// bytes a step from eight 256-entry tables ("slicing-by-8": table k advances a byte k + 1
/// places). `update(update(0, a), b)` is the CRC of a followed by b, as `crc32(crc32(0, a), b)`.
enum SliceBy8CRC32 {
    /// Written once, by this initializer (Swift runs a static's initializer once, under a lock),
    /// and only read afterwards.
    nonisolated(unsafe) static let tables: UnsafePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            table[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return UnsafePointer(table)
    }()

    @inline(__always)
    static func update(_ crc: UInt32, _ start: UnsafePointer<UInt8>, count: Int) -> UInt32 {
        let table = tables
        var crc = ~crc
        var at = start
        var left = count
        @inline(__always) func look(_ slice: Int, _ index: UInt32) -> UInt32 { table[slice &* 256 &+ Int(index & 0xFF)] }
        while left >= 8 {
            let low = crc ^ UInt32(littleEndian: UnsafeRawPointer(at).loadUnaligned(as: UInt32.self))
            let high = UInt32(littleEndian: UnsafeRawPointer(at + 4).loadUnaligned(as: UInt32.self))
            crc = look(7, low) ^ look(6, low >> 8) ^ look(5, low >> 16) ^ look(4, low >> 24)
                ^ look(3, high) ^ look(2, high >> 8) ^ look(1, high >> 16) ^ look(0, high >> 24)
            at += 8
            left -= 8
        }
        while left > 0 {
            crc = look(0, crc ^ UInt32(at.pointee)) ^ (crc >> 8)
            at += 1
            left -= 1
        }
        return ~crc
    }
}

/// Samples as columns of raw bits, the encoder's input: `value(column:row:)` is the column's value
/// zero-extended to 64 bits (a signed column's two's-complement bits).
@_spi(Benchmarking) public protocol SampleColumnSource {
    var count: Int { get }
    func value(column: Int, row: Int) -> UInt64
}

/// A version 1 block's bytes as a column source (tests, the fuzz target, re-encoding).
@_spi(Benchmarking) public struct PlainBlockColumns: SampleColumnSource {
    let bytes: UnsafeRawBufferPointer
    public let count: Int

    /// Nil unless `bytes` is a version 1 block of exactly its length.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= SampleCodec.plainHeaderBytes, bytes[0] == 1 else { return nil }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard bytes.count == SampleCodec.plainSize(count: count) else { return nil }
        self.bytes = bytes
        self.count = count
    }

    @inline(__always)
    public func value(column: Int, row: Int) -> UInt64 {
        let width = SampleCodec.width(column)
        let at = SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * count + row * width
        switch width {
        case 8: return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        case 4: return UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case 2: return UInt64(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        default: return UInt64(bytes[at])
        }
    }
}

/// Encodes samples into version 3 blocks, or version 4 where Zstandard would not save an eighth of
/// the varint stream. The Zstandard context lives in a workspace allocated
/// once, here, sized for `levels` (a static context never allocates); with the staging buffer,
/// `encode` allocates nothing. One encoder per thread.
@_spi(Benchmarking) public final class SampleBlockEncoder {
    private let context: OpaquePointer
    private let workspace: UnsafeMutableRawPointer
    /// Bytes of the context's workspace.
    public let workspaceBytes: Int
    private let levels: [Int32]
    private let staging: UnsafeMutablePointer<UInt8>
    private var output = ZSTD_outBuffer()
    private var used = 0
    private var streamBytes = 0
    private var overflowed = false
    /// The level whose parameters the context holds (nil before the first block).
    private var level: Int32?

    /// An encoder for blocks at any of `levels` (Zstandard's: its fast levels below 0, 1 to 19 above).
    public init(levels: [Int32] = SampleCodec.levels) {
        precondition(!levels.isEmpty, "an encoder needs a level")
        self.levels = levels
        workspaceBytes = SampleCodec.encoderWorkspaceBytes(levels: levels)
        workspace = .allocate(byteCount: workspaceBytes, alignment: 64)
        // Only a workspace below the estimate fails here: a programmer error.
        guard let context = ZSTD_initStaticCCtx(workspace, workspaceBytes) else { preconditionFailure("ZSTD_initStaticCCtx failed") }
        self.context = context
        // The block's header holds what the frame header would repeat: the length (so no content
        // size), and a CRC-32 over the frame (so no checksum); the magic number is implied by
        // the block's version.
        for (parameter, value) in [
            (skygate_zstd_c_format, Int32(ZSTD_f_zstd1_magicless.rawValue)), (ZSTD_c_contentSizeFlag, 0),
            (ZSTD_c_checksumFlag, 0), (ZSTD_c_dictIDFlag, 0),
        ] {
            precondition(ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value)) == 0, "ZSTD_CCtx_setParameter failed")
        }
        staging = .allocate(capacity: SampleCodec.stagingBytes)
        staging.initialize(repeating: 0, count: SampleCodec.stagingBytes)
    }

    deinit {
        workspace.deallocate()
        staging.deallocate()
    }

    /// Encodes every row of `source` into `output` as one version 3 or 4 block and returns its
    /// length; nil when it does not fit `output` (the caller then stores the version 1 block,
    /// which readers take as well). `level`: one of the encoder's levels (`SampleCodec.chunkLevel` by
    /// default).
    public func encode<Source: SampleColumnSource>(
        _ source: Source, into output: UnsafeMutableRawBufferPointer, level blockLevel: Int32 = SampleCodec.chunkLevel
    ) -> Int? {
        let n = source.count
        guard let base = output.baseAddress, output.count > SampleCodec.headerBytes,
              SampleCodec.streamBytesMax(count: n) <= Int(UInt32.max) else { return nil }
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        if blockLevel != level {
            precondition(levels.contains(blockLevel), "level \(blockLevel) is not one the encoder was sized for")
            // Every parameter the level decides, set explicitly (the workspace was sized for them),
            // one call each: a switch of level allocates nothing either. Until all are set the
            // context holds no level, so a failure here is retried whole at the next block.
            level = nil
            let parameters = SampleCodec.parameters(level: blockLevel)
            func set(_ parameter: ZSTD_cParameter, _ value: UInt32) -> Bool {
                ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, Int32(value))) == 0
            }
            guard set(ZSTD_c_windowLog, parameters.windowLog), set(ZSTD_c_chainLog, parameters.chainLog),
                  set(ZSTD_c_hashLog, parameters.hashLog), set(ZSTD_c_searchLog, parameters.searchLog),
                  set(ZSTD_c_minMatch, parameters.minMatch), set(ZSTD_c_targetLength, parameters.targetLength),
                  set(ZSTD_c_strategy, parameters.strategy.rawValue)
            else { return nil }
            level = blockLevel
        }
        self.output = ZSTD_outBuffer(dst: base + SampleCodec.headerBytes, size: output.count - SampleCodec.headerBytes, pos: 0)
        used = 0
        streamBytes = 0
        overflowed = false
        for column in 0..<SampleCodec.columnCount {
            let width = SampleCodec.width(column)
            let mask = SampleCodec.mask(width: width)
            switch SampleCodec.coding(column) {
            case .deltaOfDelta:
                var previous: UInt64 = 0
                var previousDelta: Int64 = 0
                for row in 0..<n {
                    let value = source.value(column: column, row: row)
                    let delta = SampleCodec.signExtend((value &- previous) & mask, width: width)
                    put(SampleCodec.zigzag(delta &- previousDelta))
                    previousDelta = delta
                    previous = value
                }
            case .delta:
                var previous: UInt64 = 0
                for row in 0..<n {
                    let value = source.value(column: column, row: row)
                    put(SampleCodec.zigzag(SampleCodec.signExtend((value &- previous) & mask, width: width)))
                    previous = value
                }
            case .runs:
                var previous: UInt64 = 0
                var row = 0
                while row < n {
                    let value = source.value(column: column, row: row)
                    var end = row + 1
                    while end < n && source.value(column: column, row: end) == value { end += 1 }
                    put(SampleCodec.zigzag(SampleCodec.signExtend((value &- previous) & mask, width: width)))
                    put(UInt64(end - row))
                    previous = value
                    row = end
                }
            }
        }
        // A stream that never left the staging buffer can be stored instead of its frame (a longer
        // one is compressed as it goes: its frame is kept).
        let whole = streamBytes == 0 ? used : nil
        compressStaging(finish: true)
        var version = SampleCodec.formatVersion
        var length = SampleCodec.headerBytes + self.output.pos
        if let whole, overflowed || self.output.pos > whole - whole / 8 {
            guard SampleCodec.headerBytes + whole <= output.count else { return nil }
            (base + SampleCodec.headerBytes).copyMemory(from: staging, byteCount: whole)
            version = SampleCodec.storedFormatVersion
            length = SampleCodec.headerBytes + whole
            overflowed = false
        }
        guard !overflowed else { return nil }
        output.storeBytes(of: version, toByteOffset: 0, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        output.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 4, as: UInt32.self)
        output.storeBytes(of: UInt32(streamBytes).littleEndian, toByteOffset: 8, as: UInt32.self)
        let crc = SampleCodec.checksum(UnsafeRawBufferPointer(rebasing: output[0..<length]))
        output.storeBytes(of: crc.littleEndian, toByteOffset: 12, as: UInt32.self)
        return length
    }

    @inline(__always)
    private func put(_ value: UInt64) {
        if SampleCodec.stagingBytes - used < 10 { compressStaging(finish: false) }
        var rest = value
        while rest >= 0x80 {
            staging[used] = UInt8(truncatingIfNeeded: rest) | 0x80
            used += 1
            rest >>= 7
        }
        staging[used] = UInt8(rest)
        used += 1
    }

    /// Hands the staged varints to the compressor. One call: it takes all of its input unless the
    /// output is full, which is an overflow (so is a frame not finished by `ZSTD_e_end`).
    private func compressStaging(finish: Bool) {
        streamBytes += used
        defer { used = 0 }
        guard !overflowed else { return }
        var input = ZSTD_inBuffer(src: staging, size: used, pos: 0)
        let left = ZSTD_compressStream2(context, &output, &input, finish ? ZSTD_e_end : ZSTD_e_continue)
        if ZSTD_isError(left) != 0 || input.pos != input.size || (finish && left != 0) { overflowed = true }
    }
}

/// Decodes compressed blocks (version 3, version 4, and version 2 from older files) into version 1
/// blocks.
/// Total over any bytes: a block that is not exactly what an encoder writes (bad header, a CRC
/// mismatch, a frame or zlib stream that fails its checks or is cut short or runs on, a varint
/// stream of the wrong length, a run past the sample count) is refused with nil, and every loop
/// is bounded by the sample count or the input's length. The Zstandard context's workspace, the
/// zlib stream and the staging buffer are allocated once, here: a frame that asks for a window
/// past `SampleCodec.windowLog` is refused, not given memory.
@_spi(Benchmarking) public final class SampleBlockDecoder {
    private let context: OpaquePointer
    private let workspace: UnsafeMutableRawPointer
    private let inflater: UnsafeMutablePointer<z_stream>
    private let staging: UnsafeMutablePointer<UInt8>
    private var input = ZSTD_inBuffer()
    private var version: UInt8 = 0
    private var position = 0
    private var end = 0
    private var produced = 0
    private var streamBytes = 0
    private var ended = false
    private var failed = false

    public init() {
        let bytes = SampleCodec.decoderWorkspaceBytes
        workspace = .allocate(byteCount: bytes, alignment: 64)
        guard let context = ZSTD_initStaticDCtx(workspace, bytes) else { preconditionFailure("ZSTD_initStaticDCtx failed") }
        self.context = context
        for (parameter, value) in [
            (skygate_zstd_d_format, Int32(ZSTD_f_zstd1_magicless.rawValue)), (ZSTD_d_windowLogMax, Int32(SampleCodec.windowLog)),
        ] {
            precondition(ZSTD_isError(ZSTD_DCtx_setParameter(context, parameter, value)) == 0, "ZSTD_DCtx_setParameter failed")
        }
        inflater = .allocate(capacity: 1)
        inflater.initialize(to: z_stream())
        let status = inflateInit_(inflater, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit failed: \(status)")
        // Not zero-filled: a query makes a decoder, and only bytes a decompressor wrote are read.
        staging = .allocate(capacity: SampleCodec.stagingBytes)
    }

    deinit {
        inflateEnd(inflater)
        inflater.deallocate()
        workspace.deallocate()
        staging.deallocate()
    }

    /// Decodes the compressed block `input` into `output` as a version 1 block and returns its
    /// sample count; nil when `input` is not a valid compressed block, holds more than
    /// `samplesMax` samples, or its version 1 form does not fit `output`.
    public func decode(_ input: UnsafeRawBufferPointer, samplesMax: Int, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let n = SampleCodec.sampleCount(input), n <= samplesMax, SampleCodec.plainSize(count: n) <= output.count,
              let inputBase = input.baseAddress else { return nil }
        let declared = Int(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard declared <= SampleCodec.streamBytesMax(count: n),
              UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) == SampleCodec.checksum(input)
        else { return nil }
        version = input[0]
        let frame = inputBase + SampleCodec.headerBytes
        output.storeBytes(of: 1, toByteOffset: 0, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        output.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 4, as: UInt32.self)
        if version == SampleCodec.storedFormatVersion {
            // The stream is the rest of the block, read in place.
            guard declared == input.count - SampleCodec.headerBytes else { return nil }
            var varints = StagedVarints(base: frame.assumingMemoryBound(to: UInt8.self), end: declared)
            guard Self.decodeColumns(&varints, count: n, output), varints.position == declared else { return nil }
            return n
        }
        if version == SampleCodec.formatVersion {
            ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
            self.input = ZSTD_inBuffer(src: frame, size: input.count - SampleCodec.headerBytes, pos: 0)
        } else {
            inflateReset(inflater)
            inflater.pointee.next_in = UnsafeMutablePointer(mutating: frame.assumingMemoryBound(to: UInt8.self))
            inflater.pointee.avail_in = UInt32(input.count - SampleCodec.headerBytes)
        }
        position = 0
        end = 0
        produced = 0
        streamBytes = declared
        ended = false
        failed = false

        if declared <= SampleCodec.stagingBytes {
            // The whole stream fits the staging buffer (every block up to a few thousand
            // samples): decompress it in one go, check the frame, then decode the columns from
            // memory with the cursor in registers.
            refill()
            guard !failed, ended, produced == declared, inputLeft == 0 else { return nil }
            var varints = StagedVarints(base: UnsafePointer(staging), end: declared)
            guard Self.decodeColumns(&varints, count: n, output), varints.position == declared else { return nil }
            return n
        }
        var varints = StreamedVarints(decoder: self)
        guard Self.decodeColumns(&varints, count: n, output), !failed else { return nil }
        // Every byte of the varint stream used, the frame complete and nothing after it.
        guard position == end else { return nil }
        if !ended { refill() }
        guard !failed, ended, position == end, produced == streamBytes, inputLeft == 0 else { return nil }
        return n
    }

    /// Bytes of the block's frame or zlib stream not yet consumed.
    private var inputLeft: Int {
        version == SampleCodec.formatVersion ? input.size - input.pos : Int(inflater.pointee.avail_in)
    }

    /// Decodes every column of `n` samples from `varints` into the version 1 block `output`;
    /// false when the stream ends early, holds an over-long varint, or a run passes the count.
    @inline(__always)
    private static func decodeColumns<Source: VarintSource>(
        _ varints: inout Source, count n: Int, _ output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        for column in 0..<SampleCodec.columnCount {
            let at = SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * n
            let coding = SampleCodec.coding(column)
            // One loop per value width, so the store inside it is a single instruction.
            let decoded =
                switch SampleCodec.width(column) {
                case 8: decodeColumn(UInt64.self, coding, &varints, count: n, at: at, output)
                case 4: decodeColumn(UInt32.self, coding, &varints, count: n, at: at, output)
                case 2: decodeColumn(UInt16.self, coding, &varints, count: n, at: at, output)
                default: decodeColumn(UInt8.self, coding, &varints, count: n, at: at, output)
                }
            if !decoded { return false }
        }
        return true
    }

    /// Decodes one column of `n` values of type `T` into `output` from `start`; false when the
    /// varint stream ends early, holds an over-long varint, or a run passes the sample count.
    @inline(__always)
    private static func decodeColumn<T: FixedWidthInteger & UnsignedInteger, Source: VarintSource>(
        _: T.Type, _ coding: SampleColumnCoding, _ varints: inout Source, count n: Int, at start: Int,
        _ output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        let width = MemoryLayout<T>.size
        let mask = SampleCodec.mask(width: width)
        var at = start
        @inline(__always) func store(_ value: UInt64) {
            output.storeBytes(of: T(truncatingIfNeeded: value).littleEndian, toByteOffset: at, as: T.self)
            at &+= width
        }
        /// Hands each of the column's n varints to `take`: eight one-byte varints at once where
        /// the stream has them (a steady rate's time, small steps), one at a time otherwise.
        @inline(__always) func readEach(_ take: (UInt64) -> Void) -> Bool {
            var row = 0
            while n &- row >= 8 {
                if let word = varints.nextEightOneByte() {
                    for k in 0..<8 { take((word >> UInt64(k &* 8)) & 0xFF) }
                    row &+= 8
                } else {
                    guard let varint = varints.next() else { return false }
                    take(varint)
                    row &+= 1
                }
            }
            while row < n {
                guard let varint = varints.next() else { return false }
                take(varint)
                row &+= 1
            }
            return true
        }
        switch coding {
        case .deltaOfDelta:
            var previous: UInt64 = 0
            var previousDelta: Int64 = 0
            return readEach { varint in
                let delta = previousDelta &+ SampleCodec.unzigzag(varint)
                let value = (previous &+ UInt64(bitPattern: delta)) & mask
                store(value)
                // Re-derive the delta the encoder saw (the value's difference within the width).
                previousDelta = SampleCodec.signExtend((value &- previous) & mask, width: width)
                previous = value
            }
        case .delta:
            var previous: UInt64 = 0
            return readEach { varint in
                let value = (previous &+ UInt64(bitPattern: SampleCodec.unzigzag(varint))) & mask
                store(value)
                previous = value
            }
        case .runs:
            var previous: UInt64 = 0
            var filled = 0
            while filled < n {
                guard let varint = varints.next(), let length = varints.next(), length >= 1, length <= UInt64(n - filled)
                else { return false }
                let value = (previous &+ UInt64(bitPattern: SampleCodec.unzigzag(varint))) & mask
                for _ in 0..<Int(length) { store(value) }
                filled += Int(length)
                previous = value
            }
        }
        return true
    }

    /// The varints of a stream longer than the staging buffer, refilled as they are read.
    private struct StreamedVarints: VarintSource {
        unowned(unsafe) let decoder: SampleBlockDecoder
        @inline(__always) mutating func next() -> UInt64? { decoder.readVarint() }
        @inline(__always) mutating func nextEightOneByte() -> UInt64? { nil }
    }

    /// The next staged varint, refilling first when fewer than 10 bytes are staged.
    @inline(__always)
    fileprivate func readVarint() -> UInt64? {
        if end - position < 10 && !ended { refill() }
        return nextVarint(UnsafePointer(staging), at: &position, end: end)
    }

    /// Moves the unread tail (under 10 bytes) to the front and decompresses into the rest until it
    /// is full, the frame ends, or a call makes no progress. A decompression error, or more output
    /// than the header declared, fails the block.
    private func refill() {
        let tail = end - position
        for index in 0..<tail { staging[index] = staging[position + index] }
        position = 0
        end = tail
        let room = SampleCodec.stagingBytes - tail
        var got = 0
        if version == SampleCodec.formatVersion {
            var output = ZSTD_outBuffer(dst: staging + tail, size: room, pos: 0)
            // Each round consumes input or produces output, or the loop stops: bounded by both.
            while output.pos < output.size {
                let before = (input.pos, output.pos)
                let left = ZSTD_decompressStream(context, &output, &input)
                if ZSTD_isError(left) != 0 {
                    ended = true
                    failed = true
                    break
                }
                if left == 0 {
                    ended = true
                    break
                }
                if (input.pos, output.pos) == before { break }
            }
            got = output.pos
        } else {
            inflater.pointee.next_out = staging + tail
            inflater.pointee.avail_out = UInt32(room)
            let status = inflate(inflater, Z_NO_FLUSH)
            got = room - Int(inflater.pointee.avail_out)
            if status == Z_STREAM_END {
                ended = true
            } else if status != Z_OK {
                ended = true
                failed = true
            }
        }
        end += got
        produced += got
        if produced > streamBytes { failed = true }
    }
}

/// Where the decoder's column loops take their varints from.
private protocol VarintSource {
    /// The next varint (at most 10 bytes), nil at the end of the stream or on an 11-byte one.
    mutating func next() -> UInt64?
    /// The next eight varints as the bytes of a word, the first in the low byte, when each of
    /// them is one byte long and the source can read them at once; otherwise nil, and nothing is
    /// consumed (a stream decoded as it decompresses always says nil).
    mutating func nextEightOneByte() -> UInt64?
}

/// The varints of a stream held whole in memory, read through a cursor the column loops keep in
/// registers.
private struct StagedVarints: VarintSource {
    let base: UnsafePointer<UInt8>
    let end: Int
    private(set) var position = 0

    init(base: UnsafePointer<UInt8>, end: Int) {
        self.base = base
        self.end = end
    }

    @inline(__always)
    mutating func nextEightOneByte() -> UInt64? {
        guard end &- position >= 8 else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
        // A varint's last byte has its top bit clear: eight bytes without one are eight varints.
        guard word & 0x8080_8080_8080_8080 == 0 else { return nil }
        position &+= 8
        return word
    }

    @inline(__always)
    mutating func next() -> UInt64? { nextVarint(base, at: &position, end: end) }
}

/// The varint at `position` in `base[..<end]` (at most 10 bytes), advancing past it; nil at the
/// end or on an 11-byte one (the position is then left where it was or at the end).
@inline(__always)
private func nextVarint(_ base: UnsafePointer<UInt8>, at position: inout Int, end: Int) -> UInt64? {
    if end &- position >= 10 {
        // A whole varint is in memory: no end to check byte by byte (most values are one byte).
        let first = base[position]
        if first < 0x80 {
            position &+= 1
            return UInt64(first)
        }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        var at = position &+ 1
        for _ in 1..<10 {
            let byte = base[at]
            at &+= 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                position = at
                return result
            }
            shift &+= 7
        }
        return nil
    }
    var result: UInt64 = 0
    var shift: UInt64 = 0
    for _ in 0..<10 {
        guard position < end else { return nil }
        let byte = base[position]
        position &+= 1
        result |= UInt64(byte & 0x7F) << shift
        if byte < 0x80 { return result }
        shift &+= 7
    }
    return nil
}
