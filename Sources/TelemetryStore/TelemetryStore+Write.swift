import CSQLite
import Telemetry
import TelemetryWire

/// One protocol's samples of a batch. The pipeline keeps one `SampleColumns` per protocol; a
/// batch reaches the store as one or more parts, written in one transaction.
public struct StoreBatchPart {
    public var `protocol`: TelemetryProtocol
    public var columns: SampleColumns

    public init(protocol: TelemetryProtocol, columns: SampleColumns) {
        self.protocol = `protocol`
        self.columns = columns
    }
}

/// What one `write` did.
public struct StoreWriteResult: Sendable, Equatable {
    /// Rows inserted (every row of every part).
    public var rowsWritten: Int
    /// From BEGIN to the end of COMMIT, including the sort.
    public var duration: Duration
    /// Rows of the batch the store already held and kept once (a shared store: another gateway
    /// stored the same frame, or a retried commit had in fact committed). Never more than
    /// `rowsWritten`; always 0 for SQLite, whose gateway is the only writer.
    public var rowsAlreadyStored: Int = 0
    /// Frames (units) of the batch the store refused and left out, and their rows: PostgreSQL's
    /// frames on days beyond the partitions one batch may create (`rejected{batch_days_exceeded}`).
    /// Not in `rowsWritten`; always 0 for SQLite.
    public var unitsRefused: Int = 0
    public var rowsRefused: Int = 0

    public init(rowsWritten: Int, duration: Duration, rowsAlreadyStored: Int = 0) {
        self.rowsWritten = rowsWritten
        self.duration = duration
        self.rowsAlreadyStored = rowsAlreadyStored
    }
}

/// What one compaction did.
public struct StoreCompactionResult: Sendable, Equatable {
    /// Samples moved from recent blocks into chunks.
    public var samples: Int
    /// Chunks written and recent blocks deleted.
    public var chunks: Int
    public var blocks: Int
    /// Transactions committed (one per arena-full of recent blocks).
    public var transactions: Int
    public var duration: Duration

    public init(samples: Int, chunks: Int, blocks: Int, transactions: Int, duration: Duration) {
        self.samples = samples
        self.chunks = chunks
        self.blocks = blocks
        self.transactions = transactions
        self.duration = duration
    }
}

extension TelemetryStore {
    /// Writes every row of `parts` in one transaction, sorted by (protocol, drone, time). All or
    /// nothing: on error no row of the batch is stored. With `spillSequence`, the same
    /// transaction records that the spill file's record of that number is stored, so a restart
    /// replays only what is not (`spillCommittedSequence()`). Allocates nothing per row.
    public func write(_ parts: [StoreBatchPart], spillSequence: UInt64? = nil) throws(StoreError) -> StoreWriteResult {
        let state = try openState()
        var rows = 0
        for part in parts { rows += part.columns.count }
        if rows > options.batchRowsMaximum { throw .batchTooLarge(rows: rows, maximum: options.batchRowsMaximum) }
        let start = ContinuousClock.now
        let stored = UInt64(SystemClock.realtimeMicroseconds())
        if let writer = state.chunkWriter {
            if rows > 0 || spillSequence != nil {
                try state.inTransaction { () throws(StoreError) in
                    try writer.append(parts, storedMicroseconds: stored, spillSequence: spillSequence)
                }
                writer.noteCommitted(samples: rows)
            }
        } else if let writer = state.rowWriter {
            precondition(spillSequence == nil, "the row layout does not keep a spill mark")
            if rows > 0 {
                writer.prepare(parts)
                try state.inTransaction { () throws(StoreError) in try writer.insertSorted(storedMicroseconds: Int64(stored)) }
            }
        } else {
            throw .sqlite(code: SQLITE_READONLY, message: "store opened read-only", context: "write")
        }
        return StoreWriteResult(rowsWritten: rows, duration: ContinuousClock.now - start)
    }

    /// Writes one protocol's columns in one transaction.
    public func write(_ columns: SampleColumns, protocol: TelemetryProtocol) throws(StoreError) -> StoreWriteResult {
        try write([StoreBatchPart(protocol: `protocol`, columns: columns)])
    }

    /// Whether enough recent samples (or old enough ones) wait to be compacted into chunks.
    public var isCompactionDue: Bool { state?.chunkWriter?.isCompactionDue ?? false }

    /// Compacts the recent blocks into per-drone chunks when `isCompactionDue`; nil when not.
    /// A failure leaves the recent blocks as they were (stored, readable, compacted later).
    public func compactIfDue() throws(StoreError) -> StoreCompactionResult? {
        guard isCompactionDue else { return nil }
        return try compactAll()
    }

    /// Compacts every recent block into chunks now (at shutdown, or when asked), one transaction
    /// per arena-full. The row layout has nothing to compact.
    @discardableResult
    public func compactAll() throws(StoreError) -> StoreCompactionResult {
        let state = try openState()
        let start = ContinuousClock.now
        var result = StoreCompactionResult(samples: 0, chunks: 0, blocks: 0, transactions: 0, duration: .zero)
        guard let writer = state.chunkWriter else { return result }
        // Bounded: each step deletes at least one block, and the table has finitely many.
        while true {
            let step = try state.inTransaction { () throws(StoreError) in try writer.compactStep() }
            writer.noteCompacted(samples: step.samples, recentRemain: step.more)
            if step.blocks == 0 { break }
            result.samples += step.samples
            result.chunks += step.chunks
            result.blocks += step.blocks
            result.transactions += 1
            if !step.more { break }
        }
        result.duration = ContinuousClock.now - start
        return result
    }

    /// The highest spill-file record number whose samples are stored (0 when none ever were).
    public func spillCommittedSequence() throws(StoreError) -> UInt64 {
        let state = try openState()
        guard state.layout == .chunks else { return 0 }
        return UInt64(bitPattern: try state.connection.integer("SELECT value FROM store_meta WHERE name = 'spill_committed'") ?? 0)
    }

    /// Records that spill records up to `sequence` need no replay (an empty record, or one whose
    /// samples were all refused), in a transaction of its own.
    public func markSpillCommitted(_ sequence: UInt64) throws(StoreError) {
        let state = try openState()
        guard let writer = state.chunkWriter else { return }
        try state.inTransaction { () throws(StoreError) in try writer.markSpill(sequence) }
    }
}

/// The columns of one part, read once per batch.
struct PartColumns {
    var protocolValue: Int64
    var droneIDs: UnsafeBufferPointer<UInt32>
    var sequences: UnsafeBufferPointer<UInt32>
    var timestamps: UnsafeBufferPointer<UInt64>
    var latitudes: UnsafeBufferPointer<Int32>
    var longitudes: UnsafeBufferPointer<Int32>
    var altitudes: UnsafeBufferPointer<Int32>
    var velocitiesNorth: UnsafeBufferPointer<Int16>
    var velocitiesEast: UnsafeBufferPointer<Int16>
    var velocitiesDown: UnsafeBufferPointer<Int16>
    var headings: UnsafeBufferPointer<UInt16>
    var batteryMillivolts: UnsafeBufferPointer<UInt16>
    var batteryPercents: UnsafeBufferPointer<UInt8>
    var satellites: UnsafeBufferPointer<UInt8>
    var statuses: UnsafeBufferPointer<UInt32>

    init(_ part: StoreBatchPart) {
        let columns = part.columns
        protocolValue = Int64(part.protocol.rawValue)
        droneIDs = columns.droneIDs
        sequences = columns.sequences
        timestamps = columns.timestampsMicroseconds
        latitudes = columns.latitudesE7
        longitudes = columns.longitudesE7
        altitudes = columns.altitudesMM
        velocitiesNorth = columns.velocitiesNorthCMS
        velocitiesEast = columns.velocitiesEastCMS
        velocitiesDown = columns.velocitiesDownCMS
        headings = columns.headingsCentidegrees
        batteryMillivolts = columns.batteriesMillivolts
        batteryPercents = columns.batteriesPercent
        satellites = columns.satellites
        statuses = columns.statuses
    }
}

/// The row layout's writer (schema v2, one row per sample; kept for the benchmark's comparison
/// and migration tests): the insert statements and sort buffers, allocated once per store.
final class RowWriter {
    /// Rows per multi-row INSERT. 64 × 16 parameters stays far below SQLite's variable limit and
    /// measured ~1.5× a single-row insert in the C baseline (sqlite_multi64 vs sqlite_base).
    static let rowsPerStatement = Limits.Store.rowsPerStatement
    static let columnsPerRow: Int32 = 16
    static let insertPrefix = """
        INSERT INTO telemetry (protocol, drone, time_us, sequence, latitude_e7, longitude_e7, altitude_mm,
        velocity_north_cms, velocity_east_cms, velocity_down_cms, heading_cdeg, battery_mv, battery_pct,
        satellites, status, stored_us) VALUES
        """

    let rowsMaximum: Int
    private let insertMany: SQLiteStatement
    private let insertOne: SQLiteStatement
    private let sorter: SortBuffer
    private var entries: UnsafeMutableBufferPointer<SortEntry> { sorter.entries }
    private var partColumns: [PartColumns] = []
    private var entryCount = 0

    init(connection: SQLiteConnection, rowsMaximum: Int) throws(StoreError) {
        self.rowsMaximum = rowsMaximum
        let placeholder = "(" + Array(repeating: "?", count: Int(Self.columnsPerRow)).joined(separator: ",") + ")"
        insertMany = try connection.prepare(
            Self.insertPrefix + " " + Array(repeating: placeholder, count: Self.rowsPerStatement).joined(separator: ","))
        insertOne = try connection.prepare(Self.insertPrefix + " " + placeholder)
        sorter = SortBuffer(capacity: rowsMaximum)
        partColumns.reserveCapacity(8)
    }

    /// Builds the sort permutation of every row of `parts`. Keeps arrival order where the keys
    /// are equal; allocates nothing (the part array only grows past 8 parts, which the pipeline
    /// never passes).
    func prepare(_ parts: [StoreBatchPart]) {
        partColumns.removeAll(keepingCapacity: true)
        var count = 0
        var isSorted = true
        var previous = SortEntry(high: 0, low: 0, part: 0, row: 0)
        for (partIndex, part) in parts.enumerated() {
            let columns = PartColumns(part)
            partColumns.append(columns)
            let protocolBits = UInt64(part.protocol.rawValue) << 32
            for row in 0..<columns.droneIDs.count {
                let entry = SortEntry(
                    high: protocolBits | UInt64(columns.droneIDs[row]), low: columns.timestamps[row],
                    part: UInt32(truncatingIfNeeded: partIndex), row: UInt32(truncatingIfNeeded: row))
                if count > 0 && SortEntry.precedes(entry, previous) { isSorted = false }
                sorter.entries[count] = entry
                previous = entry
                count += 1
            }
        }
        entryCount = count
        if !isSorted { sorter.sort(count: count) }
    }

    /// Inserts the prepared rows in sorted order: full 64-row statements, then single rows.
    func insertSorted(storedMicroseconds: Int64) throws(StoreError) {
        let count = entryCount
        var next = 0
        let many = Self.rowsPerStatement
        while count - next >= many {
            for slot in 0..<many { bind(insertMany, row: entries[next + slot], firstIndex: Int32(slot) * Self.columnsPerRow + 1, stored: storedMicroseconds) }
            try insertMany.run()
            next += many
        }
        while next < count {
            bind(insertOne, row: entries[next], firstIndex: 1, stored: storedMicroseconds)
            try insertOne.run()
            next += 1
        }
    }

    @inline(__always)
    private func bind(_ statement: SQLiteStatement, row entry: SortEntry, firstIndex index: Int32, stored: Int64) {
        let columns = partColumns[Int(entry.part)]
        let row = Int(entry.row)
        let handle = statement.handle
        sqlite3_bind_int64(handle, index, columns.protocolValue)
        sqlite3_bind_int64(handle, index + 1, Int64(columns.droneIDs[row]))
        sqlite3_bind_int64(handle, index + 2, Int64(bitPattern: columns.timestamps[row]))
        sqlite3_bind_int64(handle, index + 3, Int64(columns.sequences[row]))
        sqlite3_bind_int64(handle, index + 4, Int64(columns.latitudes[row]))
        sqlite3_bind_int64(handle, index + 5, Int64(columns.longitudes[row]))
        sqlite3_bind_int64(handle, index + 6, Int64(columns.altitudes[row]))
        sqlite3_bind_int64(handle, index + 7, Int64(columns.velocitiesNorth[row]))
        sqlite3_bind_int64(handle, index + 8, Int64(columns.velocitiesEast[row]))
        sqlite3_bind_int64(handle, index + 9, Int64(columns.velocitiesDown[row]))
        sqlite3_bind_int64(handle, index + 10, Int64(columns.headings[row]))
        sqlite3_bind_int64(handle, index + 11, Int64(columns.batteryMillivolts[row]))
        sqlite3_bind_int64(handle, index + 12, Int64(columns.batteryPercents[row]))
        sqlite3_bind_int64(handle, index + 13, Int64(columns.satellites[row]))
        sqlite3_bind_int64(handle, index + 14, Int64(columns.statuses[row]))
        sqlite3_bind_int64(handle, index + 15, stored)
    }
}
