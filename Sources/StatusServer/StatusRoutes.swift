import Foundation
import Hummingbird

/// The HTTP API beside the data path. For now: `/api/stats`, `/healthz`, `/readyz`; the status
/// page and the drone API arrive with issue 7. Every handler does bounded work from memory.
public enum StatusRoutes {
    /// A router with every route, reading from `source`.
    public static func makeRouter(source: some StatusSource) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in
            textResponse("ok\n")
        }
        router.get("/readyz") { _, _ in
            source.isReady ? textResponse("ready\n") : textResponse("not ready\n", status: .serviceUnavailable)
        }
        router.get("/api/stats") { _, _ in
            jsonResponse(source.statsReport())
        }
        return router
    }

    static func textResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
