import CSQLite
import Telemetry

/// One SQLite connection: a thin owner of the `sqlite3` handle with typed-throwing helpers. Not
/// thread-safe by design; the store that owns it is used from one thread (the writer) at a time.
@usableFromInline
final class SQLiteConnection {
    @usableFromInline let handle: OpaquePointer
    private var isClosed = false
    /// Query statements kept prepared (`cached`), by their text.
    private var statements: [String: SQLiteStatement] = [:]

    init(path: String, readOnly: Bool) throws(StoreError) {
        var pointer: OpaquePointer?
        let flags = readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        // SQLite creates a new database 0644 and gives its -wal and -shm files the database's
        // mode: made 0600 first, none of the three is readable by other users. (A failure here is
        // left to SQLite to report, in its words.)
        if !readOnly && !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:") {
            _ = PrivateFile.createIfMissing(path)
        }
        let code = sqlite3_open_v2(path, &pointer, flags, nil)
        guard code == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            if let pointer { sqlite3_close_v2(pointer) }
            throw .openFailed(path: path, message: message)
        }
        handle = pointer
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        statements.removeAll()
        // close_v2 defers the close until every statement is finalized, so order does not matter.
        sqlite3_close_v2(handle)
    }

    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func error(_ code: Int32, _ context: String) -> StoreError {
        .sqlite(code: code, message: errorMessage, context: context)
    }

    /// Runs one or more statements that return no rows of interest.
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw .sqlite(code: code, message: text, context: sql)
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var pointer: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard code == SQLITE_OK, let pointer else { throw error(code, sql) }
        return SQLiteStatement(pointer, connection: self, sql: sql)
    }

    /// `sql` prepared once for this connection and kept (up to `Limits.Store.cachedStatementsMax`
    /// texts; past them it is prepared for this use only), reset with its bindings cleared. The
    /// caller calls `done()` when finished with it, which resets it (so an unfinished read does
    /// not hold its snapshot) and gives it back; until then a second use of the same text (a
    /// query run from inside another's page callback) gets a statement of its own.
    func cached(_ sql: String) throws(StoreError) -> SQLiteStatement {
        if let statement = statements[sql] {
            if !statement.inUse {
                statement.reset()
                statement.inUse = true
                return statement
            }
            return try prepare(sql)
        }
        let statement = try prepare(sql)
        if statements.count < Limits.Store.cachedStatementsMax {
            statements[sql] = statement
            statement.inUse = true
        }
        return statement
    }

    /// Runs `sql` (no rows of interest) through the statement cache.
    func runCached(_ sql: String) throws(StoreError) {
        let statement = try cached(sql)
        defer { statement.done() }
        try statement.run()
    }

    /// The first column of the first row of `sql`, as an integer (nil when there is no row).
    func integer(_ sql: String) throws(StoreError) -> Int64? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.int64(0) : nil
    }

    /// `integer` through the statement cache, for a text a query runs every time.
    func cachedInteger(_ sql: String) throws(StoreError) -> Int64? {
        let statement = try cached(sql)
        defer { statement.done() }
        return try statement.step() ? statement.int64(0) : nil
    }

    var changes: Int { Int(sqlite3_changes64(handle)) }
}

/// A prepared statement, reset after each use and finalized with its owner.
@usableFromInline
final class SQLiteStatement {
    @usableFromInline let handle: OpaquePointer
    private unowned let connection: SQLiteConnection
    let sql: String
    /// A cached statement handed out and not yet given back (`SQLiteConnection.cached`).
    fileprivate var inUse = false

    init(_ handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    @inline(__always)
    func bind(_ index: Int32, _ value: Int64) {
        // Binding an integer to a valid index of a prepared statement cannot fail.
        sqlite3_bind_int64(handle, index, value)
    }

    @inline(__always)
    func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }

    func bind(_ index: Int32, _ text: String) throws(StoreError) {
        let code = text.withCString { sqlite3_bind_text(handle, index, $0, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self)) }
        if code != SQLITE_OK { throw connection.error(code, sql) }
    }

    /// Binds `bytes` without copying (SQLITE_STATIC): they must stay valid until the statement
    /// is stepped and reset, which `run()` does at once.
    @inline(__always)
    func bindBlob(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob64(handle, index, bytes.baseAddress, sqlite3_uint64(bytes.count), nil)
    }

    /// Steps once: true for a row, false when done. Errors reset the statement.
    @discardableResult
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let failure = connection.error(code, sql)
        sqlite3_reset(handle)
        throw failure
    }

    /// Steps a statement that returns no rows, then resets it for reuse.
    func run() throws(StoreError) {
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code != SQLITE_DONE && code != SQLITE_ROW { throw connection.error(code, sql) }
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets a statement from `SQLiteConnection.cached` and gives it back to the cache.
    func done() {
        reset()
        inUse = false
    }

    @inline(__always) func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    @inline(__always) func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    @inline(__always) func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    /// A blob column's bytes, valid until the statement steps again or is reset.
    func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        guard let pointer = sqlite3_column_blob(handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column)))
    }
    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: pointer)
    }
}
