import FlightRecording
import Foundation
import Testing

/// The .tlog player: each record's frame comes out as one datagram stamped with the record's
/// time; MAVLink v1, v2 and signed v2 frames are cut by the lengths in their headers; garbage is
/// skipped and counted, a cut-off last record is reported, and a file cut at any byte gives back
/// exactly the records before the cut.
@Suite("MAVLink .tlog player")
struct TlogReaderTests {
    /// A MAVLink frame with a random payload (its CRC is random too: the player does not check it).
    static func frame(version: Int, signed: Bool, systemID: UInt8, messageID: UInt32, using generator: inout SeededGenerator) -> [UInt8] {
        let length = Int.random(in: 0...40, using: &generator)
        let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let checksum = [UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator)]
        if version == 1 {
            return [0xFE, UInt8(length), 7, systemID, 1, UInt8(messageID)] + payload + checksum
        }
        let header: [UInt8] = [
            0xFD, UInt8(length), signed ? 1 : 0, 0, 7, systemID, 1, UInt8(messageID & 0xFF), UInt8(messageID >> 8 & 0xFF), UInt8(messageID >> 16),
        ]
        return header + payload + checksum + (signed ? [UInt8](repeating: 0x5A, count: 13) : [])
    }

    /// `count` records: (time µs, frame) and the file bytes.
    static func makeTlog(count: Int, seed: UInt64) -> (records: [(UInt64, [UInt8])], bytes: [UInt8]) {
        var generator = SeededGenerator(seed: seed)
        var records: [(UInt64, [UInt8])] = []
        var bytes: [UInt8] = []
        var time: UInt64 = 1_683_220_541_055_000
        for index in 0..<count {
            time += UInt64.random(in: 0...20_000, using: &generator)
            let frame = frame(
                version: index % 3 == 0 ? 1 : 2, signed: index % 7 == 3, systemID: UInt8(1 + index % 3),
                messageID: index % 3 == 0 ? UInt32(index % 200) : UInt32(index % 400), using: &generator)
            records.append((time, frame))
            withUnsafeBytes(of: time.bigEndian) { bytes.append(contentsOf: $0) }
            bytes += frame
        }
        return (records, bytes)
    }

    static func read(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> ([TestDatagram], ReadReport) {
        let path = directory.file("test.tlog")
        writeBytes(bytes, to: path)
        return readAll(try TlogReader(path: path))
    }

    static func expected(_ records: ArraySlice<(UInt64, [UInt8])>) -> [TestDatagram] {
        records.map { TestDatagram(time: $0.0 * 1_000, bytes: $0.1, source: [], isTruncated: false) }
    }

    @Test("Every frame comes back, in order, stamped with its record's time")
    func wholeFile() throws {
        let directory = TemporaryDirectory()
        let (records, bytes) = Self.makeTlog(count: 500, seed: 11)
        let (read, report) = try Self.read(bytes, in: directory)
        #expect(read == Self.expected(records[...]))
        #expect(report.isIntact && report.datagramsFound == 500)
        writeBytes(bytes, to: directory.file("detect.tlog"))
        #expect(try openRecording(path: directory.file("detect.tlog")).kind == .tlog)
    }

    @Test("A file cut at any byte gives back the records before the cut and counts the rest as trailing")
    func cutAnywhere() throws {
        let directory = TemporaryDirectory()
        let (records, bytes) = Self.makeTlog(count: 30, seed: 12)
        var ends: [Int] = []
        var end = 0
        for record in records {
            end += 8 + record.1.count
            ends.append(end)
        }
        for cut in 0...bytes.count {
            let (read, report) = try Self.read(Array(bytes[0..<cut]), in: directory)
            let whole = ends.filter { $0 <= cut }.count
            #expect(read == Self.expected(records[0..<whole]), "cut at \(cut)")
            #expect(report.trailingBytes == cut - (whole == 0 ? 0 : ends[whole - 1]), "cut at \(cut)")
            #expect(report.bytesSkipped == 0, "cut at \(cut)")
        }
    }

    @Test("Garbage between records is skipped and counted; the records around it survive")
    func garbage() throws {
        let directory = TemporaryDirectory()
        let (records, bytes) = Self.makeTlog(count: 200, seed: 13)
        var damaged: [UInt8] = []
        var offset = 0
        var garbageBytes = 0
        var generator = SeededGenerator(seed: 99)
        for (index, record) in records.enumerated() {
            let length = 8 + record.1.count
            damaged += bytes[offset..<offset + length]
            offset += length
            if index % 50 == 10 {
                // Garbage with stray start bytes in it, as a radio's noise might give.
                let noise = (0..<23).map { $0 % 5 == 0 ? UInt8(0xFD) : UInt8.random(in: 0...255, using: &generator) }
                damaged += noise
                garbageBytes += noise.count
            }
        }
        let (read, report) = try Self.read(damaged, in: directory)
        #expect(read == Self.expected(records[...]))
        #expect(report.bytesSkipped == garbageBytes)
        #expect(report.resyncs == 4 && report.recordsDamaged == 4)
        #expect(!report.isIntact)
    }

    @Test("A damaged record (its start byte or timestamp hit) is lost alone")
    func damagedRecord() throws {
        let directory = TemporaryDirectory()
        let (records, bytes) = Self.makeTlog(count: 100, seed: 14)
        let victim = 40
        let start = records[0..<victim].reduce(0) { $0 + 8 + $1.1.count }
        for (position, mask) in [(8, UInt8(0x01)), (0, UInt8(0x80))] {
            var damaged = bytes
            damaged[start + position] ^= mask
            let (read, report) = try Self.read(damaged, in: directory)
            var expected = Self.expected(records[...])
            expected.remove(at: victim)
            #expect(read == expected, "byte \(position) of the record")
            #expect(report.bytesSkipped == 8 + records[victim].1.count && report.resyncs == 1)
        }
    }

    @Test("Framing: v1, v2 and signed v2 lengths and header fields")
    func framing() {
        var generator = SeededGenerator(seed: 15)
        for (version, signed) in [(1, false), (2, false), (2, true)] {
            let frame = Self.frame(version: version, signed: signed, systemID: 42, messageID: version == 1 ? 33 : 70_000, using: &generator)
            frame.withUnsafeBytes { bytes in
                #expect(MAVLinkFraming.frameLength(bytes) == .frame(frame.count))
                #expect(MAVLinkFraming.frameLength(UnsafeRawBufferPointer(rebasing: bytes.dropLast())) == .needMoreBytes)
                let header = MAVLinkFraming.header(bytes)
                #expect(header?.systemID == 42 && header?.version == version && header?.isSigned == signed)
                #expect(header?.messageID == (version == 1 ? 33 : 70_000))
            }
        }
    }
}
