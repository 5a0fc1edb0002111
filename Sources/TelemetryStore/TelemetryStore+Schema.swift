import CSQLite

// Schema history. A database records its version in `schema_version` (one row). Version 0 is a
// file without that table (new or empty). Each migration takes the schema from version n to n+1;
// opening runs the missing ones in order, all in one transaction, so an upgrade either completes
// or leaves the file as it was. A file whose version is above `TelemetryStore.schemaVersion` was
// written by a newer Skygate and is refused rather than guessed at.
//
// v1: the telemetry table and its (protocol, drone, time_us) index.
// v2: `stored_us`, the wall-clock time the row's batch was committed (ingest latency per row).
extension TelemetryStore {
    static func migrate(_ connection: SQLiteConnection, layout: StoreLayout, readOnly: Bool) throws(StoreError) {
        let found = try readVersion(connection)
        if found > schemaVersion { throw .schemaTooNew(found: found, supported: schemaVersion) }
        if found == schemaVersion { return }
        if readOnly {
            throw .openFailed(
                path: "", message: "schema version \(found) needs migrating to \(schemaVersion); open it writable once")
        }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Re-read under the write lock: another process may have migrated meanwhile.
            var version = try readVersion(connection)
            if version > schemaVersion { throw .schemaTooNew(found: version, supported: schemaVersion) }
            while version < schemaVersion {
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
        default: preconditionFailure("no migration from schema version \(version)")
        }
    }

    /// v0 → v1: the version table, the telemetry table and the one index per-drone time-range
    /// queries need. Positions are kept as the wire's integers (1e-7 degrees, mm, cm/s), so a
    /// stored row reads back bit for bit.
    private static func migrateToVersion1(_ connection: SQLiteConnection, layout: StoreLayout) throws(StoreError) {
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
        var sql = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
        switch layout {
        case .indexed:
            sql += "CREATE TABLE telemetry (\(columns));"
            sql += "CREATE INDEX telemetry_drone_time ON telemetry (protocol, drone, time_us);"
        case .unindexed:
            sql += "CREATE TABLE telemetry (\(columns));"
        case .clustered:
            sql += "CREATE TABLE telemetry (\(columns), PRIMARY KEY (protocol, drone, time_us, sequence)) WITHOUT ROWID;"
        }
        try connection.execute(sql)
    }

    /// v1 → v2: adds `stored_us`. Adding a nullable column rewrites nothing; old rows read NULL.
    private static func migrateToVersion2(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("ALTER TABLE telemetry ADD COLUMN stored_us INTEGER")
    }
}
