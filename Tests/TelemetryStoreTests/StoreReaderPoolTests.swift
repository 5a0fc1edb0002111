import Synchronization
import Telemetry
import TelemetryStore
import Testing

/// The read connections the status endpoints share: reused between calls, never more kept than
/// `idleMax`, one whose work failed closed rather than kept, and after `close()` nothing kept.
@Suite struct StoreReaderPoolTests {
    final class Opened: Sendable {
        let count = Atomic(0)
    }

    func makePool(_ path: String, idleMax: Int, opened: Opened) -> StoreReaderPool {
        StoreReaderPool(idleMax: idleMax) { () throws(StoreError) in
            opened.count.add(1, ordering: .relaxed)
            var options = StoreOptions()
            options.isReadOnly = true
            return try TelemetryStore(path: path, options: options)
        }
    }

    @Test func reusesKeepsAtMostIdleMaxAndDropsAFailedConnection() throws {
        try withTemporaryDatabase { path in
            try TelemetryStore(path: path).close()
            let opened = Opened()
            let pool = makePool(path, idleMax: 2, opened: opened)
            // One at a time: one connection, reused by every call.
            for _ in 0..<5 { #expect(try pool.withStore { store throws(StoreError) in try store.rowCount() } == 0) }
            #expect(opened.count.load(ordering: .relaxed) == 1 && pool.idleCount == 1)
            // Three at once (nested): three connections, two kept.
            var seen: [ObjectIdentifier] = []
            try pool.withStore { a throws(StoreError) in
                try pool.withStore { b throws(StoreError) in
                    try pool.withStore { c throws(StoreError) in seen = [a, b, c].map { ObjectIdentifier($0) } }
                }
            }
            #expect(Set(seen).count == 3)
            #expect(opened.count.load(ordering: .relaxed) == 3 && pool.idleCount == 2)
            // Work that fails: its connection is closed, not kept.
            #expect(throws: StoreError.closed) {
                try pool.withStore { store throws(StoreError) in
                    store.close()
                    _ = try store.rowCount()
                }
            }
            #expect(pool.idleCount == 1)
            // Closed: the kept one goes, and later calls still answer on a connection of their own.
            pool.close()
            #expect(pool.idleCount == 0)
            #expect(try pool.withStore { store throws(StoreError) in try store.rowCount() } == 0)
            #expect(pool.idleCount == 0 && opened.count.load(ordering: .relaxed) == 4)
        }
    }
}
