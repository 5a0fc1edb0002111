import Foundation
import Gateway
import IngestFraming
import StatusServer
import Telemetry
import TelemetryWire
import SkygateTestSupport
import Testing

/// HTTP ingest reaches the same pipeline as UDP on a real gateway: bodies handed to
/// `ingest(body:format:)` are framed (`IngestFraming`) and go through the second ring to the processor thread, are stored once, show
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
        let body = frames.flatMap { $0 }
        let datagrams = try IngestBody.datagrams(fromFrames: body, datagramBytesMax: gateway.limits.value.datagramBytesMax)
        #expect(gateway.ingest(body: body, format: .frames) == .accepted(datagrams: datagrams.count))
        // The last ten frames again (within the duplicate window): counted duplicate, not stored twice.
        let again = frames.suffix(10).flatMap { $0 }
        #expect(gateway.ingest(body: again, format: .frames) == .accepted(datagrams: 1))
        // A body that does not frame is refused whole, with the reason, and counts nothing.
        let received = gateway.counters.snapshot().datagramsReceived
        guard case .malformed(let message) = gateway.ingest(body: Array(body.prefix(30)), format: .frames) else {
            Issue.record("a cut frame was accepted")
            return
        }
        #expect(message.contains("frame 0"))
        #expect(gateway.counters.snapshot().datagramsReceived == received, "a refused body enters nothing")
        _ = try fly(drones: 3, rate: 10, duration: 1, port: gateway.udpPort)
        let drone = DroneIdentity(protocol: .skygate, number: 500)
        #expect(waitUntil { gateway.droneStatus(of: drone)?.framesReceived == 300 })
        let final = gateway.stop()
        #expect(final.isBalanced)
        #expect(final.duplicate >= 10)
        #expect(gateway.ingest(body: body, format: .frames) == .ringFull(accepted: 0))
        let rows = try storedRows(directory.file("gateway.db"))
        #expect(rows[drone]?.count == 300)
        #expect(gateway.counters.snapshot().dropped[.ringFull] == UInt64(final.dropped[.ringFull] ?? 0) + UInt64(datagrams.count))
        #expect(gateway.counters.snapshot().isBalanced)
    }
}
