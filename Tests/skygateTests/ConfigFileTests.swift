import Foundation
import SkygateTestSupport
import Testing

/// `serve --config` regressions from fuzzing the config parser (Scripts/fuzz-inputs.sh config):
/// a file saved with CRLF line ends read as one long line ("\r\n" is one Character in Swift), so
/// every option after the first was folded into the first one's value; control characters went
/// into values (and from there into log lines). Through the real executable.
@Suite("serve --config")
struct ConfigFileTests {
    static func serve(config text: String) throws -> (status: Int32, firstLine: String, path: String) {
        let directory = TemporaryDirectory()
        let path = directory.file("skygate.conf")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let (status, output) = try SkygateProcess.run(["serve", "--config", path])
        return (status, output.split(separator: "\n").first.map(String.init) ?? "", path)
    }

    @Test func crlfLinesAreLines() throws {
        // The second line's bad value must be what is refused: retain's value is "3", not
        // "3\r\nring-kib = 1000".
        let (status, firstLine, _) = try Self.serve(config: "# skygate\r\nretain = 3\r\nring-kib = 1000\r\n")
        #expect(status != 0)
        #expect(firstLine.contains("--ring-kib") && firstLine.contains("'1000'"), "\(firstLine)")
    }

    @Test func controlCharactersAreRefusedWithTheLine() throws {
        let (status, firstLine, path) = try Self.serve(config: "retain = 3\nudp = 127.0.0.1:0\u{1B}[31m\n")
        #expect(status != 0)
        #expect(firstLine.contains("--config \(path) line 2: holds a control character"), "\(firstLine)")
    }
}
