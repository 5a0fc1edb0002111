import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import StatusServer
import Telemetry

/// The gateway as a swift-service-lifecycle service: starts the data path, waits for graceful
/// shutdown (SIGTERM, SIGINT), then drains and commits before returning.
public struct GatewayService: Service {
    public let gateway: Gateway
    /// Called with the final accounting after the drain.
    let onStopped: @Sendable (IngestCounters.Snapshot) -> Void

    public init(gateway: Gateway, onStopped: @escaping @Sendable (IngestCounters.Snapshot) -> Void = { _ in }) {
        self.gateway = gateway
        self.onStopped = onStopped
    }

    public func run() async throws {
        gateway.start()
        gateway.startupStepDone()
        // Suspends until the service group begins graceful shutdown (or the task is cancelled).
        try? await gracefulShutdown()
        let final = gateway.stop()
        // The drain raised its last events: deliver them before the process ends.
        await gateway.stopWebhooks()
        onStopped(final)
    }
}

extension Gateway {
    /// Runs the gateway and its HTTP server until SIGTERM or SIGINT; the HTTP server stops first,
    /// then the gateway drains. `onRunning` is called once the HTTP port is bound.
    public func runUntilSignalled(
        logger: Logger, onRunning: @escaping @Sendable (_ httpPort: Int) async -> Void = { _ in },
        onStopped: @escaping @Sendable (IngestCounters.Snapshot) -> Void
    ) async throws {
        try await makeServiceGroup(logger: logger, onRunning: onRunning, onStopped: onStopped).run()
    }

    /// The HTTP server and the gateway as one service group that stops on SIGTERM or SIGINT, or
    /// when its `triggerGracefulShutdown()` is called.
    public func makeServiceGroup(
        logger: Logger, onRunning: @escaping @Sendable (_ httpPort: Int) async -> Void = { _ in },
        onStopped: @escaping @Sendable (IngestCounters.Snapshot) -> Void
    ) throws(GatewayError) -> ServiceGroup {
        var app = try makeStatusApplication(logger: logger) { [self] port in
            await onRunning(port)
            startupStepDone()
        }
        app.addServices(GatewayService(gateway: self, onStopped: onStopped))
        if configuration.zonesPath != nil { app.addServices(ZoneReloadService(gateway: self, logger: logger)) }
        return ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// The HTTP side alone (status page, API, `/metrics`, ingest, and the once-a-second stats
    /// sampler) on `configuration.httpAddress`, for a caller that starts and stops the data path
    /// itself (`skygate bench --http`). Refuses a non-loopback address without an access token,
    /// and placeholder or short tokens (docs/security.md, "HTTP").
    public func makeStatusApplication(
        logger: Logger, onRunning: @escaping @Sendable (_ httpPort: Int) async -> Void = { _ in }
    ) throws(GatewayError) -> Application<RouterResponder<StatusRequestContext>> {
        let (host, port) = try Self.splitHTTPAddress(configuration.httpAddress)
        let tokens = try configuration.resolvedHTTPTokens()
        if tokens.read == nil && !Self.isLoopback(host) {
            throw GatewayError("--http \(configuration.httpAddress): a non-loopback address needs --access-token or --access-token-file (the API would be open to the network)")
        }
        let guards = makeHTTPGuards(tokens: tokens, port: port)
        let history = StatsHistory()
        var app = Application(
            router: StatusRoutes.makeRouter(source: self, settings: statusSettings, history: history, guards: guards),
            server: guards.connections!.serverBuilder(),
            configuration: .init(address: .hostname(host, port: port), serverName: "skygate"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                guards.access.hostCheck?.bound(port: bound)
                await onRunning(bound)
            },
            logger: logger)
        app.addServices(StatsSampler(source: self, history: history))
        return app
    }

    /// The access policy and the bounds on HTTP clients, from the configuration's tokens and
    /// limits. Without a read token, requests must name a loopback host with the bound port.
    func makeHTTPGuards(tokens: (read: String?, ingest: String?), port: Int) -> HTTPGuards {
        HTTPGuards(
            access: HTTPAccessPolicy(
                readToken: tokens.read, ingestToken: tokens.ingest, hostCheck: tokens.read == nil ? LoopbackHostCheck(port: port) : nil),
            connections: HTTPConnectionGuard(limits: limits), storeReads: StoreReadLimiter(),
            streams: PeerStreamSlots(perPeerMax: limits.value.streamClientsPerPeerMax))
    }

    /// Whether the HTTP host is a loopback address (or name), which needs no access token.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    static func splitHTTPAddress(_ text: String) throws(GatewayError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { throw GatewayError("--http: '\(text)' is not HOST:PORT (for example 127.0.0.1:8080)") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw GatewayError("--http: '\(text)' has no host") }
        return (host, port)
    }
}

/// Rereads `--zones` on SIGHUP: a good file replaces the zones whole, a bad one is logged and the
/// zones in force stay (docs/events.md, "Zones").
struct ZoneReloadService: Service {
    let gateway: Gateway
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            gateway.reloadZones()
        }
    }
}

extension Gateway {
    /// Rereads the zone file; returns the problem when it was refused (the old zones stay).
    @discardableResult
    public func reloadZones() -> String? {
        do {
            let zones = try self.zones.reload()
            logger.info("zones reloaded", metadata: ["zones": "\(zones.count)", "file": "\(self.zones.path ?? "")"])
            return nil
        } catch {
            logger.error("zones not reloaded, the previous ones stay: \(error.description)")
            return error.description
        }
    }
}
