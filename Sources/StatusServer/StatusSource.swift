import Telemetry
import TelemetryStore

/// What the HTTP side needs from the gateway; the gateway conforms (Gateway+Status.swift), tests
/// substitute a double. Every requirement is required (no default does a silent nothing), and is
/// bounded work from memory, except the reads, which use a read connection of their own.
public protocol StatusSource: Sendable {
    func statsReport() -> StatsReport
    /// Socket bound, database writable, ring not saturated.
    var isReady: Bool { get }
    /// A copy of every drone of the live fleet (bounded by `Limits.dronesMax`).
    func droneStatuses() -> [DroneStatus]
    /// A copy of one drone, or nil when it was never seen.
    func droneStatus(of drone: DroneIdentity) -> DroneStatus?
    /// Runs `body` on a read-only store connection for the track, review and event endpoints:
    /// one that nobody else uses meanwhile (the gateway keeps a few open between requests,
    /// `StoreReaderPool`).
    func withStoreForReading<Value>(_ body: (any TelemetryStoreReading) throws(StoreError) -> Value) throws(StoreError) -> Value
    /// Hands a `POST /api/telemetry` body to the gateway, which frames it (`IngestFraming`) and
    /// puts its datagrams through the HTTP ingest ring, with the same accounting as UDP.
    func ingest(body: [UInt8], format: IngestBodyFormat) -> IngestOutcome
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

/// What a `POST /api/telemetry` body holds, by its Content-Type.
public enum IngestBodyFormat: Sendable, Equatable {
    /// `application/octet-stream`: concatenated Skygate or MAVLink frames (one protocol a body).
    case frames
    /// `application/json`: samples, turned into Skygate frames.
    case json
}

/// What became of an HTTP ingest body.
public enum IngestOutcome: Sendable, Equatable {
    /// The body cannot enter the pipeline (the message is the 400 response's).
    case malformed(String)
    /// Every datagram is in the ring; the processor will count each frame's outcome.
    case accepted(datagrams: Int)
    /// The ring had no room for all of them: the first `accepted` went in, the rest were
    /// counted as dropped (`ring_full`).
    case ringFull(accepted: Int)
}

/// How the HTTP side presents and protects itself (from `GatewayConfiguration`).
public struct StatusSettings: Sendable {
    /// Seconds without a frame after which a drone shows as stale, and then offline.
    public var staleAfterSeconds: Double = 5
    public var offlineAfterSeconds: Double = 60
    /// Optional background map tiles, `{z}/{x}/{y}` placeholders (for sites with a tile server).
    public var tileURL: String?
    /// The read token, when `makeRouter` is given no `guards:` (tests): every endpoint except the
    /// pages, /healthz and /readyz requires it, in the `Authorization: Bearer` header only. The
    /// gateway passes its read and ingest tokens through `HTTPGuards` / `HTTPAccessPolicy`.
    public var accessToken: String?

    public init(staleAfterSeconds: Double = 5, offlineAfterSeconds: Double = 60, tileURL: String? = nil, accessToken: String? = nil) {
        self.staleAfterSeconds = staleAfterSeconds
        self.offlineAfterSeconds = offlineAfterSeconds
        self.tileURL = tileURL
        self.accessToken = accessToken
    }
}
