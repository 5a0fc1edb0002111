/// One framed MAVLink message: its header, where its payload is, and its signature block.
public struct MAVLinkFrame: Equatable, Sendable {
    /// 1 for a 0xFE frame, 2 for a 0xFD frame.
    public var version: UInt8
    public var sequence: UInt8
    public var systemID: UInt8
    public var componentID: UInt8
    public var messageID: UInt32
    /// MAVLink 2 only (0 for MAVLink 1).
    public var incompatibilityFlags: UInt8
    public var compatibilityFlags: UInt8
    /// Payload bytes as received (MAVLink 2 may have dropped trailing zeros).
    public var payloadLength: Int
    /// Bytes of the whole frame, signature included.
    public var length: Int
    /// The CRC field as received (and checked).
    public var checksum: UInt16
    /// Whether a signature block follows the CRC (MAVLink 2, incompatibility flag 0x01).
    public var isSigned: Bool
    /// The signature's link id and 48-bit timestamp (10 µs since 2015-01-01); 0 when unsigned.
    public var signatureLinkID: UInt8
    public var signatureTimestamp: UInt64

    @inlinable
    public init(
        version: UInt8, sequence: UInt8, systemID: UInt8, componentID: UInt8, messageID: UInt32, incompatibilityFlags: UInt8,
        compatibilityFlags: UInt8, payloadLength: Int, length: Int, checksum: UInt16, isSigned: Bool, signatureLinkID: UInt8,
        signatureTimestamp: UInt64
    ) {
        self.version = version
        self.sequence = sequence
        self.systemID = systemID
        self.componentID = componentID
        self.messageID = messageID
        self.incompatibilityFlags = incompatibilityFlags
        self.compatibilityFlags = compatibilityFlags
        self.payloadLength = payloadLength
        self.length = length
        self.checksum = checksum
        self.isSigned = isSigned
        self.signatureLinkID = signatureLinkID
        self.signatureTimestamp = signatureTimestamp
    }

    @inlinable public var headerLength: Int {
        version == 1 ? MAVLinkFormat.headerLengthV1 : MAVLinkFormat.headerLengthV2
    }
}

/// Frames and checks single MAVLink frames in borrowed bytes; allocates nothing.
public enum MAVLinkFrameDecoder {
    /// The length the frame at the start of `bytes` declares (header, payload, CRC and, for
    /// signed MAVLink 2, the signature block), or nil when the header's first bytes are missing or
    /// the first byte is not a start byte.
    @inlinable
    public static func declaredLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let payloadLength = Int(bytes[1])
        switch bytes[0] {
        case MAVLinkFormat.startV1:
            return MAVLinkFormat.headerLengthV1 &+ payloadLength &+ MAVLinkFormat.checksumLength
        case MAVLinkFormat.startV2:
            guard bytes.count >= 3 else { return nil }
            let isSigned = bytes[MAVLinkFormat.HeaderV2Offset.incompatibilityFlags] & MAVLinkFormat.incompatibilityFlagSigned != 0
            return MAVLinkFormat.headerLengthV2 &+ payloadLength &+ MAVLinkFormat.checksumLength
                &+ (isSigned ? MAVLinkFormat.signatureLength : 0)
        default:
            return nil
        }
    }

    /// Checks the frame that is exactly `bytes` (its declared length, which the caller found with
    /// `declaredLength`) and decodes its message. Checks, in order: unknown incompatibility flags,
    /// unknown message id, CRC with CRC_EXTRA, then for signed frames from a system with a key the
    /// signature and the stream's timestamp, and for unsigned ones whether signing is required.
    @inlinable
    public static func decodeFrame<Verifier: MAVLinkSignatureVerifier>(
        _ bytes: UnsafeRawBufferPointer, verifier: inout Verifier, streams: MAVLinkSignatureStreams?
    ) throws(MAVLinkError) -> (MAVLinkFrame, MAVLinkMessage) {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let isV2 = bytes[0] == MAVLinkFormat.startV2
        let payloadLength = Int(bytes[1])
        var frame: MAVLinkFrame
        if isV2 {
            typealias H = MAVLinkFormat.HeaderV2Offset
            let incompatibility = bytes[H.incompatibilityFlags]
            let messageID = UInt32(bytes[H.messageID]) | UInt32(bytes[H.messageID &+ 1]) << 8
                | UInt32(bytes[H.messageID &+ 2]) << 16
            frame = MAVLinkFrame(
                version: 2, sequence: bytes[H.sequence], systemID: bytes[H.systemID], componentID: bytes[H.componentID],
                messageID: messageID, incompatibilityFlags: incompatibility, compatibilityFlags: bytes[H.compatibilityFlags],
                payloadLength: payloadLength, length: bytes.count, checksum: 0,
                isSigned: incompatibility & MAVLinkFormat.incompatibilityFlagSigned != 0, signatureLinkID: 0,
                signatureTimestamp: 0)
            guard incompatibility & ~MAVLinkFormat.incompatibilityFlagSigned == 0 else { throw .unknownFlags }
        } else {
            typealias H = MAVLinkFormat.HeaderV1Offset
            frame = MAVLinkFrame(
                version: 1, sequence: bytes[H.sequence], systemID: bytes[H.systemID], componentID: bytes[H.componentID],
                messageID: UInt32(bytes[H.messageID]), incompatibilityFlags: 0, compatibilityFlags: 0,
                payloadLength: payloadLength, length: bytes.count, checksum: 0, isSigned: false, signatureLinkID: 0,
                signatureTimestamp: 0)
        }
        guard let message = MAVLinkMessageID.known(frame.messageID) else { throw .unknownMessage }

        let payloadStart = frame.headerLength
        let checksumOffset = payloadStart &+ payloadLength
        frame.checksum = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: checksumOffset, as: UInt16.self))
        var crc = MAVLinkCRC.accumulate(UnsafeRawBufferPointer(start: base + 1, count: checksumOffset &- 1), into: MAVLinkCRC.seed)
        crc = MAVLinkCRC.accumulate(message.crcExtra, into: crc)
        guard crc == frame.checksum else { throw .badCRC }

        // The frame arrived intact; what follows is about who sent it.
        if frame.isSigned {
            let signatureOffset = checksumOffset &+ MAVLinkFormat.checksumLength
            frame.signatureLinkID = bytes[signatureOffset]
            frame.signatureTimestamp = UInt64(bytes.loadUnaligned(fromByteOffset: signatureOffset &+ 1, as: UInt32.self).littleEndian)
                | UInt64(bytes.loadUnaligned(fromByteOffset: signatureOffset &+ 5, as: UInt16.self).littleEndian) << 32
            if !verifier.hasKey(systemID: frame.systemID) {
                // No key to check it with: taken like an unsigned frame, unless this system
                // must sign, when a signature nobody can verify proves nothing.
                if verifier.requiresSigning(systemID: frame.systemID) { throw .badSignature }
            } else {
                let hashedLength = bytes.count &- MAVLinkFormat.signatureHashLength
                var expected: UInt64 = 0
                let computed = withUnsafeMutableBytes(of: &expected) { scratch in
                    verifier.computeSignature(
                        systemID: frame.systemID, message: UnsafeRawBufferPointer(start: base, count: hashedLength),
                        into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<MAVLinkFormat.signatureHashLength]))
                }
                guard computed else { throw .badSignature }
                // Constant time over the 6 bytes: the comparison does not leak how many matched.
                var difference: UInt8 = 0
                withUnsafeBytes(of: &expected) { scratch in
                    for index in 0..<MAVLinkFormat.signatureHashLength {
                        difference |= scratch[index] ^ bytes[hashedLength &+ index]
                    }
                }
                guard difference == 0 else { throw .badSignature }
                if let streams {
                    switch streams.accept(
                        timestamp: frame.signatureTimestamp, systemID: frame.systemID, componentID: frame.componentID,
                        linkID: frame.signatureLinkID)
                    {
                    case .accepted: break
                    case .replayed: throw .replayed
                    case .full: throw .tooManyStreams
                    }
                }
                guard verifier.acceptsSignedTimestamp(frame.signatureTimestamp, systemID: frame.systemID) else { throw .replayed }
            }
        } else if verifier.requiresSigning(systemID: frame.systemID) {
            throw .unsigned
        }

        let payload = MAVLinkPayload(UnsafeRawBufferPointer(start: base + payloadStart, count: payloadLength))
        return (frame, MAVLinkMessage(id: message, payload: payload))
    }
}
