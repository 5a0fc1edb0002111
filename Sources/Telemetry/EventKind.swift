/// What an event says happened (docs/events.md). The raw value is stored; the name is the API's,
/// the webhook body's and the `kind` label of `skygate_events_total`.
public enum EventKind: UInt8, Sendable, Hashable, CaseIterable, Codable {
    /// The drone entered a zone (for a keep-out zone: an alarm).
    case zoneEnter = 1
    /// The drone left a zone by more than the hysteresis margin (for a keep-in zone: an alarm).
    case zoneExit = 2
    /// Battery percentage fell below the rule's threshold.
    case lowBattery = 3
    /// No frame from the drone for the rule's number of seconds.
    case lostLink = 4
    /// A frame arrived from a drone whose link was lost.
    case linkRestored = 5
    /// The drone had a GPS fix and reports none now.
    case gpsFixLost = 6
    /// Ground speed above the rule's threshold.
    case overspeed = 7
    /// Altitude above the rule's ceiling.
    case altitudeCeiling = 8
    /// One gap of at least the rule's number of frames in the drone's sequence numbers.
    case sequenceGapBurst = 9

    public var name: String {
        switch self {
        case .zoneEnter: "zone_enter"
        case .zoneExit: "zone_exit"
        case .lowBattery: "low_battery"
        case .lostLink: "lost_link"
        case .linkRestored: "link_restored"
        case .gpsFixLost: "gps_fix_lost"
        case .overspeed: "overspeed"
        case .altitudeCeiling: "altitude_ceiling"
        case .sequenceGapBurst: "sequence_gap_burst"
        }
    }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let kind = EventKind(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown event kind '\(name)'"))
        }
        self = kind
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
