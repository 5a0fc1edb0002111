import TelemetryWire

/// Decodes MAVLink datagrams (or any byte run holding whole frames) into `SampleColumns`:
/// every GLOBAL_POSITION_INT from a system's autopilot (component 1) becomes one row (drone id =
/// system id, sequence = the 8-bit MAVLink sequence), carrying the battery, satellites, fix and
/// status from the system's latest HEARTBEAT, SYS_STATUS, GPS_RAW_INT, ATTITUDE and
/// BATTERY_STATUS, which update the state table instead of producing rows.
///
/// Nothing is allocated per frame. One decoder per processing thread: it owns mutable state.
public final class MAVLinkDecoder {
    /// Per-system state that position rows inherit.
    public let vehicles: MAVLinkVehicleTable
    /// Signed-stream timestamps for replay protection.
    public let streams: MAVLinkSignatureStreams

    public init(signatureStreamsMax: Int = 4_096) {
        vehicles = MAVLinkVehicleTable()
        streams = MAVLinkSignatureStreams(capacity: signatureStreamsMax)
    }

    /// Decodes every frame of `bytes` in order:
    /// - bytes that are not a start byte (0xFD, 0xFE) are skipped up to the next start byte and
    ///   reported as one `badMagic` unit per run;
    /// - a frame whose header or declared length runs past the end is one `truncated` unit, and
    ///   decoding stops (UDP never splits a frame across datagrams);
    /// - every other frame is skipped by its declared length whatever its fate (as the MAVLink C
    ///   library and pymavlink do), and reported once: through `onRejection`, or through
    ///   `onFrame` with the rows it added (empty for messages without a position). When `onFrame`
    ///   returns false (duplicate, invalid, not wanted) the rows are removed and the state is not
    ///   updated.
    /// An empty input is one `truncated` unit. Decoding stops early (`bytesConsumed < count`)
    /// only when `columns` is full.
    @inlinable
    public func decodeDatagram<Verifier: MAVLinkSignatureVerifier>(
        _ bytes: UnsafeRawBufferPointer, receivedMicroseconds: UInt64, into columns: SampleColumns,
        verifier: inout Verifier, onFrame: (MAVLinkFrame, MAVLinkMessage, Range<Int>) -> Bool,
        onRejection: (MAVLinkError) -> Void
    ) -> DatagramDecodeResult {
        var result = DatagramDecodeResult()
        if bytes.isEmpty {
            result.framesRejected = 1
            onRejection(.truncated)
            return result
        }
        var offset = 0
        let count = bytes.count
        // Bounded: every pass consumes at least one byte or stops.
        while offset < count {
            let first = bytes[offset]
            if first != MAVLinkFormat.startV1 && first != MAVLinkFormat.startV2 {
                var next = offset &+ 1
                while next < count && bytes[next] != MAVLinkFormat.startV1 && bytes[next] != MAVLinkFormat.startV2 {
                    next &+= 1
                }
                result.framesRejected &+= 1
                onRejection(.badMagic)
                offset = next
                continue
            }
            guard columns.remainingCapacity >= 1 else { break }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let length = MAVLinkFrameDecoder.declaredLength(rest), length <= rest.count else {
                result.framesRejected &+= 1
                onRejection(.truncated)
                offset = count
                break
            }
            let frameBytes = UnsafeRawBufferPointer(rebasing: rest[0..<length])
            offset &+= length
            do throws(MAVLinkError) {
                let (frame, message) = try MAVLinkFrameDecoder.decodeFrame(frameBytes, verifier: &verifier, streams: streams)
                accept(frame, message, receivedMicroseconds: receivedMicroseconds, into: columns, onFrame: onFrame, result: &result)
            } catch {
                result.framesRejected &+= 1
                onRejection(error)
            }
        }
        result.bytesConsumed = offset
        return result
    }

    /// Turns an intact frame into a row (a position from the autopilot) or state.
    @inlinable
    func accept(
        _ frame: MAVLinkFrame, _ message: MAVLinkMessage, receivedMicroseconds: UInt64, into columns: SampleColumns,
        onFrame: (MAVLinkFrame, MAVLinkMessage, Range<Int>) -> Bool, result: inout DatagramDecodeResult
    ) {
        let isAutopilot = frame.componentID == MAVLinkFormat.autopilotComponentID
        let first = columns.count
        if isAutopilot, case .globalPositionInt(let position) = message {
            appendRow(position, frame: frame, receivedMicroseconds: receivedMicroseconds, into: columns)
        }
        let rows = first..<columns.count
        if onFrame(frame, message, rows) {
            result.framesAccepted &+= 1
            result.samplesAccepted &+= rows.count
            if isAutopilot { vehicles.apply(message, system: frame.systemID, receivedMicroseconds: receivedMicroseconds) }
        } else {
            columns.removeLast(rows.count)
            result.framesRefused &+= 1
        }
    }

    /// Appends one position row with the system's state.
    @inlinable
    func appendRow(
        _ position: MAVLinkGlobalPositionInt, frame: MAVLinkFrame, receivedMicroseconds: UInt64, into columns: SampleColumns
    ) {
        let system = frame.systemID
        let row = Int(system)
        var heading = position.heading
        if heading == MAVLinkVehicleTable.headingUnknown { heading = vehicles.attitudeHeadings[row] }
        let sample = WireSample(
            latitudeE7: position.latitudeE7, longitudeE7: position.longitudeE7, altitudeMM: position.altitudeMM,
            velocityNorthCMS: position.velocityX, velocityEastCMS: position.velocityY, velocityDownCMS: position.velocityZ,
            headingCentidegrees: heading, batteryMillivolts: vehicles.batteryMillivolts[row],
            batteryPercent: vehicles.batteryPercents[row], satellites: vehicles.satellites[row],
            status: StatusFlags(rawValue: vehicles.status(system: system, latitudeE7: position.latitudeE7, longitudeE7: position.longitudeE7)))
        let time = vehicles.sampleTimeMicroseconds(
            system: system, timeBootMilliseconds: position.timeBootMilliseconds, receivedMicroseconds: receivedMicroseconds)
        columns.append(sample, header: FrameHeader(droneID: UInt32(system), sequence: UInt32(frame.sequence), timestampMicroseconds: time))
    }
}
