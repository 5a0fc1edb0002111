/// Writes Skygate frames. Firmware and the simulator call it with a buffer they own; nothing is
/// allocated except by the `[UInt8]` conveniences.
public enum FrameEncoder {
    /// Encodes one untagged frame of `samples` into the start of `buffer`; returns its length.
    /// - Precondition: 1...32 samples, and `buffer` holds `WireFormat.frameLength(...)` bytes.
    @inlinable
    public static func encode(
        header: FrameHeader, samples: UnsafeBufferPointer<WireSample>, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        let length = writeBody(header: header, samples: samples, isAuthenticated: false, into: buffer)
        writeCRC(buffer, length: length)
        return length
    }

    /// Encodes one tagged frame: the body, then `counter` and the tag the authenticator computes
    /// with the drone's key, then the CRC. Throws `unknownKey` when the authenticator has no key.
    /// - Precondition: `counter` strictly increases per drone key, across reboots too (see
    ///   docs/protocol.md, "Authentication"), or the receiver rejects the frames as replays.
    @inlinable
    public static func encode<Authenticator: FrameAuthenticator>(
        header: FrameHeader, samples: UnsafeBufferPointer<WireSample>, counter: UInt64,
        authenticator: Authenticator, into buffer: UnsafeMutableRawBufferPointer
    ) throws(WireError) -> Int {
        let length = writeBody(header: header, samples: samples, isAuthenticated: true, into: buffer)
        let counterOffset = length &- WireFormat.crcLength &- WireFormat.authenticationTrailerLength
        buffer.storeBytes(of: counter.littleEndian, toByteOffset: counterOffset, as: UInt64.self)
        let tagOffset = counterOffset &+ 8
        let message = UnsafeRawBufferPointer(rebasing: buffer[0..<tagOffset])
        let tag = UnsafeMutableRawBufferPointer(rebasing: buffer[tagOffset..<(tagOffset &+ WireFormat.tagLength)])
        guard authenticator.computeTag(droneID: header.droneID, message: message, into: tag) else {
            throw .unknownKey
        }
        writeCRC(buffer, length: length)
        return length
    }

    /// Encodes an untagged frame into a new array.
    public static func encode(header: FrameHeader, samples: [WireSample]) -> [UInt8] {
        let length = WireFormat.frameLength(sampleCount: samples.count, isAuthenticated: false)
        var bytes = [UInt8](repeating: 0, count: length)
        samples.withUnsafeBufferPointer { samples in
            bytes.withUnsafeMutableBytes { buffer in _ = encode(header: header, samples: samples, into: buffer) }
        }
        return bytes
    }

    /// Encodes a tagged frame into a new array.
    public static func encode<Authenticator: FrameAuthenticator>(
        header: FrameHeader, samples: [WireSample], counter: UInt64, authenticator: Authenticator
    ) throws(WireError) -> [UInt8] {
        let length = WireFormat.frameLength(sampleCount: samples.count, isAuthenticated: true)
        var bytes = [UInt8](repeating: 0, count: length)
        let result: Result<Int, WireError> = samples.withUnsafeBufferPointer { samples in
            bytes.withUnsafeMutableBytes { buffer in
                do throws(WireError) {
                    return .success(
                        try encode(
                            header: header, samples: samples, counter: counter, authenticator: authenticator,
                            into: buffer))
                } catch {
                    return .failure(error)
                }
            }
        }
        if case .failure(let error) = result { throw error }
        return bytes
    }

    @inlinable
    static func writeBody(
        header: FrameHeader, samples: UnsafeBufferPointer<WireSample>, isAuthenticated: Bool,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        let count = samples.count
        precondition(count >= 1 && count <= WireFormat.maxSamplesPerFrame, "a frame holds 1...32 samples")
        let length = WireFormat.frameLength(sampleCount: count, isAuthenticated: isAuthenticated)
        precondition(buffer.count >= length, "frame buffer too small")
        typealias H = WireFormat.HeaderOffset
        buffer[H.magic] = WireFormat.magic
        buffer[H.version] = WireFormat.version
        buffer[H.messageType] = MessageType.telemetry.rawValue
        buffer[H.flags] = isAuthenticated ? WireFormat.Flag.authenticated : 0
        buffer.storeBytes(of: header.droneID.littleEndian, toByteOffset: H.droneID, as: UInt32.self)
        buffer.storeBytes(of: header.sequence.littleEndian, toByteOffset: H.sequence, as: UInt32.self)
        buffer.storeBytes(of: header.timestampMicroseconds.littleEndian, toByteOffset: H.timestamp, as: UInt64.self)
        buffer[H.sampleCount] = UInt8(truncatingIfNeeded: count)
        buffer[H.reserved] = 0
        buffer.storeBytes(of: UInt16(truncatingIfNeeded: length).littleEndian, toByteOffset: H.frameLength, as: UInt16.self)
        typealias S = WireFormat.SampleOffset
        var record = WireFormat.headerLength
        for sample in samples {
            buffer.storeBytes(of: sample.timeOffsetMicroseconds.littleEndian, toByteOffset: record + S.timeOffset, as: UInt32.self)
            buffer.storeBytes(of: sample.latitudeE7.littleEndian, toByteOffset: record + S.latitude, as: Int32.self)
            buffer.storeBytes(of: sample.longitudeE7.littleEndian, toByteOffset: record + S.longitude, as: Int32.self)
            buffer.storeBytes(of: sample.altitudeMM.littleEndian, toByteOffset: record + S.altitude, as: Int32.self)
            buffer.storeBytes(of: sample.velocityNorthCMS.littleEndian, toByteOffset: record + S.velocityNorth, as: Int16.self)
            buffer.storeBytes(of: sample.velocityEastCMS.littleEndian, toByteOffset: record + S.velocityEast, as: Int16.self)
            buffer.storeBytes(of: sample.velocityDownCMS.littleEndian, toByteOffset: record + S.velocityDown, as: Int16.self)
            buffer.storeBytes(of: sample.headingCentidegrees.littleEndian, toByteOffset: record + S.heading, as: UInt16.self)
            buffer.storeBytes(of: sample.batteryMillivolts.littleEndian, toByteOffset: record + S.batteryVoltage, as: UInt16.self)
            buffer[record + S.batteryPercent] = sample.batteryPercent
            buffer[record + S.satellites] = sample.satellites
            buffer.storeBytes(of: sample.status.rawValue.littleEndian, toByteOffset: record + S.status, as: UInt32.self)
            record &+= WireFormat.sampleLength
        }
        return length
    }

    @inlinable
    static func writeCRC(_ buffer: UnsafeMutableRawBufferPointer, length: Int) {
        let crcOffset = length &- WireFormat.crcLength
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<crcOffset]))
        buffer.storeBytes(of: crc.littleEndian, toByteOffset: crcOffset, as: UInt32.self)
    }
}
