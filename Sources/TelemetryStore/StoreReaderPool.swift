import Synchronization

/// Read-only store connections kept open between requests (at most `idleMax`), so a review
/// page that asks for the fleet several times a second does not open a connection, read the
/// schema and warm a cold page cache on every request. A connection is handed to one caller at a
/// time; one whose work failed is closed, not kept (it may be broken: a PostgreSQL server gone,
/// a damaged page). After `close()` every call opens and closes a connection of its own, as
/// before the pool, so a request racing shutdown still gets an answer and leaves nothing open.
public final class StoreReaderPool: Sendable {
    /// A store moved between threads whole: the pool hands each to one caller at a time.
    private struct Idle: @unchecked Sendable {
        let store: any TelemetryStoreReading
    }

    private struct State {
        var idle: [Idle] = []
        var isClosed = false
    }

    private let state: Mutex<State>
    private let open: @Sendable () throws(StoreError) -> any TelemetryStoreReading
    public let idleMax: Int

    public init(idleMax: Int, open: @escaping @Sendable () throws(StoreError) -> any TelemetryStoreReading) {
        precondition(idleMax >= 0)
        self.idleMax = idleMax
        self.open = open
        var initial = State()
        initial.idle.reserveCapacity(idleMax)
        state = Mutex(initial)
    }

    /// Connections open and waiting for the next request.
    public var idleCount: Int { state.withLock { $0.idle.count } }

    /// Runs `body` on a pooled connection (opened when none waits).
    public func withStore<Value>(_ body: (any TelemetryStoreReading) throws(StoreError) -> Value) throws(StoreError) -> Value {
        let store: any TelemetryStoreReading
        if let idle = state.withLock({ $0.idle.popLast() }) {
            store = idle.store
        } else {
            store = try open()
        }
        let value: Value
        do {
            value = try body(store)
        } catch {
            store.close()
            throw error
        }
        let kept = state.withLock { state -> Bool in
            guard !state.isClosed, state.idle.count < idleMax else { return false }
            state.idle.append(Idle(store: store))
            return true
        }
        if !kept { store.close() }
        return value
    }

    /// Closes the waiting connections; later calls open their own (idempotent).
    public func close() {
        let idle = state.withLock { state -> [Idle] in
            state.isClosed = true
            defer { state.idle = [] }
            return state.idle
        }
        for entry in idle { entry.store.close() }
    }
}
