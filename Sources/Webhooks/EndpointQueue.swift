import Synchronization
import Telemetry

/// One endpoint's bounded FIFO of events and its counters. The batch processor's thread offers
/// events (`offer`: one lock, a copy into preallocated slots, never a wait); the endpoint's
/// delivery loop takes them a request at a time and reports each request's outcome.
///
/// The counters that make up the accounting (accepted, delivered, dead letters, drops, queued,
/// in flight) change under the same lock as the queue, so a snapshot taken at any moment
/// balances exactly. The request counters are atomics: only the delivery loop moves them.
final class EndpointQueue: Sendable {
    let endpoint: WebhookEndpoint
    let capacity: Int
    private let state: Mutex<State>
    let requests = Atomic<UInt64>(0)
    let requestFailures = Atomic<UInt64>(0)
    let retries = Atomic<UInt64>(0)

    struct State: ~Copyable {
        /// A ring of `capacity` slots; `nil` where no event waits.
        var slots: [AlertEvent?]
        var head = 0
        var queued = 0
        var inFlight = 0
        var accepted: UInt64 = 0
        var delivered: UInt64 = 0
        var deadLetters: UInt64 = 0
        var droppedQueueFull: UInt64 = 0
        var droppedShutdown: UInt64 = 0
        /// Set when shutdown begins: new events are counted `dropped_shutdown`, and the loop ends
        /// once the queue is empty.
        var isClosed = false
        /// The delivery loop, while it waits for events.
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// What became of one request's events.
    enum Outcome {
        case delivered
        case deadLetters
        case droppedShutdown
    }

    init(endpoint: WebhookEndpoint, capacity: Int) {
        precondition(capacity > 0)
        self.endpoint = endpoint
        self.capacity = capacity
        state = Mutex(State(slots: Array(repeating: nil, count: capacity)))
    }

    /// Copies what fits; counts the rest `dropped_queue_full` (or everything `dropped_shutdown`
    /// once closed). Wakes the delivery loop if it waits.
    func offer(_ events: UnsafeBufferPointer<AlertEvent>) {
        guard !events.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.accepted += UInt64(events.count)
            if state.isClosed {
                state.droppedShutdown += UInt64(events.count)
                return nil
            }
            let kept = min(events.count, capacity - state.queued)
            var tail = state.head + state.queued
            if tail >= capacity { tail -= capacity }
            for index in 0..<kept {
                state.slots[tail] = events[index]
                tail += 1
                if tail == capacity { tail = 0 }
            }
            state.queued += kept
            state.droppedQueueFull += UInt64(events.count - kept)
            guard kept > 0 else { return nil }
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Moves up to `max` of the oldest events into `batch` (in flight from now on).
    func take(max: Int, into batch: inout [AlertEvent]) {
        state.withLock { state in
            let count = min(max, state.queued)
            for _ in 0..<count {
                batch.append(state.slots[state.head]!)
                state.slots[state.head] = nil
                state.head += 1
                if state.head == capacity { state.head = 0 }
            }
            state.queued -= count
            state.inFlight += count
        }
    }

    /// Counts the outcome of `count` in-flight events.
    func finish(count: Int, outcome: Outcome) {
        state.withLock { state in
            precondition(count <= state.inFlight)
            state.inFlight -= count
            switch outcome {
            case .delivered: state.delivered += UInt64(count)
            case .deadLetters: state.deadLetters += UInt64(count)
            case .droppedShutdown: state.droppedShutdown += UInt64(count)
            }
        }
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Stops taking new events and wakes the delivery loop so it can drain and end.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isClosed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// After the delivery loop ended: what is still queued is counted `dropped_shutdown`.
    /// Returns how many.
    @discardableResult
    func dropRemaining() -> Int {
        state.withLock { state in
            precondition(state.inFlight == 0, "the delivery loop ended with events in flight")
            state.isClosed = true
            let count = state.queued
            for index in 0..<capacity { state.slots[index] = nil }
            state.head = 0
            state.queued = 0
            state.droppedShutdown += UInt64(count)
            return count
        }
    }

    /// Returns when events are queued, the queue is closed or the task is cancelled.
    func waitForEvents() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady = state.withLock { state in
                    if state.queued > 0 || state.isClosed || Task.isCancelled { return true }
                    precondition(state.waiter == nil, "one delivery loop per endpoint")
                    state.waiter = continuation
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }

    func counts() -> WebhookStats.Counts {
        var counts = state.withLock { state in
            var counts = WebhookStats.Counts()
            counts.accepted = state.accepted
            counts.delivered = state.delivered
            counts.deadLetters = state.deadLetters
            counts.droppedQueueFull = state.droppedQueueFull
            counts.droppedShutdown = state.droppedShutdown
            counts.pending = UInt64(state.queued + state.inFlight)
            return counts
        }
        counts.requests = requests.load(ordering: .relaxed)
        counts.requestFailures = requestFailures.load(ordering: .relaxed)
        counts.retries = retries.load(ordering: .relaxed)
        return counts
    }
}
