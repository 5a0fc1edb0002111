import Foundation
import SkygateTestSupport
import Testing

/// `serve` refuses secrets that protect nothing before it binds or opens anything (issue 20,
/// docs/security.md "HTTP"): the shipped placeholder, anything with REPLACE-ME, a token that is
/// too short, the same token for reading and ingest, a token given twice, from the command line
/// and from a file alike. The message names the option and never repeats the token.
@Suite struct ServeSecretsTests {
    static let good = "k2Vq9Zr4Lm8Tx1Wb6Hs3"

    @Test(arguments: [
        (["--access-token", "REPLACE-ME-access-token"], "--access-token", "placeholder"),
        (["--access-token", "my-REPLACE-ME-secret-for-prod"], "--access-token", "placeholder"),
        (["--access-token", "too-short"], "--access-token", "at least 16"),
        (["--ingest-token", "REPLACE-ME-ingest-token"], "--ingest-token", "placeholder"),
        (["--ingest-token", "short"], "--ingest-token", "at least 16"),
        (["--access-token", good, "--ingest-token", good], "--ingest-token", "must differ"),
        (["--access-token", good, "--access-token-file", "/etc/hostname"], "--access-token-file", "not both"),
        (["--db-ca-file", "/etc/hostname"], "--db-ca-file", "postgres://"),
        (["--http-idle-timeout", "0"], "--http-idle-timeout", "1...3600"),
        (["--http-connections-max", "1"], "--http-connections-max", "2...65536"),
    ])
    func refusedOnTheCommandLine(arguments: [String], option: String, reason: String) throws {
        try expectRefused(arguments, option: option, reason: reason)
    }

    /// The same checks for the token files a Kubernetes Secret mounts (a trailing newline is
    /// not part of the token).
    @Test(arguments: [
        ("--access-token-file", "REPLACE-ME-access-token\n", "placeholder"),
        ("--ingest-token-file", "REPLACE-ME-ingest-token\n", "placeholder"),
        ("--access-token-file", "short\n", "at least 16"),
        ("--ingest-token-file", "two\nlines-of-a-longer-token\n", "one line"),
    ])
    func refusedFromAFile(option: String, content: String, reason: String) throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token")
        try Data(content.utf8).write(to: URL(fileURLWithPath: file))
        try expectRefused([option, file], option: option, reason: reason, directory: directory)
    }

    func expectRefused(_ arguments: [String], option: String, reason: String, directory: TemporaryDirectory = TemporaryDirectory()) throws {
        let database = directory.file("gateway.db")
        let (status, output) = try SkygateProcess.run(
            ["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", database] + arguments)
        #expect(status != 0, "\(arguments) exited 0: \(output)")
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains(option) && firstLine.contains(reason), "\(arguments): \(firstLine)")
        for argument in arguments where argument.contains("REPLACE-ME") || argument == Self.good {
            #expect(!output.contains(argument), "the message repeats the token")
        }
        #expect(!FileManager.default.fileExists(atPath: database), "nothing may be opened before the options are checked")
    }
}
