import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization
import Telemetry

/// A webhook receiver for the tests: a Hummingbird server on 127.0.0.1 (an ephemeral port, or a
/// given one to come back on) that checks every request's headers and signature the way
/// docs/events.md tells receivers to, decodes the body, records the event ids, and answers with
/// the status `answer` picks for the request's number (1, 2, ...).
public final class WebhookReceiver: Sendable {
    public let secret: [UInt8]?
    public let answer: @Sendable (_ requestNumber: Int) -> HTTPResponse.Status
    private let state = Mutex(Recorded())
    private let server = Mutex<Task<Void, any Error>?>(nil)

    public struct Recorded: Sendable {
        public var requests = 0
        /// Ids of events in requests answered 2xx, once per delivery (duplicates kept).
        public var deliveredIDs: [UInt64] = []
        /// Requests whose headers, signature or body were wrong, with what was wrong.
        public var problems: [String] = []
        public var deliveryIDs: [String] = []
        public var gatewayNames: Set<String> = []
    }

    public init(secret: [UInt8]?, answer: @escaping @Sendable (_ requestNumber: Int) -> HTTPResponse.Status = { _ in .ok }) {
        self.secret = secret
        self.answer = answer
    }

    public var recorded: Recorded { state.withLock { $0 } }

    /// Starts the server and returns its port once it is bound.
    public func start(port: Int = 0) async throws -> Int {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return self.handle(headers: request.headers, body: Array(body.readableBytesView))
        }
        let bound = OneShotPort()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "test-receiver"),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? -1) },
            logger: Logger(label: "test-receiver"))
        server.withLock { $0 = Task { try await app.runService() } }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let port = bound.value { return port }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ReceiverError("the receiver did not bind within 10 s")
    }

    /// Stops the server and waits until its socket is closed.
    public func stop() async {
        guard let task = server.withLock({ task in defer { task = nil }; return task }) else { return }
        task.cancel()
        _ = await task.result
    }

    func handle(headers: HTTPFields, body: [UInt8]) -> Response {
        func header(_ name: String) -> String? { headers[.init(name)!] }
        var problems: [String] = []
        if header("Content-Type") != "application/json" { problems.append("Content-Type \(header("Content-Type") ?? "missing")") }
        if header("User-Agent") != "skygate" { problems.append("User-Agent \(header("User-Agent") ?? "missing")") }
        let deliveryID = header("X-Skygate-Delivery") ?? ""
        if deliveryID.isEmpty { problems.append("no X-Skygate-Delivery") }
        let timestamp = header("X-Skygate-Timestamp") ?? ""
        if let seconds = Double(timestamp) {
            if abs(seconds - Date().timeIntervalSince1970) > 300 { problems.append("timestamp \(timestamp) is not now") }
        } else {
            problems.append("X-Skygate-Timestamp '\(timestamp)'")
        }
        let signature = header("X-Skygate-Signature")
        if let secret {
            // Computed here independently of WebhookDispatcher.signature.
            var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
            hmac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body)
            let expected = "sha256=" + hmac.finalize().map { String(format: "%02x", $0) }.joined()
            if signature != expected { problems.append("signature \(signature ?? "missing") != \(expected)") }
        } else if signature != nil {
            problems.append("a signature without a secret")
        }
        struct Body: Decodable {
            var gateway: String
            var events: [AlertEvent]
        }
        let decoded = try? JSONDecoder().decode(Body.self, from: Data(body))
        if decoded == nil { problems.append("the body is not {gateway, events}: \(String(decoding: body, as: UTF8.self).prefix(200))") }
        let status = state.withLock { state in
            state.requests += 1
            let status = answer(state.requests)
            state.problems += problems
            state.deliveryIDs.append(deliveryID)
            if let decoded {
                state.gatewayNames.insert(decoded.gateway)
                if (200..<300).contains(status.code) { state.deliveredIDs += decoded.events.map(\.id) }
            }
            return status
        }
        return Response(status: status)
    }
}

public struct ReceiverError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The port the server reports once it is bound.
public final class OneShotPort: Sendable {
    public init() {}
    private let port = Mutex<Int?>(nil)
    public func set(_ value: Int) { port.withLock { $0 = value } }
    public var value: Int? { port.withLock { $0 } }
}
