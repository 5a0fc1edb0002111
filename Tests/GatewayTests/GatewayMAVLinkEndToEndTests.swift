import FlightRecording
import Foundation
import Gateway
import Playback
import MAVLinkWire
import Telemetry
import TelemetryStore
import SkygateTestSupport
import Testing

/// A Python that has pymavlink: `$MAV_PY`, the benchmark venv `/tmp/venv-mav`, or `python3`; nil
/// when none does (the test is then skipped; `.ci/run` installs pymavlink so CI runs it).
let pymavlinkPython: String? = {
    var candidates: [String] = []
    if let fromEnvironment = ProcessInfo.processInfo.environment["MAV_PY"] { candidates.append(fromEnvironment) }
    candidates += ["/tmp/venv-mav/bin/python", "/usr/bin/env python3"]
    for candidate in candidates {
        let parts = candidate.split(separator: " ").map(String.init)
        guard FileManager.default.isExecutableFile(atPath: parts[0]) else { continue }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: parts[0])
        process.arguments = Array(parts.dropFirst()) + ["-c", "import pymavlink"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { continue }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return candidate }
    }
    return nil
}()

/// The real gateway fed by an outside MAVLink sender: `Scripts/mavlink_sender.py` encodes with
/// pymavlink six vehicles, MAVLink 1 and 2 mixed within each vehicle's stream, several frames per
/// datagram, some position frames damaged, some frames from a gimbal component and some unmapped
/// messages. Every intact GLOBAL_POSITION_INT must be stored exactly once with its exact position
/// under (mavlink, system id); every damaged frame counts as `bad_crc`, the gimbal's as
/// `mavlink_not_autopilot`, the unmapped as `mavlink_unknown_message`; every intact autopilot
/// frame (positions and state) is `stored`; and the accounting identity holds.
@Suite("Gateway end to end, MAVLink from pymavlink", .serialized)
struct GatewayMAVLinkEndToEndTests {
    struct SenderReport: Decodable {
        struct Counts: Decodable {
            var datagrams: Int
            var frames: Int
            var intact_autopilot_frames: Int
            var corrupted_frames: Int
            var other_component_frames: Int
            var unmapped_frames: Int
        }
        struct Position: Decodable, Hashable {
            var system: UInt32
            var lat: Int32
            var lon: Int32
            var alt: Int32
        }
        var counts: Counts
        var positions: [Position]
    }

    @Test("pymavlink vehicles, v1 and v2 mixed, damaged frames: every intact position stored once, exactly", .enabled(if: pymavlinkPython != nil))
    func pymavlinkFleet() throws {
        let directory = TemporaryDirectory()
        let gateway = try makeGateway(in: directory)
        gateway.start()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/mavlink_sender.py").path
        let reportPath = directory.file("sender.json")
        let parts = pymavlinkPython!.split(separator: " ").map(String.init)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: parts[0])
        process.arguments = Array(parts.dropFirst()) + [
            script, "--port", "\(gateway.udpPort)", "--vehicles", "6", "--datagrams", "150", "--seed", "5", "--out", reportPath,
        ]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the sender failed")
        let report = try JSONDecoder().decode(SenderReport.self, from: Data(contentsOf: URL(fileURLWithPath: reportPath)))
        let counts = report.counts
        #expect(counts.corrupted_frames > 0 && counts.other_component_frames > 0 && counts.unmapped_frames > 0)
        let arrived = waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(counts.datagrams) }
        try #require(arrived, "the gateway received \(gateway.counters.snapshot().datagramsReceived) of \(counts.datagrams) datagrams")
        let final = gateway.stop()

        #expect(final.isBalanced)
        #expect(final.received == UInt64(counts.frames))
        #expect(final.stored == UInt64(counts.intact_autopilot_frames))
        #expect(final.samplesStored == UInt64(report.positions.count))
        #expect(final.rejected[.badCRC] == UInt64(counts.corrupted_frames))
        #expect(final.rejected[.mavlinkNotAutopilot] == UInt64(counts.other_component_frames))
        #expect(final.rejected[.mavlinkUnknownMessage] == UInt64(counts.unmapped_frames))
        #expect(final.duplicate == 0 && final.droppedTotal == 0)

        let rows = try storedRows(gateway.configuration.databasePath)
        #expect(Set(rows.keys) == Set((1...6).map { DroneIdentity(protocol: .mavlink, number: $0) }))
        for system in UInt32(1)...6 {
            let stored = (rows[DroneIdentity(protocol: .mavlink, number: system)] ?? []).map {
                SenderReport.Position(system: system, lat: $0.sample.latitudeE7, lon: $0.sample.longitudeE7, alt: $0.sample.altitudeMM)
            }
            let sent = report.positions.filter { $0.system == system }
            #expect(stored.count == sent.count, "system \(system)")
            // Every intact position exactly once: the multisets agree.
            let key = { (p: SenderReport.Position) in "\(p.lat),\(p.lon),\(p.alt)" }
            #expect(stored.map(key).sorted() == sent.map(key).sorted(), "system \(system)")
        }
        // The live fleet shows them as MAVLink drones with a fix.
        let fleet = gateway.processor.fleet.snapshot()
        #expect(fleet.allSatisfy { $0.drone.protocol == .mavlink && $0.hasFix })
    }
}
