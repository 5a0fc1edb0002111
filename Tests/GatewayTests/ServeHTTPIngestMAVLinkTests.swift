import Foundation
import MAVLinkWire
import SkygateTestSupport
import Telemetry
import TelemetryStore
import Testing

/// MAVLink through `POST /api/telemetry` on the real `skygate serve`, as a ground station that
/// forwards its link would post it: GLOBAL_POSITION_INT frames from four vehicles (MAVLink 1 and
/// 2 mixed, encoded with the project's `MAVLinkEncoder`), with heartbeats, a gimbal's frames and
/// unmapped messages among them. Every position shows in `/api/drones` under (mavlink, system
/// id) with its last position, the refused frames are counted with their reasons, a damaged body
/// is refused whole with 400, the accounting balances while serving and after SIGTERM, and the
/// database holds every position exactly once. Without `--record` the stats have no recorder.
@Suite("serve: MAVLink over HTTP ingest", .serialized)
struct ServeHTTPIngestMAVLinkTests {
    static func encode(_ message: MAVLinkMessage, version: UInt8, sequence: UInt8, system: UInt8, component: UInt8 = 1) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let length = output.withUnsafeMutableBytes {
            MAVLinkEncoder.encode(message, version: version, sequence: sequence, systemID: system, componentID: component, into: $0)
        }
        return Array(output[0..<length])
    }

    static func position(system: UInt8, index: Int) -> MAVLinkGlobalPositionInt {
        MAVLinkGlobalPositionInt(
            timeBootMilliseconds: UInt32(60_000 + index * 200), latitudeE7: 473_700_000 + Int32(system) * 10_000 + Int32(index) * 50,
            longitudeE7: 85_400_000 + Int32(index) * 50, altitudeMM: 420_000 + Int32(index) * 10, relativeAltitudeMM: 20_000,
            velocityX: 250, velocityY: 250, velocityZ: 0, heading: 4_500)
    }

    @Test("positions from four vehicles are live, stored once, and the accounting balances")
    func mavlinkBodies() async throws {
        let directory = TemporaryDirectory()
        let database = directory.file("serve.db")
        let server = try ServeProcess(database: database)
        try #require(server.isServing, "serve did not start: \(server.text)")

        let systems: [UInt8] = [11, 12, 13, 14]
        let positionsPerSystem = 50
        var body: [UInt8] = []
        var sequences = [UInt8: UInt8]()
        func append(_ message: MAVLinkMessage, version: UInt8, system: UInt8, component: UInt8 = 1) {
            let sequence = sequences[system, default: 0]
            sequences[system] = sequence &+ 1
            body += Self.encode(message, version: version, sequence: sequence, system: system, component: component)
        }
        let heartbeat = MAVLinkMessage.heartbeat(MAVLinkHeartbeat(customMode: 4, vehicleType: 2, autopilot: 3, baseMode: 0x81, systemStatus: 4))
        for system in systems { append(heartbeat, version: 2, system: system) }
        for index in 0..<positionsPerSystem {
            for system in systems {
                append(.globalPositionInt(Self.position(system: system, index: index)), version: index % 2 == 0 ? 2 : 1, system: system)
            }
        }
        // Refused by the pipeline, not by the body check: a gimbal's positions and unmapped messages.
        for index in 0..<5 {
            body += Self.encode(.globalPositionInt(Self.position(system: 11, index: index)), version: 2, sequence: UInt8(index), system: 11, component: 154)
        }
        for index in 0..<3 {
            var unmapped = Self.encode(heartbeat, version: 2, sequence: UInt8(index), system: 12)
            unmapped[7] = 0x42  // message id 66: not mapped
            body += unmapped
        }
        let autopilotFrames = systems.count * (1 + positionsPerSystem)
        let units = autopilotFrames + 5 + 3

        let (status, reply) = try await server.post("/api/telemetry", body: body, contentType: "application/octet-stream")
        #expect(status == 202, "\(String(decoding: reply, as: UTF8.self))")
        let accepted = try JSONSerialization.jsonObject(with: reply) as? [String: Any]
        let datagrams = try #require(accepted?["accepted_datagrams"] as? Int)
        #expect(datagrams >= body.count / 2_048 + 1 && accepted?["bytes"] as? Int == body.count)

        // A damaged copy is refused whole and never reaches the pipeline.
        var damaged = body
        damaged[40] ^= 0xFF
        let (badStatus, badReply) = try await server.post("/api/telemetry", body: damaged, contentType: "application/octet-stream")
        #expect(badStatus == 400)
        #expect(String(decoding: badReply, as: UTF8.self).contains("bad_crc"), "\(String(decoding: badReply, as: UTF8.self))")

        let stats = try await server.poll("/api/stats") { stats in
            stats["stored"] as? Int == autopilotFrames && stats["balanced"] as? Bool == true
        }
        #expect(stats["received"] as? Int == units)
        #expect(stats["stored"] as? Int == autopilotFrames)
        #expect(stats["samples_stored"] as? Int == systems.count * positionsPerSystem)
        #expect(stats["balanced"] as? Bool == true)
        #expect(stats["datagrams_received"] as? Int == datagrams)
        #expect(stats["bytes_received"] as? Int == body.count)
        let rejected = stats["rejected"] as? [String: Int] ?? [:]
        #expect(rejected["mavlink_not_autopilot"] == 5 && rejected["mavlink_unknown_message"] == 3)
        #expect(rejected.filter { $0.key != "mavlink_not_autopilot" && $0.key != "mavlink_unknown_message" }.values.allSatisfy { $0 == 0 })
        #expect(stats["recorder"] == nil, "no recorder object without --record")

        let fleet = try await server.json("/api/drones")
        let drones = (fleet["drones"] as? [[String: Any]] ?? []).filter { $0["protocol"] as? String == "mavlink" }
        #expect(Set(drones.compactMap { $0["id"] as? Int }) == Set(systems.map(Int.init)))
        for drone in drones {
            let system = UInt8(drone["id"] as? Int ?? 0)
            let last = Self.position(system: system, index: positionsPerSystem - 1)
            #expect(drone["frames_received"] as? Int == 1 + positionsPerSystem, "\(drone)")
            #expect(drone["samples_received"] as? Int == positionsPerSystem)
            #expect(abs((drone["lat"] as? Double ?? 0) - Double(last.latitudeE7) / 1e7) < 1e-6)
            #expect(abs((drone["lon"] as? Double ?? 0) - Double(last.longitudeE7) / 1e7) < 1e-6)
        }
        let metrics = String(decoding: try await server.get("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("skygate_protocol_samples_received_total{protocol=\"mavlink\"} \(systems.count * positionsPerSystem)"))
        #expect(!metrics.contains("skygate_recorder_"), "no recorder metrics without --record")

        let (exit, output) = server.terminate()
        #expect(exit == 0, "\(output)")
        #expect(output.contains("(balanced)"), "\(output)")
        let rows = try storedRows(database)
        for system in systems {
            let stored = rows[DroneIdentity(protocol: .mavlink, number: UInt32(system))] ?? []
            #expect(stored.count == positionsPerSystem)
            let sent = (0..<positionsPerSystem).map { Self.position(system: system, index: $0) }
            #expect(
                Set(stored.map { [$0.sample.latitudeE7, $0.sample.longitudeE7, $0.sample.altitudeMM] })
                    == Set(sent.map { [$0.latitudeE7, $0.longitudeE7, $0.altitudeMM] }))
        }
    }
}
