import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire

/// The store several gateways share: PostgreSQL through postgres-nio (docs/storage.md,
/// "PostgreSQL"). One connection, one batch in flight on it: the writer thread blocks on each
/// commit, which is the backpressure (the commit loop spills behind it).
///
/// - Time is `bigint` microseconds, as the wire carries it (a `timestamptz` bind through `Date`
///   would round through a Double).
/// - `telemetry` is range-partitioned by sample time, one partition per UTC day, created as
///   batches need them; retention drops whole partitions.
/// - Its primary key is the frame's identity (protocol, drone, time, sequence): a frame that two
///   gateways received is stored once. Each batch goes in by one COPY; only when the COPY meets a
///   row already stored does the batch take the slower path through a staging table and
///   `INSERT ... ON CONFLICT DO NOTHING`.
/// - `drone_latest` keeps every drone's latest sample, upserted per batch, so any gateway shows
///   the whole fleet.
///
/// Calls block the calling thread; make them from a thread of your own (the writer thread, a
/// Dispatch worker), never from a Swift concurrency task.
public final class PostgresTelemetryStore: TelemetryStoreWriting, TelemetryStoreReading, ReconnectingStore, SharedFleetReading {
    public static let schemaVersion = PostgresSchema.migrations.count

    public let postgres: PostgresLocation
    /// Who writes: the spill mark and `drone_latest.gateway` are kept under this name.
    public let gatewayName: String
    public var location: String { postgres.redacted }

    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private var connection: PostgresConnection?
    private var isClosed = false
    /// Day numbers (days since the epoch) whose partition is known to exist.
    private var partitions: Set<Int64> = []
    /// Each drone's latest row since the last `drone_latest` upsert (key: protocol << 32 |
    /// number), flushed with a commit at most every `Limits.Postgres.latestFlushInterval`.
    var pendingLatest: [UInt64: LatestRow] = [:]
    var lastLatestFlush = ContinuousClock.now - Limits.Postgres.latestFlushInterval
    /// The bound of `drone_latest` (issue 20): at most `rowsMax` rows once the drones beyond it
    /// are offline. Set by a writing gateway before its first commit (its `dronesMax` and
    /// `--offline-after`); nil keeps every row (replay, tests).
    public var latestBound: (rowsMax: Int, offlineAfterMicroseconds: UInt64)?
    var lastLatestPrune = ContinuousClock.now - Limits.Postgres.latestPruneInterval
    /// Rows of `drone_latest` this store deleted to keep the bound (`drones_latest_pruned`).
    public let latestRowsPruned = Atomic<UInt64>(0)
    private static let connectionIDs = Atomic<Int>(0)

    /// Connects, migrates the schema (under an advisory lock, so gateways starting together
    /// migrate once) and loads the partition list. `readOnly` checks the schema version only.
    public init(location: PostgresLocation, gatewayName: String, readOnly: Bool = false, logger: Logger = Logger(label: "skygate.postgres"))
        throws(StoreError)
    {
        postgres = location
        self.gatewayName = gatewayName
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        pendingLatest.reserveCapacity(1_024)
        do {
            try connect()
            if readOnly {
                try checkSchema()
            } else {
                try migrate()
                try loadPartitions()
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let connection {
            _ = Self.blocking { try await connection.close() }
        }
        connection = nil
        try? group.syncShutdownGracefully()
    }

    public func reconnect() throws(StoreError) {
        if isClosed { throw .closed }
        if connection != nil { return }
        try connect()
        try checkSchema()
        try loadPartitions()
    }

    public func checkpoint() throws(StoreError) {}
    public func compactIfDue() throws(StoreError) -> StoreCompactionResult? { nil }
    /// At the end of a run: the drones' latest state still pending.
    public func compactAll() throws(StoreError) -> StoreCompactionResult {
        try flushLatest()
        return StoreCompactionResult(samples: 0, chunks: 0, blocks: 0, transactions: 0, duration: .zero)
    }

    // MARK: Connection

    private func connect() throws(StoreError) {
        var configuration = PostgresConnection.Configuration(
            host: postgres.host, port: postgres.port, username: postgres.user, password: postgres.password,
            database: postgres.database, tls: .disable)
        if postgres.requiresTLS {
            // Both modes check the chain and, for a host name, the name (NIOSSL's full
            // verification); `--db-ca-file` replaces the system's CA bundle with the given one.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            do {
                if let caFile = postgres.caFile {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                }
                configuration.tls = .require(try NIOSSLContext(configuration: tls))
            } catch {
                throw .invalidLocation("--db: cannot set up TLS\(postgres.caFile.map { " with --db-ca-file '\($0)'" } ?? ""): \(error)")
            }
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(Limits.Postgres.connectTimeout.components.seconds) * 1_000_000_000)
        let id = Self.connectionIDs.wrappingAdd(1, ordering: .relaxed).newValue
        let settings = configuration
        let eventLoop = group.next()
        let logger = logger
        let attempt = BlockingBridge.wait(timeout: Limits.Postgres.operationTimeout) { () async throws -> PostgresConnection in
            try await PostgresConnection.connect(on: eventLoop, configuration: settings, id: id, logger: logger)
        }
        guard let result = attempt else {
            throw .unavailable("connect to \(postgres.redacted): no answer within \(Limits.Postgres.operationTimeout)")
        }
        switch result {
        case .success(let connected): connection = connected
        case .failure(let error): throw Self.storeError(error, context: "connect to \(postgres.redacted)")
        }
    }

    /// Runs `operation` on the connection and waits for it. A connection-level failure drops
    /// the connection (the next `reconnect()` makes a new one) and throws `.unavailable`.
    func run<T: Sendable>(_ context: String, _ operation: @escaping @Sendable (PostgresConnection) async throws -> T) throws(StoreError) -> T {
        if isClosed { throw .closed }
        guard let connection else { throw .unavailable("not connected to \(postgres.redacted)") }
        guard let outcome = BlockingBridge.wait(
            timeout: Limits.Postgres.operationTimeout, abandon: { connection.isClosed }, { try await operation(connection) })
        else {
            // No answer: treat the connection as dead (closing it fails what still waits on it).
            self.connection = nil
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
            throw .unavailable("\(context): the connection to \(postgres.redacted) closed or gave no answer within \(Limits.Postgres.operationTimeout)")
        }
        switch outcome {
        case .success(let value):
            return value
        case .failure(let error):
            let mapped = Self.storeError(error, context: context)
            if mapped.isUnavailable || connection.isClosed {
                self.connection = nil
                let closing = connection
                Task { try? await closing.close() }
                if !mapped.isUnavailable { throw .unavailable("connection lost: \(mapped)") }
            }
            throw mapped
        }
    }

    /// Runs `statements` in one transaction (rolled back on error).
    func transaction<T: Sendable>(_ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws(StoreError) -> T {
        let logger = logger
        return try run(context) { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Waits on this (non-concurrency) thread for an async operation (`BlockingBridge`).
    static func blocking<T>(_ operation: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        BlockingBridge.wait(operation)!
    }

    /// PostgreSQL's error classes that mean "the server is away or going", not "your statement
    /// is wrong": connection exceptions (08), operator intervention such as a shutdown (57P),
    /// insufficient resources such as too many connections (53).
    static func storeError(_ error: any Error, context: String) -> StoreError {
        if let psql = error as? PSQLError {
            if let info = psql.serverInfo {
                let state = info[.sqlState] ?? "?????"
                let message = "\(state) \(info[.message] ?? "")"
                if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") { return .unavailable(message) }
                if state == "28P01" || state == "28000" {
                    return .database(message: message + " (the password comes from --db-password-file or PGPASSWORD)", context: context)
                }
                return .database(message: message, context: context)
            }
            switch psql.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                let cause = psql.underlying.map { "\($0)" } ?? "\(psql.code)"
                return .unavailable("\(context): \(cause)")
            default:
                return .database(message: "\(psql.code)", context: context)
            }
        }
        if error is StoreError, let storeError = error as? StoreError { return storeError }
        return .unavailable("\(context): \(error)")
    }

    // MARK: Schema

    private func migrate() throws(StoreError) {
        let logger = logger
        let version = try transaction("migrate the schema") { connection in
            try await PostgresSchema.migrate(connection, upTo: PostgresSchema.migrations.count, logger: logger)
        }
        if version > Self.schemaVersion { throw .schemaTooNew(found: version, supported: Self.schemaVersion) }
    }

    private func checkSchema() throws(StoreError) {
        let logger = logger
        let version = try run("read the schema version") { connection in
            try await PostgresSchema.storedVersion(connection, logger: logger)
        }
        if version > Self.schemaVersion { throw .schemaTooNew(found: version, supported: Self.schemaVersion) }
        if version < Self.schemaVersion {
            throw .database(message: "schema version \(version) is older than \(Self.schemaVersion); start a writing gateway once to migrate it", context: "open")
        }
    }

    private func loadPartitions() throws(StoreError) {
        let logger = logger
        let names = try run("list partitions") { connection in try await PostgresSchema.partitionNames(connection, logger: logger) }
        partitions = Set(names.compactMap(PostgresSchema.day(ofPartition:)))
    }

    /// Creates the daily partitions `days` needs that are not known to exist (one transaction,
    /// under the schema lock, so two gateways never race on one CREATE).
    func ensurePartitions(_ days: [Int64]) throws(StoreError) {
        let missing = days.filter { !partitions.contains($0) }
        guard !missing.isEmpty else { return }
        let logger = logger
        try transaction("create partitions") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
            for day in missing {
                try await connection.query(PostgresSchema.createPartition(day: day), logger: logger)
            }
        }
        partitions.formUnion(missing)
    }

    // MARK: Retention

    /// Drops every daily partition wholly before the cutoff: no row-by-row DELETE, no bloat.
    public func retain(olderThanMicroseconds cutoffMicroseconds: UInt64) throws(StoreError) -> StoreRetentionResult {
        let cutoffDay = Int64(cutoffMicroseconds / Limits.Postgres.partitionMicroseconds)
        try loadPartitions()
        let old = partitions.filter { $0 < cutoffDay }.sorted()
        let logger = logger
        // Events are few: a plain DELETE by the time index.
        _ = try run("delete old events") { connection in
            try await connection.query("DELETE FROM events WHERE time_us < \(Int64(clamping: cutoffMicroseconds))", logger: logger)
        }
        guard !old.isEmpty else { return StoreRetentionResult(rowsDeleted: 0, transactions: 0) }
        let dropped = try transaction("drop old partitions") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
            var rows: Int64 = 0
            var dropped = 0
            for day in old {
                let name = PostgresSchema.partitionName(day: day)
                // The planner's row estimate: counting a day of rows to report it would cost a scan.
                let estimate = try await connection.query(
                    "SELECT c.reltuples::bigint FROM pg_class c WHERE c.oid = to_regclass(\(name))", logger: logger)
                var present = false
                for try await tuples in estimate.decode(Int64.self) {
                    present = true
                    rows += max(tuples, 0)
                }
                guard present else { continue }
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(name)"), logger: logger)
                dropped += 1
            }
            return (rows: Int(rows), partitions: dropped)
        }
        partitions.subtract(old)
        return StoreRetentionResult(rowsDeleted: dropped.rows, transactions: 1, partitionsDropped: dropped.partitions)
    }
}
