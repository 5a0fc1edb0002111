import Crypto
import Foundation
import Telemetry

/// The shared secret that signs webhook requests (`--webhook-secret-file`).
public enum WebhookSecret {
    /// The file's bytes without one trailing newline (`\n` or `\r\n`). Refuses a missing,
    /// unreadable, empty or oversized file, and one that other users can read (`SecretFile`).
    public static func load(path: String) throws(WebhookError) -> [UInt8] {
        let data: [UInt8]
        do {
            data = try SecretFile.read(path: path, option: "--webhook-secret-file")
        } catch {
            throw WebhookError(error.description)
        }
        guard data.count <= Limits.Webhooks.secretBytesMax else {
            throw WebhookError(
                "--webhook-secret-file '\(path)': \(data.count) bytes; a secret is at most \(Limits.Webhooks.secretBytesMax) bytes (is this the right file?)")
        }
        var secret = data
        if secret.last == UInt8(ascii: "\n") {
            secret.removeLast()
            if secret.last == UInt8(ascii: "\r") { secret.removeLast() }
        }
        guard !secret.isEmpty else {
            throw WebhookError("--webhook-secret-file '\(path)': the file is empty; write the shared secret into it")
        }
        return secret
    }
}

extension WebhookDispatcher {
    /// The `X-Skygate-Signature` value of a request: `sha256=` and the lowercase hex
    /// HMAC-SHA256 of `"<timestamp>.<body>"` under the secret (docs/events.md shows a receiver's
    /// check). The timestamp is the request's `X-Skygate-Timestamp`, so a receiver can refuse
    /// old requests and a replayed body cannot be given a new time.
    public static func signature(secret: [UInt8], timestamp: UInt64, body: [UInt8]) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("sha256=".utf8)
        for byte in hmac.finalize() {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
