/// A playback or recording session that cannot start: the message names the option (`--db`,
/// `--udp`, `--out`, `--to`) and the problem, ready for the command line to print.
public struct PlaybackError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
