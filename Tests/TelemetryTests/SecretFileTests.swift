import Foundation
import Telemetry
import Testing

/// Key and secret files that group or other users can get at are refused with a message that
/// names the option, the file and its mode (as ssh does); files and directories made for flight
/// data are 0600 and 0700 (`SecretFile`, `PrivateFile`). Real files in a temporary directory,
/// modes set with chmod; the rule itself is checked as a table over modes and owners.
@Suite struct SecretFileTests {
    final class Directory {
        let path = NSTemporaryDirectory() + "skygate-secret-" + UUID().uuidString
        init() { mkdir(path, 0o700) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func file(_ name: String, _ contents: String, mode: mode_t) -> String {
            let file = path + "/" + name
            FileManager.default.createFile(atPath: file, contents: Data(contents.utf8))
            chmod(file, mode)
            return file
        }
    }

    static func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0xFFFF
    }

    @Test(arguments: [
        // (mode, owner, process user, refused)
        (UInt32(0o600), UInt32(1000), UInt32(1000), false), (0o400, 1000, 1000, false), (0o700, 1000, 1000, false),
        (0o644, 1000, 1000, true), (0o640, 1000, 1000, true), (0o604, 1000, 1000, true), (0o620, 1000, 1000, true),
        (0o610, 1000, 1000, true), (0o601, 1000, 1000, true), (0o666, 1000, 1000, true),
        // Root shares a file with the gateway's group (Kubernetes fsGroup, mode 0440): read only.
        (0o440, 0, 65_532, false), (0o640, 0, 65_532, false), (0o660, 0, 65_532, true), (0o444, 0, 65_532, true),
        (0o470, 0, 65_532, true),
        // The gateway running as root gets no exception for root's own files.
        (0o640, 0, 0, true), (0o600, 0, 0, false),
    ])
    func theRule(mode: UInt32, owner: UInt32, processUser: UInt32, refused: Bool) {
        let problem = SecretFile.permissionProblem(path: "k", mode: mode, owner: owner, processUser: processUser)
        #expect((problem != nil) == refused, "\(String(mode, radix: 8)) owner \(owner) user \(processUser): \(problem ?? "accepted")")
        if let problem {
            #expect(problem.contains("permissions 0\(String(mode, radix: 8)) for 'k' are too open") && problem.contains("chmod 600"))
        }
    }

    @Test(arguments: [mode_t(0o644), 0o640, 0o604, 0o660, 0o777])
    func refusesAnOpenFileNamingItsModeAndPath(mode: mode_t) {
        let directory = Directory()
        let path = directory.file("keys", "17 00112233445566778899aabbccddeeff\n", mode: mode)
        #expect {
            try SecretFile.read(path: path, option: "--key-file")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("--key-file: permissions 0\(String(mode, radix: 8)) for '\(path)' are too open") && text.contains("chmod 600")
                && !text.contains("00112233")
        }
    }

    @Test(arguments: [mode_t(0o600), 0o400])
    func readsAPrivateFile(mode: mode_t) throws {
        let directory = Directory()
        let path = directory.file("secret", "s3cret\n", mode: mode)
        #expect(try SecretFile.readText(path: path, option: "--webhook-secret-file") == "s3cret\n")
    }

    @Test func refusesMissingDirectoriesAndOversizedFiles() {
        let directory = Directory()
        #expect { try SecretFile.read(path: directory.path + "/none", option: "--key-file") } throws: {
            "\($0)" == "--key-file '\(directory.path)/none': the file does not exist"
        }
        #expect { try SecretFile.read(path: directory.path, option: "--key-file") } throws: { "\($0)".contains("a directory") }
        let big = directory.file("big", String(repeating: "a", count: 2_000), mode: 0o600)
        #expect { try SecretFile.read(path: big, option: "--db-password-file", bytesMax: 1_000) } throws: {
            "\($0)".hasPrefix("--db-password-file '\(big)': larger than 1000 bytes")
        }
        let binary = directory.path + "/binary"
        FileManager.default.createFile(atPath: binary, contents: Data([0xFF, 0xFE, 0x00]))
        chmod(binary, 0o600)
        #expect { try SecretFile.readText(path: binary, option: "--key-file") } throws: { "\($0)".contains("not UTF-8") }
    }

    @Test func privateFilesAre0600AndDirectories0700() throws {
        let directory = Directory()
        let nested = directory.path + "/a/b/c"
        #expect(PrivateFile.createDirectories(nested) == 0)
        for path in [directory.path + "/a", directory.path + "/a/b", nested] { #expect(Self.mode(path) == 0o700, "\(path)") }
        #expect(PrivateFile.createDirectories(nested) == 0, "an existing directory is fine")

        let file = nested + "/recording"
        let descriptor = PrivateFile.open(file, flags: O_WRONLY | O_TRUNC)
        #expect(descriptor >= 0)
        close(descriptor)
        #expect(Self.mode(file) == 0o600)
        #expect(PrivateFile.createDirectories(file) == ENOTDIR)

        let database = nested + "/db"
        #expect(PrivateFile.createIfMissing(database) == 0)
        #expect(Self.mode(database) == 0o600)
        // An existing file keeps the mode its operator gave it.
        chmod(database, 0o640)
        #expect(PrivateFile.createIfMissing(database) == 0)
        #expect(Self.mode(database) == 0o640)
        #expect(PrivateFile.createIfMissing(directory.path + "/missing/db") == ENOENT)
        #expect(PrivateFile.directory(of: "/var/lib/x.db") == "/var/lib" && PrivateFile.directory(of: "x.db") == "." && PrivateFile.directory(of: "/x") == "/")
    }
}
