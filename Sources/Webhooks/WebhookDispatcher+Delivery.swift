import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Telemetry

/// The body of every request: `{"gateway": NAME, "events": [...]}` in AlertEvent's own JSON.
struct WebhookBody: Encodable {
    var gateway: String
    var events: [AlertEvent]
}

extension WebhookDispatcher {
    /// One endpoint's loop: take a request's worth, deliver it (with retries), count the outcome.
    func deliveryLoop(_ queue: EndpointQueue, client: HTTPClient) async {
        var batch: [AlertEvent] = []
        batch.reserveCapacity(settings.eventsPerRequestMax)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var isFailing = false
        while !Task.isCancelled {
            queue.take(max: settings.eventsPerRequestMax, into: &batch)
            if batch.isEmpty {
                if queue.isClosed { return }
                await queue.waitForEvents()
                continue
            }
            let outcome = await deliver(batch, to: queue, client: client, encoder: encoder, isFailing: &isFailing)
            queue.finish(count: batch.count, outcome: outcome)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// What one attempt's answer means.
    enum AttemptResult {
        case delivered
        /// Worth another try (connection error, time-out, 5xx, 408, 429), with the receiver's
        /// `Retry-After` seconds if it gave them.
        case retryable(cause: String, retryAfter: Duration?)
        /// The receiver refuses these events (3xx, 4xx but 408 and 429): another try would get
        /// the same answer.
        case refused(cause: String)
        case cancelled
    }

    /// Posts one batch until it is delivered, refused, out of attempts or cancelled.
    func deliver(
        _ events: [AlertEvent], to queue: EndpointQueue, client: HTTPClient, encoder: JSONEncoder, isFailing: inout Bool
    ) async -> EndpointQueue.Outcome {
        let endpoint = queue.endpoint
        let body: [UInt8]
        do {
            body = Array(try encoder.encode(WebhookBody(gateway: gatewayName, events: events)))
        } catch {
            // A non-finite value cannot be written as JSON; no receiver could take it.
            deadLetter(events.count, endpoint: endpoint, cause: "the events cannot be encoded as JSON: \(error)", attempts: 0)
            return .deadLetters
        }
        let deliveryID = UUID().uuidString.lowercased()
        var backoff = settings.backoffInitial
        var lastCause = ""
        for attempt in 1...settings.attemptsPerRequestMax {
            if attempt > 1 { queue.retries.add(1, ordering: .relaxed) }
            queue.requests.add(1, ordering: .relaxed)
            let result = await attemptDelivery(body: body, deliveryID: deliveryID, to: endpoint, client: client)
            switch result {
            case .delivered:
                if isFailing {
                    isFailing = false
                    logger.info("webhook receiver answers again", metadata: ["endpoint": "\(endpoint.displayName)"])
                }
                return .delivered
            case .cancelled:
                return .droppedShutdown
            case .refused(let cause):
                queue.requestFailures.add(1, ordering: .relaxed)
                deadLetter(events.count, endpoint: endpoint, cause: cause, attempts: attempt)
                return .deadLetters
            case .retryable(let cause, let retryAfter):
                queue.requestFailures.add(1, ordering: .relaxed)
                lastCause = cause
                if !isFailing {
                    isFailing = true
                    logger.warning(
                        "webhook request failed; retrying with backoff",
                        metadata: ["endpoint": "\(endpoint.displayName)", "cause": "\(cause)"])
                } else {
                    logger.debug(
                        "webhook request failed", metadata: ["endpoint": "\(endpoint.displayName)", "cause": "\(cause)", "attempt": "\(attempt)"])
                }
                guard attempt < settings.attemptsPerRequestMax else { break }
                let wait = min(max(backoff, retryAfter ?? .zero), settings.backoffMax)
                // The wait holds no lock; cancellation (the drain time ran out) ends it at once.
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return .droppedShutdown
                }
                backoff = min(backoff * 2, settings.backoffMax)
            }
        }
        deadLetter(events.count, endpoint: endpoint, cause: lastCause, attempts: settings.attemptsPerRequestMax)
        return .deadLetters
    }

    /// One POST of the body, signed with a fresh timestamp.
    func attemptDelivery(body: [UInt8], deliveryID: String, to endpoint: WebhookEndpoint, client: HTTPClient) async -> AttemptResult {
        let timestamp = UInt64(max(0, Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "skygate")
        request.headers.add(name: "X-Skygate-Delivery", value: deliveryID)
        request.headers.add(name: "X-Skygate-Timestamp", value: "\(timestamp)")
        if let secret {
            request.headers.add(
                name: "X-Skygate-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: body))
        }
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(settings.requestTimeout), logger: logger)
            let status = Int(response.status.code)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { Duration.seconds(max(0, $0)) }
            // Read (a bounded part of) the answer so the connection can be reused.
            var bytesRead = 0
            do {
                for try await chunk in response.body {
                    bytesRead += chunk.readableBytes
                    if bytesRead > Limits.Webhooks.responseBodyBytesMax { break }
                }
            } catch {
                // The status decides; a broken answer body changes nothing.
            }
            switch status {
            case 200..<300: return .delivered
            case 408, 429, 500..<600: return .retryable(cause: "HTTP \(status)", retryAfter: retryAfter)
            default: return .refused(cause: "HTTP \(status)")
            }
        } catch {
            if Task.isCancelled { return .cancelled }
            return .retryable(cause: "\(error)", retryAfter: nil)
        }
    }

    private func deadLetter(_ count: Int, endpoint: WebhookEndpoint, cause: String, attempts: Int) {
        logger.error(
            "webhook events dead-lettered",
            metadata: [
                "endpoint": "\(endpoint.displayName)", "events": "\(count)", "cause": "\(cause)", "attempts": "\(attempts)",
            ])
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(clamping: duration.nanosecondsClamped))
    }
}
