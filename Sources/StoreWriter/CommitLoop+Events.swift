import Telemetry
import TelemetryStore

/// Event storage: events the hub queued are written after each commit, or when no batch came for a while.
extension CommitLoop {
    /// Writes the events waiting in `events` (after a commit, or when no batch came for a while).
    /// An outage leaves them queued; a refused write drops them, counted.
    func storeEvents() {
        guard let events, !storeAway.load(ordering: .relaxed), events.count > 0 else { return }
        // Bounded: each pass removes up to storeWriteMax events or stops.
        while events.count > 0 {
            let taken = events.peek(max: Limits.Events.storeWriteMax)
            do {
                let written = try store.writeEvents(taken)
                eventsStored.add(UInt64(written), ordering: .relaxed)
                events.remove(count: taken.count)
            } catch where error.isUnavailable {
                return
            } catch {
                eventsStoreFailed.add(UInt64(taken.count), ordering: .relaxed)
                events.remove(count: taken.count)
                let message = "storing \(taken.count) events failed: \(error)"
                firstError.withLock { first in if first == nil { first = message } }
                hooks.onError(message)
                return
            }
        }
    }
}
