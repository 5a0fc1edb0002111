import Dispatch
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import StatusServer
import Telemetry
import TelemetryStore
import Testing

/// The HTTP access policy through HummingbirdTesting's in-process client (docs/security.md,
/// "HTTP"): the read token reads and cannot ingest, the ingest token ingests and cannot read, a
/// gateway with only a read token takes no ingest, tokens in the query string are refused
/// everywhere, and without a read token a request for a foreign `Host` is refused (421) before
/// anything else. The token checks at start-up and the `Host` parser are checked as tables.
@Suite struct HTTPAccessTests {
    static let readToken = "read-3k9Qv7Lz2Xw8Pq4R"
    static let ingestToken = "ingest-Hm5Tn1Ys6Bd0Cf"

    func makeApp(_ source: PipelineSource, access: HTTPAccessPolicy) -> some ApplicationProtocol {
        Application(router: StatusRoutes.makeRouter(source: source, guards: HTTPGuards(access: access)))
    }

    static var sample: ByteBuffer {
        ByteBuffer(string: #"[{"drone": 31, "sequence": 1, "time_us": \#(UInt64(Date().timeIntervalSince1970 * 1e6)), "lat": 47.1, "lon": 8.5, "alt_m": 400}]"#)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    /// Each token opens its own door only: read API, `/metrics`, events with the read token;
    /// ingest with the ingest token; 403 (not 401) for the other kind, 401 without one.
    @Test func readAndIngestTokensAreSeparate() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let access = HTTPAccessPolicy(readToken: Self.readToken, ingestToken: Self.ingestToken)
        try await makeApp(source, access: access).test(.router) { client in
            for uri in ["/api/stats", "/api/drones", "/metrics", "/api/zones", "/api/stats/history"] {
                try await client.execute(uri: uri, method: .get, headers: Self.bearer(Self.readToken)) { response in
                    #expect(response.status == .ok, "\(uri) with the read token")
                }
                try await client.execute(uri: uri, method: .get, headers: Self.bearer(Self.ingestToken)) { response in
                    #expect(response.status == .forbidden, "\(uri) with the ingest token")
                    #expect(response.body.text.contains("ingest token only opens POST"))
                }
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(uri) without a token")
                }
            }
            try await client.execute(uri: "/api/telemetry", method: .post, headers: Self.bearer(Self.readToken), body: Self.sample) { response in
                #expect(response.status == .forbidden)
                #expect(response.body.text.contains("access token only reads"))
            }
            try await client.execute(uri: "/api/telemetry", method: .post, headers: [.contentType: "application/json"], body: Self.sample) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(source.ingested.load(ordering: .relaxed) == 0, "nothing refused reached the pipeline")
            try await client.execute(uri: "/api/telemetry", method: .post, headers: Self.bearer(Self.ingestToken), body: Self.sample) { response in
                #expect(response.status == .accepted)
            }
            #expect(source.ingested.load(ordering: .relaxed) == 1)
            // The pages hold no data: they load without a token and take it from the fragment.
            for uri in ["/", "/drones/skygate/31"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                }
            }
            // The stats report what the guards refused so far (no Host check here).
            try await client.execute(uri: "/api/stats", method: .get, headers: Self.bearer(Self.readToken)) { response in
                let report = try JSONDecoder().decode(StatsReport.self, from: Data(response.body.readableBytesView))
                #expect(report.http?.host_refused == 0)
                #expect(report.http?.store_reads_refused == 0)
            }
        }
    }

    /// A gateway with a read token and no ingest token takes no HTTP ingest, whatever is sent.
    @Test func readTokenAloneClosesIngest() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        try await makeApp(source, access: HTTPAccessPolicy(readToken: Self.readToken)).test(.router) { client in
            for headers in [Self.bearer(Self.readToken), [.contentType: "application/json"]] as [HTTPFields] {
                try await client.execute(uri: "/api/telemetry", method: .post, headers: headers, body: Self.sample) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.body.text.contains("HTTP ingest is closed"))
                }
            }
        }
        #expect(source.ingested.load(ordering: .relaxed) == 0)
    }

    /// `?access_token=` is refused (400, with how to send it instead) on every path, with the
    /// right token or not, with tokens configured or not.
    @Test(arguments: ["/api/drones", "/metrics", "/", "/api/events/stream", "/healthz"])
    func queryStringTokensAreRefused(path: String) async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        for access in [HTTPAccessPolicy(readToken: Self.readToken, ingestToken: Self.ingestToken), HTTPAccessPolicy()] {
            try await makeApp(source, access: access).test(.router) { client in
                try await client.execute(uri: "\(path)?access_token=\(Self.readToken)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.body.text.contains("Authorization: Bearer"))
                }
            }
        }
    }

    /// Without a read token, the `Host` must be a loopback name with the bound port; a foreign
    /// one is refused with 421 before any route runs, ingest included, and counted. The
    /// in-process client sends `Host: localhost` (port 80).
    @Test func foreignHostIsRefusedWithoutToken() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let onPort80 = LoopbackHostCheck(port: 80)
        try await makeApp(source, access: HTTPAccessPolicy(hostCheck: onPort80)).test(.router) { client in
            try await client.execute(uri: "/api/drones", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        let onOtherPort = LoopbackHostCheck(port: 8080)
        try await makeApp(source, access: HTTPAccessPolicy(hostCheck: onOtherPort)).test(.router) { client in
            try await client.execute(uri: "/api/drones", method: .get) { response in
                #expect(response.status.code == 421)
                #expect(response.body.text.contains("DNS rebinding"))
            }
            try await client.execute(uri: "/api/telemetry", method: .post, headers: [.contentType: "application/json"], body: Self.sample) { response in
                #expect(response.status.code == 421)
            }
        }
        #expect(onOtherPort.refusedCount == 2)
        #expect(source.ingested.load(ordering: .relaxed) == 0)
    }

    /// The `Host` parser: loopback names and addresses with the bound port pass; other names,
    /// other ports, rebinding-style names, missing and malformed hosts do not.
    @Test(arguments: [
        ("localhost:8080", true), ("LOCALHOST:8080", true), ("127.0.0.1:8080", true), ("127.1.2.3:8080", true), ("[::1]:8080", true),
        ("localhost.:8080", true),
        ("localhost", false), ("localhost:8081", false), ("evil.example:8080", false), ("127.0.0.1.evil.example:8080", false),
        ("localhost.evil.example:8080", false), ("[::2]:8080", false), ("[::1]", false), ("127.0.0.256:8080", false), ("0.0.0.0:8080", false),
        ("10.0.0.1:8080", false), ("", false), ("[::1:8080", false), ("127.0.0.1:8080x", false),
    ])
    func hostParsing(authority: String, isAccepted: Bool) {
        #expect((LoopbackHostCheck.problem(authority: authority, boundPort: 8080) == nil) == isAccepted, "\(authority)")
        #expect(LoopbackHostCheck.problem(authority: nil, boundPort: 8080) != nil)
        #expect(LoopbackHostCheck.problem(authority: "localhost:0", boundPort: 0) != nil, "nothing passes before the port is known")
    }

    /// Placeholders (the shipped one, anything with REPLACE-ME), short tokens and tokens that
    /// cannot travel in a header are refused with a message naming the option, never the token.
    @Test(arguments: [
        ("REPLACE-ME-access-token", "placeholder"), ("xxREPLACE-ME-with-a-long-random-secret", "placeholder"),
        ("replace-me-0123456789abcdef", "placeholder"), ("short-token", "at least 16"), ("sixteen chars ok!", "printable"),
        ("tøken-with-non-ascii-0123", "printable"),
    ])
    func badTokensAreRefused(token: String, reason: String) {
        let problem = HTTPAccessPolicy.tokenProblem(token, option: "--access-token")
        #expect(problem?.contains(reason) == true, "\(token): \(problem ?? "accepted")")
        #expect(problem?.hasPrefix("--access-token") == true)
        #expect(problem?.contains(token) == false, "the message must not quote the token")
        #expect(HTTPAccessPolicy.tokenProblem(Self.readToken, option: "--access-token") == nil)
    }

    /// The store-read limiter admits `readsMax` reads at once and answers 503 to the next (the
    /// track and event routes share one), counting it; a slot is free again when a read ends.
    @Test func storeReadsAreBounded() async throws {
        let limiter = StoreReadLimiter(readsMax: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let first = Task {
            try await limiter.run(what: "event") { () throws(StoreError) -> Int in
                started.signal()
                release.wait()
                return 1
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                started.wait()
                continuation.resume()
            }
        }
        do {
            _ = try await limiter.run(what: "track") { () throws(StoreError) -> Int in 2 }
            Issue.record("a second read was admitted while the only slot was taken")
        } catch let error as HTTPError {
            #expect(error.status == .serviceUnavailable)
            #expect(error.body?.contains("too many track queries") == true)
        }
        #expect(limiter.refusedCount == 1)
        release.signal()
        #expect(try await first.value == .success(1))
        #expect(try await limiter.run(what: "track") { () throws(StoreError) -> Int in 3 } == .success(3))
    }

    /// Stream slots are counted per client address: a client at its bound is refused (counted)
    /// while another client is admitted, and a released slot can be taken again.
    @Test func streamSlotsArePerClient() {
        let slots = PeerStreamSlots(perPeerMax: 2)
        #expect(slots.acquire("10.0.0.1") && slots.acquire("10.0.0.1"))
        #expect(!slots.acquire("10.0.0.1"))
        #expect(slots.acquire("10.0.0.2"))
        #expect(slots.refusedCount == 1)
        slots.release("10.0.0.1")
        #expect(slots.acquire("10.0.0.1"))
        for peer in ["10.0.0.1", "10.0.0.1", "10.0.0.2"] { slots.release(peer) }
        #expect(slots.count(for: "10.0.0.1") == 0 && slots.count(for: "10.0.0.2") == 0)
    }
}
