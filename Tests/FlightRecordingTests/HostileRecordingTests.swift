import FlightRecording
import Foundation
import Testing

/// Regression tests for what fuzzing the reader found (Scripts/fuzz-inputs.sh skyrec): a
/// trailer or index whose CRCs match but whose offsets are near 2^63 or 2^64 trapped on an
/// overflowing addition while the file was opened. Such a file is now read by scanning, every
/// record of its chunks back, and the untrusted index is ignored.
@Suite struct HostileRecordingTests {
    static let start: UInt64 = 1_767_225_600_000_000_000

    /// A closed recording of 30 datagrams in several chunks, as bytes.
    static func recording(in directory: TemporaryDirectory) throws -> [UInt8] {
        let path = directory.file("base.skyrec")
        var options = RecordingOptions()
        options.chunkBytesMax = 4_096
        options.syncsEachChunk = false
        let writer = try RecordingWriter(path: path, startNanoseconds: start, gatewayVersion: "test", options: options)
        for index in 0..<30 {
            try [UInt8](repeating: UInt8(index), count: 200).withUnsafeBytes { datagram in
                try writer.append(receivedNanoseconds: start + UInt64(index) * 1_000_000, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: datagram)
            }
        }
        try writer.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func store64(_ value: UInt64, in bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    static func load64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func storeCRC(of range: Range<Int>, in bytes: inout [UInt8]) {
        let crc = bytes.withUnsafeBytes { RecordingFormat.crc32(UnsafeRawBufferPointer(rebasing: $0[range])) }
        for index in 0..<4 { bytes[range.upperBound + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
    }

    static func readAll(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> (count: Int, report: ReadReport) {
        let path = directory.file("hostile-\(UUID().uuidString).skyrec")
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let reader = try openRecording(path: path)
        var count = 0
        let report = reader.read { _ in
            count += 1
            return true
        }
        return (count, report)
    }

    @Test(arguments: [UInt64.max, UInt64.max - 40, UInt64(1) << 63, (UInt64(1) << 63) - 1, UInt64(Int.max) - 10] as [UInt64])
    func aTrailerPointingPastTheFileIsIgnored(indexOffset: UInt64) throws {
        let directory = TemporaryDirectory()
        var bytes = try Self.recording(in: directory)
        let trailerStart = bytes.count - RecordingFormat.trailerLength
        Self.store64(indexOffset, in: &bytes, at: trailerStart + RecordingFormat.TrailerField.indexOffset)
        Self.storeCRC(of: trailerStart..<bytes.count - 4, in: &bytes)
        let (count, report) = try Self.readAll(bytes, in: directory)
        #expect(count == 30)
        #expect(!report.hasIndex)
    }

    @Test(arguments: [UInt64.max, UInt64.max - 40, UInt64(1) << 63, UInt64(Int.max) - 10] as [UInt64])
    func anIndexEntryPointingPastTheIndexIsIgnored(entryOffset: UInt64) throws {
        let directory = TemporaryDirectory()
        var bytes = try Self.recording(in: directory)
        let trailerStart = bytes.count - RecordingFormat.trailerLength
        let indexOffset = Int(Self.load64(bytes, at: trailerStart + RecordingFormat.TrailerField.indexOffset))
        Self.store64(entryOffset, in: &bytes, at: indexOffset + RecordingFormat.indexHeaderLength + RecordingFormat.IndexField.entryOffset)
        Self.storeCRC(of: indexOffset..<trailerStart - 4, in: &bytes)
        let (count, report) = try Self.readAll(bytes, in: directory)
        #expect(count == 30)
        #expect(!report.hasIndex)
    }
}
