import Foundation
import IngestFraming
import MAVLinkWire
import Telemetry
import TelemetryWire
import Testing

/// MAVLink bodies for `POST /api/telemetry`: a body of MAVLink 1/2 frames is split into
/// slot-sized datagrams of whole frames that concatenate back to the body; a frame that cannot be
/// framed (cut off, garbage, a wrong CRC, the other protocol) refuses the body with its index
/// and offset; intact frames the pipeline refuses for what they say pass on and are counted
/// there as on UDP. Frames are made with the project's own `MAVLinkEncoder`.
@Suite struct IngestBodyMAVLinkTests {
    /// One frame of `message` from `system` (component 1, the autopilot, unless told).
    static func encode(_ message: MAVLinkMessage, version: UInt8 = 2, sequence: UInt8 = 0, system: UInt8 = 1, component: UInt8 = 1) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let length = output.withUnsafeMutableBytes {
            MAVLinkEncoder.encode(message, version: version, sequence: sequence, systemID: system, componentID: component, into: $0)
        }
        return Array(output[0..<length])
    }

    static func position(system: UInt8, index: Int) -> MAVLinkMessage {
        .globalPositionInt(
            MAVLinkGlobalPositionInt(
                timeBootMilliseconds: UInt32(1_000 + index * 100), latitudeE7: 473_700_000 + Int32(index) * 10 + Int32(system) * 1_000,
                longitudeE7: 85_400_000 + Int32(index) * 10, altitudeMM: 400_000 + Int32(index), relativeAltitudeMM: 0, velocityX: 100,
                velocityY: -50, velocityZ: 0, heading: 9_000))
    }

    static let heartbeat = MAVLinkMessage.heartbeat(
        MAVLinkHeartbeat(customMode: 0, vehicleType: 2, autopilot: 3, baseMode: 0x81, systemStatus: 4))

    /// Positions from three systems, MAVLink 1 and 2 alternating, with heartbeats between.
    static func mixedFrames(count: Int) -> [[UInt8]] {
        (0..<count).map { index in
            let system = UInt8(1 + index % 3)
            let version: UInt8 = index % 2 == 0 ? 2 : 1
            let message = index % 7 == 0 ? heartbeat : position(system: system, index: index)
            return encode(message, version: version, sequence: UInt8(truncatingIfNeeded: index / 3), system: system)
        }
    }

    /// The frames a datagram holds, as the gateway's decoder frames them (nil on any rejection).
    static func frameCount(_ datagram: [UInt8]) -> Int? {
        var verifier = MAVLinkNoSigning()
        var rejected = false
        var frames = 0
        let columns = SampleColumns(capacity: 1_024)
        _ = datagram.withUnsafeBytes { bytes in
            MAVLinkDecoder().decodeDatagram(
                bytes, receivedMicroseconds: 1_767_225_600_000_000, into: columns, verifier: &verifier,
                onFrame: { _, _, _ in
                    frames += 1
                    return true
                }, onRejection: { _ in rejected = true })
        }
        return rejected ? nil : frames
    }

    static func message(_ body: [UInt8], datagramBytesMax: Int = 2_048) -> String? {
        do {
            _ = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: datagramBytesMax)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("whole frames per datagram, packed greedily, the body's bytes in order", arguments: [280, 300, 1_000, 2_048])
    func splitsIntoWholeFrames(datagramBytesMax: Int) throws {
        let frames = Self.mixedFrames(count: 300)
        let body = frames.flatMap { $0 }
        let datagrams = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: datagramBytesMax)
        #expect(datagrams.flatMap { $0 } == body)
        #expect(datagrams.allSatisfy { $0.count <= datagramBytesMax && !$0.isEmpty })
        let counts = datagrams.map(Self.frameCount)
        #expect(counts.allSatisfy { $0 != nil }, "every datagram frames cleanly")
        #expect(counts.reduce(0) { $0 + ($1 ?? 0) } == frames.count)
        // Greedy: a datagram closes only when the next frame would not fit.
        var next = 0
        for datagram in datagrams.dropLast() {
            next += Self.frameCount(datagram) ?? 0
            #expect(datagram.count + frames[next].count > datagramBytesMax)
        }
    }

    /// Cut at every offset: at a frame boundary the body is whole frames and passes; anywhere
    /// else the last frame is cut off, and the 400 names that frame and where it starts.
    @Test func truncatedAtEveryOffset() throws {
        let frames = Self.mixedFrames(count: 6)
        let body = frames.flatMap { $0 }
        var starts: [Int] = []
        var offset = 0
        for frame in frames {
            starts.append(offset)
            offset += frame.count
        }
        for cut in 1..<body.count {
            let prefix = Array(body[0..<cut])
            if let boundary = starts.firstIndex(of: cut) {
                let datagrams = try IngestBody.datagrams(fromBinary: prefix, datagramBytesMax: 2_048)
                #expect(datagrams.reduce(0) { $0 + (Self.frameCount($1) ?? -1_000) } == boundary)
            } else {
                let index = starts.lastIndex { $0 < cut }!
                let text = Self.message(prefix) ?? "accepted"
                #expect(text.hasPrefix("frame \(index) at byte \(starts[index]): truncated"), "cut at \(cut): \(text)")
            }
        }
    }

    @Test func badFramesNameTheirIndexAndOffset() throws {
        let frames = Self.mixedFrames(count: 5)
        let at3 = frames[0..<3].reduce(0) { $0 + $1.count }
        var damaged = frames
        damaged[3][damaged[3].count - 3] ^= 0x01  // a payload byte: the CRC no longer matches
        #expect(Self.message(damaged.flatMap { $0 }) == "frame 3 at byte \(at3): bad_crc (message id 33, CRC with CRC_EXTRA does not match)")

        var crcExtra = frames
        // A CRC computed without the message's CRC_EXTRA (a sender with another message layout).
        let end = crcExtra[3].count - MAVLinkFormat.checksumLength
        let withoutExtra = crcExtra[3].withUnsafeBytes {
            MAVLinkCRC.accumulate(UnsafeRawBufferPointer(rebasing: $0[1..<end]), into: MAVLinkCRC.seed)
        }
        crcExtra[3][end] = UInt8(truncatingIfNeeded: withoutExtra)
        crcExtra[3][end + 1] = UInt8(truncatingIfNeeded: withoutExtra >> 8)
        #expect(Self.message(crcExtra.flatMap { $0 })?.hasPrefix("frame 3 at byte \(at3): bad_crc") == true)

        let garbage = frames[0..<3].flatMap { $0 } + [0x00, 0x11] + frames[3]
        #expect(Self.message(garbage) == "frame 3 at byte \(at3): bad_magic (0x00 is not a MAVLink start byte)")

        let skygate = FrameEncoder.encode(
            header: FrameHeader(droneID: 1, sequence: 1, timestampMicroseconds: 1_767_225_600_000_000),
            samples: [WireSample(latitudeE7: 1, longitudeE7: 1, altitudeMM: 1, status: .gpsFix)])
        let mixed = frames[0..<3].flatMap { $0 } + skygate
        #expect(Self.message(mixed) == "frame 3 at byte \(at3): a Skygate frame in a MAVLink body: send one protocol per request")
        let mixedTheOtherWay = skygate + frames[0]
        #expect(
            Self.message(mixedTheOtherWay)
                == "frame 1 at byte \(skygate.count): a MAVLink frame in a Skygate body: send one protocol per request")

        #expect(Self.message([0x00, 0x01]) == "bad_magic: first byte 0x00 is neither the Skygate magic (0xA7) nor a MAVLink start byte (0xFD or 0xFE)")
        #expect(Self.message([])?.hasPrefix("empty body") == true)
        #expect(Self.message([0xFD])?.hasPrefix("frame 0 at byte 0: truncated") == true)
        #expect(Self.message([UInt8](frames[1].prefix(7)))?.hasPrefix("frame 0 at byte 0: truncated (declares") == true)
    }

}
