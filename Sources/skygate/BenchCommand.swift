import ArgumentParser
import DroneSimulator
import Foundation
import Gateway
import Logging
import Playback
import ServiceLifecycle
import Synchronization
import Telemetry
import UDPTransport

/// `skygate bench`: the whole path end to end on loopback, as a user would run it: the simulator
/// sends from its own thread into a real gateway (socket, ring, processor, SQLite writer), and the
/// figures are what the gateway counted, not what the sender hoped.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure end-to-end ingest on loopback: simulator → gateway → SQLite.",
        discussion: "docs/performance.md explains the figures and how they compare to this machine's limits."
    )

    @Option(help: "Drones sending.") var drones: Int = 1_000
    @Option(help: "Samples per second per drone (paced), or the rate used to size the unpaced flood with --max.")
    var rate: Double = 100
    @Option(help: "Seconds of sending.") var duration: Double = 10
    @Option(help: "Samples per datagram (1...32).") var samplesPerDatagram: Int = 1
    @Flag(help: "Send as fast as possible instead of pacing at --rate: every datagram is generated before the clock starts, then sent with sendmmsg, so the figure is the gateway's and not the generator's.")
    var max = false
    @Option(help: "Database file (default: a temporary file, deleted afterwards).") var db: String?
    @Option(help: "Commit at the latest after this many milliseconds (default \(Limits().commitInterval)).")
    var commitIntervalMs: Int?
    @Option(help: "Commit when a batch holds this many samples (default \(Limits().commitSamplesMax)).") var commitSamplesMax: Int?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: "Evaluate these geofence zones (GeoJSON, as serve --zones) during the run.") var zones: String?
    @Option(help: "POST events to this URL during the run, as serve --webhook (repeatable): a dead or slow receiver must not change the rate.")
    var webhook: [String] = []
    @Option(help: "Sign the bench's webhook POSTs with the key in this file, as serve --webhook-secret-file.") var webhookSecretFile: String?
    @Option(help: "Also serve the status page, API and /metrics on this HOST:PORT while the bench runs (port 0 picks one), so an HTTP load can be measured against full ingest; the URL goes to standard error once bound.")
    var http: String?

    func validate() throws {
        guard (1...100_000).contains(drones) else { throw ValidationError("--drones must be in 1...100000, got \(drones)") }
        guard rate > 0 && rate <= 1_000 else { throw ValidationError("--rate must be above 0 and at most 1000, got \(rate)") }
        guard duration > 0 && duration <= 3_600 else { throw ValidationError("--duration must be in (0, 3600] seconds, got \(duration)") }
        guard (1...32).contains(samplesPerDatagram) else {
            throw ValidationError("--samples-per-datagram must be in 1...32, got \(samplesPerDatagram)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "skygate")
        logger.logLevel = .warning
        let directory = NSTemporaryDirectory() + "skygate-bench-\(getpid())"
        let gateway = try makeGateway(temporaryDirectory: directory, logger: logger)
        defer { if db == nil { try? FileManager.default.removeItem(atPath: directory) } }
        gateway.start()
        let statusServer = try await startStatusServer(gateway, logger: logger)
        if !json {
            print("bench: \(drones) drones × \(rate) Hz for \(duration) s, \(samplesPerDatagram) sample(s)/datagram, \(max ? "unpaced" : "paced")…")
        }
        // SIGINT or SIGTERM ends a paced run's sending early; the gateway still drains and the
        // report covers what was sent (an unpaced flood is short and runs to its end).
        StopSignal.install()
        let destination = try SocketAddress(parsing: "127.0.0.1:\(gateway.udpPort)")
        let outcome: FleetSender.Outcome
        do {
            outcome = try await FleetSender.fly(
                FleetSender.makeFleet(fleetConfiguration()), to: destination, pacing: max ? .asFastAsPossible : .realTime(speed: 1),
                shouldStop: { StopSignal.isRaised })
        } catch {
            _ = gateway.stop()
            throw ValidationError(error.description)
        }
        let sendSeconds = Date().timeIntervalSince(outcome.started)
        try await Self.waitForArrivals(gateway)
        let kernelDrops = gateway.kernelDrops()
        let rss = Self.residentMegabytes()
        if let statusServer {
            await statusServer.group.triggerGracefulShutdown()
            try await statusServer.task.value
        }
        let final = gateway.stop()
        // Timed before the webhook drain (up to its 5 s timeout with a dead receiver): the
        // figure is ingest's; webhook counters show what was still pending then.
        let report = Report(
            command: self, gateway: gateway, final: final, outcome: outcome, sendSeconds: sendSeconds,
            totalSeconds: Date().timeIntervalSince(outcome.started), kernelDrops: kernelDrops, rss: rss)
        await gateway.stopWebhooks()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text(requestedDuration: duration))
            print(FinalAccounting.text(final))
        }
    }

    /// The bench's gateway: loopback on a free port, the given or a temporary database, the
    /// commit options applied and checked.
    func makeGateway(temporaryDirectory directory: String, logger: Logger) throws -> Gateway {
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = http ?? "127.0.0.1:0"
        if let db {
            configuration.databasePath = db
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            configuration.databasePath = directory + "/bench.db"
        }
        if let commitIntervalMs { configuration.limits.commitInterval = .milliseconds(commitIntervalMs) }
        if let commitSamplesMax { configuration.limits.commitSamplesMax = commitSamplesMax }
        configuration.zonesPath = zones
        configuration.webhookURLs = webhook
        configuration.webhookSecretFile = webhookSecretFile
        do { return try Gateway(configuration: configuration, logger: logger) } catch { throw ValidationError(error.description) }
    }

    /// The fleet: paced at --rate for --duration, or the same number of samples unpaced.
    func fleetConfiguration() -> FleetConfiguration {
        var configuration = FleetConfiguration(
            droneCount: drones, sampleRateHz: rate, durationSeconds: duration, samplesPerDatagram: samplesPerDatagram, seed: 1)
        configuration.startTimeMicroseconds = SystemClock.realtimeMicroseconds()
        return configuration
    }

    /// With `--http`, the status side on the Swift concurrency pool beside the data path's own
    /// threads, exactly as under `skygate serve`. Returns once the port is bound (bounded by
    /// `Limits.Commands.statusBindWaitMax`), so an HTTP load gets the whole window.
    func startStatusServer(_ gateway: Gateway, logger: Logger) async throws -> (group: ServiceGroup, task: Task<Void, any Error>)? {
        guard http != nil else { return nil }
        let address = gateway.configuration.httpAddress
        let host = address.split(separator: ":").dropLast().joined(separator: ":")
        let bound = Atomic<Bool>(false)
        let app: any Service
        do {
            app = try gateway.makeStatusApplication(logger: logger) { port in
                FileHandle.standardError.write(Data("status page on http://\(host):\(port)/\n".utf8))
                bound.store(true, ordering: .releasing)
            }
        } catch {
            _ = gateway.stop()
            throw ValidationError("\(error)")
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let ended = Atomic<Bool>(false)
        let task = Task {
            defer { ended.store(true, ordering: .releasing) }
            try await group.run()
        }
        let deadline = ContinuousClock.now + Limits.Commands.statusBindWaitMax
        while !bound.load(ordering: .acquiring) && !ended.load(ordering: .acquiring) && ContinuousClock.now < deadline {
            try await Task.sleep(for: Limits.Commands.pollInterval)
        }
        guard bound.load(ordering: .acquiring) else {
            await group.triggerGracefulShutdown()
            _ = gateway.stop()
            let reason: String
            if case .failure(let error) = await task.result { reason = "\(error)" } else { reason = "not bound after \(Limits.Commands.statusBindWaitMax)" }
            throw ValidationError("--http \(address): the status server did not start: \(reason)")
        }
        return (group, task)
    }

    /// Lets the last datagrams arrive: returns once the received count has not moved for
    /// `Limits.Commands.arrivalQuietPeriod`, or after `arrivalWaitMax`.
    static func waitForArrivals(_ gateway: Gateway) async throws {
        var last = gateway.counters.snapshot().datagramsReceived
        let deadline = ContinuousClock.now + Limits.Commands.arrivalWaitMax
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: Limits.Commands.arrivalQuietPeriod)
            let now = gateway.counters.snapshot().datagramsReceived
            if now == last { return }
            last = now
        }
    }

    /// Resident set size from /proc/self/status.
    static func residentMegabytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Double(fields[1]) { return kilobytes / 1_024 }
        }
        return nil
    }
}
