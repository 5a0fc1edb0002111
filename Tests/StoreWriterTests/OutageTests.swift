import Foundation
import Pipeline
import StoreWriter
import SkygateTestSupport
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// A store that can be switched away, as a PostgreSQL restart is: while it is down every write
/// and every reconnect fails with `.unavailable`. Rows go to a real SQLite store underneath.
final class SwitchableStore: TelemetryStoreWriting, TelemetryStoreReading, ReconnectingStore {
    let base: TelemetryStore
    let isDown = Atomic<Bool>(false)
    let failedWrites = Atomic<Int>(0)
    init(_ base: TelemetryStore) { self.base = base }

    var location: String { "switchable:" + base.path }
    func write(_ parts: [StoreBatchPart], spillSequence: UInt64?) throws(StoreError) -> StoreWriteResult {
        if isDown.load(ordering: .relaxed) {
            failedWrites.add(1, ordering: .relaxed)
            throw .unavailable("switched off by the test")
        }
        return try base.write(parts, spillSequence: spillSequence)
    }
    func reconnect() throws(StoreError) { if isDown.load(ordering: .relaxed) { throw .unavailable("still off") } }
    func compactIfDue() throws(StoreError) -> StoreCompactionResult? { try base.compactIfDue() }
    func compactAll() throws(StoreError) -> StoreCompactionResult { try base.compactAll() }
    func spillCommittedSequence() throws(StoreError) -> UInt64 { try base.spillCommittedSequence() }
    func retain(olderThanMicroseconds cutoffMicroseconds: UInt64) throws(StoreError) -> StoreRetentionResult {
        try base.retain(olderThanMicroseconds: cutoffMicroseconds)
    }
    func checkpoint() throws(StoreError) { try base.checkpoint() }
    func close() { base.close() }
    func readSamples(
        drone: DroneIdentity?, timeRangeMicroseconds: Range<UInt64>, pageSize: Int, _ body: ([StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        try base.readSamples(drone: drone, timeRangeMicroseconds: timeRangeMicroseconds, pageSize: pageSize, body)
    }
    func droneSummaries() throws(StoreError) -> [StoredDroneSummary] { try base.droneSummaries() }
    func latestSamples() throws(StoreError) -> [StoredSample] { try base.latestSamples() }
    func rowCount() throws(StoreError) -> Int { try base.rowCount() }
    func writeEvents(_ events: [AlertEvent]) throws(StoreError) -> Int {
        if isDown.load(ordering: .relaxed) { throw .unavailable("switched off by the test") }
        return try base.writeEvents(events)
    }
    func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] { try base.readEvents(query) }
    func lastSamples(in timeRangeMicroseconds: Range<UInt64>, dronesMax: Int) throws(StoreError) -> [StoredSample] {
        try base.lastSamples(in: timeRangeMicroseconds, dronesMax: dronesMax)
    }
    func sampleTimeBounds() throws(StoreError) -> ClosedRange<UInt64>? { try base.sampleTimeBounds() }
    func activity(_ buckets: ActivityBuckets) throws(StoreError) -> [ActivityBucket] { try base.activity(buckets) }
}

@Suite struct OutageTests {
    func run(frames: Int, spillBudget: Int) throws -> (IngestCounters.Snapshot, CommitLoop, SwitchableStore, SpillFile) {
        let directory = TemporaryDirectory()
        let store = SwitchableStore(try TelemetryStore(path: directory.file("outage.db")))
        let counters = IngestCounters()
        var rawLimits = Limits()
        rawLimits.commitSamplesMax = 512
        let limits = try ValidLimits(rawLimits)
        let spill = try SpillFile(
            path: directory.file("outage.spill"), budgetBytes: spillBudget, samplesMax: 512, committedSequence: 0)
        let commits = CommitLoop(store: store, limits: limits, counters: counters, hooks: CommitLoop.Hooks(recordsLatency: true), spill: spill)
        let processor = TestProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
        commits.start(threadName: "skygate-test-outage")
        for _ in 0..<frames { counters.countDatagram(bytes: 80) }
        // A third before the outage, a third during it, a third after the store is back.
        CommitLoopTests.feed(frames / 3, processor: processor, commits: commits, firstIndex: 0)
        store.isDown.store(true, ordering: .relaxed)
        CommitLoopTests.feed(frames / 3, processor: processor, commits: commits, firstIndex: frames / 3)
        // The writer notices at its next commit; the gateway is then not ready.
        let deadline = ContinuousClock.now + .seconds(10)
        while !commits.isStoreUnavailable && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(commits.isStoreUnavailable)
        #expect(commits.lastCommitFailed)
        Thread.sleep(forTimeInterval: 0.3)
        store.isDown.store(false, ordering: .relaxed)
        CommitLoopTests.feed(frames - 2 * (frames / 3), processor: processor, commits: commits, firstIndex: 2 * (frames / 3))
        commits.finish()
        #expect(!commits.isStoreUnavailable)
        return (counters.snapshot(), commits, store, spill)
    }

    @Test func anOutageGoesToTheSpillAndEveryFrameIsStoredOnceAfterTheReconnect() throws {
        let frames = 30_000
        let (snapshot, commits, store, spill) = try run(frames: frames, spillBudget: 64 << 20)
        #expect(store.failedWrites.load(ordering: .relaxed) > 0)
        #expect(commits.outageCount >= 1 && commits.reconnectCount >= 1)
        #expect(spill.spilledBatchCount > 0)
        #expect(spill.pendingRecords == 0)
        #expect(snapshot.stored == UInt64(frames))
        #expect(snapshot.droppedTotal == 0)
        #expect(snapshot.isBalanced)
        var keys = Set<UInt64>()
        try store.readSamples { page in
            for row in page { keys.insert(UInt64(row.drone.number) << 32 | UInt64(row.sequence)) }
            return true
        }
        #expect(keys.count == frames)
        #expect(try store.rowCount() == frames)
        store.close()
    }

    @Test func beyondTheSpillBudgetAnOutageDropsAsStoreUnavailable() throws {
        let frames = 30_000
        // Room for two batches of 512 samples: the outage's third (10,000 frames) cannot fit.
        let budget = 2 * SpillFile.recordBytesMax(samplesMax: 512)
        let (snapshot, _, store, _) = try run(frames: frames, spillBudget: budget)
        let unavailable = snapshot.dropped[.storeUnavailable] ?? 0
        #expect(unavailable > 0)
        #expect(snapshot.isBalanced)
        #expect(try store.rowCount() == Int(snapshot.stored))
        store.close()
    }
}
