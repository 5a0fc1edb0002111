import Foundation
import Gateway
import ServiceLifecycle
import SkygateTestSupport
import StatusServer
import Synchronization
import Telemetry
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP side of a real gateway on loopback under hostile clients (issue 20, docs/security.md
/// "HTTP"), through raw TCP sockets so each client behaves exactly as written: idle and slow
/// clients are closed once the idle timeout runs out while a UDP fleet is stored whole; the
/// connection cap closes one connection too many at once and admits again when a slot frees;
/// a foreign `Host` is refused; tokens work only in the header and only for their own door.
/// Every wait is bounded; nothing asserts how long anything took.
@Suite(.serialized) struct GatewayHTTPHardeningTests {
    /// A gateway with its HTTP side running in a service group, and its HTTP port.
    struct Running {
        let gateway: Gateway
        let group: ServiceGroup
        let service: Task<Void, any Error>
        let port: Int

        static func start(_ configure: (inout GatewayConfiguration) -> Void, in directory: TemporaryDirectory) async throws -> Running {
            var configuration = GatewayConfiguration()
            configuration.udpAddress = "127.0.0.1:0"
            configuration.httpAddress = "127.0.0.1:0"
            configuration.databasePath = directory.file("gateway.db")
            configuration.limits.commitInterval = .milliseconds(50)
            configure(&configuration)
            let gateway = try Gateway(configuration: configuration)
            let httpPort = Mutex(0)
            let group = try gateway.makeServiceGroup(
                logger: .init(label: "test"), onRunning: { port in httpPort.withLock { $0 = port } }, onStopped: { _ in })
            let service = Task { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while httpPort.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let port = httpPort.withLock { $0 }
            try #require(port != 0, "the HTTP side did not start")
            return Running(gateway: gateway, group: group, service: service, port: port)
        }

        func stop() async throws -> IngestCounters.Snapshot {
            await group.triggerGracefulShutdown()
            try await service.value
            return gateway.counters.snapshot()
        }

        /// `/api/stats` on a fresh connection, decoded.
        func stats(token: String? = nil) throws -> StatsReport {
            let connection = try RawHTTPConnection(port: port)
            let response = try connection.request("GET /api/stats", host: "127.0.0.1:\(port)", headers: token.map { ["Authorization: Bearer \($0)"] } ?? [])
            try #require(response.status == 200, "\(response)")
            return try JSONDecoder().decode(StatsReport.self, from: Data(response.body.utf8))
        }
    }

    /// Three hostile clients (one that connects and says nothing, one that trickles a request
    /// head, one that trickles a POST body) are each closed by the gateway before their
    /// trickle runs out, while a UDP fleet flies: the fleet's rows are complete, the
    /// accounting balances, a polite client is answered throughout, and the closures are counted.
    @Test func idleAndSlowClientsAreClosed() async throws {
        let directory = TemporaryDirectory()
        let running = try await Running.start({ $0.limits.httpIdleTimeout = .seconds(1) }, in: directory)
        let port = running.port
        let host = "127.0.0.1:\(port)"

        let idle = try RawHTTPConnection(port: port)
        let slowHead = try RawHTTPConnection(port: port)
        let slowBody = try RawHTTPConnection(port: port)
        // Each trickle would last 20 s (100 pieces, 200 ms apart); the gateway must cut it short.
        let headClosed = Task.detached { () -> Bool in
            guard slowHead.send("GET /api/stats HTTP/1.1\r\nHost: \(host)\r\n") else { return true }
            for index in 0..<100 {
                try? await Task.sleep(for: .milliseconds(200))
                if !slowHead.send("X-Slow-\(index): a\r\n") { return true }
            }
            return false
        }
        let bodyClosed = Task.detached { () -> Bool in
            guard slowBody.send("POST /api/telemetry HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[") else {
                return true
            }
            for _ in 0..<100 {
                try? await Task.sleep(for: .milliseconds(200))
                if !slowBody.send(" ") { return true }
            }
            return false
        }
        let summary = try fly(drones: 20, rate: 10, duration: 3, port: running.gateway.udpPort)
        #expect(idle.waitForClose(seconds: 15), "the idle client was not closed")
        #expect(await headClosed.value, "the client trickling a request head was not closed")
        #expect(await bodyClosed.value, "the client trickling a body was not closed")
        // A polite client on a fresh connection is answered.
        let stats = try running.stats()
        #expect(stats.http.map { $0.connections_timed_out >= 3 } == true, "\(String(describing: stats.http))")
        #expect(stats.http?.idle_timeout_seconds == 1)

        #expect(waitUntil { running.gateway.counters.snapshot().received >= UInt64(summary.totals.datagramsIntact) })
        let final = try await running.stop()
        #expect(final.isBalanced)
        #expect(final.droppedTotal == 0)
        let rows = try storedRows(directory.file("gateway.db"))
        #expect(rows.count == 20)
        #expect(rows.values.reduce(0) { $0 + $1.count } == summary.totals.samplesIntact)
    }

    /// With a cap of three, a fourth connection is closed at once without an answer, and is
    /// counted; once one of the three closes, a new connection is answered again.
    @Test func connectionCapRefusesExtraConnections() async throws {
        let directory = TemporaryDirectory()
        let running = try await Running.start({ $0.limits.httpConnectionsMax = 3 }, in: directory)
        let port = running.port
        let host = "127.0.0.1:\(port)"
        // Three keep-alive connections, each answered once, so each holds its slot.
        let held = try (0..<3).map { _ in try RawHTTPConnection(port: port) }
        for connection in held {
            #expect(try connection.request("GET /healthz", host: host).status == 200)
        }
        let extra = try RawHTTPConnection(port: port)
        _ = extra.send("GET /healthz HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(extra.waitForClose(seconds: 10), "a fourth connection was served")
        #expect(extra.received.isEmpty, "the refused connection got bytes: \(extra.received)")

        held[0].close()
        // The slot frees when the server sees the close; a new connection is served then.
        var served = false
        for _ in 0..<100 where !served {
            if let connection = try? RawHTTPConnection(port: port), (try? connection.request("GET /healthz", host: host).status) == 200 {
                served = true
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(served, "no connection was served after a slot freed")
        let stats = try #require(try? held[1].request("GET /api/stats", host: host))
        let report = try JSONDecoder().decode(StatsReport.self, from: Data(stats.body.utf8))
        #expect(report.http.map { $0.connections_refused >= 1 && $0.connections_max == 3 } == true, "\(String(describing: report.http))")
        #expect(try await running.stop().isBalanced)
    }

    /// A gateway without a token answers only its own loopback names: a request for another
    /// `Host` (a rebinding page's) is refused with 421, ingest included, and nothing it sent is
    /// counted as received.
    @Test func foreignHostIsRefused() async throws {
        let directory = TemporaryDirectory()
        let running = try await Running.start({ _ in }, in: directory)
        let port = running.port
        for host in ["127.0.0.1:\(port)", "localhost:\(port)"] {
            #expect(try RawHTTPConnection(port: port).request("GET /api/drones", host: host).status == 200, "\(host)")
        }
        for host in ["evil.example:\(port)", "127.0.0.1:\(port + 1)", "attacker.example"] {
            let response = try RawHTTPConnection(port: port).request("GET /api/drones", host: host)
            #expect(response.status == 421, "\(host): \(response)")
            #expect(response.body.contains("DNS rebinding"))
        }
        let body = #"[{"drone": 77, "sequence": 1, "time_us": \#(UInt64(Date().timeIntervalSince1970 * 1e6)), "lat": 47, "lon": 8, "alt_m": 400}]"#
        let ingest = try RawHTTPConnection(port: port).request(
            "POST /api/telemetry", host: "evil.example:\(port)", headers: ["Content-Type: application/json"], body: body)
        #expect(ingest.status == 421)
        #expect(try running.stats().http?.host_refused == 4)
        let final = try await running.stop()
        #expect(final.received == 0 && final.isBalanced)
    }

    /// With both tokens: the read token reads and cannot ingest, the ingest token ingests (and
    /// its sample is stored) and cannot read, a token in the query string is refused, and the
    /// `Host` is not checked (the token protects).
    @Test func readAndIngestTokensOnTheRealGateway() async throws {
        let directory = TemporaryDirectory()
        let read = "read-Zq8Lm3Vx7Tb2Nc5K"
        let ingest = "ingest-Pw4Hs9Dj1Ry6Ge0"
        try Data("\(ingest)\n".utf8).write(to: URL(fileURLWithPath: directory.file("ingest-token")))
        let running = try await Running.start({
            $0.accessToken = read
            $0.ingestTokenFile = directory.file("ingest-token")
        }, in: directory)
        let port = running.port
        let host = "gateway.example:\(port)"
        func request(_ line: String, token: String?, body: String? = nil) throws -> RawHTTPConnection.Response {
            var headers = token.map { ["Authorization: Bearer \($0)"] } ?? []
            if body != nil { headers.append("Content-Type: application/json") }
            return try RawHTTPConnection(port: port).request(line, host: host, headers: headers, body: body)
        }
        let sample = #"[{"drone": 88, "sequence": 1, "time_us": \#(UInt64(Date().timeIntervalSince1970 * 1e6)), "lat": 47, "lon": 8, "alt_m": 400}]"#
        #expect(try request("GET /api/drones", token: read).status == 200)
        #expect(try request("GET /metrics", token: read).status == 200)
        #expect(try request("GET /api/drones", token: ingest).status == 403)
        #expect(try request("GET /metrics", token: ingest).status == 403)
        #expect(try request("GET /api/drones", token: nil).status == 401)
        #expect(try request("GET /api/drones?access_token=\(read)", token: nil).status == 400)
        #expect(try request("POST /api/telemetry", token: read, body: sample).status == 403)
        #expect(try request("POST /api/telemetry", token: nil, body: sample).status == 401)
        #expect(try request("POST /api/telemetry", token: ingest, body: sample).status == 202)
        #expect(try request("GET /", token: nil).status == 200, "the page itself needs no token")
        let drone = DroneIdentity(protocol: .skygate, number: 88)
        #expect(waitUntil { running.gateway.droneStatus(of: drone) != nil })
        let final = try await running.stop()
        #expect(final.isBalanced && final.received == 1 && final.stored == 1)
        #expect(try storedRows(directory.file("gateway.db"))[drone]?.count == 1)
    }

    /// A gateway whose configuration holds the placeholder token does not start: it refuses before
    /// it binds a socket or opens the store (no database file is created), as `serve` does.
    @Test func placeholderTokenStopsTheGateway() throws {
        let directory = TemporaryDirectory()
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "0.0.0.0:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.accessToken = "REPLACE-ME-access-token"
        #expect {
            _ = try Gateway(configuration: configuration)
        } throws: { error in
            "\(error)".contains("--access-token is still the shipped placeholder")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("gateway.db")))
    }
}

/// One TCP connection to 127.0.0.1 with blocking calls and receive time-outs, so a test can be a
/// client that misbehaves byte by byte.
final class RawHTTPConnection: @unchecked Sendable {
    // @unchecked: each connection is used by one task at a time.
    private var fd: Int32
    private(set) var received = ""

    struct Response: CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "\(status) \(body.prefix(200))" }
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Sends `text` whole; false once the peer has closed (EPIPE, ECONNRESET).
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        // A close the peer already sent shows on the next receive.
        return !peekClosed()
    }

    private func peekClosed() -> Bool {
        var byte: UInt8 = 0
        let result = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return result == 0 || (result < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Reads until the peer closes (true) or `seconds` pass (false); keeps what arrived.
    func waitForClose(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return true  // reset
            }
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return false
    }

    /// Sends one HTTP/1.1 request (`line` is "METHOD PATH") and reads its answer (Content-Length
    /// bodies only, which is what the gateway sends for these).
    func request(_ line: String, host: String, headers: [String] = [], body: String? = nil) throws -> Response {
        var text = "\(line) HTTP/1.1\r\nHost: \(host)\r\n"
        for header in headers { text += header + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        received = ""
        _ = send(text)
        let deadline = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var bytes: [UInt8] = []
        while Date() < deadline {
            if let response = Self.parse(bytes) { return response }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                break
            }
            bytes += buffer[0..<count]
        }
        if let response = Self.parse(bytes) { return response }
        throw POSIXError(.ECONNRESET)
    }

    static func parse(_ bytes: [UInt8]) -> Response? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<headEnd.lowerBound]
        guard let statusText = head.split(separator: " ").dropFirst().first, let status = Int(statusText) else { return nil }
        var length = 0
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let bodyBytes = Array(text[headEnd.upperBound...].utf8)
        guard bodyBytes.count >= length else { return nil }
        return Response(status: status, body: String(decoding: bodyBytes.prefix(length), as: UTF8.self))
    }
}
