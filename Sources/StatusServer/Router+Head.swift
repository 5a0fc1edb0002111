import Hummingbird

extension Router {
    /// Registers `handler` for `GET` and for `HEAD` (RFC 9110, 9.3.2: the same status and headers
    /// as `GET`, no content), which Hummingbird's router does not answer by itself: `curl -I`,
    /// uptime monitors and link checkers send `HEAD`, and got 404 for pages that exist. An error
    /// becomes its response first, so a `HEAD` for an unknown drone is a bodiless 404, never a
    /// body the client did not expect on a kept-alive connection.
    @discardableResult
    func getAndHead(_ path: RouterPath, use handler: @escaping @Sendable (Request, Context) async throws -> Response) -> Self {
        get(path, use: handler)
        head(path) { request, context in
            var response: Response
            do {
                response = try await handler(request, context)
            } catch let error as HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
            // The length the GET body would have, and no bytes.
            response.body = ResponseBody(contentLength: response.body.contentLength) { _ in }
            return response
        }
        return self
    }
}
