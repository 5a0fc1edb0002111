import Foundation
import Hummingbird
import Telemetry
import TelemetryExport

/// The HTTP side beside the data path: the status page, the drone page, the JSON API, `/metrics`,
/// HTTP ingest and the health endpoints (docs/operations.md, "HTTP API"). Every handler does
/// bounded work from memory, except the track endpoint, which reads a bounded number of rows from
/// the database on a thread outside the server's pool.
public enum StatusRoutes {
    /// A router with every route, reading from `source`.
    /// - Parameter guards: the access policy and the bounds on clients; without it, the policy
    ///   is `settings.accessToken` as the read token, with no ingest token and no `Host` check.
    public static func makeRouter(
        source: some StatusSource, settings: StatusSettings = StatusSettings(), history: StatsHistory = StatsHistory(),
        guards: HTTPGuards? = nil
    ) -> Router<StatusRequestContext> {
        let guards = guards ?? HTTPGuards(access: HTTPAccessPolicy(readToken: settings.accessToken))
        let router = Router(context: StatusRequestContext.self)
        router.add(middleware: SecurityMiddleware(access: guards.access))
        let metrics = MetricsExporter()
        let tracks = TrackReader(limiter: guards.storeReads)

        router.getAndHead("/healthz") { _, _ in
            textResponse("ok\n")
        }
        router.getAndHead("/readyz") { _, _ in
            source.isReady ? textResponse("ready\n") : textResponse("not ready\n", status: .serviceUnavailable)
        }
        router.getAndHead("/api/stats") { _, _ in
            var report = source.statsReport()
            report.windows = history.windows()
            report.http = guards.report
            return jsonResponse(report)
        }
        router.getAndHead("/api/stats/history") { _, _ in
            jsonResponse(history.series())
        }
        let fleetCache = ResponseCache(name: "skygate-fleet") { jsonBody(fleetReport(source: source, settings: settings)) }
        router.getAndHead("/api/drones") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: fleetCache.body()))
        }
        router.getAndHead("/api/drones/:protocol/:id") { _, context in
            let drone = try droneIdentity(context)
            guard let status = source.droneStatus(of: drone) else { throw notFound(drone) }
            return jsonResponse(DroneReport(status, nowNanoseconds: SystemClock.realtimeNanoseconds(), settings: settings))
        }
        router.getAndHead("/api/drones/:protocol/:id/track") { request, context in
            let drone = try droneIdentity(context)
            let parameters = request.uri.queryParameters
            let query = try TrackQuery(nowMicroseconds: SystemClock.realtimeNanoseconds() / 1_000) { name in parameters.get(name).map { String($0) } }
            let track = try await tracks.read(source: source, drone: drone, query: query)
            if track.points.isEmpty && source.droneStatus(of: drone) == nil { throw notFound(drone) }
            return track.response(format: query.format)
        }
        router.getAndHead("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: MetricsExporter.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render(source: source, http: guards.report))))
        }
        EventRoutes.add(to: router, source: source, guards: guards)
        ReviewRoutes.add(to: router, source: source, settings: settings, guards: guards)
        router.post("/api/telemetry") { request, context in
            try await ingest(request, source: source)
        }
        router.getAndHead("/") { _, _ in
            htmlResponse(StatusPage.body)
        }
        router.getAndHead("/review") { _, _ in
            htmlResponse(ReviewPage.body)
        }
        router.getAndHead("/drones/:protocol/:id") { _, context in
            _ = try droneIdentity(context)
            return htmlResponse(DronePage.body)
        }
        return router
    }

    static func fleetReport(source: some StatusSource, settings: StatusSettings) -> FleetReport {
        let now = SystemClock.realtimeNanoseconds()
        let drones = source.droneStatuses().map { DroneReport($0, nowNanoseconds: now, settings: settings) }
        return FleetReport(
            drones: drones, stale_after_seconds: settings.staleAfterSeconds, offline_after_seconds: settings.offlineAfterSeconds,
            tile_url: settings.tileURL, online: drones.count { $0.state == "online" }, stale: drones.count { $0.state == "stale" },
            offline: drones.count { $0.state == "offline" }, generated_at_us: now / 1_000)
    }

    /// The (protocol, id) of the path, or a 400 that names the bad part.
    static func droneIdentity(_ context: StatusRequestContext) throws -> DroneIdentity {
        let protocolName = context.parameters.get("protocol") ?? ""
        guard let proto = TelemetryProtocol(name: protocolName) else {
            throw HTTPError(.badRequest, message: "unknown protocol '\(protocolName)': expected skygate or mavlink")
        }
        let idText = context.parameters.get("id") ?? ""
        guard let number = UInt32(idText) else {
            throw HTTPError(.badRequest, message: "drone id '\(idText)' is not a whole number in 0...4294967295")
        }
        if proto == .mavlink && number > 255 {
            throw HTTPError(.badRequest, message: "MAVLink system id \(number) is not in 0...255")
        }
        return DroneIdentity(protocol: proto, number: number)
    }

    static func notFound(_ drone: DroneIdentity) -> HTTPError {
        HTTPError(.notFound, message: "no drone \(drone) has been seen")
    }

    /// `POST /api/telemetry`: 202 when every datagram is in the ingest ring, 400 with the reason
    /// when the body is malformed, 413 when too large, 415 for another content type, 503 when
    /// the ring is full. An `application/octet-stream` body is Skygate or MAVLink frames, told
    /// apart by its first byte as UDP datagrams are; the gateway frames it (`IngestFraming`).
    static func ingest(_ request: Request, source: some StatusSource) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        guard contentType == "application/octet-stream" || contentType == "application/json" else {
            throw HTTPError(
                .unsupportedMediaType,
                message: "Content-Type must be application/octet-stream (Skygate or MAVLink frames) or application/json (samples)")
        }
        let buffer = try await request.body.collect(upTo: Limits.Status.ingestBodyBytesMax)
        let body = Array(buffer.readableBytesView)
        switch source.ingest(body: body, format: contentType == "application/json" ? .json : .frames) {
        case .malformed(let message):
            throw HTTPError(.badRequest, message: message)
        case .accepted(let count):
            return jsonResponse(IngestReply(accepted_datagrams: count, bytes: body.count), status: .accepted)
        case .ringFull(let accepted):
            var response = jsonResponse(
                IngestReply(accepted_datagrams: accepted, bytes: body.count, error: "ingest ring full: retry later"),
                status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
    }

    struct IngestReply: Encodable {
        var accepted_datagrams: Int
        var bytes: Int
        var error: String?
    }

    static func textResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page built once at start-up: the buffer is shared by every response, never copied.
    static func htmlResponse(_ body: ByteBuffer) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: body))
    }

    static func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: jsonBody(value)))
    }

    static func jsonBody(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
