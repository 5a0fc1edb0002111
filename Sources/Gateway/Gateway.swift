import Alerts
import FlightRecording
import Foundation
import Logging
import PostgresStore
import MAVLinkSigning
import StoreWriter
import PacketRing
import Pipeline
import StatusServer
import Synchronization
import Telemetry
import TelemetryStore
import UDPTransport
import Webhooks
import WireAuthentication

/// The processor the live gateway runs: Skygate tags checked with HMAC-SHA256, MAVLink 2
/// signatures with SHA-256 (both swift-crypto), plugged into the pipeline's seams.
public typealias GatewayProcessor = BatchProcessor<HMACAuthenticator, MAVLinkSHA256Verifier>

/// The gateway: binds the UDP socket, opens the database, and runs the data path on three
/// dedicated threads: receive (socket → ring), process (ring → batch) and write (batch → SQLite,
/// one transaction per batch, the shared `CommitLoop`). `stop()` drains everything accepted into
/// the database before it returns, so SIGTERM loses nothing that was received.
public final class Gateway: @unchecked Sendable {
    // @unchecked: the mutable parts are touched only by their own thread, or under `lock`.

    public let configuration: GatewayConfiguration
    public let limits: ValidLimits
    public let counters = IngestCounters()
    public let ring: DatagramRing
    /// HTTP ingest's hand-off to the processor thread (docs/architecture.md, "HTTP ingest").
    public let httpIngest: HTTPIngestQueue
    public let receiver: UDPReceiver
    public let processor: GatewayProcessor
    /// Commit batches, the writer thread and its figures.
    public let commits: CommitLoop
    /// The one process loop (docs/architecture.md, "One way in"): both rings, the events, the hand-off.
    let processLoop: ProcessLoop<HMACAuthenticator, MAVLinkSHA256Verifier>
    /// With a shared store: the whole fleet as the store shows it, refreshed on its own thread.
    let sharedFleet: SharedFleetView?
    /// Read-only connections of the track, review and event endpoints, kept open between
    /// requests (as many as may run at once, `Limits.Status.storeReadsConcurrentMax`).
    let readers: StoreReaderPool
    /// The replay windows' marks kept in the store, when any drone or system has a key: seeded
    /// from the store at start (docs/security.md, "Replay windows in the store").
    public let replayMarks: ReplayMarks?
    /// The flight recorder when `recordDirectory` is set (docs/architecture.md, "Recording").
    public let recorder: FlightRecorder?
    /// The event engine (zones reloaded on SIGHUP, rules) on the processor thread, and the hub
    /// its events go out through (docs/events.md).
    public let events: EventStage
    public var zones: ZoneSource { events.zones }
    public var eventHub: EventHub { events.hub }
    /// Webhook delivery (`--webhook`): a sink of the hub, delivering on its own task.
    public let webhooks: WebhookDispatcher?
    private let webhookTask = Mutex<Task<Void, Never>?>(nil)
    public let startedNanoseconds = SystemClock.realtimeNanoseconds()
    /// Start-up steps done: the data path started, the HTTP server bound (`startupStepDone()`).
    private let startupSteps = Atomic<Int>(0)
    let logger: Logger
    /// How memory divided at start-up, bytes per component (`/api/stats` → `memory`, the
    /// start-up log line).
    public let memoryAtStart: StatsReport.Memory
    /// What the startup log says when ingest accepts unauthenticated frames (nil when it does not).
    public let authenticationWarning: String?

    let receiverStopped = Atomic<Bool>(false)
    let lock = NSLock()
    var threads: [ThreadHandle] = []
    var recorderThread: ThreadHandle?
    var isStopped = false

    /// Binds the socket and opens (or creates and migrates) the database. Every error names the
    /// option it comes from.
    /// - Parameter sinks: where events go besides the store and the SSE streams (webhooks).
    public init(
        configuration: GatewayConfiguration, logger: Logger = Logger(label: "skygate.gateway"), sinks: [any EventSink] = []
    ) throws(GatewayError) {
        do { limits = try ValidLimits(configuration.limits) } catch { throw GatewayError(error.description) }
        // Tokens are checked before anything is bound or opened, as `serve` checks them.
        _ = try configuration.resolvedHTTPTokens()
        self.configuration = configuration
        self.logger = logger
        var (authenticator, verifier) = try Self.makeAuthentication(configuration)
        authenticationWarning = Self.ingestAuthenticationWarning(configuration, authenticator: authenticator, verifier: verifier)
        let address: SocketAddress
        do { address = try SocketAddress(parsing: configuration.udpAddress, allowingPortZero: true) } catch {
            throw GatewayError("--udp: \(error)")
        }
        let limitValues = limits.value
        ring = DatagramRing(byteCapacity: limitValues.ringBytes, datagramCapacity: limitValues.datagramBytesMax)
        httpIngest = HTTPIngestQueue(limits: limits, counters: counters)
        do {
            receiver = try UDPReceiver(address: address, limits: limits, ring: ring, counters: counters)
        } catch {
            throw GatewayError("--udp \(configuration.udpAddress): \(error)")
        }
        var readRequest = configuration.storeRequest
        readRequest.options.isReadOnly = true
        readRequest.options.cacheSizeKiB = Limits.Store.readerCacheKiB
        readers = StoreReaderPool(idleMax: Limits.Status.storeReadsConcurrentMax) { [readRequest, logger] () throws(StoreError) in
            try StoreOpener.open(readRequest, logger: logger)
        }
        let store: any TelemetryStoring
        var request = configuration.storeRequest
        request.options.batchRowsMaximum = 2 * limitValues.commitSamplesMax  // one part per protocol
        do {
            store = try StoreOpener.open(request, logger: logger)
        } catch {
            throw GatewayError("--db \(configuration.storeRequest.displayName): \(error)")
        }
        replayMarks = try Self.makeReplayMarks(authenticator: authenticator, verifier: verifier, store: store, logger: logger)
        authenticator.replayMarks = replayMarks
        verifier.replayMarks = replayMarks
        // The shared drone_latest is bounded like the fleet table, and so is the merged answer.
        (store as? PostgresTelemetryStore)?.latestBound = (limitValues.dronesMax, limitValues.droneOfflineAfter.microsecondsClamped)
        sharedFleet = store is any SharedFleetReading
            ? SharedFleetView(
                request: configuration.storeRequest, logger: logger, replayMarks: replayMarks, dronesMax: limitValues.dronesMax)
            : nil
        let spill = try Self.makeSpill(configuration: configuration, limits: limits, store: store, logger: logger)
        webhooks = try Self.makeWebhooks(configuration: configuration, logger: logger)
        do {
            events = try EventStage.make(
                zonesPath: configuration.zonesPath, rules: configuration.rules, capacity: limitValues.dronesMax,
                sinks: sinks + (webhooks.map { [$0] } ?? []))
        } catch {
            throw GatewayError(error.description)
        }
        commits = CommitLoop(
            store: store, limits: limits, counters: counters,
            hooks: Self.commitHooks(configuration: configuration, store: store, logger: logger), spill: spill,
            events: events.hub.storeQueue)
        commits.replayMarks = replayMarks
        processor = GatewayProcessor(
            limits: limits, counters: counters, authenticator: authenticator, verifier: verifier, batch: commits.firstBatch)
        processLoop = ProcessLoop(processor: processor, sink: commits, observer: events)
        recorder = try Self.makeRecorder(configuration: configuration, limits: limits, processor: processor, logger: logger)
        memoryAtStart = StatsReport.Memory(
            packet_ring: ring.allocatedBytes, http_ingest_ring: httpIngest.ring.allocatedBytes,
            receive_scratch: receiver.allocatedBytes, commit_batches: commits.allocatedBytes,
            processor_scratch: processor.scratchBytes, fleet_table: processor.fleetBytes, event_engine: events.engine.allocatedBytes + events.hub.allocatedBytes,
            store_buffers: request.isPostgres ? 0 : TelemetryStore.writerBufferBytes(options: request.options),
            recorder_ring: recorder?.ringCapacity ?? 0,
            sqlite_page_cache_max: request.isPostgres ? 0 : request.options.cacheSizeKiB << 10)
    }

    /// The UDP port actually bound (useful with port 0).
    public var udpPort: UInt16 { receiver.port }

    /// Starts the three threads.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        precondition(threads.isEmpty, "started twice")
        threads = [
            ThreadHandle.start(name: "skygate-receive") { [receiver] in receiver.run() },
            ThreadHandle.start(name: "skygate-process") { [self] in runProcessLoop() },
        ]
        commits.start(threadName: "skygate-write")
        if let recorder { recorderThread = ThreadHandle.start(name: "skygate-record") { recorder.run() } }
        if let webhooks { webhookTask.withLock { $0 = Task { await webhooks.run() } } }
        sharedFleet?.start()
        logger.info(
            "gateway started",
            metadata: [
                "udp": "\(receiver.boundAddress)", "db": "\(configuration.storeRequest.displayName)", "memory": "\(memoryAtStart.logText)",
            ])
    }

    /// Called once the data path has started and once the HTTP server is bound: after the second,
    /// start-up is over, and with `releaseStartupPages` its code goes back to the kernel.
    func startupStepDone() {
        guard startupSteps.add(1, ordering: .acquiringAndReleasing).newValue == 2, configuration.releaseStartupPages else { return }
        let before = memoryReport().resident_bytes
        do {
            let advised = try StartupPages.release()
            let after = memoryReport().resident_bytes
            // Integer arithmetic: Foundation's formatting would fault its code straight back in.
            func mebibytes(_ bytes: Int?) -> String { bytes.map { "\($0 >> 20).\(($0 & 0xF_FFFF) * 10 >> 20)" } ?? "?" }
            logger.info(
                "start-up code given back",
                metadata: [
                    "resident_mib_before": "\(mebibytes(before))", "resident_mib_after": "\(mebibytes(after))",
                    "mappings_mib": "\(mebibytes(advised))",
                ])
        } catch {
            logger.notice("start-up code kept: \(error)")
        }
    }

    /// Stops receiving, drains the ring, commits the last batch, checkpoints the WAL and closes
    /// the database. Returns the final accounting. Idempotent.
    @discardableResult
    public func stop() -> IngestCounters.Snapshot {
        lock.lock()
        defer { lock.unlock() }
        guard !isStopped else { return counters.snapshot() }
        isStopped = true
        receiver.stopRequested.store(true, ordering: .relaxed)
        if threads.count == 2 {
            threads[0].join()
            receiverStopped.store(true, ordering: .releasing)
            threads[1].join()
            // The processor has made its last copy for the recorder: let it write the rest.
            recorder?.requestStop()
            commits.finish()
            recorderThread?.join()
        }
        sharedFleet?.stop()
        readers.close()
        do { try commits.store.checkpoint() } catch { logger.error("checkpoint failed: \(error)") }
        commits.store.close()
        let snapshot = counters.snapshot()
        assert(snapshot.isBalanced, "accounting does not balance after the drain: \(snapshot)")
        return snapshot
    }

    /// After `stop()`: delivers the webhook events still queued (for at most the drain time),
    /// then ends delivery. Idempotent.
    public func stopWebhooks() async {
        guard let webhooks else { return }
        await webhooks.shutdown()
        let task = webhookTask.withLock { task in
            defer { task = nil }
            return task
        }
        await task?.value
    }

    /// Ready for traffic: socket bound (it is, once constructed), the last commit succeeded, and
    /// the ring is below 90 % full.
    public var isReady: Bool {
        !commits.lastCommitFailed && !receiver.stopRequested.load(ordering: .relaxed) && ring.bytesUsed < ring.byteCapacity / 10 * 9
    }

    /// Datagrams the kernel dropped on this socket, when readable.
    public func kernelDrops() -> UInt64? { receiver.kernelDrops() }

    public var commitLatency: LatencyHistogram { commits.commitLatency }
    public var commitDuration: LatencyHistogram { commits.commitDuration }
    public var batchesCommittedCount: UInt64 { commits.batchesCommittedCount }
    /// Batches spilled while the writer was behind (0 without a spill file).
    public var spilledBatchCount: UInt64 { commits.spill?.spilledBatchCount ?? 0 }
    /// Compactions of recent blocks into chunks, with their durations.
    public var compactionDuration: LatencyHistogram { commits.compactionDuration }
    public var lastBatchSampleCount: Int { commits.lastBatchSampleCount }
    public var batchesWaiting: Int { commits.batchesWaiting }

    // MARK: The processor thread

    private func runProcessLoop() {
        // The UDP ring first, so a busy socket keeps priority over HTTP ingest. Finished once the
        // receiver has stopped and both rings are empty (HTTP ingest then closes for good).
        processLoop.run([ring, httpIngest.ring]) {
            receiverStopped.load(ordering: .acquiring) && ring.isEmpty && httpIngest.closeIfEmpty()
        }
    }
}

/// A gateway that cannot start: the message names the option and the problem.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
