/// Reads Skygate frames from borrowed bytes into caller-owned `SampleColumns`.
///
/// Nothing is allocated per frame: the decoder reads the bytes in place and writes the samples
/// straight into the columns. Checks run in the order docs/protocol.md gives, so each input has
/// exactly one rejection reason.
public enum FrameDecoder {
    /// Decodes the frame at the start of `bytes` (further bytes, such as the next frame of the
    /// datagram, are left alone), appending its samples to `columns`.
    /// - Precondition: `columns.remainingCapacity >= WireFormat.maxSamplesPerFrame`.
    @inlinable
    public static func decodeFrame<Authenticator: FrameAuthenticator>(
        _ bytes: UnsafeRawBufferPointer, into columns: SampleColumns, authenticator: inout Authenticator
    ) throws(WireError) -> DecodedFrame {
        typealias H = WireFormat.HeaderOffset
        let available = bytes.count
        guard available >= 1 else { throw .truncated }
        guard bytes[H.magic] == WireFormat.magic else { throw .badMagic }
        guard available >= 2 else { throw .truncated }
        guard bytes[H.version] == WireFormat.version else { throw .unknownVersion }
        guard available >= WireFormat.headerLength else { throw .truncated }

        let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: H.frameLength, as: UInt16.self)))
        guard length >= WireFormat.minFrameLength && length <= WireFormat.maxFrameLength else { throw .badLength }
        guard available >= length else { throw .truncated }

        let crcOffset = length &- WireFormat.crcLength
        let crcExpected = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<crcOffset])) == crcExpected else {
            throw .badCRC
        }

        // The frame arrived intact; from here on every rejection is about what it says.
        guard bytes[H.messageType] == MessageType.telemetry.rawValue else { throw .unknownType }
        let flags = bytes[H.flags]
        guard flags & ~WireFormat.Flag.known == 0 else { throw .unknownFlags }
        guard bytes[H.reserved] == 0 else { throw .reservedNotZero }
        let sampleCount = Int(bytes[H.sampleCount])
        let isAuthenticated = flags & WireFormat.Flag.authenticated != 0
        guard sampleCount >= 1 && sampleCount <= WireFormat.maxSamplesPerFrame,
            WireFormat.frameLength(sampleCount: sampleCount, isAuthenticated: isAuthenticated) == length
        else { throw .badSampleCount }

        let header = FrameHeader(
            droneID: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: H.droneID, as: UInt32.self)),
            sequence: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: H.sequence, as: UInt32.self)),
            timestampMicroseconds: UInt64(
                littleEndian: bytes.loadUnaligned(fromByteOffset: H.timestamp, as: UInt64.self)))

        var counter: UInt64 = 0
        if isAuthenticated {
            let counterOffset = crcOffset &- WireFormat.authenticationTrailerLength
            counter = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: counterOffset, as: UInt64.self))
            let tagOffset = counterOffset &+ 8
            // 16 bytes on the stack for the expected tag: no allocation.
            var expected: (UInt64, UInt64) = (0, 0)
            let computed = withUnsafeMutableBytes(of: &expected) { expectedTag in
                authenticator.computeTag(
                    droneID: header.droneID, message: UnsafeRawBufferPointer(rebasing: bytes[0..<tagOffset]),
                    into: expectedTag)
            }
            guard computed else { throw .unknownKey }
            let matches = withUnsafeBytes(of: &expected) { expectedTag in
                tagsAreEqual(expectedTag, UnsafeRawBufferPointer(rebasing: bytes[tagOffset..<crcOffset]))
            }
            guard matches else { throw .badTag }
            guard authenticator.acceptCounter(counter, droneID: header.droneID) else { throw .replayed }
        } else if authenticator.requiresAuthentication(droneID: header.droneID) {
            throw .unauthenticated
        }

        appendSamples(bytes, count: sampleCount, header: header, into: columns)
        return DecodedFrame(
            header: header, sampleCount: sampleCount, length: length, isAuthenticated: isAuthenticated,
            authenticationCounter: counter)
    }

    /// Copies `count` validated sample records into the columns.
    ///
    /// The column pointers are read into locals once, so the loop body is plain loads and stores
    /// that the optimiser can keep in registers (through the class it would reload them per store).
    @inlinable
    static func appendSamples(
        _ bytes: UnsafeRawBufferPointer, count: Int, header: FrameHeader, into columns: SampleColumns
    ) {
        typealias S = WireFormat.SampleOffset
        let first = columns.reserveRows(count)
        let droneIDs = columns.droneIDStorage + first
        let sequences = columns.sequenceStorage + first
        let timestamps = columns.timestampStorage + first
        let latitudes = columns.latitudeStorage + first
        let longitudes = columns.longitudeStorage + first
        let altitudes = columns.altitudeStorage + first
        let velocitiesNorth = columns.velocityNorthStorage + first
        let velocitiesEast = columns.velocityEastStorage + first
        let velocitiesDown = columns.velocityDownStorage + first
        let headings = columns.headingStorage + first
        let batteryMillivolts = columns.batteryMillivoltsStorage + first
        let batteryPercents = columns.batteryPercentStorage + first
        let satellites = columns.satellitesStorage + first
        let statuses = columns.statusStorage + first
        // The frame's length was checked against the sample count, so every record is in bounds.
        var record = bytes.baseAddress.unsafelyUnwrapped + WireFormat.headerLength
        for row in 0..<count {
            @inline(__always) func load<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
                T(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            droneIDs[row] = header.droneID
            sequences[row] = header.sequence
            timestamps[row] = header.timestampMicroseconds &+ UInt64(load(S.timeOffset, UInt32.self))
            latitudes[row] = load(S.latitude, Int32.self)
            longitudes[row] = load(S.longitude, Int32.self)
            altitudes[row] = load(S.altitude, Int32.self)
            velocitiesNorth[row] = load(S.velocityNorth, Int16.self)
            velocitiesEast[row] = load(S.velocityEast, Int16.self)
            velocitiesDown[row] = load(S.velocityDown, Int16.self)
            headings[row] = load(S.heading, UInt16.self)
            batteryMillivolts[row] = load(S.batteryVoltage, UInt16.self)
            batteryPercents[row] = load(S.batteryPercent, UInt8.self)
            satellites[row] = load(S.satellites, UInt8.self)
            statuses[row] = load(S.status, UInt32.self)
            record += WireFormat.sampleLength
        }
    }

    /// Decodes every frame of one datagram. Intact frames that are rejected (unknown type, bad
    /// tag, replay, ...) are skipped by their length and decoding goes on; after a framing
    /// failure (truncated, bad magic, bad CRC, ...) the rest of the datagram cannot be framed and
    /// is rejected as one unit. `onRejection` is called once per rejected unit; an empty datagram
    /// is one unit, `truncated`.
    ///
    /// Decoding stops early, with `bytesConsumed < bytes.count` and no rejection, when `columns`
    /// has no room for another full frame; the caller hands the batch on and calls again with
    /// the remaining bytes.
    @inlinable
    public static func decodeDatagram<Authenticator: FrameAuthenticator>(
        _ bytes: UnsafeRawBufferPointer, into columns: SampleColumns, authenticator: inout Authenticator,
        onRejection: (WireError) -> Void
    ) -> DatagramDecodeResult {
        decodeDatagram(bytes, into: columns, authenticator: &authenticator, onFrame: { _, _ in true }, onRejection: onRejection)
    }

    /// Decodes every frame of one datagram like `decodeDatagram(_:into:authenticator:onRejection:)`,
    /// and calls `onFrame` with each accepted frame and the rows its samples occupy; when it
    /// returns false (a duplicate, a validation failure) the rows are removed again and the frame
    /// counts in `framesRefused`, leaving the caller to count its outcome.
    @inlinable
    public static func decodeDatagram<Authenticator: FrameAuthenticator>(
        _ bytes: UnsafeRawBufferPointer, into columns: SampleColumns, authenticator: inout Authenticator,
        onFrame: (DecodedFrame, Range<Int>) -> Bool, onRejection: (WireError) -> Void
    ) -> DatagramDecodeResult {
        var result = DatagramDecodeResult()
        // An empty datagram is still one unit received, so it is still one unit rejected.
        if bytes.isEmpty {
            result.framesRejected = 1
            onRejection(.truncated)
            return result
        }
        var offset = 0
        // Bounded: every pass consumes at least one byte or stops.
        while offset < bytes.count {
            guard columns.remainingCapacity >= WireFormat.maxSamplesPerFrame else { break }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            do throws(WireError) {
                let first = columns.count
                let frame = try decodeFrame(rest, into: columns, authenticator: &authenticator)
                if onFrame(frame, first..<columns.count) {
                    result.framesAccepted &+= 1
                    result.samplesAccepted &+= frame.sampleCount
                } else {
                    columns.removeLast(frame.sampleCount)
                    result.framesRefused &+= 1
                }
                offset &+= frame.length
            } catch {
                result.framesRejected &+= 1
                onRejection(error)
                if error.isFrameIntact {
                    offset &+= Int(
                        UInt16(
                            littleEndian: rest.loadUnaligned(
                                fromByteOffset: WireFormat.HeaderOffset.frameLength, as: UInt16.self)))
                } else {
                    offset = bytes.count
                }
            }
        }
        result.bytesConsumed = offset
        return result
    }
}
