import Foundation
import SkygateTestSupport
import Testing

/// The real executable refuses key files that group or other users can read, before anything is
/// bound or sent, with the option, the file and its mode in the first line (as ssh does), and
/// never the key; a 0600 key file is taken.
@Suite("Key file permissions")
struct KeyFilePermissionTests {
    static let droneKey = "17 00112233445566778899aabbccddeeff\n"
    static let mavlinkKey = "1 " + String(repeating: "ab", count: 32) + "\n"

    @Test(arguments: [
        (["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key-file"], "--key-file", mode_t(0o644)),
        (["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key-file"], "--key-file", 0o640),
        (["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--mavlink-key-file"], "--mavlink-key-file", 0o604),
        (["simulate", "--to", "127.0.0.1:9", "--drones", "1", "--duration", "1", "--key-file"], "--key-file", 0o644),
    ])
    func refusesAKeyFileOthersCanRead(arguments: [String], option: String, mode: mode_t) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("keys")
        let key = option == "--mavlink-key-file" ? Self.mavlinkKey : Self.droneKey
        FileManager.default.createFile(atPath: path, contents: Data(key.utf8))
        chmod(path, mode)
        let (status, output) = try SkygateProcess.run(arguments + [path])
        #expect(status != 0)
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains("\(option): permissions 0\(String(mode, radix: 8)) for '\(path)' are too open"), "\(firstLine)")
        #expect(firstLine.contains("chmod 600"))
        #expect(!output.contains("00112233") && !output.contains("abababab"), "the key leaked: \(output)")
    }

    @Test func simulateTakesAPrivateKeyFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("keys")
        FileManager.default.createFile(atPath: path, contents: Data(Self.droneKey.utf8))
        chmod(path, 0o600)
        let (status, output) = try SkygateProcess.run(
            ["simulate", "--to", "127.0.0.1:9", "--drones", "1", "--rate", "5", "--duration", "0.4", "--first-drone-id", "17", "--key-file", path])
        #expect(status == 0, "\(output)")
    }
}
