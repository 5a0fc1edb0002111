/// The protocols a drone can speak to Skygate. Part of a drone's identity: Skygate drone 1 and
/// MAVLink system 1 are different drones.
public enum TelemetryProtocol: UInt8, Sendable, Hashable, CaseIterable, Comparable {
    /// Skygate's own wire format (docs/protocol.md).
    case skygate = 1
    /// MAVLink v1 or v2; the drone number is the system id.
    case mavlink = 2

    /// The name used in the database, exports, the API and metrics labels.
    public var name: String {
        switch self {
        case .skygate: "skygate"
        case .mavlink: "mavlink"
        }
    }

    /// Parses `name` as written by `name`.
    public init?(name: String) {
        switch name {
        case "skygate": self = .skygate
        case "mavlink": self = .mavlink
        default: return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A drone as Skygate knows it: (protocol, number). Never its source address and port, which NAT
/// and cellular links change under it.
public struct DroneIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var `protocol`: TelemetryProtocol
    /// The Skygate drone id, or the MAVLink system id.
    public var number: UInt32

    public init(protocol: TelemetryProtocol, number: UInt32) {
        self.protocol = `protocol`
        self.number = number
    }

    public var description: String { "\(`protocol`.name)/\(number)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.protocol.rawValue, lhs.number) < (rhs.protocol.rawValue, rhs.number)
    }
}
