import FlightRecording
import Foundation
import PacketRing
import Synchronization
import Telemetry
import Testing

/// The recorder thread's loop from memory: every slot written in order, and a failing sink stops
/// the recording, never closed, with the rest counted.
@Suite struct RecordingDrainTests {
    /// Publishes `count` one-byte datagrams (their index) into `ring`, waiting for room.
    static func publish(_ count: Int, into ring: DatagramRing) {
        var next = 0
        // Bounded: the drain thread frees room; at most ~10 s of waiting.
        var waits = 0
        while next < count && waits < 10_000 {
            let appended = withUnsafeBytes(of: UInt16(next).littleEndian) { bytes in
                ring.append(datagram: bytes, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: UInt64(next))
            }
            if appended {
                next += 1
                if next % 50 == 0 { ring.publish() }
            } else {
                ring.publish()
                waits += 1
                usleep(1_000)
            }
        }
        ring.publish()
    }

    /// Waits (bounded) until `condition` holds; returns whether it did.
    static func waitUntil(seconds: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(1_000)
        }
        return condition()
    }

    @Test func drainWritesEverySlotInOrderAndCloses() {
        let ring = DatagramRing(byteCapacity: 8_192, datagramCapacity: 2_048)
        let sink = MemorySink()
        let drain = RecordingDrain(ring: ring, sink: sink, sourceForm: .portable)
        let thread = Thread { drain.run() }
        thread.start()
        Self.publish(3_000, into: ring)
        drain.requestStop()
        #expect(Self.waitUntil(seconds: 10) { sink.closes == 1 })
        #expect(sink.datagrams.count == 3_000)
        #expect(sink.datagrams.enumerated().allSatisfy { index, bytes in bytes == withUnsafeBytes(of: UInt16(index).littleEndian) { Array($0) } })
        #expect(drain.datagramsRecorded == 3_000 && drain.datagramsNotRecorded == 0 && drain.failure == nil)
    }

    @Test func aSinkFailureStopsRecordingAndCountsTheRest() {
        let ring = DatagramRing(byteCapacity: 8_192, datagramCapacity: 2_048)
        let sink = MemorySink(failAfter: 500)
        let failures = Atomic<Int>(0)
        let drain = RecordingDrain(ring: ring, sink: sink, sourceForm: .portable) { _ in failures.add(1, ordering: .relaxed) }
        let thread = Thread { drain.run() }
        thread.start()
        Self.publish(3_000, into: ring)
        drain.requestStop()
        #expect(Self.waitUntil(seconds: 10) { drain.datagramsRecorded + drain.datagramsNotRecorded == 3_000 && ring.isEmpty })
        usleep(20_000)  // the thread's last pass and exit
        #expect(drain.isFailed && failures.load(ordering: .relaxed) == 1)
        #expect(drain.failure?.contains("no space left") == true)
        #expect(sink.datagrams.count == 500)
        // The pass that failed counts whole: what it appended before the failure is in the sink,
        // but the pass is not counted recorded.
        #expect(drain.datagramsRecorded <= 500 && drain.datagramsRecorded + drain.datagramsNotRecorded == 3_000)
        #expect(sink.closes == 0, "a failed sink is not closed")
    }

    /// A sink that keeps what it is given, and fails from its `failAfter`-th append on.
    /// The drain thread writes it and the test reads it, so its state is behind a lock.
    final class MemorySink: RecordingSink, Sendable {
        private let state = Mutex<(datagrams: [[UInt8]], closes: Int)>(([], 0))
        let failAfter: Int?
        init(failAfter: Int? = nil) { self.failAfter = failAfter }

        var datagrams: [[UInt8]] { state.withLock { $0.datagrams } }
        var closes: Int { state.withLock { $0.closes } }

        func append(
            receivedNanoseconds: UInt64, source: UnsafeRawBufferPointer, datagram: UnsafeRawBufferPointer, isTruncated: Bool,
            nowNanoseconds: UInt64
        ) throws(RecordingError) {
            let failAfter = self.failAfter
            let accepted = state.withLock { state -> Bool in
                if let failAfter, state.datagrams.count >= failAfter { return false }
                state.datagrams.append(Array(datagram))
                return true
            }
            if !accepted { throw .diskFull(path: "memory") }
        }
        func writeChunkIfDue(nowNanoseconds: UInt64) throws(RecordingError) {}
        func close() throws(RecordingError) { state.withLock { $0.closes += 1 } }
    }
}
