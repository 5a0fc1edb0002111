import MAVLinkSigning
import MAVLinkWire
import Testing
import TelemetryWire

/// The decoder-verifier checks of the wire format, for MAVLink: every golden datagram decoded
/// whole, cut at every length, and with every single bit flipped must decode without trapping,
/// report at least one unit, account for every unit (accepted + rejected = units reported),
/// never accept a frame that was not in the original datagram (unless the vector holds damaged
/// frames, which a flip can repair), and leave the columns holding
/// exactly the rows it reported. All intact frames of all vectors in one datagram decode to the
/// same frames as they do one vector at a time.
@Suite struct MAVLinkDecoderVerifierTests {
    /// The bytes of each frame the decoder accepts from `datagram`, in order. The framing is
    /// walked here again (skip a run of non-start bytes; at a start byte take the declared length;
    /// stop at a truncation), one step per unit the decoder reported.
    static func acceptedFrames(_ datagram: [UInt8], verifier: MAVLinkSHA256Verifier) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var offset = 0
        for unit in decodeAll(datagram, verifier: verifier).units {
            guard offset < datagram.count else { break }
            if datagram[offset] != 0xFD && datagram[offset] != 0xFE {
                while offset < datagram.count && datagram[offset] != 0xFD && datagram[offset] != 0xFE { offset += 1 }
                continue
            }
            let rest = Array(datagram[offset...])
            guard let length = rest.withUnsafeBytes({ MAVLinkFrameDecoder.declaredLength($0) }), length <= rest.count else { break }
            if case .frame = unit { frames.append(Array(rest[0..<length])) }
            offset += length
        }
        return frames
    }

    /// The bytes of a frame that a check covers: without a key for its system, a signed frame's
    /// signature block is not checked (MAVLink's CRC ends before it), so it is left out.
    static func covered(_ frame: [UInt8], verifier: MAVLinkSHA256Verifier) -> [UInt8] {
        guard frame[0] == 0xFD, frame[2] & 1 != 0, !verifier.hasKey(systemID: frame[5]) else { return frame }
        return Array(frame.dropLast(MAVLinkFormat.signatureLength))
    }

    /// The frames a damaged copy of `vector` may yield: its own accepted frames, or anything when
    /// the vector holds deliberately damaged frames (a flip can repair them).
    static func allowedFrames(_ vector: MAVLinkVector) -> Set<[UInt8]> {
        guard vector.units.allSatisfy({ $0.frame != nil }) else { return [] }
        return Set(acceptedFrames(vector.bytes, verifier: vector.verifier).map { covered($0, verifier: vector.verifier) })
    }

    func checkInvariants(_ datagram: [UInt8], verifier: MAVLinkSHA256Verifier, allowed: Set<[UInt8]>, label: String) {
        let decoded = decodeAll(datagram, verifier: verifier)
        #expect(!decoded.units.isEmpty, "\(label): no unit")
        #expect(decoded.result.framesAccepted + decoded.result.framesRejected == decoded.units.count, "\(label)")
        #expect(decoded.result.bytesConsumed == datagram.count, "\(label)")
        let rows = decoded.units.reduce(0) { sum, unit in
            if case .frame(_, _, let rows) = unit { return sum + rows }
            return sum
        }
        #expect(decoded.columns.count == rows, "\(label)")
        for frame in Self.acceptedFrames(datagram, verifier: verifier).map({ Self.covered($0, verifier: verifier) })
        where !allowed.isEmpty && !allowed.contains(frame) {
            Issue.record("\(label): accepted a frame the original did not hold: \(frame)")
        }
    }

    @Test(arguments: MAVLinkVector.all)
    func everyTruncation(_ vector: MAVLinkVector) {
        let bytes = vector.bytes
        let allowed = Self.allowedFrames(vector)
        for length in 0...bytes.count {
            checkInvariants(Array(bytes[0..<length]), verifier: vector.verifier, allowed: allowed, label: "\(vector.name)[..<\(length)]")
        }
    }

    @Test(arguments: MAVLinkVector.all)
    func everyBitFlip(_ vector: MAVLinkVector) {
        let bytes = vector.bytes
        let allowed = Self.allowedFrames(vector)
        for index in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[index] ^= 1 << bit
                checkInvariants(flipped, verifier: vector.verifier, allowed: allowed, label: "\(vector.name) bit \(index).\(bit)")
            }
        }
    }

    /// Every accepted frame of every unsigned vector, concatenated, decodes to the same frames.
    @Test func allFramesInOneDatagram() {
        var datagram: [UInt8] = []
        var expected: [MAVLinkFrame] = []
        for vector in MAVLinkVector.all where vector.key == nil {
            let decoded = decodeAll(vector.bytes)
            expected += decoded.units.compactMap { unit -> MAVLinkFrame? in
                if case .frame(let frame, _, _) = unit { return frame }
                return nil
            }
            for frame in Self.acceptedFrames(vector.bytes, verifier: vector.verifier) { datagram += frame }
        }
        let decoded = decodeAll(datagram, columns: SampleColumns(capacity: 4_096))
        let frames = decoded.units.compactMap { unit -> MAVLinkFrame? in
            if case .frame(let frame, _, _) = unit { return frame }
            return nil
        }
        #expect(frames == expected)
        #expect(decoded.result.framesRejected == 0)
        #expect(expected.count >= 40)
    }

    /// When the columns are full the decoder stops before the next frame and says how far it got;
    /// decoding the rest into fresh columns gives the remaining frames.
    @Test func stopsWhenColumnsAreFull() {
        let vector = MAVLinkVector.all.first { $0.name == "mixed-datagram" }!
        let small = SampleColumns(capacity: 2)
        let first = decodeAll(vector.bytes, columns: small)
        #expect(small.count == 2)
        #expect(first.result.bytesConsumed < vector.bytes.count)
        let rest = Array(vector.bytes[first.result.bytesConsumed...])
        let second = decodeAll(rest)
        #expect(first.units.count + second.units.count == vector.units.count)
    }
}
