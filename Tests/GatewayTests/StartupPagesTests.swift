import Foundation
import Gateway
import SkygateTestSupport
import Telemetry
import Testing

/// The start-up code given back to the kernel (`StartupPages`), and the resident set in the
/// gateway's memory report.
@Suite("Start-up pages", .serialized)
struct StartupPagesTests {
    /// A field of /proc/self/status in KiB ("RssFile:\t   35500 kB").
    static func statusKiB(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    @Test("release() advises this process's read-only file mappings and their resident pages leave it")
    func releaseDropsFilePages() throws {
        // Dirty page-cache pages cannot be reclaimed: flush a test binary linked moments ago.
        sync()
        let before = try #require(Self.statusKiB("RssFile"))
        let anonymousBefore = try #require(Self.statusKiB("RssAnon"))
        let advised = try StartupPages.release()
        let after = try #require(Self.statusKiB("RssFile"))
        let anonymousAfter = try #require(Self.statusKiB("RssAnon"))
        // The test binary and the Swift libraries alone are tens of MiB of read-only mappings.
        #expect(advised > 8 << 20, "advised \(advised) bytes")
        // Less than all of it leaves: the kernel keeps pages another process maps too (here
        // `swift test`, which maps the same Swift libraries), and what runs between the two
        // readings faults back in.
        #expect(before - after > 1_024, "RssFile \(before) KiB before, \(after) KiB after")
        // Anonymous memory (buffers, heap, relocated data) is not advised: it stays resident
        // (within what the test process's other threads free or touch meanwhile).
        #expect(anonymousAfter > anonymousBefore - 1_024, "RssAnon \(anonymousBefore) KiB before, \(anonymousAfter) KiB after")
        // The code runs on, and a second release works as the first.
        #expect(try StartupPages.release() > 0)
    }

    @Test("/api/stats → memory carries the resident set and its peak, read from /proc/self/status")
    func memoryReportHasResidentSet() throws {
        let directory = TemporaryDirectory()
        let gateway = try makeGateway(in: directory)
        defer { gateway.stop() }
        let memory = try #require(gateway.statsReport().memory)
        let resident = try #require(memory.resident_bytes)
        let peak = try #require(memory.resident_peak_bytes)
        let rss = try #require(Self.statusKiB("VmRSS"))
        // Within a factor of two of this process's VmRSS read a moment later, and the peak above it.
        #expect(resident > rss << 9 && resident < rss << 11, "resident \(resident) B, VmRSS \(rss) KiB")
        #expect(peak >= resident)
        #expect(memory.allocated_total > 0)
        // The event hub's store queue is reserved at start-up and counted with the engine.
        #expect(memory.event_engine > Limits.Events.storeQueueMax * MemoryLayout<AlertEvent>.stride)
    }
}
