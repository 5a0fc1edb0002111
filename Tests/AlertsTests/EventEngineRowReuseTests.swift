import Alerts
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// The engine keeps its state by fleet row; when the processor gives a row to another drone (a
/// full table, the old drone offline), nothing of the old drone's state may leak to the new one:
/// no `link_restored` for a link it never lost, no zone exit from a zone it was never in, no
/// `gps_fix_lost` for a fix it never had, and events name the new drone.
@Suite struct EventEngineRowReuseTests {
    static let square = Zone(name: "square", kind: .keepOut, shape: .polygon(rings: [[
        .init(longitude: 8.49, latitude: 47.39), .init(longitude: 8.51, latitude: 47.39),
        .init(longitude: 8.51, latitude: 47.41), .init(longitude: 8.49, latitude: 47.41),
        .init(longitude: 8.49, latitude: 47.39),
    ]]))

    func run(_ engine: EventEngine, drone: UInt32, protocol proto: TelemetryProtocol = .skygate, row: Int32, latitude: Double,
             fix: Bool = true, now: UInt64) -> [AlertEvent] {
        let batch = TelemetryBatch(samplesMax: 64)
        let part = proto == .skygate ? batch.skygatePart : batch.mavlinkPart
        part.columns.append(
            WireSample(latitudeE7: Int32(latitude * 1e7), longitudeE7: 85_000_000, altitudeMM: 100_000, batteryPercent: 90,
                       status: fix ? .gpsFix : []),
            droneID: drone, sequence: 1, timestampMicroseconds: now / 1_000)
        part.setDerived(row: 0, fleetRow: row, groundSpeed: 1)
        engine.evaluate(batch, nowNanoseconds: now)
        var events: [AlertEvent] = []
        engine.takeEvents { events = Array($0) }
        return events
    }

    @Test func aReusedRowStartsClean() {
        var rules = RuleSettings()
        rules.lostLinkSeconds = 1
        let engine = EventEngine(capacity: 4, rules: rules, zones: ZoneSource(ZoneSet(zones: [Self.square], hysteresisMetres: 0), path: nil))
        // Drone 7 on row 2 enters the square, then goes silent: lost_link.
        let entered = run(engine, drone: 7, row: 2, latitude: 47.40, now: 1_000_000_000)
        #expect(entered.map(\.kind) == [.zoneEnter])
        engine.checkLostLinks(nowNanoseconds: 5_000_000_000)
        var lost: [AlertEvent] = []
        engine.takeEvents { lost = Array($0) }
        #expect(lost.map(\.kind) == [.lostLink] && lost.first?.drone.number == 7)
        // Row 2 now belongs to MAVLink system 7 (same number, other protocol), outside the
        // square and without a fix: no link_restored, no zone_exit, no gps_fix_lost.
        let reused = run(engine, drone: 7, protocol: .mavlink, row: 2, latitude: 47.0, fix: false, now: 6_000_000_000)
        #expect(reused.isEmpty, "\(reused.map(\.kind))")
        #expect(engine.drone(ofRow: 2) == DroneIdentity(protocol: .mavlink, number: 7))
        #expect(!engine.isInside(row: 2, zone: 0))
        // Then Skygate drone 9 on row 2 entering the square raises its own zone_enter.
        let other = run(engine, drone: 9, row: 2, latitude: 47.40, now: 7_000_000_000)
        #expect(other.map(\.kind) == [.zoneEnter] && other.first?.drone == DroneIdentity(protocol: .skygate, number: 9))
    }

    @Test func theSameDroneKeepsItsState() {
        let engine = EventEngine(capacity: 4, rules: RuleSettings(), zones: ZoneSource(ZoneSet(zones: [Self.square], hysteresisMetres: 0), path: nil))
        #expect(run(engine, drone: 3, row: 1, latitude: 47.40, now: 1_000).map(\.kind) == [.zoneEnter])
        // Still inside: nothing new; then outside: the exit.
        #expect(run(engine, drone: 3, row: 1, latitude: 47.401, now: 2_000).isEmpty)
        #expect(run(engine, drone: 3, row: 1, latitude: 47.0, now: 3_000).map(\.kind) == [.zoneExit])
    }
}
