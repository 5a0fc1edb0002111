import DroneSimulator
import FlightRecording
import Foundation
import Gateway
import Playback
import Telemetry
import TelemetryStore
import SkygateTestSupport
import Testing

/// `skygate replay --db` as users run it (the real executable, temp databases): the same file
/// replayed into two empty databases exports identically (a Skygate recording of a faulty
/// simulated fleet, and a real .tlog); each real flight in Fixtures/flights stores every
/// GLOBAL_POSITION_INT of its autopilot with the counts and first and last positions of the
/// pymavlink summary beside it; `skygate inspect --json` reports the summary's record count and span.
@Suite("Replay into a database", .serialized)
struct ReplayEndToEndTests {
    static let flightsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flights").path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) { try SkygateProcess.run(arguments) }

    /// A Skygate recording of a seeded fleet with duplicated, reordered and corrupted datagrams,
    /// received 1 ms apart.
    static func makeFleetRecording(at path: String) throws -> Int {
        var configuration = FleetConfiguration(droneCount: 20, sampleRateHz: 10, durationSeconds: 8, samplesPerDatagram: 2, seed: 3)
        configuration.faults = LinkFaults(lossFraction: 0.02, corruptFraction: 0.03, duplicateFraction: 0.05, reorderFraction: 0.05)
        let fleet = FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(keys: .init(), startTimeMicroseconds: configuration.startTimeMicroseconds))
        var sink = MemoryDatagramSink()
        _ = SimulationRunner.run(fleet, into: &sink, clock: MonotonicClock(), pacing: .asFastAsPossible)
        let start = configuration.startTimeMicroseconds * 1_000
        let writer = try RecordingWriter(path: path, startNanoseconds: start, gatewayVersion: "test")
        for (index, datagram) in sink.datagrams.enumerated() {
            try datagram.withUnsafeBytes { bytes in
                try writer.append(
                    receivedNanoseconds: start + UInt64(index) * 1_000_000, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: bytes)
            }
        }
        try writer.close()
        return sink.datagrams.count
    }

    @Test("The same file replayed into two empty databases exports identical data")
    func determinism() throws {
        let directory = TemporaryDirectory()
        let recording = directory.file("fleet.skyrec")
        let datagrams = try Self.makeFleetRecording(at: recording)
        #expect(datagrams > 800, "20 drones × 80 samples, two per datagram, plus duplicates")
        for file in [recording, Self.flightsDirectory + "/ardusub_log_tools_small.tlog"] {
            var exports: [String] = []
            for name in ["first.db", "second.db"] {
                let database = directory.file(name)
                try? FileManager.default.removeItem(atPath: database)
                let replay = try Self.run(["replay", file, "--db", database])
                #expect(replay.status == 0, "\(replay.output)")
                #expect(replay.output.contains("(balanced)"), "\(replay.output)")
                let export = try Self.run(["export", "--db", database, "--format", "csv"])
                #expect(export.status == 0)
                exports.append(export.output)
            }
            #expect(exports[0].split(separator: "\n").count > 100, "\(file): too few rows exported")
            #expect(exports[0] == exports[1], "\(file): the two replays differ")
        }
    }

    @Test(
        "A real flight stores every GLOBAL_POSITION_INT: counts, fixes, first and last positions as the summary says",
        arguments: ["dronekit-python_flight", "ardusub_log_tools_small"])
    func realFlight(name: String) throws {
        let directory = TemporaryDirectory()
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.flightsDirectory + "/\(name).summary.json"))
        let summary = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let positions = (summary["global_position_int"] as! [String: Any])["by_system"] as! [String: [String: Any]]
        let database = directory.file("flight.db")
        let replay = try Self.run(["replay", Self.flightsDirectory + "/\(name).tlog", "--db", database])
        #expect(replay.status == 0, "\(replay.output)")
        let rows = try storedRows(database)
        for (system, expected) in positions {
            let stored = rows[DroneIdentity(protocol: .mavlink, number: UInt32(system)!)] ?? []
            let count = expected["count"] as! Int
            let zeros = expected["zero_latlon"] as? Int ?? 0
            #expect(stored.count == count, "system \(system): \(replay.output)")
            let fixes = stored.filter { $0.sample.latitudeE7 != 0 || $0.sample.longitudeE7 != 0 }
            #expect(fixes.count == count - zeros, "system \(system)")
            let first = (expected["first_nonzero"] ?? expected["first"]) as! [String: Any]
            let last = expected["last"] as! [String: Any]
            #expect(fixes.first?.sample.latitudeE7 == Int32(first["lat"] as! Int) && fixes.first?.sample.longitudeE7 == Int32(first["lon"] as! Int))
            #expect(fixes.first?.sample.altitudeMM == Int32(first["alt"] as! Int))
            #expect(fixes.last?.sample.latitudeE7 == Int32(last["lat"] as! Int) && fixes.last?.sample.longitudeE7 == Int32(last["lon"] as! Int))
            #expect(fixes.last?.sample.altitudeMM == Int32(last["alt"] as! Int))
        }
        // Only the vehicles with positions have rows (ground stations and radios send none).
        #expect(Set(rows.keys.map(\.number)) == Set(positions.keys.compactMap { UInt32($0) }))
    }

    @Test("skygate inspect --json agrees with the summary's records, span and systems", arguments: ["dronekit-python_flight", "ardusub_log_tools_small"])
    func inspect(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.flightsDirectory + "/\(name).summary.json"))
        let summary = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let framing = summary["framing"] as! [String: Any]
        let result = try Self.run(["inspect", Self.flightsDirectory + "/\(name).tlog", "--json"])
        #expect(result.status == 0)
        let inventory = try JSONDecoder().decode(RecordingInventory.self, from: Data(result.output.utf8))
        #expect(inventory.datagrams == framing["records"] as! Int)
        #expect(inventory.firstNanoseconds == UInt64(framing["first_us"] as! Int) * 1_000)
        #expect(inventory.lastNanoseconds == UInt64(framing["last_us"] as! Int) * 1_000)
        #expect(inventory.read.trailingBytes == framing["trailing_bytes"] as! Int)
        #expect(Set(inventory.drones.map(\.id)) == Set((summary["system_ids"] as! [Int]).map(UInt32.init)))
        let text = try Self.run(["inspect", Self.flightsDirectory + "/\(name).tlog"])
        #expect(text.output.contains("datagrams: \(framing["records"] as! Int)"))
    }
}
