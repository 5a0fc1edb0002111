/// Writes MAVLink 1 and 2 frames: for the simulator and the tests. Allocates nothing: the caller
/// passes the output buffer (`MAVLinkFormat.frameLengthMax` bytes always suffice; less does when
/// it holds the frame, which is checked).
public enum MAVLinkEncoder {
    /// Encodes `message` as one frame into `output` and returns its length. MAVLink 1 carries
    /// the base fields only; MAVLink 2 carries the extensions too, with trailing zero bytes
    /// removed (at least one payload byte stays), as the MAVLink 2 specification asks.
    @inlinable
    public static func encode(
        _ message: MAVLinkMessage, version: UInt8, sequence: UInt8, systemID: UInt8, componentID: UInt8,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(version == 1 || version == 2, "MAVLink version must be 1 or 2")
        // Zeroed scratch for the longest payload we map (a stack tuple: no allocation).
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { payload in
            let id = message.write(into: payload)
            var length = version == 1 ? id.baseLength : id.fullLength
            if version == 2 {
                while length > 1 && payload[length &- 1] == 0 { length &-= 1 }
            }
            let header = version == 1 ? MAVLinkFormat.headerLengthV1 : MAVLinkFormat.headerLengthV2
            precondition(output.count >= header &+ length &+ MAVLinkFormat.checksumLength, "output too short for the frame")
            if version == 1 {
                typealias H = MAVLinkFormat.HeaderV1Offset
                output[0] = MAVLinkFormat.startV1
                output[H.payloadLength] = UInt8(length)
                output[H.sequence] = sequence
                output[H.systemID] = systemID
                output[H.componentID] = componentID
                output[H.messageID] = UInt8(id.rawValue)
            } else {
                typealias H = MAVLinkFormat.HeaderV2Offset
                output[0] = MAVLinkFormat.startV2
                output[H.payloadLength] = UInt8(length)
                output[H.incompatibilityFlags] = 0
                output[H.compatibilityFlags] = 0
                output[H.sequence] = sequence
                output[H.systemID] = systemID
                output[H.componentID] = componentID
                output[H.messageID] = UInt8(truncatingIfNeeded: id.rawValue)
                output[H.messageID &+ 1] = UInt8(truncatingIfNeeded: id.rawValue >> 8)
                output[H.messageID &+ 2] = UInt8(truncatingIfNeeded: id.rawValue >> 16)
            }
            for index in 0..<length { output[header &+ index] = payload[index] }
            let end = header &+ length
            var crc = MAVLinkCRC.accumulate(UnsafeRawBufferPointer(rebasing: output[1..<end]), into: MAVLinkCRC.seed)
            crc = MAVLinkCRC.accumulate(id.crcExtra, into: crc)
            output[end] = UInt8(truncatingIfNeeded: crc)
            output[end &+ 1] = UInt8(truncatingIfNeeded: crc >> 8)
            return end &+ MAVLinkFormat.checksumLength
        }
    }
}

extension MAVLinkEncoder {
    /// Encodes `message` as a signed MAVLink 2 frame: incompatibility flag 0x01, then link id,
    /// 48-bit timestamp (10 µs units since 2015-01-01) and the 6-byte signature that `signer`
    /// computes with the system's key. Returns nil when the signer has no key for `systemID`.
    @inlinable
    public static func encodeSigned<Signer: MAVLinkSignatureVerifier>(
        _ message: MAVLinkMessage, sequence: UInt8, systemID: UInt8, componentID: UInt8, linkID: UInt8, timestamp: UInt64,
        signer: Signer, into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let unsigned = encode(message, version: 2, sequence: sequence, systemID: systemID, componentID: componentID, into: output)
        precondition(output.count >= unsigned &+ MAVLinkFormat.signatureLength, "output too short for the signature")
        // The flag is inside the CRC, so the CRC is computed again with it set.
        output[MAVLinkFormat.HeaderV2Offset.incompatibilityFlags] |= MAVLinkFormat.incompatibilityFlagSigned
        let end = unsigned &- MAVLinkFormat.checksumLength
        let id = MAVLinkMessageID.known(UInt32(output[7]) | UInt32(output[8]) << 8 | UInt32(output[9]) << 16)!
        var crc = MAVLinkCRC.accumulate(UnsafeRawBufferPointer(rebasing: output[1..<end]), into: MAVLinkCRC.seed)
        crc = MAVLinkCRC.accumulate(id.crcExtra, into: crc)
        output[end] = UInt8(truncatingIfNeeded: crc)
        output[end &+ 1] = UInt8(truncatingIfNeeded: crc >> 8)
        output[unsigned] = linkID
        for index in 0..<6 { output[unsigned &+ 1 &+ index] = UInt8(truncatingIfNeeded: timestamp >> (8 &* UInt64(index))) }
        let hashed = unsigned &+ 7
        let signed = signer.computeSignature(
            systemID: systemID, message: UnsafeRawBufferPointer(rebasing: output[0..<hashed]),
            into: UnsafeMutableRawBufferPointer(rebasing: output[hashed..<(hashed &+ MAVLinkFormat.signatureHashLength)]))
        return signed ? hashed &+ MAVLinkFormat.signatureHashLength : nil
    }
}

/// Little-endian stores into a payload buffer.
@usableFromInline
struct MAVLinkPayloadWriter {
    @usableFromInline let bytes: UnsafeMutableRawBufferPointer
    @inlinable init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }
    @inlinable func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}

extension MAVLinkMessage {
    /// Writes the payload in wire order (fields this type does not keep are written as zero) and
    /// returns its message id.
    @inlinable
    func write(into payload: UnsafeMutableRawBufferPointer) -> MAVLinkMessageID {
        let w = MAVLinkPayloadWriter(payload)
        switch self {
        case .heartbeat(let m):
            w.store(m.customMode, at: 0)
            w.store(m.vehicleType, at: 4)
            w.store(m.autopilot, at: 5)
            w.store(m.baseMode, at: 6)
            w.store(m.systemStatus, at: 7)
            w.store(m.mavlinkVersion, at: 8)
            return .heartbeat
        case .systemStatus(let m):
            w.store(m.voltageBattery, at: 14)
            w.store(m.currentBattery, at: 16)
            w.store(m.batteryRemaining, at: 30)
            return .systemStatus
        case .gpsRawInt(let m):
            w.store(m.timeMicroseconds, at: 0)
            w.store(m.latitudeE7, at: 8)
            w.store(m.longitudeE7, at: 12)
            w.store(m.altitudeMM, at: 16)
            w.store(m.fixType, at: 28)
            w.store(m.satellitesVisible, at: 29)
            return .gpsRawInt
        case .attitude(let m):
            w.store(m.timeBootMilliseconds, at: 0)
            w.store(m.roll.bitPattern, at: 4)
            w.store(m.pitch.bitPattern, at: 8)
            w.store(m.yaw.bitPattern, at: 12)
            return .attitude
        case .globalPositionInt(let m):
            w.store(m.timeBootMilliseconds, at: 0)
            w.store(m.latitudeE7, at: 4)
            w.store(m.longitudeE7, at: 8)
            w.store(m.altitudeMM, at: 12)
            w.store(m.relativeAltitudeMM, at: 16)
            w.store(m.velocityX, at: 20)
            w.store(m.velocityY, at: 22)
            w.store(m.velocityZ, at: 24)
            w.store(m.heading, at: 26)
            return .globalPositionInt
        case .batteryStatus(let m):
            // Cells: the total in cell 0 (65,534 at most, the rest in cell 1), the others unknown.
            for cell in 0..<10 { w.store(UInt16.max, at: MAVLinkBatteryStatus.voltagesOffset &+ 2 &* cell) }
            if let total = m.voltageMillivolts {
                w.store(UInt16(min(total, 65_534)), at: MAVLinkBatteryStatus.voltagesOffset)
                if total > 65_534 { w.store(UInt16(min(total &- 65_534, 65_534)), at: MAVLinkBatteryStatus.voltagesOffset &+ 2) }
            }
            w.store(m.id, at: 32)
            w.store(m.batteryRemaining, at: 35)
            w.store(m.chargeState, at: 40)
            return .batteryStatus
        }
    }
}
