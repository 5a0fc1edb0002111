import MAVLinkWire

/// MAVLink framing as the players need it, to cut a .tlog into frames and to count messages by
/// id for `inspect`: the frame length comes from MAVLinkWire's rule, the header fields are read
/// here (v1: start, length, sequence, system, component, message id; v2: start, length, two flag
/// bytes, sequence, system, component, a 3-byte message id). Decoding payloads and checking CRCs (which needs each message's CRC_EXTRA) is
/// `MAVLinkWire`'s job in the gateway's pipeline, not this.
public enum MAVLinkFraming {
    public static let startV1 = MAVLinkFormat.startV1
    public static let startV2 = MAVLinkFormat.startV2

    public enum FrameLength: Equatable {
        case frame(Int)
        case needMoreBytes
        case notAFrame
    }

    /// How long the frame at the start of `bytes` is, by MAVLinkWire's one framing rule
    /// (`MAVLinkFrameDecoder.declaredLength`): its length once all of it is there, `needMoreBytes`
    /// while its header or body is cut short, `notAFrame` when the first byte is no start byte.
    public static func frameLength(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        guard let start = bytes.first else { return .needMoreBytes }
        guard start == startV1 || start == startV2 else { return .notAFrame }
        guard let length = MAVLinkFrameDecoder.declaredLength(bytes) else { return .needMoreBytes }
        return bytes.count >= length ? .frame(length) : .needMoreBytes
    }

    public struct Header: Equatable, Sendable {
        public var version: Int
        public var sequence: UInt8
        public var systemID: UInt8
        public var componentID: UInt8
        public var messageID: UInt32
        public var isSigned: Bool
    }

    public static func header(_ bytes: UnsafeRawBufferPointer) -> Header? {
        guard case .frame = frameLength(bytes) else { return nil }
        if bytes[0] == startV1 {
            return Header(version: 1, sequence: bytes[2], systemID: bytes[3], componentID: bytes[4], messageID: UInt32(bytes[5]), isSigned: false)
        }
        let messageID = UInt32(bytes[7]) | UInt32(bytes[8]) << 8 | UInt32(bytes[9]) << 16
        return Header(
            version: 2, sequence: bytes[4], systemID: bytes[5], componentID: bytes[6], messageID: messageID,
            isSigned: bytes[MAVLinkFormat.HeaderV2Offset.incompatibilityFlags] & MAVLinkFormat.incompatibilityFlagSigned != 0)
    }
}
