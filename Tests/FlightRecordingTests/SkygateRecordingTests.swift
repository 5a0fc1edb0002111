import FlightRecording
import Foundation
import Testing

/// The Skygate recording format end to end in memory and temp files: what the writer writes, the
/// reader gives back byte for byte; a file cut off anywhere, or with a bit flipped anywhere,
/// gives back every whole, undamaged chunk and says what it lost; seeking by time lands on the
/// chunk that holds the time, with or without the index.
@Suite("Skygate recordings")
struct SkygateRecordingTests {
    @Test("Every datagram comes back byte for byte, in order, with its time, source and truncation flag")
    func roundTrip() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("round-trip.skyrec")
        let datagrams = makeDatagrams(count: 3_000, seed: 1)
        let writer = try writeRecording(datagrams, to: path)
        #expect(writer.chunkCount > 20, "small chunks, so the test crosses many chunk boundaries")

        let reader = try SkygateRecordingReader(path: path)
        #expect(reader.gatewayVersion == "skygate test")
        #expect(reader.startNanoseconds == datagrams[0].time)
        #expect(reader.index?.count == writer.chunkCount)
        let (read, report) = readAll(reader)
        #expect(read == datagrams)
        #expect(report.isIntact && report.hasIndex)
        #expect(report.chunksRead == writer.chunkCount)
        #expect(report.datagramsRead == datagrams.count)
        #expect(report.firstNanoseconds == datagrams.first?.time && report.lastNanoseconds == datagrams.last?.time)
        // openRecording picks the same player from the magic.
        #expect(try openRecording(path: path).kind == .skygate)
    }

    @Test("Datagrams of every size up to 2,048 bytes and an empty one survive")
    func sizes() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("sizes.skyrec")
        var datagrams = makeDatagrams(count: 200, seed: 2, maxLength: 2_048)
        datagrams.append(TestDatagram(time: datagrams.last!.time + 1, bytes: [], source: [], isTruncated: false))
        datagrams.append(TestDatagram(time: datagrams.last!.time + 1, bytes: [UInt8](repeating: 0xA7, count: 2_048), source: [1, 2, 3, 4, 0, 80], isTruncated: true))
        try writeRecording(datagrams, to: path)
        #expect(readAll(try SkygateRecordingReader(path: path)).0 == datagrams)
    }

    @Test("A recording cut off at any byte gives back exactly the whole chunks before the cut and reports the cut")
    func truncatedAnywhere() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("whole.skyrec")
        let datagrams = makeDatagrams(count: 400, seed: 3, maxLength: 120)
        try writeRecording(datagrams, to: path)
        let whole = fileBytes(path)
        let reader = try SkygateRecordingReader(path: path)
        let index = reader.index!
        // Records before each chunk's end, to know what a cut must give back.
        var recordsThrough: [(end: Int, records: Int)] = []
        var total = 0
        for (number, entry) in index.enumerated() {
            total += entry.recordCount
            let end = number + 1 < index.count ? index[number + 1].offset : whole.count - 32 - (8 + index.count * 32 + 4)
            recordsThrough.append((end, total))
        }
        let cutPath = directory.file("cut.skyrec")
        let headerLength = index[0].offset
        // Every 37th byte, plus each chunk's edges.
        var cuts = Set(stride(from: headerLength, to: whole.count, by: 37))
        for entry in index { cuts.formUnion([entry.offset - 1, entry.offset, entry.offset + 1, entry.offset + 39, entry.offset + 40]) }
        for cut in cuts.sorted() where cut >= headerLength && cut < whole.count {
            writeBytes(Array(whole[0..<cut]), to: cutPath)
            let (read, report) = readAll(try SkygateRecordingReader(path: cutPath))
            let expected = recordsThrough.last { $0.end <= cut }?.records ?? 0
            #expect(read == Array(datagrams[0..<expected]), "cut at \(cut)")
            #expect(!report.hasIndex)
            #expect(report.chunksDamaged == 0 && report.bytesSkipped == 0, "cut at \(cut): \(report.problems)")
            let endsOnChunk = recordsThrough.contains { $0.end == cut } || cut == headerLength
            #expect(endsOnChunk ? report.trailingBytes == 0 : report.trailingBytes > 0, "cut at \(cut)")
        }
    }

    @Test("A recording whose writer died after a chunk (no index, no trailer) reads in full by scanning")
    func unclosed() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("unclosed.skyrec")
        let datagrams = makeDatagrams(count: 500, seed: 4)
        try writeRecording(datagrams, to: path, closes: false)
        let (read, report) = readAll(try SkygateRecordingReader(path: path))
        #expect(read == datagrams)
        #expect(!report.hasIndex && report.isIntact)
    }

    @Test("A flipped bit in a chunk's payload loses that chunk only, counted with its records")
    func bitFlipInPayload() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("flip.skyrec")
        let datagrams = makeDatagrams(count: 600, seed: 5)
        try writeRecording(datagrams, to: path)
        let index = try SkygateRecordingReader(path: path).index!
        let whole = fileBytes(path)
        let damaged = index.count / 2
        var expected: [TestDatagram] = []
        var before = 0
        for (number, entry) in index.enumerated() {
            if number != damaged { expected += datagrams[before..<before + entry.recordCount] }
            before += entry.recordCount
        }
        for bit in [0, 3, 7] {
            var bytes = whole
            bytes[index[damaged].offset + 40 + 5] ^= 1 << UInt8(bit)
            writeBytes(bytes, to: directory.file("flipped.skyrec"))
            let (read, report) = readAll(try SkygateRecordingReader(path: directory.file("flipped.skyrec")))
            #expect(read == expected)
            #expect(report.chunksDamaged == 1 && report.recordsDamaged == index[damaged].recordCount)
            #expect(report.hasIndex && !report.isIntact && report.problems.count == 1)
        }
    }

    @Test("A flipped bit anywhere (header, chunk headers, payloads, index, trailer) never crashes and loses at most the chunk it hit")
    func bitFlipAnywhere() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("flip-anywhere.skyrec")
        let datagrams = makeDatagrams(count: 150, seed: 6, maxLength: 60)
        try writeRecording(datagrams, to: path)
        let whole = fileBytes(path)
        let index = try SkygateRecordingReader(path: path).index!
        let largestChunk = index.map(\.recordCount).max()!
        let flippedPath = directory.file("flipped.skyrec")
        for offset in stride(from: 0, to: whole.count, by: 3) {
            var bytes = whole
            bytes[offset] ^= 0x10
            writeBytes(bytes, to: flippedPath)
            guard let reader = try? SkygateRecordingReader(path: flippedPath) else {
                // Only a flip in the magic or the version makes the file foreign.
                #expect(offset < 10, "flip at \(offset) made the file unreadable")
                continue
            }
            let (read, report) = readAll(reader)
            // Whatever comes back is in order and is a subset of what was written.
            var cursor = 0
            for datagram in read {
                while cursor < datagrams.count && datagrams[cursor] != datagram { cursor += 1 }
                #expect(cursor < datagrams.count, "flip at \(offset) produced a datagram never written")
            }
            #expect(read.count >= datagrams.count - largestChunk, "flip at \(offset) lost more than one chunk: \(report.summary)")
            if read.count < datagrams.count { #expect(!report.isIntact, "flip at \(offset) lost data without saying so") }
        }
    }

    @Test("Seeking by time lands on the chunk holding that time, with the index and by scanning")
    func seek() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("seek.skyrec")
        // 60 s of datagrams every 10 ms: chunks close every second of recorded time.
        var options = smallChunkOptions()
        options.chunkBytesMax = 64 << 10
        let datagrams = makeDatagrams(count: 6_000, seed: 7, maxLength: 40)
        try writeRecording(datagrams, to: path, options: options)
        let reader = try SkygateRecordingReader(path: path)
        let index = reader.index!
        #expect(index.count == 60)
        let start = datagrams[0].time
        for seconds in [0.0, 0.005, 12.5, 37.25, 59.0, 59.99] {
            let from = start + UInt64(seconds * 1e9)
            let number = reader.chunkNumber(atOrAfter: from)!
            #expect(index[number].firstNanoseconds <= from || number == 0)
            #expect(index[number].lastNanoseconds >= from)
            #expect(number == 0 || index[number - 1].lastNanoseconds < from)
            let until = from + 2_000_000_000
            let (read, report) = readAll(reader, from: from, until: until)
            let expected = datagrams.filter { $0.time >= from && $0.time < until }
            #expect(read == expected, "from +\(seconds) s")
            // Only the chunks the range touches were read.
            #expect(report.chunksRead <= 3, "from +\(seconds) s read \(report.chunksRead) chunks")
        }
        #expect(reader.chunkNumber(atOrAfter: datagrams.last!.time + 1) == nil)

        // Without the trailer the same ranges come back by scanning.
        var bytes = fileBytes(path)
        bytes.removeLast(32)
        writeBytes(bytes, to: directory.file("no-trailer.skyrec"))
        let scanning = try SkygateRecordingReader(path: directory.file("no-trailer.skyrec"))
        #expect(scanning.index == nil)
        let from = start + 37_250_000_000
        let (read, report) = readAll(scanning, from: from, until: from + 1_000_000_000)
        #expect(read == datagrams.filter { $0.time >= from && $0.time < from + 1_000_000_000 })
        #expect(!report.hasIndex)
        // Read to the end, the scan meets the index without its trailer and says so.
        let (all, fullReport) = readAll(scanning)
        #expect(all == datagrams)
        #expect(fullReport.problems.contains { $0.contains("trailer") })
    }

    @Test("A full disk is an error naming the file, not a crash")
    func diskFull() {
        #expect(throws: RecordingError.diskFull(path: "/dev/full")) {
            try RecordingWriter(path: "/dev/full", startNanoseconds: 0, gatewayVersion: "test", options: smallChunkOptions())
        }
    }

    /// (A ULog or pcap magic opens its player, which reports a cut header: AutopilotLogTests and
    /// CaptureReaderTests; here, `ULog` without its version bytes is foreign.)
    @Test("Foreign files are refused with a reason that names the formats looked for")
    func foreignFiles() throws {
        let directory = TemporaryDirectory()
        let cases: [([UInt8], String)] = [
            ([], "empty"), (Array("hello, world, this is text".utf8), "no Skygate"),
            (Array("ULog".utf8) + [1, 2, 3, 4], "ULog"), ([0xD4, 0xC3, 0xB2], "pcap"),
        ]
        for (bytes, reason) in cases {
            writeBytes(bytes, to: directory.file("foreign"))
            do {
                _ = try openRecording(path: directory.file("foreign"))
                Issue.record("\(reason): opened")
            } catch {
                #expect(error.description.contains(reason), "\(error)")
            }
        }
    }

    @Test("Invalid options are refused with the option's name")
    func invalidOptions() {
        var options = RecordingOptions()
        options.directoryBytesMax = options.fileBytesMax
        #expect(options.validate().contains { $0.hasPrefix("directoryBytesMax") })
        #expect(RecordingOptions().validate().isEmpty)
    }
}
