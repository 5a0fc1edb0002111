import Foundation
import SkygateTestSupport
import Testing

/// `serve --config` regressions from fuzzing the config parser (Scripts/fuzz-inputs.sh config):
/// a file saved with CRLF line ends read as one long line ("\r\n" is one Character in Swift), so
/// every option after the first was folded into the first one's value; control characters went
/// into values (and from there into log lines); a `#` joined into a grapheme cluster did not
/// start a comment. Through the real executable.
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

    @Test func aHashInsideAGraphemeClusterStillStartsAComment() throws {
        // "#\u{20E3}" (a keycap) is one Character: a search for the Character "#" passed over it
        // and the comment stayed in retain's value. The parser splits on the UTF-8 bytes now.
        let (status, firstLine, _) = try Self.serve(config: "retain = 3 #\u{20E3} days\nring-kib = 1000\n")
        #expect(status != 0)
        #expect(firstLine.contains("--ring-kib") && firstLine.contains("'1000'"), "\(firstLine)")
    }

    @Test func theFuzzersFindingIsRefusedWithoutItsComment() throws {
        // Fuzz/findings/config-hash-after-a-prepended-mark.conf: "udp = or…\u{06DD}#…", where
        // U+06DD (a prepended concatenation mark) joins the '#' after it into one Character. The
        // value that reaches --udp (and the error) ends before the '#'.
        let finding = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/findings/config-hash-after-a-prepended-mark.conf")
        let text = String(decoding: try Data(contentsOf: finding), as: UTF8.self)
        #expect(text.utf8.contains(UInt8(ascii: "#")))
        let (status, firstLine, _) = try Self.serve(config: text)
        #expect(status != 0)
        #expect(firstLine.contains("--udp") && !firstLine.contains("#"), "\(firstLine)")
    }

    @Test func controlCharactersAreRefusedWithTheLine() throws {
        let (status, firstLine, path) = try Self.serve(config: "retain = 3\nudp = 127.0.0.1:0\u{1B}[31m\n")
        #expect(status != 0)
        #expect(firstLine.contains("--config \(path) line 2: holds a control character"), "\(firstLine)")
    }
}
