import Telemetry
import TelemetryStore

/// Outages of a network store: not ready, reconnect with doubling waits, give up at shutdown.
extension CommitLoop {
    /// After a commit found the database away: not ready, reconnect with doubling waits.
    /// Meanwhile queued batches go to the spill file, so the processor always has a free batch.
    /// Returns false at shutdown once `Limits.Store.shutdownReconnectWait` has passed.
    @discardableResult
    func awaitStore() -> Bool {
        if gaveUp { return false }
        if !storeAway.exchange(true, ordering: .relaxed) { outages.add(1, ordering: .relaxed) }
        var delay = Limits.Store.reconnectBackoffInitial
        var closedAt: ContinuousClock.Instant?
        var lastMessage = ""
        // Bounded: every pass sleeps; after close the shutdown wait ends it.
        while true {
            if spill != nil, let queued = fullBatches.tryTake() {
                park(queued)
                queued.reset()
                freeBatches.put(queued)
                continue
            }
            SystemClock.sleep(for: delay)
            do {
                // A store that cannot go away (SQLite) reported an outage only through a test
                // double or a bug; its next commit is the reconnection attempt.
                if let reconnecting = store as? any ReconnectingStore { try reconnecting.reconnect() }
                storeAway.store(false, ordering: .relaxed)
                reconnects.add(1, ordering: .relaxed)
                return true
            } catch {
                let message = "\(error)"
                if message != lastMessage { hooks.onError("reconnecting to \(store.location): \(message)") }
                lastMessage = message
            }
            delay = min(delay * 2, Limits.Store.reconnectBackoffMax)
            if fullBatches.closed {
                let now = ContinuousClock.now
                if closedAt == nil { closedAt = now }
                if now - closedAt! >= Limits.Store.shutdownReconnectWait {
                    // Whatever is still queued goes to the spill file for the next start.
                    while spill != nil, let queued = fullBatches.tryTake() {
                        park(queued)
                        queued.reset()
                        freeBatches.put(queued)
                    }
                    gaveUp = true
                    return false
                }
            }
        }
    }
}
