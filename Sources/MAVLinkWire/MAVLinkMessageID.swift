/// The MAVLink messages Skygate maps, with what framing needs to know of each: the CRC_EXTRA
/// byte and the payload lengths. Values are from the official `common.xml`
/// (https://github.com/mavlink/mavlink/blob/master/message_definitions/v1.0/common.xml) as
/// generated into pymavlink 2.4 (`pymavlink/dialects/v20/common.py`: `crc_extra`, `unpacker.size`);
/// docs/protocol.md ("MAVLink") lists the field layouts.
public enum MAVLinkMessageID: UInt32, Sendable, CaseIterable {
    case heartbeat = 0
    case systemStatus = 1
    case gpsRawInt = 24
    case attitude = 30
    case globalPositionInt = 33
    case batteryStatus = 147

    /// The message for `rawValue`, or nil when it is not mapped. A switch, not a dictionary, so
    /// the lookup neither allocates nor hashes.
    @inlinable
    public static func known(_ rawValue: UInt32) -> MAVLinkMessageID? {
        switch rawValue {
        case 0: .heartbeat
        case 1: .systemStatus
        case 24: .gpsRawInt
        case 30: .attitude
        case 33: .globalPositionInt
        case 147: .batteryStatus
        default: nil
        }
    }

    /// The byte appended to the CRC input: a hash of the message's name and base fields.
    @inlinable
    public var crcExtra: UInt8 {
        switch self {
        case .heartbeat: 50
        case .systemStatus: 124
        case .gpsRawInt: 24
        case .attitude: 39
        case .globalPositionInt: 104
        case .batteryStatus: 154
        }
    }

    /// Payload bytes of the base fields (what MAVLink 1 carries, and what CRC_EXTRA covers).
    @inlinable
    public var baseLength: Int {
        switch self {
        case .heartbeat: 9
        case .systemStatus: 31
        case .gpsRawInt: 30
        case .attitude: 28
        case .globalPositionInt: 28
        case .batteryStatus: 36
        }
    }

    /// Payload bytes with every MAVLink 2 extension field.
    @inlinable
    public var fullLength: Int {
        switch self {
        case .heartbeat: 9
        case .systemStatus: 43
        case .gpsRawInt: 52
        case .attitude: 28
        case .globalPositionInt: 28
        case .batteryStatus: 54
        }
    }

    /// The longest `fullLength`: the scratch a zero-extended payload needs.
    public static let fullLengthMax = 54
}
