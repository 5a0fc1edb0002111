import Testing
import TelemetryWire
import WireAuthentication

/// Encoder and decoder against each other and against damage: random frames survive a round
/// trip exactly; every truncation and every single-bit flip of a valid frame is rejected with
/// the reason docs/protocol.md's decoding order gives, and never crashes or yields a sample.
@Suite("Frame encoder and decoder")
struct FrameCodecTests {
    static let keys = try! DroneKeys([42: Array(0..<32), 43: Array(100..<116)])

    @Test("Random frames, tagged and untagged, round-trip exactly (seeded, 2,000 frames)")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        var receiver = HMACAuthenticator(keys: Self.keys)
        let sender = HMACAuthenticator(keys: Self.keys)
        var counters: [UInt32: UInt64] = [:]
        for _ in 0..<2_000 {
            let droneID: UInt32 = [42, 43, 44, .random(in: 45 ... .max, using: &generator)].randomElement(using: &generator)!
            let header = FrameHeader(
                droneID: droneID, sequence: .random(in: 0 ... .max, using: &generator),
                timestampMicroseconds: .random(in: 0 ... .max, using: &generator))
            let samples = (0..<Int.random(in: 1...WireFormat.maxSamplesPerFrame, using: &generator)).map { _ in
                WireSample.random(using: &generator)
            }
            let tagged = droneID == 42 || droneID == 43
            var bytes: [UInt8]
            var counter: UInt64 = 0
            if tagged {
                counter = counters[droneID, default: 0] &+ UInt64.random(in: 1...1_000, using: &generator)
                counters[droneID] = counter
                bytes = try FrameEncoder.encode(header: header, samples: samples, counter: counter, authenticator: sender)
            } else {
                bytes = FrameEncoder.encode(header: header, samples: samples)
            }
            #expect(bytes.count == WireFormat.frameLength(sampleCount: samples.count, isAuthenticated: tagged))
            let outcome = decodeAll(bytes, authenticator: &receiver)
            #expect(outcome.rejected.isEmpty)
            try #require(outcome.frames.count == 1)
            let frame = outcome.frames[0]
            #expect(frame.header.droneID == header.droneID)
            #expect(frame.header.sequence == header.sequence)
            #expect(frame.samples.count == samples.count)
            for (index, sample) in samples.enumerated() {
                var want = sample
                want.timeOffsetMicroseconds = 0
                #expect(frame.samples[index] == want)
                #expect(frame.timestamps[index] == header.timestampMicroseconds &+ UInt64(sample.timeOffsetMicroseconds))
            }
        }
    }

    @Test("decodeFrame reports the header, length and tag state")
    func decodedFrameFields() throws {
        let header = SampleFrames.header
        var authenticator = HMACAuthenticator(keys: Self.keys)
        let bytes = try FrameEncoder.encode(
            header: header, samples: SampleFrames.samples(3), counter: 77, authenticator: authenticator)
        let columns = SampleColumns(capacity: 64)
        let frame = try bytes.withUnsafeBytes { try FrameDecoder.decodeFrame($0, into: columns, authenticator: &authenticator) }
        #expect(frame == DecodedFrame(header: header, sampleCount: 3, length: bytes.count, isAuthenticated: true, authenticationCounter: 77))
        #expect(columns.count == 3)
    }

    @Test("Every truncation of a valid frame is rejected as truncated", arguments: SampleFrames.untagged.map(\.name))
    func truncations(name: String) {
        let frame = SampleFrames.bytes(named: name)
        for length in 0..<frame.count {
            var authenticator = NoAuthentication()
            let outcome = decodeAll(Array(frame[0..<length]), authenticator: &authenticator)
            #expect(outcome.rejected == [.truncated], "length \(length)")
            #expect(outcome.frames.isEmpty)
        }
    }

    @Test("Every truncation of a tagged frame is rejected as truncated")
    func taggedTruncations() throws {
        let frame = try FrameEncoder.encode(
            header: SampleFrames.header, samples: SampleFrames.samples(4), counter: 1,
            authenticator: HMACAuthenticator(keys: Self.keys))
        for length in 0..<frame.count {
            var authenticator = HMACAuthenticator(keys: Self.keys)
            let outcome = decodeAll(Array(frame[0..<length]), authenticator: &authenticator)
            #expect(outcome.rejected == [.truncated], "length \(length)")
        }
    }

    /// The reason a single-bit flip must give, by the decoding order of docs/protocol.md.
    static func expectedReason(flipping frame: [UInt8], byte: Int, bit: Int) -> WireError {
        var damaged = frame
        damaged[byte] ^= UInt8(1) << bit
        switch byte {
        case WireFormat.HeaderOffset.magic: return .badMagic
        case WireFormat.HeaderOffset.version: return .unknownVersion
        case WireFormat.HeaderOffset.frameLength, WireFormat.HeaderOffset.frameLength + 1:
            let length = Int(damaged[22]) | Int(damaged[23]) << 8
            if length < WireFormat.minFrameLength || length > WireFormat.maxFrameLength { return .badLength }
            if length > damaged.count { return .truncated }
            return .badCRC
        default: return .badCRC
        }
    }

    @Test("Every single-bit flip is rejected with the right reason", arguments: SampleFrames.untagged.map(\.name))
    func bitFlips(name: String) {
        let frame = SampleFrames.bytes(named: name)
        for byte in 0..<frame.count {
            for bit in 0..<8 {
                var damaged = frame
                damaged[byte] ^= UInt8(1) << bit
                var authenticator = NoAuthentication()
                let outcome = decodeAll(damaged, authenticator: &authenticator)
                #expect(outcome.frames.isEmpty, "byte \(byte) bit \(bit) was accepted")
                #expect(outcome.rejected == [Self.expectedReason(flipping: frame, byte: byte, bit: bit)], "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test("Every single-bit flip of a tagged frame is rejected, never accepted")
    func taggedBitFlips() throws {
        let frame = try FrameEncoder.encode(
            header: SampleFrames.header, samples: SampleFrames.samples(2), counter: 9,
            authenticator: HMACAuthenticator(keys: Self.keys))
        for byte in 0..<frame.count {
            for bit in 0..<8 {
                var damaged = frame
                damaged[byte] ^= UInt8(1) << bit
                var authenticator = HMACAuthenticator(keys: Self.keys)
                let outcome = decodeAll(damaged, authenticator: &authenticator)
                #expect(outcome.frames.isEmpty)
                #expect(outcome.rejected == [Self.expectedReason(flipping: frame, byte: byte, bit: bit)], "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test("A datagram larger than the batch's room is decoded in parts without losing a frame")
    func capacityStop() {
        let frames = (0..<3).map { index in
            FrameEncoder.encode(
                header: FrameHeader(droneID: 1, sequence: UInt32(index), timestampMicroseconds: 1),
                samples: SampleFrames.samples(16))
        }
        let datagram = frames.flatMap { $0 }
        let columns = SampleColumns(capacity: 48)  // room for one full frame only
        var authenticator = NoAuthentication()
        var rejections = 0
        var offset = 0
        var passes = 0
        var accepted = 0
        while offset < datagram.count {
            passes += 1
            let result = datagram.withUnsafeBytes { buffer in
                FrameDecoder.decodeDatagram(
                    UnsafeRawBufferPointer(rebasing: buffer[offset...]), into: columns, authenticator: &authenticator
                ) { _ in rejections += 1 }
            }
            #expect(result.framesAccepted >= 1)
            accepted += result.framesAccepted
            offset += result.bytesConsumed
            columns.removeAll()
            if passes > 10 { break }
        }
        #expect(accepted == 3)
        #expect(rejections == 0)
        #expect(passes == 2)  // 16 + 16 fill 32 of 48; a third needs 32 more slots of room
    }

    @Test("Garbage of every length up to 2 KiB never crashes and is never accepted (seeded)")
    func garbage() {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<3_000 {
            var bytes = (0..<Int.random(in: 0...2_048, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half of the inputs start like a real frame so the decoder gets past the first checks.
            if !bytes.isEmpty && Bool.random(using: &generator) { bytes[0] = WireFormat.magic }
            if bytes.count > 1 && Bool.random(using: &generator) { bytes[1] = WireFormat.version }
            var authenticator = NoAuthentication()
            let outcome = decodeAll(bytes, authenticator: &authenticator)
            #expect(outcome.frames.isEmpty)
            #expect(outcome.rejected.count == 1)
        }
    }
}

/// The anti-replay window accepts each counter once, tolerates reordering within 64 counters and
/// refuses anything older.
@Suite("Replay window")
struct ReplayWindowTests {
    @Test("First counter, increasing counters, and duplicates")
    func basics() {
        var window = ReplayWindow()
        #expect(window.isEmpty)
        do { let accepted = window.accept(10); #expect(accepted) }
        do { let accepted = window.accept(10); #expect(!accepted) }
        do { let accepted = window.accept(11); #expect(accepted) }
        do { let accepted = window.accept(100); #expect(accepted) }
        #expect(window.highest == 100)
        do { let accepted = window.accept(100); #expect(!accepted) }
    }

    @Test("Reordered counters inside the window are accepted once; older ones are refused")
    func reordering() {
        var window = ReplayWindow()
        do { let accepted = window.accept(1_000); #expect(accepted) }
        do { let accepted = window.accept(990); #expect(accepted) }
        do { let accepted = window.accept(990); #expect(!accepted) }
        do { let accepted = window.accept(1_000 - 63); #expect(accepted) }
        do { let accepted = window.accept(1_000 - 64); #expect(!accepted) }
        do { let accepted = window.accept(1_200); #expect(accepted) }
        do { let accepted = window.accept(1_000); #expect(!accepted) }  // now 200 behind
        do { let accepted = window.accept(UInt64.max); #expect(accepted) }
        do { let accepted = window.accept(UInt64.max); #expect(!accepted) }
    }

    @Test("Against a reference model over random counters (seeded)")
    func model() {
        var generator = SeededGenerator(seed: 4)
        var window = ReplayWindow()
        var seen = Set<UInt64>()
        var highest: UInt64? = nil
        for _ in 0..<20_000 {
            let base = highest ?? 1_000
            let counter = base &+ UInt64.random(in: 0...80, using: &generator) &- 70
            let want = !seen.contains(counter) && (highest.map { counter > $0 || $0 - counter < 64 } ?? true)
            let accepted = window.accept(counter)
            #expect(accepted == want)
            if want {
                seen.insert(counter)
                highest = max(highest ?? counter, counter)
            }
        }
    }
}

/// The caller can refuse a decoded frame (a duplicate, a validation failure): its rows are
/// removed again and it is counted as refused, not accepted or rejected.
@Suite("Refusing frames")
struct RefusingFramesTests {
    @Test("A refused frame's rows are removed and later frames are kept")
    func refuse() {
        let frames = (0..<3).map { index in
            FrameEncoder.encode(
                header: FrameHeader(droneID: UInt32(index), sequence: 0, timestampMicroseconds: 1),
                samples: SampleFrames.samples(index + 1))
        }
        let datagram = frames.flatMap { $0 }
        let columns = SampleColumns(capacity: 128)
        var authenticator = NoAuthentication()
        var seen: [(UInt32, Range<Int>)] = []
        let result = datagram.withUnsafeBytes { buffer in
            FrameDecoder.decodeDatagram(
                buffer, into: columns, authenticator: &authenticator,
                onFrame: { frame, rows in
                    seen.append((frame.header.droneID, rows))
                    return frame.header.droneID != 1
                }, onRejection: { _ in Issue.record("unexpected rejection") })
        }
        #expect(result.framesAccepted == 2 && result.framesRefused == 1 && result.samplesAccepted == 4)
        #expect(seen.map(\.0) == [0, 1, 2])
        #expect(seen.map(\.1) == [0..<1, 1..<3, 1..<4])
        #expect(Array(columns.droneIDs) == [0, 2, 2, 2])
    }
}
