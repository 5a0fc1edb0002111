import Telemetry

/// The store seam, in two halves: what the store writer needs (`TelemetryStoreWriting`) and
/// what readers need (`TelemetryStoreReading`: replay's checks, export, the status page's track
/// and event endpoints). The SQLite `TelemetryStore` (one machine, the default) and the
/// PostgreSQL store (several gateways sharing one database, `PostgresStore`) both conform to
/// both. What only a network store can do is a protocol of its own, which SQLite does not
/// pretend to: `ReconnectingStore` and `SharedFleetReading`.
///
/// Every call is synchronous and made from one thread at a time (the writer thread, or a
/// reader's own thread): a store is not shared between threads.
public typealias TelemetryStoring = TelemetryStoreWriting & TelemetryStoreReading

/// What the store writer needs: batches and events in, spill marks, housekeeping.
public protocol TelemetryStoreWriting: AnyObject {
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
    /// Stores events in one transaction; an event the store already holds (same drone, kind,
    /// zone and time: another gateway raised it too) is kept once. Returns how many were new.
    /// Retention (`retain`) drops events with the telemetry.
    @discardableResult
    func writeEvents(_ events: [AlertEvent]) throws(StoreError) -> Int
}

/// What readers need: samples, the drones stored, events.
public protocol TelemetryStoreReading: AnyObject {
    /// What the store was opened from, without any secret (for messages).
    var location: String { get }
    /// See `TelemetryStore.readSamples`.
    @discardableResult
    func readSamples(
        drone: DroneIdentity?, timeRangeMicroseconds: Range<UInt64>, pageSize: Int, _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int
    func droneSummaries() throws(StoreError) -> [StoredDroneSummary]
    func latestSamples() throws(StoreError) -> [StoredSample]
    func rowCount() throws(StoreError) -> Int
    /// Stored events matching `query`, newest first.
    func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent]
    /// Each drone's last sample with time in `timeRangeMicroseconds` (the greatest (time,
    /// sequence): the row `export` lists last for that range), in (protocol, number) order, at
    /// most `dronesMax` drones. Flight review's `/api/fleet?at=` (StoreReview.swift).
    func lastSamples(in timeRangeMicroseconds: Range<UInt64>, dronesMax: Int) throws(StoreError) -> [StoredSample]
    /// The first and last stored sample times; nil when nothing is stored.
    func sampleTimeBounds() throws(StoreError) -> ClosedRange<UInt64>?
    /// Distinct drones and samples in each bucket (`/api/timeline`).
    func activity(_ buckets: ActivityBuckets) throws(StoreError) -> [ActivityBucket]
    func close()
}

/// A store that can go away and come back (a network database): after `StoreError.unavailable`
/// the writer calls `reconnect()` until it stops throwing. A local file never goes away, so
/// SQLite does not conform.
public protocol ReconnectingStore: AnyObject {
    func reconnect() throws(StoreError)
}

/// A store other gateways write into too, so the whole fleet is read from it (`/api/drones`).
public protocol SharedFleetReading: AnyObject {
    /// The latest state of every drone any gateway stored.
    func sharedFleet() throws(StoreError) -> [SharedDroneState]
}

extension TelemetryStoreReading {
    @discardableResult
    public func readSamples(
        drone: DroneIdentity? = nil, timeRangeMicroseconds: Range<UInt64> = 0..<UInt64(Int64.max), _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        try readSamples(drone: drone, timeRangeMicroseconds: timeRangeMicroseconds, pageSize: 4_096, body)
    }
}

extension TelemetryStore: TelemetryStoreWriting, TelemetryStoreReading {
    public var location: String { path }
    public func retain(olderThanMicroseconds cutoffMicroseconds: UInt64) throws(StoreError) -> StoreRetentionResult {
        try retain(olderThanMicroseconds: cutoffMicroseconds, stepRowsMaximum: Limits.Store.retentionStepRowsMax)
    }
}
