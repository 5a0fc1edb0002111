import Dispatch
import Hummingbird
import Synchronization
import Telemetry
import TelemetryStore

/// Admits at most `Limits.Status.storeReadsConcurrentMax` store reads at once (track and event
/// requests together) and runs each on a Dispatch thread, so the server's small pool never waits
/// on SQLite or PostgreSQL, and a burst of requests cannot open a connection each (with
/// PostgreSQL, a server connection each). A request beyond the bound is answered 503 at once and
/// counted (`http_store_reads_refused`).
public final class StoreReadLimiter: Sendable {
    private let inFlight = Mutex(0)
    private let refused = Atomic<UInt64>(0)
    let readsMax: Int

    public init(readsMax: Int = Limits.Status.storeReadsConcurrentMax) {
        precondition(readsMax >= 1)
        self.readsMax = readsMax
    }

    /// Requests refused because `readsMax` reads were running.
    public var refusedCount: UInt64 { refused.load(ordering: .relaxed) }

    /// Runs `work` off the server's pool when a slot is free; throws 503 (naming `what`) otherwise.
    func run<Value: Sendable>(what: String, _ work: @escaping @Sendable () throws(StoreError) -> Value) async throws
        -> Result<Value, StoreError>
    {
        let admitted = inFlight.withLock { count in
            guard count < readsMax else { return false }
            count += 1
            return true
        }
        guard admitted else {
            refused.add(1, ordering: .relaxed)
            throw HTTPError(.serviceUnavailable, message: "too many \(what) queries at once (\(readsMax) store reads run at a time); retry")
        }
        defer { inFlight.withLock { $0 -= 1 } }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: Result { () throws(StoreError) in try work() })
            }
        }
    }
}
