import Alerts
import FlightRecording
import Foundation
import Gateway
import Playback
import SkygateTestSupport
import Telemetry
import TelemetryStore
import Testing

/// Issue 19's acceptance: one way in for every source. A live gateway records a seeded fleet
/// flying across a keep-out zone (`serve --record --zones`, value rules on); the recording is then
/// replayed into a new database with the same zones and rules (`replay --db`). Both runs go
/// through the same process loop, so the replay must raise exactly the events the live gateway
/// raised (kind, drone, zone, time, value, position), and store the same rows.
@Suite(.serialized) struct ReplayEventsEndToEndTests {
    /// Rules chosen so each kind fires on the simulator's flights: batteries start at 60-100 %,
    /// cruise speeds are 8-15 m/s, cruise heights 60-120 m over ground at ~488 m.
    static var rules: RuleSettings {
        var rules = RuleSettings()
        rules.zoneHysteresisMetres = GatewayEventsEndToEndTests.hysteresis
        rules.lowBatteryPercent = 80
        rules.overspeedMetresPerSecond = 12
        rules.altitudeCeilingMetres = 560
        // Wall-clock rules differ by nature between a live run and a replay at full speed.
        rules.lostLinkSeconds = 0
        return rules
    }

    struct Key: Hashable, CustomStringConvertible {
        var kind: EventKind, drone: DroneIdentity, zone: String, time: UInt64, value: Double, latitude: Int32, longitude: Int32
        init(_ event: AlertEvent) {
            (kind, drone, zone, time, value) = (event.kind, event.drone, event.zone, event.timeMicroseconds, event.value)
            (latitude, longitude) = (event.latitudeE7, event.longitudeE7)
        }
        var description: String { "\(kind.name) \(drone) \(zone) @\(time) \(value)" }
    }

    static func events(in path: String) throws -> [Key] {
        let store = try TelemetryStore(path: path, options: { var options = StoreOptions(); options.isReadOnly = true; return options }())
        defer { store.close() }
        return try store.readEvents(EventQuery(limit: 100_000)).map(Key.init)
    }

    @Test func aReplayedRecordingRaisesTheEventsTheLiveGatewayRaised() throws {
        let directory = TemporaryDirectory()
        let zones = directory.file("zones.geojson")
        try Data(GatewayEventsEndToEndTests.zonesFile.utf8).write(to: URL(fileURLWithPath: zones))

        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("live.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.recordDirectory = directory.file("recordings")
        configuration.zonesPath = zones
        configuration.rules = Self.rules
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let summary = try fly(drones: 24, rate: 1, duration: 400, seed: 19, port: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(summary.totals.datagramsSent) })
        let live = gateway.stop()
        #expect(live.isBalanced)

        let runner = try ReplayRunner(databasePath: directory.file("replayed.db"), zonesPath: zones, rules: Self.rules)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.file("recordings")).filter { $0.hasSuffix(".skyrec") }.sorted()
        let readers = try names.map { try openRecording(path: directory.file("recordings/" + $0)) }
        _ = runner.replay(readers, fromNanoseconds: nil, untilNanoseconds: nil, shouldStop: { false })
        let replayed = runner.finish()
        #expect(runner.storeError == nil)
        #expect(replayed.isBalanced)
        #expect(replayed.stored == live.stored && replayed.samplesStored == live.samplesStored)

        let liveEvents = try Self.events(in: directory.file("live.db"))
        let replayedEvents = try Self.events(in: directory.file("replayed.db"))
        // The flight exercised every kind the test is about, so equality says something.
        let kinds = Set(liveEvents.map(\.kind))
        for kind in [EventKind.zoneEnter, .zoneExit, .lowBattery, .overspeed, .altitudeCeiling] {
            #expect(kinds.contains(kind), "the live run raised no \(kind.name)")
        }
        #expect(liveEvents.count == Set(liveEvents).count, "an event was stored twice")
        #expect(Set(replayedEvents) == Set(liveEvents), """
            only live: \(Set(liveEvents).subtracting(replayedEvents).sorted { $0.time < $1.time }.prefix(5))
            only replayed: \(Set(replayedEvents).subtracting(liveEvents).sorted { $0.time < $1.time }.prefix(5))
            """)
        #expect(replayedEvents.count == liveEvents.count)
        // The same rows, too (all but the commit time).
        func rows(_ name: String) throws -> [DroneIdentity: [StoredSample]] {
            try storedRows(directory.file(name)).mapValues { $0.map { row in var row = row; row.storedMicroseconds = nil; return row } }
        }
        #expect(try rows("replayed.db") == rows("live.db"))
    }
}
