import Testing
import TelemetryWire
import WireAuthentication

/// The authenticator computes HMAC-SHA256 truncated to the tag length (RFC 4231 vectors), refuses
/// wrong keys and replays, and makes keyed drones authenticate.
@Suite("HMAC authenticator")
struct HMACAuthenticatorTests {
    @Test("RFC 4231 test case 1, truncated to 16 bytes as RFC 4868 does")
    func rfc4231() throws {
        let authenticator = HMACAuthenticator(keys: try DroneKeys([1: [UInt8](repeating: 0x0B, count: 20)]))
        var tag = [UInt8](repeating: 0, count: 16)
        let ok = Array("Hi There".utf8).withUnsafeBytes { message in
            tag.withUnsafeMutableBytes { authenticator.computeTag(droneID: 1, message: message, into: $0) }
        }
        #expect(ok)
        #expect(tag == [0xB0, 0x34, 0x4C, 0x61, 0xD8, 0xDB, 0x38, 0x53, 0x5C, 0xA8, 0xAF, 0xCE, 0xAF, 0x0B, 0xF1, 0x2B])
        let missing = Array("Hi There".utf8).withUnsafeBytes { message in
            tag.withUnsafeMutableBytes { authenticator.computeTag(droneID: 2, message: message, into: $0) }
        }
        #expect(!missing)
    }

    static let header = FrameHeader(droneID: 5, sequence: 1, timestampMicroseconds: 1_767_225_600_000_000)
    static let sample = WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000)

    func decode(_ bytes: [UInt8], with authenticator: inout HMACAuthenticator) -> Result<DecodedFrame, WireError> {
        let columns = SampleColumns(capacity: 64)
        return bytes.withUnsafeBytes { buffer in
            do throws(WireError) {
                return .success(try FrameDecoder.decodeFrame(buffer, into: columns, authenticator: &authenticator))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("A wrong key is a bad tag; a repeated or too old counter is a replay")
    func wrongKeyAndReplay() throws {
        let right = try DroneKeys([5: Array(repeating: 1, count: 32)])
        let wrong = try DroneKeys([5: Array(repeating: 2, count: 32)])
        var receiver = HMACAuthenticator(keys: right)
        let forged = try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 1, authenticator: HMACAuthenticator(keys: wrong))
        #expect(decode(forged, with: &receiver) == .failure(.badTag))

        let sender = HMACAuthenticator(keys: right)
        let first = try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 500, authenticator: sender)
        guard case .success(let frame) = decode(first, with: &receiver) else {
            Issue.record("a correctly tagged frame was rejected")
            return
        }
        #expect(frame.isAuthenticated && frame.authenticationCounter == 500)
        #expect(decode(first, with: &receiver) == .failure(.replayed))
        let old = try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 400, authenticator: sender)
        #expect(decode(old, with: &receiver) == .failure(.replayed))
        let reordered = try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 480, authenticator: sender)
        if case .failure(let error) = decode(reordered, with: &receiver) { Issue.record("reordered frame rejected: \(error)") }
        #expect(receiver.replayWindow(droneID: 5)?.highest == 500)
        // A forged frame must not advance the window: the bad tag is checked before the counter.
        let forgedAhead = try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 10_000, authenticator: HMACAuthenticator(keys: wrong))
        #expect(decode(forgedAhead, with: &receiver) == .failure(.badTag))
        #expect(receiver.replayWindow(droneID: 5)?.highest == 500)
    }

    @Test("Keyed drones must authenticate; with requireForAllDrones everyone must")
    func policy() throws {
        let keys = try DroneKeys([5: Array(repeating: 1, count: 32)])
        var keyedOnly = HMACAuthenticator(keys: keys)
        let untaggedKeyed = FrameEncoder.encode(header: Self.header, samples: [Self.sample])
        #expect(decode(untaggedKeyed, with: &keyedOnly) == .failure(.unauthenticated))
        let other = FrameEncoder.encode(header: FrameHeader(droneID: 6, sequence: 0, timestampMicroseconds: 0), samples: [Self.sample])
        if case .failure(let error) = decode(other, with: &keyedOnly) { Issue.record("unkeyed drone rejected: \(error)") }
        var everyone = HMACAuthenticator(keys: keys, requireForAllDrones: true)
        #expect(decode(other, with: &everyone) == .failure(.unauthenticated))
    }

    @Test("Encoding a tagged frame for a drone without a key throws unknownKey")
    func encodeWithoutKey() throws {
        let authenticator = HMACAuthenticator(keys: try DroneKeys([1: Array(repeating: 1, count: 16)]))
        #expect(throws: WireError.unknownKey) {
            try FrameEncoder.encode(header: Self.header, samples: [Self.sample], counter: 1, authenticator: authenticator)
        }
    }
}

/// Key files parse into per-drone keys; every mistake names its line and never the key.
@Suite("Drone key files")
struct DroneKeysTests {
    @Test("CRLF line ends are line ends (\\r\\n is one Character in Swift)")
    func crlf() throws {
        let keys = try DroneKeys(parsing: "# keys\r\n1 000102030405060708090a0b0c0d0e0f\r\n2 101112131415161718191a1b1c1d1e1f\r\n")
        #expect(keys.count == 2)
        #expect(keys[2] == Array(0x10...0x1F))
        #expect {
            try DroneKeys(parsing: "1 000102030405060708090a0b0c0d0e0f\r\n1 000102030405060708090a0b0c0d0e0f\r\n")
        } throws: { ($0 as? DroneKeysError)?.line == 2 }
    }

    @Test("Comments, blank lines, tabs and both hex cases")
    func parse() throws {
        let text = """
            # drone  key
            1 000102030405060708090a0b0c0d0e0f

            \t4000000000\tA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF  # ops key
            """
        let keys = try DroneKeys(parsing: text)
        #expect(keys.count == 2)
        #expect(keys[1] == Array(0..<16))
        #expect(keys[4_000_000_000] == Array(0xA0...0xBF))
    }

    @Test(
        "Mistakes name the line and keep the key out of the message",
        arguments: [
            ("1 00", 1, "has 1 bytes"),
            ("\n1 0001020304050607080910111213141", 2, "even number of hex digits"),
            ("x 000102030405060708090a0b0c0d0e0f", 1, "is not a number"),
            ("1 000102030405060708090a0b0c0d0e0f extra", 1, "expected"),
            ("1 000102030405060708090a0b0c0d0e0f\n1 000102030405060708090a0b0c0d0e0f", 2, "second key"),
            ("1 zz0102030405060708090a0b0c0d0e0f", 1, "hex digits"),
            // Columns swapped: the key sits where the id belongs, and must not be echoed (found by
            // the key-file fuzz target's oracle; the message used to quote the id field whole).
            ("000102030405060708090a0b0c0d0e0f 1", 1, "drone id of 32 characters is not a number"),
        ])
    func mistakes(text: String, line: Int, message: String) {
        #expect {
            try DroneKeys(parsing: text)
        } throws: { error in
            guard let error = error as? DroneKeysError else { return false }
            return error.line == line && error.description.contains(message)
                && !error.description.contains("0102030405")
        }
    }
}
