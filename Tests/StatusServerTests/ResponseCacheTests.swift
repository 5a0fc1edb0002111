import Crypto
import Foundation
import Hummingbird
import Synchronization
import Testing

@testable import StatusServer

/// The body refresher behind `/api/drones`: requests are answered from the newest body the
/// refresher thread built, not by building one themselves; it refreshes while asked and stops
/// when nobody asks.
@Suite struct ResponseCacheTests {
    /// Numbers the bodies it builds.
    final class Builds: Sendable {
        let sequence = Atomic<Int>(0)

        func build() -> ByteBuffer {
            ByteBuffer(string: "body \(sequence.add(1, ordering: .relaxed).newValue)")
        }
    }

    static func waitUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Under a steady stream of requests, at most the very first builds on a request thread; the
    /// refresher keeps the body fresh, so later requests see newer bodies without building.
    @Test func requestsDoNotBuildWhileRefresherRuns() async throws {
        let builds = Builds()
        let cache = ResponseCache(
            // Staleness and idleness far beyond the test (which a loaded machine can stretch to
            // many seconds), so only the refresher's interval is in play.
            name: "skygate-test", interval: .milliseconds(20), staleAfter: .seconds(600),
            idleAfter: .seconds(30), build: { builds.build() })
        let first = cache.body()
        #expect(first.readableBytes > 0)
        var seen = Set<String>()
        for _ in 0..<60 {
            seen.insert(String(buffer: cache.body()))
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(cache.buildCounts.requests <= 1)
        #expect(cache.buildCounts.refresher >= 2)
        #expect(seen.count >= 2, "requests kept getting the same body: \(seen)")
        #expect(cache.isRefreshing)
    }

    /// Without requests the refresher ends by itself; the next request starts it again.
    @Test func refresherStopsWhenIdleAndRestarts() async throws {
        let builds = Builds()
        let cache = ResponseCache(
            name: "skygate-test", interval: .milliseconds(10), staleAfter: .seconds(5),
            idleAfter: .milliseconds(100), build: { builds.build() })
        _ = cache.body()
        #expect(cache.isRefreshing)
        #expect(try await Self.waitUntil(seconds: 3) { !cache.isRefreshing })
        let afterIdle = builds.sequence.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(100))
        #expect(builds.sequence.load(ordering: .relaxed) == afterIdle, "an idle cache kept building")
        _ = cache.body()
        #expect(cache.isRefreshing)
        #expect(try await Self.waitUntil(seconds: 3) { builds.sequence.load(ordering: .relaxed) > afterIdle + 1 })
    }

    /// A body older than `staleAfter` is never served: once the refresher has gone idle and the
    /// body aged past it, the next request gets a body built after it asked. (A manual clock, so
    /// ages are exact.)
    @Test func staleBodyIsNeverServed() async throws {
        let builds = Builds()
        let now = Atomic<UInt64>(1_000_000_000)
        let cache = ResponseCache(
            name: "skygate-test", interval: .milliseconds(5), staleAfter: .seconds(1),
            idleAfter: .milliseconds(500), clock: { now.load(ordering: .relaxed) }, build: { builds.build() })
        let first = String(buffer: cache.body())
        #expect(first.hasPrefix("body "))
        // Within staleAfter and with the refresher idle, the same body is served.
        now.add(600_000_000, ordering: .relaxed)
        #expect(try await Self.waitUntil(seconds: 3) { !cache.isRefreshing })
        let built = builds.sequence.load(ordering: .relaxed)
        #expect(String(buffer: cache.body()) == "body \(built)")
        #expect(try await Self.waitUntil(seconds: 3) { builds.sequence.load(ordering: .relaxed) > built })
        now.add(600_000_000, ordering: .relaxed)
        #expect(try await Self.waitUntil(seconds: 3) { !cache.isRefreshing })
        // Now past staleAfter: the request must not get any body built before it asked.
        now.add(1_500_000_000, ordering: .relaxed)
        let before = builds.sequence.load(ordering: .relaxed)
        let served = String(buffer: cache.body())
        let number = Int(served.dropFirst("body ".count)) ?? 0
        #expect(number > before, "served \(served), built before the request (last build \(before))")
    }
}

/// The Content-Security-Policy names the pages' inline script and style by hash, and the access
/// token check compares in constant time.
@Suite struct SecurityTests {
    @Test func policyHashesEveryInlineBlock() {
        let policy = InlineContentPolicy.header
        #expect(!policy.contains("unsafe-inline"))
        for page in [StatusPage.html, DronePage.html, ReviewPage.html] {
            for tag in ["script", "style"] {
                let blocks = InlineContentPolicy.blocks(of: tag, in: page)
                #expect(blocks.count == 1, "expected one <\(tag)> block")
                for block in blocks {
                    let digest = Data(SHA256.hash(data: Data(block.utf8))).base64EncodedString()
                    #expect(policy.contains("'sha256-\(digest)'"))
                }
            }
            // Inline event handlers and style attributes would need 'unsafe-inline' or 'unsafe-hashes'.
            #expect(!page.contains(" style=\""))
            #expect(page.range(of: #" on[a-z]+=""#, options: .regularExpression) == nil)
        }
    }

    @Test func tokenComparison() {
        typealias M = SecurityMiddleware<BasicRequestContext>
        #expect(M.constantTimeEquals("s3cret", "s3cret"))
        #expect(!M.constantTimeEquals("s3cres", "s3cret"))
        #expect(!M.constantTimeEquals("s3cre", "s3cret"))
        #expect(!M.constantTimeEquals("s3cret!", "s3cret"))
        #expect(!M.constantTimeEquals("", "s3cret"))
        #expect(!M.constantTimeEquals(nil, "s3cret"))
    }
}
