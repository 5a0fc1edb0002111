import Crypto
import Foundation
import Hummingbird

/// Puts the security headers on every response, and applies the `HTTPAccessPolicy`: the `Host`
/// check of a gateway without a read token, no tokens in query strings, the read token for the
/// API, `/metrics` and the event stream, the ingest token for `POST /api/telemetry`. The health
/// endpoints and the (data-free) pages need no token. Refusals carry the same headers.
struct SecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The page loads nothing from elsewhere: only the pages' own inline script and style run,
    /// named by their SHA-256 (CSP Level 2 hash sources, so no `'unsafe-inline'` and no per-response
    /// nonce: the pages stay static buffers); images (map tiles) from anywhere the operator
    /// configured; fetches back to this origin.
    static var contentSecurityPolicy: String { InlineContentPolicy.header }
    static var openPaths: Set<String> { ["/healthz", "/readyz"] }

    let access: HTTPAccessPolicy

    init(access: HTTPAccessPolicy) {
        self.access = access
    }

    /// What a request asks for, as far as tokens go.
    enum Scope: Equatable {
        /// `/healthz`, `/readyz`.
        case open
        /// The HTML pages: static, no data; they need no token.
        case page
        /// `POST /api/telemetry`.
        case ingest
        /// Everything else: the JSON API, `/metrics`, the event stream.
        case read
    }

    static func scope(method: HTTPRequest.Method, path: String) -> Scope {
        if openPaths.contains(path) { return .open }
        if path == "/api/telemetry" && method == .post { return .ingest }
        if (method == .get || method == .head) && (path == "/" || path == "/review" || path.hasPrefix("/drones/")) { return .page }
        return .read
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            try check(request)
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
    }

    /// Throws the refusal, if any: 421 for a foreign `Host`, 400 for a token in the query string,
    /// 401 without the right token, 403 for a token of the other kind (or ingest that is closed).
    func check(_ request: Request) throws {
        if let hostCheck = access.hostCheck, let problem = hostCheck.problem(authority: request.head.authority) {
            throw HTTPError(.init(code: 421, reasonPhrase: "Misdirected Request"), message: problem)
        }
        if request.uri.queryParameters.get("access_token") != nil {
            throw HTTPError(
                .badRequest,
                message: "tokens are not accepted in the query string (they would end up in logs and browser history): "
                    + "send 'Authorization: Bearer TOKEN'; the status page takes '#access_token=TOKEN' after its address")
        }
        let header = request.headers[.authorization] ?? ""
        let bearer = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : nil
        let isReadToken = access.readToken.map { Self.constantTimeEquals(bearer, $0) } ?? false
        let isIngestToken = access.ingestToken.map { Self.constantTimeEquals(bearer, $0) } ?? false
        switch Self.scope(method: request.method, path: request.uri.path) {
        case .open, .page:
            return
        case .read:
            guard access.readToken != nil, !isReadToken else { return }
            if isIngestToken {
                throw HTTPError(.forbidden, message: "the ingest token only opens POST /api/telemetry; reading needs the access token")
            }
            throw Self.unauthorized("this gateway needs its access token in 'Authorization: Bearer TOKEN'")
        case .ingest:
            if access.ingestToken != nil {
                guard !isIngestToken else { return }
                if isReadToken {
                    throw HTTPError(.forbidden, message: "the access token only reads; POST /api/telemetry needs the ingest token")
                }
                throw Self.unauthorized("POST /api/telemetry needs the ingest token in 'Authorization: Bearer TOKEN'")
            }
            if access.readToken != nil {
                throw HTTPError(
                    .forbidden, message: "HTTP ingest is closed on this gateway: it has an access token but no --ingest-token")
            }
        }
    }

    static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"skygate\""], message: message)
    }

    /// Compares a presented token with the configured one in time that depends only on the
    /// lengths, never on where the first differing byte is.
    static func constantTimeEquals(_ presented: String?, _ expected: String) -> Bool {
        guard let presented else { return false }
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<Swift.max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// The Content-Security-Policy, with the hash of every inline `<script>` and `<style>` block of the
/// pages this server sends (worked out once, from the pages as assembled from their embedded
/// front-end files, so editing a file cannot leave a stale hash behind).
enum InlineContentPolicy {
    static let header: String = {
        let pages = [StatusPage.html, DronePage.html, ReviewPage.html]
        let scripts = pages.flatMap { blocks(of: "script", in: $0) }.map(hashSource)
        let styles = pages.flatMap { blocks(of: "style", in: $0) }.map(hashSource)
        return "default-src 'none'; script-src \(scripts.joined(separator: " ")); style-src \(styles.joined(separator: " ")); "
            + "img-src 'self' data: http: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }()

    /// The text between each `<tag>` and `</tag>` (the pages write these tags without attributes).
    static func blocks(of tag: String, in html: String) -> [String] {
        var found: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex) {
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// `'sha256-…'`: base64 of the SHA-256 of the block's UTF-8 bytes (CSP Level 2, section 4.2.4).
    static func hashSource(_ block: String) -> String {
        "'sha256-" + Data(SHA256.hash(data: Data(block.utf8))).base64EncodedString() + "'"
    }
}
