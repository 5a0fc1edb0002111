import Foundation
import Telemetry

/// Reads a zone file: a GeoJSON FeatureCollection (RFC 7946) of Polygon, MultiPolygon and Point
/// features, each with `kind` ("keep-out" or "keep-in") and optionally `name`, `floor_m`,
/// `ceiling_m` and, for a Point, the required `radius_m` (docs/events.md, "Zones").
///
/// A file is taken whole or refused whole: every problem names the feature (its index, its name
/// when it has one, and the line it starts on) and what is wrong, so ops fix the file and reload.
public enum ZoneFile {
    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Reads and checks `path`.
    public static func load(path: String) throws(Problem) -> [Zone] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Problem("--zones \(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: Limits.Zones.fileBytesMax + 1) ?? Data()
        } catch {
            throw Problem("--zones \(path): cannot read (\(error))")
        }
        if data.count > Limits.Zones.fileBytesMax {
            throw Problem("--zones \(path): larger than \(Limits.Zones.fileBytesMax >> 20) MiB")
        }
        return try parse(data, name: path)
    }

    /// Parses and checks a zone file's bytes; `name` prefixes every message.
    public static func parse(_ data: Data, name: String) throws(Problem) -> [Zone] {
        let prefix = "--zones \(name)"
        let bytes = [UInt8](data)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw Problem("\(prefix): not valid JSON\(syntaxPosition(error, bytes))")
        }
        guard let object = root as? [String: Any] else { throw Problem("\(prefix): expected a GeoJSON object at the top") }
        let features: [Any]
        switch object["type"] as? String {
        case "FeatureCollection":
            guard let list = object["features"] as? [Any] else { throw Problem("\(prefix): a FeatureCollection needs a 'features' array") }
            features = list
        case "Feature":
            features = [object]
        case let other:
            throw Problem("\(prefix): expected a FeatureCollection or a Feature, found \(other.map { "'\($0)'" } ?? "no type")")
        }
        if features.count > Limits.Zones.zonesMax {
            throw Problem("\(prefix): \(features.count) features, more than the \(Limits.Zones.zonesMax) zones allowed")
        }
        let lines = object["type"] as? String == "FeatureCollection" ? featureLines(bytes) : [1]
        var zones: [Zone] = []
        var names = Set<String>()
        var vertices = 0
        for (index, feature) in features.enumerated() {
            let line = index < lines.count ? lines[index] : nil
            var label = "feature \(index)"
            if let properties = (feature as? [String: Any])?["properties"] as? [String: Any], let name = properties["name"] as? String {
                label += " '\(name)'"
            }
            if let line { label += " (line \(line))" }
            let zone: Zone
            do throws(Problem) {
                zone = try self.zone(from: feature, index: index)
            } catch {
                throw Problem("\(prefix): \(label): \(error.description)")
            }
            guard names.insert(zone.name).inserted else {
                throw Problem("\(prefix): \(label): another zone is already named '\(zone.name)' (names identify zones in events)")
            }
            vertices += zone.vertexCount
            if vertices > Limits.Zones.verticesMax {
                throw Problem("\(prefix): \(label): the file holds more than \(Limits.Zones.verticesMax) vertices in all")
            }
            zones.append(zone)
        }
        return zones
    }

    // MARK: One feature

    static func zone(from feature: Any, index: Int) throws(Problem) -> Zone {
        guard let feature = feature as? [String: Any], feature["type"] as? String == "Feature" else {
            throw Problem("not a GeoJSON Feature")
        }
        let properties = feature["properties"] as? [String: Any] ?? [:]
        let name: String
        switch properties["name"] {
        case nil: name = "zone \(index)"
        case let text as String:
            guard !text.isEmpty, text.count <= 200 else { throw Problem("'name' must be 1 to 200 characters") }
            name = text
        default: throw Problem("'name' must be a string")
        }
        guard let kindText = properties["kind"] as? String else {
            throw Problem("needs a 'kind' property: \(Zone.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or "))")
        }
        guard let kind = Zone.Kind(rawValue: kindText) else {
            throw Problem("unknown kind '\(kindText)': expected \(Zone.Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or "))")
        }
        let floor = try number(properties["floor_m"], "floor_m")
        let ceiling = try number(properties["ceiling_m"], "ceiling_m")
        if let floor, let ceiling, floor >= ceiling { throw Problem("floor_m \(floor) must be below ceiling_m \(ceiling)") }
        guard let geometry = feature["geometry"] as? [String: Any], let type = geometry["type"] as? String else {
            throw Problem("needs a geometry with a type")
        }
        let shape: Zone.Shape
        switch type {
        case "Polygon":
            shape = .polygon(rings: try rings(geometry["coordinates"], polygon: nil))
        case "MultiPolygon":
            guard let polygons = geometry["coordinates"] as? [Any], !polygons.isEmpty else {
                throw Problem("a MultiPolygon needs an array of polygons")
            }
            var all: [[Zone.Position]] = []
            for (number, polygon) in polygons.enumerated() { all += try rings(polygon, polygon: number) }
            shape = .polygon(rings: all)
        case "Point":
            let center = try position(geometry["coordinates"], at: "the point")
            guard let radius = try number(properties["radius_m"], "radius_m") else {
                throw Problem("a Point zone is a circle: it needs a 'radius_m' property")
            }
            guard radius > 0, radius <= Limits.Zones.radiusMaxMetres else {
                throw Problem("radius_m \(radius) must be above 0 and at most \(Int(Limits.Zones.radiusMaxMetres)) m")
            }
            shape = .circle(center: center, radiusMetres: radius)
        default:
            throw Problem("geometry type '\(type)' is not a zone: use Polygon, MultiPolygon or Point (with radius_m)")
        }
        let zone = Zone(name: name, kind: kind, shape: shape, floorMetres: floor, ceilingMetres: ceiling)
        if zone.vertexCount > Limits.Zones.verticesPerZoneMax {
            throw Problem("\(zone.vertexCount) vertices, more than the \(Limits.Zones.verticesPerZoneMax) a zone may have")
        }
        if case .polygon(let rings) = shape {
            let longitudes = rings.joined().map(\.longitude)
            if let low = longitudes.min(), let high = longitudes.max(), high - low > 180 {
                throw Problem("spans more than 180° of longitude (crosses the antimeridian?): split it in two")
            }
        }
        return zone
    }

    static func number(_ value: Any?, _ name: String) throws(Problem) -> Double? {
        guard let value else { return nil }
        if value is NSNull { return nil }
        // JSONSerialization hands booleans as an NSNumber subclass too: refuse them.
        guard let number = value as? NSNumber, !String(describing: type(of: value)).contains("Boolean"), number.doubleValue.isFinite else {
            throw Problem("'\(name)' must be a number")
        }
        return number.doubleValue
    }

    static func position(_ value: Any?, at place: String) throws(Problem) -> Zone.Position {
        guard let pair = value as? [Any], pair.count >= 2,
              let longitude = (pair[0] as? NSNumber)?.doubleValue, let latitude = (pair[1] as? NSNumber)?.doubleValue,
              longitude.isFinite, latitude.isFinite
        else { throw Problem("\(place): a position is [longitude, latitude]") }
        guard (-180...180).contains(longitude), (-90...90).contains(latitude) else {
            throw Problem("\(place): [\(longitude), \(latitude)] is outside longitude -180...180, latitude -90...90 (GeoJSON puts longitude first)")
        }
        return Zone.Position(longitude: longitude, latitude: latitude)
    }

    static func rings(_ value: Any?, polygon: Int?) throws(Problem) -> [[Zone.Position]] {
        let owner = polygon.map { "polygon \($0) " } ?? ""
        guard let list = value as? [Any], !list.isEmpty else { throw Problem("\(owner)needs an array of linear rings") }
        var rings: [[Zone.Position]] = []
        for (number, ringValue) in list.enumerated() {
            let place = "\(owner)ring \(number)"
            guard let positions = ringValue as? [Any] else { throw Problem("\(place) is not an array of positions") }
            if positions.count > Limits.Zones.verticesPerZoneMax + 1 {
                throw Problem("\(place): \(positions.count) positions, more than the \(Limits.Zones.verticesPerZoneMax) vertices a zone may have")
            }
            var ring: [Zone.Position] = []
            ring.reserveCapacity(positions.count)
            for (vertex, entry) in positions.enumerated() { ring.append(try position(entry, at: "\(place) position \(vertex)")) }
            guard ring.count >= 4 else { throw Problem("\(place) has \(ring.count) positions: a ring needs at least 4 (3 corners and the first again)") }
            guard ring.first == ring.last else { throw Problem("\(place) is not closed: its last position must repeat the first") }
            if let crossing = GeometryChecks.selfIntersection(ring) {
                throw Problem("\(place) intersects itself (edges \(crossing.0) and \(crossing.1) cross)")
            }
            rings.append(ring)
        }
        // Rings of one polygon must not cross each other either (holes inside, outer rings apart).
        for first in rings.indices {
            for second in rings.indices where second > first {
                if let crossing = GeometryChecks.ringsCross(rings[first], rings[second]) {
                    throw Problem("\(owner)rings \(first) and \(second) cross (edge \(crossing.0) of one and \(crossing.1) of the other)")
                }
            }
        }
        return rings
    }

    // MARK: Positions in the text

    /// "around line L, column C" for JSONSerialization's "around character N" (an offset in bytes).
    static func syntaxPosition(_ error: Error, _ bytes: [UInt8]) -> String {
        let text = "\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error)"
        guard let range = text.range(of: "character "), let offset = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            return ": \(text)"
        }
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return " around line \(line), column \(column)"
    }

    /// The line each element of the top-level object's "features" array starts on. A small
    /// scanner over the (already valid) JSON: depth, strings and escapes, nothing else.
    static func featureLines(_ bytes: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var lastKey: [UInt8] = []
        var stringStart = 0
        var inFeatures = false
        var expectingElement = false
        for (offset, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 { lastKey = Array(bytes[stringStart..<offset]) }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = offset + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if inFeatures && depth == 2 && expectingElement {
                    lines.append(line)
                    expectingElement = false
                }
                if depth == 1 && byte == UInt8(ascii: "[") && lastKey == Array("features".utf8) {
                    inFeatures = true
                    expectingElement = true
                }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 1 { inFeatures = false }
            case UInt8(ascii: ","):
                if inFeatures && depth == 2 { expectingElement = true }
            default: break
            }
        }
        return lines
    }
}

/// Segment tests for the zone file's checks (load time only; planar in longitude/latitude).
enum GeometryChecks {
    /// The first pair of non-adjacent edges of a closed ring that touch or cross, or nil.
    static func selfIntersection(_ ring: [Zone.Position]) -> (Int, Int)? {
        let edges = ring.count - 1
        guard edges >= 3 else { return nil }
        for first in 0..<edges {
            for second in (first + 1)..<edges {
                // Adjacent edges share a vertex; so do the last and the first.
                if second == first + 1 || (first == 0 && second == edges - 1) { continue }
                if segmentsIntersect(ring[first], ring[first + 1], ring[second], ring[second + 1]) { return (first, second) }
            }
        }
        // A ring whose edges all lie on one line encloses nothing.
        if abs(signedArea(ring)) < 1e-14 { return (0, edges - 1) }
        return nil
    }

    static func ringsCross(_ a: [Zone.Position], _ b: [Zone.Position]) -> (Int, Int)? {
        for first in 0..<(a.count - 1) {
            for second in 0..<(b.count - 1) where segmentsIntersect(a[first], a[first + 1], b[second], b[second + 1]) {
                return (first, second)
            }
        }
        return nil
    }

    static func signedArea(_ ring: [Zone.Position]) -> Double {
        var sum = 0.0
        for index in 0..<(ring.count - 1) {
            sum += ring[index].longitude * ring[index + 1].latitude - ring[index + 1].longitude * ring[index].latitude
        }
        return sum / 2
    }

    static func segmentsIntersect(_ p1: Zone.Position, _ p2: Zone.Position, _ q1: Zone.Position, _ q2: Zone.Position) -> Bool {
        func orientation(_ a: Zone.Position, _ b: Zone.Position, _ c: Zone.Position) -> Int {
            let value = (b.longitude - a.longitude) * (c.latitude - a.latitude) - (b.latitude - a.latitude) * (c.longitude - a.longitude)
            return value > 0 ? 1 : (value < 0 ? -1 : 0)
        }
        func onSegment(_ a: Zone.Position, _ b: Zone.Position, _ c: Zone.Position) -> Bool {
            min(a.longitude, b.longitude) <= c.longitude && c.longitude <= max(a.longitude, b.longitude)
                && min(a.latitude, b.latitude) <= c.latitude && c.latitude <= max(a.latitude, b.latitude)
        }
        let o1 = orientation(p1, p2, q1), o2 = orientation(p1, p2, q2)
        let o3 = orientation(q1, q2, p1), o4 = orientation(q1, q2, p2)
        if o1 != o2 && o3 != o4 { return true }
        if o1 == 0 && onSegment(p1, p2, q1) { return true }
        if o2 == 0 && onSegment(p1, p2, q2) { return true }
        if o3 == 0 && onSegment(q1, q2, p1) { return true }
        if o4 == 0 && onSegment(q1, q2, p2) { return true }
        return false
    }
}
