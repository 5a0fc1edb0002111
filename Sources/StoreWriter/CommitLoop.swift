import Pipeline
import Synchronization
import Telemetry
import TelemetryStore

/// The store side of the data path, shared by the live gateway and `replay --db`: the commit
/// batches (allocated once), the two bounded queues between the batch processor and the store
/// writer (double buffering), and the writer thread that commits each full batch in one
/// transaction and counts its units `stored` (or `dropped{store_failed}` when the commit fails).
///
/// The processor side calls `handOff(from:)` when its batch is due. When every batch is in flight
/// (the writer fell behind), it appends the batch to the spill file instead, if there is one, and
/// goes on; the writer stores spilled batches whenever its queue is empty. Without a spill file
/// (replay), it waits, which is the backpressure the caller then absorbs.
///
/// After each commit the writer compacts the store's recent blocks into chunks when they are due
/// (`TelemetryStore.compactIfDue()`), off the processor's path.
public final class CommitLoop: @unchecked Sendable {
    // @unchecked: `store` and `latencies` are used by the writer thread only (until `finish()`
    // joins it); batches change hands through the queues; the rest is atomic or immutable.

    /// What the loop does besides committing, on the writer thread (and only there, so the
    /// closures need not be `Sendable`: retention captures the store the thread owns).
    public struct Hooks {
        /// Whether to record receive-to-commit latencies (live traffic; a replay's receive times
        /// are the recording's, so its latencies mean nothing).
        public var recordsLatency: Bool
        /// Called after each commit attempt with its start time (ns, wall clock): retention.
        public var afterCommit: (_ startedNanoseconds: UInt64) -> Void
        /// Called once after the last batch, before the thread ends.
        public var atEnd: () -> Void
        /// Called with a commit error's message (the units are already counted dropped).
        public var onError: (String) -> Void
        /// Test seam: the writer sleeps this long before each commit (a slow disk on purpose).
        public var commitDelay: Duration

        public init(
            recordsLatency: Bool, afterCommit: @escaping (UInt64) -> Void = { _ in },
            atEnd: @escaping () -> Void = {}, onError: @escaping (String) -> Void = { _ in },
            commitDelay: Duration = .zero
        ) {
            self.recordsLatency = recordsLatency
            self.afterCommit = afterCommit
            self.atEnd = atEnd
            self.onError = onError
            self.commitDelay = commitDelay
        }
    }

    public let store: any TelemetryStoring
    let counters: IngestCounters
    let hooks: Hooks
    let freeBatches: BatchQueue
    let fullBatches: BatchQueue
    /// The batch the processor fills first; the others wait in `freeBatches`.
    public let firstBatch: TelemetryBatch
    /// Receive-to-commit latency of every stored unit.
    public let commitLatency = LatencyHistogram()
    /// Duration of each commit (one batch, one transaction).
    public let commitDuration = LatencyHistogram()
    /// Duration of each compaction of recent blocks into chunks.
    public let compactionDuration = LatencyHistogram()
    /// Where batches go when the writer is behind; nil: the processor waits instead.
    public let spill: SpillFile?
    /// Events waiting to be stored (the event hub fills it); nil: no events.
    public let events: EventQueue?
    /// Events written (not counting ones a shared store already held), and events a refused
    /// write dropped.
    public let eventsStored = Atomic<UInt64>(0)
    public let eventsStoreFailed = Atomic<UInt64>(0)
    let lastWriteFailed = Atomic<Bool>(false)
    /// The database is away (a network store's outage): batches go to the spill file.
    let storeAway = Atomic<Bool>(false)
    let outages = Atomic<UInt64>(0)
    let reconnects = Atomic<UInt64>(0)
    let rowsAlreadyStored = Atomic<UInt64>(0)
    /// Set when shutdown found the database still away: what is left stays in the spill file.
    var gaveUp = false
    let batchesCommitted = Atomic<UInt64>(0)
    let lastBatchSamples = Atomic<Int>(0)
    let firstError = Mutex<String?>(nil)
    /// Latency scratch, one entry per unit a batch can hold; allocated once.
    private var latencies: [UInt64]
    /// The replay windows' marks to keep in the store (docs/security.md, "Replay windows in the
    /// store"): set before `start`, by a gateway with keys. Before each commit the marks that
    /// rose are written (in their own transaction, ahead of the batch: a crash between the two
    /// leaves the store's marks ahead, which refuses more, never less).
    public var replayMarks: ReplayMarks?
    /// The marks last written, per slot (the writer thread's only).
    private var replayMarksWritten: [UInt64] = []
    private var writerThread: ThreadHandle?

    /// Allocates `commitBatchesInFlight + 1` batches of `commitSamplesMax` samples; spilled
    /// batches are read back into whichever of them is free (`storeOneSpilled`).
    public init(
        store: any TelemetryStoring, limits validLimits: ValidLimits, counters: IngestCounters, hooks: Hooks, spill: SpillFile? = nil,
        events: EventQueue? = nil
    ) {
        let limits = validLimits.value
        self.store = store
        self.spill = spill
        self.events = events
        self.counters = counters
        self.hooks = hooks
        let batches = (0...limits.commitBatchesInFlight).map { _ in TelemetryBatch(samplesMax: limits.commitSamplesMax) }
        firstBatch = batches[0]
        freeBatches = BatchQueue(capacity: batches.count)
        fullBatches = BatchQueue(capacity: batches.count)
        for batch in batches.dropFirst() { freeBatches.put(batch) }
        latencies = [UInt64](repeating: 0, count: limits.commitSamplesMax)
        allocatedBytes = batches.count * TelemetryBatch.allocatedBytes(samplesMax: limits.commitSamplesMax)
            + limits.commitSamplesMax * MemoryLayout<UInt64>.stride
            + (spill == nil ? 0 : 2 * Limits.Store.spillStagingBytes)
    }

    /// Bytes allocated by `init`: the commit batches (`commitBatchesInFlight + 1`), the latency
    /// scratch, and the spill file's two staging buffers.
    public let allocatedBytes: Int

    /// Starts the writer thread.
    public func start(threadName: String) {
        precondition(writerThread == nil, "started twice")
        writerThread = ThreadHandle.start(name: threadName) { [self] in run() }
    }

    /// Lets the writer commit what was handed off, then waits for it to end. Idempotent.
    public func finish() {
        fullBatches.close()
        writerThread?.join()
        writerThread = nil
    }

    /// Whether the last commit failed or the database is away (the gateway is then not ready).
    public var lastCommitFailed: Bool { lastWriteFailed.load(ordering: .relaxed) || storeAway.load(ordering: .relaxed) }
    /// Whether the database is away now.
    public var isStoreUnavailable: Bool { storeAway.load(ordering: .relaxed) }
    /// Outages ridden out (the store went away) and reconnections after them.
    public var outageCount: UInt64 { outages.load(ordering: .relaxed) }
    public var reconnectCount: UInt64 { reconnects.load(ordering: .relaxed) }
    /// Samples a shared store already held when this gateway committed them (stored once).
    public var samplesAlreadyStored: UInt64 { rowsAlreadyStored.load(ordering: .relaxed) }
    public var batchesCommittedCount: UInt64 { batchesCommitted.load(ordering: .relaxed) }
    public var lastBatchSampleCount: Int { lastBatchSamples.load(ordering: .relaxed) }
    /// Full batches waiting for the writer.
    public var batchesWaiting: Int { fullBatches.count }
    /// The first commit error, if any (its units are counted `dropped{store_failed}`).
    public var firstCommitError: String? { firstError.withLock { $0 } }

    // MARK: The writer thread

    private func run() {
        // Bounded: ends when the queue is closed and empty and the spill file holds nothing, or
        // at shutdown when the database stays away (the spill file keeps the rest).
        while !gaveUp {
            if let batch = fullBatches.tryTake() {
                commitQueued(batch)
            } else if storeOneSpilled() {
                continue
            } else if events == nil, let batch = fullBatches.take() {
                commitQueued(batch)
            } else if events != nil {
                // With events to store, wake now and then: events come without batches too
                // (a lost link when all traffic stops).
                let (batch, closed) = fullBatches.take(waitingAtMost: Limits.Events.storeWaitMax)
                if let batch { commitQueued(batch) } else if closed { break } else { storeEvents() }
            } else {
                break
            }
        }
        // Closed: what is still spilled is stored before the loop ends (SIGTERM drains it).
        while !gaveUp && storeOneSpilled() {}
        if !gaveUp { storeEvents() }
        if gaveUp {
            hooks.onError("the database is still unavailable at shutdown; \(spill?.pendingRecords ?? 0) batches stay in the spill file for the next start")
        } else {
            compact(force: true)
        }
        hooks.atEnd()
    }

    private func commitQueued(_ batch: TelemetryBatch) {
        let started = SystemClock.realtimeNanoseconds()
        if gaveUp || commit(batch, spillSequence: nil, startedNanoseconds: started) == .unavailable {
            if spill != nil {
                park(batch)
                awaitStore()
            } else {
                // No spill file (replay): hold the batch and retry; the caller waits meanwhile.
                while true {
                    guard awaitStore() else {
                        counters.countDropped(.storeUnavailable, units: batch.units)
                        break
                    }
                    if commit(batch, spillSequence: nil, startedNanoseconds: started) != .unavailable { break }
                }
            }
        }
        batch.reset()
        freeBatches.put(batch)
        storeEvents()
        compact(force: false)
        hooks.afterCommit(started)
    }

    /// Writes the replay marks that rose since the last write; on failure they are written again
    /// with the next commit.
    private func writeReplayMarks() throws(StoreError) {
        guard let replayMarks, let markStore = store as? any ReplayMarkStoring else { return }
        let before = replayMarksWritten
        let marks = replayMarks.marksToWrite(since: &replayMarksWritten)
        guard !marks.isEmpty else { return }
        do { try markStore.writeReplayMarks(marks) } catch {
            replayMarksWritten = before
            throw error
        }
    }

    func compact(force: Bool) {
        do {
            let started = ContinuousClock.now
            let result = force ? try store.compactAll() : try store.compactIfDue()
            if let result, result.samples > 0 {
                compactionDuration.record(CollectionOfOne(UInt64((ContinuousClock.now - started).microsecondsClamped)))
            }
        } catch {
            // The recent blocks stay stored and readable; the next commit tries again.
            hooks.onError("compaction failed: \(error)")
        }
    }

    enum CommitOutcome: Equatable { case committed, failed, unavailable }

    @discardableResult
    func commit(
        _ batch: TelemetryBatch, spillSequence: UInt64?, startedNanoseconds started: UInt64, recovered: Bool = false
    ) -> CommitOutcome {
        if hooks.commitDelay > .zero { SystemClock.sleep(for: hooks.commitDelay) }
        // Frames the store isolated and left out (PostgreSQL: days beyond one batch's partitions).
        var refused = (units: 0, rows: 0)
        do {
            try writeReplayMarks()
            let result = try store.write([
                StoreBatchPart(protocol: .skygate, columns: batch.skygate),
                StoreBatchPart(protocol: .mavlink, columns: batch.mavlink),
            ], spillSequence: spillSequence)
            if result.rowsAlreadyStored > 0 { rowsAlreadyStored.add(UInt64(result.rowsAlreadyStored), ordering: .relaxed) }
            refused = (min(result.unitsRefused, batch.units), min(result.rowsRefused, batch.sampleCount))
        } catch where error.isUnavailable {
            // An outage, not a refused batch: the caller keeps the batch (spill file or retry).
            return .unavailable
        } catch {
            let message = "commit of \(batch.units) frames failed: \(error)"
            if recovered {
                // Not counted in this run's identity: the next start replays the record again.
                lastWriteFailed.store(true, ordering: .relaxed)
                firstError.withLock { first in if first == nil { first = message } }
                hooks.onError(message)
                return .failed
            }
            counters.countDropped(.storeFailed, units: batch.units)
            lastWriteFailed.store(true, ordering: .relaxed)
            firstError.withLock { first in if first == nil { first = message } }
            hooks.onError(message)
            return .failed
        }
        let committed = SystemClock.realtimeNanoseconds()
        lastWriteFailed.store(false, ordering: .relaxed)
        if recovered {
            // Outside this run's identity, like the rest of the recovered batch; the log says it.
            if refused.units > 0 { hooks.onError("a recovered batch: \(refused.units) frames on too many days refused (batch_days_exceeded)") }
            counters.countRecovered(units: batch.units - refused.units, samples: batch.sampleCount - refused.rows)
            batchesCommitted.add(1, ordering: .relaxed)
            return .committed
        }
        counters.countStored(units: batch.units - refused.units, samples: batch.sampleCount - refused.rows)
        if refused.units > 0 { counters.countRejected(.batchDaysExceeded, units: refused.units) }
        if hooks.recordsLatency {
            let receiveTimes = batch.unitReceiveTimes
            for index in receiveTimes.indices {
                latencies[index] = committed > receiveTimes[index] ? (committed - receiveTimes[index]) / 1_000 : 0
            }
            commitLatency.record(latencies[0..<receiveTimes.count])
            commitDuration.record(CollectionOfOne((committed &- started) / 1_000))
        }
        batchesCommitted.add(1, ordering: .relaxed)
        lastBatchSamples.store(batch.sampleCount, ordering: .relaxed)
        return .committed
    }
}
