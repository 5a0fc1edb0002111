import FlightRecording
import Foundation
import SkygateTestSupport
import Telemetry
import TelemetryStore
import Testing

/// `skygate replay FILE --db` for the autopilot logs and captures in Fixtures/flights, through the
/// real executable and the one replay path: every position the reference readers find (pyulog for
/// the ULog, pymavlink for the DataFlash log and the MAVLink inside the captures; figures pinned
/// from the summaries beside the files, which `Tests/FlightRecordingTests/AutopilotLogTests` checks
/// against the readers themselves) is stored under (mavlink, 1), with its position, and for the
/// logs with its GPS time in UTC; the accounting balances. `skygate inspect` names the format and
/// the positions found.
@Suite("Replay autopilot logs and captures into a database", .serialized)
struct AutopilotLogReplayTests {
    static let flightsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flights").path

    struct Expected: Sendable {
        var file: String
        var count: Int
        /// (UTC µs or nil when the stored time is the gateway's boot-clock estimate, lat, lon, alt mm).
        var first: (UInt64?, Int32, Int32, Int32)
        var last: (UInt64?, Int32, Int32, Int32)
    }

    static let expected: [Expected] = [
        Expected(
            file: "pyulog_sample_log_small.ulg", count: 32, first: (1_618_986_658_600_345, 634_170_622, 104_082_151, 66_814),
            last: (1_618_986_664_800_341, 634_170_457, 104_082_271, 62_977)),
        Expected(
            file: "dataflashlog_log.bin", count: 254, first: (1_505_040_562_800_000, 520_381_699, 51_448_234, 3_520),
            last: (1_505_040_613_400_000, 520_384_246, 51_456_054, -2_600)),
        Expected(file: "ardusub_log_tools_small_dataflash.bin", count: 0, first: (nil, 0, 0, 0), last: (nil, 0, 0, 0)),
        Expected(
            file: "thayer_parsers_longerRun.pcap", count: 161, first: (nil, 437_134_512, -722_849_689, 147_551),
            last: (nil, 437_136_204, -722_851_511, 147_323)),
        Expected(file: "ipal_transcriber_MAVLink.pcap", count: 1, first: (nil, 0, 0, 0), last: (nil, 0, 0, 0)),
    ]

    @Test("replay --db stores every position the reference reader finds", arguments: expected.map(\.file))
    func replayIntoDatabase(file: String) throws {
        let expected = Self.expected.first { $0.file == file }!
        let directory = TemporaryDirectory()
        let database = directory.file("flight.db")
        let replay = try SkygateProcess.run(["replay", Self.flightsDirectory + "/" + file, "--db", database])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("(balanced)"), "\(replay.output)")
        let rows = try storedRows(database)
        let stored = (rows[DroneIdentity(protocol: .mavlink, number: 1)] ?? []).sorted { $0.timestampMicroseconds < $1.timestampMicroseconds }
        #expect(stored.count == expected.count, "\(file): \(replay.output)")
        #expect(Set(rows.keys.map(\.number)).isSubset(of: [1]))
        guard let first = stored.first, let last = stored.last else { return }
        #expect((first.sample.latitudeE7, first.sample.longitudeE7, first.sample.altitudeMM) == (expected.first.1, expected.first.2, expected.first.3))
        #expect((last.sample.latitudeE7, last.sample.longitudeE7, last.sample.altitudeMM) == (expected.last.1, expected.last.2, expected.last.3))
        if let time = expected.first.0 { #expect(first.timestampMicroseconds == time) }
        if let time = expected.last.0 { #expect(last.timestampMicroseconds == time) }
    }

    @Test("inspect names the format and the positions found", arguments: expected.map(\.file))
    func inspect(file: String) throws {
        let expected = Self.expected.first { $0.file == file }!
        let result = try SkygateProcess.run(["inspect", Self.flightsDirectory + "/" + file, "--json"])
        #expect(result.status == 0, "\(result.output)")
        let inventory = try JSONDecoder().decode(RecordingInventory.self, from: Data(result.output.utf8))
        #expect(inventory.log?.positions == expected.count)
        #expect(inventory.read.isIntact)
        let text = try SkygateProcess.run(["inspect", Self.flightsDirectory + "/" + file])
        #expect(text.output.contains("positions: \(expected.count)"), "\(text.output)")
        #expect(text.output.contains(inventory.format.title))
    }
}
