import Foundation
import Gateway
import Playback
import StatusServer
import Telemetry
import TelemetryWire
import SkygateTestSupport
import Testing

/// HTTP ingest reaches the same pipeline as UDP on a real gateway: datagrams handed to
/// `ingest(datagrams:)` go through the second ring to the processor thread, are stored once, show
/// in the live fleet, and the accounting balances after the drain, with UDP traffic alongside.
/// A body pushed after the stop is refused and counted as dropped, never lost silently.
@Suite struct GatewayHTTPIngestTests {
    @Test func httpIngestJoinsThePipeline() throws {
        let directory = TemporaryDirectory()
        let gateway = try makeGateway(in: directory)
        gateway.start()
        let now = UInt64(Date().timeIntervalSince1970 * 1e6)
        let frames = (0..<300).map { index in
            FrameEncoder.encode(
                header: FrameHeader(droneID: 500, sequence: UInt32(index), timestampMicroseconds: now - UInt64(300 - index) * 10_000),
                samples: [WireSample(latitudeE7: 473_700_000, longitudeE7: 85_400_000, altitudeMM: 400_000, status: .gpsFix)])
        }
        let datagrams = try IngestBody.datagrams(fromFrames: frames.flatMap { $0 }, datagramBytesMax: gateway.ingestDatagramBytesMax)
        #expect(gateway.ingest(datagrams: datagrams) == .accepted(datagrams: datagrams.count))
        // The last ten frames again (within the duplicate window): counted duplicate, not stored twice.
        let again = try IngestBody.datagrams(fromFrames: frames.suffix(10).flatMap { $0 }, datagramBytesMax: gateway.ingestDatagramBytesMax)
        #expect(gateway.ingest(datagrams: again) == .accepted(datagrams: again.count))
        _ = try fly(drones: 3, rate: 10, duration: 1, port: gateway.udpPort)
        let drone = DroneIdentity(protocol: .skygate, number: 500)
        #expect(waitUntil { gateway.droneStatus(of: drone)?.framesReceived == 300 })
        let final = gateway.stop()
        #expect(final.isBalanced)
        #expect(final.duplicate >= 10)
        #expect(gateway.ingest(datagrams: datagrams) == .ringFull(accepted: 0))
        let rows = try storedRows(directory.file("gateway.db"))
        #expect(rows[drone]?.count == 300)
        #expect(gateway.counters.snapshot().dropped[.ringFull] == UInt64(final.dropped[.ringFull] ?? 0) + UInt64(datagrams.count))
        #expect(gateway.counters.snapshot().isBalanced)
    }
}
