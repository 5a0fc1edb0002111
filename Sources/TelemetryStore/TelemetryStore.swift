import CSQLite
import Telemetry
import TelemetryWire

/// Skygate's telemetry database: one SQLite file in WAL mode holding every stored sample.
///
/// Samples are kept packed (`SampleBlock`): each committed batch is one block in
/// `telemetry_recent`, and `compactIfDue()` moves recent blocks into per-drone chunks in
/// `telemetry_chunk` (docs/storage.md). Readers see both, in one snapshot.
///
/// One store is one connection, used from one thread at a time (the batch processor writes; an
/// exporter or status page opens its own store, read-only if it likes). A `write` is one
/// transaction: every row of every part, or none. See docs/architecture.md, "Storage".
public final class TelemetryStore {
    /// The schema this version writes; older files are migrated up to it on open.
    public static let schemaVersion = 9

    public let path: String
    public let options: StoreOptions

    @usableFromInline var state: OpenState?

    /// Opens (creating if needed) the database at `path`, sets WAL, `synchronous=NORMAL`, the page
    /// cache and busy timeout, and migrates an older schema. A newer schema is refused.
    public init(path: String, options: StoreOptions = StoreOptions()) throws(StoreError) {
        precondition(options.batchRowsMaximum > 0 && options.batchRowsMaximum <= 1 << 24)
        precondition(options.compactionSamples > 0 && options.compactionSamples <= 1 << 24)
        precondition(options.compactionStepSamples > 0 && options.compactionStepSamples <= 1 << 24)
        precondition(options.chunkSamplesMax > 0 && options.chunkSamplesMax <= 1 << 20)
        self.path = path
        self.options = options
        let connection = try SQLiteConnection(path: path, readOnly: options.isReadOnly)
        let timeoutMilliseconds = options.busyTimeout.nanosecondsClamped / 1_000_000
        sqlite3_busy_timeout(connection.handle, Int32(clamping: timeoutMilliseconds))
        try connection.execute("PRAGMA cache_size = -\(options.cacheSizeKiB)")
        if !options.isReadOnly {
            if let pageSize = options.pageSize { try connection.execute("PRAGMA page_size = \(pageSize)") }
            // A new file keeps a pointer map so `checkpoint` can give free pages back (below); a
            // file made before cannot switch without a VACUUM and keeps reusing them instead.
            if try connection.integer("PRAGMA page_count") == 0 {
                try connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
            }
            let mode = try connection.prepare("PRAGMA journal_mode = WAL")
            guard try mode.step(), mode.text(0).lowercased() == "wal" else {
                throw .openFailed(path: path, message: "cannot switch to WAL journal mode")
            }
            try connection.execute(
                "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = \(options.walAutoCheckpointPages);"
                    + " PRAGMA temp_store = MEMORY")
        }
        try Self.migrate(connection, layout: options.layout, readOnly: options.isReadOnly)
        state = try OpenState(connection: connection, options: options)
    }

    deinit { state?.connection.close() }

    /// Finalizes the statements and closes the connection (SQLite checkpoints and removes the WAL
    /// when the last connection closes). Later calls throw `StoreError.closed`.
    public func close() {
        guard let state else { return }
        self.state = nil
        state.finalizeStatements()
        state.connection.close()
    }

    @usableFromInline
    func openState() throws(StoreError) -> OpenState {
        guard let state else { throw .closed }
        return state
    }

    /// Gives the free pages back to the file system (files created with incremental auto-vacuum,
    /// i.e. since schema v5), then copies the WAL into the database file, truncating both (at
    /// shutdown). Free pages are what compaction and retention deleted: at most a compaction's
    /// worth of recent blocks plus the chunks retention dropped, which the next writes would reuse.
    public func checkpoint() throws(StoreError) {
        let connection = try openState().connection
        if !options.isReadOnly, try connection.integer("PRAGMA auto_vacuum") == 2 {
            try connection.execute("PRAGMA incremental_vacuum")
        }
        var logFrames: Int32 = 0
        var checkpointedFrames: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(
            connection.handle, nil, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointedFrames)
        if code != SQLITE_OK { throw connection.error(code, "wal_checkpoint(TRUNCATE)") }
    }

    /// Bytes the database holds (pages × page size, including pages still only in the WAL).
    public func databaseSizeBytes() throws(StoreError) -> Int {
        let connection = try openState().connection
        let pages = try connection.integer("PRAGMA page_count") ?? 0
        let pageSize = try connection.integer("PRAGMA page_size") ?? 0
        return Int(pages * pageSize)
    }

    /// `PRAGMA integrity_check`: "ok", or the problems found, one per line.
    public func integrityCheck() throws(StoreError) -> String {
        let statement = try openState().connection.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.text(0)) }
        return lines.joined(separator: "\n")
    }

    /// The schema version recorded in the file.
    public func storedSchemaVersion() throws(StoreError) -> Int {
        try Int(openState().connection.integer("SELECT version FROM schema_version") ?? 0)
    }
}

/// Everything a store holds while open: the connection and its reusable statements and buffers.
@usableFromInline
final class OpenState {
    let connection: SQLiteConnection
    let layout: StoreLayout
    var rowWriter: RowWriter?
    var chunkWriter: ChunkWriter?
    var begin: SQLiteStatement?
    var commit: SQLiteStatement?
    var rollback: SQLiteStatement?

    init(connection: SQLiteConnection, options: StoreOptions) throws(StoreError) {
        self.connection = connection
        self.layout = options.layout
        if !options.isReadOnly {
            begin = try connection.prepare("BEGIN IMMEDIATE")
            commit = try connection.prepare("COMMIT")
            rollback = try connection.prepare("ROLLBACK")
            switch options.layout {
            case .chunks: chunkWriter = try ChunkWriter(connection: connection, options: options)
            case .rows: rowWriter = try RowWriter(connection: connection, rowsMaximum: options.batchRowsMaximum)
            }
        }
    }

    /// The decoder this store's queries read compressed blocks with: its Zstandard workspace and
    /// a 64 KiB staging buffer (`SampleCodec.decoderBytes`), made at the first query that needs one and
    /// kept, as the statements are. Making them per query (twice for one drone's samples: its
    /// recent blocks, then its chunks) was a fixed cost on every short query. One query at a time
    /// (a store is used from one thread at a time), and a reader's views end with the query.
    lazy var queryDecoder = SampleBlockDecoder()

    func finalizeStatements() {
        rowWriter = nil
        chunkWriter = nil
        begin = nil
        commit = nil
        rollback = nil
    }

    /// Runs `body` inside one read transaction, so every statement in it sees one snapshot (a
    /// compaction between two of them cannot show a sample twice or not at all).
    func inReadTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if sqlite3_get_autocommit(connection.handle) == 0 { return try body() }
        try connection.runCached("BEGIN")
        do {
            let result = try body()
            try connection.runCached("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(connection.handle) == 0 { try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` inside one write transaction, rolled back if it throws.
    func inTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        guard let begin, let commit, let rollback else {
            throw .sqlite(code: SQLITE_READONLY, message: "store opened read-only", context: "BEGIN")
        }
        try begin.run()
        do {
            let result = try body()
            try commit.run()
            return result
        } catch {
            // A failed COMMIT or statement leaves the transaction open; roll it back so the
            // connection is usable for the next batch. SQLite may already have rolled back.
            if sqlite3_get_autocommit(connection.handle) == 0 { try? rollback.run() }
            throw error
        }
    }
}
