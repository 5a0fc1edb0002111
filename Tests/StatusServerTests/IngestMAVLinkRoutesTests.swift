import Foundation
import Hummingbird
import IngestFraming
import HummingbirdTesting
import MAVLinkWire
import StatusServer
import Telemetry
import TelemetryWire
import Testing

/// MAVLink bodies through `POST /api/telemetry` into a real `BatchProcessor`: what the framing
/// passes on, the pipeline counts with its reason, and a body that does not frame is a 400.
@Suite struct IngestMAVLinkRoutesTests {
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
    /// Intact frames the pipeline refuses pass on: an unknown message id (framed by its declared
    /// length), an unknown MAVLink 2 incompatibility flag, a gimbal's frames; a signed frame
    /// passes too (the processor checks signatures; without keys it takes it). Fed to a real
    /// `BatchProcessor`, each is counted with its reason and the accounting balances.
    @Test func refusedFramesPassOnToBeCounted() async throws {
        let position = Self.encode(Self.position(system: 9, index: 1), system: 9)
        var unknown = Self.encode(Self.heartbeat, system: 9)
        unknown[7] = 0x42  // message id 0x42 = 66, not mapped
        var flagged = Self.encode(Self.position(system: 9, index: 2), sequence: 1, system: 9)
        flagged[2] = 0x02  // an incompatibility flag this gateway does not know
        let gimbal = Self.encode(Self.position(system: 9, index: 3), sequence: 2, system: 9, component: 154)
        struct AnySigner: MAVLinkSignatureVerifier {
            func hasKey(systemID: UInt8) -> Bool { true }
            func requiresSigning(systemID: UInt8) -> Bool { false }
            func computeSignature(systemID: UInt8, message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool {
                for index in signature.indices { signature[index] = 0x5A }
                return true
            }
        }
        var signedOutput = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let signedLength = try #require(signedOutput.withUnsafeMutableBytes {
            MAVLinkEncoder.encodeSigned(
                Self.position(system: 9, index: 4), sequence: 3, systemID: 9, componentID: 1, linkID: 0, timestamp: 1_000, signer: AnySigner(),
                into: $0)
        })
        let signed = Array(signedOutput[0..<signedLength])
        let body = position + unknown + flagged + gimbal + signed
        let datagrams = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: 2_048)
        #expect(datagrams == [body])

        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        try await Application(router: StatusRoutes.makeRouter(source: source)).test(.router) { client in
            try await client.execute(
                uri: "/api/telemetry", method: .post, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .accepted)
                let reply = try response.body.json()
                #expect(reply["accepted_datagrams"] as? Int == 1 && reply["bytes"] as? Int == body.count)
            }
            var damaged = body
            damaged[position.count - 1] ^= 0xFF
            try await client.execute(
                uri: "/api/telemetry", method: .post, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: damaged)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.body.text.contains("frame 0 at byte 0: bad_crc"), "\(response.body.text)")
            }
        }
        let snapshot = source.counters.snapshot()
        #expect(snapshot.isBalanced)
        #expect(snapshot.received == 5 && snapshot.stored == 2 && snapshot.samplesStored == 2)
        #expect(snapshot.rejected[.mavlinkUnknownMessage] == 1)
        #expect(snapshot.rejected[.unknownFlags] == 1)
        #expect(snapshot.rejected[.mavlinkNotAutopilot] == 1)
        #expect(snapshot.datagramsReceived == 1, "the refused body never entered the pipeline")
        let drone = source.droneStatus(of: DroneIdentity(protocol: .mavlink, number: 9))
        #expect(drone?.framesReceived == 2 && drone?.samplesReceived == 2)
    }
}
