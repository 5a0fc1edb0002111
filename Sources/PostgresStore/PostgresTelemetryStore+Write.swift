import Logging
import NIOCore
import PostgresNIO
import Telemetry
import TelemetryStore
import TelemetryWire

extension PostgresTelemetryStore {
    /// Writes every row of `parts` in one transaction: one COPY into `telemetry` (falling back
    /// to a staging table and `ON CONFLICT DO NOTHING` when a row is already stored), the drones'
    /// latest state, and with `spillSequence` this gateway's spill mark. All or nothing, for the
    /// rows it takes: a batch spanning more days than `Limits.Postgres.partitionsPerBatchMax` has
    /// the frames on its least populated days isolated first (`BatchDays`; the result's
    /// `unitsRefused`), never the whole batch refused.
    public func write(_ parts: [StoreBatchPart], spillSequence: UInt64?) throws(StoreError) -> StoreWriteResult {
        let start = ContinuousClock.now
        var parts = parts
        var rows = 0
        for part in parts { rows += part.columns.count }
        if rows == 0 && spillSequence == nil { return StoreWriteResult(rowsWritten: 0, duration: .zero) }
        var refused = (rows: 0, units: 0)
        if let days = days(of: parts) {
            try ensurePartitions(days)
        } else {
            let counts = BatchDays.rowsByDay(parts)
            let kept = BatchDays.daysKept(counts, limit: Limits.Postgres.partitionsPerBatchMax)
            let isolated = BatchDays.isolate(parts, keeping: kept)
            parts = isolated.parts
            refused = (isolated.rowsRefused, isolated.unitsRefused)
            rows -= isolated.rowsRefused
            logger.warning(
                "a batch spans \(counts.count) days of sample time: \(isolated.unitsRefused) frames (\(isolated.rowsRefused) samples) outside the \(kept.count) days with the most samples refused (batch_days_exceeded)")
            try ensurePartitions(kept.sorted())
        }
        let stored = Int64(SystemClock.realtimeMicroseconds())
        var text = ByteBufferAllocator().buffer(capacity: rows * 96)
        CopyText.encode(parts, storedMicroseconds: stored, into: &text)
        let copyText = text
        mergeLatest(parts)
        let flushesLatest = ContinuousClock.now - lastLatestFlush >= Limits.Postgres.latestFlushInterval
        let latest = flushesLatest ? takeLatestRows() : LatestRows(capacity: 0)
        let gateway = gatewayName
        let logger = logger
        let spillMark = spillSequence.map { Int64(clamping: $0) }
        let rowCount = rows
        let alreadyStored = try transaction("write \(rows) rows") { connection in
            var alreadyStored = 0
            if rowCount > 0 {
                try await connection.query("SAVEPOINT skygate_copy", logger: logger)
                do {
                    try await connection.copyFrom(table: "telemetry", logger: logger) { writer in try await writer.write(copyText) }
                    try await connection.query("RELEASE SAVEPOINT skygate_copy", logger: logger)
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    // A frame of the batch is stored already (another gateway got it too, or a
                    // retried commit had in fact gone through): keep the stored one.
                    try await connection.query("ROLLBACK TO SAVEPOINT skygate_copy", logger: logger)
                    try await connection.query(
                        "CREATE TEMP TABLE IF NOT EXISTS skygate_stage (LIKE telemetry) ON COMMIT DELETE ROWS", logger: logger)
                    try await connection.copyFrom(table: "skygate_stage", logger: logger) { writer in try await writer.write(copyText) }
                    let inserted = try await connection.query("""
                        WITH inserted AS (INSERT INTO telemetry SELECT * FROM skygate_stage ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT count(*) FROM inserted
                        """, logger: logger)
                    for try await count in inserted.decode(Int64.self) { alreadyStored = rowCount - Int(count) }
                }
            }
            try await latest.upsert(connection, storedMicroseconds: stored, gateway: gateway, logger: logger)
            if let spillMark {
                try await connection.query("""
                    INSERT INTO skygate_spill (gateway, committed) VALUES (\(gateway), \(spillMark))
                    ON CONFLICT (gateway) DO UPDATE SET committed = greatest(skygate_spill.committed, excluded.committed)
                    """, logger: logger)
            }
            return alreadyStored
        }
        if flushesLatest {
            pendingLatest.removeAll(keepingCapacity: true)
            lastLatestFlush = ContinuousClock.now
            try pruneLatestIfDue()
        }
        var result = StoreWriteResult(rowsWritten: rows, duration: ContinuousClock.now - start, rowsAlreadyStored: alreadyStored)
        result.rowsRefused = refused.rows
        result.unitsRefused = refused.units
        return result
    }

    /// Keeps `drone_latest` within `latestBound`, every `Limits.Postgres.latestPruneInterval`:
    /// when it holds more than `rowsMax` rows, the drones silent longest among those stored
    /// nothing for `offlineAfter` are deleted until it holds `rowsMax` (never a drone still
    /// online: the table then stays above the bound until drones go offline), counted in
    /// `latestRowsPruned`. Every gateway sharing the store prunes; the DELETE is idempotent.
    func pruneLatestIfDue() throws(StoreError) {
        guard let latestBound, ContinuousClock.now - lastLatestPrune >= Limits.Postgres.latestPruneInterval else { return }
        lastLatestPrune = ContinuousClock.now
        let cutoff = Int64(clamping: SystemClock.realtimeMicroseconds() &- latestBound.offlineAfterMicroseconds)
        let rowsMax = Int64(latestBound.rowsMax)
        let logger = logger
        let deleted = try transaction("prune drone_latest") { connection -> Int64 in
            let rows = try await connection.query("""
                WITH pruned AS (
                  DELETE FROM drone_latest WHERE (protocol, drone) IN (
                    SELECT protocol, drone FROM drone_latest WHERE stored_us < \(cutoff)
                    ORDER BY stored_us LIMIT greatest((SELECT count(*) FROM drone_latest) - \(rowsMax), 0))
                  RETURNING 1)
                SELECT count(*) FROM pruned
                """, logger: logger)
            var count: Int64 = 0
            for try await value in rows.decode(Int64.self) { count = value }
            return count
        }
        if deleted > 0 { latestRowsPruned.add(UInt64(deleted), ordering: .relaxed) }
    }

    /// Writes the drones' latest state still pending (at the end of a run, and before reads of
    /// the fleet from this store).
    func flushLatest() throws(StoreError) {
        guard !pendingLatest.isEmpty else { return }
        let latest = takeLatestRows()
        let stored = Int64(SystemClock.realtimeMicroseconds())
        let gateway = gatewayName
        let logger = logger
        try transaction("write the fleet's latest state") { connection in
            try await latest.upsert(connection, storedMicroseconds: stored, gateway: gateway, logger: logger)
        }
        pendingLatest.removeAll(keepingCapacity: true)
        lastLatestFlush = ContinuousClock.now
    }

    public func spillCommittedSequence() throws(StoreError) -> UInt64 {
        let gateway = gatewayName
        let logger = logger
        return try run("read the spill mark") { connection in
            var committed: Int64 = 0
            let rows = try await connection.query("SELECT committed FROM skygate_spill WHERE gateway = \(gateway)", logger: logger)
            for try await value in rows.decode(Int64.self) { committed = value }
            return UInt64(max(committed, 0))
        }
    }

    /// The UTC days the batch's sample times fall on, or nil when they are more than
    /// `Limits.Postgres.partitionsPerBatchMax` (bounded: the scan stops there, and the caller
    /// isolates rows rather than creating that many tables).
    private func days(of parts: [StoreBatchPart]) -> [Int64]? {
        var days: [Int64] = []
        var last: Int64 = -1
        for part in parts {
            for time in part.columns.timestampsMicroseconds {
                let day = BatchDays.day(ofMicroseconds: time)
                if day == last || days.contains(day) { continue }
                last = day
                days.append(day)
                if days.count > Limits.Postgres.partitionsPerBatchMax { return nil }
            }
        }
        return days
    }

    /// Keeps each drone's latest row of the batch in `pendingLatest` (greatest time, then
    /// sequence), across batches until the next flush.
    private func mergeLatest(_ parts: [StoreBatchPart]) {
        for part in parts {
            let columns = part.columns
            let base = UInt64(part.protocol.rawValue) << 32
            for row in 0..<columns.count {
                let key = base | UInt64(columns.droneID(at: row))
                let time = columns.timestampMicroseconds(at: row)
                let sequence = columns.sequence(at: row)
                if let seen = pendingLatest[key], time < seen.time || (time == seen.time && sequence < seen.sequence) { continue }
                pendingLatest[key] = LatestRow(time: time, sequence: sequence, sample: columns.sample(at: row))
            }
        }
    }

    /// The pending latest rows in (protocol, drone) order, so that two gateways upserting
    /// overlapping drones take the row locks in one order and never deadlock.
    private func takeLatestRows() -> LatestRows {
        var latest = LatestRows(capacity: pendingLatest.count)
        for key in pendingLatest.keys.sorted() {
            latest.append(key: key, pendingLatest[key]!)
        }
        return latest
    }
}

/// One drone's latest sample waiting for the next `drone_latest` upsert.
struct LatestRow {
    var time: UInt64
    var sequence: UInt32
    var sample: WireSample
}

/// The latest row per drone of one batch, as arrays bound to one `unnest` upsert.
struct LatestRows: Sendable {
    var protocols: [Int16] = []
    var drones: [Int64] = []
    var times: [Int64] = []
    var sequences: [Int64] = []
    var latitudes: [Int32] = []
    var longitudes: [Int32] = []
    var altitudes: [Int32] = []
    var velocitiesNorth: [Int16] = []
    var velocitiesEast: [Int16] = []
    var velocitiesDown: [Int16] = []
    var headings: [Int32] = []
    var batteryMillivolts: [Int32] = []
    var batteryPercents: [Int16] = []
    var satellites: [Int16] = []
    var statuses: [Int64] = []

    init(capacity: Int) {
        protocols.reserveCapacity(capacity)
        drones.reserveCapacity(capacity)
        times.reserveCapacity(capacity)
    }

    mutating func append(key: UInt64, _ row: LatestRow) {
        let sample = row.sample
        protocols.append(Int16(truncatingIfNeeded: key >> 32))
        drones.append(Int64(key & 0xFFFF_FFFF))
        times.append(Int64(clamping: row.time))
        sequences.append(Int64(row.sequence))
        latitudes.append(sample.latitudeE7)
        longitudes.append(sample.longitudeE7)
        altitudes.append(sample.altitudeMM)
        velocitiesNorth.append(sample.velocityNorthCMS)
        velocitiesEast.append(sample.velocityEastCMS)
        velocitiesDown.append(sample.velocityDownCMS)
        headings.append(Int32(sample.headingCentidegrees))
        batteryMillivolts.append(Int32(sample.batteryMillivolts))
        batteryPercents.append(Int16(sample.batteryPercent))
        satellites.append(Int16(sample.satellites))
        statuses.append(Int64(sample.status.rawValue))
    }

    func upsert(_ connection: PostgresConnection, storedMicroseconds: Int64, gateway: String, logger: Logger) async throws {
        guard !drones.isEmpty else { return }
        try await connection.query("""
            INSERT INTO drone_latest
            SELECT u.*, \(storedMicroseconds), \(storedMicroseconds), \(gateway)
            FROM unnest(\(protocols)::smallint[], \(drones)::bigint[], \(times)::bigint[], \(sequences)::bigint[],
                        \(latitudes)::integer[], \(longitudes)::integer[], \(altitudes)::integer[],
                        \(velocitiesNorth)::smallint[], \(velocitiesEast)::smallint[], \(velocitiesDown)::smallint[],
                        \(headings)::integer[], \(batteryMillivolts)::integer[], \(batteryPercents)::smallint[],
                        \(satellites)::smallint[], \(statuses)::bigint[]) AS u
            ON CONFLICT (protocol, drone) DO UPDATE SET
              time_us = excluded.time_us, sequence = excluded.sequence, latitude_e7 = excluded.latitude_e7,
              longitude_e7 = excluded.longitude_e7, altitude_mm = excluded.altitude_mm,
              velocity_north_cms = excluded.velocity_north_cms, velocity_east_cms = excluded.velocity_east_cms,
              velocity_down_cms = excluded.velocity_down_cms, heading_cdeg = excluded.heading_cdeg,
              battery_mv = excluded.battery_mv, battery_pct = excluded.battery_pct, satellites = excluded.satellites,
              status = excluded.status, stored_us = excluded.stored_us, gateway = excluded.gateway
            WHERE drone_latest.time_us <= excluded.time_us
            """, logger: logger)
    }
}

/// Rows in PostgreSQL's COPY text format: tab-separated decimal integers, one line per row, in
/// `PostgresSchema.telemetryColumns` order. Written straight into the buffer, no per-row strings.
enum CopyText {
    static func encode(_ parts: [StoreBatchPart], storedMicroseconds: Int64, into buffer: inout ByteBuffer) {
        for part in parts where part.columns.count > 0 {
            let c = part.columns
            let protocolValue = Int64(part.protocol.rawValue)
            let (ids, sequences, times) = (c.droneIDs, c.sequences, c.timestampsMicroseconds)
            let (latitudes, longitudes, altitudes) = (c.latitudesE7, c.longitudesE7, c.altitudesMM)
            let (north, east, down) = (c.velocitiesNorthCMS, c.velocitiesEastCMS, c.velocitiesDownCMS)
            let (headings, millivolts, percents) = (c.headingsCentidegrees, c.batteriesMillivolts, c.batteriesPercent)
            let (satellites, statuses) = (c.satellites, c.statuses)
            for row in 0..<c.count {
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Limits.Postgres.copyRowBytesMax) { raw in
                    let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    var at = 0
                    put(protocolValue, out, &at)
                    put(Int64(ids[row]), out, &at)
                    put(Int64(clamping: times[row]), out, &at)
                    put(Int64(sequences[row]), out, &at)
                    put(Int64(latitudes[row]), out, &at)
                    put(Int64(longitudes[row]), out, &at)
                    put(Int64(altitudes[row]), out, &at)
                    put(Int64(north[row]), out, &at)
                    put(Int64(east[row]), out, &at)
                    put(Int64(down[row]), out, &at)
                    put(Int64(headings[row]), out, &at)
                    put(Int64(millivolts[row]), out, &at)
                    put(Int64(percents[row]), out, &at)
                    put(Int64(satellites[row]), out, &at)
                    put(Int64(statuses[row]), out, &at)
                    put(storedMicroseconds, out, &at, last: true)
                    return at
                }
            }
        }
    }

    /// Writes `value` in decimal and a tab (a newline after the last field).
    @inline(__always)
    static func put(_ value: Int64, _ out: UnsafeMutablePointer<UInt8>, _ at: inout Int, last: Bool = false) {
        var magnitude = value.magnitude
        if value < 0 {
            out[at] = UInt8(ascii: "-")
            at += 1
        }
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var index = at + digits - 1
        repeat {
            out[index] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        at += digits
        out[at] = last ? UInt8(ascii: "\n") : UInt8(ascii: "\t")
        at += 1
    }
}
