/// One event: a rule or a zone crossing, for one drone at one time. Its identity is (drone, kind,
/// zone, time): two gateways that hear the same frames make the same event, and a shared store
/// keeps it once.
public struct AlertEvent: Sendable, Hashable, Codable {
    /// Assigned by the gateway that published it (increasing within one run; 0 before). The SSE
    /// stream's `id:`; a stored event has the store's own.
    public var id: UInt64
    /// When it happened: the sample's timestamp, or the gateway's clock for `lost_link` (µs since
    /// the Unix epoch).
    public var timeMicroseconds: UInt64
    public var drone: DroneIdentity
    public var kind: EventKind
    /// The zone's name for zone events, empty otherwise.
    public var zone: String
    /// Whether ops should act on it: entering a keep-out zone, leaving a keep-in zone, every rule
    /// but `link_restored`.
    public var alarm: Bool
    /// The measured value that triggered it: battery %, seconds silent, m/s, metres, frames lost;
    /// 0 for zone events.
    public var value: Double
    /// The drone's last position (1e-7 degrees, millimetres).
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    public var altitudeMM: Int32

    public init(
        id: UInt64 = 0, timeMicroseconds: UInt64, drone: DroneIdentity, kind: EventKind, zone: String = "", alarm: Bool,
        value: Double = 0, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32
    ) {
        self.id = id
        self.timeMicroseconds = timeMicroseconds
        self.drone = drone
        self.kind = kind
        self.zone = zone
        self.alarm = alarm
        self.value = value
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
    }

    /// The JSON shape of `/api/events`, the SSE stream and webhook bodies (docs/events.md).
    enum CodingKeys: String, CodingKey {
        case id, time_us, `protocol`, drone, kind, zone, alarm, value, lat, lon, alt_m
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UInt64.self, forKey: .id)
        timeMicroseconds = try container.decode(UInt64.self, forKey: .time_us)
        let protocolName = try container.decode(String.self, forKey: .protocol)
        guard let telemetryProtocol = TelemetryProtocol(name: protocolName) else {
            throw DecodingError.dataCorruptedError(forKey: .protocol, in: container, debugDescription: "unknown protocol '\(protocolName)'")
        }
        drone = DroneIdentity(protocol: telemetryProtocol, number: try container.decode(UInt32.self, forKey: .drone))
        kind = try container.decode(EventKind.self, forKey: .kind)
        zone = try container.decode(String.self, forKey: .zone)
        alarm = try container.decode(Bool.self, forKey: .alarm)
        value = try container.decode(Double.self, forKey: .value)
        latitudeE7 = Int32((try container.decode(Double.self, forKey: .lat) * 1e7).rounded())
        longitudeE7 = Int32((try container.decode(Double.self, forKey: .lon) * 1e7).rounded())
        altitudeMM = Int32((try container.decode(Double.self, forKey: .alt_m) * 1e3).rounded())
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(timeMicroseconds, forKey: .time_us)
        try container.encode(drone.protocol.name, forKey: .protocol)
        try container.encode(drone.number, forKey: .drone)
        try container.encode(kind, forKey: .kind)
        try container.encode(zone, forKey: .zone)
        try container.encode(alarm, forKey: .alarm)
        try container.encode(value, forKey: .value)
        try container.encode(Double(latitudeE7) / 1e7, forKey: .lat)
        try container.encode(Double(longitudeE7) / 1e7, forKey: .lon)
        try container.encode(Double(altitudeMM) / 1e3, forKey: .alt_m)
    }
}
