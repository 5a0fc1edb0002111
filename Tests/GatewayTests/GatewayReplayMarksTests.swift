import Foundation
import Gateway
import MAVLinkSigning
import Telemetry
import TelemetryStore
import WireAuthentication
import SkygateTestSupport
import Testing

/// Replay windows persist in the store (issue 20), on the real gateway over loopback UDP. A keyed
/// drone (Skygate tags, drone 7) and a keyed system (MAVLink 2 signing, system 5) fly 20 frames
/// each, beside an unkeyed drone; the frames are captured. Then, to a gateway restarted on the
/// same SQLite file, or to a second gateway sharing the PostgreSQL store, the captured flight is
/// replayed beside the flight going on (10 new authentic frames each, 20 new unkeyed frames):
/// every captured frame is refused (`replayed`, `mavlink_replayed`), every new one stored, the
/// rows complete and the accounting balanced. Before, the windows lived in one process's memory
/// and the captured flight was stored again (live view, events, webhooks).
@Suite("Replay windows in the store", .serialized)
struct GatewayReplayMarksTests {
    let senders = GatewayKeyedSendersTests()

    /// The authentic frames of the keyed drone and system, and the unkeyed drone's, indices `range`.
    func flight(_ range: Range<Int>) throws -> (keyed: [[UInt8]], unkeyed: [[UInt8]]) {
        let signer = MAVLinkSHA256Verifier(keys: try MAVLinkKeys([5: GatewayKeyedSendersTests.mavlinkKey]))
        let tagger = HMACAuthenticator(keys: try DroneKeys([7: GatewayKeyedSendersTests.droneKey]))
        var keyed: [[UInt8]] = []
        var unkeyed: [[UInt8]] = []
        for index in range {
            keyed.append(senders.mavlink(system: 5, index: index, signer: signer))
            keyed.append(try senders.skygate(drone: 7, index: index, authenticator: tagger))
            unkeyed.append(try senders.skygate(drone: 8, index: index, authenticator: nil))
        }
        return (keyed, unkeyed)
    }

    func configuration(in directory: TemporaryDirectory, keys: (skygate: String, mavlink: String)) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.keyFile = keys.skygate
        configuration.mavlinkKeyFile = keys.mavlink
        return configuration
    }

    /// Sends and waits until the gateway has them all.
    func send(_ datagrams: [[UInt8]], to gateway: Gateway) {
        let before = gateway.counters.snapshot().datagramsReceived
        sendRaw(datagrams, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= before + UInt64(datagrams.count) })
    }

    /// Rows per drone in the gateway's store.
    func rows(_ gateway: Gateway) throws -> [DroneIdentity: Int] {
        let store = try gateway.openStoreForReading()
        defer { store.close() }
        var counts: [DroneIdentity: Int] = [:]
        try store.readSamples { page in
            for row in page { counts[row.drone, default: 0] += 1 }
            return true
        }
        return counts
    }

    /// The second half of each test: `target` (restarted, or a replica) gets the captured flight
    /// again beside the flight going on; every captured frame is refused, every new one stored.
    func replayInto(_ target: Gateway, captured: [[UInt8]]) throws -> IngestCounters.Snapshot {
        let goingOn = try flight(20..<30)
        let more = try flight(20..<40).unkeyed
        // The captured flight first, then the flight going on, both interleaved with new unkeyed frames.
        send(captured + Array(more[0..<10]), to: target)
        send(goingOn.keyed + Array(more[10..<20]), to: target)
        let final = target.stop()
        #expect(final.isBalanced, "\(final)")
        #expect(final.rejected[.replayed] == 20 && final.rejected[.mavlinkReplayed] == 20, "\(final.rejected)")
        #expect(final.rejectedTotal == 40 && final.stored == 40, "\(final)")
        return final
    }

    @Test("SQLite: after a restart, a captured tagged and signed flight is refused as replayed")
    func restartRefusesTheCapturedFlight() throws {
        let directory = TemporaryDirectory()
        let keys = try senders.writeKeyFiles(in: directory)
        let configuration = configuration(in: directory, keys: keys)
        let first = try Gateway(configuration: configuration)
        first.start()
        let captured = try flight(0..<20)
        send(captured.keyed + captured.unkeyed, to: first)
        let firstFinal = first.stop()
        #expect(firstFinal.isBalanced && firstFinal.stored == 60 && firstFinal.rejectedTotal == 0)

        let restarted = try Gateway(configuration: configuration)
        let marks = try #require(restarted.replayMarks)
        // Seeded from the store: counters 1...20 and timestamps 1,000...1,019 were accepted.
        #expect(marks.floor(protocol: .skygate, sender: 7) == 21 && marks.floor(protocol: .mavlink, sender: 5) == 1_020)
        restarted.start()
        _ = try replayInto(restarted, captured: captured.keyed)
        #expect(try rows(restarted) == [
            DroneIdentity(protocol: .mavlink, number: 5): 30, DroneIdentity(protocol: .skygate, number: 7): 30,
            DroneIdentity(protocol: .skygate, number: 8): 40,
        ])
    }

    @Test(
        "PostgreSQL: a second gateway sharing the store refuses a flight the first one stored, and so does a restart",
        .enabled(if: PostgresServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh)"))
    func replicaRefusesTheCapturedFlight() throws {
        let directory = TemporaryDirectory()
        let keys = try senders.writeKeyFiles(in: directory)
        let database = try PostgresServer.freshDatabase()
        defer { PostgresServer.drop(database) }
        func replica(_ name: String) throws -> Gateway {
            var configuration = configuration(in: directory, keys: keys)
            configuration.databasePath = PostgresServer.url(of: database)
            configuration.databasePasswordFile = PostgresServer.passwordFile
            configuration.gatewayName = name
            configuration.spillPath = directory.file(name + ".spill")
            return try Gateway(configuration: configuration)
        }
        let first = try replica("gateway-a")
        let second = try replica("gateway-b")
        first.start()
        second.start()
        let captured = try flight(0..<20)
        send(captured.keyed + captured.unkeyed, to: first)
        // The first gateway commits (its marks with the batch); the second reads them within a refresh.
        let marks = try #require(second.replayMarks)
        let seen = waitUntil { marks.floor(protocol: .skygate, sender: 7) == 21 && marks.floor(protocol: .mavlink, sender: 5) == 1_020 }
        #expect(seen, "floors \(marks.floor(protocol: .skygate, sender: 7)), \(marks.floor(protocol: .mavlink, sender: 5))")
        _ = try replayInto(second, captured: captured.keyed)
        let firstFinal = first.stop()
        #expect(firstFinal.isBalanced && firstFinal.stored == 60 && firstFinal.rejectedTotal == 0)

        // A gateway started later on the same store is seeded with every gateway's marks.
        let later = try replica("gateway-c")
        let laterMarks = try #require(later.replayMarks)
        #expect(laterMarks.floor(protocol: .skygate, sender: 7) == 31 && laterMarks.floor(protocol: .mavlink, sender: 5) == 1_030)
        later.start()
        send(captured.keyed, to: later)
        let laterFinal = later.stop()
        #expect(laterFinal.isBalanced && laterFinal.rejected[.replayed] == 20 && laterFinal.rejected[.mavlinkReplayed] == 20)
        #expect(laterFinal.stored == 0)
        #expect(try rows(later) == [
            DroneIdentity(protocol: .mavlink, number: 5): 30, DroneIdentity(protocol: .skygate, number: 7): 30,
            DroneIdentity(protocol: .skygate, number: 8): 40,
        ])
    }
}
