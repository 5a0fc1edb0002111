import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running `skygate serve` (the real executable) on ephemeral loopback ports with its HTTP
/// API, for end-to-end tests that go through the sockets a user's tools would: the ports are read
/// from its first lines of output, and `deinit` kills a server a failed test left running.
public final class ServeProcess {
    public let process = Process()
    let output = Pipe()
    public private(set) var text = ""
    public private(set) var udpPort: UInt16 = 0
    public private(set) var httpPort: Int = 0

    /// Starts `skygate serve --udp 127.0.0.1:0 --http 127.0.0.1:0 --db DATABASE ARGUMENTS` and
    /// waits (at most 20 s) for both ports.
    public init(database: String, arguments: [String] = []) throws {
        process.executableURL = SkygateProcess.executable
        process.arguments = ["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", database] + arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && (udpPort == 0 || httpPort == 0) {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let match = text.firstMatch(of: /UDP 127\.0\.0\.1:(\d+)/) { udpPort = UInt16(match.1)! }
            if let match = text.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\//) { httpPort = Int(match.1)! }
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public var isServing: Bool { udpPort != 0 && httpPort != 0 }

    /// `GET path`: the status and the body.
    public func get(_ path: String) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!)
        request.timeoutInterval = 10
        return try await send(request)
    }

    /// `POST path` with `body` as `contentType`: the status and the body.
    public func post(_ path: String, body: [UInt8], contentType: String) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        request.timeoutInterval = 10
        return try await send(request)
    }

    /// `GET path` as a JSON object.
    public func json(_ path: String) async throws -> [String: Any] {
        let (_, data) = try await get(path)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Polls `GET path` as JSON (every 20 ms, at most `seconds`) until `condition` holds; returns
    /// the last object read.
    public func poll(_ path: String, seconds: Double = 15, until condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try await json(path)
        while !condition(last) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            last = try await json(path)
        }
        return last
    }

    /// Sends SIGTERM and waits (bounded) for the exit: the status and all the output.
    public func terminate(seconds: Double = 30) -> (status: Int32, output: String) {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    private func send(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}
