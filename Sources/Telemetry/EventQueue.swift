import Synchronization

/// A bounded FIFO of events between one producer and one consumer thread (the processor and the
/// store writer): `offer` never blocks and drops what does not fit, counted.
public final class EventQueue: Sendable {
    public let capacity: Int
    private let state: Mutex<State>
    private let droppedCount = Atomic<UInt64>(0)

    struct State: ~Copyable {
        var events: [AlertEvent]
        var head = 0
    }

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        var events: [AlertEvent] = []
        events.reserveCapacity(capacity)
        state = Mutex(State(events: events))
    }

    /// Bytes reserved at start-up for `capacity` events (resident as they are first written).
    public var allocatedBytes: Int { capacity * MemoryLayout<AlertEvent>.stride }

    /// Events that did not fit.
    public var dropped: UInt64 { droppedCount.load(ordering: .relaxed) }
    /// Events waiting.
    public var count: Int { state.withLock { $0.events.count - $0.head } }

    /// Appends what fits; returns how many were dropped.
    @discardableResult
    public func offer(_ events: UnsafeBufferPointer<AlertEvent>) -> Int {
        let kept = state.withLock { state -> Int in
            if state.head > 0 && state.events.count + events.count > capacity {
                state.events.removeFirst(state.head)
                state.head = 0
            }
            let room = capacity - state.events.count
            let kept = min(room, events.count)
            state.events.append(contentsOf: events.prefix(kept))
            return kept
        }
        let dropped = events.count - kept
        if dropped > 0 { droppedCount.add(UInt64(dropped), ordering: .relaxed) }
        return dropped
    }

    /// Up to `max` of the oldest events, without removing them: `remove(count:)` after they are kept.
    public func peek(max: Int) -> [AlertEvent] {
        state.withLock { state in Array(state.events[state.head..<min(state.events.count, state.head + max)]) }
    }

    /// Removes the `count` oldest events (after the consumer stored what `peek` gave it).
    public func remove(count: Int) {
        state.withLock { state in
            state.head = min(state.events.count, state.head + count)
            if state.head == state.events.count {
                state.events.removeAll(keepingCapacity: true)
                state.head = 0
            }
        }
    }
}
