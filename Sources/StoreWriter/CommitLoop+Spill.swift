import Pipeline
import Telemetry
import TelemetryStore

/// The spill file on the writer side: spilled batches stored when the queue is idle, batches parked during an outage.
extension CommitLoop {
    /// Stores the oldest spilled batch, if there is one. Returns false when none waits, or when
    /// no commit batch is free to read it into (only for the moment the processor holds two in
    /// `exchange`; the caller then waits for the full one it hands over).
    ///
    /// The record is read back into a free commit batch, borrowed and given back: the writer
    /// only gets here with its queue empty, so of the `commitBatchesInFlight + 1` batches the
    /// processor holds one and the rest are free. Those batches take turns (the free queue is
    /// first in, first out), so their pages are resident already and a first spill steps the
    /// resident size up by nothing; a batch of its own cost 3.6 MiB from start-up
    /// (docs/performance.md, stop 28). While one is borrowed, the processor has one batch fewer
    /// in hand and spills a little sooner if the writer is still behind.
    func storeOneSpilled() -> Bool {
        guard let spill, spill.pendingRecords > 0, let spillBatch = freeBatches.tryTake() else { return false }
        func giveBack() {
            spillBatch.reset()
            freeBatches.put(spillBatch)
        }
        guard let taken = spill.takeNext(into: spillBatch) else {
            giveBack()
            return false
        }
        let started = SystemClock.realtimeNanoseconds()
        if let record = taken.record {
            let outcome = commit(spillBatch, spillSequence: record.sequence, startedNanoseconds: started,
                                 recovered: record.sequence < spill.firstSequenceOfRun)
            if outcome == .unavailable {
                // Still spilled: it is the next record taken once the database is back. The batch
                // goes back first: the processor needs free batches more during the outage.
                spill.putBack()
                giveBack()
                awaitStore()
                return !gaveUp
            }
        } else {
            let message = "a spilled batch could not be read back from \(spill.path)"
            // Units this run spilled are counted; an earlier run's were never counted here.
            if taken.unreadableUnits > 0, let sequence = taken.sequence, sequence >= spill.firstSequenceOfRun {
                counters.countDropped(.spillFailed, units: taken.unreadableUnits)
            }
            firstError.withLock { first in if first == nil { first = message } }
            hooks.onError(message)
        }
        giveBack()
        spill.didStore()
        storeEvents()
        compact(force: false)
        hooks.afterCommit(started)
        return true
    }

    /// Appends a batch the database could not take now to the spill file; beyond its budget
    /// the batch is lost and counted `dropped{store_unavailable}`.
    func park(_ batch: TelemetryBatch) {
        guard let spill else { return }
        switch spill.append(batch) {
        case .spilled: break
        case .full: counters.countDropped(.storeUnavailable, units: batch.units)
        case .failed: counters.countDropped(.spillFailed, units: batch.units)
        }
    }
}
