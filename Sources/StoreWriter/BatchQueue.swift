import Foundation
import Pipeline

/// A bounded blocking queue of commit batches between the batch processor and the store writer.
/// Batches, not packets, cross it: a lock per batch (a few per second) is nothing, and blocking
/// is what we want when the writer falls behind (the ring then absorbs, and finally drops).
public final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [TelemetryBatch] = []
    private var isClosed = false
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        items.reserveCapacity(capacity)
    }

    public func put(_ batch: TelemetryBatch) {
        condition.lock()
        defer { condition.unlock() }
        precondition(items.count < capacity, "batch queue overflow: more batches than were allocated")
        items.append(batch)
        condition.signal()
    }

    /// The oldest batch; waits for one. Nil once the queue is closed and empty.
    public func take() -> TelemetryBatch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !isClosed { condition.wait() }
        return items.isEmpty ? nil : items.removeFirst()
    }

    /// The oldest batch, waiting at most `timeout` for one; `closed` once the queue is closed
    /// and empty.
    public func take(waitingAtMost timeout: Duration) -> (batch: TelemetryBatch?, closed: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if items.isEmpty && !isClosed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(timeout.nanosecondsClamped) / 1e9))
        }
        if !items.isEmpty { return (items.removeFirst(), false) }
        return (nil, isClosed)
    }

    /// The oldest batch if one is waiting; never waits.
    public func tryTake() -> TelemetryBatch? {
        condition.lock()
        defer { condition.unlock() }
        return items.isEmpty ? nil : items.removeFirst()
    }

    public func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether `close()` was called (batches may still wait).
    public var closed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return isClosed
    }

    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count
    }
}
