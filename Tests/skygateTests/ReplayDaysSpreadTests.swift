import FlightRecording
import Foundation
import SkygateTestSupport
import Telemetry
import TelemetryWire
import Testing

/// A batch spanning too many days is never refused whole (issue 20), end to end with the real
/// `skygate replay --db` and `skygate export`: one recording holds a normal fleet (10 drones, 30
/// frames each, on one day) interleaved with a sender spreading its 120 frames over the 120 days
/// before, all received within 50 ms, so the replay commits them as one batch spanning 121 days.
/// SQLite stores every frame. PostgreSQL (which creates at most 64 daily partitions per batch)
/// keeps the batch's 64 most populated days, the fleet's and the spreader's 63 latest, and refuses
/// the spreader's 57 other frames as `batch_days_exceeded`; before, the whole batch was refused
/// (`store_failed`) and the fleet lost. Both: the fleet's rows complete, the accounting balanced.
@Suite("Replay of a recording spread over months", .serialized)
struct ReplayDaysSpreadTests {
    static let fleetDrones: UInt32 = 10
    static let framesPerDrone = 30
    static let spreaderDrone: UInt32 = 900
    static let spreadDays = 120
    /// The fleet's day: 2026-11-01 12:00 UTC (replay keeps a recording's history).
    static let fleetStartMicroseconds: UInt64 = 1_793_534_400_000_000
    static let dayMicroseconds: UInt64 = 86_400_000_000

    /// Writes the recording and returns its path.
    static func writeRecording(in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("spread.skyrec")
        let receivedStart: UInt64 = 1_793_534_500_000_000_000
        let writer = try RecordingWriter(path: path, startNanoseconds: receivedStart, gatewayVersion: "test")
        var received = receivedStart
        var spreadSent = 0
        func append(_ frame: [UInt8]) throws {
            received += 100_000  // 100 µs apart: 420 datagrams in 42 ms, one batch
            try frame.withUnsafeBytes { bytes in
                try writer.append(receivedNanoseconds: received, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: bytes)
            }
        }
        for step in 0..<framesPerDrone {
            for drone in 1...fleetDrones {
                let time = fleetStartMicroseconds + UInt64(step) * 100_000 + UInt64(drone) * 1_000
                try append(
                    FrameEncoder.encode(
                        header: FrameHeader(droneID: drone, sequence: UInt32(step), timestampMicroseconds: time),
                        samples: [WireSample(latitudeE7: 473_977_000 + Int32(step), longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)]))
                // Four spreader frames for every ten fleet frames, one day further back each.
                if drone % 5 == 0 || drone % 5 == 2, spreadSent < spreadDays {
                    spreadSent += 1
                    let time = fleetStartMicroseconds - UInt64(spreadSent) * dayMicroseconds
                    try append(
                        FrameEncoder.encode(
                            header: FrameHeader(droneID: spreaderDrone, sequence: UInt32(spreadSent), timestampMicroseconds: time),
                            samples: [WireSample(latitudeE7: 100_000_000, longitudeE7: 100_000_000, altitudeMM: 1_000, status: .gpsFix)]))
                }
            }
        }
        #expect(spreadSent == spreadDays)
        try writer.close()
        return path
    }

    /// The counts in `replay`'s final accounting lines.
    static func accounting(_ output: String) -> (balanced: Bool, stored: Int, rejected: [String: Int]) {
        var stored = -1
        var rejected: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("final accounting:"), let at = words.firstIndex(of: "stored"), at + 1 < words.count {
                stored = Int(words[at + 1]) ?? -1
            }
            if line.hasPrefix("  rejected "), words.count == 3 {
                rejected[String(words[1].dropLast())] = Int(words[2])
            }
        }
        return (output.contains("(balanced)"), stored, rejected)
    }

    /// Exported rows per drone number.
    static func exportedRows(_ arguments: [String]) throws -> [UInt32: [UInt64]] {
        let export = try SkygateProcess.run(["export"] + arguments + ["--format", "csv"])
        #expect(export.status == 0, "\(export.output)")
        var rows: [UInt32: [UInt64]] = [:]
        for line in export.output.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > 3, let drone = UInt32(fields[1]), let time = UInt64(fields[3]) else { continue }
            rows[drone, default: []].append(time)
        }
        return rows
    }

    static func expectFleetComplete(_ rows: [UInt32: [UInt64]]) {
        for drone in 1...fleetDrones {
            #expect(rows[drone]?.count == framesPerDrone, "fleet drone \(drone): \(rows[drone]?.count ?? 0) rows")
        }
    }

    @Test("SQLite: every frame of the fleet and the spreader is stored")
    func sqliteStoresEverything() throws {
        let directory = TemporaryDirectory()
        let recording = try Self.writeRecording(in: directory)
        let database = directory.file("replayed.db")
        let replay = try SkygateProcess.run(["replay", recording, "--db", database])
        #expect(replay.status == 0, "\(replay.output)")
        let counts = Self.accounting(replay.output)
        let total = Int(Self.fleetDrones) * Self.framesPerDrone + Self.spreadDays
        #expect(counts.balanced && counts.stored == total && counts.rejected.isEmpty, "\(replay.output)")
        let rows = try Self.exportedRows(["--db", database])
        Self.expectFleetComplete(rows)
        #expect(rows[Self.spreaderDrone]?.count == Self.spreadDays)
    }

    @Test(
        "PostgreSQL: the fleet and the spreader's 63 latest days stored, its 57 other frames batch_days_exceeded",
        .enabled(if: PostgresServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh)"))
    func postgresIsolatesTheDaysBeyondItsPartitions() throws {
        let directory = TemporaryDirectory()
        let recording = try Self.writeRecording(in: directory)
        let database = try PostgresServer.freshDatabase()
        defer { PostgresServer.drop(database) }
        let passwordFile = try #require(PostgresServer.passwordFile)
        let target = ["--db", PostgresServer.url(of: database), "--db-password-file", passwordFile]
        let replay = try SkygateProcess.run(["replay", recording] + target)
        #expect(replay.status == 0, "\(replay.output)")
        let counts = Self.accounting(replay.output)
        let partitionsMax = Limits.Postgres.partitionsPerBatchMax
        let refused = Self.spreadDays - (partitionsMax - 1)
        #expect(refused == 57)
        #expect(counts.balanced, "\(replay.output)")
        #expect(counts.rejected == ["batch_days_exceeded": refused], "\(replay.output)")
        #expect(counts.stored == Int(Self.fleetDrones) * Self.framesPerDrone + partitionsMax - 1, "\(replay.output)")
        let rows = try Self.exportedRows(target)
        Self.expectFleetComplete(rows)
        // The spreader's days kept are the latest 63 (ties between days of one row go to the later day).
        let kept = Set((rows[Self.spreaderDrone] ?? []).map { $0 / Self.dayMicroseconds })
        let fleetDay = Self.fleetStartMicroseconds / Self.dayMicroseconds
        #expect(kept == Set((1...UInt64(partitionsMax - 1)).map { fleetDay - $0 }))
    }
}
