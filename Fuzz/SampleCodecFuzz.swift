// libFuzzer target for the compressed sample block codec (Sources/TelemetryStore/SampleCodec.swift,
// block format versions 3, 4 and 2). Built by Scripts/fuzz-inputs.sh codec: the codec's one source
// file and this file, with the system zstd and zlib (docs/testing.md).
//
// The first byte of an input picks what the rest is:
// - even: a stored block as a reader finds it in the database; with bit 1 also set, its CRC-32 is
//   first made to match (as the skyrec target repairs CRCs), so mutations reach the frame
//   and the column decoding behind the CRC check. Oracle beyond "no crash, no sanitizer report,
//   no hang": a block the decoder accepts is a version 1 block of the count its header declared,
//   and encoding that block again and decoding the result gives the same bytes (the decoder never
//   accepts a block it would read differently the next time).
// - odd: column values. The bytes fill a version 1 block of as many samples as they cover
//   (at most 4,096), which must encode and decode back to exactly those bytes.

import CZlib
import CZstd
import Glibc

let samplesMax = 4_096
let encoder = SampleBlockEncoder()
let decoder = SampleBlockDecoder()
let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: SampleCodec.plainSize(count: samplesMax), alignment: 16)
let again = UnsafeMutableRawBufferPointer.allocate(byteCount: SampleCodec.plainSize(count: samplesMax), alignment: 16)
// Room for an encoding of any block: the plain size is not always enough for random columns.
let resealed = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: SampleCodec.streamBytesMax(count: samplesMax) * 2 + 1_024, alignment: 16)

/// Encodes the version 1 block `block` (which must be one), decodes it and checks it came back.
func roundTrip(_ block: UnsafeRawBufferPointer) {
    guard let source = PlainBlockColumns(block) else { preconditionFailure("not a version 1 block") }
    guard let length = encoder.encode(source, into: encoded) else { preconditionFailure("the encoder ran out of room") }
    let decoded = decoder.decode(UnsafeRawBufferPointer(rebasing: encoded[0..<length]), samplesMax: samplesMax, into: again)
    precondition(decoded == source.count, "an encoded block did not decode")
    precondition(again.prefix(block.count).elementsEqual(block), "a block did not read back bit for bit")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSampleCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        var body = body
        if data[0] & 2 != 0 && body.count >= SampleCodec.headerBytes && body.count <= resealed.count {
            resealed.copyMemory(from: body)
            let copy = UnsafeRawBufferPointer(rebasing: resealed[0..<body.count])
            resealed.storeBytes(of: SampleCodec.checksum(copy).littleEndian, toByteOffset: 12, as: UInt32.self)
            body = copy
        }
        guard let count = decoder.decode(body, samplesMax: samplesMax, into: plain) else { return 0 }
        precondition(count == SampleCodec.sampleCount(body), "the decoder returned another count than the header's")
        let block = UnsafeRawBufferPointer(rebasing: plain[0..<SampleCodec.plainSize(count: count)])
        precondition(block[0] == 1, "the decoder wrote no version 1 header")
        roundTrip(block)
    } else {
        let count = min(body.count / SampleCodec.plainBytesPerSample, samplesMax)
        let size = SampleCodec.plainSize(count: count)
        plain.storeBytes(of: UInt32(1).littleEndian, toByteOffset: 0, as: UInt32.self)
        plain.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 4, as: UInt32.self)
        if count > 0 {
            (plain.baseAddress! + SampleCodec.plainHeaderBytes).copyMemory(from: body.baseAddress!, byteCount: size - SampleCodec.plainHeaderBytes)
        }
        roundTrip(UnsafeRawBufferPointer(rebasing: plain[0..<size]))
    }
    return 0
}

/// The version 2 (zlib) block of the same samples as the version 3 or 4 block `block`, as an
/// older Skygate wrote it, into `output`; its length, or nil.
func zlibBlock(_ block: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
    let declared = Int(UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
    let stream = UnsafeMutableRawBufferPointer.allocate(byteCount: max(declared, 1), alignment: 16)
    defer { stream.deallocate() }
    if block[0] == SampleCodec.storedFormatVersion {
        guard block.count - SampleCodec.headerBytes == declared else { return nil }
        stream.copyMemory(from: UnsafeRawBufferPointer(rebasing: block[SampleCodec.headerBytes...]))
    } else {
        guard let context = ZSTD_createDCtx() else { return nil }
        defer { ZSTD_freeDCtx(context) }
        ZSTD_DCtx_setParameter(context, skygate_zstd_d_format, Int32(ZSTD_f_zstd1_magicless.rawValue))
        let got = ZSTD_decompressDCtx(context, stream.baseAddress, declared, block.baseAddress! + SampleCodec.headerBytes, block.count - SampleCodec.headerBytes)
        guard got == declared else { return nil }
    }
    var length = UInt(output.count - SampleCodec.headerBytes)
    guard compress2((output.baseAddress! + SampleCodec.headerBytes).assumingMemoryBound(to: UInt8.self), &length,
                    stream.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt(declared), 6) == Z_OK else { return nil }
    output.copyMemory(from: UnsafeRawBufferPointer(rebasing: block[0..<SampleCodec.headerBytes]))
    output[0] = SampleCodec.zlibFormatVersion
    let total = SampleCodec.headerBytes + Int(length)
    output.storeBytes(of: SampleCodec.checksum(UnsafeRawBufferPointer(rebasing: output[0..<total])).littleEndian, toByteOffset: 12, as: UInt32.self)
    return total
}

/// Seeds: encoded blocks of a steady flight (mode 0; as the encoder writes them, version 4 for the
/// short ones and 3 for the long, and version 2 as older files hold them) and the same columns as
/// values (mode 1).
func writeSeeds(into directory: String) {
    for (number, count) in [1, 2, 40, 300].enumerated() {
        let size = SampleCodec.plainSize(count: count)
        plain.storeBytes(of: UInt32(1).littleEndian, toByteOffset: 0, as: UInt32.self)
        plain.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 4, as: UInt32.self)
        for column in 0..<SampleCodec.columnCount {
            let width = SampleCodec.width(column)
            for row in 0..<count {
                let value = UInt64(1_767_225_600_000_000) &* UInt64(column == 0 ? 1 : 0) &+ UInt64(row * (column + 1) * 37)
                for byte in 0..<width {
                    plain[SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * count + row * width + byte] =
                        UInt8(truncatingIfNeeded: value >> UInt64(byte * 8))
                }
            }
        }
        let block = UnsafeRawBufferPointer(rebasing: plain[0..<size])
        guard let length = encoder.encode(PlainBlockColumns(block)!, into: encoded) else { continue }
        let written = UnsafeRawBufferPointer(rebasing: encoded[0..<length])
        guard let zlibLength = zlibBlock(written, into: resealed) else { continue }
        let version2 = UnsafeRawBufferPointer(rebasing: resealed[0..<zlibLength])
        for (name, mode, bytes) in [("0", UInt8(0), written), ("2", UInt8(2), written), ("0-zlib", UInt8(0), version2),
                                    ("2-zlib", UInt8(2), version2),
                                    ("1", UInt8(1), UnsafeRawBufferPointer(rebasing: block[SampleCodec.plainHeaderBytes...]))] {
            let output = fopen(directory + "/seed-\(number)-\(name)", "wb")
            var prefix = mode
            fwrite(&prefix, 1, 1, output)
            fwrite(bytes.baseAddress, 1, bytes.count, output)
            fclose(output)
        }
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func initializeSampleCodecFuzz(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    if let directory = getenv("SAMPLECODEC_FUZZ_SEEDS") { writeSeeds(into: String(cString: directory)) }
    return 0
}
