import Foundation
import Gateway
import MAVLinkSigning
import MAVLinkWire
import Telemetry
import TelemetryWire
import WireAuthentication
import SkygateTestSupport
import Testing

/// Keys mean something (issue 20), on the real gateway over loopback UDP: a MAVLink system with a
/// signing key must sign and a Skygate drone with a key must tag, without any option. Frames in
/// their names without a signature or tag are refused and counted (`mavlink_unsigned`,
/// `unauthenticated`), while their authentic frames and other senders' frames are all stored and
/// the accounting balances. `--allow-unsigned-from-keyed` takes them again, and says so at start.
@Suite("Gateway keyed senders", .serialized)
struct GatewayKeyedSendersTests {
    static let mavlinkKey = [UInt8](repeating: 0x5A, count: 32)
    static let droneKey = [UInt8](repeating: 0x3C, count: 32)

    func writeKeyFiles(in directory: TemporaryDirectory) throws -> (skygate: String, mavlink: String) {
        let hex = { (key: [UInt8]) in key.map { String(format: "%02x", $0) }.joined() }
        let skygate = directory.file("drones.keys"), mavlink = directory.file("mavlink.keys")
        for (path, text) in [(skygate, "7 \(hex(Self.droneKey))\n"), (mavlink, "5 \(hex(Self.mavlinkKey))\n")] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        }
        return (skygate, mavlink)
    }

    func position(_ index: Int) -> MAVLinkMessage {
        .globalPositionInt(MAVLinkGlobalPositionInt(
            timeBootMilliseconds: UInt32(index) * 100 + 100, latitudeE7: 473_977_000 + Int32(index), longitudeE7: 85_456_000,
            altitudeMM: 450_000, relativeAltitudeMM: 0, velocityX: 0, velocityY: 0, velocityZ: 0, heading: 0))
    }

    func mavlink(system: UInt8, index: Int, signer: MAVLinkSHA256Verifier?) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let length = buffer.withUnsafeMutableBytes { output in
            if let signer {
                return MAVLinkEncoder.encodeSigned(
                    position(index), sequence: UInt8(index), systemID: system, componentID: 1, linkID: 1,
                    timestamp: 1_000 + UInt64(index), signer: signer, into: output)!
            }
            return MAVLinkEncoder.encode(position(index), version: 2, sequence: UInt8(index), systemID: system, componentID: 1, into: output)
        }
        return Array(buffer[0..<length])
    }

    func skygate(drone: UInt32, index: Int, authenticator: HMACAuthenticator?) throws -> [UInt8] {
        let header = FrameHeader(
            droneID: drone, sequence: UInt32(index), timestampMicroseconds: SystemClock.realtimeMicroseconds() - 10_000_000 + UInt64(index))
        let samples = [WireSample(latitudeE7: 473_977_000 + Int32(index), longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)]
        if let authenticator {
            return try FrameEncoder.encode(header: header, samples: samples, counter: UInt64(index) + 1, authenticator: authenticator)
        }
        return FrameEncoder.encode(header: header, samples: samples)
    }

    /// Ten frames each: system 5 signed, unsigned in system 5's name, system 6 (no key) unsigned;
    /// drone 7 tagged, untagged in drone 7's name, drone 8 (no key) untagged.
    func mixedTraffic() throws -> [[UInt8]] {
        let signer = MAVLinkSHA256Verifier(keys: try MAVLinkKeys([5: Self.mavlinkKey]))
        let tagger = HMACAuthenticator(keys: try DroneKeys([7: Self.droneKey]))
        var datagrams: [[UInt8]] = []
        for index in 0..<10 {
            datagrams.append(mavlink(system: 5, index: index, signer: signer))  // authentic
            datagrams.append(mavlink(system: 5, index: 100 + index, signer: nil))  // forged in system 5's name
            datagrams.append(mavlink(system: 6, index: index, signer: nil))  // a system without a key
            datagrams.append(try skygate(drone: 7, index: index, authenticator: tagger))  // authentic
            datagrams.append(try skygate(drone: 7, index: 100 + index, authenticator: nil))  // forged in drone 7's name
            datagrams.append(try skygate(drone: 8, index: index, authenticator: nil))  // a drone without a key
        }
        return datagrams
    }

    func run(allowUnsignedFromKeyed: Bool) throws -> (IngestCounters.Snapshot, [DroneIdentity: Int], String?) {
        let directory = TemporaryDirectory()
        let keys = try writeKeyFiles(in: directory)
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.keyFile = keys.skygate
        configuration.mavlinkKeyFile = keys.mavlink
        configuration.allowUnsignedFromKeyed = allowUnsignedFromKeyed
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let datagrams = try mixedTraffic()
        sendRaw(datagrams, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(datagrams.count) })
        let final = gateway.stop()
        #expect(final.isBalanced && final.received == UInt64(datagrams.count))
        let rows = try storedRows(configuration.databasePath).mapValues(\.count)
        return (final, rows, gateway.authenticationWarning)
    }

    @Test("Unsigned and untagged frames in the names of keyed senders are refused and counted; the rest is stored")
    func keyedSendersMustAuthenticate() throws {
        let (final, rows, warning) = try run(allowUnsignedFromKeyed: false)
        #expect(final.rejected[.mavlinkUnsigned] == 10)
        #expect(final.rejected[.unauthenticated] == 10)
        #expect(final.stored == 40 && final.rejectedTotal == 20)
        #expect(rows == [
            DroneIdentity(protocol: .mavlink, number: 5): 10, DroneIdentity(protocol: .mavlink, number: 6): 10,
            DroneIdentity(protocol: .skygate, number: 7): 10, DroneIdentity(protocol: .skygate, number: 8): 10,
        ])
        // Unkeyed senders are still accepted, and the start-up log says so.
        #expect(warning?.contains("ingest is unauthenticated") == true)
        #expect(warning?.contains("--allow-unsigned-from-keyed") == false)
    }

    @Test("--allow-unsigned-from-keyed takes them again, and the start-up log says so")
    func explicitlyAllowed() throws {
        let (final, rows, warning) = try run(allowUnsignedFromKeyed: true)
        #expect(final.rejectedTotal == 0 && final.stored == 60)
        #expect(rows[DroneIdentity(protocol: .mavlink, number: 5)] == 20 && rows[DroneIdentity(protocol: .skygate, number: 7)] == 20)
        #expect(warning?.contains("--allow-unsigned-from-keyed") == true)
    }
}
