import FlightRecording
import Foundation

/// A temporary directory for one test's files, removed afterwards.
final class TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "skygate-recording-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// SplitMix64: a seeded generator, so every test input is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One datagram as a test writes it and expects it back.
struct TestDatagram: Equatable {
    var time: UInt64
    var bytes: [UInt8]
    var source: [UInt8]
    var isTruncated: Bool
}

/// `count` datagrams of random length and content from random sources, `step` ns apart.
func makeDatagrams(count: Int, seed: UInt64, start: UInt64 = 1_767_225_600_000_000_000, step: UInt64 = 10_000_000, maxLength: Int = 300)
    -> [TestDatagram]
{
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { index in
        let length = Int.random(in: 0...maxLength, using: &generator)
        let sourceLength = [0, 6, 18][Int.random(in: 0...2, using: &generator)]
        return TestDatagram(
            time: start + UInt64(index) * step,
            bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) },
            source: (0..<sourceLength).map { _ in UInt8.random(in: 0...255, using: &generator) },
            isTruncated: index % 97 == 5)
    }
}

/// Options with small chunks, so a small test file holds many of them.
func smallChunkOptions() -> RecordingOptions {
    var options = RecordingOptions()
    options.chunkBytesMax = 4_096
    options.syncsEachChunk = false
    options.fileBytesMax = 1 << 20
    options.directoryBytesMax = 4 << 20
    return options
}

/// Writes `datagrams` to `path` and closes it (unless `closes` is false); returns the writer.
@discardableResult
func writeRecording(_ datagrams: [TestDatagram], to path: String, options: RecordingOptions = smallChunkOptions(), closes: Bool = true)
    throws -> RecordingWriter
{
    let writer = try RecordingWriter(path: path, startNanoseconds: datagrams.first?.time ?? 0, gatewayVersion: "skygate test", options: options)
    for datagram in datagrams {
        try datagram.bytes.withUnsafeBytes { bytes in
            try datagram.source.withUnsafeBytes { source in
                try writer.append(receivedNanoseconds: datagram.time, source: source, datagram: bytes, isTruncated: datagram.isTruncated)
            }
        }
    }
    if closes { try writer.close() } else { try writer.writeChunk() }
    return writer
}

/// Every datagram a reader hands out, copied, and its report.
func readAll(_ reader: any RecordingReader, from: UInt64? = nil, until: UInt64? = nil) -> ([TestDatagram], ReadReport) {
    var datagrams: [TestDatagram] = []
    let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
        datagrams.append(
            TestDatagram(
                time: datagram.receivedNanoseconds, bytes: Array(datagram.bytes), source: Array(datagram.source),
                isTruncated: datagram.isTruncated))
        return true
    }
    return (datagrams, report)
}

/// The file's bytes.
func fileBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

/// Writes `bytes` to `path`.
func writeBytes(_ bytes: [UInt8], to path: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }

/// The chunk start offsets of a closed recording, from its index.
func chunkOffsets(_ path: String) throws -> [Int] {
    try SkygateRecordingReader(path: path).index!.map(\.offset)
}
