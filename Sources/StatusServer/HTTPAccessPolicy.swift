import Synchronization
import Telemetry

/// Who may do what over HTTP (docs/security.md, "HTTP"; docs/operations.md, "Access and safety").
///
/// - The read token (`--access-token`) opens the JSON API, `/metrics` and the event stream.
/// - The ingest token (`--ingest-token`) opens `POST /api/telemetry` and nothing else; the read
///   token does not open it. With a read token and no ingest token, HTTP ingest is closed.
/// - Tokens count only in `Authorization: Bearer`; `?access_token=` is refused outright (a token
///   in a URL lands in access logs, proxy logs and browser history).
/// - The pages (`/`, `/drones/…`) are static documents with no data in them and need no token;
///   they take it from the URL's fragment (`#access_token=…`, which the browser never sends) and
///   send it as a header on every call they make.
/// - `/healthz` and `/readyz` are open: Kubernetes probes carry no token.
/// - Without a read token (loopback), `hostCheck` refuses every request whose `Host` is not a
///   loopback name or address with the bound port, so a web page cannot reach the API through
///   DNS rebinding.
public struct HTTPAccessPolicy: Sendable {
    public var readToken: String?
    public var ingestToken: String?
    public var hostCheck: LoopbackHostCheck?

    public init(readToken: String? = nil, ingestToken: String? = nil, hostCheck: LoopbackHostCheck? = nil) {
        self.readToken = readToken
        self.ingestToken = ingestToken
        self.hostCheck = hostCheck
    }

    /// The placeholder the shipped Kubernetes Secret holds; any token containing `REPLACE-ME`
    /// is refused too.
    public static let shippedPlaceholders = ["REPLACE-ME-access-token", "REPLACE-ME-ingest-token", "changeme", "change-me"]

    /// Why `token` cannot protect the gateway, in words that name `option`; nil when it can.
    /// Never quotes the token (it may be a real one with a typo).
    public static func tokenProblem(_ token: String, option: String) -> String? {
        if token.uppercased().contains("REPLACE-ME") || shippedPlaceholders.contains(where: { $0.lowercased() == token.lowercased() }) {
            return "\(option) is still the shipped placeholder: put a random secret there (for example `openssl rand -base64 32`)"
        }
        if token.count < Limits.Status.tokenCharactersMin {
            return "\(option) must be at least \(Limits.Status.tokenCharactersMin) characters, got \(token.count)"
        }
        if token.contains(where: { $0.isWhitespace || !$0.isASCII || $0.asciiValue.map { $0 < 0x21 || $0 == 0x7F } ?? true }) {
            return "\(option) must be printable ASCII without spaces (it travels in an HTTP header)"
        }
        return nil
    }
}

/// The `Host` check of a gateway without a read token: only `localhost`, `127.x.y.z` and `[::1]`,
/// with the port the server is bound to (learnt once it is bound, so port 0 works).
public final class LoopbackHostCheck: Sendable {
    private let port: Atomic<Int>
    private let refused = Atomic<UInt64>(0)

    /// `port` 0 (or unknown): every request is refused until `bound(port:)` is called.
    public init(port: Int = 0) {
        self.port = Atomic(port > 0 ? port : -1)
    }

    public func bound(port: Int) { self.port.store(port, ordering: .releasing) }

    /// Requests refused for their `Host`.
    public var refusedCount: UInt64 { refused.load(ordering: .relaxed) }

    /// Why `authority` (the request's `Host`) is refused; nil when it is a loopback name with
    /// the bound port.
    func problem(authority: String?) -> String? {
        let problem = Self.problem(authority: authority, boundPort: port.load(ordering: .acquiring))
        if problem != nil { refused.add(1, ordering: .relaxed) }
        return problem
    }

    static func problem(authority: String?, boundPort: Int) -> String? {
        let expected = "localhost:\(boundPort), 127.0.0.1:\(boundPort) or [::1]:\(boundPort)"
        guard let authority, !authority.isEmpty else {
            return "this gateway has no access token, so it answers only requests for \(expected), and this one has no Host"
        }
        let refusal = "this gateway has no access token, so it answers only requests for \(expected), not for '\(authority.prefix(100))' "
            + "(a web page reaching it through DNS rebinding looks like this); use a loopback address, or start it with --access-token"
        var host = Substring(authority)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return refusal }
            let after = host[host.index(after: close)...]
            host = host[...close]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return refusal }
                portText = after.dropFirst()
            }
        } else if let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        let port = portText.map { Int($0) } ?? 80
        guard boundPort > 0, port == boundPort, isLoopbackName(host.lowercased()) else { return refusal }
        return nil
    }

    static func isLoopbackName(_ host: String) -> Bool {
        if host == "localhost" || host == "localhost." || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127"
            && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part)! <= 255 }
    }
}
