/// An operating error of webhook configuration (a bad `--webhook` URL, an unusable
/// `--webhook-secret-file`): the message names the option and the bad value, for the command line
/// to print as it is.
public struct WebhookError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
