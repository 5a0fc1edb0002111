import Foundation
import Hummingbird
import IngestFraming
import HummingbirdTesting
import StatusServer
import Telemetry
import Testing

/// Every route through HummingbirdTesting's in-process client, against a real pipeline and
/// database (`PipelineSource`): what each returns for good requests, and the 400/404/413/415/503
/// answers for bad parameters and bodies. Each test builds its own app.
@Suite struct StatusRoutesTests {
    func makeApp(_ source: PipelineSource, settings: StatusSettings = StatusSettings(), history: StatsHistory = StatsHistory())
        -> some ApplicationProtocol
    {
        Application(router: StatusRoutes.makeRouter(source: source, settings: settings, history: history))
    }

    /// Health endpoints answer plainly, and every response carries the Content-Security-Policy.
    @Test func healthAndSecurityHeaders() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        try await makeApp(source).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.body.text == "ok\n")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            // HEAD answers like GET, without the body: the page's length, its headers, no bytes.
            try await client.execute(uri: "/", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentLength].flatMap { Int($0) } ?? 0 > 10_000)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
            try await client.execute(uri: "/no-such-page", method: .head) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/drones/skygate/77", method: .head) { response in
                #expect(response.status == .notFound)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/drones", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    /// The fleet list comes from the live fleet state: every drone flown, with state, position,
    /// battery and alerts; one drone by path; unknown drones 404; bad protocol or id 400.
    @Test func droneList() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        source.fly(drones: [1, 2, 3], frames: 5)
        source.fly(drones: [9], frames: 3, batteryPercent: 10)
        // Thresholds far beyond the test's length: a loaded machine must not turn drones stale.
        let settings = StatusSettings(staleAfterSeconds: 3_600, offlineAfterSeconds: 7_200)
        try await makeApp(source, settings: settings).test(.router) { client in
            try await client.execute(uri: "/api/drones", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                let drones = json["drones"] as? [[String: Any]] ?? []
                #expect(drones.count == 4)
                #expect(Set(drones.compactMap { $0["id"] as? Int }) == [1, 2, 3, 9])
                let low = drones.first { $0["id"] as? Int == 9 }
                #expect((low?["alerts"] as? [String])?.contains("low_battery") == true)
                #expect(drones.allSatisfy { $0["state"] as? String == "online" })
                #expect(json["online"] as? Int == 4)
                // When the body was built, by the gateway's clock (rates on the page use it).
                let generated = Double(json["generated_at_us"] as? Int ?? 0) / 1e6
                #expect(abs(generated - Date().timeIntervalSince1970) < 60)
            }
            try await client.execute(uri: "/api/drones/skygate/2", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect(json["frames_received"] as? Int == 5)
                #expect(abs((json["lat"] as? Double ?? 0) - 47.372) < 0.001)
                #expect(json["battery_percent"] as? Int == 80)
            }
            try await client.execute(uri: "/api/drones/skygate/77", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.body.text.contains("77"))
            }
            try await client.execute(uri: "/api/drones/zigbee/1", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.body.text.contains("unknown protocol"))
            }
            try await client.execute(uri: "/api/drones/skygate/x1", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/drones/mavlink/300", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    /// Tracks come from the database, downsampled to at most `points`, in every export format;
    /// bad times, formats and point counts are 400s that name the parameter.
    @Test func track() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        source.fly(drones: [4], frames: 200)
        try await makeApp(source).test(.router) { client in
            try await client.execute(uri: "/api/drones/skygate/4/track?points=10000", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect(json["rows_read"] as? Int == 200)
                #expect((json["points"] as? [Any])?.count == 200)
            }
            // The default range is an hour, the flight 200 s: buckets start at the first row.
            try await client.execute(uri: "/api/drones/skygate/4/track?points=100", method: .get) { response in
                let points = try response.body.json()["points"] as? [[String: Any]] ?? []
                #expect(points.count >= 60 && points.count <= 101)  // until defaults to now + 1 min
            }
            try await client.execute(uri: "/api/drones/skygate/4/track?points=20", method: .get) { response in
                let points = try response.body.json()["points"] as? [[String: Any]] ?? []
                #expect(points.count <= 21 && points.count >= 2)
            }
            for format in ["csv", "geojson", "gpx", "kml"] {
                try await client.execute(uri: "/api/drones/skygate/4/track?format=\(format)&points=50", method: .get) { response in
                    #expect(response.status == .ok, "\(format)")
                    #expect(response.headers[.contentDisposition]?.contains("skygate-4.\(format)") == true)
                    #expect(!response.body.text.isEmpty)
                }
            }
            try await client.execute(uri: "/api/drones/skygate/4/track?format=csv&points=10", method: .get) { response in
                let lines = response.body.text.split(separator: "\n")
                #expect(lines.first?.hasPrefix("protocol,drone,time") == true)
                #expect(lines.count <= 12)
            }
            let bad = [
                "from=yesterday": "from=", "until=2026-13-01": "until=", "from=2026-01-02&until=2026-01-01": "before",
                "format=xlsx": "format=", "points=1": "points=", "points=abc": "points=",
            ]
            for (query, mention) in bad {
                try await client.execute(uri: "/api/drones/skygate/4/track?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.body.text.contains(mention), "\(query): \(response.body.text)")
                }
            }
            try await client.execute(uri: "/api/drones/skygate/5/track", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// `/api/stats` carries the totals and, once the history has samples, the 1/5/15-minute
    /// windows; `/api/stats/history` gives per-second series.
    @Test func statsWindows() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let history = StatsHistory()
        let sampler = StatsSampler(source: source, history: history)
        sampler.sample()
        source.fly(drones: [1], frames: 10)
        try await Task.sleep(for: .milliseconds(50))
        sampler.sample()
        try await makeApp(source, history: history).test(.router) { client in
            try await client.execute(uri: "/api/stats", method: .get) { response in
                let json = try response.body.json()
                #expect(json["stored"] as? Int == 10)
                let windows = json["windows"] as? [String: [String: Any]] ?? [:]
                #expect(Set(windows.keys) == ["1m", "5m", "15m"])
                #expect((windows["1m"]?["stored_per_second"] as? Double ?? 0) > 0)
            }
            try await client.execute(uri: "/api/stats/history", method: .get) { response in
                let json = try response.body.json()
                #expect((json["stored"] as? [Double])?.count == 1)
            }
        }
    }

    /// The history ring keeps exactly its capacity and computes a window over the samples it has.
    @Test func historyRingWraps() {
        let history = StatsHistory()
        for second in 0..<(StatsHistory.capacity + 100) {
            var sample = CounterSample()
            sample.seconds = Double(second)
            sample.received = UInt64(second) * 10
            history.append(sample)
        }
        let recent = history.recent()
        #expect(recent.count == StatsHistory.capacity)
        #expect(recent.first?.seconds == 100)
        let windows = history.windows()
        #expect(windows["1m"]?.received_per_second == 10)
        #expect(windows["15m"]?.seconds == 900)
    }

    /// HTTP ingest takes Skygate frames and JSON samples into the pipeline (202), and answers 400
    /// with the reason for malformed bodies, 413 for oversized ones, 415 for other content types
    /// and 503 when the ring is full, counting those as dropped so the accounting still balances.
    @Test func ingest() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let octet: HTTPFields = [.contentType: "application/octet-stream"]
        let json: HTTPFields = [.contentType: "application/json"]
        try await makeApp(source).test(.router) { client in
            let frames = (0..<40).flatMap { frame(drone: 21, sequence: UInt32($0), secondsAgo: 40 - Double($0)) }
            try await client.execute(uri: "/api/telemetry", method: .post, headers: octet, body: ByteBuffer(bytes: frames)) { response in
                #expect(response.status == .accepted)
            }
            #expect(source.droneStatus(of: DroneIdentity(protocol: .skygate, number: 21))?.framesReceived == 40)
            let samples = """
                {"samples": [{"drone": 22, "sequence": 1, "time": "\(isoNow())", "lat": 47.1, "lon": 8.5, "alt_m": 420.5, "battery_percent": 55},
                             {"drone": 22, "sequence": 2, "time_us": \(UInt64(Date().timeIntervalSince1970 * 1e6)), "lat": 47.2, "lon": 8.6, "alt_m": 421}]}
                """
            try await client.execute(uri: "/api/telemetry", method: .post, headers: json, body: ByteBuffer(string: samples)) { response in
                #expect(response.status == .accepted)
            }
            let drone22 = source.droneStatus(of: DroneIdentity(protocol: .skygate, number: 22))
            #expect(drone22?.framesReceived == 2)
            #expect(drone22?.batteryPercent == 255 || drone22?.batteryPercent == 55)

            var damaged = frame(drone: 23, sequence: 1)
            damaged[30] ^= 0xFF
            let badBodies: [(HTTPFields, [UInt8], String)] = [
                (octet, [], "empty body"),
                (octet, damaged, "bad_crc"),
                (octet, Array(frame(drone: 23, sequence: 1).dropLast(3)), "truncated"),
                (octet, [0x00, 0x01, 0x02], "bad_magic"),
                (json, Array("{\"samples\": [{\"drone\": 1}]}".utf8), "missing"),
                (json, Array("not json".utf8), "not valid JSON"),
                (json, Array("{\"samples\": []}".utf8), "no samples"),
                (json, Array("[{\"drone\":1,\"sequence\":1,\"time_us\":1,\"lat\":91,\"lon\":0,\"alt_m\":0}]".utf8), "lat"),
                (json, Array("[{\"drone\":1,\"sequence\":1,\"time\":\"noon\",\"lat\":1,\"lon\":0,\"alt_m\":0}]".utf8), "time"),
            ]
            for (headers, body, reason) in badBodies {
                try await client.execute(uri: "/api/telemetry", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                    #expect(response.status == .badRequest, "\(reason)")
                    #expect(response.body.text.contains(reason), "\(reason): \(response.body.text)")
                }
            }
            try await client.execute(
                uri: "/api/telemetry", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi")
            ) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            let huge = [UInt8](repeating: 0xA7, count: Limits.Status.ingestBodyBytesMax + 1)
            try await client.execute(uri: "/api/telemetry", method: .post, headers: octet, body: ByteBuffer(bytes: huge)) { response in
                #expect(response.status == .contentTooLarge)
            }
            source.ringFull.store(true, ordering: .relaxed)
            try await client.execute(
                uri: "/api/telemetry", method: .post, headers: octet, body: ByteBuffer(bytes: frame(drone: 24, sequence: 1))
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
            }
            try await client.execute(uri: "/api/telemetry", method: .get) { response in
                #expect(response.status == .notFound || response.status == .methodNotAllowed)
            }
        }
        let snapshot = source.counters.snapshot()
        #expect(snapshot.isBalanced)
        #expect(snapshot.stored == 42)
        #expect(snapshot.dropped[.ringFull] == 1)
    }

    /// Octet-stream bodies are split at frame boundaries into datagrams no larger than a slot;
    /// intact frames the pipeline will reject (an unknown type) still pass on to be counted.
    @Test func ingestSplitsAtFrameBoundaries() throws {
        let frames = (0..<100).map { frame(drone: 1, sequence: UInt32($0)) }
        let datagrams = try IngestBody.datagrams(fromFrames: frames.flatMap { $0 }, datagramBytesMax: 2_048)
        #expect(datagrams.allSatisfy { $0.count <= 2_048 && $0.count % frames[0].count == 0 })
        #expect(datagrams.reduce(0) { $0 + $1.count } == frames.count * frames[0].count)
    }

    /// With an access token, the API needs it in the header; the query string is refused; the
    /// (data-free) pages and the health endpoints need no token. HTTPAccessTests has the rest.
    @Test func accessToken() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let token = "correct-horse-battery-staple"
        try await makeApp(source, settings: StatusSettings(accessToken: token)).test(.router) { client in
            try await client.execute(uri: "/api/drones", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"skygate\"")
                #expect(response.headers[.contentSecurityPolicy] != nil)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/drones", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/drones?access_token=\(token)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.body.text.contains("not accepted in the query string"))
            }
            try await client.execute(uri: "/api/drones", method: .get, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            // The pages carry no data, so they open without the token (the review page too);
            // their script then sends the token from the fragment.
            for uri in ["/", "/review", "/drones/skygate/1"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                }
            }
        }
    }

    /// The pages are self-contained (no external script, style, font or image URL), set a CSP,
    /// and never put data into the DOM with innerHTML.
    @Test func pages() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        try await makeApp(source).test(.router) { client in
            for uri in ["/", "/drones/skygate/1", "/review"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("connect-src 'self'") == true)
                    let html = response.body.text
                    #expect(html.contains("<script>"))
                    #expect(!html.contains("innerHTML"))
                    #expect(!html.contains("src=\"http"))
                    #expect(!html.contains("@import"))
                }
            }
            try await client.execute(uri: "/drones/bogus/1", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    func isoNow() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date().addingTimeInterval(-1))
    }
}
