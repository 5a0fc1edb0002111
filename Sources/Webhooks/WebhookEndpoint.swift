import Foundation
import Telemetry

/// One receiver of webhook deliveries, parsed from a `--webhook URL` value.
public struct WebhookEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The URL requests are posted to, as given.
    public let url: String
    /// The URL's origin, with `/…` when it has a path: what logs, errors and metric labels show.
    /// The path and query are left out because receivers (chat hooks, for one) often carry their
    /// secret token there.
    public let displayName: String

    public var description: String { displayName }

    /// Parses a `--webhook` value: an absolute http or https URL with a host, no user name or
    /// password (sign requests with `--webhook-secret-file` instead) and no fragment.
    public init(parsing text: String) throws(WebhookError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw WebhookError("--webhook '\(text)': not a URL (expected http://HOST[:PORT]/PATH or https://...)")
        }
        guard scheme == "http" || scheme == "https" else {
            throw WebhookError("--webhook '\(Self.redactingUserInfo(text))': the scheme must be http or https, not '\(scheme)'")
        }
        // Checked before anything that echoes the value, so a password never reaches a message.
        if components.user != nil || components.password != nil {
            throw WebhookError(
                "--webhook '\(Self.redactingUserInfo(text))': a user name or password in the URL is refused (it would be logged and sent in the clear); sign requests with --webhook-secret-file instead"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw WebhookError("--webhook '\(text)': the URL has no host")
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw WebhookError("--webhook '\(text)': port \(port) is not in 1...65535")
        }
        if components.fragment != nil {
            throw WebhookError("--webhook '\(text)': a fragment (#...) is never sent to the receiver; remove it")
        }
        url = text
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let portText = components.port.map { ":\($0)" } ?? ""
        let hasPath = !(components.path.isEmpty || components.path == "/") || components.query != nil
        displayName = "\(scheme)://\(hostText)\(portText)\(hasPath ? "/…" : "")"
    }

    /// The endpoints of every `--webhook` value, in order: at most `Limits.Webhooks.endpointsMax`,
    /// no URL twice.
    public static func parse(_ values: [String]) throws(WebhookError) -> [WebhookEndpoint] {
        guard values.count <= Limits.Webhooks.endpointsMax else {
            throw WebhookError("--webhook: given \(values.count) times; at most \(Limits.Webhooks.endpointsMax) endpoints")
        }
        var endpoints: [WebhookEndpoint] = []
        for value in values {
            let endpoint = try WebhookEndpoint(parsing: value)
            if endpoints.contains(where: { $0.url == endpoint.url }) {
                throw WebhookError("--webhook '\(endpoint.displayName)': given twice (each event would be posted twice)")
            }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    /// The text with whatever sits between `://` and `@` replaced by `***`.
    static func redactingUserInfo(_ text: String) -> String {
        guard let start = text.range(of: "://"), let at = text[start.upperBound...].firstIndex(of: "@") else { return text }
        let authorityEnd = text[start.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        guard at < authorityEnd else { return text }
        return String(text[..<start.upperBound]) + "***" + String(text[at...])
    }
}
