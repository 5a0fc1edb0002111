import Foundation
import Synchronization
import Telemetry
import Testing

/// The bounded event queue between the processor (offer) and the store writer (peek, remove):
/// capacity 1 and 2, full (the rest dropped and counted), wrapped by partial removes, and two
/// threads moving 100,000 events in order with none lost beyond those counted dropped.
@Suite struct EventQueueTests {
    static func event(_ number: UInt64) -> AlertEvent {
        AlertEvent(
            timeMicroseconds: number, drone: DroneIdentity(protocol: .skygate, number: 1), kind: .lowBattery, zone: "",
            alarm: true, value: Double(number), latitudeE7: 0, longitudeE7: 0, altitudeMM: 0)
    }

    static func offer(_ queue: EventQueue, _ numbers: ClosedRange<UInt64>) -> Int {
        let events = numbers.map(event)
        return events.withUnsafeBufferPointer { queue.offer($0) }
    }

    @Test(arguments: [1, 2]) func fullDropsTheRestAndCountsThem(capacity: Int) {
        let queue = EventQueue(capacity: capacity)
        #expect(Self.offer(queue, 1...5) == 5 - capacity)
        #expect(queue.count == capacity && queue.dropped == UInt64(5 - capacity))
        #expect(queue.peek(max: 10).map(\.timeMicroseconds) == (1...UInt64(capacity)).map { $0 })
        queue.remove(count: capacity)
        #expect(queue.count == 0 && queue.peek(max: 1).isEmpty)
    }

    @Test func partialRemovesWrapAndKeepOrder() {
        let queue = EventQueue(capacity: 4)
        var next: UInt64 = 1
        var expected: UInt64 = 1
        for _ in 0..<200 {
            // Fill to capacity, take one or two off the front, fill again: the storage is compacted
            // as it goes, and the order must hold throughout.
            let room = 4 - queue.count
            if room > 0 {
                #expect(Self.offer(queue, next...(next + UInt64(room) - 1)) == 0)
                next += UInt64(room)
            }
            let take = Int(next % 2) + 1
            let taken = queue.peek(max: take)
            #expect(taken.map(\.timeMicroseconds) == (expected..<(expected + UInt64(take))).map { $0 })
            queue.remove(count: take)
            expected += UInt64(take)
        }
        #expect(queue.dropped == 0)
    }

    @Test func twoThreadsMoveEveryEventInOrder() {
        let queue = EventQueue(capacity: 64)
        let total: UInt64 = 100_000
        let received = Mutex<[UInt64]>([])
        let done = Atomic<Bool>(false)
        let consumer = Thread {
            var mine: [UInt64] = []
            while true {
                let taken = queue.peek(max: 16)
                if taken.isEmpty {
                    if done.load(ordering: .acquiring) && queue.count == 0 { break }
                    continue
                }
                mine.append(contentsOf: taken.map(\.timeMicroseconds))
                queue.remove(count: taken.count)
            }
            received.withLock { $0 = mine }
        }
        consumer.start()
        var offered: UInt64 = 0
        var droppedNumbers = Set<UInt64>()
        while offered < total {
            let upper = min(total, offered + 8)
            let dropped = Self.offer(queue, (offered + 1)...upper)
            // What did not fit is the tail of this offer.
            if dropped > 0 { for number in (upper - UInt64(dropped) + 1)...upper { droppedNumbers.insert(number) } }
            offered = upper
        }
        done.store(true, ordering: .releasing)
        let deadline = Date().addingTimeInterval(20)
        while received.withLock({ $0.isEmpty }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        let got = received.withLock { $0 }
        #expect(got == (1...total).filter { !droppedNumbers.contains($0) })
        #expect(queue.dropped == UInt64(droppedNumbers.count))
    }
}
