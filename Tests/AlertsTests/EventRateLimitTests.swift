import Alerts
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// Events per drone are rate-limited (issue 20): a storm of fake alarms from one drone (a sender
/// flickering across a keep-out zone's edge thousands of times a second) passes at most its
/// bucket (`Limits.Events.perDroneBurst`, refilled one per `perDroneRefillInterval`), the rest
/// counted `events_dropped{rate_limited}` through the hub, while another drone's real alarm in the
/// same batches still goes out. Checked through the process loop's observer (`EventStage`) and a
/// sink standing where the webhook queues are.
@Suite struct EventRateLimitTests {
    static let square = Zone(name: "keep-out", kind: .keepOut, shape: .polygon(rings: [[
        .init(longitude: 8.49, latitude: 47.39), .init(longitude: 8.51, latitude: 47.39),
        .init(longitude: 8.51, latitude: 47.41), .init(longitude: 8.49, latitude: 47.41),
        .init(longitude: 8.49, latitude: 47.39),
    ]]))

    final class Collecting: EventSink, @unchecked Sendable {
        var events: [AlertEvent] = []
        func accept(_ events: UnsafeBufferPointer<AlertEvent>) { self.events += events }
    }

    @Test func aStormFromOneDroneCannotCrowdOutAnother() {
        var rules = RuleSettings()
        rules.zoneHysteresisMetres = 0
        let sink = Collecting()
        let stage = EventStage(
            engine: EventEngine(capacity: 8, rules: rules, zones: ZoneSource(ZoneSet(zones: [Self.square], hysteresisMetres: 0), path: nil)),
            hub: EventHub(sinks: [sink]))
        let batch = TelemetryBatch(samplesMax: 4_096)
        let second: UInt64 = 1_000_000_000
        var sequence: UInt32 = 0
        func add(drone: UInt32, latitude: Double, time: UInt64) {
            batch.skygate.append(
                WireSample(latitudeE7: Int32(latitude * 1e7), longitudeE7: 85_000_000, altitudeMM: 100_000, batteryPercent: 90, status: .gpsFix),
                droneID: drone, sequence: sequence, timestampMicroseconds: time / 1_000)
            batch.skygatePart.setDerived(row: batch.skygate.count - 1, fleetRow: Int32(drone), groundSpeed: 1)
            sequence &+= 1
        }
        // Ten batches a second apart; in each, drone 1 flickers in and out of the zone 1,000
        // times (1,000 zone events), and in the fifth drone 2 really enters it.
        for step in 0..<10 {
            let now = UInt64(step + 1) * second
            for flicker in 0..<1_000 { add(drone: 1, latitude: flicker % 2 == 0 ? 47.40 : 47.0, time: now) }
            if step == 4 { add(drone: 2, latitude: 47.40, time: now) }
            stage.observe(batch, nowNanoseconds: now)
            batch.reset()
        }
        let stormy = sink.events.filter { $0.drone.number == 1 }
        let real = sink.events.filter { $0.drone.number == 2 }
        #expect(real.map(\.kind) == [.zoneEnter] && real.first?.alarm == true)
        // The bucket, plus one refill per refill interval over the 9 s between the first batch and the last.
        let refills = 9 * second / Limits.Events.perDroneRefillInterval.nanosecondsClamped
        #expect(stormy.count == Int(UInt64(Limits.Events.perDroneBurst) + refills))
        let counters = stage.hub.snapshot()
        #expect(counters.droppedRateLimited == 10_000 - UInt64(stormy.count))
        #expect(counters.total == UInt64(sink.events.count))
    }

    @Test func aQuietDroneGetsItsBucketBack() {
        let engine = EventEngine(
            capacity: 2, rules: RuleSettings(), zones: ZoneSource(ZoneSet(zones: [Self.square], hysteresisMetres: 0), path: nil))
        let batch = TelemetryBatch(samplesMax: 4_096)
        func storm(at now: UInt64) -> Int {
            for flicker in 0..<200 {
                batch.skygate.append(
                    WireSample(latitudeE7: flicker % 2 == 0 ? 474_000_000 : 470_000_000, longitudeE7: 85_000_000, altitudeMM: 100_000, status: .gpsFix),
                    droneID: 1, sequence: UInt32(flicker), timestampMicroseconds: now / 1_000)
                batch.skygatePart.setDerived(row: batch.skygate.count - 1, fleetRow: 1, groundSpeed: 1)
            }
            engine.evaluate(batch, nowNanoseconds: now)
            batch.reset()
            var count = 0
            engine.takeEvents { count = $0.count }
            return count
        }
        let burst = Int(Limits.Events.perDroneBurst)
        #expect(storm(at: 1_000_000_000) == burst)
        #expect(storm(at: 1_000_000_001) == 0)
        // After long enough for the whole bucket to refill, the drone has its full burst again.
        let refill = Limits.Events.perDroneRefillInterval.nanosecondsClamped * UInt64(burst)
        #expect(storm(at: 1_000_000_001 + refill) == burst)
        #expect(engine.takeDroppedRateLimited() == UInt64(3 * 200 - 2 * burst))
    }
}
