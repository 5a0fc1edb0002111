@_spi(Benchmarking) @testable import TelemetryStore
import CZlib
import CZstd
import Telemetry
import TelemetryWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The compressed block codec (format version 3, Zstandard; version 4, the varint stream stored;
/// and version 2, zlib, which older files hold): every block of random and adversarial columns
/// decodes back to the same version 1 bytes; the encoder stores what Zstandard would not shorten
/// by an eighth; the decoder refuses damaged, cut, padded and lying blocks of every version
/// without crashing;
/// the store writes compressed chunks and reads them back bit for bit.
@Suite struct SampleCodecTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Shapes a column can take, the adversarial ones first.
    enum Shape: CaseIterable {
        case random, extremes, wrapAround, constant, alternating, smallSteps, steadyRate, zero
    }

    /// The `count` raw values (low `width` bytes) of one column of the given shape.
    static func column(_ shape: Shape, width: Int, count: Int, _ random: inout SplitMix) -> [UInt64] {
        let mask = SampleCodec.mask(width: width)
        let top = mask, signBit = (mask >> 1) + 1
        let start = random.next() & mask
        return (0..<count).map { row in
            let r = UInt64(row)
            switch shape {
            case .random: return random.next() & mask
            // Unsigned and signed extremes in turn: every delta is the widest there is.
            case .extremes: return [0, top, signBit, signBit - 1][row % 4]
            // Counting up through the top of the width and on from zero.
            case .wrapAround: return (top &- 3 &+ r &* 7) & mask
            case .constant: return start
            case .alternating: return row % 2 == 0 ? start : ~start & mask
            case .smallSteps: return (start &+ (random.next() % 5) &- 2 &* r) & mask
            case .steadyRate: return (start &+ r &* 100_000 &+ (row % 7 == 0 ? 3 : 0)) & mask
            case .zero: return 0
            }
        }
    }

    /// A version 1 block with the given columns.
    static func plainBlock(_ columns: [[UInt64]], count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SampleCodec.plainSize(count: count))
        bytes[0] = 1
        withUnsafeBytes(of: UInt32(count).littleEndian) { for i in 0..<4 { bytes[4 + i] = $0[i] } }
        for column in 0..<SampleCodec.columnCount {
            let width = SampleCodec.width(column)
            for row in 0..<count {
                let at = SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * count + row * width
                for byte in 0..<width { bytes[at + byte] = UInt8(truncatingIfNeeded: columns[column][row] >> UInt64(byte * 8)) }
            }
        }
        return bytes
    }

    /// Encodes a version 1 block; nil when the encoder refused (output too small).
    static func encode(
        _ plain: [UInt8], encoder: SampleBlockEncoder, room: Int? = nil, level: Int32 = SampleCodec.chunkLevel
    ) -> [UInt8]? {
        plain.withUnsafeBytes { raw -> [UInt8]? in
            guard let source = PlainBlockColumns(raw) else { return nil }
            var output = [UInt8](repeating: 0, count: room ?? (2 * plain.count + 1_024))
            let written = output.withUnsafeMutableBytes { encoder.encode(source, into: $0, level: level) }
            return written.map { Array(output[0..<$0]) }
        }
    }

    static func decode(_ block: [UInt8], decoder: SampleBlockDecoder, samplesMax: Int = 1 << 20) -> [UInt8]? {
        guard let count = block.withUnsafeBytes({ SampleCodec.sampleCount($0) }), count <= samplesMax else { return nil }
        var output = [UInt8](repeating: 0xEE, count: SampleCodec.plainSize(count: count))
        let decoded = block.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { decoder.decode(input, samplesMax: samplesMax, into: $0) }
        }
        return decoded == nil ? nil : output
    }

    /// The varint stream of a version 3 block (its frame decompressed) or a version 4 one (as
    /// stored), nil if it does not have the declared length.
    static func varintStream(_ block: [UInt8]) -> [UInt8]? {
        let declared = block.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
        if block[0] == SampleCodec.storedFormatVersion {
            return block.count - SampleCodec.headerBytes == declared ? Array(block[SampleCodec.headerBytes...]) : nil
        }
        guard let context = ZSTD_createDCtx() else { return nil }
        defer { ZSTD_freeDCtx(context) }
        ZSTD_DCtx_setParameter(context, skygate_zstd_d_format, Int32(ZSTD_f_zstd1_magicless.rawValue))
        var stream = [UInt8](repeating: 0, count: declared)
        let got = stream.withUnsafeMutableBytes { out in
            block.withUnsafeBytes { ZSTD_decompressDCtx(context, out.baseAddress, declared, $0.baseAddress! + SampleCodec.headerBytes, block.count - SampleCodec.headerBytes) }
        }
        return got == declared ? stream : nil
    }

    /// `block`'s header with `version` and `frame` after it, the CRC made to match.
    static func sealed(_ block: [UInt8], version: UInt8, frame: [UInt8]) -> [UInt8] {
        var bytes = Array(block[0..<SampleCodec.headerBytes]) + frame
        bytes[0] = version
        let crc = bytes.withUnsafeBytes { SampleCodec.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[12 + i] = $0[i] } }
        return bytes
    }

    /// The version 2 block an older Skygate wrote for the same samples as the version 3 `block`:
    /// its varint stream as one zlib stream at level 6.
    static func zlibBlock(_ block: [UInt8]) -> [UInt8] {
        let stream = varintStream(block)!
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(UInt(stream.count))))
        var length = UInt(compressed.count)
        let status = compressed.withUnsafeMutableBufferPointer { out in
            stream.withUnsafeBufferPointer { compress2(out.baseAddress, &length, $0.baseAddress, UInt(stream.count), 6) }
        }
        precondition(status == Z_OK)
        return sealed(block, version: SampleCodec.zlibFormatVersion, frame: Array(compressed[0..<Int(length)]))
    }

    /// The version 3 block of the same samples as `block` (of version 3 or 4): its varint stream
    /// as one Zstandard frame at the chunk level, whether or not that pays.
    static func zstdBlock(_ block: [UInt8]) -> [UInt8] {
        let stream = varintStream(block)!
        let context = ZSTD_createCCtx()!
        defer { ZSTD_freeCCtx(context) }
        for (parameter, value) in [
            (skygate_zstd_c_format, Int32(ZSTD_f_zstd1_magicless.rawValue)), (ZSTD_c_contentSizeFlag, 0),
            (ZSTD_c_dictIDFlag, 0), (ZSTD_c_compressionLevel, SampleCodec.chunkLevel),
        ] {
            precondition(ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value)) == 0)
        }
        var frame = [UInt8](repeating: 0, count: ZSTD_compressBound(stream.count))
        let length = frame.withUnsafeMutableBytes { out in
            stream.withUnsafeBytes { ZSTD_compress2(context, out.baseAddress, out.count, $0.baseAddress, stream.count) }
        }
        precondition(ZSTD_isError(length) == 0)
        return sealed(block, version: SampleCodec.formatVersion, frame: Array(frame[0..<length]))
    }

    /// The version 4 block of the same samples as `block` (of version 3 or 4): its varint stream
    /// as it is.
    static func storedBlock(_ block: [UInt8]) -> [UInt8] {
        sealed(block, version: SampleCodec.storedFormatVersion, frame: varintStream(block)!)
    }

    /// A block of `version` for `plain`'s samples, whichever the encoder would choose: 3 or 4 as
    /// zstdBlock or storedBlock make it from the encoder's, 2 as zlibBlock does.
    static func block(_ plain: [UInt8], version: UInt8, encoder: SampleBlockEncoder = SampleBlockEncoder()) -> [UInt8] {
        let encoded = encode(plain, encoder: encoder)!
        switch version {
        case SampleCodec.zlibFormatVersion: return zlibBlock(encoded)
        case SampleCodec.storedFormatVersion: return storedBlock(encoded)
        default: return encoded[0] == version ? encoded : zstdBlock(encoded)
        }
    }

    /// All the versions a reader takes, as `block` makes them.
    static let compressedVersions = [SampleCodec.formatVersion, SampleCodec.storedFormatVersion, SampleCodec.zlibFormatVersion]

    @Test func everyShapeOfEveryColumnRoundTripsBitForBit() throws {
        let encoder = SampleBlockEncoder(), decoder = SampleBlockDecoder()
        var random = SplitMix(state: 23)
        var blocks = 0
        // The decoder reads a stream that fits its staging buffer from memory and a longer one
        // as it decompresses: both paths are taken.
        var (staged, streamed) = (0, 0)
        var written: [UInt8: Int] = [:]
        for count in [0, 1, 2, 3, 17, 1_000, 4_096] {
            for shape in Shape.allCases {
                // The shape in every column at once, then in one column with the others random.
                for focus in [-1] + Array(0..<SampleCodec.columnCount) where count > 1 || focus == -1 {
                    let columns = (0..<SampleCodec.columnCount).map { column in
                        Self.column(focus == -1 || focus == column ? shape : .random, width: SampleCodec.width(column), count: count, &random)
                    }
                    let plain = Self.plainBlock(columns, count: count)
                    let encoded = try #require(Self.encode(plain, encoder: encoder))
                    written[encoded[0], default: 0] += 1
                    let declared = encoded.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
                    // Zstandard's frame where it saves an eighth of the stream, the stream itself
                    // otherwise; a stream past the staging buffer is compressed as it goes (its
                    // frame is kept).
                    if encoded[0] == SampleCodec.formatVersion {
                        #expect(declared > SampleCodec.stagingBytes || encoded.count - SampleCodec.headerBytes <= declared - declared / 8)
                    } else {
                        #expect(encoded[0] == SampleCodec.storedFormatVersion && encoded.count == SampleCodec.headerBytes + declared)
                    }
                    if declared <= SampleCodec.stagingBytes { staged += 1 } else { streamed += 1 }
                    let decoded = Self.decode(encoded, decoder: decoder)
                    #expect(decoded == plain, "count \(count), shape \(shape), column \(focus)")
                    // The same samples in the other versions, by the same decoder: as an older
                    // Skygate stored them (zlib), and in the version the encoder did not choose.
                    #expect(Self.decode(Self.zlibBlock(encoded), decoder: decoder) == plain, "version 2, count \(count), shape \(shape)")
                    let other = encoded[0] == SampleCodec.formatVersion ? Self.storedBlock(encoded) : Self.zstdBlock(encoded)
                    #expect(Self.decode(other, decoder: decoder) == plain, "version \(other[0]), count \(count), shape \(shape)")
                    blocks += 1
                }
            }
        }
        #expect(blocks > 500)
        #expect(staged > 100 && streamed > 100, "staged \(staged), streamed \(streamed)")
        #expect(written[SampleCodec.formatVersion, default: 0] > 100 && written[SampleCodec.storedFormatVersion, default: 0] > 100, "\(written)")
    }

    @Test func theEncoderStoresWhatZstandardWouldNotShortenByAnEighth() throws {
        // A sparse drone's chunk (a few samples): stored; a steady flight's long chunk: compressed,
        // at the chunk level and at the recent blocks' level; noise: stored, up to a stream that
        // fits the staging buffer. A longer stream is compressed as the encoder goes, so its
        // frame is kept whatever it saves.
        let encoder = SampleBlockEncoder(), decoder = SampleBlockDecoder()
        var random = SplitMix(state: 0x5707E)
        func block(_ shape: (Int) -> Shape, count: Int) -> [UInt8] {
            let columns = (0..<SampleCodec.columnCount).map { Self.column(shape($0), width: SampleCodec.width($0), count: count, &random) }
            return Self.plainBlock(columns, count: count)
        }
        let flight: (Int) -> Shape = { $0 == 0 ? .steadyRate : [1, 2, 7, 13, 14, 15].contains($0) ? .constant : .smallSteps }
        for (plain, version, level) in [
            (block(flight, count: 4), SampleCodec.storedFormatVersion, SampleCodec.chunkLevel),
            (block(flight, count: 600), SampleCodec.formatVersion, SampleCodec.chunkLevel),
            (block(flight, count: 600), SampleCodec.formatVersion, SampleCodec.recentLevel),
            (block({ _ in .random }, count: 50), SampleCodec.storedFormatVersion, SampleCodec.chunkLevel),
            (block({ _ in .random }, count: 600), SampleCodec.storedFormatVersion, SampleCodec.chunkLevel),
            (block({ _ in .random }, count: 600), SampleCodec.storedFormatVersion, SampleCodec.recentLevel),
            (block({ _ in .random }, count: 3_000), SampleCodec.formatVersion, SampleCodec.chunkLevel),
        ] {
            let encoded = try #require(Self.encode(plain, encoder: encoder, level: level))
            let count = plain.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
            #expect(encoded[0] == version, "\(count) samples at level \(level)")
            #expect(Self.decode(encoded, decoder: decoder) == plain)
            let stream = try #require(Self.varintStream(encoded))
            // The rule, checked against a frame made outside the encoder (at the chunk level).
            if level == SampleCodec.chunkLevel && stream.count <= SampleCodec.stagingBytes {
                let framed = Self.zstdBlock(encoded).count - SampleCodec.headerBytes
                #expect((framed > stream.count - stream.count / 8) == (version == SampleCodec.storedFormatVersion), "\(framed) against \(stream.count)")
            }
            if count == 3_000 { #expect(stream.count > SampleCodec.stagingBytes) }
        }
        // A stored block needs room for the whole stream: with less the encoder refuses it (the
        // caller then keeps the version 1 block), as it refuses a frame that does not fit.
        let noise = block({ _ in .random }, count: 50)
        let stored = try #require(Self.encode(noise, encoder: encoder))
        #expect(Self.encode(noise, encoder: encoder, room: stored.count - 1) == nil)
        #expect(Self.encode(noise, encoder: encoder, room: stored.count) == stored)
    }

    @Test func eightOneByteVarintsAtOnceAndOneAtATimeAgree() throws {
        // The decoder takes eight one-byte varints at once where a delta column has them: a
        // column of small steps with one large step at each position (the eight-at-once read
        // falls back at every offset within and around a word), at sizes around multiples of 8.
        let encoder = SampleBlockEncoder(), decoder = SampleBlockDecoder()
        var random = SplitMix(state: 0x8B17E)
        for count in [7, 8, 9, 15, 16, 17, 40] {
            for jump in 0..<count {
                let columns = (0..<SampleCodec.columnCount).map { column -> [UInt64] in
                    let width = SampleCodec.width(column)
                    var values = Self.column(.smallSteps, width: width, count: count, &random)
                    if column != 1 && column != 2 && column < 13 {
                        values[jump] = values[jump] &+ (width >= 2 ? 1_000 : 100)
                        if width < 8 { values[jump] &= (1 << UInt64(width * 8)) - 1 }
                    }
                    return values
                }
                let plain = Self.plainBlock(columns, count: count)
                let encoded = try #require(Self.encode(plain, encoder: encoder))
                #expect(Self.decode(encoded, decoder: decoder) == plain, "count \(count), jump at \(jump)")
            }
        }
    }

    @Test func oneEncoderSwitchesLevelsPerBlockAsFreshEncodersWould() throws {
        // The store writer compresses recent blocks at level 1 and chunks at level 3 with one
        // encoder: each block comes out byte for byte as an encoder made for its level alone
        // writes it, and decodes to the same samples.
        let shared = SampleBlockEncoder(levels: [SampleCodec.recentLevel, 1, 3, 6, 9]), decoder = SampleBlockDecoder()
        var random = SplitMix(state: 0x1E7E1)
        for (index, level) in [SampleCodec.recentLevel, SampleCodec.chunkLevel, SampleCodec.recentLevel, 9, 1, 6, 6, 1, 3, SampleCodec.recentLevel].enumerated() {
            let count = 50 + index * 300
            let columns = (0..<SampleCodec.columnCount).map { column in
                Self.column(Shape.allCases[(index + column) % Shape.allCases.count], width: SampleCodec.width(column), count: count, &random)
            }
            let plain = Self.plainBlock(columns, count: count)
            let switched = try #require(Self.encode(plain, encoder: shared, level: level))
            let fresh = try #require(Self.encode(plain, encoder: SampleBlockEncoder(levels: [level]), level: level))
            #expect(switched == fresh, "level \(level)")
            #expect(Self.decode(switched, decoder: decoder) == plain)
        }
    }

    @Test func randomColumnMixesRoundTrip() throws {
        let encoder = SampleBlockEncoder(), decoder = SampleBlockDecoder()
        var random = SplitMix(state: 0x5EED)
        for _ in 0..<300 {
            let count = Int(random.next() % 700)
            let columns = (0..<SampleCodec.columnCount).map { column in
                Self.column(Shape.allCases[Int(random.next() % UInt64(Shape.allCases.count))],
                            width: SampleCodec.width(column), count: count, &random)
            }
            let plain = Self.plainBlock(columns, count: count)
            let encoded = try #require(Self.encode(plain, encoder: encoder))
            #expect(Self.decode(encoded, decoder: decoder) == plain)
        }
    }

    /// A drone's flight as the simulator sends it (10 Hz, slow climb, steady battery drain):
    /// under 8 bytes a sample, which is what the store's figure rests on.
    @Test func aSteadyFlightCompressesUnderEightBytesASample() throws {
        let count = 2_600
        var random = SplitMix(state: 7)
        var columns = [[UInt64]](repeating: [], count: SampleCodec.columnCount)
        var latitude: Int32 = 473_977_000, longitude: Int32 = 85_456_000, altitude: Int32 = 50_000
        for row in 0..<count {
            latitude &+= Int32(truncatingIfNeeded: 90 + Int(random.next() % 5))
            longitude &+= Int32(truncatingIfNeeded: 60 + Int(random.next() % 5))
            altitude &+= Int32(truncatingIfNeeded: Int(random.next() % 41) - 20)
            let values: [UInt64] = [
                1_767_225_600_000_000 + UInt64(row) * 100_000, 1_767_225_630_000_000, 42, UInt64(row),
                UInt64(UInt32(bitPattern: latitude)), UInt64(UInt32(bitPattern: longitude)), UInt64(UInt32(bitPattern: altitude)),
                0b1011, 1_000 + random.next() % 3, 700 + random.next() % 3, random.next() % 3, 9_000 + random.next() % 3,
                UInt64(16_800 - row / 10), 1, UInt64(100 - row / 100), 14,
            ]
            for column in 0..<SampleCodec.columnCount { columns[column].append(values[column]) }
        }
        let plain = Self.plainBlock(columns, count: count)
        let encoded = try #require(Self.encode(plain, encoder: SampleBlockEncoder()))
        #expect(Self.decode(encoded, decoder: SampleBlockDecoder()) == plain)
        let perSample = Double(encoded.count) / Double(count)
        #expect(perSample < 8, "\(perSample) bytes a sample")
        #expect(encoded.count * 5 < plain.count, "at least 5:1 against the plain block")
    }

    func sampleBlock(count: Int, seed: UInt64, version: UInt8 = SampleCodec.formatVersion) -> (plain: [UInt8], encoded: [UInt8]) {
        var random = SplitMix(state: seed)
        let columns = (0..<SampleCodec.columnCount).map { column in
            Self.column(column == 0 ? .steadyRate : .smallSteps, width: SampleCodec.width(column), count: count, &random)
        }
        let plain = Self.plainBlock(columns, count: count)
        return (plain, Self.block(plain, version: version))
    }

    @Test func theTableCRCIsZlibsCRC32AtEveryLengthAndSplit() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<700).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            for length in 0...buffer.count {
                let zlib = UInt32(truncatingIfNeeded: crc32(0, base, UInt32(length)))
                #expect(SliceBy8CRC32.update(0, base, count: length) == zlib, "length \(length)")
                // Chained as zlib's: the CRC of a head, continued over the rest.
                let split = length / 3
                #expect(SliceBy8CRC32.update(SliceBy8CRC32.update(0, base, count: split), base + split, count: length - split) == zlib)
            }
        }
        // Zlib's check value for "123456789".
        #expect(Array("123456789".utf8).withUnsafeBufferPointer { SliceBy8CRC32.update(0, $0.baseAddress!, count: 9) } == 0xCBF4_3926)
        // A block's checksum is the same CRC on either side of the table's limit.
        for length in [SampleCodec.headerBytes, 100, SampleCodec.tableCRCBytesMax, SampleCodec.tableCRCBytesMax + 1, 700] {
            bytes.prefix(length).withUnsafeBytes { block in
                let base = block.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let zlib = crc32(crc32(0, base, 12), base + SampleCodec.headerBytes, UInt32(length - SampleCodec.headerBytes))
                #expect(SampleCodec.checksum(block) == UInt32(truncatingIfNeeded: zlib), "block of \(length) bytes")
            }
        }
    }

    @Test(arguments: compressedVersions)
    func cutPaddedAndFlippedBlocksAreRefusedNotMisread(version: UInt8) {
        let decoder = SampleBlockDecoder()
        let (plain, encoded) = sampleBlock(count: 300, seed: 3, version: version)
        #expect(encoded[0] == version)
        #expect(Self.decode(encoded, decoder: decoder) == plain)
        // Every cut short of the whole block.
        for length in 0..<encoded.count {
            #expect(Self.decode(Array(encoded[0..<length]), decoder: decoder) == nil, "cut at \(length)")
        }
        // Anything after the frame or zlib stream.
        #expect(Self.decode(encoded + [0], decoder: decoder) == nil)
        #expect(Self.decode(encoded + encoded, decoder: decoder) == nil)
        // Every single-bit flip: refused (the CRC-32; zlib's Adler-32 alone let some through that
        // decoded to other samples, and the frame has no checksum), never a different block.
        var accepted = 0
        for index in 0..<encoded.count {
            for bit in 0..<8 {
                var damaged = encoded
                damaged[index] ^= 1 << bit
                if let decoded = Self.decode(damaged, decoder: decoder) {
                    accepted += 1
                    #expect(decoded == plain, "a flip at \(index) bit \(bit) read back different samples")
                }
            }
        }
        #expect(accepted == 0)
        // The decoder is not left in a bad state by all that.
        #expect(Self.decode(encoded, decoder: decoder) == plain)
    }

    /// 50 samples: the stream is decoded from the staging buffer; 6,000: past it, as it decompresses.
    @Test(arguments: compressedVersions, [50, 6_000])
    func lyingHeadersAreRefused(version blockVersion: UInt8, count: Int) {
        let decoder = SampleBlockDecoder()
        let (_, encoded) = sampleBlock(count: count, seed: 4, version: blockVersion)
        let streamLength = encoded.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
        #expect((streamLength > SampleCodec.stagingBytes) == (count > 50), "stream of \(streamLength) bytes")
        let fewer = UInt32(count - 1), more = UInt32(count + 1)
        func with(_ offset: Int, _ value: UInt32) -> [UInt8] {
            var bytes = encoded
            withUnsafeBytes(of: value.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
            return bytes
        }
        #expect(Self.decode(with(4, fewer), decoder: decoder) == nil, "one sample fewer than the stream holds")
        #expect(Self.decode(with(4, more), decoder: decoder) == nil, "one sample more")
        #expect(Self.decode(with(4, .max), decoder: decoder) == nil, "a count past any limit")
        let length = encoded.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
        #expect(Self.decode(with(8, length - 1), decoder: decoder) == nil)
        #expect(Self.decode(with(8, length + 1), decoder: decoder) == nil)
        #expect(Self.decode(with(8, .max), decoder: decoder) == nil)
        // The same lies with the CRC made to match: the decoder's own checks refuse them.
        func resealed(_ bytes: [UInt8]) -> [UInt8] {
            var bytes = bytes
            let crc = bytes.withUnsafeBytes { SampleCodec.checksum($0) }
            withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[12 + i] = $0[i] } }
            return bytes
        }
        #expect(Self.decode(resealed(encoded), decoder: decoder) != nil)
        for lie in [with(4, fewer), with(4, more), with(4, .max), with(8, length - 1), with(8, length + 1), with(8, .max)] {
            #expect(Self.decode(resealed(lie), decoder: decoder) == nil)
        }
        if blockVersion != SampleCodec.storedFormatVersion {
            // (A stored stream has no frame to check: under a matching CRC, damage is whatever
            // varints it makes. The CRC is its check.)
            var garbage = encoded
            garbage[SampleCodec.headerBytes + 5] ^= 0xFF
            #expect(Self.decode(resealed(garbage), decoder: decoder) == nil, "a damaged frame under a matching CRC")
        }
        // Another version's reading of this block's bytes, the CRC made to match.
        for other in Self.compressedVersions where other != blockVersion {
            var swapped = encoded
            swapped[0] = other
            #expect(Self.decode(resealed(swapped), decoder: decoder) == nil, "version \(blockVersion) read as \(other)")
        }
        for other: UInt8 in [0, 1, 5, 0xFF] {
            var version = encoded
            version[0] = other
            #expect(Self.decode(version, decoder: decoder) == nil)
            #expect(Self.decode(resealed(version), decoder: decoder) == nil)
        }
        var reserved = encoded
        reserved[2] = 1
        #expect(Self.decode(reserved, decoder: decoder) == nil)
        // A valid block above the reader's limit, and an output too small for it.
        #expect(Self.decode(encoded, decoder: decoder, samplesMax: count - 1) == nil)
        var small = [UInt8](repeating: 0, count: SampleCodec.plainSize(count: count) - 1)
        let decoded = encoded.withUnsafeBytes { input in small.withUnsafeMutableBytes { decoder.decode(input, samplesMax: 10_000, into: $0) } }
        #expect(decoded == nil)
    }

    @Test func randomBytesAreRefused() {
        let decoder = SampleBlockDecoder()
        var random = SplitMix(state: 99)
        var accepted = 0
        for round in 0..<2_000 {
            var bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if round % 2 == 0 && bytes.count >= 12 {
                // A plausible header over random bytes: the CRC, frame or zlib stream must refuse it.
                bytes[0] = [2, 3, 4][round / 2 % 3]; bytes[1] = 0; bytes[2] = 0; bytes[3] = 0
                bytes[4] = UInt8(random.next() % 8); bytes[5] = 0; bytes[6] = 0; bytes[7] = 0
            }
            if Self.decode(bytes, decoder: decoder) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    /// A frame whose header asks for a window past `SampleCodec.windowLog` is refused, CRC and all
    /// matching, before the decoder would need memory it does not have; the same stream framed
    /// with the encoder's window decodes.
    @Test func aFrameAskingForALargerWindowIsRefused() throws {
        let (plain, encoded) = sampleBlock(count: 2_000, seed: 8)
        let stream = try #require(Self.varintStream(encoded))
        func framed(windowLog: Int32) throws -> [UInt8] {
            let context = try #require(ZSTD_createCCtx())
            defer { ZSTD_freeCCtx(context) }
            for (parameter, value) in [
                (skygate_zstd_c_format, Int32(ZSTD_f_zstd1_magicless.rawValue)), (ZSTD_c_contentSizeFlag, 0),
                (ZSTD_c_windowLog, windowLog), (ZSTD_c_compressionLevel, 3),
            ] {
                #expect(ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value)) == 0)
            }
            // Streamed, so the library does not know the size and keeps the window asked for
            // (a one-shot call would shrink it to fit the stream).
            var frame = [UInt8](repeating: 0, count: ZSTD_compressBound(stream.count) + 64)
            let length = frame.withUnsafeMutableBytes { out in
                stream.withUnsafeBytes { source in
                    var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                    _ = ZSTD_compressStream2(context, &output, &input, ZSTD_e_continue)
                    return ZSTD_compressStream2(context, &output, &input, ZSTD_e_end) == 0 ? output.pos : 0
                }
            }
            #expect(length > 0)
            return Self.sealed(encoded, version: SampleCodec.formatVersion, frame: Array(frame[0..<length]))
        }
        let decoder = SampleBlockDecoder()
        #expect(Self.decode(try framed(windowLog: Int32(SampleCodec.windowLog)), decoder: decoder) == plain)
        #expect(Self.decode(try framed(windowLog: Int32(SampleCodec.windowLog) + 1), decoder: decoder) == nil)
        #expect(Self.decode(try framed(windowLog: 27), decoder: decoder) == nil)
        #expect(Self.decode(encoded, decoder: decoder) == plain, "and the decoder goes on")
    }

    /// The codec's memory is fixed when it is made and is what `/api/stats` counts under
    /// `store_buffers`: the encoder's workspace is the library's estimate for its levels, and the
    /// writer's share grows by exactly one encoder when blocks are compressed (its decoder, which
    /// reads compressed recent blocks of older runs too, is counted either way).
    @Test func theCodecsMemoryIsWhatTheMemoryReportCounts() {
        let encoder = SampleBlockEncoder()
        #expect(encoder.workspaceBytes + SampleCodec.stagingBytes == SampleCodec.encoderBytes())
        // docs/storage.md: 1.30 MB for levels -1 and 3 and 0.62 MB for the decoder with libzstd
        // 1.5.4; another release of the library may estimate a little differently.
        #expect((1_000_000...1_600_000).contains(encoder.workspaceBytes), "\(encoder.workspaceBytes)")
        #expect((500_000...800_000).contains(SampleCodec.decoderWorkspaceBytes), "\(SampleCodec.decoderWorkspaceBytes)")
        var compressed = StoreOptions()
        compressed.compressesBlocks = true
        var plain = compressed
        plain.compressesBlocks = false
        #expect(TelemetryStore.writerBufferBytes(options: compressed) - TelemetryStore.writerBufferBytes(options: plain)
            == SampleCodec.encoderBytes())
    }

    @Test func anEncoderOutOfRoomSaysSoAndTheArenaFallsBackToPlain() throws {
        let (plain, encoded) = sampleBlock(count: 100, seed: 5)
        let encoder = SampleBlockEncoder()
        #expect(Self.encode(plain, encoder: encoder, room: encoded.count - 1) == nil)
        #expect(Self.encode(plain, encoder: encoder, room: encoded.count) == encoded)
        // Random columns do not compress below the plain size: the writer stores them plain.
        var random = SplitMix(state: 6)
        let columns = (0..<SampleCodec.columnCount).map { Self.column(.random, width: SampleCodec.width($0), count: 3, &random) }
        let noise = Self.plainBlock(columns, count: 3)
        #expect(Self.encode(noise, encoder: encoder, room: noise.count) == nil)
    }

    /// The store writes compressed recent blocks and chunks, reads every sample back bit for bit
    /// from both, and the chunks take a fraction of the plain size.
    @Test func theStoreWritesCompressedBlocksAndReadsThemBack() throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.compactionSamples = 20_000
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            let columns = SampleColumns(capacity: 5_000)
            var expected: [StoredSample] = []
            for batch in 0..<6 {
                columns.removeAll()
                for index in 0..<5_000 {
                    let drone = UInt32(index % 50) + 1
                    let step = batch * 100 + index / 50
                    let sample = WireSample(
                        latitudeE7: 473_977_000 + Int32(step * 93), longitudeE7: 85_456_000 - Int32(step * 61),
                        altitudeMM: 50_000 + Int32(step % 40), velocityNorthCMS: 1_000, velocityEastCMS: -700,
                        velocityDownCMS: Int16(step % 3) - 1, headingCentidegrees: 9_000, batteryMillivolts: 16_800 - UInt16(step / 10),
                        batteryPercent: 90, satellites: 14, status: .gpsFix)
                    let time = 1_767_225_600_000_000 + UInt64(step) * 100_000
                    columns.append(sample, droneID: drone, sequence: UInt32(step), timestampMicroseconds: time)
                }
                _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
                for index in 0..<5_000 {
                    expected.append(StoredSample(
                        drone: DroneIdentity(protocol: .skygate, number: columns.droneIDs[index]), sequence: columns.sequences[index],
                        timestampMicroseconds: columns.timestampsMicroseconds[index], sample: columns.sample(at: index),
                        storedMicroseconds: nil))
                }
            }
            // Before compaction (all recent) and after it (all chunks).
            for phase in 0..<2 {
                if phase == 1 { _ = try store.compactIfDue() }
                // Drones 1...50 fall in two groups of 32 drone numbers: two blocks a batch.
                #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == (phase == 0 ? 12 : 0))
                let table = phase == 0 ? "telemetry_recent" : "telemetry_chunk"
                #expect(try rawInteger(path, "SELECT count(*) FROM \(table) WHERE substr(data, 1, 1) = x'03'")
                    == (try rawInteger(path, "SELECT count(*) FROM \(table)")))
                let bytes = try rawInteger(path, "SELECT sum(length(data)) FROM \(table)")
                #expect(bytes * 5 < 30_000 * Int64(SampleBlock.bytesPerSample), "\(table): \(bytes) bytes")
                var read: [StoredSample] = []
                try store.readSamples { page in read.append(contentsOf: page); return true }
                #expect(read.count == expected.count)
                let key: (StoredSample) -> [UInt64] = { [$0.drone.storeKey, $0.timestampMicroseconds] }
                let sortedExpected = expected.sorted { key($0).lexicographicallyPrecedes(key($1)) }
                #expect(zip(read, sortedExpected).allSatisfy { $0.drone == $1.drone && $0.sequence == $1.sequence
                    && $0.timestampMicroseconds == $1.timestampMicroseconds && $0.sample == $1.sample })
                #expect(try store.latestSamples().count == 50)
            }
        }
    }
}

/// A new file uses incremental auto-vacuum, so the shutdown checkpoint gives back the pages that
/// compaction freed (the recent blocks) instead of leaving them in the file.
@Suite struct FreePagesTests {
    @Test func theShutdownCheckpointGivesFreePagesBack() throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.compactionSamples = 1
            let store = try TelemetryStore(path: path, options: options)
            let columns = SampleColumns(capacity: 20_000)
            for index in 0..<20_000 {
                columns.append(
                    WireSample(latitudeE7: Int32(index * 7919 % 100_003), longitudeE7: Int32(index), altitudeMM: Int32(index % 977), status: .gpsFix),
                    droneID: UInt32(index % 500) + 1, sequence: UInt32(index / 500),
                    timestampMicroseconds: 1_767_225_600_000_000 + UInt64(index / 500) * 100_000 + UInt64(index % 500))
            }
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            _ = try store.compactIfDue()
            #expect(try rawInteger(path, "PRAGMA auto_vacuum") == 2, "incremental")
            let freeBefore = try rawInteger(path, "PRAGMA freelist_count")
            #expect(freeBefore > 0, "compaction deleted the recent blocks")
            let pagesBefore = try rawInteger(path, "PRAGMA page_count")
            try store.checkpoint()
            #expect(try rawInteger(path, "PRAGMA freelist_count") == 0)
            #expect(try rawInteger(path, "PRAGMA page_count") == pagesBefore - freeBefore)
            #expect(try store.rowCount() == 20_000)
            store.close()
            var status = stat()
            #expect(stat(path, &status) == 0 && Int64(status.st_size) <= (pagesBefore - freeBefore) * 4_096)
        }
    }
}
