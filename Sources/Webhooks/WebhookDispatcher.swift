import AsyncHTTPClient
import Logging
import Synchronization
import Telemetry

/// Posts the gateway's alert events to webhook receivers (docs/events.md, "Webhooks").
///
/// `accept` runs on the batch processor's thread: it copies the events into each endpoint's
/// bounded queue and returns; it never waits on a receiver. `run()` holds one delivery loop per
/// endpoint, all sharing one `HTTPClient`: a loop takes up to `eventsPerRequestMax` events,
/// posts them signed, and retries a failed request with doubling backoff up to
/// `attemptsPerRequestMax` tries before counting its events as dead letters. `shutdown()` stops
/// new work, lets the loops drain for up to `shutdownDrainTimeout`, and counts what is left
/// `dropped_shutdown`, so every accepted event ends in exactly one counter.
///
/// Delivery is at least once: a receiver that handled a request but whose answer was lost gets
/// the same events again (same `X-Skygate-Delivery`).
public final class WebhookDispatcher: EventSink {
    let queues: [EndpointQueue]
    let secret: [UInt8]?
    let gatewayName: String
    let logger: Logger
    let settings: WebhookSettings
    private let phase = Mutex(Phase.idle)
    private let shutdownRequested = OneShotSignal()
    private let stopped = OneShotSignal()

    enum Phase {
        case idle
        case running
        case stopping
        case stopped
    }

    /// - Parameters:
    ///   - endpoints: the receivers, each with its own queue and delivery loop (`WebhookEndpoint.parse`).
    ///   - secret: signs every request (`X-Skygate-Signature`) when set (`WebhookSecret.load`).
    ///   - gatewayName: the body's `gateway` field (`--gateway-name`).
    public init(
        endpoints: [WebhookEndpoint], secret: [UInt8]?, gatewayName: String, logger: Logger, settings: WebhookSettings = .init()
    ) {
        precondition(settings.problems().isEmpty, "WebhookSettings: \(settings.problems())")
        precondition(secret.map { !$0.isEmpty } ?? true, "an empty webhook secret signs nothing")
        queues = endpoints.map { EndpointQueue(endpoint: $0, capacity: settings.queueCapacityEvents) }
        self.secret = secret
        self.gatewayName = gatewayName
        self.logger = logger
        self.settings = settings
    }

    public var endpoints: [WebhookEndpoint] { queues.map(\.endpoint) }

    /// Copies the events into every endpoint's queue; what does not fit is counted
    /// `dropped_queue_full`. One lock per endpoint per call, no allocation, no wait.
    public func accept(_ events: UnsafeBufferPointer<AlertEvent>) {
        for queue in queues { queue.offer(events) }
    }

    /// Delivers until `shutdown()` has drained the queues (or the task is cancelled, which ends
    /// delivery at once and counts what is left `dropped_shutdown`). Returns once the HTTP client
    /// is shut down. Call it once; a second call, or a call after `shutdown()`, returns at once.
    public func run() async {
        let isFirst = phase.withLock { phase in
            guard phase == .idle else { return false }
            phase = .running
            return true
        }
        guard isFirst else { return }
        await deliverAndStop()
    }

    /// Stops taking new events (later ones are counted `dropped_shutdown`), delivers what is
    /// queued for up to `shutdownDrainTimeout`, counts the rest `dropped_shutdown`, and returns
    /// once the HTTP client is shut down. Safe to call more than once. Called before `run()` has
    /// started (a `Task { await run() }` not yet scheduled, or no `run()` at all), it drains the
    /// queues itself, so the outcome does not depend on that race; `run()` then returns at once.
    public func shutdown() async {
        let wasIdle = phase.withLock { phase in
            switch phase {
            case .idle:
                phase = .stopping
                return true
            case .running:
                phase = .stopping
                return false
            case .stopping, .stopped:
                return false
            }
        }
        for queue in queues { queue.close() }
        shutdownRequested.set()
        if wasIdle {
            await deliverAndStop()
        } else {
            await stopped.wait()
        }
    }

    /// The delivery loops on one client, until they have drained after a shutdown request (or
    /// were cancelled); then the client's shutdown and the final accounting.
    private func deliverAndStop() async {
        // The client lives exactly as long as the loops, so it is always shut down.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.clientConfiguration(settings))
        if queues.isEmpty {
            await shutdownRequested.wait()
        } else {
            await deliverUntilDrained(client: client)
        }
        do {
            try await client.shutdown()
        } catch {
            logger.warning("webhook HTTP client shutdown failed", metadata: ["error": "\(error)"])
        }
        finishStopping()
    }

    /// The counters now, per endpoint and in total; each endpoint's balance is exact at any moment.
    public func snapshot() -> WebhookStats {
        let endpoints = queues.map { WebhookStats.Endpoint(name: $0.endpoint.displayName, counts: $0.counts()) }
        return WebhookStats(endpoints: endpoints, total: endpoints.reduce(WebhookStats.Counts()) { $0 + $1.counts })
    }

    /// One loop per endpoint, and a watchdog that cancels them when the drain time after a
    /// shutdown request runs out.
    private func deliverUntilDrained(client: HTTPClient) async {
        await withTaskGroup(of: Bool.self) { group in
            for queue in queues {
                group.addTask { await self.deliveryLoop(queue, client: client); return true }
            }
            group.addTask {
                await self.shutdownRequested.wait()
                try? await Task.sleep(for: self.settings.shutdownDrainTimeout)
                return false
            }
            var loopsRunning = queues.count
            while loopsRunning > 0, let isLoop = await group.next() {
                if isLoop {
                    loopsRunning -= 1
                } else {
                    logger.warning(
                        "webhook drain time ran out; undelivered events are counted dropped_shutdown",
                        metadata: ["drain_timeout": "\(settings.shutdownDrainTimeout)"])
                    group.cancelAll()
                }
            }
            group.cancelAll()
        }
    }

    private func finishStopping() {
        for queue in queues {
            let dropped = queue.dropRemaining()
            if dropped > 0 {
                logger.warning(
                    "webhook events not delivered before shutdown",
                    metadata: ["endpoint": "\(queue.endpoint.displayName)", "events": "\(dropped)"])
            }
        }
        phase.withLock { $0 = .stopped }
        let total = snapshot().total
        logger.info(
            "webhooks stopped",
            metadata: Logger.Metadata(uniqueKeysWithValues: total.named.map { ($0.name, Logger.MetadataValue.stringConvertible($0.value)) }))
        stopped.set()
    }

    static func clientConfiguration(_ settings: WebhookSettings) -> HTTPClient.Configuration {
        let timeout = Self.timeAmount(settings.requestTimeout)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout, write: timeout))
        configuration.decompression = .disabled
        return configuration
    }
}
