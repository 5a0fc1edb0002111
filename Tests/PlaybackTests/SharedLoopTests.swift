import FlightRecording
import Foundation
import PacketRing
import Pipeline
import Playback
import SkygateTestSupport
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// The two loops the gateway and the playback sessions share, from memory: the commit loop
/// commits every handed-off batch once and counts it `stored` (or `dropped{store_failed}` when the
/// store refuses it), calling its hooks on the writer thread; the recording drain writes every
/// slot in order, and after a sink failure counts the rest as not recorded and never closes a
/// failed sink.
@Suite struct SharedLoopTests {
    static let start: UInt64 = 1_767_225_600_000_000  // µs

    static func datagram(drone: UInt32, sequence: UInt32) -> [UInt8] {
        FrameEncoder.encode(
            header: FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: start + UInt64(sequence) * 100_000),
            samples: [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
    }

    static func limits(commitSamplesMax: Int = 1_024) throws -> ValidLimits {
        var limits = Limits()
        limits.commitSamplesMax = commitSamplesMax
        return try ValidLimits(limits)
    }

    /// Feeds `count` datagrams (10 drones) through a processor into `commits`, handing off
    /// whenever the batch has no room, then once more at the end.
    static func feed(_ count: Int, processor: ReplayProcessor, commits: CommitLoop, firstIndex: Int = 0) {
        let now = (start + 60_000_000) * 1_000
        for index in firstIndex..<(firstIndex + count) {
            if !processor.hasRoomForDatagram { commits.handOff(from: processor) }
            datagram(drone: UInt32(index % 10) + 1, sequence: UInt32(index / 10)).withUnsafeBytes {
                processor.process(datagram: $0, receivedNanoseconds: now, nowNanoseconds: now)
            }
        }
        commits.handOff(from: processor)
    }

    @Test func commitLoopStoresEveryBatchOnceAndCallsItsHooks() throws {
        let directory = TemporaryDirectory()
        let store = try TelemetryStore(path: directory.file("commit.db"))
        let counters = IngestCounters()
        let afterCommits = Atomic<Int>(0)
        let ends = Atomic<Int>(0)
        let hooks = CommitLoop.Hooks(
            recordsLatency: true, afterCommit: { _ in afterCommits.add(1, ordering: .relaxed) },
            atEnd: { ends.add(1, ordering: .relaxed) })
        let limits = try Self.limits()
        let commits = CommitLoop(store: store, limits: limits, counters: counters, hooks: hooks)
        let processor = ReplayProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
        commits.start(threadName: "skygate-test")
        for _ in 0..<5_000 { counters.countDatagram(bytes: 80) }
        Self.feed(5_000, processor: processor, commits: commits)
        commits.finish()
        commits.finish()  // idempotent
        store.close()

        let snapshot = counters.snapshot()
        #expect(snapshot.stored == 5_000 && snapshot.samplesStored == 5_000 && snapshot.isBalanced)
        // 1,024-sample batches hand off once the next datagram might not fit: at least 5 commits.
        #expect(commits.batchesCommittedCount >= 5)
        #expect(afterCommits.load(ordering: .relaxed) == Int(commits.batchesCommittedCount))
        #expect(ends.load(ordering: .relaxed) == 1)
        #expect(commits.commitLatency.quantile(0.5) != nil && commits.commitDuration.quantile(0.99) != nil)
        #expect(!commits.lastCommitFailed && commits.firstCommitError == nil)
        #expect(try storedRows(directory.file("commit.db")).values.reduce(0) { $0 + $1.count } == 5_000)
    }

    @Test func aRefusedCommitIsCountedStoreFailed() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("readonly.db")
        try TelemetryStore(path: path).close()  // create the schema
        var options = StoreOptions()
        options.isReadOnly = true
        let store = try TelemetryStore(path: path, options: options)
        let counters = IngestCounters()
        let errors = Mutex<[String]>([])
        let limits = try Self.limits()
        let commits = CommitLoop(
            store: store, limits: limits, counters: counters,
            hooks: .init(recordsLatency: false, onError: { message in errors.withLock { $0.append(message) } }))
        let processor = ReplayProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
        commits.start(threadName: "skygate-test")
        for _ in 0..<100 { counters.countDatagram(bytes: 80) }
        Self.feed(100, processor: processor, commits: commits)
        commits.finish()
        store.close()

        let snapshot = counters.snapshot()
        #expect(snapshot.stored == 0 && snapshot.dropped[.storeFailed] == 100 && snapshot.isBalanced)
        #expect(commits.lastCommitFailed)
        #expect(commits.firstCommitError?.hasPrefix("commit of 100 frames failed") == true)
        #expect(errors.withLock { $0.count } == 1)
        #expect(commits.commitLatency.quantile(0.5) == nil, "a replay records no latency")
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

    /// Publishes `count` one-byte datagrams (their index) into `ring`, waiting for room.
    static func publish(_ count: Int, into ring: PacketRing) {
        var next = 0
        // Bounded: the drain thread frees slots; at most ~10 s of waiting.
        var waits = 0
        while next < count && waits < 10_000 {
            let slots = ring.freeSlots(upTo: count - next)
            if slots.isEmpty {
                waits += 1
                usleep(1_000)
                continue
            }
            for slot in slots {
                withUnsafeBytes(of: UInt16(next).littleEndian) { bytes in
                    slot.store(bytes: bytes, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: UInt64(next))
                }
                next += 1
            }
            ring.publish(count: slots.count)
        }
    }

    @Test func drainWritesEverySlotInOrderAndCloses() {
        let ring = PacketRing(capacity: 64, datagramCapacity: 2_048)
        let sink = MemorySink()
        let drain = RecordingDrain(ring: ring, sink: sink, sourceForm: .portable)
        let thread = Thread { drain.run() }
        thread.start()
        Self.publish(3_000, into: ring)
        drain.requestStop()
        #expect(waitUntil(seconds: 10) { sink.closes == 1 })
        #expect(sink.datagrams.count == 3_000)
        #expect(sink.datagrams.enumerated().allSatisfy { index, bytes in bytes == withUnsafeBytes(of: UInt16(index).littleEndian) { Array($0) } })
        #expect(drain.datagramsRecorded == 3_000 && drain.datagramsNotRecorded == 0 && drain.failure == nil)
    }

    @Test func aSinkFailureStopsRecordingAndCountsTheRest() {
        let ring = PacketRing(capacity: 64, datagramCapacity: 2_048)
        let sink = MemorySink(failAfter: 500)
        let failures = Atomic<Int>(0)
        let drain = RecordingDrain(ring: ring, sink: sink, sourceForm: .portable) { _ in failures.add(1, ordering: .relaxed) }
        let thread = Thread { drain.run() }
        thread.start()
        Self.publish(3_000, into: ring)
        drain.requestStop()
        #expect(waitUntil(seconds: 10) { drain.datagramsRecorded + drain.datagramsNotRecorded == 3_000 && ring.isEmpty })
        usleep(20_000)  // the thread's last pass and exit
        #expect(drain.isFailed && failures.load(ordering: .relaxed) == 1)
        #expect(drain.failure?.contains("no space left") == true)
        #expect(sink.datagrams.count == 500)
        // The pass that failed counts whole: what it appended before the failure is in the sink,
        // but the pass is not counted recorded.
        #expect(drain.datagramsRecorded <= 500 && drain.datagramsRecorded + drain.datagramsNotRecorded == 3_000)
        #expect(sink.closes == 0, "a failed sink is not closed")
    }
}
