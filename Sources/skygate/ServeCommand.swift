import Alerts
import ArgumentParser
import Gateway
import Logging
import Playback
import StoreWriter
import Foundation
import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// `skygate serve`: the gateway. UDP in (both protocols on one port), SQLite out, the HTTP API
/// beside it; SIGTERM or SIGINT drains and commits everything received, then exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: receive telemetry over UDP, store it in SQLite, serve the API.",
        discussion: "Every option can also come from --config FILE ('name = value' lines, names as the long options without dashes); the command line wins. See docs/operations.md."
    )

    @OptionGroup var options: GatewayOptions

    func run() async throws {
        let configuration = try options.makeConfiguration()
        var logger = Logger(label: "skygate")
        logger.logLevel = .info
        let gateway: Gateway
        do { gateway = try Gateway(configuration: configuration, logger: logger) } catch {
            throw ValidationError(error.description)
        }
        print("skygate serve: UDP \(gateway.receiver.boundAddress), database \(configuration.databasePath)")
        let startLogger = logger
        if let recorder = gateway.recorder { print("recording into \(recorder.directory)") }
        try await gateway.runUntilSignalled(
            logger: logger,
            onRunning: { port in
                // Once everything is up (so start-up errors still come first): who can send.
                if let warning = gateway.authenticationWarning { startLogger.warning("\(warning)") }
                print("status page on http://\(configuration.httpAddress.split(separator: ":").dropLast().joined(separator: ":")):\(port)/ (API: /api/stats, /api/drones, /metrics)")
                fflush(nil)
            },
            onStopped: { final in
                print(FinalAccounting.text(final))
                fflush(nil)
            })
    }
}

/// The gateway's options (`serve`).
struct GatewayOptions: ParsableArguments {
    @Option(help: "UDP HOST:PORT for both protocols (default \(GatewayConfiguration().udpAddress)).") var udp: String?
    @Option(help: "HTTP HOST:PORT for the API (default \(GatewayConfiguration().httpAddress)).") var http: String?
    @Option(help: "SQLite database file, or postgres://USER@HOST:PORT/DB to share one PostgreSQL with other gateways (default \(GatewayConfiguration().databasePath)).") var db: String?
    @Option(help: "With a postgres:// --db: file holding the password (default: the PGPASSWORD environment variable; never put it in the URL).") var dbPasswordFile: String?
    @Option(help: "This gateway's name in a shared store (default: the host name, a pod's name under Kubernetes).") var gatewayName: String?
    @Option(parsing: .unconditional, help: "Keep this many days of telemetry (default: keep everything).") var retain: Double?
    @Option(help: "Per-drone keys, '<drone id> <hex key>' per line.") var keyFile: String?
    @Flag(help: "Refuse untagged Skygate frames from every drone (drones with a key must tag anyway).") var requireAuthentication = false
    @Option(help: "MAVLink 2 signing keys, '<system id> <64 hex digits>' per line.") var mavlinkKeyFile: String?
    @Flag(help: "Refuse unsigned MAVLink frames from every system (systems with a key must sign anyway).") var requireSigning = false
    @Flag(help: "Accept untagged Skygate and unsigned MAVLink frames in the name of drones and systems that have a key (by default they are refused: unauthenticated, mavlink_unsigned).")
    var allowUnsignedFromKeyed = false
    @Option(parsing: .unconditional, help: "Refuse samples older than this many hours against the gateway's clock (timestamp_too_old); 0 turns the check off (default \(Limits().sampleAgeMax.components.seconds / 3_600)). Replay and imports are not checked.")
    var sampleAgeMaxHours: Double?
    @Option(parsing: .unconditional, help: "Packet ring size in KiB, a power of two; datagrams are stored by their size (default \(Limits().ringBytes >> 10)).")
    var ringKib: Int?
    @Option(parsing: .unconditional, help: "Commit at the latest after this many milliseconds (default \(Limits().commitInterval)).")
    var commitIntervalMs: Int?
    @Option(help: "Record every datagram into this directory (rotating .skyrec files; docs/recording-format.md).")
    var record: String?
    @Option(help: "Spill file for batches the store writer has no room for yet (default: the database path + '.spill').")
    var spill: String?
    @Option(parsing: .unconditional, help: "Most MiB the spill file may hold; 0 turns spilling off (default \(GatewayConfiguration().spillBudgetBytes >> 20)).")
    var spillBudgetMib: Int?
    @Option(parsing: .unconditional, help: .hidden) var testCommitDelayMs: Int?
    @Option(parsing: .unconditional, help: "With --record: keep the recordings under this many MiB, deleting the oldest (default \(GatewayConfiguration().recordingOptions.directoryBytesMax >> 20)).")
    var recordMaxMib: Int?
    @Option(help: "Read token: HTTP clients send 'Authorization: Bearer TOKEN' to read the API, /metrics and events; needed for a non-loopback --http. Prefer --access-token-file (a command line shows in ps).")
    var accessToken: String?
    @Option(parsing: .unconditional, help: "Status page: seconds without a frame before a drone shows stale (default \(GatewayConfiguration().staleAfterSeconds)).")
    var staleAfter: Double?
    @Option(parsing: .unconditional, help: "Seconds without a frame before a drone shows offline on the status page, and its fleet row may go to a new drone when the table is full (default \(GatewayConfiguration().offlineAfterSeconds)).")
    var offlineAfter: Double?
    @Option(help: "Status page: background map tile URL with {z}/{x}/{y} (a site's own tile server; default none).")
    var tileUrl: String?
    @OptionGroup var events: EventOptions
    @Option(help: "POST every event to this http(s) URL as JSON (repeat for several; in --config a comma-separated list).")
    var webhook: [String] = []
    @Option(help: "File holding the key webhook bodies are signed with (X-Skygate-Signature, HMAC-SHA256).")
    var webhookSecretFile: String?
    @Option(help: "Config file of 'name = value' lines.") var config: String?
    @Flag(help: "Keep the code that ran only to start resident; by default it goes back to the kernel once the gateway is up (docs/performance.md, \"Start-up code given back\").")
    var keepStartupPages = false

    // MARK: HTTP access, HTTP bounds and database TLS (docs/security.md, "HTTP")

    @Option(help: "File holding the read token (one line), instead of --access-token.")
    var accessTokenFile: String?
    @Option(help: "Ingest token: the only token POST /api/telemetry takes (and it reads nothing); without it, a gateway with an access token takes no HTTP ingest.")
    var ingestToken: String?
    @Option(help: "File holding the ingest token (one line), instead of --ingest-token.")
    var ingestTokenFile: String?
    @Option(parsing: .unconditional, help: "Seconds an HTTP connection has to send a whole request after opening or after its last answer; idle and slow clients are closed (default \(Limits().httpIdleTimeout)).")
    var httpIdleTimeout: Double?
    @Option(parsing: .unconditional, help: "HTTP connections open at once; more are closed when accepted (default \(Limits().httpConnectionsMax)).")
    var httpConnectionsMax: Int?
    @Option(help: "With a postgres:// --db: CA bundle (PEM) the server's certificate must chain to; implies sslmode=verify-full.")
    var dbCaFile: String?

    func makeConfiguration() throws -> GatewayConfiguration {
        var values: [String: String] = [:]
        if let config {
            do { values = try ConfigFile.read(config, allowed: Self.configNames) } catch { throw ValidationError(error.description) }
        }
        func value(_ name: String, _ commandLine: String?) -> String? { commandLine ?? values[name] }
        var configuration = GatewayConfiguration()
        if let udp = value("udp", udp) { configuration.udpAddress = udp }
        if let http = value("http", http) { configuration.httpAddress = http }
        if let db = value("db", db) { configuration.databasePath = db }
        configuration.databasePasswordFile = value("db-password-file", dbPasswordFile)
        if let name = value("gateway-name", gatewayName) {
            guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw ValidationError("--gateway-name must be 1...63 letters, digits, '-', '_' or '.', got '\(name)'")
            }
            configuration.gatewayName = name
        }
        if let text = value("retain", retain.map { "\($0)" }) {
            guard let days = Double(text), days > 0 else { throw ValidationError("--retain must be a number of days above 0, got '\(text)'") }
            configuration.retainDays = days
        }
        configuration.keyFile = value("key-file", keyFile)
        configuration.requireAuthentication = requireAuthentication || values["require-authentication"] == "true"
        configuration.mavlinkKeyFile = value("mavlink-key-file", mavlinkKeyFile)
        configuration.requireSigning = requireSigning || values["require-signing"] == "true"
        configuration.allowUnsignedFromKeyed = allowUnsignedFromKeyed || values["allow-unsigned-from-keyed"] == "true"
        configuration.releaseStartupPages = !(keepStartupPages || values["keep-startup-pages"] == "true")
        // Key files other users can read are refused before anything starts, as ssh refuses a
        // private key (`SecretFile`); the gateway reads them afterwards.
        for (option, path) in [("--key-file", configuration.keyFile), ("--mavlink-key-file", configuration.mavlinkKeyFile)] {
            guard let path else { continue }
            do { try SecretFile.check(path: path, option: option) } catch { throw ValidationError(error.description) }
        }
        if let text = value("ring-kib", ringKib.map { "\($0)" }) {
            let kibMin = configuration.limits.ringBytesMin >> 10
            guard let kib = Int(text), kib >= kibMin, kib <= Limits.ringBytesMax >> 10, kib & (kib - 1) == 0 else {
                throw ValidationError("--ring-kib must be a power of two in \(kibMin)...\(Limits.ringBytesMax >> 10), got '\(text)'")
            }
            configuration.limits.ringBytes = kib << 10
        }
        if let text = value("sample-age-max-hours", sampleAgeMaxHours.map { "\($0)" }) {
            let hoursMax = Double(Limits.sampleAgeMaxSecondsMax / 3_600)
            guard let hours = Double(text), hours >= 0, hours <= hoursMax else {
                throw ValidationError("--sample-age-max-hours must be a number of hours in 0 (off)...\(Int(hoursMax)), got '\(text)'")
            }
            configuration.limits.sampleAgeMax = .milliseconds(Int64((hours * 3_600_000).rounded()))
        }
        if let text = value("commit-interval-ms", commitIntervalMs.map { "\($0)" }) {
            guard let milliseconds = Int(text), (1...10_000).contains(milliseconds) else {
                throw ValidationError("--commit-interval-ms must be a whole number in 1...10000, got '\(text)'")
            }
            configuration.limits.commitInterval = .milliseconds(milliseconds)
        }
        configuration.spillPath = value("spill", spill)
        if let text = value("spill-budget-mib", spillBudgetMib.map { "\($0)" }) {
            let minimum = (SpillFile.recordBytesMax(samplesMax: configuration.limits.commitSamplesMax) + (1 << 20) - 1) >> 20
            guard let mebibytes = Int(text), mebibytes == 0 || (mebibytes >= minimum && mebibytes <= 1 << 22) else {
                throw ValidationError("--spill-budget-mib must be 0 (off) or a whole number of MiB in \(minimum)...\(1 << 22) (one full batch at least), got '\(text)'")
            }
            configuration.spillBudgetBytes = mebibytes << 20
        }
        if let milliseconds = testCommitDelayMs {
            guard (0...10_000).contains(milliseconds) else { throw ValidationError("--test-commit-delay-ms must be in 0...10000") }
            configuration.testCommitDelay = .milliseconds(milliseconds)
        }
        configuration.recordDirectory = value("record", record)
        if let directory = configuration.recordDirectory {
            // Checked before anything is bound or opened, so the error names the option first.
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && !isDirectory.boolValue {
                throw ValidationError("--record: '\(directory)' is a file, not a directory")
            }
        }
        if let text = value("record-max-mib", recordMaxMib.map { "\($0)" }) {
            let minimum = 2 * configuration.recordingOptions.fileBytesMax >> 20
            guard let mebibytes = Int(text), mebibytes >= minimum, mebibytes <= 1 << 30 else {
                throw ValidationError("--record-max-mib must be a whole number of MiB of at least \(minimum) (two files), got '\(text)'")
            }
            configuration.recordingOptions.directoryBytesMax = mebibytes << 20
        }
        configuration.accessToken = value("access-token", accessToken)
        try readHTTPAccessOptions(value, into: &configuration)
        if let text = value("stale-after", staleAfter.map { "\($0)" }) {
            guard let seconds = Double(text), seconds > 0 else { throw ValidationError("--stale-after must be a number of seconds above 0, got '\(text)'") }
            configuration.staleAfterSeconds = seconds
        }
        if let text = value("offline-after", offlineAfter.map { "\($0)" }) {
            // At most a year: the same value frees fleet rows (Limits.droneOfflineAfter).
            guard let seconds = Double(text), seconds > configuration.staleAfterSeconds, seconds <= 365 * 86_400 else {
                throw ValidationError("--offline-after must be a number of seconds above --stale-after (\(configuration.staleAfterSeconds)) and at most a year, got '\(text)'")
            }
            configuration.offlineAfterSeconds = seconds
        }
        if let url = value("tile-url", tileUrl) {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.contains("{z}"), url.contains("{x}"), url.contains("{y}") else {
                throw ValidationError("--tile-url must be an http(s) URL with {z}, {x} and {y}, got '\(url)'")
            }
            configuration.tileURL = url
        }
        try readEventOptions(value, into: &configuration, webhooksInConfig: values["webhook"])
        return configuration
    }

    /// Zones, rules (`EventOptions`, shared with `replay`) and webhooks.
    private func readEventOptions(
        _ value: (String, String?) -> String?, into configuration: inout GatewayConfiguration, webhooksInConfig: String?
    ) throws {
        (configuration.zonesPath, configuration.rules) = try events.resolve { name in value(name, nil) }
        configuration.webhookURLs = webhook.isEmpty
            ? (webhooksInConfig ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : webhook
        configuration.webhookSecretFile = value("webhook-secret-file", webhookSecretFile)
    }

    /// The tokens (checked now, before anything is bound: a placeholder or short token stops
    /// `serve` with a message naming the option), the HTTP bounds and the database's CA file.
    private func readHTTPAccessOptions(_ value: (String, String?) -> String?, into configuration: inout GatewayConfiguration) throws {
        configuration.accessTokenFile = value("access-token-file", accessTokenFile)
        configuration.ingestToken = value("ingest-token", ingestToken)
        configuration.ingestTokenFile = value("ingest-token-file", ingestTokenFile)
        do { _ = try configuration.resolvedHTTPTokens() } catch { throw ValidationError(error.description) }
        if let text = value("http-idle-timeout", httpIdleTimeout.map { "\($0)" }) {
            guard let seconds = Double(text), seconds >= 1, seconds <= 3_600 else {
                throw ValidationError("--http-idle-timeout must be a number of seconds in 1...3600, got '\(text)'")
            }
            configuration.limits.httpIdleTimeout = .milliseconds(Int64(seconds * 1_000))
        }
        if let text = value("http-connections-max", httpConnectionsMax.map { "\($0)" }) {
            guard let count = Int(text), (2...65_536).contains(count) else {
                throw ValidationError("--http-connections-max must be a whole number in 2...65536, got '\(text)'")
            }
            configuration.limits.httpConnectionsMax = count
        }
        configuration.databaseCAFile = value("db-ca-file", dbCaFile)
        if configuration.databaseCAFile != nil && !configuration.storeRequest.isPostgres {
            throw ValidationError("--db-ca-file is for a postgres:// --db, not the SQLite file '\(configuration.databasePath)'")
        }
    }

    static let configNames: Set<String> = [
        "access-token-file", "ingest-token", "ingest-token-file", "http-idle-timeout", "http-connections-max", "db-ca-file",
        "zones", "zone-hysteresis-m", "rule-low-battery-percent", "rule-lost-link-seconds", "rule-overspeed-mps",
        "rule-altitude-ceiling-m", "rule-sequence-gap-frames", "rule-gps-fix-lost", "webhook", "webhook-secret-file",
        "udp", "http", "db", "retain", "sample-age-max-hours", "key-file", "require-authentication", "ring-kib", "commit-interval-ms", "record",
        "record-max-mib", "spill", "spill-budget-mib", "db-password-file", "gateway-name",
        "mavlink-key-file", "require-signing", "allow-unsigned-from-keyed", "keep-startup-pages",
        "access-token", "stale-after", "offline-after", "tile-url",
    ]
}

/// The accounting as the last lines of `serve`, `demo` and `bench`.
enum FinalAccounting {
    static func text(_ snapshot: IngestCounters.Snapshot) -> String {
        var lines = [
            "final accounting: received \(snapshot.received) = stored \(snapshot.stored) + duplicate \(snapshot.duplicate) + rejected \(snapshot.rejectedTotal) + dropped \(snapshot.droppedTotal) (\(snapshot.isBalanced ? "balanced" : "NOT BALANCED"))",
            "  samples stored \(snapshot.samplesStored), datagrams received \(snapshot.datagramsReceived)",
        ]
        if snapshot.recovered > 0 {
            // Outside this run's identity: an earlier run accepted these and spilled them.
            lines.append("  recovered from an earlier run's spill: \(snapshot.recovered) frames, \(snapshot.samplesRecovered) samples")
        }
        for (reason, count) in snapshot.rejected.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > 0 {
            lines.append("  rejected \(reason.name): \(count)")
        }
        for (reason, count) in snapshot.dropped.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > 0 {
            lines.append("  dropped \(reason.name): \(count)")
        }
        return lines.joined(separator: "\n")
    }
}
