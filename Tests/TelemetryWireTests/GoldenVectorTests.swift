import Foundation
import Testing
import TelemetryWire
import WireAuthentication

/// The golden vectors in Fixtures/wire were made by an independent Python implementation of
/// docs/protocol.md (Scripts/make_wire_vectors.py). Each must decode to exactly the frames and
/// rejection reasons recorded beside it, and every accepted frame must re-encode to the same bytes.
struct GoldenVector: Decodable, CustomTestStringConvertible, Sendable {
    struct Frame: Decodable, Sendable {
        var droneID: UInt32
        var sequence: UInt32
        var timestampMicroseconds: UInt64
        var authenticated: Bool
        var counter: UInt64
        var samples: [Sample]
    }
    struct Sample: Decodable, Sendable {
        var timeOffsetMicroseconds: UInt32
        var latitudeE7: Int32
        var longitudeE7: Int32
        var altitudeMM: Int32
        var velocityNorthCMS: Int16
        var velocityEastCMS: Int16
        var velocityDownCMS: Int16
        var headingCentidegrees: UInt16
        var batteryMillivolts: UInt16
        var batteryPercent: UInt8
        var satellites: UInt8
        var status: UInt32

        var wireSample: WireSample {
            WireSample(
                timeOffsetMicroseconds: timeOffsetMicroseconds, latitudeE7: latitudeE7, longitudeE7: longitudeE7,
                altitudeMM: altitudeMM, velocityNorthCMS: velocityNorthCMS, velocityEastCMS: velocityEastCMS,
                velocityDownCMS: velocityDownCMS, headingCentidegrees: headingCentidegrees,
                batteryMillivolts: batteryMillivolts, batteryPercent: batteryPercent, satellites: satellites,
                status: StatusFlags(rawValue: status))
        }
    }
    var name: String
    var description: String
    var hex: String
    var useKeys: Bool
    var accepted: [Frame]
    var rejected: [String]

    var testDescription: String { name }
    var bytes: [UInt8] { TelemetryWireTests.bytes(fromHex: hex) }
}

struct GoldenVectorFile: Decodable {
    var wireVersion: Int
    var crc32cCheckValue: String
    var keys: [String: String]
    var vectors: [GoldenVector]

    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/wire/vectors.json")

    static let shared: GoldenVectorFile = {
        do {
            return try JSONDecoder().decode(GoldenVectorFile.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    var droneKeys: DroneKeys {
        // swiftlint:disable:next force_try
        try! DroneKeys(Dictionary(uniqueKeysWithValues: keys.map { (UInt32($0.key)!, bytes(fromHex: $0.value)) }))
    }
}

func bytes(fromHex hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

@Suite("Golden vectors")
struct GoldenVectorTests {
    @Test("The vector file matches this implementation's version and CRC")
    func header() {
        let file = GoldenVectorFile.shared
        #expect(file.wireVersion == Int(WireFormat.version))
        #expect(UInt32(file.crc32cCheckValue, radix: 16) == CRC32C.checkValue)
        #expect(file.vectors.count >= 25)
        // Every rejection reason has at least one vector, except none.
        let covered = Set(file.vectors.flatMap(\.rejected))
        for reason in WireError.allCases {
            #expect(covered.contains("\(reason.name)"), "no golden vector for \(reason.name)")
        }
    }

    @Test("Each vector decodes to its recorded frames and reasons", arguments: GoldenVectorFile.shared.vectors)
    func decode(vector: GoldenVector) throws {
        let outcome: DecodeOutcome
        if vector.useKeys {
            var authenticator = HMACAuthenticator(keys: GoldenVectorFile.shared.droneKeys)
            outcome = decodeAll(vector.bytes, authenticator: &authenticator)
        } else {
            var authenticator = NoAuthentication()
            outcome = decodeAll(vector.bytes, authenticator: &authenticator)
        }
        #expect(outcome.rejected.map { "\($0.name)" } == vector.rejected)
        #expect(outcome.result.framesRejected == vector.rejected.count)
        #expect(outcome.result.framesAccepted == vector.accepted.count)
        #expect(outcome.result.bytesConsumed == vector.bytes.count)
        try #require(outcome.frames.count == vector.accepted.count)
        for (decoded, expected) in zip(outcome.frames, vector.accepted) {
            #expect(decoded.header.droneID == expected.droneID)
            #expect(decoded.header.sequence == expected.sequence)
            try #require(decoded.samples.count == expected.samples.count)
            for (index, sample) in expected.samples.enumerated() {
                var want = sample.wireSample
                #expect(decoded.timestamps[index] == expected.timestampMicroseconds &+ UInt64(want.timeOffsetMicroseconds))
                want.timeOffsetMicroseconds = 0
                #expect(decoded.samples[index] == want)
            }
        }
    }

    @Test("Accepted single-frame vectors re-encode to the same bytes", arguments: GoldenVectorFile.shared.vectors)
    func reencode(vector: GoldenVector) throws {
        guard vector.accepted.count == 1, vector.rejected.isEmpty else { return }
        let frame = vector.accepted[0]
        let header = FrameHeader(
            droneID: frame.droneID, sequence: frame.sequence, timestampMicroseconds: frame.timestampMicroseconds)
        let samples = frame.samples.map(\.wireSample)
        let encoded: [UInt8]
        if frame.authenticated {
            encoded = try FrameEncoder.encode(
                header: header, samples: samples, counter: frame.counter,
                authenticator: HMACAuthenticator(keys: GoldenVectorFile.shared.droneKeys))
        } else {
            encoded = FrameEncoder.encode(header: header, samples: samples)
        }
        #expect(encoded == vector.bytes)
    }
}
