import Foundation
import Pipeline
import StoreWriter
import SkygateTestSupport
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// The store writer from memory: the commit loop commits every batch handed to it once and counts
/// it `stored` (or `dropped{store_failed}` when the store refuses it), calling its hooks on the
/// writer thread.
@Suite struct CommitLoopTests {
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
    static func feed(_ count: Int, processor: TestProcessor, commits: CommitLoop, firstIndex: Int = 0) {
        let now = (start + 60_000_000) * 1_000
        for index in firstIndex..<(firstIndex + count) {
            if !processor.hasRoomForDatagram { _ = processor.takeBatch(replacingWith: commits.exchange(processor.batch)) }
            datagram(drone: UInt32(index % 10) + 1, sequence: UInt32(index / 10)).withUnsafeBytes {
                processor.process(datagram: $0, receivedNanoseconds: now, nowNanoseconds: now)
            }
        }
        _ = processor.takeBatch(replacingWith: commits.exchange(processor.batch))
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
        let processor = TestProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
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
        let processor = TestProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
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


}
