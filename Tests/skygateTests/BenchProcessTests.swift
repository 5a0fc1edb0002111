import Foundation
import SkygateTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `skygate bench --http` as a user runs it: while the bench sends, the status page, the API and
/// `/metrics` answer from the same gateway on the port it printed to standard error; SIGINT ends
/// the sending early, and standard output is still one JSON report whose accounting balances.
@Suite("skygate bench --http process", .serialized)
struct BenchProcessTests {
    static func get(_ url: String) async throws -> (status: Int, headers: [AnyHashable: Any], body: Data) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.allHeaderFields ?? [:], data)
    }

    @Test func statusServerAnswersDuringTheBench() async throws {
        let drones = 12
        let process = Process()
        let output = Pipe(), errors = Pipe()
        process.executableURL = ServeProcessTests.executable
        process.arguments = [
            "bench", "--drones", "\(drones)", "--rate", "20", "--duration", "600", "--http", "127.0.0.1:0", "--json",
        ]
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        // The URL arrives on standard error once the port is bound (bounded wait).
        var errorText = ""
        var port = 0
        let deadline = Date().addingTimeInterval(20)
        while port == 0 && Date() < deadline {
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            errorText += String(decoding: data, as: UTF8.self)
            if let match = errorText.firstMatch(of: /status page on http:\/\/127\.0\.0\.1:(\d+)\//) { port = Int(match.1)! }
        }
        try #require(port > 0, "no status URL on standard error: \(errorText)")
        let base = "http://127.0.0.1:\(port)"

        let page = try await Self.get(base + "/")
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).hasPrefix("<!doctype html>"))
        let policy = page.headers["Content-Security-Policy"] as? String ?? ""
        #expect(policy.contains("script-src 'sha256-"), "policy: \(policy)")
        #expect(!policy.contains("unsafe-inline"))

        // The live fleet fills up while the bench sends. The bench would send for 10 minutes, so
        // the checks never race its end (on a CI machine whose cores and concurrency pool other
        // tests keep busy, a request can take seconds); SIGINT ends it afterwards.
        var listed = 0
        let fleetDeadline = Date().addingTimeInterval(30)
        while listed < drones && Date() < fleetDeadline {
            guard process.isRunning else { break }
            let (status, _, body) = try await Self.get(base + "/api/drones")
            #expect(status == 200)
            let report = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            listed = (report?["drones"] as? [[String: Any]])?.count ?? 0
            if listed < drones { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(listed == drones)

        if !process.isRunning {
            process.waitUntilExit()
            let rest = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("the bench ended (status \(process.terminationStatus), reason \(process.terminationReason.rawValue)) before the status checks were done; stderr: \(errorText + rest) stdout: \(out)")
            return
        }
        let metrics = try await Self.get(base + "/metrics")
        #expect(metrics.status == 200)
        let text = String(decoding: metrics.body, as: UTF8.self)
        let received = text.split(separator: "\n").first { $0.hasPrefix("skygate_datagrams_received_total ") }
        #expect((received.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0) > 0, "metrics: \(text.prefix(400))")

        // SIGINT: the bench stops sending, drains, and its standard output is exactly one JSON
        // report of what it sent.
        kill(process.processIdentifier, SIGINT)
        let exitDeadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < exitDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(report["balanced"] as? Bool == true)
        #expect(report["stopped_early"] as? Bool == true)
        #expect((report["send_seconds"] as? Double ?? 600) < 300)
        let sent = report["datagrams_sent"] as? Int ?? -1
        let received_ = report["datagrams_received"] as? Int ?? -2
        #expect(sent > 0)
        #expect(sent == received_, "loopback at 240 datagrams/s lost some: \(report)")
        #expect(report["samples_stored"] as? Int == sent)
    }

    /// A port already in use stops the bench at once with an error naming `--http`, before it sends.
    @Test func portInUseIsAnError() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let (status, output) = try CommandLineTests.run(["bench", "--drones", "2", "--duration", "5", "--http", "127.0.0.1:\(port)"])
        #expect(status != 0)
        #expect(output.contains("--http 127.0.0.1:\(port)"), "\(output)")
        #expect(output.contains("Address already in use"), "\(output)")
    }

    /// A bench that runs to its end says it was not stopped early, and its accounting balances.
    @Test func runToItsEndIsNotStoppedEarly() throws {
        let (status, output) = try CommandLineTests.run(["bench", "--drones", "2", "--rate", "5", "--duration", "1", "--json"])
        #expect(status == 0, "\(output)")
        let line = output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(output)")
        #expect(report["stopped_early"] as? Bool == false)
        #expect(report["balanced"] as? Bool == true)
        #expect((report["datagrams_sent"] as? Int ?? 0) > 0)
    }
}
