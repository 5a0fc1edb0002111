import Hummingbird

/// Puts the security headers on every response and, when an access token is configured, refuses
/// requests without it (401). The health endpoints stay open: Kubernetes probes carry no token.
struct SecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The page loads nothing from elsewhere: inline script and style only, images (map tiles)
    /// from anywhere the operator configured, fetches back to this origin.
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: http: https:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }
    static var openPaths: Set<String> { ["/healthz", "/readyz"] }

    let accessToken: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let accessToken, !Self.openPaths.contains(request.uri.path) {
            let header = request.headers[.authorization] ?? ""
            let query = request.uri.queryParameters.get("access_token")
            guard header == "Bearer " + accessToken || query == accessToken else {
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
}
