import Alerts
import Foundation
import FlightRecording
import PostgresStore
import StatusServer
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
    /// The read token: required from HTTP clients (`Authorization: Bearer` only) on the API,
    /// `/metrics` and the event stream; the gateway refuses a non-loopback HTTP address without
    /// one (docs/security.md, "HTTP").
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
    /// Once the data path and the HTTP server are up, give the code that ran only to start back
    /// to the kernel (`StartupPages`). `serve` sets it (`--keep-startup-pages` turns it off); off
    /// here, so tests and embedders that run gateways in their own process leave that
    /// process's code alone.
    public var releaseStartupPages = false
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
        var request = StoreOpener.Request(db: databasePath, passwordFile: databasePasswordFile, gatewayName: gatewayName)
        request.caFile = databaseCAFile
        return request
    }

    // MARK: HTTP access and database TLS (issue 20)

    /// The read token from a file (a mounted Secret), instead of `accessToken`.
    public var accessTokenFile: String?
    /// The ingest token: the only one `POST /api/telemetry` takes. Without it (and with a read
    /// token), HTTP ingest is closed.
    public var ingestToken: String?
    /// The ingest token from a file, instead of `ingestToken`.
    public var ingestTokenFile: String?
    /// PostgreSQL: the CA bundle the server's certificate is verified against (`sslmode=verify-full`).
    public var databaseCAFile: String?

    /// The read and ingest tokens, from the options or their files, each checked: not a
    /// placeholder, long enough, printable, and not equal to each other. Errors name the option,
    /// never the token.
    public func resolvedHTTPTokens() throws(GatewayError) -> (read: String?, ingest: String?) {
        let read = try Self.token(accessToken, option: "--access-token", file: accessTokenFile, fileOption: "--access-token-file")
        let ingest = try Self.token(ingestToken, option: "--ingest-token", file: ingestTokenFile, fileOption: "--ingest-token-file")
        if let read, let ingest, read == ingest {
            throw GatewayError("--ingest-token must differ from --access-token: one token that reads and ingests is what they separate")
        }
        return (read, ingest)
    }

    private static func token(_ value: String?, option: String, file: String?, fileOption: String) throws(GatewayError) -> String? {
        if value != nil && file != nil { throw GatewayError("give \(option) or \(fileOption), not both") }
        var token = value
        var named = option
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw GatewayError("\(fileOption): cannot read '\(file)'")
            }
            // A trailing newline is how editors and `echo` end a file; it is not part of the token.
            token = text.trimmingCharacters(in: .newlines)
            named = "\(fileOption) '\(file)'"
            if token?.contains("\n") == true { throw GatewayError("\(named) must hold one line, the token") }
        }
        guard let token else { return nil }
        if let problem = HTTPAccessPolicy.tokenProblem(token, option: named) { throw GatewayError(problem) }
        return token
    }

    public init() {}
}
