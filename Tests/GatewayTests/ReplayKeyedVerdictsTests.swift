import Foundation
import FlightRecording
import Gateway
import MAVLinkSigning
import MAVLinkWire
import Playback
import Telemetry
import TelemetryStore
import WireAuthentication
import SkygateTestSupport
import Testing

/// Replay keeps the live verdicts (issue 20): a live gateway with keys records keyed and forged
/// traffic (the recorder keeps every datagram before it is checked); `replay --db` with the same
/// keys stores exactly the rows the live gateway stored and refuses the same frames for the same
/// reasons. Without the keys, the replay would store the forged frames and refuse the authentic
/// tagged ones (`unknown_key`), which the test shows as the reason for the option.
@Suite("Replay keeps the live verdicts", .serialized)
struct ReplayKeyedVerdictsTests {
    @Test("A recording of keyed and forged traffic replays with the same keys into the same rows")
    func sameRowsWithTheSameKeys() throws {
        let directory = TemporaryDirectory()
        let senders = GatewayKeyedSendersTests()
        let keys = try senders.writeKeyFiles(in: directory)
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("live.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.keyFile = keys.skygate
        configuration.mavlinkKeyFile = keys.mavlink
        configuration.recordDirectory = directory.file("recordings")
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let datagrams = try senders.mixedTraffic()
        sendRaw(datagrams, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(datagrams.count) })
        let live = gateway.stop()
        #expect(live.isBalanced && live.rejected[.mavlinkUnsigned] == 10 && live.rejected[.unauthenticated] == 10)
        #expect(gateway.recorder?.datagramsRecorded == UInt64(datagrams.count))

        func replay(into name: String, withKeys: Bool) throws -> (IngestCounters.Snapshot, [DroneIdentity: [StoredSample]]) {
            let authenticator = withKeys
                ? HMACAuthenticator(keys: try DroneKeys(parsing: try String(contentsOfFile: keys.skygate, encoding: .utf8)))
                : HMACAuthenticator(keys: DroneKeys())
            let verifier = withKeys
                ? MAVLinkSHA256Verifier(keys: try MAVLinkKeys(parsing: try String(contentsOfFile: keys.mavlink, encoding: .utf8)))
                : MAVLinkSHA256Verifier(keys: MAVLinkKeys())
            let runner = try ReplayRunner(databasePath: directory.file(name), authenticator: authenticator, verifier: verifier)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.file("recordings")).filter { $0.hasSuffix(".skyrec") }.sorted()
            let readers = try names.map { try openRecording(path: directory.file("recordings/" + $0)) }
            _ = runner.replay(readers, fromNanoseconds: nil, untilNanoseconds: nil, shouldStop: { false })
            let final = runner.finish()
            #expect(runner.storeError == nil && final.isBalanced)
            return (final, try storedRows(directory.file(name)))
        }
        let liveRows = try storedRows(configuration.databasePath)
        let (keyed, keyedRows) = try replay(into: "keyed.db", withKeys: true)
        #expect(keyed.stored == live.stored && keyed.rejected == live.rejected && keyed.duplicate == live.duplicate)
        #expect(Set(keyedRows.keys) == Set(liveRows.keys))
        for (drone, rows) in liveRows {
            let replayed = keyedRows[drone] ?? []
            #expect(replayed.map(\.timestampMicroseconds) == rows.map(\.timestampMicroseconds), "\(drone)")
            #expect(replayed.map(\.sample.latitudeE7) == rows.map(\.sample.latitudeE7), "\(drone)")
        }
        // Without the keys the verdicts differ: forged frames stored, authentic tagged ones refused.
        let (unkeyed, _) = try replay(into: "unkeyed.db", withKeys: false)
        #expect(unkeyed.rejected[.unknownKey] == 10 && unkeyed.rejected[.mavlinkUnsigned] == 0 && unkeyed.rejected[.unauthenticated] == 0)
    }
}
