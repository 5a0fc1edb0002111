import MAVLinkWire
import Testing
import TelemetryWire

/// The stream framer gives the same events whether a stream arrives whole, one byte at a time, or
/// split in two at every offset (NIO's ByteToMessageDecoderVerifier, for MAVLink): frames split
/// across pieces come out whole, a garbage run split across pieces is one event, and a frame cut
/// off by the end of the stream is reported by `finish`. Framed whole, a stream of intact frames
/// decodes to the same frames as the datagrams they came from.
@Suite struct MAVLinkStreamFramerTests {
    enum Recorded: Equatable {
        case frame([UInt8])
        case garbage(Int)
        case truncated(Int)
    }

    func frame(_ stream: [UInt8], pieces: [Range<Int>]) -> [Recorded] {
        var framer = MAVLinkStreamFramer()
        var events: [Recorded] = []
        func record(_ event: MAVLinkStreamFramer.Event) {
            switch event {
            case .frame(let bytes): events.append(.frame(Array(bytes)))
            case .garbage(let count): events.append(.garbage(count))
            case .truncated(let count): events.append(.truncated(count))
            }
        }
        stream.withUnsafeBytes { all in
            for piece in pieces { framer.feed(UnsafeRawBufferPointer(rebasing: all[piece]), record) }
        }
        framer.finish(record)
        return events
    }

    /// Damaged, garbage-laden, signed and multi-frame datagrams back to back, then a cut frame.
    static let stream: [UInt8] = {
        let names: Set = [
            "mixed-datagram", "garbage-between-frames", "v2-bad-crc-payload", "signed-valid", "v2-unknown-incompat-flag",
            "v2-unmapped-statustext", "v1-battery_status", "v2-heartbeat-one-byte",
        ]
        var bytes = [UInt8](repeating: 0x42, count: 5)  // leading garbage
        for vector in MAVLinkVector.all where names.contains(vector.name) { bytes += vector.bytes }
        bytes += MAVLinkVector.all.first { $0.name == "v2-truncated-frame" }!.bytes
        return bytes
    }()

    @Test func wholeByteBySplitAgree() {
        let stream = Self.stream
        let whole = frame(stream, pieces: [0..<stream.count])
        #expect(whole.first == .garbage(5))
        #expect(whole.last == .truncated(37))
        #expect(whole.filter { if case .frame = $0 { return true } else { return false } }.count > 20)
        #expect(frame(stream, pieces: (0..<stream.count).map { $0..<($0 + 1) }) == whole)
        for split in 0...stream.count {
            #expect(frame(stream, pieces: [0..<split, split..<stream.count]) == whole, "split at \(split)")
        }
    }

    @Test func framedStreamDecodesLikeDatagrams() {
        // The intact frames of every unsigned vector, as one stream cut into 7-byte pieces.
        var stream: [UInt8] = []
        var expected: [MAVLinkFrame] = []
        for vector in MAVLinkVector.all where vector.key == nil {
            for unit in decodeAll(vector.bytes).units {
                if case .frame(let frame, _, _) = unit { expected.append(frame) }
            }
            for bytes in MAVLinkDecoderVerifierTests.acceptedFrames(vector.bytes, verifier: vector.verifier) { stream += bytes }
        }
        let pieces = stride(from: 0, to: stream.count, by: 7).map { $0..<min($0 + 7, stream.count) }
        var decoded: [MAVLinkFrame] = []
        for event in frame(stream, pieces: pieces) {
            guard case .frame(let bytes) = event else {
                Issue.record("unexpected \(event)")
                continue
            }
            for unit in decodeAll(bytes).units {
                if case .frame(let frame, _, _) = unit { decoded.append(frame) }
            }
        }
        #expect(decoded == expected)
    }
}
