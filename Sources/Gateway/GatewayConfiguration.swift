import Alerts
import FlightRecording
import PostgresStore
import Telemetry

/// Everything `skygate serve` can be told, with the defaults of docs/operations.md.
public struct GatewayConfiguration: Sendable {
    /// UDP address for both protocols.
    public var udpAddress = "0.0.0.0:14550"
    /// HTTP address of the API (and, later, the status page). Loopback by default.
    public var httpAddress = "127.0.0.1:8080"
    /// SQLite database file, or a `postgres://USER@HOST:PORT/DB` URL (the shared store).
    public var databasePath = "skygate.db"
    /// PostgreSQL: a file holding the password (else `PGPASSWORD`; never in the URL).
    public var databasePasswordFile: String?
    /// This gateway's name in a shared store (its spill mark, `drone_latest.gateway`).
    public var gatewayName = StoreOpener.defaultGatewayName
    /// Keep this many days of telemetry; nil keeps everything.
    public var retainDays: Double?
    /// Per-drone keys for authenticated Skygate frames (docs/protocol.md, "Authentication").
    public var keyFile: String?
    /// Refuse untagged frames from every drone, not only from drones with a key (those must
    /// authenticate anyway unless `allowUnsignedFromKeyed`).
    public var requireAuthentication = false
    /// MAVLink 2 signing keys per system id, `<system id> <64 hex digits>` per line
    /// (docs/protocol.md, "MAVLink", "Signing").
    public var mavlinkKeyFile: String?
    /// Refuse unsigned MAVLink frames from every system (`--require-signing`); systems that have a
    /// key must sign anyway unless `allowUnsignedFromKeyed`.
    public var requireSigning = false
    /// Accept untagged Skygate frames and unsigned MAVLink frames in the name of drones and
    /// systems that have a key (`--allow-unsigned-from-keyed`): off by default, because otherwise
    /// anyone can send in a keyed drone's name and the key protects nothing.
    public var allowUnsignedFromKeyed = false
    /// Seconds without a frame after which a drone shows as stale, and then offline.
    public var staleAfterSeconds: Double = 5
    /// `limits.droneOfflineAfter` in seconds: one value for the status page and the fleet table
    /// (a full table gives an offline drone's row to a new one).
    public var offlineAfterSeconds: Double {
        get {
            let parts = limits.droneOfflineAfter.components
            return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        }
        set { limits.droneOfflineAfter = .milliseconds(Int64((newValue * 1_000).rounded())) }
    }
    /// Background map tiles for the status page, `{z}/{x}/{y}` placeholders (a site's own tile
    /// server); nil draws positions on a plain background.
    public var tileURL: String?
    /// Required from HTTP clients (`Authorization: Bearer`, or `?access_token=`) except on the
    /// health endpoints; the gateway refuses a non-loopback HTTP address without one.
    public var accessToken: String?
    /// Every bound of the data path (checked when the gateway is made, `ValidLimits`).
    public var limits = Limits()
    /// Record every datagram the gateway takes in into this directory; nil records nothing.
    public var recordDirectory: String?
    /// File rotation, disk budget and chunking of the recording.
    public var recordingOptions = RecordingOptions()

    /// Where batches go while the store writer is behind (docs/storage.md, "Spill file"); nil
    /// puts it beside the database, `<db>.spill`.
    public var spillPath: String?
    /// Bytes the spill file may hold; a batch beyond it is dropped `spill_full`. 0: no spill
    /// file (the processor then waits for the writer and the ring absorbs, then drops).
    public var spillBudgetBytes = 1 << 30
    /// Test seam (`serve --test-commit-delay-ms`, hidden): the writer sleeps this long before each
    /// commit, so the tests can make it fall behind on purpose.
    public var testCommitDelay: Duration = .zero
    /// Geofence zones, a GeoJSON file (docs/events.md, "Zones"); reread on SIGHUP. nil: none.
    public var zonesPath: String?
    /// Thresholds of the rules and the zones' hysteresis (docs/events.md, "Rules").
    public var rules = RuleSettings()
    /// Webhook URLs every event is POSTed to (docs/events.md, "Webhooks").
    public var webhookURLs: [String] = []
    /// The key webhook bodies are signed with (HMAC-SHA256); nil: unsigned.
    public var webhookSecretFile: String?

    /// The spill file's path.
    public var resolvedSpillPath: String {
        spillPath ?? (storeRequest.isPostgres ? "skygate-\(gatewayName).spill" : databasePath + ".spill")
    }

    /// What opens the store (`StoreOpener`).
    public var storeRequest: StoreOpener.Request {
        StoreOpener.Request(db: databasePath, passwordFile: databasePasswordFile, gatewayName: gatewayName)
    }

    public init() {}
}
