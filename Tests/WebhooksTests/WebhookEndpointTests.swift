import Foundation
import Testing

@testable import Webhooks

/// `--webhook` and `--webhook-secret-file` values: good ones parse, bad ones are refused with a
/// message that names the option and the value (never a password).
@Suite struct WebhookEndpointTests {
    @Test func parsesGoodURLs() throws {
        let plain = try WebhookEndpoint(parsing: "http://127.0.0.1:8080/hook")
        #expect(plain.url == "http://127.0.0.1:8080/hook" && plain.displayName == "http://127.0.0.1:8080/…")
        let secure = try WebhookEndpoint(parsing: "https://hooks.example.com")
        #expect(secure.displayName == "https://hooks.example.com")
        let tokenInPath = try WebhookEndpoint(parsing: "https://hooks.example.com/services/T000/B000/XXXX?x=1")
        #expect(!tokenInPath.displayName.contains("XXXX") && !tokenInPath.description.contains("services"))
    }

    @Test(arguments: [
        ("ftp://example.com/hook", "scheme must be http or https"),
        ("example.com/hook", "not a URL"),
        ("http:///hook", "no host"),
        ("https://user:hunter2@example.com/hook", "user name or password"),
        ("http://example.com:0/hook", "port 0"),
        ("http://example.com/hook#part", "fragment"),
        ("not a url at all", "not a URL"),
        ("", "not a URL"),
    ])
    func refusesBadURLs(text: String, reason: String) {
        #expect {
            try WebhookEndpoint(parsing: text)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("--webhook ") && message.contains(reason) && !message.contains("hunter2")
                && (message.contains("'\(text)'") || text.contains("hunter2"))
        }
    }

    @Test func refusesDuplicatesAndTooMany() {
        #expect(throws: WebhookError.self) { try WebhookEndpoint.parse(["http://a.example/x", "http://a.example/x"]) }
        let many = (0...16).map { "http://a.example/\($0)" }
        #expect { try WebhookEndpoint.parse(many) } throws: { "\($0)".contains("--webhook") && "\($0)".contains("16") }
        #expect((try? WebhookEndpoint.parse(Array(many.prefix(2))))?.count == 2)
    }

    static func writeTemporary(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-secret-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    @Test(arguments: [mode_t(0o644), 0o640, 0o604])
    func refusesASecretOthersCanRead(mode: mode_t) throws {
        let path = try Self.writeTemporary(Array("a shared secret".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, mode)
        #expect {
            try WebhookSecret.load(path: path)
        } throws: {
            "\($0)".hasPrefix("--webhook-secret-file: permissions 0\(String(mode, radix: 8)) for '\(path)' are too open")
                && !"\($0)".contains("shared secret")
        }
    }

    @Test func loadsASecretTrimmingOneNewline() throws {
        for (contents, expected) in [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc", "abc"), ("abc\n\n", "abc\n"), (" abc ", " abc ")] {
            let path = try Self.writeTemporary(Array(contents.utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try WebhookSecret.load(path: path) == Array(expected.utf8))
        }
    }

    @Test(arguments: ["", "\n", "\r\n"])
    func refusesAnEmptySecret(contents: String) throws {
        let path = try Self.writeTemporary(Array(contents.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try WebhookSecret.load(path: path)
        } throws: { "\($0)".hasPrefix("--webhook-secret-file '\(path)'") && "\($0)".contains("empty") }
    }

    @Test func refusesAMissingOrOversizedSecret() throws {
        let missing = "/nonexistent/skygate-webhook-secret"
        #expect {
            try WebhookSecret.load(path: missing)
        } throws: { "\($0)".hasPrefix("--webhook-secret-file '\(missing)'") && "\($0)".contains("does not exist") }
        let path = try Self.writeTemporary(Array(repeating: 0x61, count: 5_000))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try WebhookSecret.load(path: path) } throws: { "\($0)".contains("--webhook-secret-file") && "\($0)".contains("at most") }
    }
}
