import Foundation
import Synchronization
import Testing
@testable import PacketRing

/// The ring under two real threads. A producer thread offers items 0..<M (each item's bytes,
/// address and timestamp derived from its index), a consumer thread takes them; each side keeps
/// an order-sensitive checksum of every item it handed over or received. Equal checksums and
/// counts, strictly increasing indices on the consumer, and `offered == popped + dropped` prove
/// that nothing was lost, duplicated, reordered or torn. Both threads give up at a deadline, so a
/// bug shows as a failure, not a hang; waiting spins a bounded number of times and then yields,
/// so the test also passes on a busy two-core machine. The cases run one at a time.
@Suite("PacketRing under two threads", .serialized)
struct PacketRingThreadTests {
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        /// `push` one at a time; on a full ring wait and retry, so every item arrives.
        case pushRetrying
        /// `push` one at a time; on a full ring drop the item and count it, as the receive thread does.
        case pushDropping
        /// `freeSlots`/`publish` and `filledSlots`/`release` in batches of varying, partial counts.
        case batches

        var testDescription: String { rawValue }
    }

    /// Items offered per case: a million wraps a 1024-slot ring ~1,000 times. At capacity 1 and 2
    /// every item is a hand-over between the threads (one wait on each side, often a yield), which
    /// costs 5 to 20 µs on a quiet two-core machine in a debug build, and over 100 µs when other
    /// builds share the cores (a CI run beside four compilers timed out at 250,000), so those
    /// cases pass 100,000 items (still 50,000+ wraps).
    static func itemCount(capacity: Int) -> Int { capacity >= 64 ? 1_000_000 : 100_000 }
    static let timeLimit = Duration.seconds(60)

    final class Side: @unchecked Sendable {
        // Written only by its own thread, read by the test after the thread signalled `finished`.
        var items = 0
        var dropped = 0
        var checksum = Checksum()
        var orderErrors = 0
        var contentErrors = 0
        var timedOut = false
        let finished = DispatchSemaphore(value: 0)
    }

    @Test("Producer and consumer threads agree on every item", arguments: [1, 2, 1024], Mode.allCases)
    func twoThreads(capacity: Int, mode: Mode) throws {
        let ring = PacketRing(capacity: capacity, datagramCapacity: 64)
        let producerDone = Flag()
        let producer = Side()
        let consumer = Side()
        let deadline = ContinuousClock.now + Self.timeLimit
        let itemCount = Self.itemCount(capacity: capacity)

        let producerThread = Thread {
            Self.produce(ring: ring, mode: mode, itemCount: itemCount, deadline: deadline, into: producer)
            producerDone.value.store(true, ordering: .releasing)
            producer.finished.signal()
        }
        let consumerThread = Thread {
            Self.consume(ring: ring, mode: mode, producerDone: producerDone, deadline: deadline, into: consumer)
            consumer.finished.signal()
        }
        producerThread.start()
        consumerThread.start()
        let joinLimit = DispatchTime.now() + .seconds(Int(Self.timeLimit.components.seconds) + 10)
        try #require(producer.finished.wait(timeout: joinLimit) == .success, "producer thread did not finish")
        try #require(consumer.finished.wait(timeout: joinLimit) == .success, "consumer thread did not finish")

        #expect(!producer.timedOut && !consumer.timedOut, "deadline of \(Self.timeLimit) passed")
        #expect(producer.items + producer.dropped == itemCount || mode == .pushRetrying)
        #expect(producer.items == (mode == .pushDropping ? itemCount - producer.dropped : itemCount))
        #expect(consumer.items == producer.items, "popped \(consumer.items) of \(producer.items) pushed")
        #expect(consumer.checksum == producer.checksum)
        #expect(consumer.orderErrors == 0)
        #expect(consumer.contentErrors == 0)
        #expect(ring.isEmpty)
        if mode == .pushDropping {
            // Offered = delivered + dropped, and something got through.
            #expect(consumer.items + producer.dropped == itemCount)
            #expect(consumer.items > 0)
        }
    }

    /// Set by the producer (release) after its last publish.
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    static func produce(ring: PacketRing, mode: Mode, itemCount: Int, deadline: ContinuousClock.Instant, into side: Side) {
        let scratch = Scratch()
        var backoff = Backoff()
        var checksum = Checksum()
        var index = 0
        var waits = 0
        // Every iteration either offers an item or waits; waits are bounded by the deadline.
        while index < itemCount {
            switch mode {
            case .pushRetrying, .pushDropping:
                let pushed = (try? TestItem.push(index, into: ring, scratch: scratch)) ?? false
                if pushed {
                    checksum.addItem(index, scratch: scratch)
                    side.items += 1
                    index += 1
                    backoff.reset()
                    continue
                }
                side.dropped += 1
                if mode == .pushDropping { index += 1 }
            case .batches:
                let free = ring.freeSlots(upTo: 1 + index % 64)
                if !free.isEmpty {
                    let fillCount = min(free.count, itemCount - index)
                    for position in 0..<fillCount {
                        TestItem.fill(free[position], index: index + position)
                    }
                    // Publish a varying part of what was filled; the rest is refilled next time.
                    let publishCount = index % 5 == 0 ? max(1, fillCount / 2) : fillCount
                    for position in 0..<publishCount { checksum.add(free[position]) }
                    ring.publish(count: publishCount)
                    side.items += publishCount
                    index += publishCount
                    backoff.reset()
                    continue
                }
            }
            backoff.pause()
            waits += 1
            if waits % 1024 == 0 && ContinuousClock.now > deadline {
                side.timedOut = true
                break
            }
        }
        side.checksum = checksum
    }

    static func consume(ring: PacketRing, mode: Mode, producerDone: Flag, deadline: ContinuousClock.Instant, into side: Side) {
        let scratch = Scratch()
        var backoff = Backoff()
        var checksum = Checksum()
        var lastIndex = -1
        var waits = 0
        var iteration = 0
        var orderErrors = 0
        var contentErrors = 0

        func take(_ slot: PacketRing.Slot) {
            let index = TestItem.index(of: slot)
            // Retrying and batch producers deliver every index; a dropping one skips some.
            let inOrder = mode == .pushDropping ? index > lastIndex : index == lastIndex + 1
            if !inOrder { orderErrors += 1 }
            if !TestItem.matches(slot, index: index, scratch: scratch) { contentErrors += 1 }
            lastIndex = index
            checksum.add(slot)
        }

        while true {
            iteration += 1
            // Read the flag before looking at the ring: if the producer was done before we found
            // the ring empty, everything it published was already visible (acquire/release).
            let producerFinished = producerDone.value.load(ordering: .acquiring)
            var taken = 0
            if mode == .batches {
                let filled = ring.filledSlots(upTo: 1 + iteration % 50)
                // Sometimes release only part, so the rest is read again next time.
                taken = iteration % 7 == 0 ? (filled.count + 1) / 2 : filled.count
                for position in 0..<taken { take(filled[position]) }
                ring.release(count: taken)
            } else {
                taken = ring.pop { take($0) } == nil ? 0 : 1
            }
            if taken > 0 {
                side.items += taken
                backoff.reset()
                continue
            }
            if producerFinished { break }
            backoff.pause()
            waits += 1
            if waits % 1024 == 0 && ContinuousClock.now > deadline {
                side.timedOut = true
                break
            }
        }
        side.checksum = checksum
        side.orderErrors = orderErrors
        side.contentErrors = contentErrors
    }
}
