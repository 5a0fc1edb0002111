@testable import Alerts
import Foundation
import Testing

/// The zone grid is total over its input domain (issue 20): for any zone set and any position,
/// on the globe or not, the grid's candidates hold every zone whose box holds the position, so
/// the zones found through the grid equal a brute-force scan over all zones. Proved with seeded
/// random zone sets spanning the globe (poles, antimeridian, thin and huge boxes) and positions
/// everywhere (inside boxes, on their edges, on cell boundaries, on the globe's edges, garbage),
/// and with explicit cases, among them the one that trapped: zones spanning more than 214.7° of
/// longitude, whose `Int32` longitude difference wrapped and sent the cell index negative.
@Suite struct ZoneGridTests {
    /// SplitMix64: a seeded generator, so every case is the same on every run.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A random zone anywhere on the globe: a polygon (a box, a triangle or a box with a hole)
    /// up to 180° of longitude wide, or a circle up to the file's 100 km, poles and the
    /// antimeridian included.
    static func randomZone(_ index: Int, using generator: inout SplitMix64) -> Zone {
        func longitude() -> Double {
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: return 180
            case 1: return -180
            default: return Double.random(in: -180...180, using: &generator)
            }
        }
        func latitude() -> Double {
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: return 90
            case 1: return -90
            default: return Double.random(in: -90...90, using: &generator)
            }
        }
        let kind: Zone.Kind = Bool.random(using: &generator) ? .keepOut : .keepIn
        let floor: Double? = Int.random(in: 0..<4, using: &generator) == 0 ? Double.random(in: -100...100, using: &generator) : nil
        let ceiling: Double? = Int.random(in: 0..<4, using: &generator) == 0 ? Double.random(in: 200...5_000, using: &generator) : nil
        if Int.random(in: 0..<3, using: &generator) == 0 {
            let radius = [1.0, 50, 5_000, 100_000][Int.random(in: 0..<4, using: &generator)]
            return Zone(name: "c\(index)", kind: kind, shape: .circle(center: .init(longitude: longitude(), latitude: latitude()), radiusMetres: radius),
                        floorMetres: floor, ceilingMetres: ceiling)
        }
        // Width from a thousandth of a degree to the file's 180°, clamped into the globe.
        let width = [0.001, 0.5, 20, 120, 180][Int.random(in: 0..<5, using: &generator)]
        let height = [0.001, 0.5, 20, 90, 180][Int.random(in: 0..<5, using: &generator)]
        let west = min(180 - width, max(-180, longitude() - width / 2)), south = min(90 - height, max(-90, latitude() - height / 2))
        let east = west + width, north = south + height
        let outer: [Zone.Position] = [.init(longitude: west, latitude: south), .init(longitude: east, latitude: south),
                                      .init(longitude: east, latitude: north), .init(longitude: west, latitude: north),
                                      .init(longitude: west, latitude: south)]
        switch Int.random(in: 0..<3, using: &generator) {
        case 0:
            let triangle: [Zone.Position] = [.init(longitude: west, latitude: south), .init(longitude: east, latitude: south),
                                             .init(longitude: (west + east) / 2, latitude: north), .init(longitude: west, latitude: south)]
            return Zone(name: "t\(index)", kind: kind, shape: .polygon(rings: [triangle]), floorMetres: floor, ceilingMetres: ceiling)
        case 1:
            let (w, e, s, n) = (west + width / 4, east - width / 4, south + height / 4, north - height / 4)
            let hole: [Zone.Position] = [.init(longitude: w, latitude: s), .init(longitude: e, latitude: s), .init(longitude: e, latitude: n),
                                         .init(longitude: w, latitude: n), .init(longitude: w, latitude: s)]
            return Zone(name: "h\(index)", kind: kind, shape: .polygon(rings: [outer, hole]), floorMetres: floor, ceilingMetres: ceiling)
        default:
            return Zone(name: "p\(index)", kind: kind, shape: .polygon(rings: [outer]), floorMetres: floor, ceilingMetres: ceiling)
        }
    }

    /// A position to probe: anywhere on the globe, on a zone's box edge or corner (and one unit
    /// either side), on the globe's edges, or garbage anywhere in `Int32`.
    static func randomPosition(_ set: ZoneSet, using generator: inout SplitMix64) -> (latitude: Int32, longitude: Int32) {
        let zone = set.count > 0 ? Int.random(in: 0..<set.count, using: &generator) : 0
        func near(_ value: Int32) -> Int32 { value.addingReportingOverflow(Int32.random(in: -1...1, using: &generator)).partialValue }
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:
            return (Int32.random(in: .min ... .max, using: &generator), Int32.random(in: .min ... .max, using: &generator))
        case 1 where set.count > 0:
            let latitudes = [set.minLatitudeE7[zone], set.maxLatitudeE7[zone]], longitudes = [set.minLongitudeE7[zone], set.maxLongitudeE7[zone]]
            return (near(latitudes[Int.random(in: 0..<2, using: &generator)]), near(longitudes[Int.random(in: 0..<2, using: &generator)]))
        case 2 where set.count > 0:
            let latitude = Int32.random(in: min(set.minLatitudeE7[zone], set.maxLatitudeE7[zone])...max(set.minLatitudeE7[zone], set.maxLatitudeE7[zone]), using: &generator)
            let longitude = Int32.random(in: min(set.minLongitudeE7[zone], set.maxLongitudeE7[zone])...max(set.minLongitudeE7[zone], set.maxLongitudeE7[zone]), using: &generator)
            return (latitude, longitude)
        case 3:
            let latitudes: [Int32] = [900_000_000, -900_000_000, 0, 900_000_001, -900_000_001]
            let longitudes: [Int32] = [1_800_000_000, -1_800_000_000, 0, 1_800_000_001, -1_800_000_001]
            return (latitudes[Int.random(in: 0..<5, using: &generator)], longitudes[Int.random(in: 0..<5, using: &generator)])
        default:
            return (Int32.random(in: -900_000_000...900_000_000, using: &generator), Int32.random(in: -1_800_000_000...1_800_000_000, using: &generator))
        }
    }

    /// Checks one position against the set; returns a description of the first disagreement.
    static func disagreement(_ set: ZoneSet, latitude: Int32, longitude: Int32, altitudeMM: Int32 = 0) -> String? {
        let range = set.candidates(latitudeE7: latitude, longitudeE7: longitude)
        guard range.lowerBound >= 0, range.upperBound <= set.cellZones.count, range.lowerBound <= range.upperBound else {
            return "candidate range \(range) outside 0..<\(set.cellZones.count)"
        }
        let candidates = set.candidateZones(latitudeE7: latitude, longitudeE7: longitude)
        guard Set(candidates).count == candidates.count else { return "a zone listed twice: \(candidates)" }
        guard candidates.allSatisfy({ $0 >= 0 && $0 < set.count }) else { return "a candidate out of range: \(candidates)" }
        // Every zone whose box holds the position is a candidate (the grid misses none).
        for zone in 0..<set.count
        where latitude >= set.minLatitudeE7[zone] && latitude <= set.maxLatitudeE7[zone]
            && longitude >= set.minLongitudeE7[zone] && longitude <= set.maxLongitudeE7[zone]
            && !candidates.contains(zone)
        {
            return "zone \(zone) '\(set.zones[zone].name)' holds the position in its box but is not a candidate"
        }
        // So the zones found through the grid are those a scan of every zone finds.
        let viaGrid = Set(candidates.filter { set.contains($0, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: altitudeMM) })
        let brute = Set((0..<set.count).filter { set.contains($0, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: altitudeMM) })
        if viaGrid != brute { return "grid \(viaGrid.sorted()) but all zones \(brute.sorted())" }
        // The exit test is total too (no trap, whatever the position).
        for zone in 0..<set.count { _ = set.isBeyondMargin(zone, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: altitudeMM) }
        return nil
    }

    @Test func gridCandidatesEqualABruteForceScanForZonesAcrossTheGlobe() {
        var generator = SplitMix64(state: 20)
        var checked = 0
        for setNumber in 0..<400 {
            let count = [1, 2, 3, 8, 40, 256][setNumber % 6]
            let zones = (0..<count).map { Self.randomZone($0, using: &generator) }
            let set = ZoneSet(zones: zones, hysteresisMetres: [0, 5, 500][setNumber % 3])
            for _ in 0..<(count > 40 ? 200 : 600) {
                let position = Self.randomPosition(set, using: &generator)
                checked += 1
                if let problem = Self.disagreement(set, latitude: position.latitude, longitude: position.longitude) {
                    Issue.record("set \(setNumber) at \(position): \(problem)")
                    return
                }
            }
        }
        #expect(checked > 150_000)
    }

    /// Two zones together spanning 340° of longitude (each under 180°, so the file is
    /// accepted). Before the fix a position in the eastern zone trapped (negative cell), and
    /// positions past 214.7° east of the grid's edge landed in the wrong cell.
    static let globeSpanning = [
        Zone(name: "west", kind: .keepOut, shape: .polygon(rings: [[
            .init(longitude: -170, latitude: -10), .init(longitude: -100, latitude: -10), .init(longitude: -100, latitude: 10),
            .init(longitude: -170, latitude: 10), .init(longitude: -170, latitude: -10),
        ]])),
        Zone(name: "east", kind: .keepOut, shape: .polygon(rings: [[
            .init(longitude: 100, latitude: -10), .init(longitude: 170, latitude: -10), .init(longitude: 170, latitude: 10),
            .init(longitude: 100, latitude: 10), .init(longitude: 100, latitude: -10),
        ]])),
    ]

    @Test func zonesSpanningMoreThan215DegreesFindTheEasternZone() {
        let set = ZoneSet(zones: Self.globeSpanning, hysteresisMetres: 5)
        for longitude in stride(from: 100.0, through: 170.0, by: 0.5) {
            let longitudeE7 = Int32((longitude * 1e7).rounded())
            #expect(set.candidateZones(latitudeE7: 0, longitudeE7: longitudeE7).contains(1), "at \(longitude)°")
            #expect(set.contains(1, latitudeE7: 0, longitudeE7: longitudeE7, altitudeMM: 0))
            #expect(Self.disagreement(set, latitude: 0, longitude: longitudeE7) == nil)
        }
        #expect(set.candidateZones(latitudeE7: 0, longitudeE7: -1_350_000_000) == [0])
    }

    @Test(arguments: [
        (Int32(900_000_000), Int32(1_800_000_000)), (-900_000_000, -1_800_000_000), (900_000_000, -1_800_000_000),
        (-900_000_000, 1_800_000_000), (0, 0), (.max, .max), (.min, .min), (.min, .max), (.max, .min),
        (900_000_001, 0), (0, 1_800_000_001), (-900_000_001, -1_800_000_001),
    ])
    func edgesOfTheGlobeAndGarbage(latitude: Int32, longitude: Int32) {
        // The whole globe as one zone set: a box over each hemisphere pair, circles at both poles
        // and on the antimeridian.
        let zones = [
            Zone(name: "north-west", kind: .keepOut, shape: .polygon(rings: [[
                .init(longitude: -180, latitude: 0), .init(longitude: 0, latitude: 0), .init(longitude: 0, latitude: 90),
                .init(longitude: -180, latitude: 90), .init(longitude: -180, latitude: 0),
            ]])),
            Zone(name: "south-east", kind: .keepIn, shape: .polygon(rings: [[
                .init(longitude: 0, latitude: -90), .init(longitude: 180, latitude: -90), .init(longitude: 180, latitude: 0),
                .init(longitude: 0, latitude: 0), .init(longitude: 0, latitude: -90),
            ]])),
            Zone(name: "north pole", kind: .keepOut, shape: .circle(center: .init(longitude: 0, latitude: 90), radiusMetres: 100_000)),
            Zone(name: "south pole", kind: .keepOut, shape: .circle(center: .init(longitude: 180, latitude: -90), radiusMetres: 100_000)),
            Zone(name: "antimeridian", kind: .keepOut, shape: .circle(center: .init(longitude: -180, latitude: 0), radiusMetres: 100_000)),
        ]
        let set = ZoneSet(zones: zones, hysteresisMetres: 5)
        #expect(Self.disagreement(set, latitude: latitude, longitude: longitude) == nil)
        let onGlobe = (-900_000_000...900_000_000).contains(latitude) && (-1_800_000_000...1_800_000_000).contains(longitude)
        if !onGlobe { #expect(set.candidateZones(latitudeE7: latitude, longitudeE7: longitude).isEmpty, "a position off the globe has no zone") }
    }

    @Test func zonesMadeInCodeWithImpossibleCoordinatesDoNotTrap() {
        // ZoneFile refuses these; a ZoneSet built from them must still be total.
        let zones = [
            Zone(name: "empty", kind: .keepOut, shape: .polygon(rings: [])),
            Zone(name: "short ring", kind: .keepOut, shape: .polygon(rings: [[.init(longitude: 1, latitude: 1)]])),
            Zone(name: "off the globe", kind: .keepOut, shape: .polygon(rings: [[
                .init(longitude: -500, latitude: -200), .init(longitude: 500, latitude: -200), .init(longitude: 500, latitude: 200),
                .init(longitude: -500, latitude: -200),
            ]])),
            Zone(name: "nan", kind: .keepOut, shape: .circle(center: .init(longitude: .nan, latitude: .nan), radiusMetres: 10),
                 floorMetres: .nan, ceilingMetres: .infinity),
            Zone(name: "huge circle", kind: .keepIn, shape: .circle(center: .init(longitude: 179, latitude: 89), radiusMetres: 1e9)),
        ]
        let set = ZoneSet(zones: zones, hysteresisMetres: 5)
        var generator = SplitMix64(state: 7)
        for _ in 0..<20_000 {
            let position = Self.randomPosition(set, using: &generator)
            if let problem = Self.disagreement(set, latitude: position.latitude, longitude: position.longitude) {
                Issue.record("at \(position): \(problem)")
                return
            }
        }
    }
}
