import Telemetry
import Testing

/// The datagram batch the simulator fills and a sender empties: fixed slots, copies in order,
/// and `removeAll` keeps the buffer; the memory sink keeps what it is given.
@Suite struct DatagramBatchTests {
    @Test func appendsInOrderAndEmpties() {
        let batch = DatagramBatch(capacity: 3, slotLength: 8)
        #expect(batch.isEmpty && batch.remainingCapacity == 3)
        for datagram in [[UInt8]([1]), [2, 3], []] { datagram.withUnsafeBytes { batch.append($0) } }
        #expect(batch.count == 3 && batch.remainingCapacity == 0)
        #expect(Array(batch[0]) == [1] && Array(batch[1]) == [2, 3] && batch[2].isEmpty)
        #expect(batch.byteCount == 3)
        var sink = MemoryDatagramSink()
        sink.send(batch)
        #expect(sink.datagrams == [[1], [2, 3], []] && sink.datagramCount == 3 && sink.byteCount == 3)
        #expect(sink.sendErrorCount == 0)
        batch.removeAll()
        #expect(batch.isEmpty && batch.capacity == 3)
    }

    @Test func countingSinkKeepsNoBytes() {
        let batch = DatagramBatch(capacity: 2, slotLength: 4)
        [UInt8](repeating: 9, count: 4).withUnsafeBytes { batch.append($0) }
        var sink = MemoryDatagramSink(keepsBytes: false)
        sink.send(batch)
        #expect(sink.datagrams.isEmpty && sink.datagramCount == 1 && sink.byteCount == 4)
    }
}

/// The two clocks: the wall clock is the Unix epoch (not uptime), the monotonic clock never goes
/// back, and a thread sleep lasts at least what was asked.
@Suite struct SystemClockTests {
    @Test func clocks() {
        let wall = SystemClock.realtimeNanoseconds()
        #expect(wall > 1_700_000_000 * 1_000_000_000)
        #expect(SystemClock.realtimeMicroseconds() >= wall / 1_000)
        let before = SystemClock.monotonicNanoseconds()
        SystemClock.sleep(for: .milliseconds(5))
        let after = SystemClock.monotonicNanoseconds()
        #expect(after - before >= 5_000_000)
        SystemClock.sleep(untilMonotonicNanoseconds: after - 1)  // a deadline in the past returns at once
        #expect(SystemClock.monotonicNanoseconds() >= after)
    }
}
