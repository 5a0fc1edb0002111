import Foundation
import Hummingbird
import SkygateTestSupport
import Synchronization
import Telemetry
import Testing

@testable import Webhooks

/// Delivery end to end over loopback: a Hummingbird receiver checks every request's signature
/// and records the event ids; the dispatcher's counters must balance exactly
/// (accepted == delivered + dead letters + dropped + pending) and agree with what the receiver saw.
@Suite struct WebhookDispatcherTests {
    static let secret = Array("test secret, not a real one".utf8)

    /// Settings small enough for a test: short backoff, short time-outs.
    static func quickSettings() -> WebhookSettings {
        var settings = WebhookSettings()
        settings.eventsPerRequestMax = 10
        settings.requestTimeout = .seconds(2)
        settings.backoffInitial = .milliseconds(20)
        settings.backoffMax = .milliseconds(100)
        settings.attemptsPerRequestMax = 1_000
        settings.shutdownDrainTimeout = .seconds(5)
        return settings
    }

    static func makeDispatcher(port: Int, settings: WebhookSettings = quickSettings(), secret: [UInt8]? = secret) throws
        -> WebhookDispatcher
    {
        WebhookDispatcher(
            endpoints: [try WebhookEndpoint(parsing: "http://127.0.0.1:\(port)/hook")], secret: secret, gatewayName: "gw-test",
            logger: quietLogger, settings: settings)
    }

    /// Runs the dispatcher while `body` runs, then shuts it down and waits for `run()` to end.
    static func whileRunning(_ dispatcher: WebhookDispatcher, _ body: () async throws -> Void) async rethrows {
        let running = Task { await dispatcher.run() }
        do {
            try await body()
        } catch {
            await dispatcher.shutdown()
            await running.value
            throw error
        }
        await dispatcher.shutdown()
        await running.value
    }

    /// N events accepted → every one delivered exactly once, every request signed and well
    /// formed, counters exact.
    @Test func deliversEverySignedEventOnce() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port)
        let events = makeEvents(0..<250)
        try await Self.whileRunning(dispatcher) {
            for chunk in stride(from: 0, to: events.count, by: 25) { offer(Array(events[chunk..<chunk + 25]), to: dispatcher) }
            #expect(await eventually { dispatcher.snapshot().total.delivered == 250 })
        }
        await receiver.stop()
        let recorded = receiver.recorded
        #expect(recorded.problems.isEmpty, "\(recorded.problems.prefix(5))")
        #expect(recorded.deliveredIDs.sorted() == Array(0..<250))
        #expect(recorded.gatewayNames == ["gw-test"])
        #expect(Set(recorded.deliveryIDs).count == recorded.requests)
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced)
        #expect(total.accepted == 250 && total.delivered == 250 && total.pending == 0)
        #expect(total.deadLetters == 0 && total.droppedQueueFull == 0 && total.droppedShutdown == 0)
        #expect(total.requests == UInt64(recorded.requests) && total.requestFailures == 0 && total.retries == 0)
        #expect(total.requests >= 25)  // at most 10 events a request
    }

    /// Without a secret there is no signature header, and delivery works the same.
    @Test func unsignedWithoutSecret() async throws {
        let receiver = WebhookReceiver(secret: nil)
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port, secret: nil)
        try await Self.whileRunning(dispatcher) {
            offer(makeEvents(0..<5), to: dispatcher)
            #expect(await eventually { dispatcher.snapshot().total.delivered == 5 })
        }
        await receiver.stop()
        #expect(receiver.recorded.problems.isEmpty, "\(receiver.recorded.problems)")
    }

    /// The receiver goes away mid-run: `accept` stays fast (1,000 calls well under a generous
    /// bound) while requests fail; the receiver comes back on the same port and every event id
    /// arrives (at least once), with retries counted and nothing dead-lettered.
    @Test func ridesOutAReceiverRestart() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port)
        try await Self.whileRunning(dispatcher) {
            offer(makeEvents(0..<50), to: dispatcher)
            #expect(await eventually { dispatcher.snapshot().total.delivered == 50 })
            await receiver.stop()

            // While it is down: 1,000 accepts of two events each, timed.
            let events = makeEvents(50..<2_050)
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for index in stride(from: 0, to: events.count, by: 2) { offer(Array(events[index..<index + 2]), to: dispatcher) }
            }
            #expect(elapsed < .seconds(1), "1,000 accept calls took \(elapsed)")
            #expect(await eventually { dispatcher.snapshot().total.requestFailures >= 2 })
            #expect(dispatcher.snapshot().total.retries > 0)

            let restarted = try await receiver.start(port: port)
            #expect(restarted == port)
            #expect(await eventually { dispatcher.snapshot().total.delivered == 2_050 })
        }
        await receiver.stop()
        let recorded = receiver.recorded
        #expect(recorded.problems.isEmpty, "\(recorded.problems.prefix(5))")
        #expect(Set(recorded.deliveredIDs) == Set(0..<2_050))
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced)
        #expect(total.accepted == 2_050 && total.delivered == 2_050 && total.pending == 0)
        #expect(total.deadLetters == 0 && total.droppedQueueFull == 0 && total.droppedShutdown == 0)
        #expect(total.retries > 0 && total.requestFailures > 0)
    }

    /// Nothing listens: each request is tried `attemptsPerRequestMax` times, then its events are
    /// dead letters; every count is exact (25 events in 10-event requests: 3 requests × 3 tries).
    @Test func deadLettersAfterMaxAttempts() async throws {
        let probe = WebhookReceiver(secret: nil)
        let port = try await probe.start()
        await probe.stop()  // the port is now closed
        var settings = Self.quickSettings()
        settings.attemptsPerRequestMax = 3
        // The client keeps trying to connect until the request's time-out, so each try lasts that long.
        settings.requestTimeout = .milliseconds(200)
        settings.backoffInitial = .milliseconds(5)
        settings.backoffMax = .milliseconds(10)
        let dispatcher = try Self.makeDispatcher(port: port, settings: settings)
        try await Self.whileRunning(dispatcher) {
            offer(makeEvents(0..<25), to: dispatcher)
            #expect(await eventually { dispatcher.snapshot().total.deadLetters == 25 })
        }
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced)
        #expect(total.accepted == 25 && total.deadLetters == 25 && total.delivered == 0 && total.pending == 0)
        #expect(total.requests == 9 && total.requestFailures == 9 && total.retries == 6)
        #expect(total.droppedShutdown == 0)
    }

    /// A full queue drops what does not fit, counted `dropped_queue_full`; shutdown without a run
    /// (nothing listening, a short drain time) counts the queued rest `dropped_shutdown`, and
    /// events offered after shutdown are counted too.
    @Test func queueOverflowIsCounted() async throws {
        let probe = WebhookReceiver(secret: nil)
        let port = try await probe.start()
        await probe.stop()
        var settings = Self.quickSettings()
        settings.queueCapacityEvents = 16
        settings.requestTimeout = .milliseconds(100)
        settings.shutdownDrainTimeout = .milliseconds(100)
        let dispatcher = try Self.makeDispatcher(port: port, settings: settings)
        offer(makeEvents(0..<10), to: dispatcher)
        offer(makeEvents(10..<40), to: dispatcher)
        var total = dispatcher.snapshot().total
        #expect(total.accepted == 40 && total.pending == 16 && total.droppedQueueFull == 24 && total.isBalanced)
        await dispatcher.shutdown()
        offer(makeEvents(40..<45), to: dispatcher)
        total = dispatcher.snapshot().total
        #expect(total.accepted == 45 && total.pending == 0 && total.droppedQueueFull == 24 && total.droppedShutdown == 21)
        #expect(total.isBalanced)
        await dispatcher.run()  // after shutdown: returns at once
    }

    /// The ring wraps: a capacity-3 queue, filled and taken in turns, keeps order and counts.
    @Test func queueWrapsInOrder() throws {
        let queue = EndpointQueue(endpoint: try WebhookEndpoint(parsing: "http://127.0.0.1:9/"), capacity: 3)
        var taken: [UInt64] = []
        var batch: [AlertEvent] = []
        for round in 0..<5 {
            let base = UInt64(round * 2)
            makeEvents(base..<base + 2).withUnsafeBufferPointer { queue.offer($0) }
            queue.take(max: 2, into: &batch)
            taken += batch.map(\.id)
            queue.finish(count: batch.count, outcome: .delivered)
            batch.removeAll()
        }
        #expect(taken == Array(0..<10))
        #expect(queue.counts().delivered == 10 && queue.counts().isBalanced)
    }

    /// 400 means the receiver refuses the events: dead letters at once, one request, no retry.
    @Test func clientErrorDeadLettersAtOnce() async throws {
        let receiver = WebhookReceiver(secret: Self.secret) { _ in .badRequest }
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port)
        try await Self.whileRunning(dispatcher) {
            offer(makeEvents(0..<5), to: dispatcher)
            #expect(await eventually { dispatcher.snapshot().total.deadLetters == 5 })
        }
        await receiver.stop()
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced && total.delivered == 0 && total.pending == 0)
        #expect(total.requests == 1 && total.requestFailures == 1 && total.retries == 0)
        #expect(receiver.recorded.requests == 1)
    }

    /// 503 (and 429) are worth another try: the same request (same delivery id) is retried until
    /// it is taken.
    @Test(arguments: [HTTPResponse.Status.serviceUnavailable, .tooManyRequests, .requestTimeout])
    func retryableStatusIsRetried(status: HTTPResponse.Status) async throws {
        let receiver = WebhookReceiver(secret: Self.secret) { number in number <= 2 ? status : .noContent }
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port)
        try await Self.whileRunning(dispatcher) {
            offer(makeEvents(0..<5), to: dispatcher)
            #expect(await eventually { dispatcher.snapshot().total.delivered == 5 })
        }
        await receiver.stop()
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced && total.deadLetters == 0 && total.pending == 0)
        #expect(total.requests == 3 && total.requestFailures == 2 && total.retries == 2)
        let recorded = receiver.recorded
        #expect(Set(recorded.deliveryIDs).count == 1, "a retry repeats the delivery id")
        #expect(recorded.deliveredIDs == Array(0..<5))
    }

    /// A receiver that never comes back: shutdown gives up after the drain time and counts the
    /// rest `dropped_shutdown`, cancelling the backoff wait rather than sitting it out.
    @Test func shutdownDrainTimeoutCountsTheRest() async throws {
        let probe = WebhookReceiver(secret: nil)
        let port = try await probe.start()
        await probe.stop()
        var settings = Self.quickSettings()
        settings.backoffInitial = .seconds(60)
        settings.backoffMax = .seconds(60)
        settings.shutdownDrainTimeout = .milliseconds(200)
        let dispatcher = try Self.makeDispatcher(port: port, settings: settings)
        let running = Task { await dispatcher.run() }
        offer(makeEvents(0..<35), to: dispatcher)
        #expect(await eventually { dispatcher.snapshot().total.requestFailures >= 1 })
        let elapsed = await ContinuousClock().measure { await dispatcher.shutdown() }
        await running.value
        #expect(elapsed < .seconds(10), "shutdown took \(elapsed)")
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced && total.pending == 0 && total.droppedShutdown == 35 && total.deadLetters == 0)
    }

    /// Shutdown with a live receiver delivers what is queued before it returns.
    @Test func shutdownDrainsTheQueue() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        let port = try await receiver.start()
        let dispatcher = try Self.makeDispatcher(port: port)
        let running = Task { await dispatcher.run() }
        offer(makeEvents(0..<100), to: dispatcher)
        await dispatcher.shutdown()
        await running.value
        await receiver.stop()
        let total = dispatcher.snapshot().total
        #expect(total.isBalanced && total.pending == 0)
        #expect(total.delivered == 100, "\(total)")
        #expect(Set(receiver.recorded.deliveredIDs) == Set(0..<100))
    }

    /// The signature is `sha256=` + lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>"):
    /// a vector computed with Python's hmac module (the docs' receiver snippet).
    @Test func signatureVector() {
        let signature = WebhookDispatcher.signature(
            secret: Array("s3cret".utf8), timestamp: 1_750_000_000, body: Array(#"{"gateway":"gw1","events":[]}"#.utf8))
        #expect(signature == "sha256=28dd4edcc661d3fd8dd2f8908e82ec5ae1abf32daf12f4eaa8888b3de82364ac")
    }

    @Test func defaultSettingsAreValid() {
        #expect(WebhookSettings().problems().isEmpty)
        var settings = WebhookSettings()
        settings.backoffInitial = .seconds(60)
        #expect(settings.problems().contains { $0.contains("backoffInitial") })
    }
}
