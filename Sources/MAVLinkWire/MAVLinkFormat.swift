/// MAVLink 1 and 2 framing constants (https://mavlink.io/en/guide/serialization.html).
///
/// MAVLink 1 frame: `0xFE len seq sys comp msgid payload[len] crc16`.
/// MAVLink 2 frame: `0xFD len incompat compat seq sys comp msgid(3, LE) payload[len] crc16 [signature(13)]`.
/// The CRC is CRC-16/MCRF4XX over every byte after the start byte through the payload, followed by
/// the message's CRC_EXTRA byte (a hash of its definition, so sender and receiver agree on layout).
public enum MAVLinkFormat {
    /// Start byte of a MAVLink 1 frame.
    public static let startV1: UInt8 = 0xFE
    /// Start byte of a MAVLink 2 frame.
    public static let startV2: UInt8 = 0xFD
    /// Bytes from the start byte through the message id, MAVLink 1.
    public static let headerLengthV1 = 6
    /// Bytes from the start byte through the message id, MAVLink 2.
    public static let headerLengthV2 = 10
    /// The CRC after the payload.
    public static let checksumLength = 2
    /// MAVLink 2 signature block: link id (1), timestamp (6, 10 µs units since 2015-01-01), signature (6).
    public static let signatureLength = 13
    /// Bytes of the truncated SHA-256 that form the signature.
    public static let signatureHashLength = 6
    /// The only incompatibility flag this decoder knows: the frame carries a signature block.
    public static let incompatibilityFlagSigned: UInt8 = 0x01
    /// The longest payload the one-byte length field can give.
    public static let payloadLengthMax = 255
    /// The shortest frame: MAVLink 1 with an empty payload.
    public static let frameLengthMin = headerLengthV1 + checksumLength
    /// The longest frame: signed MAVLink 2 with a full payload (280 bytes).
    public static let frameLengthMax = headerLengthV2 + payloadLengthMax + checksumLength + signatureLength

    /// MAVLink 1 header offsets.
    public enum HeaderV1Offset {
        public static let payloadLength = 1
        public static let sequence = 2
        public static let systemID = 3
        public static let componentID = 4
        public static let messageID = 5
    }

    /// MAVLink 2 header offsets.
    public enum HeaderV2Offset {
        public static let payloadLength = 1
        public static let incompatibilityFlags = 2
        public static let compatibilityFlags = 3
        public static let sequence = 4
        public static let systemID = 5
        public static let componentID = 6
        /// Three bytes, little-endian.
        public static let messageID = 7
    }

    /// The component id of a vehicle's autopilot (MAV_COMP_ID_AUTOPILOT1): positions come from it.
    public static let autopilotComponentID: UInt8 = 1
}
