import CZlib

// The compressed sample block (format version 2, docs/storage.md "Compressed blocks"). This file
// depends on zlib only, so Scripts/fuzz-inputs.sh can compile it alone into the codec's fuzz target.
//
// A version 2 block holds the same 16 columns as a version 1 block (`SampleBlock`), each encoded
// by its nature into one stream of zig-zag varints, and the stream deflated as one zlib stream:
//
// | offset | size | field |
// | --- | --- | --- |
// | 0 | 1 | format version, 2 |
// | 1 | 3 | zero |
// | 4 | 4 | sample count n, little-endian `UInt32` |
// | 8 | 4 | length of the varint stream before deflate, little-endian `UInt32` |
// | 12 | 4 | CRC-32 (zlib's `crc32`, the IEEE polynomial) of bytes 0..<12 and 16..<end, little-endian |
// | 16 | | the varint stream as one complete zlib stream (header, deflate, Adler-32) |
//
// The CRC is there because zlib's Adler-32 is not enough: a flipped bit in a dynamic Huffman
// table swaps two symbols' codes, and for a few kilobytes of varints Adler-32 often still matches
// (SampleCodecTests found 5 such flips in one 2.4 KB block that decoded to different samples). A
// CRC-32 catches every single-bit flip and burst up to 32 bits, and is checked before inflating.
//
// Column codings (every difference is taken modulo the column's width and read back as a signed
// value of that width, so wrap-around costs one small varint and every bit pattern round-trips):
// - delta of delta: time_us (a steady rate costs one byte a sample before deflate);
// - delta: sequence, positions, velocities, heading, battery_mv;
// - runs (value's delta from the previous run, run length): stored_us, drone, status, protocol,
//   battery_pct, satellites (constant over a chunk, or changing a few times).

/// How one column is encoded.
enum SampleColumnCoding {
    case deltaOfDelta, delta, runs
}

@_spi(Benchmarking) public enum SampleCodec {
    public static let formatVersion: UInt8 = 2
    public static let headerBytes = 16
    /// Columns of a block, in the version 1 layout's order.
    public static let columnCount = 16
    /// Bytes per sample of the version 1 layout (the decoder's output).
    public static let plainBytesPerSample = 53
    public static let plainHeaderBytes = 8
    /// zlib level for the varint stream (6, zlib's default: measured in docs/performance.md,
    /// "Compressed chunks").
    public static let zlibLevel: Int32 = 6
    /// zlib level for a recent block (a committed batch's share of a drone group), which lives
    /// until the next compaction re-encodes its rows into chunks at `zlibLevel`: it is written
    /// once and read about once, so its encode time counts and its size barely does (a clean
    /// stop compacts every recent block). Level 1 (docs/performance.md, "Recent blocks at zlib
    /// level 1").
    public static let recentZlibLevel: Int32 = 1
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
    static func streamBytesMax(count: Int) -> Int {
        var perSample = 0
        for column in 0..<columnCount {
            perSample += varintBytesMax(width: width(column)) + (coding(column) == .runs ? 5 : 0)
        }
        return count * perSample
    }

    /// Blocks up to this many bytes are checksummed by `SliceBy8CRC32`, longer ones by zlib.
    static let tableCRCBytesMax = 512

    /// CRC-32 of a version 2 block's bytes but the CRC field itself. zlib's `crc32` costs ~100 to
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

    /// The sample count of a version 2 block's header, nil when `bytes` is no version 2 block.
    public static func sampleCount(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= headerBytes, bytes[0] == formatVersion, bytes[1] == 0, bytes[2] == 0, bytes[3] == 0 else { return nil }
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

/// Encodes samples into version 2 blocks. The zlib stream and the staging buffer are allocated
/// once, here; `encode` allocates nothing. One encoder per thread.
@_spi(Benchmarking) public final class SampleBlockEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let staging: UnsafeMutablePointer<UInt8>
    private var used = 0
    private var streamBytes = 0
    private var overflowed = false
    private var level: Int32

    public init(level: Int32 = SampleCodec.zlibLevel) {
        self.level = level
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit_(stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Only running out of memory or a zlib/header mismatch fails here: programmer errors.
        precondition(status == Z_OK, "deflateInit failed: \(status)")
        staging = .allocate(capacity: SampleCodec.stagingBytes)
        staging.initialize(repeating: 0, count: SampleCodec.stagingBytes)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        staging.deallocate()
    }

    /// Encodes every row of `source` into `output` as one version 2 block and returns its length;
    /// nil when it does not fit `output` (the caller then stores the version 1 block, which
    /// readers take as well). `level`: zlib's, for this block (the encoder's own by default).
    public func encode<Source: SampleColumnSource>(
        _ source: Source, into output: UnsafeMutableRawBufferPointer, level blockLevel: Int32? = nil
    ) -> Int? {
        let n = source.count
        guard let base = output.baseAddress, output.count > SampleCodec.headerBytes,
              SampleCodec.streamBytesMax(count: n) <= Int(UInt32.max) else { return nil }
        deflateReset(stream)
        if let blockLevel, blockLevel != level {
            // Right after a reset nothing is pending, so this only changes the level.
            guard deflateParams(stream, blockLevel, Z_DEFAULT_STRATEGY) == Z_OK else { return nil }
            level = blockLevel
        }
        stream.pointee.next_out = (base + SampleCodec.headerBytes).assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(clamping: output.count - SampleCodec.headerBytes)
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
        deflateStaging(finish: true)
        guard !overflowed else { return nil }
        output.storeBytes(of: SampleCodec.formatVersion, toByteOffset: 0, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        output.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 4, as: UInt32.self)
        output.storeBytes(of: UInt32(streamBytes).littleEndian, toByteOffset: 8, as: UInt32.self)
        let length = SampleCodec.headerBytes + Int(stream.pointee.total_out)
        let crc = SampleCodec.checksum(UnsafeRawBufferPointer(rebasing: output[0..<length]))
        output.storeBytes(of: crc.littleEndian, toByteOffset: 12, as: UInt32.self)
        return length
    }

    @inline(__always)
    private func put(_ value: UInt64) {
        if SampleCodec.stagingBytes - used < 10 { deflateStaging(finish: false) }
        var rest = value
        while rest >= 0x80 {
            staging[used] = UInt8(truncatingIfNeeded: rest) | 0x80
            used += 1
            rest >>= 7
        }
        staging[used] = UInt8(rest)
        used += 1
    }

    /// Hands the staged varints to deflate. One call: with the input complete zlib consumes it
    /// all unless the output is full, which is an overflow (so is an unfinished Z_FINISH).
    private func deflateStaging(finish: Bool) {
        streamBytes += used
        defer { used = 0 }
        guard !overflowed else { return }
        stream.pointee.next_in = staging
        stream.pointee.avail_in = UInt32(used)
        let status = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
        if finish {
            if status != Z_STREAM_END { overflowed = true }
        } else if stream.pointee.avail_in != 0 || status == Z_STREAM_ERROR {
            overflowed = true
        }
    }
}

/// Decodes version 2 blocks into version 1 blocks. Total over any bytes: a block that is not
/// exactly what the encoder writes (bad header, a CRC mismatch, a zlib stream that fails its checks or is cut
/// short or runs on, a varint stream of the wrong length, a run past the sample count) is refused
/// with nil, and every loop is bounded by the sample count or the input's length. The zlib stream
/// and the staging buffer are allocated once, here.
@_spi(Benchmarking) public final class SampleBlockDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let staging: UnsafeMutablePointer<UInt8>
    private var position = 0
    private var end = 0
    private var produced = 0
    private var streamBytes = 0
    private var ended = false
    private var failed = false

    public init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit failed: \(status)")
        // Not zero-filled: a query makes a decoder, and only bytes inflate wrote are ever read.
        staging = .allocate(capacity: SampleCodec.stagingBytes)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        staging.deallocate()
    }

    /// Decodes the version 2 block `input` into `output` as a version 1 block and returns its
    /// sample count; nil when `input` is not a valid version 2 block, holds more than
    /// `samplesMax` samples, or its version 1 form does not fit `output`.
    public func decode(_ input: UnsafeRawBufferPointer, samplesMax: Int, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let n = SampleCodec.sampleCount(input), n <= samplesMax, SampleCodec.plainSize(count: n) <= output.count,
              let inputBase = input.baseAddress else { return nil }
        let declared = Int(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard declared <= SampleCodec.streamBytesMax(count: n),
              UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) == SampleCodec.checksum(input)
        else { return nil }
        inflateReset(stream)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: (inputBase + SampleCodec.headerBytes).assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count - SampleCodec.headerBytes)
        position = 0
        end = 0
        produced = 0
        streamBytes = declared
        ended = false
        failed = false

        output.storeBytes(of: 1, toByteOffset: 0, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        output.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        output.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 4, as: UInt32.self)
        for column in 0..<SampleCodec.columnCount {
            let at = SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * n
            let coding = SampleCodec.coding(column)
            // One loop per value width, so the store inside it is a single instruction.
            let decoded =
                switch SampleCodec.width(column) {
                case 8: decodeColumn(UInt64.self, coding, count: n, at: at, output)
                case 4: decodeColumn(UInt32.self, coding, count: n, at: at, output)
                case 2: decodeColumn(UInt16.self, coding, count: n, at: at, output)
                default: decodeColumn(UInt8.self, coding, count: n, at: at, output)
                }
            if !decoded || failed { return nil }
        }
        // Every byte of the varint stream used, the zlib stream complete and nothing after it.
        guard position == end else { return nil }
        if !ended { refill() }
        guard !failed, ended, position == end, produced == streamBytes, stream.pointee.avail_in == 0 else { return nil }
        return n
    }

    /// Decodes one column of `n` values of type `T` into `output` from `start`; false when the
    /// varint stream ends early, holds an over-long varint, or a run passes the sample count.
    @inline(__always)
    private func decodeColumn<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _ coding: SampleColumnCoding, count n: Int, at start: Int, _ output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        let width = MemoryLayout<T>.size
        let mask = SampleCodec.mask(width: width)
        var at = start
        @inline(__always) func store(_ value: UInt64) {
            output.storeBytes(of: T(truncatingIfNeeded: value).littleEndian, toByteOffset: at, as: T.self)
            at &+= width
        }
        switch coding {
        case .deltaOfDelta:
            var previous: UInt64 = 0
            var previousDelta: Int64 = 0
            for _ in 0..<n {
                guard let varint = readVarint() else { return false }
                let delta = previousDelta &+ SampleCodec.unzigzag(varint)
                let value = (previous &+ UInt64(bitPattern: delta)) & mask
                store(value)
                // Re-derive the delta the encoder saw (the value's difference within the width).
                previousDelta = SampleCodec.signExtend((value &- previous) & mask, width: width)
                previous = value
            }
        case .delta:
            var previous: UInt64 = 0
            for _ in 0..<n {
                guard let varint = readVarint() else { return false }
                let value = (previous &+ UInt64(bitPattern: SampleCodec.unzigzag(varint))) & mask
                store(value)
                previous = value
            }
        case .runs:
            var previous: UInt64 = 0
            var filled = 0
            while filled < n {
                guard let varint = readVarint(), let length = readVarint(), length >= 1, length <= UInt64(n - filled) else { return false }
                let value = (previous &+ UInt64(bitPattern: SampleCodec.unzigzag(varint))) & mask
                for _ in 0..<Int(length) { store(value) }
                filled += Int(length)
                previous = value
            }
        }
        return true
    }

    /// The next varint (at most 10 bytes), nil at the end of the stream or on an 11-byte one.
    @inline(__always)
    private func readVarint() -> UInt64? {
        if end - position >= 10 {
            // A whole varint is staged: no end to check byte by byte (most values are one byte).
            let first = staging[position]
            if first < 0x80 {
                position += 1
                return UInt64(first)
            }
            var result = UInt64(first & 0x7F)
            var shift: UInt64 = 7
            var at = position + 1
            for _ in 1..<10 {
                let byte = staging[at]
                at += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 {
                    position = at
                    return result
                }
                shift += 7
            }
            return nil
        }
        if !ended { refill() }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            guard position < end else { return nil }
            let byte = staging[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    /// Moves the unread tail (under 10 bytes) to the front and inflates once into the rest. An
    /// inflate error, or more output than the header declared, fails the block.
    private func refill() {
        let tail = end - position
        for index in 0..<tail { staging[index] = staging[position + index] }
        position = 0
        end = tail
        stream.pointee.next_out = staging + tail
        stream.pointee.avail_out = UInt32(SampleCodec.stagingBytes - tail)
        let status = inflate(stream, Z_NO_FLUSH)
        let got = SampleCodec.stagingBytes - tail - Int(stream.pointee.avail_out)
        end += got
        produced += got
        if status == Z_STREAM_END {
            ended = true
        } else if status != Z_OK {
            ended = true
            failed = true
        }
        if produced > streamBytes { failed = true }
    }
}
