import FlightRecording
import Foundation
import Gateway
import SkygateTestSupport
import Telemetry
import TelemetryWire
import Testing

/// A garbage flood cannot delete real recordings (issue 20), on the real gateway over loopback
/// UDP with a recording budget of 64 KiB: a real fleet is recorded first, then 4,000 datagrams
/// that do not frame (random bytes, the Skygate magic or a MAVLink start byte followed by noise,
/// empty datagrams, datagrams longer than a slot), 3.5 MB together, fifty times the budget. Only
/// datagrams with an intact frame are recorded, so the flood is counted `not_framed`, no file is
/// deleted, the recordings hold every datagram of the real fleet, the fleet's rows are complete
/// and the ingest accounting balances.
@Suite("Recorder under a garbage flood", .serialized)
struct GatewayRecorderFloodTests {
    /// Datagrams that cannot frame, of every kind the processor tells apart, seeded.
    static func garbage(count: Int) -> [[UInt8]] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        return (0..<count).map { index in
            var bytes = (0..<(200 + Int(next() % 1_200))).map { _ in UInt8(truncatingIfNeeded: next()) }
            switch index % 5 {
            case 0: bytes[0] = WireFormat.magic  // a Skygate header of noise: bad version, length or CRC
            case 1: bytes[0] = 0xFD  // MAVLink 2 start and noise: CRC fails, the rest is garbage runs
            case 2: bytes[0] = 0x42  // bad magic
            case 3: bytes = index % 10 == 3 ? [] : bytes + bytes  // empty, or more bytes
            default: bytes = [UInt8](repeating: WireFormat.magic, count: 2_100)  // longer than a slot
            }
            return bytes
        }
    }

    @Test("A flood of datagrams that do not frame is not recorded and deletes no real recording")
    func floodKeepsRealRecordings() throws {
        let directory = TemporaryDirectory()
        let recordings = directory.file("recordings")
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.recordDirectory = recordings
        var options = RecordingOptions()
        options.chunkBytesMax = 4_096
        options.chunkInterval = .milliseconds(10)
        options.syncsEachChunk = false
        options.fileBytesMax = 16_384
        options.directoryBytesMax = 65_536
        configuration.recordingOptions = options
        let gateway = try Gateway(configuration: configuration)
        gateway.start()

        let summary = try fly(drones: 5, rate: 20, duration: 1, port: gateway.udpPort)
        let fleetDatagrams = UInt64(summary.totals.datagramsSent)
        #expect(waitUntil { gateway.recorder!.datagramsRecorded >= fleetDatagrams })
        let filesBefore = Set(GatewayRecorderCountersTests.recordings(in: recordings).keys)
        #expect(!filesBefore.isEmpty)

        // The flood, paced in slices so the kernel's buffers never drop any of it.
        let flood = Self.garbage(count: 4_000)
        #expect(flood.reduce(0) { $0 + $1.count } > 50 * options.directoryBytesMax)
        for start in stride(from: 0, to: flood.count, by: 250) {
            sendRaw(Array(flood[start..<min(start + 250, flood.count)]), to: gateway.udpPort)
            let sent = fleetDatagrams + UInt64(min(start + 250, flood.count))
            #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= sent })
        }
        let final = gateway.stop()
        let recorder = try #require(gateway.statsReport().recorder)

        #expect(final.isBalanced && final.datagramsReceived == fleetDatagrams + UInt64(flood.count))
        #expect(final.stored == UInt64(summary.totals.datagramsSent) && final.droppedTotal == 0)
        #expect(final.rejectedTotal >= UInt64(flood.count), "every flood datagram rejected, some as several units")
        #expect(recorder.datagrams_recorded == fleetDatagrams)
        #expect(recorder.datagrams_dropped == ["ring_full": 0, "write_failed": 0, "not_framed": UInt64(flood.count)])
        #expect(recorder.files_deleted == 0 && recorder.bytes_deleted == 0, "\(recorder)")

        // The recordings from before the flood are all still there, and hold the whole fleet.
        let filesAfter = GatewayRecorderCountersTests.recordings(in: recordings)
        #expect(filesBefore.isSubset(of: Set(filesAfter.keys)))
        var recorded = 0
        for name in filesAfter.keys {
            let report = try openRecording(path: recordings + "/" + name).read { datagram in
                #expect(datagram.bytes.first == WireFormat.magic)
                return true
            }
            #expect(report.isIntact, "\(name)")
            recorded += report.datagramsRead
        }
        #expect(recorded == summary.totals.datagramsSent)

        let rows = try storedRows(configuration.databasePath)
        for drone in summary.drones {
            let stored = rows[DroneIdentity(protocol: .skygate, number: drone.droneID)] ?? []
            #expect(stored.count == drone.counts.samplesIntact && stored.count > 0, "drone \(drone.droneID)")
        }
    }
}
