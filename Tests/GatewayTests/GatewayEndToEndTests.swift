import DroneSimulator
import Foundation
import Gateway
import Playback
import Telemetry
import TelemetryStore
import TelemetryWire
import SkygateTestSupport
import Testing

/// The real gateway (socket, ring, processor, SQLite writer threads) on ephemeral loopback ports
/// with a temporary database, fed by the seeded simulator. What is stored must equal what the
/// simulator says it sent intact, drone by drone, and every datagram must have one outcome.
@Suite("Gateway end to end", .serialized)
struct GatewayEndToEndTests {
    @Test("A faulty seeded fleet is stored exactly: counts, first and last positions, accounting")
    func seededFleetWithFaults() throws {
        let directory = TemporaryDirectory()
        let gateway = try makeGateway(in: directory)
        gateway.start()
        let faults = LinkFaults(
            lossFraction: 0.05, corruptFraction: 0.05, duplicateFraction: 0.05, reorderFraction: 0.05,
            outageRatePerMinute: 2, outageDurationSeconds: 1)
        let summary = try fly(drones: 40, rate: 10, duration: 6, samplesPerDatagram: 2, faults: faults, port: gateway.udpPort)
        let totals = summary.totals
        #expect(totals.datagramsCorrupted > 0 && totals.datagramsDuplicated > 0 && totals.datagramsLost > 0)
        let arrived = waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(totals.datagramsSent) }
        #expect(arrived, "the gateway received \(gateway.counters.snapshot().datagramsReceived) of \(totals.datagramsSent) datagrams")
        let final = gateway.stop()

        #expect(final.isBalanced)
        #expect(final.received == UInt64(totals.datagramsSent))
        #expect(final.stored == UInt64(totals.datagramsIntact))
        #expect(final.samplesStored == UInt64(totals.samplesIntact))
        #expect(final.duplicate == UInt64(totals.datagramsDuplicated))
        #expect(final.rejected[.badCRC] == UInt64(totals.datagramsCorrupted))
        #expect(final.droppedTotal == 0)

        let rows = try storedRows(gateway.configuration.databasePath)
        for drone in summary.drones {
            let stored = rows[DroneIdentity(protocol: .skygate, number: drone.droneID)] ?? []
            #expect(stored.count == drone.counts.samplesIntact, "drone \(drone.droneID)")
            guard let first = drone.firstIntact, let last = drone.lastIntact, let firstRow = stored.first,
                let lastRow = stored.last
            else {
                #expect(stored.isEmpty && drone.counts.samplesIntact == 0)
                continue
            }
            #expect(firstRow.timestampMicroseconds == first.timestampMicroseconds)
            #expect(firstRow.sample.latitudeE7 == first.latitudeE7 && firstRow.sample.longitudeE7 == first.longitudeE7)
            #expect(firstRow.sample.altitudeMM == first.altitudeMM)
            #expect(lastRow.timestampMicroseconds == last.timestampMicroseconds)
            #expect(lastRow.sample.latitudeE7 == last.latitudeE7 && lastRow.sample.longitudeE7 == last.longitudeE7)
            #expect(lastRow.sample.altitudeMM == last.altitudeMM)
        }
        #expect(rows.count == summary.drones.filter { $0.counts.samplesIntact > 0 }.count)
        // The live fleet saw every drone and the link loss the sequence gaps imply.
        let fleet = gateway.processor.fleet.snapshot()
        #expect(fleet.count == rows.count)
        #expect(fleet.contains { $0.framesLost > 0 })
    }

    @Test("Garbage, empty and 65,507-byte datagrams are rejected and counted; the gateway keeps storing")
    func garbage() throws {
        let directory = TemporaryDirectory()
        let gateway = try makeGateway(in: directory)
        gateway.start()
        var generator = SystemRandomNumberGenerator()
        var garbage: [[UInt8]] = [[], [UInt8](repeating: 0xA7, count: 65_507), [0xFD, 1, 2], [0xFE]]
        // Random bytes whose first byte is none of the protocols' (Skygate 0xA7, MAVLink 0xFD/0xFE).
        for length in 1...200 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = UInt8.random(in: 0...0x9F, using: &generator)
            garbage.append(bytes)
        }
        // Random bytes behind a Skygate magic and version: refused by the decoder's checks.
        for length in 2...60 {
            garbage.append([0xA7, 1] + (2..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        sendRaw(garbage, to: gateway.udpPort)
        let valid = FrameEncoder.encode(
            header: FrameHeader(droneID: 9, sequence: 1, timestampMicroseconds: SystemClock.realtimeMicroseconds()),
            samples: [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
        sendRaw([valid], to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(garbage.count + 1) })
        #expect(gateway.isReady)
        let final = gateway.stop()
        #expect(final.isBalanced)
        #expect(final.rejectedTotal == UInt64(garbage.count))
        #expect(final.rejected[.oversized] == 1)
        #expect(final.rejected[.badMagic] == 200)
        #expect(final.rejected[.truncated, default: 0] >= 1)
        // [0xFD, 1, 2] and [0xFE] are MAVLink frames cut short: truncated, like the empty datagram.
        #expect(final.rejected[.truncated, default: 0] >= 3)
        #expect(final.stored == 1 && final.samplesStored == 1)
        let rows = try storedRows(gateway.configuration.databasePath)
        #expect(rows[DroneIdentity(protocol: .skygate, number: 9)]?.first?.sample.latitudeE7 == 473_977_000)
    }
}
