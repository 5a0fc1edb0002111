import MAVLinkSigning
import MAVLinkWire
import Testing

/// Key files parse one 32-byte key per system and name the line of any mistake without echoing
/// the key; replay streams accept rising timestamps per (system, component, link), refuse old
/// ones and fresh streams far behind the system's newest, and refuse new streams when full.
@Suite struct MAVLinkSigningTests {
    static let key = String(repeating: "ab", count: 32)

    @Test func parsesKeyFile() throws {
        let keys = try MAVLinkKeys(parsing: "# comment\n\n1 \(Self.key)\n255\t\(Self.key.uppercased())  # trailing\n")
        #expect(keys.count == 2)
        #expect(keys[1] == [UInt8](repeating: 0xAB, count: 32))
        #expect(keys[255] != nil)
    }

    @Test(arguments: [
        ("0 \(key)", "line 1: system id '0' is not a number in 1...255"),
        ("256 \(key)", "line 1: system id '256' is not a number in 1...255"),
        ("1 abcd", "line 1: key for system 1 is not 64 hex digits (32 bytes)"),
        ("1", "line 1: expected '<system id> <hex key>'"),
        ("1 \(key)\n1 \(key)", "line 2: system 1 has a second key"),
    ])
    func rejectsBadLines(text: String, message: String) {
        #expect(throws: MAVLinkKeysError.self) { try MAVLinkKeys(parsing: text) }
        do {
            _ = try MAVLinkKeys(parsing: text)
        } catch {
            #expect(error.description == message)
            #expect(!error.description.contains(Self.key))
        }
    }

    @Test func streams() {
        let streams = MAVLinkSignatureStreams(capacity: 2)
        #expect(streams.accept(timestamp: 100, systemID: 1, componentID: 1, linkID: 0) == .accepted)
        #expect(streams.accept(timestamp: 100, systemID: 1, componentID: 1, linkID: 0) == .replayed)
        #expect(streams.accept(timestamp: 99, systemID: 1, componentID: 1, linkID: 0) == .replayed)
        #expect(streams.accept(timestamp: 101, systemID: 1, componentID: 1, linkID: 0) == .accepted)
        // Another link is another stream.
        #expect(streams.accept(timestamp: 50, systemID: 1, componentID: 1, linkID: 1) == .accepted)
        // Full: a third stream is refused, known streams go on.
        #expect(streams.accept(timestamp: 200, systemID: 2, componentID: 1, linkID: 0) == .full)
        #expect(streams.accept(timestamp: 102, systemID: 1, componentID: 1, linkID: 0) == .accepted)
        // A new stream more than a minute behind the system's newest is a replay.
        let fresh = MAVLinkSignatureStreams()
        #expect(fresh.accept(timestamp: 10_000_000, systemID: 3, componentID: 1, linkID: 0) == .accepted)
        #expect(fresh.accept(timestamp: 10_000_000 - 6_000_001, systemID: 3, componentID: 1, linkID: 9) == .replayed)
        #expect(fresh.accept(timestamp: 10_000_000 - 6_000_000, systemID: 3, componentID: 1, linkID: 9) == .accepted)
    }
}
