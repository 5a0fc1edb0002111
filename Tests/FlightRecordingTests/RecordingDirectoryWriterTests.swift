import FlightRecording
import Foundation
import Testing

/// `serve --record DIR`'s writer: files rotate by size and by recorded time, the directory stays
/// within its budget by deleting its own oldest recordings (never other files), every file left
/// is a whole recording, and the newest datagrams are kept. Also the pacing arithmetic of
/// `replay --to` and the UTC file names.
@Suite("Recording directory, replay schedule, file names")
struct RecordingDirectoryWriterTests {
    static func options() -> RecordingOptions {
        var options = RecordingOptions()
        options.chunkBytesMax = 4_096
        options.fileBytesMax = 16_384
        options.directoryBytesMax = 40_000
        options.syncsEachChunk = false
        return options
    }

    static func append(_ datagrams: [TestDatagram], to writer: RecordingDirectoryWriter) throws {
        for datagram in datagrams {
            try datagram.bytes.withUnsafeBytes { bytes in
                try datagram.source.withUnsafeBytes { source in
                    try writer.append(
                        receivedNanoseconds: datagram.time, source: source, datagram: bytes, isTruncated: datagram.isTruncated,
                        nowNanoseconds: datagram.time)
                }
            }
        }
    }

    @Test("Rotation by size keeps the directory within budget, deletes only its oldest recordings, keeps the newest data")
    func rotationBySizeAndBudget() throws {
        let directory = TemporaryDirectory()
        let bystander = directory.file("notes.txt")
        writeBytes(Array("not a recording".utf8), to: bystander)
        let writer = try RecordingDirectoryWriter(directory: directory.path, gatewayVersion: "test", options: Self.options())
        // Incompressible datagrams, so sizes on disk are close to what is appended.
        let datagrams = makeDatagrams(count: 2_000, seed: 21, step: 1_000_000, maxLength: 200)
        try Self.append(datagrams, to: writer)
        try writer.close()
        #expect(writer.filesClosed >= 10 && writer.filesDeleted > 0)

        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".skyrec") }.sorted()
        var total = 0
        var recovered: [TestDatagram] = []
        for name in names {
            let path = directory.file(name)
            let size = fileBytes(path).count
            total += size
            #expect(size <= Self.options().fileBytesMax + Self.options().chunkBytesMax + 1_024, "\(name) is \(size) bytes")
            let (read, report) = readAll(try SkygateRecordingReader(path: path))
            #expect(report.isIntact && report.hasIndex, "\(name)")
            recovered += read
        }
        #expect(total <= Self.options().directoryBytesMax)
        #expect(FileManager.default.fileExists(atPath: bystander))
        // What is left is the newest part of the stream, contiguous and in order.
        #expect(!recovered.isEmpty && recovered == Array(datagrams.suffix(recovered.count)))
    }

    /// The counters other threads read agree with the directory at every step: while writing
    /// (the current file's size as written so far) and after the close; files an earlier run left
    /// count in the directory's bytes and, once deleted for the budget, in the deletions.
    @Test("Counters: files started, rotated and deleted, bytes written and deleted, match the directory")
    func countersMatchTheDirectory() throws {
        let directory = TemporaryDirectory()
        let earlier = directory.file("skygate-20250101T000000Z-000001.skyrec")
        writeBytes([UInt8](repeating: 7, count: 10_000), to: earlier)
        let writer = try RecordingDirectoryWriter(directory: directory.path, gatewayVersion: "test", options: Self.options())
        let counters = writer.counters
        #expect(counters.directoryBytes == 10_000 && counters.filesStarted == 0 && counters.currentFile == nil)
        func onDisk() -> (files: Int, bytes: Int) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            let recordings = names.filter { $0.hasSuffix(".skyrec") }
            return (recordings.count, recordings.reduce(0) { $0 + fileBytes(directory.file($1)).count })
        }
        let datagrams = makeDatagrams(count: 1_500, seed: 23, step: 1_000_000, maxLength: 200)
        for part in stride(from: 0, to: datagrams.count, by: 100) {
            try Self.append(Array(datagrams[part..<min(part + 100, datagrams.count)]), to: writer)
            let (files, bytes) = onDisk()
            #expect(counters.directoryBytes == bytes, "after \(part + 100) datagrams")
            #expect(UInt64(files) == 1 + counters.filesStarted - counters.filesDeleted)
            #expect(counters.currentFile.map { fileBytes(directory.file($0)).count } == counters.currentFileBytes)
            #expect(counters.filesRotated == counters.filesStarted - 1)
        }
        try writer.close()
        let (files, bytes) = onDisk()
        #expect(counters.filesDeleted > 1 && !FileManager.default.fileExists(atPath: earlier), "the earlier run's file went first")
        #expect(UInt64(files) == 1 + counters.filesStarted - counters.filesDeleted)
        #expect(counters.bytesWritten + 10_000 - counters.bytesDeleted == UInt64(bytes))
        #expect(counters.directoryBytes == bytes && counters.currentFile == nil && counters.currentFileBytes == 0)
        #expect(counters.chunksWritten >= counters.filesStarted && counters.filesRotated == counters.filesStarted - 1)
        #expect(writer.filesDeleted == Int(counters.filesDeleted))
    }

    @Test("Rotation by recorded time starts a new file every fileDuration")
    func rotationByTime() throws {
        let directory = TemporaryDirectory()
        var options = Self.options()
        options.fileBytesMax = 1 << 20
        options.directoryBytesMax = 4 << 20
        options.fileDuration = .seconds(10)
        let writer = try RecordingDirectoryWriter(directory: directory.path, gatewayVersion: "test", options: options)
        // 35 s of small datagrams, 100 ms apart: four files (0-10, 10-20, 20-30, 30-35 s).
        try Self.append(makeDatagrams(count: 350, seed: 22, step: 100_000_000, maxLength: 20), to: writer)
        try writer.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names.count == 4 && writer.filesDeleted == 0)
        #expect(names.allSatisfy { $0.hasPrefix("skygate-20260101T0000") && $0.hasSuffix(".skyrec") }, "\(names)")
    }

    @Test("File names carry the UTC start time and sort by it")
    func fileNames() {
        #expect(RecordingDirectoryWriter.fileName(startNanoseconds: 1_767_225_600_000_000_000, sequence: 1) == "skygate-20260101T000000Z-000001.skyrec")
        #expect(RecordingDirectoryWriter.fileName(startNanoseconds: 951_782_400_000_000_000 + 3_723_000_000_000, sequence: 42) == "skygate-20000229T010203Z-000042.skyrec")
        #expect(RecordingDirectoryWriter.fileName(startNanoseconds: 0, sequence: 7) == "skygate-19700101T000000Z-000007.skyrec")
    }
}
