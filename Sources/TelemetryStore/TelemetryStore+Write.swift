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
}

extension TelemetryStore {
    /// Writes every row of `parts` in one transaction, sorted by (protocol, drone, time) so each
    /// drone's rows land next to each other in the index. All or nothing: on error no row of the
    /// batch is stored. Allocates nothing per row; the statements and sort buffers are reused.
    public func write(_ parts: [StoreBatchPart]) throws(StoreError) -> StoreWriteResult {
        let state = try openState()
        guard let writer = state.writer else {
            throw .sqlite(code: SQLITE_READONLY, message: "store opened read-only", context: "write")
        }
        var rows = 0
        for part in parts { rows += part.columns.count }
        if rows > writer.rowsMaximum { throw .batchTooLarge(rows: rows, maximum: writer.rowsMaximum) }
        let start = ContinuousClock.now
        if rows > 0 {
            writer.prepare(parts)
            try state.inTransaction { () throws(StoreError) in try writer.insertSorted(storedMicroseconds: Int64(SystemClock.realtimeMicroseconds())) }
        }
        return StoreWriteResult(rowsWritten: rows, duration: ContinuousClock.now - start)
    }

    /// Writes one protocol's columns in one transaction.
    public func write(_ columns: SampleColumns, protocol: TelemetryProtocol) throws(StoreError) -> StoreWriteResult {
        try write([StoreBatchPart(protocol: `protocol`, columns: columns)])
    }
}

/// A row's sort key and where to find it: (protocol, drone) in `high`, time in `low`, then
/// part and row. Stable order for equal keys keeps arrival order.
@usableFromInline
struct SortEntry {
    var high: UInt64
    var low: UInt64
    var part: UInt32
    var row: UInt32

    @inline(__always)
    static func precedes(_ a: SortEntry, _ b: SortEntry) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
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

/// The insert statements and sort buffers, allocated once per store.
final class BatchWriter {
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
    private let entries: UnsafeMutableBufferPointer<SortEntry>
    private let scratch: UnsafeMutableBufferPointer<SortEntry>
    private var partColumns: [PartColumns] = []
    private var entryCount = 0

    init(connection: SQLiteConnection, rowsMaximum: Int) throws(StoreError) {
        self.rowsMaximum = rowsMaximum
        let placeholder = "(" + Array(repeating: "?", count: Int(Self.columnsPerRow)).joined(separator: ",") + ")"
        insertMany = try connection.prepare(
            Self.insertPrefix + " " + Array(repeating: placeholder, count: Self.rowsPerStatement).joined(separator: ","))
        insertOne = try connection.prepare(Self.insertPrefix + " " + placeholder)
        entries = .allocate(capacity: rowsMaximum)
        scratch = .allocate(capacity: rowsMaximum)
        partColumns.reserveCapacity(8)
    }

    deinit {
        entries.deallocate()
        scratch.deallocate()
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
                entries[count] = entry
                previous = entry
                count += 1
            }
        }
        entryCount = count
        if !isSorted { mergeSort(count: count) }
    }

    /// Stable bottom-up merge sort of `entries[0..<count]` through the preallocated `scratch`:
    /// insertion sort of 32-entry runs, then merges of doubling width.
    private func mergeSort(count: Int) {
        let run = 32
        var start = 0
        while start < count {
            let end = min(start + run, count)
            var index = start + 1
            while index < end {
                let entry = entries[index]
                var hole = index
                while hole > start && SortEntry.precedes(entry, entries[hole - 1]) {
                    entries[hole] = entries[hole - 1]
                    hole -= 1
                }
                entries[hole] = entry
                index += 1
            }
            start = end
        }
        var source = entries
        var target = scratch
        var width = run
        while width < count {
            var left = 0
            while left < count {
                let middle = min(left + width, count)
                let right = min(left + 2 * width, count)
                var i = left, j = middle, k = left
                while i < middle && j < right {
                    if SortEntry.precedes(source[j], source[i]) {
                        target[k] = source[j]; j += 1
                    } else {
                        target[k] = source[i]; i += 1
                    }
                    k += 1
                }
                while i < middle { target[k] = source[i]; i += 1; k += 1 }
                while j < right { target[k] = source[j]; j += 1; k += 1 }
                left = right
            }
            swap(&source, &target)
            width *= 2
        }
        if source.baseAddress != entries.baseAddress {
            _ = UnsafeMutableBufferPointer(rebasing: entries[0..<count]).update(fromContentsOf: source[0..<count])
        }
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
