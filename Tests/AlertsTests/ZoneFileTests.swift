import Alerts
import Foundation
import Telemetry
import Testing

/// Zone files: good ones load with every property; bad ones are refused whole with a message that
/// names the feature (index, name, line) and the problem.
@Suite struct ZoneFileTests {
    static func parse(_ text: String) throws(ZoneFile.Problem) -> [Zone] {
        try ZoneFile.parse(Data(text.utf8), name: "zones.geojson")
    }

    static func problem(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no problem"
        } catch {
            return error.description
        }
    }

    static let square = "[[[8.50,47.30],[8.51,47.30],[8.51,47.31],[8.50,47.31],[8.50,47.30]]]"

    @Test func loadsPolygonsMultiPolygonsAndCircles() throws {
        let zones = try Self.parse("""
            {"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"name":"pad","kind":"keep-out","floor_m":400,"ceiling_m":600},
               "geometry":{"type":"Polygon","coordinates":\(Self.square)}},
              {"type":"Feature","properties":{"kind":"keep-in","radius_m":250},
               "geometry":{"type":"Point","coordinates":[8.55,47.40]}},
              {"type":"Feature","properties":{"name":"two","kind":"keep-out"},
               "geometry":{"type":"MultiPolygon","coordinates":[\(Self.square),[[[9,47],[9.1,47],[9.1,47.1],[9,47]]]]}}
            ]}
            """)
        #expect(zones.count == 3)
        #expect(zones[0] == Zone(name: "pad", kind: .keepOut, shape: .polygon(rings: [[
            .init(longitude: 8.50, latitude: 47.30), .init(longitude: 8.51, latitude: 47.30), .init(longitude: 8.51, latitude: 47.31),
            .init(longitude: 8.50, latitude: 47.31), .init(longitude: 8.50, latitude: 47.30),
        ]]), floorMetres: 400, ceilingMetres: 600))
        #expect(zones[1].name == "zone 1")
        #expect(zones[1].shape == .circle(center: .init(longitude: 8.55, latitude: 47.40), radiusMetres: 250))
        if case .polygon(let rings) = zones[2].shape { #expect(rings.count == 2) } else { Issue.record("not a polygon") }
    }

    /// The benchmark's zone file (Scripts/make-bench-zones.py) loads whole: 34 circles, 66 polygons.
    @Test func benchZoneFixtureLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/zones/bench100.geojson").standardized.path
        let zones = try ZoneFile.load(path: path)
        #expect(zones.count == 100)
        #expect(zones.count { if case .circle = $0.shape { true } else { false } } == 34)
    }

    @Test func invalidJSONNamesLineAndColumn() {
        let message = Self.problem("{\n  \"type\": \"FeatureCollection\",\n  \"features\": [,]\n}")
        #expect(message.hasPrefix("--zones zones.geojson: not valid JSON"), "\(message)")
        #expect(message.contains("line 3"), "\(message)")
    }

    @Test func selfIntersectingRingNamesTheFeatureAndItsLine() {
        let message = Self.problem("""
            {"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"name":"ok","kind":"keep-out"},"geometry":{"type":"Polygon","coordinates":\(Self.square)}},
              {"type":"Feature","properties":{"name":"bow tie","kind":"keep-out"},
               "geometry":{"type":"Polygon","coordinates":[[[8.50,47.30],[8.51,47.31],[8.51,47.30],[8.50,47.31],[8.50,47.30]]]}}
            ]}
            """)
        #expect(message == "--zones zones.geojson: feature 1 'bow tie' (line 3): ring 0 intersects itself (edges 0 and 2 cross)")
    }

    @Test func tooManyVerticesIsRefused() {
        let count = Limits.Zones.verticesPerZoneMax + 10
        var ring = (0..<count).map { index -> String in
            let angle = Double(index) / Double(count) * 2 * .pi
            return "[\(8.5 + 0.01 * cos(angle)),\(47.3 + 0.01 * sin(angle))]"
        }
        ring.append(ring[0])
        let message = Self.problem("""
            {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"round","kind":"keep-in"},
            "geometry":{"type":"Polygon","coordinates":[[\(ring.joined(separator: ","))]]}}]}
            """)
        #expect(message.contains("feature 0 'round' (line 1)"), "\(message)")
        #expect(message.contains("more than the \(Limits.Zones.verticesPerZoneMax)"), "\(message)")
    }

    @Test(arguments: [
        (#"{"type":"Feature","properties":{"kind":"keep-out"},"geometry":{"type":"LineString","coordinates":[[8,47],[9,47]]}}"#, "geometry type 'LineString' is not a zone"),
        (#"{"type":"Feature","properties":{"kind":"nearby"},"geometry":{"type":"Point","coordinates":[8,47]}}"#, "unknown kind 'nearby'"),
        (#"{"type":"Feature","properties":{"kind":"keep-in"},"geometry":{"type":"Point","coordinates":[8,47]}}"#, "needs a 'radius_m' property"),
        (#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[8,47]}}"#, "needs a 'kind' property"),
        (#"{"type":"Feature","properties":{"kind":"keep-out"},"geometry":{"type":"Polygon","coordinates":[[[8,47],[9,47],[9,48],[8,48]]]}}"#, "is not closed"),
        (#"{"type":"Feature","properties":{"kind":"keep-out"},"geometry":{"type":"Polygon","coordinates":[[[47,8],[47,9],[200,9],[47,8]]]}}"#, "is outside longitude"),
        (#"{"type":"Feature","properties":{"kind":"keep-out","floor_m":500,"ceiling_m":100},"geometry":{"type":"Point","coordinates":[8,47]}}"#, "must be below ceiling_m"),
        (#"{"type":"Feature","properties":{"kind":"keep-out","radius_m":true},"geometry":{"type":"Point","coordinates":[8,47]}}"#, "'radius_m' must be a number"),
        (#"{"type":"Feature","properties":{"kind":"keep-out"},"geometry":{"type":"Polygon","coordinates":[[[170,0],[-170,0],[-170,1],[170,0]]]}}"#, "antimeridian"),
        (#"[1,2]"#, "expected a GeoJSON object"),
    ])
    func badFeaturesAreRefused(text: String, expected: String) {
        let message = Self.problem(text)
        #expect(message.contains(expected), "\(message)")
        #expect(message.hasPrefix("--zones zones.geojson"), "\(message)")
    }

    @Test func duplicateNamesAreRefused() {
        let feature = #"{"type":"Feature","properties":{"name":"a","kind":"keep-out","radius_m":5},"geometry":{"type":"Point","coordinates":[8,47]}}"#
        let message = Self.problem(#"{"type":"FeatureCollection","features":["# + feature + ",\n" + feature + "]}")
        #expect(message.contains("feature 1 'a' (line 2): another zone is already named 'a'"), "\(message)")
    }
}
