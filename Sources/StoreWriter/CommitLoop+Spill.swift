import Pipeline
import Telemetry
import TelemetryStore

/// The spill file on the writer side: spilled batches stored when the queue is idle, batches parked during an outage.
extension CommitLoop {
    /// Stores the oldest spilled batch, if there is one. Returns false when none waits.
    func storeOneSpilled() -> Bool {
        guard let spill, let spillBatch, let taken = spill.takeNext(into: spillBatch) else { return false }
        let started = SystemClock.realtimeNanoseconds()
        if let record = taken.record {
            let outcome = commit(spillBatch, spillSequence: record.sequence, startedNanoseconds: started,
                                 recovered: record.sequence < spill.firstSequenceOfRun)
            if outcome == .unavailable {
                // Still spilled: it is the next record taken once the database is back.
                spill.putBack()
                spillBatch.reset()
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
        spillBatch.reset()
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
