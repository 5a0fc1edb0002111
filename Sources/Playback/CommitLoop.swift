import Pipeline
import Synchronization
import Telemetry
import TelemetryStore

/// The store side of the data path, shared by the live gateway and `replay --db`: the commit
/// batches (allocated once), the two bounded queues between the batch processor and the store
/// writer (double buffering), and the writer thread that commits each full batch in one
/// transaction and counts its units `stored` (or `dropped{store_failed}` when the commit fails).
///
/// The processor side calls `handOff(from:)` when its batch is due; it waits only when every
/// batch is in flight, which is the backpressure the packet ring then absorbs.
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

        public init(
            recordsLatency: Bool, afterCommit: @escaping (UInt64) -> Void = { _ in },
            atEnd: @escaping () -> Void = {}, onError: @escaping (String) -> Void = { _ in }
        ) {
            self.recordsLatency = recordsLatency
            self.afterCommit = afterCommit
            self.atEnd = atEnd
            self.onError = onError
        }
    }

    public let store: TelemetryStore
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
    let lastWriteFailed = Atomic<Bool>(false)
    let batchesCommitted = Atomic<UInt64>(0)
    let lastBatchSamples = Atomic<Int>(0)
    private let firstError = Mutex<String?>(nil)
    /// Latency scratch, one entry per unit a batch can hold; allocated once.
    private var latencies: [UInt64]
    private var writerThread: ThreadHandle?

    /// Allocates `commitBatchesInFlight + 1` batches of `commitSamplesMax` samples.
    public init(store: TelemetryStore, limits validLimits: ValidLimits, counters: IngestCounters, hooks: Hooks) {
        let limits = validLimits.value
        self.store = store
        self.counters = counters
        self.hooks = hooks
        let batches = (0...limits.commitBatchesInFlight).map { _ in TelemetryBatch(samplesMax: limits.commitSamplesMax) }
        firstBatch = batches[0]
        freeBatches = BatchQueue(capacity: batches.count)
        fullBatches = BatchQueue(capacity: batches.count)
        for batch in batches.dropFirst() { freeBatches.put(batch) }
        latencies = [UInt64](repeating: 0, count: limits.commitSamplesMax)
    }

    /// Starts the writer thread.
    public func start(threadName: String) {
        precondition(writerThread == nil, "started twice")
        writerThread = ThreadHandle.start(name: threadName) { [self] in run() }
    }

    /// Gives the processor's batch to the writer and the processor a free one, waiting for one
    /// when all are in flight. An empty batch is not handed off.
    public func handOff<Authenticator, Verifier>(from processor: BatchProcessor<Authenticator, Verifier>) {
        guard processor.batch.units > 0 || processor.batch.sampleCount > 0 else { return }
        guard let fresh = freeBatches.take() else { return }
        fullBatches.put(processor.swapBatch(fresh))
    }

    /// Lets the writer commit what was handed off, then waits for it to end. Idempotent.
    public func finish() {
        fullBatches.close()
        writerThread?.join()
        writerThread = nil
    }

    /// Whether the last commit failed (the gateway is then not ready).
    public var lastCommitFailed: Bool { lastWriteFailed.load(ordering: .relaxed) }
    public var batchesCommittedCount: UInt64 { batchesCommitted.load(ordering: .relaxed) }
    public var lastBatchSampleCount: Int { lastBatchSamples.load(ordering: .relaxed) }
    /// Full batches waiting for the writer.
    public var batchesWaiting: Int { fullBatches.count }
    /// The first commit error, if any (its units are counted `dropped{store_failed}`).
    public var firstCommitError: String? { firstError.withLock { $0 } }

    // MARK: The writer thread

    private func run() {
        // Bounded: ends when the queue is closed and empty.
        while let batch = fullBatches.take() {
            let started = SystemClock.realtimeNanoseconds()
            commit(batch, startedNanoseconds: started)
            batch.reset()
            freeBatches.put(batch)
            hooks.afterCommit(started)
        }
        hooks.atEnd()
    }

    private func commit(_ batch: TelemetryBatch, startedNanoseconds started: UInt64) {
        do {
            _ = try store.write([
                StoreBatchPart(protocol: .skygate, columns: batch.skygate),
                StoreBatchPart(protocol: .mavlink, columns: batch.mavlink),
            ])
        } catch {
            let message = "commit of \(batch.units) frames failed: \(error)"
            counters.countDropped(.storeFailed, units: batch.units)
            lastWriteFailed.store(true, ordering: .relaxed)
            firstError.withLock { first in if first == nil { first = message } }
            hooks.onError(message)
            return
        }
        let committed = SystemClock.realtimeNanoseconds()
        counters.countStored(units: batch.units, samples: batch.sampleCount)
        lastWriteFailed.store(false, ordering: .relaxed)
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
    }
}
