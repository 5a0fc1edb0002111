// libFuzzer target for the Skygate recording reader (`.skyrec`, `SkygateRecordingReader`), the
// format sniffing of `openRecording` and `inspect`'s inventory. Built by Scripts/fuzz-inputs.sh
// skyrec: Telemetry and TelemetryWire as their own modules, the FlightRecording sources and this
// file as another (docs/testing.md). The reader is fed from memory (`MappedFile(copying:)`).
//
// The first byte picks the mode: odd, the file's CRCs are repaired before reading (header, every
// chunk header and payload at a chunk magic, index, trailer), so the fuzzer can change lengths,
// counts, offsets and times and still get past the checks to the code that trusts them; even,
// the bytes are read as they are. With SKYREC_FUZZ_SEEDS=DIR the target first writes seed
// recordings into DIR with the real `RecordingWriter` (Scripts/fuzz-inputs.sh does).
//
// Oracles, beyond "no crash, no sanitizer report":
// - datagrams handed out = `datagramsRead` <= `datagramsFound`; each lies inside the file's or
//   a chunk's bytes, with a source of at most `RecordedSource.bytesMax` bytes;
// - bytes skipped and cut off never exceed the file; the problems list stays bounded;
// - a read from one time until another hands out no datagram outside that window.

#if canImport(Glibc)
import Glibc
#endif

func repairChecksums(_ bytes: inout [UInt8]) {
    func load(_ at: Int, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
        return value
    }
    func store32(_ value: UInt32, at: Int) { for index in 0..<4 { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) } }
    func crc(_ range: Range<Int>) -> UInt32 { bytes.withUnsafeBytes { RecordingFormat.crc32(UnsafeRawBufferPointer(rebasing: $0[range])) } }

    if bytes.count >= RecordingFormat.headerFixedLength + 4 && bytes.prefix(8).elementsEqual(RecordingFormat.fileMagic) {
        let headerLength = Int(load(RecordingFormat.HeaderField.headerLength, 2))
        if headerLength >= 4 && headerLength <= bytes.count { store32(crc(0..<headerLength - 4), at: headerLength - 4) }
    }
    var offset = 0
    while offset + RecordingFormat.chunkHeaderLength <= bytes.count {
        guard UInt32(load(offset, 4)) == RecordingFormat.chunkMagic else { offset += 1; continue }
        let payloadStart = offset + RecordingFormat.chunkHeaderLength
        let compressed = Int(load(offset + RecordingFormat.ChunkField.compressedLength, 4))
        if compressed <= bytes.count - payloadStart {
            store32(crc(payloadStart..<payloadStart + compressed), at: offset + RecordingFormat.ChunkField.payloadCRC)
        }
        store32(crc(offset..<offset + RecordingFormat.ChunkField.headerCRC), at: offset + RecordingFormat.ChunkField.headerCRC)
        offset = payloadStart
    }
    let trailerLength = RecordingFormat.trailerLength
    if bytes.count >= trailerLength, UInt32(load(bytes.count - trailerLength, 4)) == RecordingFormat.trailerMagic {
        let trailerStart = bytes.count - trailerLength
        let indexOffset = load(trailerStart + RecordingFormat.TrailerField.indexOffset, 8)
        let chunkCount = Int(load(trailerStart + RecordingFormat.TrailerField.chunkCount, 4))
        let indexLength = RecordingFormat.indexHeaderLength + chunkCount * RecordingFormat.indexEntryLength + 4
        if indexOffset <= UInt64(trailerStart), indexLength <= trailerStart - Int(indexOffset) {
            let start = Int(indexOffset)
            store32(crc(start..<start + indexLength - 4), at: start + indexLength - 4)
        }
        store32(crc(trailerStart..<bytes.count - 4), at: bytes.count - 4)
    }
}

/// Seed recordings made by the real writer, each with the mode byte (1: repair) in front.
func writeSeeds(into directory: String) {
    let start: UInt64 = 1_767_225_600_000_000_000
    let shapes: [(datagrams: Int, step: UInt64, chunkBytes: Int, close: Bool)] = [
        (3, 1_000_000, 64 << 10, true), (40, 50_000_000, 4_096, true), (200, 5_000_000, 4_096, true), (20, 10_000_000, 4_096, false),
    ]
    for (number, shape) in shapes.enumerated() {
        let path = directory + "/seed-\(number).tmp"
        var options = RecordingOptions()
        options.chunkBytesMax = shape.chunkBytes
        options.syncsEachChunk = false
        guard let writer = try? RecordingWriter(path: path, startNanoseconds: start, gatewayVersion: "fuzz", options: options) else { continue }
        for index in 0..<shape.datagrams {
            let datagram = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 10 + index % 50)
            let source: [UInt8] = index % 2 == 0 ? [] : [4, 127, 0, 0, 1, 0x39, 0x30]
            try? datagram.withUnsafeBytes { bytes in
                try source.withUnsafeBytes { from in
                    try writer.append(receivedNanoseconds: start + UInt64(index) * shape.step, source: from, datagram: bytes, isTruncated: index % 7 == 0)
                }
            }
        }
        if shape.close { try? writer.close() } else { try? writer.writeChunk() }
        if let file = try? MappedFile(path: path) {
            let seed = [1] + Array(file.bytes)
            let output = fopen(directory + "/seed-\(number).skyrec", "wb")
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, output) }
            fclose(output)
        }
        unlink(path)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func initializeSkyrecFuzz(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    if let directory = getenv("SKYREC_FUZZ_SEEDS") { writeSeeds(into: String(cString: directory)) }
    return 0
}

func check(_ reader: any RecordingReader, fileBytes: Int, from: UInt64?, until: UInt64?) -> ReadReport {
    var handed = 0
    let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
        handed += 1
        precondition(datagram.source.count <= RecordedSource.bytesMax)
        if let from { precondition(datagram.receivedNanoseconds >= from, "a datagram before --from") }
        if let until { precondition(datagram.receivedNanoseconds < until, "a datagram at or after --until") }
        return true
    }
    precondition(handed == report.datagramsRead && report.datagramsRead <= report.datagramsFound)
    precondition(report.bytesSkipped >= 0 && report.trailingBytes >= 0 && report.bytesSkipped + report.trailingBytes <= fileBytes)
    precondition(report.problems.count <= ReadReport.problemsMax)
    return report
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSkyrec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 1 { repairChecksums(&bytes) }
    let file = bytes.withUnsafeBytes { MappedFile(copying: $0, path: "fuzz.skyrec") }
    guard let reader = try? openRecording(file: file) else { return 0 }
    let whole = check(reader, fileBytes: bytes.count, from: nil, until: nil)
    if let first = whole.firstNanoseconds, let last = whole.lastNanoseconds {
        let middle = first / 2 + last / 2
        _ = check(reader, fileBytes: bytes.count, from: middle, until: last)
    }
    if let skygate = reader as? SkygateRecordingReader, let index = skygate.index {
        precondition(index.allSatisfy { $0.offset >= skygate.chunksStart && $0.offset < skygate.chunksEnd })
        _ = skygate.chunkNumber(atOrAfter: UInt64(size) &* 0x9E37_79B9_7F4A_7C15)
    }
    let inventory = RecordingInventory.make(reading: reader, fileBytes: bytes.count)
    precondition(inventory.datagrams == whole.datagramsRead)
    return 0
}
