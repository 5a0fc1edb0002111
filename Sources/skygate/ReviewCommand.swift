import ArgumentParser
import FlightRecording
import Foundation
import Gateway
import Logging
import MAVLinkSigning
import Playback
import PostgresStore
import Telemetry
import TelemetryStore
import WireAuthentication

#if canImport(Glibc)
import Glibc
#endif

/// `skygate review FILE...`: loads recordings and autopilot logs through the gateway's pipeline
/// into a database (as `replay --db` does), then serves the status server over it on loopback,
/// so a flight can be reviewed in the browser at `/review` without a live gateway. Without
/// `--db` the database lives in a temporary directory of its own (mode 0700), removed at exit.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Load recordings (.skyrec, .tlog, .ulg, .bin, pcap/pcapng) and serve them for review in the browser.",
        discussion: """
            The files go through the gateway's pipeline into a temporary database (or --db), then the status server serves \
            /review on loopback until Ctrl-C. The review API (/api/fleet, /api/timeline, /api/drones/…/series) is in \
            docs/operations.md.
            """
    )

    @Argument(help: "Recordings, .tlog, .ulg, .bin, pcap or pcapng files, loaded in the order given.") var files: [String]
    @Option(help: "Load into (and serve from) this SQLite database or postgres://USER@HOST:PORT/DB instead of a temporary one.")
    var db: String?
    @Option(help: "With a postgres:// --db: file holding the password (default: PGPASSWORD).") var dbPasswordFile: String?
    @Option(help: "Loopback HOST:PORT to serve on (port 0: a free one).") var http: String = "127.0.0.1:0"
    @Option(help: "MAVLink system id for .ulg and .bin logs (default: the log's MAV_SYS_ID / SYSID_THISMAV, else 1).")
    var systemId: Int?
    @Option(help: "Background map tiles with {z}/{x}/{y} placeholders, as serve --tile-url.") var tileUrl: String?
    @OptionGroup(title: "Events (as serve takes them)") var events: EventOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("FILE: give at least one recording, .tlog, .ulg, .bin or capture") }
        if let systemId, !(1...255).contains(systemId) { throw ValidationError("--system-id must be 1...255, got \(systemId)") }
        guard let colon = http.lastIndex(of: ":"), UInt16(http[http.index(after: colon)...]) != nil else {
            throw ValidationError("--http must be HOST:PORT, got '\(http)'")
        }
        let host = http[..<colon]
        // Review has no access token: it serves on this machine only.
        guard ["127.0.0.1", "localhost", "[::1]"].contains(host) else {
            throw ValidationError("--http: review serves on loopback only (127.0.0.1, localhost or [::1]), got '\(host)'")
        }
    }

    func run() async throws {
        var readers: [any RecordingReader] = []
        for file in files {
            do { readers.append(try openRecording(path: file, systemID: systemId.map(UInt8.init))) } catch { throw ValidationError("FILE: \(error)") }
        }
        let temporary = db == nil ? try Self.makeTemporaryDirectory() : nil
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        let databasePath = db ?? temporary! + "/review.db"

        StopSignal.install()
        try load(readers, into: databasePath)
        if StopSignal.isRaised { return }

        var logger = Logger(label: "skygate")
        logger.logLevel = .warning
        var configuration = GatewayConfiguration()
        // Nothing is sent to it; it is bound on loopback only because a gateway has a socket.
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = http
        configuration.databasePath = databasePath
        configuration.databasePasswordFile = dbPasswordFile
        configuration.tileURL = tileUrl
        let bounds = try Self.storedBounds(configuration.storeRequest)
        let gateway: Gateway
        do { gateway = try Gateway(configuration: configuration, logger: logger) } catch { throw ValidationError(error.description) }
        let host = http[..<http.lastIndex(of: ":")!]
        let shown = db ?? "a temporary database (removed at exit)"
        let group = try gateway.makeServiceGroup(
            logger: logger,
            onRunning: { port in
                var query = ""
                if let bounds { query = "?from=\(bounds.lowerBound)&until=\(bounds.upperBound + 1)" }
                print("Review the flight: http://\(host):\(port)/review\(query)")
                print("  serving \(shown) until Ctrl-C   API: /api/timeline  /api/fleet?at=TIME  /api/drones/{protocol}/{id}/series")
                fflush(nil)
            },
            onStopped: { _ in })
        try await group.run()
    }

    /// Feeds every file through the pipeline into the database, with a progress line on stderr.
    func load(_ readers: [any RecordingReader], into path: String) throws {
        let (zonesPath, rules) = try events.resolve()
        let store: any TelemetryStoring
        do {
            store = try StoreOpener.open(StoreOpener.Request(db: path, passwordFile: dbPasswordFile))
        } catch {
            throw ValidationError("--db \(StoreOpener.Request(db: path).displayName): \(error)")
        }
        let runner: ReplayRunner
        do {
            runner = try ReplayRunner(
                store: store, zonesPath: zonesPath, rules: rules, authenticator: HMACAuthenticator(keys: DroneKeys(), requireForAllDrones: false, allowUntaggedFromKeyed: false),
                verifier: MAVLinkSHA256Verifier(keys: MAVLinkKeys(), requireSigning: false, allowUnsignedFromKeyed: false))
        } catch {
            throw ValidationError(error.description)
        }
        var progress = ProgressLine(verb: "loaded")
        var flightStart: UInt64?
        let reports = runner.replay(readers, fromNanoseconds: nil, untilNanoseconds: nil, shouldStop: { StopSignal.isRaised }) { recorded in
            if flightStart == nil { flightStart = recorded }
            progress.update(flightNanoseconds: recorded &- (flightStart ?? 0), datagrams: 1)
        }
        let final = runner.finish()
        progress.finish()
        for (file, report) in reports { print("\(file): \(report.summary)") }
        print("loaded \(final.datagramsReceived) datagrams (\(final.received) frames, \(final.samplesStored) positions stored)")
        let events = runner.events.hub.snapshot()
        if events.total > 0 { print("events: \(events.total) raised, \(runner.eventsStored) stored") }
        if let error = runner.storeError { throw ValidationError("loading into the database failed: \(error)") }
    }

    /// The first and last stored sample times, for the URL's range.
    static func storedBounds(_ request: StoreOpener.Request) throws -> ClosedRange<UInt64>? {
        var request = request
        request.options.isReadOnly = true
        do {
            let store = try StoreOpener.open(request)
            defer { store.close() }
            return try store.sampleTimeBounds()
        } catch {
            throw ValidationError("reading back the database: \(error)")
        }
    }

    /// A new directory only this user can enter (mkdtemp makes it 0700).
    static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "skygate-review-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        guard let made else { throw ValidationError("cannot make a temporary directory: \(String(cString: strerror(errno)))") }
        chmod(made, 0o700)
        return made
    }
}
