import FlightRecording
import Foundation
import Testing

/// Inputs the fuzzers found (Fuzz/findings), read as files: each once trapped a reader and must
/// now read to the end. `dataflash-latitude-overflow.bin`: a GPS record whose Lat field, typed
/// as a float by a mutated FMT, held more degrees than 1e-7-degree Int32 units can carry;
/// `dataflash-boot-milliseconds-overflow.bin`: a GPS record whose boot milliseconds overflowed
/// when made µs.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/findings").path

    @Test("Each finding reads to the end without a trap", arguments: ["dataflash-latitude-overflow.bin", "dataflash-boot-milliseconds-overflow.bin"])
    func reads(name: String) throws {
        let reader = try openRecording(path: Self.directory + "/" + name)
        var count = 0
        let report = reader.read { _ in count += 1; return true }
        #expect(report.datagramsFound == count)
    }
}
