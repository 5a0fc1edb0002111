/// What can go wrong in the store. All are operating errors (a full disk, a file from a newer
/// Skygate, a damaged database); programmer errors are preconditions.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Whether this is an outage of a network store rather than a refused write.
    public var isUnavailable: Bool { if case .unavailable = self { true } else { false } }

    /// The database file could not be opened or created.
    case openFailed(path: String, message: String)
    /// The file was written by a newer Skygate whose schema this version does not know.
    case schemaTooNew(found: Int, supported: Int)
    /// A batch had more rows than the store was opened for (`StoreOptions.batchRowsMaximum`).
    case batchTooLarge(rows: Int, maximum: Int)
    /// The store was used after `close()`.
    case closed
    /// SQLite reported an error; `context` is the statement or step that failed.
    case sqlite(code: Int32, message: String, context: String)
    /// A `--db` value that names no store (a malformed URL, a password in the URL).
    case invalidLocation(String)
    /// A network store cannot be reached now (refused, closed, restarting): an outage, which the
    /// writer rides out through the spill file and reconnects after.
    case unavailable(String)
    /// The database server refused a statement or the login (`message` has its SQLSTATE).
    case database(message: String, context: String)

    public var description: String {
        switch self {
        case let .openFailed(path, message):
            "cannot open database \(path): \(message)"
        case let .schemaTooNew(found, supported):
            "database schema version \(found) is newer than this Skygate supports (\(supported)); use a newer Skygate"
        case let .batchTooLarge(rows, maximum):
            "batch of \(rows) rows exceeds the store's limit of \(maximum) rows per write"
        case .closed:
            "the store is closed"
        case let .sqlite(code, message, context):
            "SQLite error \(code) (\(message)) in: \(context.prefix(120))"
        case let .invalidLocation(message):
            message
        case let .unavailable(message):
            "database unavailable: \(message)"
        case let .database(message, context):
            "PostgreSQL error \(message) in: \(context.prefix(120))"
        }
    }
}
