import Synchronization
import Telemetry

/// Where the engine's events go (docs/events.md): numbered, counted by kind, kept in a short
/// in-memory history, queued for the store writer, handed to each sink (webhooks), and streamed to
/// Server-Sent-Events clients. `publish` runs on the processor's thread once per batch with
/// events; everything it does is bounded and non-blocking (a slow consumer loses its oldest
/// events, counted, never the pipeline's time).
public final class EventHub: Sendable {
    /// Events for the store writer (the commit loop drains it after its commits).
    public let storeQueue: EventQueue
    private let sinks: [any EventSink]
    private let nextID = Atomic<UInt64>(1)
    private let byKind: [AtomicCounter]
    private let burstDropped = Atomic<UInt64>(0)
    private let rateLimitedDropped = Atomic<UInt64>(0)
    private let streamDropped = Atomic<UInt64>(0)
    private let state: Mutex<State>

    struct State: ~Copyable {
        var recent: [AlertEvent] = []
        var recentNext = 0
        var subscribers: [UInt64: AsyncStream<AlertEvent>.Continuation] = [:]
        var nextSubscriber: UInt64 = 1
    }

    public init(sinks: [any EventSink] = [], storeQueueCapacity: Int = Limits.Events.storeQueueMax) {
        self.sinks = sinks
        storeQueue = EventQueue(capacity: storeQueueCapacity)
        byKind = (0...Int(EventKind.allCases.map(\.rawValue).max()!)).map { _ in AtomicCounter() }
        var initial = State()
        initial.recent.reserveCapacity(Limits.Events.recentMax)
        state = Mutex(initial)
    }

    /// Bytes reserved at start-up: the store writer's queue and the recent history.
    public var allocatedBytes: Int { storeQueue.allocatedBytes + Limits.Events.recentMax * MemoryLayout<AlertEvent>.stride }

    /// Numbers `events` (in place) and sends them everywhere.
    public func publish(_ events: UnsafeMutableBufferPointer<AlertEvent>) {
        guard !events.isEmpty else { return }
        let first = nextID.add(UInt64(events.count), ordering: .relaxed).oldValue
        for index in events.indices {
            events[index].id = first + UInt64(index)
            byKind[Int(events[index].kind.rawValue)].value.add(1, ordering: .relaxed)
        }
        let published = UnsafeBufferPointer(events)
        storeQueue.offer(published)
        for sink in sinks { sink.accept(published) }
        var lost = 0
        state.withLock { state in
            for event in published {
                if state.recent.count < Limits.Events.recentMax {
                    state.recent.append(event)
                } else {
                    state.recent[state.recentNext] = event
                }
                state.recentNext = (state.recentNext + 1) % Limits.Events.recentMax
                for continuation in state.subscribers.values {
                    if case .dropped = continuation.yield(event) { lost += 1 }
                }
            }
        }
        if lost > 0 { streamDropped.add(UInt64(lost), ordering: .relaxed) }
    }

    /// Counts events beyond a drone's rate (`events_dropped{rate_limited}`).
    public func countRateLimitedDropped(_ count: UInt64) {
        if count > 0 { rateLimitedDropped.add(count, ordering: .relaxed) }
    }

    /// Counts events the engine could not keep (`events_dropped{burst}`).
    public func countBurstDropped(_ count: UInt64) {
        if count > 0 { burstDropped.add(count, ordering: .relaxed) }
    }

    /// A live stream of events, starting with the remembered ones after `lastID` (an SSE client's
    /// Last-Event-ID), or nil when `Limits.Events.streamClientsMax` clients are already streaming.
    public func subscribe(after lastID: UInt64?) -> EventSubscription? {
        let (stream, continuation) = AsyncStream<AlertEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(Limits.Events.streamBufferEvents))
        let token: UInt64? = state.withLock { state in
            guard state.subscribers.count < Limits.Events.streamClientsMax else { return nil }
            let token = state.nextSubscriber
            state.nextSubscriber += 1
            if let lastID {
                for event in Self.ordered(state) where event.id > lastID { continuation.yield(event) }
            }
            state.subscribers[token] = continuation
            return token
        }
        guard let token else {
            continuation.finish()
            return nil
        }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(token) }
        return EventSubscription(events: stream) { [weak self] in self?.unsubscribe(token) }
    }

    private func unsubscribe(_ token: UInt64) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: token) }
        continuation?.finish()
    }

    /// Ends every stream (shutdown).
    public func finishStreams() {
        let all = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }

    private static func ordered(_ state: borrowing State) -> [AlertEvent] {
        guard state.recent.count == Limits.Events.recentMax else { return state.recent }
        return Array(state.recent[state.recentNext...] + state.recent[..<state.recentNext])
    }

    /// The remembered events, oldest first.
    public func recentEvents() -> [AlertEvent] { state.withLock { Self.ordered($0) } }

    public func snapshot() -> EventCounters {
        var counts: [EventKind: UInt64] = [:]
        for kind in EventKind.allCases { counts[kind] = byKind[Int(kind.rawValue)].value.load(ordering: .relaxed) }
        var counters = EventCounters(
            byKind: counts, droppedBurst: burstDropped.load(ordering: .relaxed),
            droppedStoreQueueFull: storeQueue.dropped, droppedStream: streamDropped.load(ordering: .relaxed),
            storeQueueDepth: storeQueue.count, streamClients: state.withLock { $0.subscribers.count })
        counters.droppedRateLimited = rateLimitedDropped.load(ordering: .relaxed)
        return counters
    }
}
