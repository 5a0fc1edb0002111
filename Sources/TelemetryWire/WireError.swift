/// Why a frame was rejected. Each reason is counted on its own by the gateway.
///
/// The decoder checks in a fixed order (see docs/protocol.md, "Decoding rules"), so a given input
/// always gives the same reason. Reasons from `unknownType` on are reported only for frames whose
/// CRC matched: such a frame arrived intact and its length can be trusted to skip it.
public enum WireError: UInt8, Error, Sendable, CaseIterable {
    /// Fewer bytes than the header or the frame's own length field require.
    case truncated = 1
    /// The first byte is not the Skygate magic byte.
    case badMagic
    /// A version this decoder does not implement.
    case unknownVersion
    /// The frame length field is outside the range any valid frame can have.
    case badLength
    /// The CRC-32C over the frame does not match: damaged in transit.
    case badCRC
    /// An intact frame of a message type this version does not define.
    case unknownType
    /// An intact frame with flag bits this version does not define.
    case unknownFlags
    /// An intact frame whose sample count is 0 or above the maximum, or does not match its length.
    case badSampleCount
    /// An intact frame whose reserved byte is not zero.
    case reservedNotZero
    /// A tagged frame from a drone for which no key is configured.
    case unknownKey
    /// A tagged frame whose tag does not match: wrong key or forged.
    case badTag
    /// A tagged frame whose counter was already seen or is older than the replay window.
    case replayed
    /// An untagged frame from a drone that must authenticate.
    case unauthenticated

    /// A short, stable name for counters, metrics labels and logs.
    public var name: StaticString {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "bad_magic"
        case .unknownVersion: "unknown_version"
        case .badLength: "bad_length"
        case .badCRC: "bad_crc"
        case .unknownType: "unknown_type"
        case .unknownFlags: "unknown_flags"
        case .badSampleCount: "bad_sample_count"
        case .reservedNotZero: "reserved_not_zero"
        case .unknownKey: "unknown_key"
        case .badTag: "bad_tag"
        case .replayed: "replayed"
        case .unauthenticated: "unauthenticated"
        }
    }

    /// Whether the frame passed its CRC before it was rejected. Such a frame's length field is
    /// trustworthy, so a datagram decoder can skip it and go on with the next frame; after any
    /// other reason the rest of the datagram cannot be framed and is counted once.
    @inlinable
    public var isFrameIntact: Bool { rawValue >= WireError.unknownType.rawValue }
}
