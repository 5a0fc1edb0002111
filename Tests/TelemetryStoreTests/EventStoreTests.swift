import Telemetry
import TelemetryStore
import Testing

/// Events in SQLite (schema v4): stored once, queried newest first by range, drone and kind,
/// dropped by retention; a v3 file gains the table on open.
@Suite struct EventStoreTests {
    static func event(_ drone: UInt32, _ kind: EventKind, at time: UInt64, zone: String = "") -> AlertEvent {
        AlertEvent(
            timeMicroseconds: time, drone: DroneIdentity(protocol: .mavlink, number: drone), kind: kind, zone: zone,
            alarm: kind != .linkRestored, value: 3.25, latitudeE7: -337_000_000, longitudeE7: 1_512_000_000, altitudeMM: -12_000)
    }

    @Test func storedOnceQueriedAndRetained() throws {
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            defer { store.close() }
            let base: UInt64 = 1_800_000_000_000_000
            var events: [AlertEvent] = []
            for index in 0..<40 {
                let even = index % 2 == 0
                let time = base + UInt64(index) * 1_000
                events.append(Self.event(UInt32(index % 4), even ? .zoneExit : .linkRestored, at: time, zone: even ? "ring \"b\"" : ""))
            }
            #expect(try store.writeEvents(events) == 40)
            #expect(try store.writeEvents(events) == 0)
            let newest = try store.readEvents(EventQuery(limit: 2))
            #expect(newest.map(\.timeMicroseconds) == [base + 39_000, base + 38_000])
            let some = try store.readEvents(EventQuery(drone: DroneIdentity(protocol: .mavlink, number: 2), kind: .zoneExit, limit: 100))
            #expect(some.count == 10)
            var first = try #require(some.first)
            first.id = 0
            #expect(first == Self.event(2, .zoneExit, at: base + 38_000, zone: "ring \"b\""))
            #expect(try store.readEvents(EventQuery(timeRangeMicroseconds: (base + 5_000)..<(base + 15_000))).count == 10)
            _ = try store.retain(olderThanMicroseconds: base + 30_000)
            #expect(try store.readEvents(EventQuery(limit: 1_000)).count == 10)
        }
    }

    @Test func aVersion3FileGainsTheEventsTable() throws {
        try withTemporaryDatabase { path in
            do {
                let store = try TelemetryStore(path: path)
                store.close()
            }
            // Back to v3 as the previous Skygate left it: no events table.
            try rawSQL(path, """
                DROP TABLE events; DROP TABLE replay_marks; DROP INDEX telemetry_chunk_end; DROP TRIGGER chunk_drone_end_insert;
                DROP TRIGGER chunk_drone_end_delete; DROP TABLE chunk_drone_end; UPDATE schema_version SET version = 3
                """)
            let store = try TelemetryStore(path: path)
            defer { store.close() }
            #expect(try rawInteger(path, "SELECT version FROM schema_version") == Int64(TelemetryStore.schemaVersion))
            #expect(try store.writeEvents([Self.event(1, .lostLink, at: 1_800_000_000_000_000)]) == 1)
        }
    }
}
