import Pipeline
import Telemetry

extension CommitLoop: BatchSink {
    /// Takes a due batch whole and gives back an empty one. When every batch is in flight (the
    /// writer fell behind) the batch goes to the spill file instead (counted `dropped` beyond its
    /// budget) and comes back emptied; without a spill file (replay) this waits for a free batch,
    /// the backpressure the feeding thread then absorbs. An empty batch comes straight back.
    public func exchange(_ full: TelemetryBatch) -> TelemetryBatch {
        guard !full.isEmpty else { return full }
        if let spill {
            if let fresh = freeBatches.tryTake() {
                fullBatches.put(full)
                return fresh
            }
            switch spill.append(full) {
            case .spilled: break
            case .full: counters.countDropped(storeAway.load(ordering: .relaxed) ? .storeUnavailable : .spillFull, units: full.units)
            case .failed: counters.countDropped(.spillFailed, units: full.units)
            }
            full.reset()
            return full
        }
        // Hand-offs end before `finish()` closes the queue, so a free batch always comes.
        guard let fresh = freeBatches.take() else { preconditionFailure("hand-off after the store writer finished") }
        fullBatches.put(full)
        return fresh
    }
}
