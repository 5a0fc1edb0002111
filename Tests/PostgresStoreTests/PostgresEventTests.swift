import Foundation
@testable import PostgresStore
import Telemetry
import TelemetryStore
import Testing

/// Events in PostgreSQL (schema v3): stored once across gateways, queried by range, drone and
/// kind newest first, dropped by retention.
@Suite(.enabled(if: TestServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh; .ci/run starts one)"), .serialized)
struct PostgresEventTests {
    static func event(_ drone: UInt32, _ kind: EventKind, at time: UInt64, zone: String = "") -> AlertEvent {
        AlertEvent(
            timeMicroseconds: time, drone: DroneIdentity(protocol: .skygate, number: drone), kind: kind, zone: zone, alarm: true,
            value: 12.5, latitudeE7: 473_977_420, longitudeE7: 85_455_940, altitudeMM: 512_345)
    }

    @Test func eventsAreStoredOnceAcrossGatewaysAndQueried() throws {
        try TestDatabase.withFresh { database in
            let first = try database.open(gateway: "gw-a")
            let second = try database.open(gateway: "gw-b")
            defer { first.close(); second.close() }
            let base = baseTimeMicroseconds
            var events: [AlertEvent] = []
            for index in 0..<50 {
                let even = index % 2 == 0
                let time = base + UInt64(index) * 1_000
                events.append(Self.event(UInt32(index % 5 + 1), even ? .zoneEnter : .lowBattery, at: time, zone: even ? "pad 'a'" : ""))
            }
            #expect(try first.writeEvents(events) == 50)
            // The second gateway heard the same frames: nothing new; a retried write neither.
            #expect(try second.writeEvents(events) == 0)
            #expect(try first.writeEvents(Array(events.prefix(10))) == 0)
            #expect(try database.integer("SELECT count(*) FROM events") == 50)
            let newest = try second.readEvents(EventQuery(limit: 3))
            #expect(newest.map(\.timeMicroseconds) == [base + 49_000, base + 48_000, base + 47_000])
            let one = try first.readEvents(EventQuery(drone: DroneIdentity(protocol: .skygate, number: 1), kind: .zoneEnter, limit: 100))
            #expect(one.count == 5)
            #expect(one.allSatisfy { $0.drone.number == 1 && $0.kind == .zoneEnter && $0.zone == "pad 'a'" })
            var stored = one[0]
            stored.id = 0
            #expect(stored == Self.event(1, .zoneEnter, at: one[0].timeMicroseconds, zone: "pad 'a'"))
            let range = try first.readEvents(EventQuery(timeRangeMicroseconds: (base + 10_000)..<(base + 20_000), limit: 100))
            #expect(range.count == 10)
            // Retention drops events before the cutoff with the telemetry.
            _ = try first.retain(olderThanMicroseconds: base + 25_000)
            #expect(try database.integer("SELECT count(*) FROM events") == 25)
        }
    }
}
