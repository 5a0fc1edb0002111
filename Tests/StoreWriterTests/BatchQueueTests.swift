import Foundation
import Pipeline
import StoreWriter
import Synchronization
import Testing

/// The queue between the process loop and the store writer, in the ring's style: capacity 1 and
/// 2, full, wrapped many times, closed with batches still in it, and two threads handing batches
/// back and forth without one lost, repeated or reordered.
@Suite struct BatchQueueTests {
    static func batches(_ count: Int) -> [TelemetryBatch] { (0..<count).map { _ in TelemetryBatch(samplesMax: 4) } }

    @Test(arguments: [1, 2, 3]) func keepsOrderAtEveryFillAndWrap(capacity: Int) {
        let queue = BatchQueue(capacity: capacity)
        let batches = Self.batches(capacity)
        #expect(queue.tryTake() == nil && queue.count == 0)
        // Wrap the queue's storage many times, filling it completely each round.
        for round in 0..<50 {
            let order = round % 2 == 0 ? batches : batches.reversed()
            for batch in order { queue.put(batch) }
            #expect(queue.count == capacity)
            for batch in order { #expect(queue.tryTake() === batch) }
            #expect(queue.tryTake() == nil)
        }
    }

    @Test func closedStillHandsOutWhatIsQueuedThenNil() {
        let queue = BatchQueue(capacity: 2)
        let batches = Self.batches(2)
        queue.put(batches[0])
        queue.put(batches[1])
        queue.close()
        #expect(queue.closed)
        #expect(queue.take() === batches[0])
        let timed = queue.take(waitingAtMost: .milliseconds(1))
        #expect(timed.batch === batches[1] && !timed.closed)
        #expect(queue.take() == nil)
        let after = queue.take(waitingAtMost: .milliseconds(1))
        #expect(after.batch == nil && after.closed)
    }

    @Test func aTimedTakeOnAnOpenEmptyQueueReturnsNothingOpen() {
        let queue = BatchQueue(capacity: 1)
        let result = queue.take(waitingAtMost: .milliseconds(5))
        #expect(result.batch == nil && !result.closed)
    }

    /// Two threads, as the process loop and the writer use the pair of queues: 3 batches cycle
    /// 20,000 times; each batch carries a running number in `units`, which must arrive in order.
    @Test func twoThreadsCycleBatchesWithoutLossOrReorder() {
        let free = BatchQueue(capacity: 3), full = BatchQueue(capacity: 3)
        for batch in Self.batches(3) { free.put(batch) }
        let rounds = 20_000
        let seen = Atomic<Int>(0)
        let consumer = Thread {
            var expected = 1
            while let batch = full.take() {
                if batch.units == expected { seen.add(1, ordering: .relaxed) }
                expected += 1
                batch.reset()
                free.put(batch)
            }
        }
        consumer.start()
        for round in 1...rounds {
            guard let batch = free.take() else { break }
            batch.restoreUnits(round, receiveTimes: UnsafeBufferPointer(start: nil, count: 0))
            full.put(batch)
        }
        full.close()
        let deadline = Date().addingTimeInterval(20)
        while seen.load(ordering: .relaxed) < rounds && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        #expect(seen.load(ordering: .relaxed) == rounds)
        #expect(free.count == 3 || seen.load(ordering: .relaxed) < rounds)
    }
}
