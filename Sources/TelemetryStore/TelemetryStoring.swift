import Telemetry

/// The store seam: what the commit loop, replay, export and the status page need from a store.
/// The SQLite `TelemetryStore` (one machine, the default) and the PostgreSQL store (several
/// gateways sharing one database, `PostgresStore`) both conform.
///
/// Every call is synchronous and made from one thread at a time (the writer thread, or a
/// reader's own thread): a store is not shared between threads.
public protocol TelemetryStoring: AnyObject {
    /// What the store was opened from, without any secret (for messages).
    var location: String { get }
    /// Writes every row of `parts` in one transaction, all or nothing; with `spillSequence`, the
    /// same transaction marks that spill record stored.
    func write(_ parts: [StoreBatchPart], spillSequence: UInt64?) throws(StoreError) -> StoreWriteResult
    /// Housekeeping after commits (the SQLite chunk compaction); nil when nothing was due.
    func compactIfDue() throws(StoreError) -> StoreCompactionResult?
    /// All housekeeping now (at the end of a run).
    func compactAll() throws(StoreError) -> StoreCompactionResult
    /// The highest spill record number stored (0: none).
    func spillCommittedSequence() throws(StoreError) -> UInt64
    /// Drops telemetry with sample time before the cutoff.
    func retain(olderThanMicroseconds cutoffMicroseconds: UInt64) throws(StoreError) -> StoreRetentionResult
    /// Makes what was committed durable in the main file (SQLite's WAL checkpoint).
    func checkpoint() throws(StoreError)
    func close()
    /// After `StoreError.unavailable`: connects again. Throws while the store is still away.
    func reconnect() throws(StoreError)
    /// See `TelemetryStore.readSamples`.
    @discardableResult
    func readSamples(
        drone: DroneIdentity?, timeRangeMicroseconds: Range<UInt64>, pageSize: Int, _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int
    func droneSummaries() throws(StoreError) -> [StoredDroneSummary]
    func latestSamples() throws(StoreError) -> [StoredSample]
    func rowCount() throws(StoreError) -> Int
    /// Whether other gateways write into the same store, so the fleet is read from it.
    var isShared: Bool { get }
    /// A shared store's latest state of every drone any gateway stored; empty for a store only
    /// this gateway writes (its live fleet is in memory).
    func sharedFleet() throws(StoreError) -> [SharedDroneState]
    /// Stores events in one transaction; an event the store already holds (same drone, kind,
    /// zone and time: another gateway raised it too) is kept once. Returns how many were new.
    /// Retention (`retain`) drops events with the telemetry.
    @discardableResult
    func writeEvents(_ events: [AlertEvent]) throws(StoreError) -> Int
    /// Stored events matching `query`, newest first.
    func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent]
}

/// Which stored events `/api/events` wants.
public struct EventQuery: Sendable, Equatable {
    /// Event times, µs since the Unix epoch.
    public var timeRangeMicroseconds: Range<UInt64>
    public var drone: DroneIdentity?
    public var kind: EventKind?
    public var limit: Int

    public init(timeRangeMicroseconds: Range<UInt64> = 0..<UInt64(Int64.max), drone: DroneIdentity? = nil, kind: EventKind? = nil, limit: Int = Limits.Events.queryDefault) {
        self.timeRangeMicroseconds = timeRangeMicroseconds
        self.drone = drone
        self.kind = kind
        self.limit = limit
    }
}

/// One drone's latest stored state in a shared store, and which gateway stored it when.
public struct SharedDroneState: Sendable, Equatable {
    /// The latest sample (greatest sample time).
    public var latest: StoredSample
    /// Wall-clock µs of the first and the latest commit that carried the drone.
    public var firstStoredMicroseconds: UInt64
    public var lastStoredMicroseconds: UInt64
    /// The `--gateway-name` of the gateway that stored the latest sample.
    public var gateway: String

    public init(latest: StoredSample, firstStoredMicroseconds: UInt64, lastStoredMicroseconds: UInt64, gateway: String) {
        self.latest = latest
        self.firstStoredMicroseconds = firstStoredMicroseconds
        self.lastStoredMicroseconds = lastStoredMicroseconds
        self.gateway = gateway
    }
}

extension TelemetryStoring {
    @discardableResult
    public func readSamples(
        drone: DroneIdentity? = nil, timeRangeMicroseconds: Range<UInt64> = 0..<UInt64(Int64.max), _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        try readSamples(drone: drone, timeRangeMicroseconds: timeRangeMicroseconds, pageSize: 4_096, body)
    }
}

extension TelemetryStore: TelemetryStoring {
    public var location: String { path }
    public var isShared: Bool { false }
    public func sharedFleet() throws(StoreError) -> [SharedDroneState] { [] }
    /// A local file is never away: a failed open is an error, not an outage.
    public func reconnect() throws(StoreError) {}
    public func retain(olderThanMicroseconds cutoffMicroseconds: UInt64) throws(StoreError) -> StoreRetentionResult {
        try retain(olderThanMicroseconds: cutoffMicroseconds, stepRowsMaximum: Limits.Store.retentionStepRowsMax)
    }
}
