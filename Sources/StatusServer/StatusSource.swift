import Pipeline
import Telemetry
import TelemetryStore

/// What the HTTP side needs from the gateway; the gateway conforms (Gateway+Status.swift), tests
/// substitute a double. Every requirement is bounded work from memory, except `databasePath`,
/// which the track endpoint opens read-only per request.
public protocol StatusSource: Sendable {
    func statsReport() -> StatsReport
    /// Socket bound, database writable, ring not saturated.
    var isReady: Bool { get }
    /// A copy of every drone of the live fleet (bounded by `Limits.dronesMax`).
    func droneStatuses() -> [DroneStatus]
    /// A copy of one drone, or nil when it was never seen.
    func droneStatus(of drone: DroneIdentity) -> DroneStatus?
    /// The SQLite file the track endpoint reads; nil when there is none.
    var databasePath: String? { get }
    /// A store the track endpoint reads from (its own connection, closed after the request);
    /// by default the SQLite file at `databasePath`, read-only.
    func openStoreForReading() throws(StoreError) -> any TelemetryStoring
    /// Hands datagrams (each at most `ingestDatagramBytesMax` bytes of whole Skygate or MAVLink
    /// frames) to the batch processor through the HTTP ingest ring, with the same accounting as UDP.
    func ingest(datagrams: [[UInt8]]) -> IngestOutcome
    /// Largest datagram `ingest(datagrams:)` takes (a ring slot).
    var ingestDatagramBytesMax: Int { get }
    /// Commit latency buckets: (upper bound in seconds, count in that bucket), ascending.
    func commitLatencyBuckets() -> [(upperBoundSeconds: Double, count: UInt64)]
    /// The zones in force as `/api/zones` serves them (JSON).
    func zonesJSON() -> [UInt8]
    /// Stored events, newest first (called off the server's pool: it may read the store).
    func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent]
    /// A live stream of events (after `lastID` from the recent ones remembered), or nil when
    /// there is none or too many clients stream already.
    func subscribeEvents(after lastID: UInt64?) -> EventSubscription?
}

/// What became of an HTTP ingest body.
public enum IngestOutcome: Sendable, Equatable {
    /// Every datagram is in the ring; the processor will count each frame's outcome.
    case accepted(datagrams: Int)
    /// The ring had no room for all of them: the first `accepted` went in, the rest were
    /// counted as dropped (`ring_full`).
    case ringFull(accepted: Int)
}

extension StatusSource {
    public var databasePath: String? { nil }
    public func openStoreForReading() throws(StoreError) -> any TelemetryStoring {
        guard let path = databasePath else { throw .closed }
        var options = StoreOptions()
        options.isReadOnly = true
        options.cacheSizeKiB = Limits.Store.readerCacheKiB
        return try TelemetryStore(path: path, options: options)
    }
    public var ingestDatagramBytesMax: Int { 2_048 }
    public func ingest(datagrams: [[UInt8]]) -> IngestOutcome { .ringFull(accepted: 0) }
    public func commitLatencyBuckets() -> [(upperBoundSeconds: Double, count: UInt64)] { [] }
    public func zonesJSON() -> [UInt8] { Array(#"{"zones":[]}"#.utf8) }
    public func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] {
        let store = try openStoreForReading()
        defer { store.close() }
        return try store.readEvents(query)
    }
    public func subscribeEvents(after lastID: UInt64?) -> EventSubscription? { nil }
}

/// How the HTTP side presents and protects itself (from `GatewayConfiguration`).
public struct StatusSettings: Sendable {
    /// Seconds without a frame after which a drone shows as stale, and then offline.
    public var staleAfterSeconds: Double = 5
    public var offlineAfterSeconds: Double = 60
    /// Optional background map tiles, `{z}/{x}/{y}` placeholders (for sites with a tile server).
    public var tileURL: String?
    /// When set, every endpoint except /healthz and /readyz requires it (`Authorization: Bearer`
    /// or `?access_token=`).
    public var accessToken: String?

    public init(staleAfterSeconds: Double = 5, offlineAfterSeconds: Double = 60, tileURL: String? = nil, accessToken: String? = nil) {
        self.staleAfterSeconds = staleAfterSeconds
        self.offlineAfterSeconds = offlineAfterSeconds
        self.tileURL = tileURL
        self.accessToken = accessToken
    }
}
