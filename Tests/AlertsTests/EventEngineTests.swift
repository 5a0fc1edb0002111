import Alerts
import Pipeline
import Foundation
import Telemetry
import TelemetryWire
import Testing

/// The engine over hand-made columns: zone enter/exit with hysteresis, the grid prefilter against
/// a brute-force check, and each rule firing once and re-arming.
@Suite struct EventEngineTests {
    /// A 1 km square keep-out zone around (47.4, 8.5), and a keep-in circle.
    static let zones = [
        Zone(name: "square", kind: .keepOut, shape: .polygon(rings: [[
            .init(longitude: 8.4934, latitude: 47.3955), .init(longitude: 8.5066, latitude: 47.3955),
            .init(longitude: 8.5066, latitude: 47.4045), .init(longitude: 8.4934, latitude: 47.4045),
            .init(longitude: 8.4934, latitude: 47.3955),
        ]]), ceilingMetres: 600),
        Zone(name: "circle", kind: .keepIn, shape: .circle(center: .init(longitude: 8.5, latitude: 47.4), radiusMetres: 2_000)),
    ]

    final class Feed {
        let batch = TelemetryBatch(samplesMax: 4_096)
        var columns: SampleColumns { batch.skygate }
        func add(drone: UInt32, sequence: UInt32, time: UInt64, latitude: Double, longitude: Double, altitude: Double = 500,
                 battery: UInt8 = 90, speed: Float = 5, fix: Bool = true) {
            columns.append(
                WireSample(latitudeE7: Int32((latitude * 1e7).rounded()), longitudeE7: Int32((longitude * 1e7).rounded()),
                           altitudeMM: Int32(altitude * 1_000), batteryPercent: battery, status: fix ? .gpsFix : []),
                droneID: drone, sequence: sequence, timestampMicroseconds: time)
            batch.skygatePart.setDerived(row: columns.count - 1, fleetRow: Int32(drone), groundSpeed: speed)
        }
        func run(_ engine: EventEngine, now: UInt64 = 1_000) -> [AlertEvent] {
            engine.evaluate(batch, nowNanoseconds: now)
            var events: [AlertEvent] = []
            engine.takeEvents { events = Array($0) }
            batch.reset()
            return events
        }
    }

    static func engine(_ rules: RuleSettings = RuleSettings()) -> EventEngine {
        EventEngine(capacity: 64, rules: rules, zones: ZoneSource(ZoneSet(zones: zones, hysteresisMetres: rules.zoneHysteresisMetres), path: nil))
    }

    @Test func crossingTheSquareEntersOnceAndLeavesBeyondTheMargin() {
        var rules = RuleSettings()
        rules.zoneHysteresisMetres = 10
        let engine = Self.engine(rules)
        let feed = Feed()
        // West to east along latitude 47.4 through the square (x from -800 m to +800 m), 1 m steps
        // near each edge (at ±500 m): the exit must wait until 10 m past the east edge.
        let metresPerDegree = 111_319.49 * cos(47.4 * .pi / 180)
        var time: UInt64 = 1_000_000
        var sequence: UInt32 = 0
        var positions: [Double] = Array(stride(from: -800.0, to: -510, by: 50)) + Array(stride(from: -510.0, through: -490, by: 1))
        positions += Array(stride(from: -450.0, to: 490, by: 50)) + Array(stride(from: 490.0, through: 520, by: 1))
        positions += [600, 700, 800]
        var crossings: [(kind: EventKind, x: Double)] = []
        for x in positions {
            feed.add(drone: 3, sequence: sequence, time: time, latitude: 47.4, longitude: 8.5 + x / metresPerDegree)
            for event in feed.run(engine) where event.zone == "square" { crossings.append((event.kind, x)) }
            time += 100_000
            sequence += 1
        }
        #expect(crossings.map(\.kind) == [.zoneEnter, .zoneExit])
        // The square's east and west edges, 0.0066° of longitude from the centre.
        let edge = 0.0066 * metresPerDegree
        #expect(crossings.first.map { $0.x >= -edge && $0.x <= -edge + 1 } == true, "\(crossings), edge \(edge)")
        #expect(crossings.last.map { $0.x > edge + 10 && $0.x <= edge + 11 } == true, "\(crossings), edge \(edge)")
        // Above the ceiling the square does not apply.
        feed.add(drone: 4, sequence: 0, time: time, latitude: 47.4, longitude: 8.5, altitude: 700)
        #expect(feed.run(engine).filter { $0.zone == "square" }.isEmpty)
        feed.add(drone: 4, sequence: 1, time: time + 1, latitude: 47.4, longitude: 8.5, altitude: 590)
        let entered = feed.run(engine).filter { $0.zone == "square" }
        #expect(entered.map(\.kind) == [.zoneEnter])
        #expect(entered.first?.alarm == true)
    }

    @Test func gridPrefilterAgreesWithBruteForce() {
        // 100 scattered zones and 20,000 points: the engine's inside state equals a plain test
        // of every zone against every point (hysteresis 0, every point a new drone).
        var generator = SystemRandomNumberGenerator()
        var zones: [Zone] = []
        for index in 0..<100 {
            let lat = 47.35 + Double(index % 10) * 0.01, lon = 8.45 + Double(index / 10) * 0.01
            if index % 3 == 0 {
                zones.append(Zone(name: "c\(index)", kind: .keepOut, shape: .circle(center: .init(longitude: lon, latitude: lat), radiusMetres: 300)))
            } else {
                let d = 0.004
                zones.append(Zone(name: "p\(index)", kind: .keepOut, shape: .polygon(rings: [[
                    .init(longitude: lon - d, latitude: lat - d), .init(longitude: lon + d, latitude: lat - d / 2),
                    .init(longitude: lon, latitude: lat + d), .init(longitude: lon - d, latitude: lat - d),
                ]])))
            }
        }
        let set = ZoneSet(zones: zones, hysteresisMetres: 0)
        // The engine works in Float metres around each zone's origin, this test in Double degrees:
        // within a few millimetres of an edge the two roundings may put a point on either side
        // (CI once drew 47.4333406, 8.5396703, exactly on an edge of zone 98). Such points say
        // nothing about the grid, so they are skipped, and counted.
        var onEdge = 0
        for _ in 0..<20_000 {
            let lat = Int32.random(in: 473_400_000...474_500_000, using: &generator)
            let lon = Int32.random(in: 84_400_000...85_500_000, using: &generator)
            if zones.contains(where: { Self.metresFromBoundary($0, lat: Double(lat) / 1e7, lon: Double(lon) / 1e7) < 0.05 }) {
                onEdge += 1
                continue
            }
            var viaGrid = Set<Int>()
            for slot in set.candidateZones(latitudeE7: lat, longitudeE7: lon) where set.contains(slot, latitudeE7: lat, longitudeE7: lon, altitudeMM: 0) {
                viaGrid.insert(slot)
            }
            var brute = Set<Int>()
            for zone in 0..<zones.count where Self.bruteInside(zones[zone], lat: Double(lat) / 1e7, lon: Double(lon) / 1e7) { brute.insert(zone) }
            #expect(viaGrid == brute, "at \(lat), \(lon)")
            if viaGrid != brute { break }
        }
        // 10 cm-wide bands along ~200 km of edges, in ~100 km² of points: ~4 of 20,000 expected.
        #expect(onEdge < 20, "\(onEdge) points within 5 cm of an edge")
    }

    /// Distance in metres from a point to the zone's boundary (circle or polygon edges), in the
    /// same flat projection as `bruteInside`.
    static func metresFromBoundary(_ zone: Zone, lat: Double, lon: Double) -> Double {
        let north = 111_319.49
        switch zone.shape {
        case .circle(let center, let radius):
            let east = north * cos(center.latitude * .pi / 180)
            let dy = (lat - center.latitude) * north, dx = (lon - center.longitude) * east
            return abs((dx * dx + dy * dy).squareRoot() - radius)
        case .polygon(let rings):
            let east = north * cos(lat * .pi / 180)
            var nearest = Double.infinity
            for ring in rings {
                for index in 0..<(ring.count - 1) {
                    let ax = (ring[index].longitude - lon) * east, ay = (ring[index].latitude - lat) * north
                    let bx = (ring[index + 1].longitude - lon) * east, by = (ring[index + 1].latitude - lat) * north
                    let dx = bx - ax, dy = by - ay
                    let t = max(0, min(1, -(ax * dx + ay * dy) / max(dx * dx + dy * dy, 1e-12)))
                    let px = ax + t * dx, py = ay + t * dy
                    nearest = min(nearest, (px * px + py * py).squareRoot())
                }
            }
            return nearest
        }
    }

    /// Plain even-odd ray casting in longitude/latitude, and a haversine-free flat distance for circles.
    static func bruteInside(_ zone: Zone, lat: Double, lon: Double) -> Bool {
        switch zone.shape {
        case .circle(let center, let radius):
            let dy = (lat - center.latitude) * 111_319.49
            let dx = (lon - center.longitude) * 111_319.49 * cos(center.latitude * .pi / 180)
            return dx * dx + dy * dy <= radius * radius
        case .polygon(let rings):
            var inside = false
            for ring in rings {
                for index in 0..<(ring.count - 1) {
                    let a = ring[index], b = ring[index + 1]
                    if (a.latitude > lat) != (b.latitude > lat),
                       lon < a.longitude + (lat - a.latitude) * (b.longitude - a.longitude) / (b.latitude - a.latitude) {
                        inside.toggle()
                    }
                }
            }
            return inside
        }
    }

    @Test func rulesFireOnceAndReArm() {
        var rules = RuleSettings()
        rules.lowBatteryPercent = 20
        rules.overspeedMetresPerSecond = 20
        rules.altitudeCeilingMetres = 1_000
        rules.sequenceGapFrames = 5
        rules.lostLinkSeconds = 2
        let engine = EventEngine(capacity: 8, rules: rules, zones: ZoneSource(.empty, path: nil))
        let feed = Feed()
        func step(_ sequence: UInt32, battery: UInt8 = 90, speed: Float = 5, altitude: Double = 500, fix: Bool = true, now: UInt64 = 1_000) -> [EventKind] {
            feed.add(drone: 1, sequence: sequence, time: UInt64(sequence) * 100_000 + 1_000_000, latitude: 47.4, longitude: 8.5,
                     altitude: altitude, battery: battery, speed: speed, fix: fix)
            return feed.run(engine, now: now).map(\.kind)
        }
        #expect(step(0) == [])
        #expect(step(1, battery: 19) == [.lowBattery])
        #expect(step(2, battery: 15) == [])
        #expect(step(3, battery: 24) == [])  // not re-armed below 20 + 5
        #expect(step(4, battery: 25) == [])
        #expect(step(5, battery: 19) == [.lowBattery])
        #expect(step(6, speed: 25) == [.overspeed])
        #expect(step(7, speed: 19) == [])  // 19 > 0.9 × 20: still armed off
        #expect(step(8, speed: 17) == [])
        #expect(step(9, speed: 21) == [.overspeed])
        #expect(step(10, altitude: 1_200) == [.altitudeCeiling])
        #expect(step(11, fix: false) == [.gpsFixLost])
        #expect(step(12, fix: false) == [])
        #expect(step(13) == [])
        #expect(step(20) == [.sequenceGapBurst])  // 6 frames missing
        #expect(step(24) == [])  // 3 missing
        engine.checkLostLinks(nowNanoseconds: 1_000 + 3_000_000_000)
        var lost: [AlertEvent] = []
        engine.takeEvents { lost = Array($0) }
        #expect(lost.map(\.kind) == [.lostLink])
        #expect(lost.first.map { abs($0.value - 3) < 0.01 } == true)
        #expect(step(25, now: 4_000_000_000) == [.linkRestored])
    }

    @Test func reloadCarriesStateByName() {
        let source = ZoneSource(ZoneSet(zones: Self.zones, hysteresisMetres: 5), path: nil)
        let engine = EventEngine(capacity: 8, rules: RuleSettings(), zones: source)
        let feed = Feed()
        feed.add(drone: 2, sequence: 0, time: 1, latitude: 47.4, longitude: 8.5)
        #expect(Set(feed.run(engine).map(\.zone)) == ["square", "circle"])
        // The circle goes, a new zone comes first in the file: the square stays entered (no event).
        let moved = [Zone(name: "new", kind: .keepOut, shape: .circle(center: .init(longitude: 9, latitude: 47), radiusMetres: 10)), Self.zones[0]]
        source.replace(with: ZoneSet(zones: moved, hysteresisMetres: 5))
        feed.add(drone: 2, sequence: 1, time: 2, latitude: 47.4, longitude: 8.5)
        #expect(feed.run(engine).isEmpty)
        #expect(engine.isInside(row: 2, zone: 1))
        #expect(!engine.isInside(row: 2, zone: 0))
    }
}
