import MAVLinkWire
import TelemetryWire

/// MAVLink bodies for `POST /api/telemetry`, as a ground station or a tlog forwarder posts
/// them: MAVLink 1 and 2 frames back to back, without the tlog's timestamps.
extension IngestBody {
    /// Splits a binary body (`application/octet-stream`) by its first byte, as the batch processor
    /// tells UDP datagrams apart: the Skygate magic (0xA7) is Skygate frames, 0xFD or 0xFE is
    /// MAVLink frames, anything else is refused. One body holds one protocol: a frame of the other
    /// protocol inside it is refused with its index and offset (docs/operations.md, "HTTP ingest").
    public static func datagrams(fromBinary body: [UInt8], datagramBytesMax: Int) throws(Malformed) -> [[UInt8]] {
        guard let first = body.first else {
            throw Malformed("empty body: expected one or more Skygate or MAVLink frames")
        }
        switch first {
        case WireFormat.magic:
            return try datagrams(fromFrames: body, datagramBytesMax: datagramBytesMax)
        case MAVLinkFormat.startV1, MAVLinkFormat.startV2:
            return try datagrams(fromMAVLink: body, datagramBytesMax: datagramBytesMax)
        default:
            throw Malformed(
                "bad_magic: first byte \(hex(first)) is neither the Skygate magic (\(hex(WireFormat.magic))) nor a MAVLink start byte"
                    + " (\(hex(MAVLinkFormat.startV2)) or \(hex(MAVLinkFormat.startV1)))")
        }
    }

    /// Splits concatenated MAVLink 1/2 frames into datagrams of at most `datagramBytesMax` bytes,
    /// each holding whole frames. Framing is checked as the MAVLink decoder checks it (start byte,
    /// declared length, CRC with the message's CRC_EXTRA): a frame that cannot be framed rejects
    /// the whole body, where UDP would skip garbage and count it, because an HTTP sender can be
    /// told and can resend. Frames the pipeline refuses for what they say pass on and are counted
    /// there as on UDP: an unknown message id or MAVLink 2 incompatibility flag (skipped by its
    /// declared length, unchecked: a wrong length shows as the next frame failing to frame),
    /// another component than the autopilot, a signature (checked by the processor, which
    /// holds the keys and the replay windows).
    public static func datagrams(fromMAVLink body: [UInt8], datagramBytesMax: Int) throws(Malformed) -> [[UInt8]] {
        guard !body.isEmpty else { throw Malformed("empty body: expected one or more MAVLink frames") }
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var offset = 0
        var frameIndex = 0
        let failure: Malformed? = body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Malformed? in
            // No keys and no stream table: signatures are the processor's to check.
            var verifier = MAVLinkNoSigning()
            // Bounded: every pass consumes one whole frame (at least frameLengthMin bytes) or returns.
            while offset < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                func bad(_ why: String) -> Malformed { Malformed("frame \(frameIndex) at byte \(offset): \(why)") }
                let first = rest[0]
                guard first == MAVLinkFormat.startV1 || first == MAVLinkFormat.startV2 else {
                    if first == WireFormat.magic {
                        return bad("a Skygate frame in a MAVLink body: send one protocol per request")
                    }
                    return bad("bad_magic (\(hex(first)) is not a MAVLink start byte)")
                }
                guard let length = MAVLinkFrameDecoder.declaredLength(rest) else {
                    return bad("truncated (the header is cut off after \(rest.count) bytes)")
                }
                guard length <= rest.count else {
                    return bad("truncated (declares \(length) bytes, \(rest.count) left)")
                }
                guard length <= datagramBytesMax else {
                    return bad("\(length) bytes, longer than a datagram (\(datagramBytesMax))")
                }
                let frame = UnsafeRawBufferPointer(rebasing: rest[0..<length])
                do throws(MAVLinkError) {
                    _ = try MAVLinkFrameDecoder.decodeFrame(frame, verifier: &verifier, streams: nil)
                } catch {
                    switch error {
                    case .unknownMessage, .unknownFlags:
                        break  // Not checkable here; the processor counts it.
                    case .badCRC:
                        return bad("bad_crc (message id \(messageID(of: frame)), CRC with CRC_EXTRA does not match)")
                    default:
                        guard error.isFrameIntact else { return bad("\(error.name)") }
                    }
                }
                if current.count + length > datagramBytesMax {
                    datagrams.append(current)
                    current.removeAll(keepingCapacity: true)
                }
                current.append(contentsOf: frame)
                offset += length
                frameIndex += 1
            }
            return nil
        }
        if let failure { throw failure }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }

    /// The message id of a frame whose header is whole.
    static func messageID(of frame: UnsafeRawBufferPointer) -> UInt32 {
        if frame[0] == MAVLinkFormat.startV1 { return UInt32(frame[MAVLinkFormat.HeaderV1Offset.messageID]) }
        let at = MAVLinkFormat.HeaderV2Offset.messageID
        return UInt32(frame[at]) | UInt32(frame[at + 1]) << 8 | UInt32(frame[at + 2]) << 16
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" + digits : digits)
    }
}
