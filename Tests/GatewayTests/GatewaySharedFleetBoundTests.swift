import Foundation
import Gateway
import Telemetry
import TelemetryStore
import TelemetryWire
import SkygateTestSupport
import Testing

/// The shared `drone_latest` cannot be captured either (issue 20), on the real gateway over
/// loopback UDP with a PostgreSQL store and a fleet table of 32 rows (`offlineAfter` 1 s): 100
/// spoofed ids arrive (32 stored, 68 `too_many_drones`) and go silent; a real fleet of 20 then
/// flies, takes their rows in the gateway's table, and keeps flying. `drone_latest` held every id
/// ever stored (52 here); now the 20 flood drones offline longest are deleted (counted
/// `drones_latest_pruned`), so it holds 32 rows, the merged `/api/drones` lists 32 drones with
/// the whole real fleet, every real sample is stored and the accounting balances.
@Suite("Shared drone_latest bound", .serialized)
struct GatewaySharedFleetBoundTests {
    @Test(
        "A flood of spoofed ids leaves drone_latest once offline: 32 rows, the real fleet complete",
        .enabled(if: PostgresServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh)"))
    func floodIsPrunedFromTheSharedFleet() throws {
        let directory = TemporaryDirectory()
        let database = try PostgresServer.freshDatabase()
        defer { PostgresServer.drop(database) }
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = PostgresServer.url(of: database)
        configuration.databasePasswordFile = PostgresServer.passwordFile
        configuration.spillPath = directory.file("gateway.spill")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.limits.dronesMax = 32
        configuration.offlineAfterSeconds = 1
        let gateway = try Gateway(configuration: configuration)
        gateway.start()

        let floodCount = 100
        let now = SystemClock.realtimeMicroseconds()
        let flood = (0..<floodCount).map { index in
            FrameEncoder.encode(
                header: FrameHeader(droneID: 5_000_000 + UInt32(index), sequence: 0, timestampMicroseconds: now),
                samples: [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
        }
        sendRaw(flood, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(floodCount) })
        usleep(1_300_000)

        // The real fleet, then the same fleet a little later (it keeps flying past the prune interval).
        let first = try fly(drones: 20, rate: 10, duration: 2, firstDroneID: 1, port: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(floodCount + first.totals.datagramsSent) })
        usleep(UInt32(Limits.Postgres.latestPruneInterval.microsecondsClamped) + 300_000)
        let second = try fly(drones: 20, rate: 10, duration: 1, seed: 8, firstDroneID: 1, port: gateway.udpPort)
        let sent = UInt64(floodCount + first.totals.datagramsSent + second.totals.datagramsSent)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= sent })
        let pruned = waitUntil { gateway.statsReport().drones_latest_pruned >= 20 }
        #expect(pruned, "pruned \(gateway.statsReport().drones_latest_pruned)")

        // The merged fleet: 32 drones, every real one among them (the view refreshes every 250 ms).
        let merged = waitUntil { gateway.droneStatuses().count == 32 }
        let drones = gateway.droneStatuses()
        #expect(merged && drones.count == 32, "\(drones.count) drones listed")
        #expect(drones.filter { $0.drone.number < 5_000_000 }.count == 20)
        let report = gateway.statsReport()
        let final = gateway.stop()

        #expect(final.isBalanced && final.received == sent)
        #expect(final.rejected[.tooManyDrones] == UInt64(floodCount - 32))
        #expect(report.drones_latest_pruned == 20 && final.dronesEvicted == 20)
        let store = try gateway.openStoreForReading()
        defer { store.close() }
        let shared = try #require(store as? any SharedFleetReading)
        let latest = try shared.sharedFleet()
        #expect(latest.count == 32, "drone_latest holds \(latest.count) rows")
        var rows: [UInt32: Int] = [:]
        try store.readSamples { page in
            for row in page { rows[row.drone.number, default: 0] += 1 }
            return true
        }
        for (index, drone) in first.drones.enumerated() {
            let expected = drone.counts.samplesIntact + second.drones[index].counts.samplesIntact
            #expect(rows[drone.droneID] == expected, "drone \(drone.droneID): \(rows[drone.droneID] ?? 0) of \(expected)")
        }
        #expect(rows.keys.filter { $0 >= 5_000_000 }.count == 32, "the flood's stored samples stay (only drone_latest is pruned)")
    }
}
