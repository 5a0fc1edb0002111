import Telemetry
/// How a store is opened. The defaults are the measured choice (docs/architecture.md, "Storage").
public struct StoreOptions: Sendable {
    /// Rows one `write` may hold at most; the sort permutation is preallocated for this many.
    public var batchRowsMaximum: Int = 131_072
    /// SQLite page cache, in KiB (`PRAGMA cache_size = -N`).
    public var cacheSizeKiB: Int = Limits.Store.writerCacheKiB
    /// How long a statement waits for another connection's lock before failing.
    public var busyTimeout: Duration = Limits.Store.busyTimeout
    /// WAL pages after which a commit runs a passive checkpoint (`PRAGMA wal_autocheckpoint`).
    /// Larger values let pages dirtied by many commits be copied to the database once.
    public var walAutoCheckpointPages: Int = 8_192
    /// Recent samples after which the writer compacts them into per-drone chunks...
    public var compactionSamples: Int = Limits.Store.compactionSamples
    /// Samples after which a compaction step (one transaction) starts no new drone group; it
    /// finishes the group it is in, within the arena, which is sized to this or the batch,
    /// whichever is more.
    public var compactionStepSamples: Int = Limits.Store.compactionStepSamples
    /// ...or the age of the oldest of them after which it does, whichever comes first.
    public var compactionAge: Duration = Limits.Store.compactionAge
    /// Samples one chunk holds at most (a drone with more in one compaction gets several).
    public var chunkSamplesMax: Int = Limits.Store.chunkSamplesMax
    /// Microseconds one chunk spans at most (a drone's longer run in one compaction gets several),
    /// unless it holds at most `chunkSparseSamples`...
    public var chunkSpanMaxMicroseconds: UInt64 = Limits.Store.chunkSpanMax.microsecondsClamped
    /// ...a chunk of at most this many samples may span past it...
    public var chunkSparseSamples: Int = Limits.Store.chunkSparseSamples
    /// ...up to this many microseconds (taken as at least `chunkSpanMaxMicroseconds`).
    public var chunkSparseSpanMaxMicroseconds: UInt64 = Limits.Store.chunkSparseSpanMax.microsecondsClamped
    /// Open without writing: no schema creation or migration (an older schema is refused then).
    public var isReadOnly: Bool = false

    /// Table layout; only the benchmark harness and the migration tests choose `.rows`.
    @_spi(Benchmarking) public var layout: StoreLayout = .chunks
    /// `PRAGMA page_size` for a new database; nil leaves SQLite's default (4,096).
    @_spi(Benchmarking) public var pageSize: Int? = nil
    /// Write recent blocks and chunks compressed (format version 3, the default) or plain
    /// (version 1, as before schema v5), so the benchmark measures both in one run.
    @_spi(Benchmarking) public var compressesBlocks: Bool = true

    public init() {}
}

/// Physical layouts of the telemetry tables. Production databases use `.chunks`; `.rows` is
/// schema v2's one row per sample, kept so the benchmark can measure before against after and
/// the tests can write the files that v3 migrates.
@_spi(Benchmarking)
public enum StoreLayout: Sendable, CaseIterable {
    /// Schema v3 and later: recent batches as packed blocks, compacted into per-drone chunks (v4
    /// adds events, v5 compressed blocks, v6 replay marks, v7 the chunk end index, v8 Zstandard blocks).
    case chunks
    /// Schema v2: a rowid table with one row per sample and an index on (protocol, drone, time_us).
    case rows

    /// The schema version the layout is written at.
    var schemaVersion: Int {
        switch self {
        case .chunks: TelemetryStore.schemaVersion
        case .rows: 2
        }
    }
}
