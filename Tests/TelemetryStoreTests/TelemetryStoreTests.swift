import CSQLite
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory under the system temp dir holding one database path; removed (with the WAL
/// and shared-memory files) when `body` returns.
func withTemporaryDatabase<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/skygate-store-XXXXXX".utf8CString)
    let directory = try template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let made = mkdtemp(buffer.baseAddress!) else { throw TestFailure("mkdtemp failed") }
        return String(cString: made)
    }
    let path = directory + "/telemetry.db"
    defer {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
        rmdir(directory)
    }
    return try body(path)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs raw SQL on a database file through its own connection, as an older Skygate or another
/// tool would.
func rawSQL(_ path: String, _ sql: String) throws {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK else { throw TestFailure("open \(path)") }
    defer { sqlite3_close(db) }
    var message: UnsafeMutablePointer<CChar>?
    if sqlite3_exec(db, sql, nil, nil, &message) != SQLITE_OK {
        let text = message.map { String(cString: $0) } ?? "?"
        sqlite3_free(message)
        throw TestFailure("\(sql): \(text)")
    }
}

func rawInteger(_ path: String, _ sql: String) throws -> Int64 {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK else { throw TestFailure("open \(path)") }
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw TestFailure(sql) }
    defer { sqlite3_finalize(statement) }
    guard sqlite3_step(statement) == SQLITE_ROW else { throw TestFailure("no row: \(sql)") }
    return sqlite3_column_int64(statement, 0)
}

/// A deterministic sample for (drone, index), with every field distinct so a swapped column shows.
func makeSample(drone: UInt32, index: Int) -> WireSample {
    let small = Int32(drone % 1_000)
    return WireSample(
        timeOffsetMicroseconds: 0, latitudeE7: 473_977_000 + small * 1_000 + Int32(index),
        longitudeE7: -85_456_000 - small * 7 - Int32(index), altitudeMM: 450_000 + Int32(index) * 3,
        velocityNorthCMS: Int16(index % 300) - 150, velocityEastCMS: -Int16(drone % 100), velocityDownCMS: -5,
        headingCentidegrees: UInt16((Int(small) * 100 + index) % 36_000), batteryMillivolts: 16_400 - UInt16(index % 400),
        batteryPercent: UInt8(90 - index % 50), satellites: UInt8(drone % 20),
        status: StatusFlags(rawValue: UInt32(index % 8) | 1 << 31))
}

let baseTimeMicroseconds: UInt64 = 1_767_225_600_000_000

/// Fills `columns` with `perDrone` samples for each of `drones`, interleaved the way a gateway
/// sees them (drone 1 sample 0, drone 2 sample 0, ...), 20 ms apart per drone.
func fillInterleaved(_ columns: SampleColumns, drones: [UInt32], perDrone: Int, firstIndex: Int = 0) {
    for index in firstIndex..<(firstIndex + perDrone) {
        for drone in drones {
            columns.append(
                makeSample(drone: drone, index: index),
                header: FrameHeader(
                    droneID: drone, sequence: UInt32(index),
                    timestampMicroseconds: baseTimeMicroseconds + UInt64(index) * 20_000 + UInt64(drone)))
        }
    }
}

/// The first row where `copy` differs from `original` (sample, drone, sequence or time), or
/// `copy.count` when it holds fewer rows; nil when the two hold the same rows.
func firstDifferingRow(_ copy: SampleColumns, _ original: SampleColumns) -> Int? {
    for row in 0..<original.count {
        guard row < copy.count else { return copy.count }
        if copy.sample(at: row) != original.sample(at: row) || copy.droneID(at: row) != original.droneID(at: row)
            || copy.sequence(at: row) != original.sequence(at: row)
            || copy.timestampMicroseconds(at: row) != original.timestampMicroseconds(at: row)
        {
            return row
        }
    }
    return copy.count == original.count ? nil : original.count
}

func readAll(_ store: TelemetryStore, drone: DroneIdentity? = nil, range: Range<UInt64>? = nil, pageSize: Int = 4_096)
    throws -> [StoredSample]
{
    var rows: [StoredSample] = []
    if let range {
        try store.readSamples(drone: drone, timeRangeMicroseconds: range, pageSize: pageSize) { rows += $0; return true }
    } else {
        try store.readSamples(drone: drone, pageSize: pageSize) { rows += $0; return true }
    }
    return rows
}

@Suite struct SchemaTests {
    @Test func createsCurrentSchemaWithOneIndex() throws {
        // A new file gets the current version (9, the chunk layout with Zstandard or stored blocks): the recent-block and chunk
        // tables, recent blocks indexed by drone group, chunks by (protocol, drone, end_us,
        // start_us, samples) and by (end_us, start_us, protocol, drone),
        // the meta table, and no row table; WAL mode sticks to the file.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            #expect(TelemetryStore.schemaVersion == 9)
            #expect(try store.integrityCheck() == "ok")
            store.close()
            #expect(try rawInteger(path, "SELECT version FROM schema_version") == Int64(TelemetryStore.schemaVersion))
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'telemetry'") == 0)
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry_chunk'") == 2)
            #expect(try rawInteger(path, "SELECT count(*) FROM pragma_index_info('telemetry_chunk_end')") == 4)
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry_recent'") == 1)
            #expect(try rawInteger(path, "SELECT count(*) FROM pragma_index_info('telemetry_chunk_drone_end')") == 5)
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'store_meta'") == 1)
            // Opening again is a no-op migration.
            let again = try TelemetryStore(path: path)
            #expect(try again.storedSchemaVersion() == TelemetryStore.schemaVersion)
            again.close()
        }
    }

    @Test func migratesVersion1DatabaseWrittenByHand() throws {
        // A v1 file (made here with raw SQL, as Skygate v1 wrote it, with rows in it) opens as the
        // current version: stored_us is added, old rows keep their values and read NULL there,
        // and new writes go in beside them.
        try withTemporaryDatabase { path in
            try rawSQL(path, """
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version VALUES (1);
                CREATE TABLE telemetry (protocol INTEGER NOT NULL, drone INTEGER NOT NULL, time_us INTEGER NOT NULL,
                  sequence INTEGER NOT NULL, latitude_e7 INTEGER NOT NULL, longitude_e7 INTEGER NOT NULL,
                  altitude_mm INTEGER NOT NULL, velocity_north_cms INTEGER NOT NULL, velocity_east_cms INTEGER NOT NULL,
                  velocity_down_cms INTEGER NOT NULL, heading_cdeg INTEGER NOT NULL, battery_mv INTEGER NOT NULL,
                  battery_pct INTEGER NOT NULL, satellites INTEGER NOT NULL, status INTEGER NOT NULL);
                CREATE INDEX telemetry_drone_time ON telemetry (protocol, drone, time_us);
                INSERT INTO telemetry VALUES (2, 7, 1000, 1, 473977000, 85456000, 450000, 10, -20, 3, 9000, 16000, 80, 12, 5);
                INSERT INTO telemetry VALUES (2, 7, 2000, 2, 473977001, 85456001, 450001, 11, -21, 4, 9001, 15999, 79, 12, 5);
                """)
            let store = try TelemetryStore(path: path)
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            let old = try readAll(store, drone: DroneIdentity(protocol: .mavlink, number: 7))
            #expect(old.count == 2)
            #expect(old.map(\.timestampMicroseconds) == [1000, 2000])
            #expect(old[0].sample.latitudeE7 == 473_977_000 && old[0].sample.velocityEastCMS == -20)
            #expect(old.allSatisfy { $0.storedMicroseconds == nil })
            let columns = SampleColumns(capacity: 8)
            fillInterleaved(columns, drones: [7], perDrone: 1)
            _ = try store.write(columns, protocol: .mavlink)
            let after = try readAll(store, drone: DroneIdentity(protocol: .mavlink, number: 7))
            #expect(after.count == 3)
            #expect(after.last?.storedMicroseconds != nil)
            #expect(try store.integrityCheck() == "ok")
            store.close()
            #expect(try rawInteger(path, "SELECT count(*) FROM schema_version") == 1)
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'telemetry'") == 0)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 1)
        }
    }

    @Test func migratesVersion0EmptyFile() throws {
        // A file with no schema_version table (version 0: a new or foreign-but-empty SQLite file,
        // here one holding only an unrelated table) is migrated through v1, v2 and v3.
        try withTemporaryDatabase { path in
            try rawSQL(path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')")
            let store = try TelemetryStore(path: path)
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            store.close()
            #expect(try rawInteger(path, "SELECT count(*) FROM notes") == 1)
        }
    }

    @Test func refusesNewerSchema() throws {
        // A file from a newer Skygate is refused with a clear error and left untouched.
        try withTemporaryDatabase { path in
            try rawSQL(path, "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99)")
            #expect(throws: StoreError.schemaTooNew(found: 99, supported: TelemetryStore.schemaVersion)) {
                _ = try TelemetryStore(path: path)
            }
            #expect(try rawInteger(path, "SELECT version FROM schema_version") == 99)
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'telemetry'") == 0)
            let message = StoreError.schemaTooNew(found: 99, supported: 2).description
            #expect(message.contains("99") && message.contains("newer"))
        }
    }
}

@Suite struct WriteAndReadTests {
    @Test func writesBothProtocolsAndReadsBackExactValuesSorted() throws {
        // Rows of several drones, both protocols (with the same drone numbers, which must stay
        // separate drones), interleaved in arrival order and some out of time order, come back
        // with every field exact, sorted by (protocol, drone, time); the row count matches.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let skygate = SampleColumns(capacity: 1_000)
            let mavlink = SampleColumns(capacity: 1_000)
            let drones: [UInt32] = [42, 3, 17, 1, 4_000_000_000]
            fillInterleaved(skygate, drones: drones, perDrone: 150, firstIndex: 50)
            fillInterleaved(skygate, drones: drones, perDrone: 50, firstIndex: 0) // late arrivals
            fillInterleaved(mavlink, drones: [1, 3, 255], perDrone: 70)
            let result = try store.write([
                StoreBatchPart(protocol: .mavlink, columns: mavlink), StoreBatchPart(protocol: .skygate, columns: skygate),
            ])
            #expect(result.rowsWritten == 5 * 200 + 3 * 70)
            #expect(result.duration > .zero)
            #expect(try store.rowCount() == 1_210)

            let rows = try readAll(store, pageSize: 97)
            #expect(rows.count == 1_210)
            var expected: [(DroneIdentity, UInt64, WireSample, UInt32)] = []
            for (proto, list, count) in [(TelemetryProtocol.skygate, drones, 200), (.mavlink, [1, 3, 255], 70)] {
                for drone in list.sorted() {
                    for index in 0..<count {
                        expected.append((
                            DroneIdentity(protocol: proto, number: drone),
                            baseTimeMicroseconds + UInt64(index) * 20_000 + UInt64(drone),
                            makeSample(drone: drone, index: index), UInt32(index)))
                    }
                }
            }
            #expect(rows.count == expected.count)
            for (row, want) in zip(rows, expected) {
                #expect(row.drone == want.0)
                #expect(row.timestampMicroseconds == want.1)
                #expect(row.sample == want.2)
                #expect(row.sequence == want.3)
                #expect(row.storedMicroseconds != nil)
            }
            // One batch is one recent block per group of 32 drone numbers (Skygate {1, 3, 17},
            // {42}, {4e9}; MAVLink {1, 3}, {255}: 5); compaction makes one chunk per drone (8),
            // empties the recent table, and the rows read back the same.
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == 5)
            #expect(try rawInteger(path, "SELECT count(DISTINCT drone_group) FROM telemetry_recent") == 5)
            let compaction = try store.compactAll()
            #expect(compaction.samples == 1_210 && compaction.chunks == 8 && compaction.blocks == 5)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == 0)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 8)
            #expect(try rawInteger(path, "SELECT sum(samples) FROM telemetry_chunk") == 1_210)
            let compacted = try readAll(store, pageSize: 97)
            #expect(compacted == rows)
            #expect(try store.rowCount() == 1_210)
            store.close()
        }
    }

    @Test func queriesByDroneAndTimeRange() throws {
        // A drone's rows in [from, until) and nothing else; summaries list every drone with its
        // count and first and last time; early stop delivers only the first page.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let columns = SampleColumns(capacity: 4_096)
            fillInterleaved(columns, drones: [1, 2, 3], perDrone: 100)
            _ = try store.write(columns, protocol: .skygate)
            let drone = DroneIdentity(protocol: .skygate, number: 2)
            let from = baseTimeMicroseconds + 10 * 20_000
            let until = baseTimeMicroseconds + 20 * 20_000 + 2 // sample 20 of drone 2 is at +2: excluded
            let rows = try readAll(store, drone: drone, range: from..<until, pageSize: 3)
            #expect(rows.map(\.sequence) == Array(10..<20).map(UInt32.init))
            #expect(rows.allSatisfy { $0.drone == drone })
            #expect(try readAll(store, drone: DroneIdentity(protocol: .mavlink, number: 2)).isEmpty)
            // Every drone: drone 1's sample 20 (at +1) is still before `until`.
            #expect(try readAll(store, range: from..<until).count == 11 + 10 + 10)

            var pages = 0
            let delivered = try store.readSamples(pageSize: 10) { _ in pages += 1; return false }
            #expect(pages == 1 && delivered == 10)

            let summaries = try store.droneSummaries()
            #expect(summaries.map(\.drone.number) == [1, 2, 3])
            #expect(summaries.allSatisfy { $0.rowCount == 100 })
            #expect(summaries[1].firstTimestampMicroseconds == baseTimeMicroseconds + 2)
            #expect(summaries[1].lastTimestampMicroseconds == baseTimeMicroseconds + 99 * 20_000 + 2)
            #expect(try store.databaseSizeBytes() > 0)
            try store.checkpoint()
            #expect(try store.integrityCheck() == "ok")
        }
    }

    @Test func failedWriteLeavesNothing() throws {
        // One transaction per write: a trigger (installed with raw SQL, standing in for a full disk
        // or any constraint) aborts the insert of one row deep in the batch, after many 64-row
        // statements have run; the write throws, no row of the batch is stored, and the store
        // keeps working for the next batch.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let first = SampleColumns(capacity: 64)
            fillInterleaved(first, drones: [1], perDrone: 10)
            _ = try store.write(first, protocol: .skygate)

            try rawSQL(path, """
                CREATE TRIGGER fail_big_batch BEFORE INSERT ON telemetry_recent WHEN NEW.samples > 100
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
            let skygate = SampleColumns(capacity: 2_000)
            fillInterleaved(skygate, drones: [100, 200, 300], perDrone: 300)
            let mavlink = SampleColumns(capacity: 8)
            fillInterleaved(mavlink, drones: [666], perDrone: 1) // sorts last: protocol 2
            // A store caches its schema per connection; reopen so it sees the new trigger.
            store.close()
            let reopened = try TelemetryStore(path: path)
            var failure: StoreError?
            do {
                _ = try reopened.write([
                    StoreBatchPart(protocol: .skygate, columns: skygate), StoreBatchPart(protocol: .mavlink, columns: mavlink),
                ])
            } catch let error as StoreError { failure = error }
            #expect(failure != nil)
            #expect(failure?.description.contains("injected failure") == true)
            #expect(try reopened.rowCount() == 10)

            try rawSQL(path, "DROP TRIGGER fail_big_batch")
            reopened.close()
            let again = try TelemetryStore(path: path)
            _ = try again.write(skygate, protocol: .skygate)
            #expect(try again.rowCount() == 910)
            #expect(try again.integrityCheck() == "ok")
        }
    }

    @Test func refusesBatchOverTheLimitAndUseAfterClose() throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.batchRowsMaximum = 16
            let store = try TelemetryStore(path: path, options: options)
            let columns = SampleColumns(capacity: 32)
            fillInterleaved(columns, drones: [1], perDrone: 17)
            #expect(throws: StoreError.batchTooLarge(rows: 17, maximum: 16)) { _ = try store.write(columns, protocol: .skygate) }
            store.close()
            #expect(throws: StoreError.closed) { _ = try store.rowCount() }
        }
    }
}

@Suite struct RetentionTests {
    @Test func deletesOnlyOldRowsInBoundedSteps() throws {
        // 20 drones × 200 samples, written and compacted 20 samples per drone at a time (so each
        // drone has 10 chunks of 20); a cutoff at sample 120 deletes the 6 old chunks of each
        // drone, 120 × 20 = 2,400 rows, in transactions that stop once they deleted 500 (25
        // chunks: 5 transactions), and every remaining row is at or after the cutoff, untouched.
        // The last batch is left in the recent table: retention compacts it first.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let columns = SampleColumns(capacity: 4_096)
            let drones = Array(UInt32(1)...20)
            for step in 0..<10 {
                columns.removeAll()
                fillInterleaved(columns, drones: drones, perDrone: 20, firstIndex: step * 20)
                _ = try store.write(columns, protocol: .skygate)
                if step < 9 { try store.compactAll() }
            }
            #expect(try rawInteger(store.path, "SELECT count(*) FROM telemetry_recent") == 1)
            let cutoff = baseTimeMicroseconds + 120 * 20_000
            let result = try store.retain(olderThanMicroseconds: cutoff, stepRowsMaximum: 500)
            #expect(result.rowsDeleted == 2_400)
            #expect(result.transactions == 5)
            #expect(try rawInteger(store.path, "SELECT count(*) FROM telemetry_chunk") == 20 * 4)
            let rest = try readAll(store)
            #expect(rest.count == 1_600)
            #expect(rest.allSatisfy { $0.timestampMicroseconds >= cutoff })
            #expect(rest.allSatisfy { $0.sample == makeSample(drone: $0.drone.number, index: Int($0.sequence)) })
            #expect(try store.droneSummaries().allSatisfy { $0.rowCount == 80 })
            // Nothing left to delete: one empty transaction, nothing removed.
            #expect(try store.retain(olderThanMicroseconds: cutoff, stepRowsMaximum: 500).rowsDeleted == 0)
            #expect(try store.integrityCheck() == "ok")
        }
    }

    @Test func eachDronesGreatestChunkEndFollowsInsertsAndDeletes() throws {
        // `chunk_drone_end` (schema v9, kept by triggers) holds what the chunk index says, one row
        // a drone, after compactions, after retention deletes a drone's older chunks and then all
        // of one drone's chunks, and after a chunk is deleted outside the store's code; latest
        // per drone reads it and still finds every drone's newest sample.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            func agrees() throws -> Bool {
                let fromIndex = "SELECT protocol, drone, max(end_us) FROM telemetry_chunk GROUP BY protocol, drone"
                let kept = "SELECT protocol, drone, end_us FROM chunk_drone_end"
                return try rawInteger(path, "SELECT count(*) FROM (\(fromIndex) EXCEPT \(kept))") == 0
                    && rawInteger(path, "SELECT count(*) FROM (\(kept) EXCEPT \(fromIndex))") == 0
            }
            let columns = SampleColumns(capacity: 1_000)
            // Drone 3 stops after the first two steps; drones 1 and 2 go on.
            for step in 0..<6 {
                columns.removeAll()
                fillInterleaved(columns, drones: step < 2 ? [1, 2, 3] : [1, 2], perDrone: 20, firstIndex: step * 20)
                _ = try store.write(columns, protocol: .skygate)
                try store.compactAll()
                #expect(try agrees(), "after compaction \(step)")
            }
            #expect(try rawInteger(path, "SELECT count(*) FROM chunk_drone_end") == 3)
            #expect(try store.latestSamples().map(\.sequence) == [119, 119, 39])
            // Retention takes drone 3's chunks whole and drones 1 and 2's older ones.
            _ = try store.retain(olderThanMicroseconds: baseTimeMicroseconds + 50 * 20_000, stepRowsMaximum: 30)
            #expect(try agrees())
            #expect(try rawInteger(path, "SELECT count(*) FROM chunk_drone_end") == 2)
            #expect(try store.latestSamples().map(\.sequence) == [119, 119])
            // Drone 1's newest chunk deleted by hand: its row falls back to the chunk before.
            _ = try? rawInteger(path, "DELETE FROM telemetry_chunk WHERE rowid = (SELECT rowid FROM telemetry_chunk WHERE drone = 1 ORDER BY end_us DESC LIMIT 1)")
            #expect(try agrees())
            #expect(try store.latestSamples().map(\.sequence) == [99, 119])
            _ = try store.retain(olderThanMicroseconds: baseTimeMicroseconds + 1_000 * 20_000, stepRowsMaximum: 1_000)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 0)
            #expect(try rawInteger(path, "SELECT count(*) FROM chunk_drone_end") == 0)
            #expect(try store.latestSamples().isEmpty)
        }
    }
}
