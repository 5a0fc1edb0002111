import ArgumentParser
import DroneSimulator
import Foundation
import Gateway
import Logging
import ServiceLifecycle
import Synchronization
import Telemetry

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
    @Option(help: "Commit at the latest after this many milliseconds.") var commitIntervalMs: Int = 250
    @Option(help: "Commit when a batch holds this many samples (default 65536).") var commitSamplesMax: Int?
    @Flag(help: "Print one JSON object instead of text.") var json = false
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

    struct Report: Codable {
        var drones: Int
        var samples_per_datagram: Int
        var paced: Bool
        var send_seconds: Double
        var total_seconds: Double
        var datagrams_sent: Int
        var sender_datagrams_per_second: Double
        var datagrams_received: UInt64
        var received_datagrams_per_second: Double
        var samples_stored: UInt64
        var stored_samples_per_second: Double
        var duplicate: UInt64
        var rejected: [String: UInt64]
        var dropped: [String: UInt64]
        var kernel_drops: UInt64?
        var lost_before_gateway: Int
        var commit_latency_p50_ms: Double?
        var commit_latency_p99_ms: Double?
        var commit_duration_p99_ms: Double?
        var batches_committed: UInt64
        var rss_megabytes: Double?
        var balanced: Bool
        /// SIGINT or SIGTERM ended the sending before the fleet had sent all of `--duration` (paced
        /// runs only: an unpaced flood runs to its end).
        var stopped_early: Bool
    }

    func run() async throws {
        var logger = Logger(label: "skygate")
        logger.logLevel = .warning
        let directory = NSTemporaryDirectory() + "skygate-bench-\(getpid())"
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = http ?? "127.0.0.1:0"
        if let db {
            configuration.databasePath = db
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            configuration.databasePath = directory + "/bench.db"
        }
        defer { if db == nil { try? FileManager.default.removeItem(atPath: directory) } }
        configuration.limits.commitInterval = .milliseconds(commitIntervalMs)
        if let commitSamplesMax { configuration.limits.commitSamplesMax = commitSamplesMax }
        let problems = configuration.limits.validate()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        let gateway: Gateway
        do { gateway = try Gateway(configuration: configuration, logger: logger) } catch { throw ValidationError(error.description) }
        gateway.start()
        let port = gateway.udpPort
        // The HTTP side, when asked for, runs on the Swift concurrency pool beside the data path's
        // own threads, exactly as under `skygate serve`.
        var statusServer: (group: ServiceGroup, task: Task<Void, any Error>)?
        if http != nil {
            let app: any Service
            let bound = Atomic<Bool>(false)
            let host = configuration.httpAddress.split(separator: ":").dropLast().joined(separator: ":")
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
            statusServer = (group, task)
            // Send only once the port is bound, so an HTTP load gets the whole window (bounded:
            // 10 s, or until the server has failed, say on a port in use).
            var waits = 0
            while !bound.load(ordering: .acquiring) && !ended.load(ordering: .acquiring) && waits < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waits += 1
            }
            guard bound.load(ordering: .acquiring) else {
                await group.triggerGracefulShutdown()
                _ = gateway.stop()
                let reason: String
                if case .failure(let error) = await task.result { reason = "\(error)" } else { reason = "not bound after 10 s" }
                throw ValidationError("--http \(configuration.httpAddress): the status server did not start: \(reason)")
            }
        }

        // The fleet: paced at --rate for --duration, or the same number of samples unpaced.
        var fleetConfiguration = FleetConfiguration(
            droneCount: drones, sampleRateHz: rate, durationSeconds: duration, samplesPerDatagram: samplesPerDatagram, seed: 1)
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        fleetConfiguration.startTimeMicroseconds = UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec / 1_000)
        let pacing: Pacing = max ? .asFastAsPossible : .realTime(speed: 1)
        if !json {
            print("bench: \(drones) drones × \(rate) Hz for \(duration) s, \(samplesPerDatagram) sample(s)/datagram, \(max ? "unpaced" : "paced")…")
        }
        // SIGINT or SIGTERM ends a paced run's sending early; the gateway still drains and the
        // report covers what was sent (an unpaced flood is short and runs to its end).
        let stop = Atomic<Bool>(false)
        let signalSources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.store(true, ordering: .relaxed) }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }
        let (summary, started, finished) = try await Self.send(fleetConfiguration, port: port, pacing: pacing) {
            stop.load(ordering: .relaxed)
        }
        let sendSeconds = Date().timeIntervalSince(started)
        // Let the last datagrams arrive: stop once the count has not moved for 200 ms (bounded).
        var last = gateway.counters.snapshot().datagramsReceived
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(200))
            let now = gateway.counters.snapshot().datagramsReceived
            if now == last { break }
            last = now
        }
        let kernelDrops = gateway.kernelDrops()
        let rss = Self.residentMegabytes()
        if let statusServer {
            await statusServer.group.triggerGracefulShutdown()
            try await statusServer.task.value
        }
        let final = gateway.stop()
        let totalSeconds = Date().timeIntervalSince(started)
        let report = Report(
            drones: drones, samples_per_datagram: samplesPerDatagram, paced: !max, send_seconds: sendSeconds,
            total_seconds: totalSeconds, datagrams_sent: summary.totals.datagramsSent,
            sender_datagrams_per_second: Double(summary.totals.datagramsSent) / sendSeconds,
            datagrams_received: final.datagramsReceived,
            received_datagrams_per_second: Double(final.datagramsReceived) / sendSeconds,
            samples_stored: final.samplesStored, stored_samples_per_second: Double(final.samplesStored) / totalSeconds,
            duplicate: final.duplicate,
            rejected: Dictionary(uniqueKeysWithValues: final.rejected.filter { $0.value > 0 }.map { ($0.key.name, $0.value) }),
            dropped: Dictionary(uniqueKeysWithValues: final.dropped.map { ($0.key.name, $0.value) }),
            kernel_drops: kernelDrops, lost_before_gateway: summary.totals.datagramsSent - Int(final.datagramsReceived),
            commit_latency_p50_ms: gateway.commitLatency.quantile(0.5).map { $0 / 1_000 },
            commit_latency_p99_ms: gateway.commitLatency.quantile(0.99).map { $0 / 1_000 },
            commit_duration_p99_ms: gateway.commitDuration.quantile(0.99).map { $0 / 1_000 },
            batches_committed: gateway.batchesCommittedCount, rss_megabytes: rss, balanced: final.isBalanced,
            stopped_early: !finished)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            func f(_ value: Double) -> String { String(format: "%.0f", value) }
            print("sent:       \(report.datagrams_sent) datagrams in \(String(format: "%.2f", sendSeconds)) s = \(f(report.sender_datagrams_per_second)) datagrams/s")
            print("received:   \(report.datagrams_received) datagrams = \(f(report.received_datagrams_per_second)) datagrams/s (lost before the gateway: \(report.lost_before_gateway), kernel drops: \(kernelDrops.map(String.init) ?? "unknown"))")
            print("stored:     \(report.samples_stored) samples = \(f(report.stored_samples_per_second)) samples/s over \(String(format: "%.2f", totalSeconds)) s, \(report.batches_committed) commits")
            print("dropped:    " + report.dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            print("rejected:   \(report.rejected.isEmpty ? "none" : report.rejected.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), duplicate \(report.duplicate)")
            print("latency:    receive→commit p50 \(report.commit_latency_p50_ms.map { String(format: "%.1f", $0) } ?? "-") ms, p99 \(report.commit_latency_p99_ms.map { String(format: "%.1f", $0) } ?? "-") ms; commit p99 \(report.commit_duration_p99_ms.map { String(format: "%.1f", $0) } ?? "-") ms")
            if report.stopped_early { print("stopped:    by a signal after \(String(format: "%.2f", sendSeconds)) s of sending (of \(duration) s)") }
            print("memory:     RSS \(rss.map { String(format: "%.0f", $0) } ?? "-") MB")
            print(FinalAccounting.text(final))
        }
    }

    /// Runs the simulator on its own thread and returns its summary, when sending started, and
    /// whether the fleet sent all it had (false when `shouldStop` cut a paced run short). Unpaced
    /// runs generate every datagram first (outside the timed part) and then only send, to the end.
    static func send(
        _ configuration: FleetConfiguration, port: UInt16, pacing: Pacing, shouldStop: @escaping @Sendable () -> Bool
    ) async throws -> (SimulationSummary, Date, finished: Bool) {
        let fleet = FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(keys: .init(), startTimeMicroseconds: configuration.startTimeMicroseconds))
        let sender = try UDPSender(destination: try SocketAddress(parsing: "127.0.0.1:\(port)"))
        nonisolated(unsafe) let unsafeFleet = fleet
        nonisolated(unsafe) var sink = sender
        if pacing == .asFastAsPossible {
            var batches: [DatagramBatch] = []
            while !fleet.isFinished {
                let batch = DatagramBatch(capacity: SimulatorLimits.datagramsPerBatchMax, slotLength: fleet.datagramLengthMax)
                fleet.generate(untilMicroseconds: .max, into: batch)
                if !batch.isEmpty { batches.append(batch) }
            }
            nonisolated(unsafe) let prepared = batches
            return await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    let started = Date()
                    for batch in prepared { sink.send(batch) }
                    continuation.resume(returning: (unsafeFleet.makeSummary(run: nil), started, true))
                }
            }
        }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let fleet = unsafeFleet
                let started = Date()
                let report = SimulationRunner.run(fleet, into: &sink, clock: MonotonicClock(), pacing: pacing, shouldStop: shouldStop)
                continuation.resume(returning: (fleet.makeSummary(run: report), started, fleet.isFinished))
            }
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
