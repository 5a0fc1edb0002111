import CSQLite
import Telemetry
import TelemetryWire

// Schema history. A database records its version in `schema_version` (one row). Version 0 is a
// file without that table (new or empty). Each migration takes the schema from version n to n+1;
// opening runs the missing ones in order, all in one transaction, so an upgrade either completes
// or leaves the file as it was. A file whose version is above `TelemetryStore.schemaVersion` was
// written by a newer Skygate and is refused rather than guessed at.
//
// v1: the telemetry table and its (protocol, drone, time_us) index.
// v2: `stored_us`, the wall-clock time the row's batch was committed (ingest latency per row).
// v3: the chunk layout (docs/storage.md): `telemetry_recent` (packed blocks of each committed
//     batch, one per group of 32 drone numbers), `telemetry_chunk` (packed per-drone chunks, indexed by (protocol, drone, end_us)),
//     `store_meta` (the spill mark); v2's rows are moved into chunks and the row table dropped.
// v4: `events` (rules and zone crossings, docs/events.md), unique per (drone, kind, zone, time).
// v5: blocks and chunks may be compressed (`SampleCodec`, block format version 2). Nothing is
//     rewritten: version 1 blocks stay readable and are replaced as compaction and retention
//     turn them over. The version exists so a Skygate that reads only version 1 blocks refuses
//     the file instead of skipping the compressed samples.
// v6: `replay_marks`, each keyed sender's highest accepted tag counter or signature timestamp,
//     which seeds the replay windows at start (docs/security.md).
// v7: `telemetry_chunk_end`, the chunk index by (end_us, start_us, protocol, drone): the fleet at
//     an instant (`lastSamples`) reads the chunks overlapping its window in one index range
//     instead of two seeks per drone. Readers of a v4 to v6 file keep the per-drone seeks.
// v8: new blocks are written in format version 3 (a Zstandard frame instead of a zlib stream).
//     Nothing is rewritten: version 1 and 2 blocks stay readable. The version exists so a
//     Skygate that reads only versions 1 and 2 refuses the file instead of skipping samples.
// v9: a block whose varint stream Zstandard would not shorten by an eighth (a chunk of a few
//     samples) is written in format version 4, the stream stored as it is (nothing is rewritten;
//     a Skygate that reads only versions 1 to 3 refuses the file); and `chunk_drone_end`, each
//     drone's greatest chunk end, kept by triggers on `telemetry_chunk`, so latest per drone
//     reads one row a drone instead of every chunk's index entry.
//
// The benchmark's `.rows` layout stops at v2 and refuses a v3 file.
extension TelemetryStore {
    static func migrate(_ connection: SQLiteConnection, layout: StoreLayout, readOnly: Bool) throws(StoreError) {
        let target = layout.schemaVersion
        let found = try readVersion(connection)
        if found > schemaVersion { throw .schemaTooNew(found: found, supported: schemaVersion) }
        if found > target { throw .openFailed(path: "", message: "schema version \(found) is not the row layout (\(target))") }
        if found == target { return }
        // A reader reads a v4 file as it is (v5 changed what may be written, not what is there).
        if readOnly && found >= readableWithoutMigration && layout == .chunks { return }
        if readOnly {
            throw .openFailed(
                path: "", message: "schema version \(found) needs migrating to \(schemaVersion); open it writable once")
        }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Re-read under the write lock: another process may have migrated meanwhile.
            var version = try readVersion(connection)
            if version > schemaVersion { throw .schemaTooNew(found: version, supported: schemaVersion) }
            while version < target {
                try migration(from: version, connection, layout: layout)
                version += 1
            }
            try connection.execute("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (\(version))")
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// The oldest schema this version reads without migrating it first.
    static let readableWithoutMigration = 4

    static func readVersion(_ connection: SQLiteConnection) throws(StoreError) -> Int {
        let hasTable = try connection.integer(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") ?? 0
        if hasTable == 0 { return 0 }
        return Int(try connection.integer("SELECT max(version) FROM schema_version") ?? 0)
    }

    private static func migration(from version: Int, _ connection: SQLiteConnection, layout: StoreLayout) throws(StoreError) {
        switch version {
        case 0: try migrateToVersion1(connection, layout: layout)
        case 1: try migrateToVersion2(connection)
        case 2: try migrateToVersion3(connection)
        case 3: try migrateToVersion4(connection)
        case 4: break  // v4 → v5: no table changes; new blocks are written compressed
        case 5: try migrateToVersion6(connection)
        case 6: try connection.execute(createChunkEndIndex)
        case 7: break  // v7 → v8: no table changes; new blocks are written as version 3
        case 8: try migrateToVersion9(connection)
        default: preconditionFailure("no migration from schema version \(version)")
        }
    }

    /// v0 → v1: the version table, the telemetry table and the one index per-drone time-range
    /// queries need. Positions are kept as the wire's integers (1e-7 degrees, mm, cm/s), so a
    /// stored row reads back bit for bit.
    private static func migrateToVersion1(_ connection: SQLiteConnection, layout _: StoreLayout) throws(StoreError) {
        let columns = """
            protocol INTEGER NOT NULL,       -- TelemetryProtocol raw value: 1 skygate, 2 mavlink
            drone INTEGER NOT NULL,          -- Skygate drone id or MAVLink system id
            time_us INTEGER NOT NULL,        -- sample time, microseconds since the Unix epoch (UTC)
            sequence INTEGER NOT NULL,       -- the frame's sequence number
            latitude_e7 INTEGER NOT NULL,
            longitude_e7 INTEGER NOT NULL,
            altitude_mm INTEGER NOT NULL,
            velocity_north_cms INTEGER NOT NULL,
            velocity_east_cms INTEGER NOT NULL,
            velocity_down_cms INTEGER NOT NULL,
            heading_cdeg INTEGER NOT NULL,   -- 65535 = unknown
            battery_mv INTEGER NOT NULL,
            battery_pct INTEGER NOT NULL,    -- 255 = unknown
            satellites INTEGER NOT NULL,     -- 255 = unknown
            status INTEGER NOT NULL          -- StatusFlags raw value

            """
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            CREATE TABLE telemetry (\(columns));
            CREATE INDEX telemetry_drone_time ON telemetry (protocol, drone, time_us);
            """)
    }

    /// v1 → v2: adds `stored_us`. Adding a nullable column rewrites nothing; old rows read NULL.
    private static func migrateToVersion2(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("ALTER TABLE telemetry ADD COLUMN stored_us INTEGER")
    }

    /// v2 → v3: the chunk tables; every v2 row moves into a chunk (a drone's rows in time order,
    /// `Limits.Store.chunkSamplesMax` per chunk), then the row table is dropped. Rows written
    /// before v2 (stored_us NULL) keep reading nil.
    private static func migrateToVersion3(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("""
            CREATE TABLE telemetry_recent (
              id INTEGER PRIMARY KEY,          -- commit order
              drone_group INTEGER NOT NULL,    -- (protocol << 32 | drone) / Limits.Store.recentGroupDrones
              first_us INTEGER NOT NULL,       -- earliest and latest sample time in the block
              last_us INTEGER NOT NULL,
              samples INTEGER NOT NULL,
              data BLOB NOT NULL               -- SampleBlock, rows sorted by (protocol, drone, time)
            );
            CREATE TABLE telemetry_chunk (
              protocol INTEGER NOT NULL,       -- TelemetryProtocol raw value: 1 skygate, 2 mavlink
              drone INTEGER NOT NULL,          -- Skygate drone id or MAVLink system id
              start_us INTEGER NOT NULL,       -- earliest and latest sample time in the chunk
              end_us INTEGER NOT NULL,
              samples INTEGER NOT NULL,
              data BLOB NOT NULL               -- SampleBlock of one drone, rows in time order
            );
            CREATE INDEX telemetry_recent_group ON telemetry_recent (drone_group);
            CREATE INDEX telemetry_chunk_drone_end ON telemetry_chunk (protocol, drone, end_us, start_us, samples);
            CREATE TABLE store_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            """)
        let chunkRows = Limits.Store.chunkSamplesMax
        let arena = SampleArena(capacity: chunkRows)
        let order = SortBuffer(capacity: chunkRows)
        for row in 0..<chunkRows { order.entries[row] = SortEntry(high: 0, low: 0, part: 0, row: UInt32(row)) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: SampleBlock.size(count: chunkRows), alignment: 16)
        defer { buffer.deallocate() }
        let columns = SampleColumns(capacity: chunkRows)
        let insert = try connection.prepare(
            "INSERT INTO telemetry_chunk (protocol, drone, start_us, end_us, samples, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        var chunkProtocol: UInt8 = 0
        var chunkStored: [UInt64] = []
        chunkStored.reserveCapacity(chunkRows)
        func flush() throws(StoreError) {
            guard columns.count > 0, let known = TelemetryProtocol(rawValue: chunkProtocol) else {
                columns.removeAll(); chunkStored.removeAll(keepingCapacity: true); return
            }
            arena.removeAll()
            arena.append(columns, protocol: known, storedMicroseconds: 0)
            for row in 0..<columns.count { arena.stored[row] = chunkStored[row] }
            var end: UInt64 = 0
            for row in 0..<columns.count { end = max(end, arena.times[row]) }
            let bytes = arena.encode(rows: UnsafeBufferPointer(order.entries), 0..<columns.count, into: buffer)
            insert.bind(1, Int64(chunkProtocol))
            insert.bind(2, Int64(arena.drones[0]))
            insert.bind(3, Int64(bitPattern: arena.times[0]))
            insert.bind(4, Int64(bitPattern: end))
            insert.bind(5, Int64(columns.count))
            insert.bindBlob(6, UnsafeRawBufferPointer(rebasing: buffer[0..<bytes]))
            try insert.run()
            columns.removeAll()
            chunkStored.removeAll(keepingCapacity: true)
        }
        // The columns `sample(from:drone:)` reads (0...13), then protocol and drone.
        let rows = try connection.prepare("""
            SELECT sequence, time_us, latitude_e7, longitude_e7, altitude_mm, velocity_north_cms, velocity_east_cms,
                   velocity_down_cms, heading_cdeg, battery_mv, battery_pct, satellites, status, stored_us, protocol, drone
            FROM telemetry ORDER BY protocol, drone, time_us
            """)
        var drone: UInt32 = 0
        // Bounded: one pass over the old rows.
        while try rows.step() {
            let rowProtocol = UInt8(truncatingIfNeeded: rows.int64(14))
            let rowDrone = UInt32(truncatingIfNeeded: rows.int64(15))
            if columns.count == chunkRows || (columns.count > 0 && (rowProtocol != chunkProtocol || rowDrone != drone)) {
                try flush()
            }
            chunkProtocol = rowProtocol
            drone = rowDrone
            // Rows of an unknown protocol cannot come from a Skygate writer; they are not moved.
            guard let known = TelemetryProtocol(rawValue: rowProtocol) else { continue }
            let stored = Self.sample(from: rows, drone: DroneIdentity(protocol: known, number: rowDrone))
            columns.append(
                stored.sample, droneID: rowDrone, sequence: stored.sequence, timestampMicroseconds: stored.timestampMicroseconds)
            chunkStored.append(stored.storedMicroseconds ?? 0)
        }
        try flush()
        try connection.execute("DROP TABLE telemetry")
    }

    /// v6 → v7 (and nothing else): the chunks by end time, with what `lastSamples` needs of each
    /// from the index alone (its rowid comes with every index entry).
    static let createChunkEndIndex = "CREATE INDEX telemetry_chunk_end ON telemetry_chunk (end_us, start_us, protocol, drone)"

    /// v8 → v9: each drone's greatest chunk end (`chunk_drone_end`), filled from the chunk index
    /// once and kept by triggers in the transaction of every chunk inserted or deleted, whatever
    /// code path does it. An insert raises the drone's end; deleting the chunk that held it (only
    /// retention deletes chunks, oldest first, so rarely) looks the drone's greatest end up again
    /// in the (protocol, drone, end_us) index, one seek, and drops the row with the drone's last
    /// chunk. (Small blocks written as version 4 need no table change.)
    private static func migrateToVersion9(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("""
            CREATE TABLE chunk_drone_end (
              protocol INTEGER NOT NULL,
              drone INTEGER NOT NULL,
              end_us INTEGER NOT NULL,         -- the greatest end_us of the drone's chunks
              PRIMARY KEY (protocol, drone)
            ) WITHOUT ROWID;
            INSERT INTO chunk_drone_end (protocol, drone, end_us)
              SELECT protocol, drone, max(end_us) FROM telemetry_chunk GROUP BY protocol, drone;
            CREATE TRIGGER chunk_drone_end_insert AFTER INSERT ON telemetry_chunk BEGIN
              INSERT INTO chunk_drone_end (protocol, drone, end_us) VALUES (new.protocol, new.drone, new.end_us)
                ON CONFLICT (protocol, drone) DO UPDATE SET end_us = max(end_us, excluded.end_us);
            END;
            CREATE TRIGGER chunk_drone_end_delete AFTER DELETE ON telemetry_chunk
            WHEN old.end_us >= (SELECT end_us FROM chunk_drone_end WHERE protocol = old.protocol AND drone = old.drone)
            BEGIN
              DELETE FROM chunk_drone_end WHERE protocol = old.protocol AND drone = old.drone
                AND NOT EXISTS (SELECT 1 FROM telemetry_chunk WHERE protocol = old.protocol AND drone = old.drone);
              UPDATE chunk_drone_end
                SET end_us = (SELECT max(end_us) FROM telemetry_chunk WHERE protocol = old.protocol AND drone = old.drone)
                WHERE protocol = old.protocol AND drone = old.drone;
            END;
            """)
    }

    /// v5 → v6: the replay marks (one row per keyed sender; `value` is the UInt64's bit pattern).
    private static func migrateToVersion6(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS replay_marks (
              protocol INTEGER NOT NULL,       -- TelemetryProtocol raw value
              sender INTEGER NOT NULL,         -- Skygate drone id or MAVLink system id
              value INTEGER NOT NULL,          -- highest tag counter / signature timestamp accepted
              PRIMARY KEY (protocol, sender)
            ) WITHOUT ROWID;
            """)
    }

    /// v3 → v4: the events table. The unique key is the event's identity, so a retried write or a
    /// second gateway's copy stores once; `time_us` serves ranges and retention.
    private static func migrateToVersion4(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("""
            CREATE TABLE events (
              id INTEGER PRIMARY KEY,
              time_us INTEGER NOT NULL,        -- µs since the Unix epoch (UTC)
              protocol INTEGER NOT NULL,       -- TelemetryProtocol raw value
              drone INTEGER NOT NULL,
              kind INTEGER NOT NULL,           -- EventKind raw value
              zone TEXT NOT NULL,              -- the zone's name; '' for rules
              alarm INTEGER NOT NULL,
              value REAL NOT NULL,
              latitude_e7 INTEGER NOT NULL,
              longitude_e7 INTEGER NOT NULL,
              altitude_mm INTEGER NOT NULL,
              UNIQUE (protocol, drone, kind, zone, time_us)
            );
            CREATE INDEX events_time ON events (time_us);
            """)
    }
}
