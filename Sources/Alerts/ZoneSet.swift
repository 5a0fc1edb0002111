import Foundation
import Telemetry

/// Zones compiled for the hot path: flat arrays built once per (re)load, never changed after.
///
/// A sample finds its candidate zones through a grid over the zones' extent (64 x 64 cells, each
/// listing the zones whose bounding box touches it), then each candidate's own bounding box, and
/// only then the exact test: a circle's distance, or a polygon's even-odd crossing count over its
/// edges. Positions are compared in a flat local frame per zone (metres east and north of the
/// zone's centre, the equirectangular approximation): exact for the inside test, which is
/// invariant under that affine map of longitude/latitude, and within centimetres for the
/// hysteresis distance at zone sizes.
public final class ZoneSet: Sendable {
    public let zones: [Zone]
    public let hysteresisMetres: Double
    /// Zone index by name (to carry drones' state over a reload).
    public let indexByName: [String: Int]

    // Per zone.
    let minLatitudeE7: [Int32], maxLatitudeE7: [Int32], minLongitudeE7: [Int32], maxLongitudeE7: [Int32]
    /// The bounding box grown by the hysteresis margin (for the exit test), 1e-7 degrees.
    let outerMinLatitudeE7: [Int32], outerMaxLatitudeE7: [Int32], outerMinLongitudeE7: [Int32], outerMaxLongitudeE7: [Int32]
    let originLatitudeE7: [Int32], originLongitudeE7: [Int32]
    /// Metres per 1e-7 degree east (at the zone's latitude) and north.
    let metresPerE7East: [Float], metresPerE7North: Float
    let floorMM: [Int32], ceilingMM: [Int32]
    let radiusMetres: [Float]
    let isCircle: [Bool]
    let edgeStart: [Int32], edgeCount: [Int32]
    // Polygon edges, in the zone's local frame (metres).
    let edgeX1: [Float], edgeY1: [Float], edgeX2: [Float], edgeY2: [Float]

    // The grid.
    let gridMinLatitudeE7: Int32, gridMinLongitudeE7: Int32
    let gridMaxLatitudeE7: Int32, gridMaxLongitudeE7: Int32
    let cellsPerE7Latitude: Float, cellsPerE7Longitude: Float
    let cellsPerSide: Int
    /// Zones of cell c: cellZones[cellStart[c]..<cellStart[c + 1]].
    let cellStart: [Int32]
    let cellZones: [Int16]

    static let metresPerDegree = 111_319.49

    public static let empty = ZoneSet(zones: [], hysteresisMetres: 0)

    public init(zones: [Zone], hysteresisMetres: Double) {
        precondition(zones.count <= Limits.Zones.zonesMax)
        self.zones = zones
        self.hysteresisMetres = hysteresisMetres
        var byName: [String: Int] = [:]
        for (index, zone) in zones.enumerated() { byName[zone.name] = index }
        indexByName = byName
        metresPerE7North = Float(Self.metresPerDegree / 1e7)
        let marginE7Latitude = hysteresisMetres / Self.metresPerDegree * 1e7

        var minLat: [Int32] = [], maxLat: [Int32] = [], minLon: [Int32] = [], maxLon: [Int32] = []
        var outerMinLat: [Int32] = [], outerMaxLat: [Int32] = [], outerMinLon: [Int32] = [], outerMaxLon: [Int32] = []
        var originLat: [Int32] = [], originLon: [Int32] = [], east: [Float] = []
        var floors: [Int32] = [], ceilings: [Int32] = [], radii: [Float] = [], circles: [Bool] = []
        var starts: [Int32] = [], counts: [Int32] = []
        var x1: [Float] = [], y1: [Float] = [], x2: [Float] = [], y2: [Float] = []
        // Total over any Double: a zone made in code (not read from a file) may hold coordinates
        // outside the globe or NaN, and must not trap here either.
        func clampE7(_ value: Double, _ bound: Double) -> Int32 {
            value.isNaN ? 0 : Int32(max(-bound, min(bound, value)).rounded())
        }
        func e7Latitude(_ degrees: Double) -> Int32 { clampE7(degrees * 1e7, 9e8) }
        func e7Longitude(_ degrees: Double) -> Int32 { clampE7(degrees * 1e7, 1.8e9) }
        for zone in zones {
            var low = (latitude: 90.0, longitude: 180.0), high = (latitude: -90.0, longitude: -180.0)
            var center: Zone.Position
            switch zone.shape {
            case .circle(let c, let radius):
                center = c
                let dLat = radius / Self.metresPerDegree
                let dLon = radius / (Self.metresPerDegree * max(0.01, cos(c.latitude * .pi / 180)))
                low = (c.latitude - dLat, c.longitude - dLon)
                high = (c.latitude + dLat, c.longitude + dLon)
            case .polygon(let rings):
                for position in rings.joined() {
                    low = (min(low.latitude, position.latitude), min(low.longitude, position.longitude))
                    high = (max(high.latitude, position.latitude), max(high.longitude, position.longitude))
                }
                center = Zone.Position(longitude: (low.longitude + high.longitude) / 2, latitude: (low.latitude + high.latitude) / 2)
            }
            let eastPerE7 = Self.metresPerDegree / 1e7 * max(0.01, cos(center.latitude * .pi / 180))
            let marginE7Longitude = hysteresisMetres / (eastPerE7 * 1e7) * 1e7
            minLat.append(clampE7(low.latitude * 1e7, 9e8)); maxLat.append(clampE7(high.latitude * 1e7, 9e8))
            minLon.append(clampE7(low.longitude * 1e7, 1.8e9)); maxLon.append(clampE7(high.longitude * 1e7, 1.8e9))
            outerMinLat.append(clampE7(low.latitude * 1e7 - marginE7Latitude, 9e8))
            outerMaxLat.append(clampE7(high.latitude * 1e7 + marginE7Latitude, 9e8))
            outerMinLon.append(clampE7(low.longitude * 1e7 - marginE7Longitude, 1.8e9))
            outerMaxLon.append(clampE7(high.longitude * 1e7 + marginE7Longitude, 1.8e9))
            let oLat = e7Latitude(center.latitude), oLon = e7Longitude(center.longitude)
            originLat.append(oLat); originLon.append(oLon); east.append(Float(eastPerE7))
            floors.append(zone.floorMetres.map { clampE7($0 * 1_000, 2e9) } ?? .min)
            ceilings.append(zone.ceilingMetres.map { clampE7($0 * 1_000, 2e9) } ?? .max)
            starts.append(Int32(x1.count))
            switch zone.shape {
            case .circle(_, let radius):
                circles.append(true); radii.append(Float(radius)); counts.append(0)
            case .polygon(let rings):
                circles.append(false); radii.append(0)
                for ring in rings where ring.count >= 2 {
                    for index in 0..<(ring.count - 1) {
                        let a = ring[index], b = ring[index + 1]
                        // Differences in 64 bits: two longitudes 1e-7 degrees apart can be 3.6e9 apart.
                        func east(_ longitude: Double) -> Float { Float(Double(Int64(e7Longitude(longitude)) - Int64(oLon)) * eastPerE7) }
                        func north(_ latitude: Double) -> Float { Float(Double(Int64(e7Latitude(latitude)) - Int64(oLat)) * Self.metresPerDegree / 1e7) }
                        x1.append(east(a.longitude)); y1.append(north(a.latitude))
                        x2.append(east(b.longitude)); y2.append(north(b.latitude))
                    }
                }
                counts.append(Int32(x1.count) - starts.last!)
            }
        }
        minLatitudeE7 = minLat; maxLatitudeE7 = maxLat; minLongitudeE7 = minLon; maxLongitudeE7 = maxLon
        outerMinLatitudeE7 = outerMinLat; outerMaxLatitudeE7 = outerMaxLat; outerMinLongitudeE7 = outerMinLon; outerMaxLongitudeE7 = outerMaxLon
        originLatitudeE7 = originLat; originLongitudeE7 = originLon; metresPerE7East = east
        floorMM = floors; ceilingMM = ceilings; radiusMetres = radii; isCircle = circles
        edgeStart = starts; edgeCount = counts
        edgeX1 = x1; edgeY1 = y1; edgeX2 = x2; edgeY2 = y2

        // The grid over the union of the (inner) boxes.
        let side = Limits.Zones.gridCellsPerSide
        cellsPerSide = side
        gridMinLatitudeE7 = minLat.min() ?? 0; gridMaxLatitudeE7 = maxLat.max() ?? -1
        gridMinLongitudeE7 = minLon.min() ?? 0; gridMaxLongitudeE7 = maxLon.max() ?? -1
        let latitudeSpan = max(1, Double(gridMaxLatitudeE7) - Double(gridMinLatitudeE7) + 1)
        let longitudeSpan = max(1, Double(gridMaxLongitudeE7) - Double(gridMinLongitudeE7) + 1)
        cellsPerE7Latitude = Float(Double(side) / latitudeSpan)
        cellsPerE7Longitude = Float(Double(side) / longitudeSpan)
        var buckets = [[Int16]](repeating: [], count: side * side)
        // A zone whose box is empty (a polygon without positions, made in code) holds no position.
        for zone in zones.indices where minLat[zone] <= maxLat[zone] && minLon[zone] <= maxLon[zone] {
            let row0 = Self.cell(minLat[zone], from: gridMinLatitudeE7, perE7: cellsPerE7Latitude, side: side)
            let row1 = Self.cell(maxLat[zone], from: gridMinLatitudeE7, perE7: cellsPerE7Latitude, side: side)
            let col0 = Self.cell(minLon[zone], from: gridMinLongitudeE7, perE7: cellsPerE7Longitude, side: side)
            let col1 = Self.cell(maxLon[zone], from: gridMinLongitudeE7, perE7: cellsPerE7Longitude, side: side)
            for row in row0...row1 { for column in col0...col1 { buckets[row * side + column].append(Int16(zone)) } }
        }
        var start: [Int32] = [0]
        var flat: [Int16] = []
        for bucket in buckets {
            flat += bucket
            start.append(Int32(flat.count))
        }
        cellStart = start
        cellZones = flat
    }

    public var count: Int { zones.count }
    public var isEmpty: Bool { zones.isEmpty }

    /// A coordinate's cell along one axis of the grid, 0 ..< `side`.
    ///
    /// The one function both the build (each zone's box from the cell of its minimum to the cell
    /// of its maximum) and the lookup use. It is monotone in `value` (a 64-bit difference, then
    /// rounding conversions and a product by a positive factor, each monotone), so a position
    /// inside a zone's box always falls in a cell that lists the zone. The difference is 64-bit
    /// because two longitudes inside the grid can be up to 3.6e9 apart, which an `Int32`
    /// difference wraps (the grid of zones spanning more than 214.7° of longitude sent positions
    /// to negative cells); the clamp keeps any input, inside the grid or not, in range.
    @inline(__always)
    static func cell(_ value: Int32, from minimum: Int32, perE7: Float, side: Int) -> Int {
        let offset = Int64(value) - Int64(minimum)
        return min(side - 1, max(0, Int(Float(offset) * perE7)))
    }

    /// The candidate zones of a position (a range of `cellZones`), empty outside every zone's box.
    /// Total: any `Int32` pair, on the globe or not, gives a valid range.
    @inline(__always)
    func candidates(latitudeE7: Int32, longitudeE7: Int32) -> Range<Int> {
        guard latitudeE7 >= gridMinLatitudeE7, latitudeE7 <= gridMaxLatitudeE7,
              longitudeE7 >= gridMinLongitudeE7, longitudeE7 <= gridMaxLongitudeE7
        else { return 0..<0 }
        let row = Self.cell(latitudeE7, from: gridMinLatitudeE7, perE7: cellsPerE7Latitude, side: cellsPerSide)
        let column = Self.cell(longitudeE7, from: gridMinLongitudeE7, perE7: cellsPerE7Longitude, side: cellsPerSide)
        let cell = row &* cellsPerSide &+ column
        return Int(cellStart[cell])..<Int(cellStart[cell &+ 1])
    }

    /// The zones the grid lists for a position (tests and tools; allocates).
    public func candidateZones(latitudeE7: Int32, longitudeE7: Int32) -> [Int] {
        candidates(latitudeE7: latitudeE7, longitudeE7: longitudeE7).map { Int(cellZones[$0]) }
    }

    /// Whether a position is inside zone `zone` (its box, altitude band and shape).
    @inline(__always)
    public func contains(_ zone: Int, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32) -> Bool {
        guard latitudeE7 >= minLatitudeE7[zone], latitudeE7 <= maxLatitudeE7[zone],
              longitudeE7 >= minLongitudeE7[zone], longitudeE7 <= maxLongitudeE7[zone],
              altitudeMM >= floorMM[zone], altitudeMM <= ceilingMM[zone]
        else { return false }
        let x = Float(Int64(longitudeE7) - Int64(originLongitudeE7[zone])) * metresPerE7East[zone]
        let y = Float(Int64(latitudeE7) - Int64(originLatitudeE7[zone])) * metresPerE7North
        if isCircle[zone] { return x * x + y * y <= radiusMetres[zone] * radiusMetres[zone] }
        return crossings(zone, x, y)
    }

    /// Whether a position is outside zone `zone` by more than the hysteresis margin: beyond the
    /// altitude band by the margin, or horizontally at least the margin from the shape.
    public func isBeyondMargin(_ zone: Int, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32) -> Bool {
        let marginMM = Int64(hysteresisMetres * 1_000)
        if floorMM[zone] != .min && Int64(altitudeMM) < Int64(floorMM[zone]) - marginMM { return true }
        if ceilingMM[zone] != .max && Int64(altitudeMM) > Int64(ceilingMM[zone]) + marginMM { return true }
        guard latitudeE7 >= outerMinLatitudeE7[zone], latitudeE7 <= outerMaxLatitudeE7[zone],
              longitudeE7 >= outerMinLongitudeE7[zone], longitudeE7 <= outerMaxLongitudeE7[zone]
        else { return true }
        let x = Float(Int64(longitudeE7) - Int64(originLongitudeE7[zone])) * metresPerE7East[zone]
        let y = Float(Int64(latitudeE7) - Int64(originLatitudeE7[zone])) * metresPerE7North
        let margin = Float(hysteresisMetres)
        if isCircle[zone] {
            let reach = radiusMetres[zone] + margin
            return x * x + y * y > reach * reach
        }
        if crossings(zone, x, y) { return false }
        // Outside the shape: beyond the margin unless an edge is nearer than it.
        let start = Int(edgeStart[zone]), end = start + Int(edgeCount[zone])
        let marginSquared = margin * margin
        for edge in start..<end {
            let ax = edgeX1[edge], ay = edgeY1[edge], dx = edgeX2[edge] - ax, dy = edgeY2[edge] - ay
            let lengthSquared = dx * dx + dy * dy
            var t = lengthSquared > 0 ? ((x - ax) * dx + (y - ay) * dy) / lengthSquared : 0
            t = min(1, max(0, t))
            let px = ax + t * dx - x, py = ay + t * dy - y
            if px * px + py * py < marginSquared { return false }
        }
        return true
    }

    /// Even-odd crossing count of a ray from (x, y) towards +x over the zone's edges.
    @inline(__always)
    func crossings(_ zone: Int, _ x: Float, _ y: Float) -> Bool {
        let start = Int(edgeStart[zone]), end = start + Int(edgeCount[zone])
        var inside = false
        edgeX1.withUnsafeBufferPointer { x1 in
            edgeY1.withUnsafeBufferPointer { y1 in
                edgeX2.withUnsafeBufferPointer { x2 in
                    edgeY2.withUnsafeBufferPointer { y2 in
                        for edge in start..<end {
                            let ay = y1[edge], by = y2[edge]
                            if (ay > y) != (by > y) {
                                let crossX = x1[edge] + (y - ay) * (x2[edge] - x1[edge]) / (by - ay)
                                if x < crossX { inside.toggle() }
                            }
                        }
                    }
                }
            }
        }
        return inside
    }
}
