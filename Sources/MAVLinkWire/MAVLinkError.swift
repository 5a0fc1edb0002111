/// Why a MAVLink unit was rejected. Checks run in the order docs/protocol.md ("MAVLink",
/// "Decoding rules") gives, so the same bytes always give the same reason.
public enum MAVLinkError: UInt8, Error, Sendable, CaseIterable {
    /// The frame's header or its declared length runs past the end of the datagram.
    case truncated = 1
    /// Bytes between frames that are not a start byte (0xFD or 0xFE): skipped as one unit.
    case badMagic
    /// A MAVLink 2 frame with an incompatibility flag other than "signed" (0x01).
    case unknownFlags
    /// A message id this decoder does not map: its CRC_EXTRA is unknown, so it is skipped unchecked.
    case unknownMessage
    /// The CRC (with the message's CRC_EXTRA) does not match: damaged in transit.
    case badCRC
    /// A signed frame whose signature does not match the system's key.
    case badSignature
    /// A signed frame whose timestamp does not rise on its (system, component, link) stream.
    case replayed
    /// An unsigned frame from a system that has a key while signing is required.
    case unsigned
    /// A signed frame on a new stream when the stream table is full.
    case tooManyStreams

    /// True when the frame's bytes arrived intact (its length is trustworthy and it can be
    /// skipped). Reasons before `badCRC` cannot say so.
    @inlinable public var isFrameIntact: Bool {
        switch self {
        case .truncated, .badMagic, .unknownFlags, .unknownMessage, .badCRC: false
        case .badSignature, .replayed, .unsigned, .tooManyStreams: true
        }
    }

    /// A short, stable name for logs and tests.
    public var name: StaticString {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "bad_magic"
        case .unknownFlags: "unknown_flags"
        case .unknownMessage: "unknown_message"
        case .badCRC: "bad_crc"
        case .badSignature: "bad_signature"
        case .replayed: "replayed"
        case .unsigned: "unsigned"
        case .tooManyStreams: "too_many_streams"
        }
    }
}
