/// A store writer that cannot start (its spill file): the message names the option (`--spill`,
/// `--spill-budget`) and the problem, ready for the command line to print.
public struct StoreWriterError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
