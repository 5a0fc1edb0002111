import Foundation
import Gateway
import Telemetry
import TelemetryWire
import SkygateTestSupport
import Testing

/// The fleet table cannot be captured (issue 20), on the real gateway over loopback UDP: a flood
/// of distinct spoofed drone ids fills a small table (`dronesMax` 32) and goes silent; once its
/// drones are offline (`offlineAfter`, 1 s here) a real fleet arrives and takes their rows. Every
/// sample of the real fleet must be stored, the evictions and refusals counted, and the
/// accounting balanced.
@Suite("Gateway fleet eviction", .serialized)
struct GatewayFleetEvictionTests {
    @Test("A silent flood of spoofed ids gives its rows to a real fleet once offline; every real sample is stored")
    func floodThenRealFleet() throws {
        let directory = TemporaryDirectory()
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.limits.dronesMax = 32
        configuration.offlineAfterSeconds = 1
        #expect(configuration.limits.droneOfflineAfter == .seconds(1), "one value for the page and the table")
        let gateway = try Gateway(configuration: configuration)
        gateway.start()

        // The flood: 200 distinct ids, one fresh untagged frame each.
        let floodCount = 200
        let now = SystemClock.realtimeMicroseconds()
        let flood = (0..<floodCount).map { index in
            FrameEncoder.encode(
                header: FrameHeader(droneID: 5_000_000 + UInt32(index), sequence: 0, timestampMicroseconds: now),
                samples: [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
        }
        sendRaw(flood, to: gateway.udpPort)
        let floodArrived = waitUntil {
            let snapshot = gateway.counters.snapshot()
            return snapshot.datagramsReceived >= UInt64(floodCount) && snapshot.received >= UInt64(floodCount)
        }
        #expect(floodArrived, "the gateway received \(gateway.counters.snapshot().datagramsReceived) of \(floodCount)")
        let afterFlood = gateway.counters.snapshot()
        #expect(gateway.processor.fleet.count == 32)
        #expect(afterFlood.rejected[.tooManyDrones]! > 0)

        // The flood is silent now; the real fleet comes once its drones are offline.
        usleep(1_300_000)
        let summary = try fly(drones: 20, rate: 10, duration: 2, firstDroneID: 1, port: gateway.udpPort)
        let sent = UInt64(floodCount + summary.totals.datagramsSent)
        // Received and processed (as for the flood above): the report below is read while the
        // gateway runs, so it must not race the processor's last batch.
        let arrived = waitUntil {
            let snapshot = gateway.counters.snapshot()
            return snapshot.datagramsReceived >= sent && snapshot.received >= sent
        }
        #expect(arrived)
        let report = gateway.statsReport()
        let final = gateway.stop()

        #expect(final.isBalanced && final.received == sent)
        // Every flood frame was stored or refused; the real fleet took 20 rows from it.
        #expect(final.rejected[.tooManyDrones]! + 32 + afterFlood.dronesEvicted == UInt64(floodCount))
        #expect(final.dronesEvicted == afterFlood.dronesEvicted + 20)
        #expect(report.drones_evicted == final.dronesEvicted)
        #expect(final.samplesStored == UInt64(floodCount) - final.rejected[.tooManyDrones]! + UInt64(summary.totals.samplesIntact))
        let rows = try storedRows(configuration.databasePath)
        for drone in summary.drones {
            let stored = rows[DroneIdentity(protocol: .skygate, number: drone.droneID)] ?? []
            #expect(stored.count == drone.counts.samplesIntact && stored.count > 0, "drone \(drone.droneID)")
        }
        let fleet = gateway.processor.fleet.snapshot()
        #expect(fleet.count == 32 && fleet.filter { $0.drone.number < 5_000_000 }.count == 20)
    }
}
