import TelemetryWire

/// SplitMix64: a small seeded generator so every randomised test is reproducible from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension WireSample {
    /// A sample with every field drawn at random over its whole range.
    static func random(using generator: inout SeededGenerator) -> WireSample {
        WireSample(
            timeOffsetMicroseconds: .random(in: .min ... .max, using: &generator),
            latitudeE7: .random(in: .min ... .max, using: &generator),
            longitudeE7: .random(in: .min ... .max, using: &generator),
            altitudeMM: .random(in: .min ... .max, using: &generator),
            velocityNorthCMS: .random(in: .min ... .max, using: &generator),
            velocityEastCMS: .random(in: .min ... .max, using: &generator),
            velocityDownCMS: .random(in: .min ... .max, using: &generator),
            headingCentidegrees: .random(in: .min ... .max, using: &generator),
            batteryMillivolts: .random(in: .min ... .max, using: &generator),
            batteryPercent: .random(in: .min ... .max, using: &generator),
            satellites: .random(in: .min ... .max, using: &generator),
            status: StatusFlags(rawValue: .random(in: .min ... .max, using: &generator)))
    }
}

/// Decodes a whole datagram with a fresh batch and returns the rows as samples plus the reasons.
struct DecodeOutcome {
    var frames: [(header: FrameHeader, samples: [WireSample], timestamps: [UInt64])] = []
    var rejected: [WireError] = []
    var result = DatagramDecodeResult()
}

func decodeAll<A: FrameAuthenticator>(_ bytes: [UInt8], authenticator: inout A) -> DecodeOutcome {
    var outcome = DecodeOutcome()
    let columns = SampleColumns(capacity: 4096)
    outcome.result = bytes.withUnsafeBytes { buffer in
        FrameDecoder.decodeDatagram(buffer, into: columns, authenticator: &authenticator) {
            outcome.rejected.append($0)
        }
    }
    // Regroup the rows into frames by (drone, sequence) runs, in order.
    var row = 0
    while row < columns.count {
        let drone = columns.droneID(at: row)
        let sequence = columns.sequence(at: row)
        var samples: [WireSample] = []
        var timestamps: [UInt64] = []
        while row < columns.count && columns.droneID(at: row) == drone && columns.sequence(at: row) == sequence {
            samples.append(columns.sample(at: row))
            timestamps.append(columns.timestampMicroseconds(at: row))
            row += 1
        }
        outcome.frames.append(
            (FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: timestamps[0]), samples, timestamps))
    }
    return outcome
}

/// Test frames used by several suites: one sample, five, the maximum, each with fixed content.
enum SampleFrames {
    static let header = FrameHeader(droneID: 42, sequence: 1234, timestampMicroseconds: 1_767_225_600_000_000)

    static func samples(_ count: Int) -> [WireSample] {
        var generator = SeededGenerator(seed: UInt64(count))
        return (0..<count).map { _ in WireSample.random(using: &generator) }
    }

    static var untagged: [(name: String, bytes: [UInt8])] {
        [1, 5, 32].map { ("\($0)-samples", FrameEncoder.encode(header: header, samples: samples($0))) }
    }

    static func bytes(named name: String) -> [UInt8] { untagged.first { $0.name == name }!.bytes }
}
