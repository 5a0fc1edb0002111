import Alerts
import Pipeline
import Benchmark
import Foundation
import Telemetry
import TelemetryWire

// The event engine over one batch of 4,096 samples (one per drone, each with a GPS fix) against
// 100 zones spread over the simulator's 5 km area: 67 polygons of 12 vertices and 33 circles,
// about 150 m across, covering ~10 % of the area (docs/performance.md, "Zones"). One scaled
// iteration = one batch, so ns per sample = wall clock / 4,096. The goal is ≤ 20 ns per sample
// with the grid and bounding-box prefilter; the loop over every zone (its bounding box, then its exact test, for
// every sample) is the baseline the prefilter is measured against.

let rows = 4_096
let centre = (latitude: 47.397_742, longitude: 8.545_594)

/// Seeded xorshift32 in [0, 1]: the same zones and samples every run.
struct Unit {
    var state: UInt32
    mutating func next() -> Double {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Double(state) / Double(UInt32.max)
    }
}

func zones(count: Int) -> [Zone] {
    var random = Unit(state: 0x2468_ACE1)
    func next() -> Double { random.next() }
    let metresPerDegree = 111_319.49
    let eastScale = cos(centre.latitude * .pi / 180)
    return (0..<count).map { index in
        let north = (next() - 0.5) * 9_000, east = (next() - 0.5) * 9_000
        let lat = centre.latitude + north / metresPerDegree, lon = centre.longitude + east / (metresPerDegree * eastScale)
        if index % 3 == 0 {
            return Zone(name: "c\(index)", kind: .keepOut, shape: .circle(center: .init(longitude: lon, latitude: lat), radiusMetres: 80))
        }
        var ring: [Zone.Position] = (0..<12).map { corner in
            let angle = Double(corner) / 12 * 2 * .pi
            let radius = 60 + 25 * next()
            return .init(longitude: lon + radius * cos(angle) / (metresPerDegree * eastScale), latitude: lat + radius * sin(angle) / metresPerDegree)
        }
        ring.append(ring[0])
        return Zone(name: "p\(index)", kind: .keepOut, shape: .polygon(rings: [ring]))
    }
}

final class Batch: @unchecked Sendable {
    let batch = TelemetryBatch(samplesMax: rows)

    init() {
        var random = Unit(state: 0x1357_9BDF)
        func next() -> Double { random.next() }
        for row in 0..<rows {
            let lat = centre.latitude + (next() - 0.5) * 0.09, lon = centre.longitude + (next() - 0.5) * 0.13
            batch.skygate.append(
                WireSample(latitudeE7: Int32(lat * 1e7), longitudeE7: Int32(lon * 1e7), altitudeMM: 520_000, batteryPercent: 80, status: .gpsFix),
                droneID: UInt32(row + 1), sequence: 1, timestampMicroseconds: 1_800_000_000_000_000)
            batch.skygatePart.setDerived(row: row, fleetRow: Int32(row), groundSpeed: 5)
        }
    }

    func run(_ engine: EventEngine) {
        engine.evaluate(batch, nowNanoseconds: 1)
        engine.takeEvents { blackHole($0.count) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 2_000)
    let batch = Batch()
    let hundred = ZoneSet(zones: zones(count: 100), hysteresisMetres: 5)
    var zonesOnly = RuleSettings()
    zonesOnly.lowBatteryPercent = 0
    zonesOnly.lostLinkSeconds = 0
    zonesOnly.sequenceGapFrames = 0
    zonesOnly.gpsFixLost = false

    // Drones stay where they are, so after the first pass the engine checks each drone's exits
    // (the zones it is in) and the candidates of its cell: the steady state of a fleet.
    Benchmark("Zones: 100 zones, grid prefilter, 4,096 samples") { benchmark in
        let engine = EventEngine(capacity: rows, rules: zonesOnly, zones: ZoneSource(hundred, path: nil))
        batch.run(engine)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { batch.run(engine) }
    }
    Benchmark("Zones and default rules: 100 zones, 4,096 samples") { benchmark in
        let engine = EventEngine(capacity: rows, rules: RuleSettings(), zones: ZoneSource(hundred, path: nil))
        batch.run(engine)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { batch.run(engine) }
    }
    Benchmark("Rules only (no zones), 4,096 samples") { benchmark in
        let engine = EventEngine(capacity: rows, rules: RuleSettings(), zones: ZoneSource(.empty, path: nil))
        batch.run(engine)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { batch.run(engine) }
    }
    Benchmark("Zones: 100 zones, bounding boxes only (no grid), 4,096 samples") { benchmark in
        let latitudes = batch.batch.skygate.latitudesE7, longitudes = batch.batch.skygate.longitudesE7
        for _ in benchmark.scaledIterations {
            var inside = 0
            for row in 0..<rows {
                for zone in 0..<hundred.count where hundred.contains(zone, latitudeE7: latitudes[row], longitudeE7: longitudes[row], altitudeMM: 520_000) {
                    inside += 1
                }
            }
            blackHole(inside)
        }
    }
}
