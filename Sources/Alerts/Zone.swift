import Foundation
import Telemetry

/// One geofence as the zone file describes it (docs/events.md, "Zones").
public struct Zone: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Drones must stay out: entering is the alarm.
        case keepOut = "keep-out"
        /// Drones must stay in: leaving is the alarm.
        case keepIn = "keep-in"
    }

    public enum Shape: Sendable, Equatable {
        /// Rings of [longitude, latitude] degrees, each closed (first position repeated last).
        /// Inside is the even-odd rule over every ring, so holes and several outer rings
        /// (a MultiPolygon's) need nothing special. Edges are straight in longitude/latitude, as
        /// RFC 7946 §3.1.1 has them.
        case polygon(rings: [[Position]])
        /// A circle of `radiusMetres` around `center` (GeoJSON has no circle: a Point feature with
        /// a `radius_m` property, as the file format says).
        case circle(center: Position, radiusMetres: Double)
    }

    public struct Position: Sendable, Equatable {
        public var longitude: Double
        public var latitude: Double
        public init(longitude: Double, latitude: Double) {
            self.longitude = longitude
            self.latitude = latitude
        }
    }

    public var name: String
    public var kind: Kind
    public var shape: Shape
    /// Altitude band the zone covers, metres, in the reference of the drones' altitude field;
    /// nil: unbounded.
    public var floorMetres: Double?
    public var ceilingMetres: Double?

    public init(name: String, kind: Kind, shape: Shape, floorMetres: Double? = nil, ceilingMetres: Double? = nil) {
        self.name = name
        self.kind = kind
        self.shape = shape
        self.floorMetres = floorMetres
        self.ceilingMetres = ceilingMetres
    }

    /// Whether crossing into (true) or out of (false) this zone is an alarm.
    public func isAlarm(entering: Bool) -> Bool { entering == (kind == .keepOut) }

    public var vertexCount: Int {
        switch shape {
        case .polygon(let rings): rings.reduce(0) { $0 + $1.count }
        case .circle: 1
        }
    }
}

/// The zones as `/api/zones` shows them: name, kind, altitude band and a GeoJSON geometry
/// (circles as `{"type":"Circle","center":[lon,lat],"radius_m":r}`).
public struct ZoneReport: Encodable, Sendable {
    public var zones: [Entry]
    public var source: String?
    public var loaded_us: UInt64

    public struct Entry: Encodable, Sendable {
        public var name: String
        public var kind: String
        public var floor_m: Double?
        public var ceiling_m: Double?
        public var geometry: Geometry

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            // Explicit nulls: the page tells "unbounded" from "missing".
            try container.encode(floor_m, forKey: .floor_m)
            try container.encode(ceiling_m, forKey: .ceiling_m)
            try container.encode(geometry, forKey: .geometry)
        }

        enum CodingKeys: String, CodingKey { case name, kind, floor_m, ceiling_m, geometry }
    }

    public struct Geometry: Encodable, Sendable {
        public var type: String
        public var coordinates: [[[Double]]]?
        public var center: [Double]?
        public var radius_m: Double?
    }

    public init(zones: [Zone], source: String?, loadedMicroseconds: UInt64) {
        self.source = source
        loaded_us = loadedMicroseconds
        self.zones = zones.map { zone in
            let geometry: Geometry
            switch zone.shape {
            case .polygon(let rings):
                geometry = Geometry(type: "Polygon", coordinates: rings.map { ring in ring.map { [$0.longitude, $0.latitude] } })
            case .circle(let center, let radius):
                geometry = Geometry(type: "Circle", center: [center.longitude, center.latitude], radius_m: radius)
            }
            return Entry(name: zone.name, kind: zone.kind.rawValue, floor_m: zone.floorMetres, ceiling_m: zone.ceilingMetres, geometry: geometry)
        }
    }
}
