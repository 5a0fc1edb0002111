import MAVLinkWire
import Telemetry
import TelemetryWire

// The one mapping from the decoders' errors to the gateway's counted reasons. `RejectionReason`
// (in Telemetry) is the vocabulary of counters, JSON and metrics; the wire targets keep their
// own error enums because they import nothing (firmware compiles them). Each error maps here
// exactly once, and `RejectionReasonTests` pins every case: a Skygate error keeps its own name,
// a MAVLink framing error shares the Skygate reason of the same name, and the MAVLink-only
// errors are prefixed `mavlink_`.

extension RejectionReason {
    /// The counter for a Skygate wire error.
    @inlinable
    public init(_ error: WireError) {
        switch error {
        case .truncated: self = .truncated
        case .badMagic: self = .badMagic
        case .unknownVersion: self = .unknownVersion
        case .badLength: self = .badLength
        case .badCRC: self = .badCRC
        case .unknownType: self = .unknownType
        case .unknownFlags: self = .unknownFlags
        case .badSampleCount: self = .badSampleCount
        case .reservedNotZero: self = .reservedNotZero
        case .unknownKey: self = .unknownKey
        case .badTag: self = .badTag
        case .replayed: self = .replayed
        case .unauthenticated: self = .unauthenticated
        }
    }

    /// The counter for a MAVLink decoding error.
    @inlinable
    public init(_ error: MAVLinkError) {
        switch error {
        case .truncated: self = .truncated
        case .badMagic: self = .badMagic
        case .unknownFlags: self = .unknownFlags
        case .unknownMessage: self = .mavlinkUnknownMessage
        case .badCRC: self = .badCRC
        case .badSignature: self = .mavlinkBadSignature
        case .replayed: self = .mavlinkReplayed
        case .unsigned: self = .mavlinkUnsigned
        case .tooManyStreams: self = .mavlinkSigningStreamsFull
        }
    }
}
