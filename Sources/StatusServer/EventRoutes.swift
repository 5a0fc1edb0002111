import Foundation
import Hummingbird
import ServiceLifecycle
import Telemetry
import TelemetryExport
import TelemetryStore

/// `/api/zones`, `/api/events` and the live `/api/events/stream` (Server-Sent Events), docs/events.md.
enum EventRoutes {
    static func add(to router: Router<StatusRequestContext>, source: some StatusSource, guards: HTTPGuards) {
        router.getAndHead("/api/zones") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: source.zonesJSON())))
        }
        router.getAndHead("/api/events") { request, _ in
            let query = try eventQuery(request.uri.queryParameters)
            // Through the limiter the track endpoint uses: each read opens a store (with
            // PostgreSQL, a server connection), so a burst of requests must not open one each.
            let result = try await guards.storeReads.run(what: "event") { () throws(StoreError) in try source.readEvents(query) }
            switch result {
            case .success(let events): return StatusRoutes.jsonResponse(EventList(events: events))
            case .failure(let error): throw HTTPError(.internalServerError, message: "reading events failed: \(error)")
            }
        }
        router.get("/api/events/stream") { request, context in
            let lastID = request.headers[.init("Last-Event-ID")!].flatMap { UInt64($0) }
            let peer = context.peer
            guard guards.streams.acquire(peer) else {
                throw HTTPError(
                    .tooManyRequests,
                    message: "this client already holds \(guards.streams.perPeerMax) event streams; close one (a page needs one)")
            }
            guard let subscription = source.subscribeEvents(after: lastID) else {
                guards.streams.release(peer)
                throw HTTPError(.serviceUnavailable, message: "no event stream here, or \(Limits.Events.streamClientsMax) clients already stream; retry")
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
                body: ResponseBody { writer in
                    defer {
                        subscription.cancel()
                        guards.streams.release(peer)
                    }
                    // An open stream would hold the server's graceful shutdown forever: SIGTERM
                    // ends every stream (the browser reconnects to the next gateway).
                    try await withGracefulShutdownHandler {
                        try await stream(subscription, into: &writer)
                    } onGracefulShutdown: {
                        subscription.cancel()
                    }
                })
        }
    }

    /// Writes each event as `id:`/`event: alert`/`data:` and a comment line when idle, until the
    /// client goes (the write throws) or the gateway ends the stream.
    static func stream(_ subscription: EventSubscription, into writer: inout any ResponseBodyWriter) async throws {
        let (lines, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(Limits.Events.streamBufferEvents))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let events = Task {
            for await event in subscription.events {
                guard let json = try? encoder.encode(event) else { continue }
                continuation.yield(ByteBuffer(string: "id: \(event.id)\nevent: alert\ndata: \(String(decoding: json, as: UTF8.self))\n\n"))
            }
            continuation.finish()
        }
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Limits.Events.streamKeepalive)
                continuation.yield(ByteBuffer(string: ": keepalive\n\n"))
            }
        }
        defer {
            events.cancel()
            keepalive.cancel()
            continuation.finish()
        }
        // Tells the browser how long to wait before it reconnects, and opens the stream at once.
        try await writer.write(ByteBuffer(string: "retry: 2000\n: skygate events\n\n"))
        for await line in lines { try await writer.write(line) }
        try await writer.finish(nil)
    }

    struct EventList: Encodable { var events: [AlertEvent] }

    /// `from`/`to` (µs since the epoch or RFC 3339), `drone` (`proto/id`), `kind`, `limit`.
    static func eventQuery(_ parameters: Parameters) throws -> EventQuery {
        var query = EventQuery()
        func time(_ name: String) throws -> UInt64? {
            guard let text = parameters.get(name) else { return nil }
            guard let value = TimeText.microseconds(from: String(text)) else {
                throw HTTPError(.badRequest, message: "\(name) '\(text)': expected microseconds since the epoch or an RFC 3339 time")
            }
            return value
        }
        let from = try time("from") ?? 0
        let to = try time("to") ?? UInt64(Int64.max)
        guard from < to else { throw HTTPError(.badRequest, message: "from must be before to") }
        query.timeRangeMicroseconds = from..<to
        if let text = parameters.get("drone") {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let proto = TelemetryProtocol(name: String(parts[0])), let number = UInt32(parts[1]) else {
                throw HTTPError(.badRequest, message: "drone '\(text)': expected skygate/ID or mavlink/ID")
            }
            query.drone = DroneIdentity(protocol: proto, number: number)
        }
        if let text = parameters.get("kind") {
            guard let kind = EventKind(name: String(text)) else {
                throw HTTPError(.badRequest, message: "kind '\(text)': expected one of \(EventKind.allCases.map(\.name).joined(separator: ", "))")
            }
            query.kind = kind
        }
        if let text = parameters.get("limit") {
            guard let limit = Int(text), (1...Limits.Events.queryMax).contains(limit) else {
                throw HTTPError(.badRequest, message: "limit '\(text)': expected 1...\(Limits.Events.queryMax)")
            }
            query.limit = limit
        }
        return query
    }
}
