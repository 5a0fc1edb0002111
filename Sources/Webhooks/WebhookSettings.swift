import Telemetry

/// The tunables of webhook delivery; the defaults are `Limits.Webhooks`', and tests shrink them.
public struct WebhookSettings: Sendable, Equatable {
    /// Events each endpoint's queue holds; more are counted `dropped_queue_full`.
    public var queueCapacityEvents = Limits.Webhooks.queueCapacityEvents
    /// Events one request carries at most.
    public var eventsPerRequestMax = Limits.Webhooks.eventsPerRequestMax
    /// A request that takes longer fails (and is retried).
    public var requestTimeout = Limits.Webhooks.requestTimeout
    /// The first wait before a retry; it doubles up to `backoffMax`.
    public var backoffInitial = Limits.Webhooks.backoffInitial
    public var backoffMax = Limits.Webhooks.backoffMax
    /// Tries of one request before its events are dead letters.
    public var attemptsPerRequestMax = Limits.Webhooks.attemptsPerRequestMax
    /// How long shutdown goes on delivering what is queued.
    public var shutdownDrainTimeout = Limits.Webhooks.shutdownDrainTimeout

    public init() {}

    /// Problems with the settings and how they relate, as messages naming the setting; empty when
    /// they can be used (the dispatcher asserts it).
    public func problems() -> [String] {
        var problems: [String] = []
        if queueCapacityEvents < 1 || queueCapacityEvents > 1 << 20 {
            problems.append("queueCapacityEvents \(queueCapacityEvents) must be in 1...1048576")
        }
        if eventsPerRequestMax < 1 || eventsPerRequestMax > 10_000 {
            problems.append("eventsPerRequestMax \(eventsPerRequestMax) must be in 1...10000")
        }
        if requestTimeout < .milliseconds(1) || requestTimeout > .seconds(300) {
            problems.append("requestTimeout \(requestTimeout) must be in 1 ms...300 s")
        }
        if backoffInitial < .zero || backoffInitial > backoffMax || backoffMax > .seconds(3_600) {
            problems.append("backoffInitial \(backoffInitial) and backoffMax \(backoffMax) must satisfy 0 <= initial <= max <= 1 h")
        }
        if attemptsPerRequestMax < 1 || attemptsPerRequestMax > 1_000 {
            problems.append("attemptsPerRequestMax \(attemptsPerRequestMax) must be in 1...1000")
        }
        if shutdownDrainTimeout < .zero || shutdownDrainTimeout > .seconds(300) {
            problems.append("shutdownDrainTimeout \(shutdownDrainTimeout) must be in 0...300 s")
        }
        return problems
    }
}
