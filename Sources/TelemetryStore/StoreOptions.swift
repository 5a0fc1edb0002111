import Telemetry
/// How a store is opened. The defaults are the measured choice (docs/architecture.md, "Storage").
public struct StoreOptions: Sendable {
    /// Rows one `write` may hold at most; the sort permutation is preallocated for this many.
    public var batchRowsMaximum: Int = 131_072
    /// SQLite page cache, in KiB (`PRAGMA cache_size = -N`).
    public var cacheSizeKiB: Int = 65_536
    /// How long a statement waits for another connection's lock before failing.
    public var busyTimeout: Duration = Limits.Store.busyTimeout
    /// WAL pages after which a commit runs a passive checkpoint (`PRAGMA wal_autocheckpoint`).
    /// Larger values let pages dirtied by many commits be copied to the database once.
    public var walAutoCheckpointPages: Int = 8_192
    /// Open without writing: no schema creation or migration (an older schema is refused then).
    public var isReadOnly: Bool = false

    /// Table layout; only the benchmark harness chooses anything but `.indexed`.
    @_spi(Benchmarking) public var layout: StoreLayout = .indexed
    /// `PRAGMA page_size` for a new database; nil leaves SQLite's default (4,096).
    @_spi(Benchmarking) public var pageSize: Int? = nil

    public init() {}
}

/// Physical layouts of the telemetry table, kept so the benchmark can measure the alternatives
/// with the same writer. Production databases use `.indexed`.
@_spi(Benchmarking)
public enum StoreLayout: Sendable, CaseIterable {
    /// Rowid table plus an index on (protocol, drone, time_us).
    case indexed
    /// Rowid table without any index (the lower bound on insert cost; queries scan).
    case unindexed
    /// WITHOUT ROWID table clustered on (protocol, drone, time_us, sequence).
    case clustered
}
