import Crypto
import Foundation
import Hummingbird

/// Puts the security headers on every response and, when an access token is configured, refuses
/// requests without it (401). The health endpoints stay open: Kubernetes probes carry no token.
struct SecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The page loads nothing from elsewhere: only the pages' own inline script and style run,
    /// named by their SHA-256 (CSP Level 2 hash sources, so no `'unsafe-inline'` and no per-response
    /// nonce: the pages stay static buffers); images (map tiles) from anywhere the operator
    /// configured; fetches back to this origin.
    static var contentSecurityPolicy: String { InlineContentPolicy.header }
    static var openPaths: Set<String> { ["/healthz", "/readyz"] }

    let accessToken: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let accessToken, !Self.openPaths.contains(request.uri.path) {
            let header = request.headers[.authorization] ?? ""
            let query = request.uri.queryParameters.get("access_token").map { String($0) }
            let bearer = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : nil
            guard Self.constantTimeEquals(bearer, accessToken) || Self.constantTimeEquals(query, accessToken) else {
                throw HTTPError(.unauthorized, message: "this gateway needs an access token (Authorization: Bearer, or ?access_token=)")
            }
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
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
/// pages this server sends (worked out once, from the pages themselves, so editing a page cannot
/// leave a stale hash behind).
enum InlineContentPolicy {
    static let header: String = {
        let pages = [StatusPage.html, DronePage.html]
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
