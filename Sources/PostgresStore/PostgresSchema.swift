import Logging
import PostgresNIO
import Telemetry

/// The PostgreSQL schema and its migrations (docs/storage.md, "PostgreSQL"). `skygate_schema`
/// holds one row, the version; each migration moves it up by one inside the caller's
/// transaction, under an advisory lock, so gateways that start together migrate once and a
/// gateway never writes into a schema newer than it knows.
enum PostgresSchema {
    /// `pg_advisory_xact_lock` key for schema changes and partition DDL ("skygate" in ASCII).
    static let lockKey: Int64 = 0x736B_7967_6174_65

    /// The columns of `telemetry`, in COPY order. Integers in the wire's own units; times in µs.
    static let telemetryColumns = """
        protocol smallint NOT NULL, drone bigint NOT NULL, time_us bigint NOT NULL, sequence bigint NOT NULL,
        latitude_e7 integer NOT NULL, longitude_e7 integer NOT NULL, altitude_mm integer NOT NULL,
        velocity_north_cms smallint NOT NULL, velocity_east_cms smallint NOT NULL, velocity_down_cms smallint NOT NULL,
        heading_cdeg integer NOT NULL, battery_mv integer NOT NULL, battery_pct smallint NOT NULL,
        satellites smallint NOT NULL, status bigint NOT NULL, stored_us bigint NOT NULL
        """

    /// Migration N (1-based) takes the schema from version N-1 to N.
    static let migrations: [[String]] = [
        // 1: the telemetry table, partitioned by day of sample time. The primary key is the
        // frame identity, which de-duplicates across gateways and serves (protocol, drone, time)
        // range reads (docs/performance.md has the btree vs BRIN measurement).
        [
            """
            CREATE TABLE telemetry (\(telemetryColumns),
              PRIMARY KEY (protocol, drone, time_us, sequence)) PARTITION BY RANGE (time_us)
            """,
        ],
        // 2: every drone's latest state (the fleet any gateway shows) and each gateway's spill
        // mark; the latest state is filled from what version 1 stored.
        [
            """
            CREATE TABLE drone_latest (
              protocol smallint NOT NULL, drone bigint NOT NULL, time_us bigint NOT NULL, sequence bigint NOT NULL,
              latitude_e7 integer NOT NULL, longitude_e7 integer NOT NULL, altitude_mm integer NOT NULL,
              velocity_north_cms smallint NOT NULL, velocity_east_cms smallint NOT NULL, velocity_down_cms smallint NOT NULL,
              heading_cdeg integer NOT NULL, battery_mv integer NOT NULL, battery_pct smallint NOT NULL,
              satellites smallint NOT NULL, status bigint NOT NULL,
              first_stored_us bigint NOT NULL, stored_us bigint NOT NULL, gateway text NOT NULL,
              PRIMARY KEY (protocol, drone))
            """,
            """
            INSERT INTO drone_latest
            SELECT DISTINCT ON (protocol, drone) protocol, drone, time_us, sequence, latitude_e7, longitude_e7, altitude_mm,
                   velocity_north_cms, velocity_east_cms, velocity_down_cms, heading_cdeg, battery_mv, battery_pct,
                   satellites, status, stored_us, stored_us, ''
            FROM telemetry ORDER BY protocol, drone, time_us DESC, sequence DESC
            """,
            "CREATE TABLE skygate_spill (gateway text PRIMARY KEY, committed bigint NOT NULL)",
        ],
        // 3: events (rules and zone crossings). The unique key is the event's identity: two
        // gateways that hear the same frames raise the same event, stored once.
        [
            """
            CREATE TABLE events (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              time_us bigint NOT NULL, protocol smallint NOT NULL, drone bigint NOT NULL, kind smallint NOT NULL,
              zone text NOT NULL, alarm boolean NOT NULL, value double precision NOT NULL,
              latitude_e7 integer NOT NULL, longitude_e7 integer NOT NULL, altitude_mm integer NOT NULL,
              UNIQUE (protocol, drone, kind, zone, time_us))
            """,
            "CREATE INDEX events_time ON events (time_us)",
        ],
        // 4: replay marks, per gateway (docs/security.md, "Replay windows in the store"): each
        // keyed sender's highest accepted tag counter or signature timestamp. A gateway seeds
        // its floors from every gateway's marks at start and reads the others' on an interval.
        [
            """
            CREATE TABLE replay_marks (
              gateway text NOT NULL, protocol smallint NOT NULL, sender bigint NOT NULL, value bigint NOT NULL,
              PRIMARY KEY (gateway, protocol, sender))
            """,
        ],
    ]

    /// The stored version (0: an empty database).
    static func storedVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('skygate_schema') IS NOT NULL", logger: logger)
        var present = false
        for try await value in exists.decode(Bool.self) { present = value }
        guard present else { return 0 }
        var version = 0
        for try await value in try await connection.query("SELECT version FROM skygate_schema", logger: logger).decode(Int32.self) {
            version = Int(value)
        }
        return version
    }

    /// Applies migrations up to `target` inside the caller's transaction; returns the version
    /// found when it is newer than `target` (the caller refuses it), else `target`.
    static func migrate(_ connection: PostgresConnection, upTo target: Int, logger: Logger) async throws -> Int {
        try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
        var version = try await storedVersion(connection, logger: logger)
        if version == 0 {
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS skygate_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)",
                logger: logger)
            try await connection.query("INSERT INTO skygate_schema (version) VALUES (0) ON CONFLICT DO NOTHING", logger: logger)
        }
        guard version <= target else { return version }
        while version < target {
            for statement in migrations[version] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            version += 1
            try await connection.query("UPDATE skygate_schema SET version = \(Int32(version))", logger: logger)
        }
        return version
    }

    static func partitionNames(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass('telemetry')
            """, logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    /// `telemetry_YYYYMMDD` for the UTC day `day` (days since the epoch).
    static func partitionName(day: Int64) -> String {
        let civil = CivilTime(secondsSinceEpoch: day * 86_400)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "telemetry_\(civil.year)\(two(civil.month))\(two(civil.day))"
    }

    static func day(ofPartition name: String) -> Int64? {
        guard name.hasPrefix("telemetry_"), name.count == 18, let digits = Int(name.dropFirst(10)) else { return nil }
        let civil = CivilTime(year: digits / 10_000, month: digits / 100 % 100, day: digits % 100)
        return civil.secondsSinceEpoch / 86_400
    }

    static func createPartition(day: Int64) -> PostgresQuery {
        let width = Int64(Limits.Postgres.partitionMicroseconds)
        return PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(partitionName(day: day)) PARTITION OF telemetry
            FOR VALUES FROM (\(day * width)) TO (\((day + 1) * width))
            """)
    }
}
