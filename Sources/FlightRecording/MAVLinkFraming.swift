/// Just enough MAVLink framing to cut a .tlog into frames and to count messages by id for
/// `inspect`: start byte, payload length, signature flag, sequence, system, component and
/// message id. Decoding payloads and checking CRCs (which needs each message's CRC_EXTRA) is
/// `MAVLinkWire`'s job in the gateway's pipeline, not this.
public enum MAVLinkFraming {
    public static let startV1: UInt8 = 0xFE
    public static let startV2: UInt8 = 0xFD
    /// v1: start, length, sequence, system, component, message id; then payload and CRC (2).
    static let headerLengthV1 = 6
    /// v2: start, length, incompatibility flags, compatibility flags, sequence, system,
    /// component, message id (3 bytes, little-endian); then payload, CRC (2), signature (13).
    static let headerLengthV2 = 10
    static let checksumLength = 2
    static let signatureLength = 13
    /// v2 incompatibility flag: the frame carries a signature.
    static let flagSigned: UInt8 = 0x01

    public enum FrameLength: Equatable {
        case frame(Int)
        case needMoreBytes
        case notAFrame
    }

    /// The length of the frame starting at `bytes[0]`, from its header.
    public static func frameLength(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        guard let start = bytes.first else { return .needMoreBytes }
        let length: Int
        switch start {
        case startV1:
            guard bytes.count >= 2 else { return .needMoreBytes }
            length = headerLengthV1 + Int(bytes[1]) + checksumLength
        case startV2:
            guard bytes.count >= 3 else { return .needMoreBytes }
            let signed = bytes[2] & flagSigned != 0
            length = headerLengthV2 + Int(bytes[1]) + checksumLength + (signed ? signatureLength : 0)
        default:
            return .notAFrame
        }
        return bytes.count >= length ? .frame(length) : .needMoreBytes
    }

    /// The header fields of a whole frame at `bytes[0]` (checked with `frameLength`).
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
            isSigned: bytes[2] & flagSigned != 0)
    }
}
