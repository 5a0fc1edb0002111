@testable import FlightRecording
import Foundation
import Telemetry
import Testing

/// A walk of a mapped file gives its pages back behind it, so a log of any size replays in
/// constant resident memory (issue 22: "a multi-gigabyte log replays in constant memory").
/// Measured where the kernel counts it: the mapping's `Rss` in /proc/self/smaps.
@Suite("Mapped files: pages given back behind the walk")
struct PageReleaseTests {
    static let behind = Limits.Recording.mappedResidentBehindBytes

    /// Resident bytes of the mapping that contains `address`, from /proc/self/smaps.
    static func residentBytes(of address: UnsafeRawPointer) throws -> Int {
        // /proc files report size 0, so read to the end rather than by the file's size.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let target = UInt(bitPattern: address)
        var inMapping = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-")
                if bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16) {
                    inMapping = low <= target && target < high
                    continue
                }
            }
            if inMapping, fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
                return kilobytes * 1_024
            }
        }
        throw CocoaError(.fileReadUnknown)
    }

    @Test("A 48 MiB walk keeps at most twice the window resident, and reads every byte right")
    func walkStaysFlat() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("big")
        let size = 48 << 20
        var contents = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 4_096) { contents[index] = UInt8(truncatingIfNeeded: index >> 12) }
        try Data(contents).write(to: URL(fileURLWithPath: path))
        contents = []

        let file = try MappedFile(path: path)
        let base = try #require(file.bytes.baseAddress)
        var pages = file.pageRelease
        var sum = 0
        var peak = 0
        for offset in stride(from: 0, to: size, by: 4_096) {
            pages.passed(offset)
            sum &+= Int(file.bytes[offset])
            if offset % (4 << 20) == 0 { peak = max(peak, try Self.residentBytes(of: base)) }
        }
        // Released pages read back the same bytes (the mapping is private and never written).
        var again = 0
        for offset in stride(from: 0, to: size, by: 4_096) { again &+= Int(file.bytes[offset]) }
        var expected = 0
        for index in stride(from: 0, to: size, by: 4_096) { expected &+= Int(UInt8(truncatingIfNeeded: index >> 12)) }
        #expect(sum == expected)
        #expect(again == expected)
        #expect(peak > 0)
        #expect(peak <= 2 * Self.behind + (1 << 20), "peak resident \(peak) bytes of a \(size)-byte walk")
    }

    @Test("A heap copy is never released (its bytes are the only copy)")
    func heapCopyUntouched() {
        let contents = [UInt8](repeating: 7, count: 3 * Self.behind)
        let file = contents.withUnsafeBytes { MappedFile(copying: $0, path: "copy") }
        var pages = file.pageRelease
        for offset in stride(from: 0, to: contents.count, by: 4_096) { pages.passed(offset) }
        #expect(file.bytes.allSatisfy { $0 == 7 })
    }

    /// The readers call it: a 24 MB capture (the real loopback flight repeated, times shifted)
    /// replays whole with its mapping's resident pages bounded.
    @Test("The capture player replays a 24 MB capture with bounded resident pages")
    func captureReplayStaysFlat() throws {
        let original = CaptureWriter.packets(ofPcap: try AutopilotFixtures.bytes(CaptureReaderTests.thayer))
        let span = try #require(original.last?.nanoseconds) - original[0].nanoseconds + 1_000_000_000
        var packets: [CaptureWriter.Packet] = []
        var copies = 0
        var bytes = 0
        while bytes < 24 << 20 {
            for packet in original {
                var shifted = packet
                shifted.nanoseconds += UInt64(copies) * span
                packets.append(shifted)
                bytes += 16 + packet.frame.count
            }
            copies += 1
        }
        let directory = TemporaryDirectory()
        try AutopilotFixtures.write(CaptureWriter.pcap(packets, linkType: 0), to: directory.file("long.pcap"))
        packets = []
        let reader = try CaptureReader(path: directory.file("long.pcap"))
        let base = try #require(reader.file.bytes.baseAddress)
        var datagrams = 0
        var peak = 0
        let report = reader.read(fromNanoseconds: nil, untilNanoseconds: nil) { _ in
            datagrams += 1
            if datagrams % 20_000 == 0, let resident = try? Self.residentBytes(of: base) { peak = max(peak, resident) }
            return true
        }
        #expect(datagrams == copies * 2_018)
        #expect(report.datagramsRead == datagrams)
        #expect(peak > 0)
        #expect(peak <= 2 * Self.behind + (1 << 20), "peak resident \(peak) bytes of a \(bytes)-byte capture")
    }
}
