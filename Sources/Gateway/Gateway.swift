import FlightRecording
import Foundation
import Logging
import MAVLinkSigning
import PacketRing
import Pipeline
import Synchronization
import Telemetry
import TelemetryStore
import UDPIngest
import WireAuthentication

/// The gateway: binds the UDP socket, opens the database, and runs the data path on three
/// dedicated threads: receive (socket → ring), process (ring → batch) and write (batch → SQLite,
/// one transaction per batch). `stop()` drains everything accepted into the database before it
/// returns, so SIGTERM loses nothing that was received.
public final class Gateway: @unchecked Sendable {
    // @unchecked: the mutable parts are touched only by their own thread, or under `lock`.

    public let configuration: GatewayConfiguration
    public let counters = IngestCounters()
    public let ring: PacketRing
    /// HTTP ingest's hand-off to the processor thread (docs/architecture.md, "HTTP ingest").
    public let httpIngest: HTTPIngestQueue
    public let receiver: UDPReceiver
    public let processor: BatchProcessor
    public let store: TelemetryStore
    /// The flight recorder when `recordDirectory` is set (docs/architecture.md, "Recording").
    public let recorder: FlightRecorder?
    /// Receive-to-commit latency of every stored unit.
    public let commitLatency = LatencyHistogram()
    /// Duration of each commit (one batch, one transaction).
    public let commitDuration = LatencyHistogram()
    public let startedNanoseconds = realtimeNanoseconds()
    let logger: Logger

    let freeBatches: BatchQueue
    let fullBatches: BatchQueue
    let receiverStopped = Atomic<Bool>(false)
    let lastWriteFailed = Atomic<Bool>(false)
    let batchesCommitted = Atomic<UInt64>(0)
    let lastBatchSamples = Atomic<Int>(0)
    let lock = NSLock()
    var threads: [ThreadHandle] = []
    var recorderThread: ThreadHandle?
    var isStopped = false

    /// Binds the socket and opens (or creates and migrates) the database.
    public init(configuration: GatewayConfiguration, logger: Logger = Logger(label: "skygate.gateway")) throws(GatewayError) {
        let limits = configuration.limits
        let problems = limits.validate()
        guard problems.isEmpty else { throw GatewayError("invalid limits: " + problems.joined(separator: "; ")) }
        self.configuration = configuration
        self.logger = logger
        var keys = DroneKeys()
        if let keyFile = configuration.keyFile {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                throw GatewayError("--key-file: cannot read '\(keyFile)'")
            }
            do { keys = try DroneKeys(parsing: text) } catch { throw GatewayError("--key-file '\(keyFile)': \(error)") }
        }
        var mavlinkKeys = MAVLinkKeys()
        if let keyFile = configuration.mavlinkKeyFile {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                throw GatewayError("--mavlink-key-file: cannot read '\(keyFile)'")
            }
            // The error names the line and the problem, never the key.
            do { mavlinkKeys = try MAVLinkKeys(parsing: text) } catch {
                throw GatewayError("--mavlink-key-file '\(keyFile)': \(error)")
            }
        }
        let address: SocketAddress
        do { address = try SocketAddress(parsing: configuration.udpAddress, allowingPortZero: true) } catch {
            throw GatewayError("--udp: \(error)")
        }
        ring = PacketRing(capacity: limits.ringCapacity, datagramCapacity: limits.datagramBytesMax)
        httpIngest = HTTPIngestQueue(datagramCapacity: limits.datagramBytesMax, counters: counters)
        do {
            receiver = try UDPReceiver(address: address, limits: limits, ring: ring, counters: counters)
        } catch {
            throw GatewayError("--udp \(configuration.udpAddress): \(error)")
        }
        do {
            var options = StoreOptions()
            options.batchRowsMaximum = 2 * limits.commitSamplesMax  // one part per protocol
            store = try TelemetryStore(path: configuration.databasePath, options: options)
        } catch {
            throw GatewayError("--db \(configuration.databasePath): \(error)")
        }
        let batches = (0...limits.commitBatchesInFlight).map { _ in TelemetryBatch(samplesMax: limits.commitSamplesMax) }
        processor = BatchProcessor(
            limits: limits, counters: counters, keys: keys, requireAuthentication: configuration.requireAuthentication,
            mavlinkKeys: mavlinkKeys, requireMAVLinkSigning: configuration.requireSigning, batch: batches[0])
        recorder = try Self.makeRecorder(configuration: configuration, processor: processor, logger: logger)
        freeBatches = BatchQueue(capacity: batches.count)
        fullBatches = BatchQueue(capacity: batches.count)
        for batch in batches.dropFirst() { freeBatches.put(batch) }
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
            ThreadHandle.start(name: "skygate-process") { [self] in processLoop() },
            ThreadHandle.start(name: "skygate-write") { [self] in writeLoop() },
        ]
        if let recorder { recorderThread = ThreadHandle.start(name: "skygate-record") { recorder.run() } }
        logger.info("gateway started", metadata: ["udp": "\(receiver.boundAddress)", "db": "\(configuration.databasePath)"])
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
        if threads.count == 3 {
            threads[0].join()
            receiverStopped.store(true, ordering: .releasing)
            threads[1].join()
            // The processor has made its last copy for the recorder: let it write the rest.
            recorder?.requestStop()
            threads[2].join()
            recorderThread?.join()
        }
        do { try store.checkpoint() } catch { logger.error("checkpoint failed: \(error)") }
        store.close()
        let snapshot = counters.snapshot()
        assert(snapshot.isBalanced, "accounting does not balance after the drain: \(snapshot)")
        return snapshot
    }

    /// Ready for traffic: socket bound (it is, once constructed), the last commit succeeded, and
    /// the ring is below 90 % full.
    public var isReady: Bool {
        !lastWriteFailed.load(ordering: .relaxed) && !isStoppedUnlocked && ring.count < ring.capacity / 10 * 9
    }

    private var isStoppedUnlocked: Bool { receiver.stopRequested.load(ordering: .relaxed) }

    /// Datagrams the kernel dropped on this socket, when readable.
    public func kernelDrops() -> UInt64? { receiver.kernelDrops() }

    public var batchesCommittedCount: UInt64 { batchesCommitted.load(ordering: .relaxed) }
    public var lastBatchSampleCount: Int { lastBatchSamples.load(ordering: .relaxed) }
    public var batchesWaiting: Int { fullBatches.count }

    // MARK: The processor thread

    private func processLoop() {
        // Bounded by the stop protocol: after the receiver stops, the ring only empties.
        while true {
            let now = realtimeNanoseconds()
            var taken = processor.drain(ring, nowNanoseconds: now)
            if processor.isBatchDue(nowNanoseconds: now) { handOff() }
            // HTTP ingest's ring, drained after the UDP ring so a busy socket keeps priority.
            taken += processor.drain(httpIngest.ring, nowNanoseconds: now)
            if processor.isBatchDue(nowNanoseconds: now) { handOff() }
            if taken == 0 {
                if receiverStopped.load(ordering: .acquiring) && ring.isEmpty && httpIngest.closeIfEmpty() {
                    if processor.batch.units > 0 { handOff() }
                    break
                }
                usleep(200)
            }
        }
        fullBatches.close()
    }

    private func handOff() {
        guard let fresh = freeBatches.take() else { return }
        fullBatches.put(processor.swapBatch(fresh))
    }

    // MARK: The writer thread

    private func writeLoop() {
        var lastRetention = realtimeNanoseconds()
        var latencies = [UInt64](repeating: 0, count: configuration.limits.commitSamplesMax)
        while let batch = fullBatches.take() {
            let started = realtimeNanoseconds()
            do {
                _ = try store.write([
                    StoreBatchPart(protocol: .skygate, columns: batch.skygate),
                    StoreBatchPart(protocol: .mavlink, columns: batch.mavlink),
                ])
                let committed = realtimeNanoseconds()
                counters.countStored(units: batch.units, samples: batch.sampleCount)
                lastWriteFailed.store(false, ordering: .relaxed)
                let receiveTimes = batch.unitReceiveTimes
                for index in receiveTimes.indices {
                    latencies[index] = committed > receiveTimes[index] ? (committed - receiveTimes[index]) / 1_000 : 0
                }
                commitLatency.record(latencies[0..<receiveTimes.count])
                commitDuration.record(CollectionOfOne((committed - started) / 1_000))
                batchesCommitted.add(1, ordering: .relaxed)
                lastBatchSamples.store(batch.sampleCount, ordering: .relaxed)
            } catch {
                logger.error("commit of \(batch.units) frames failed: \(error)")
                counters.countDropped(.storeFailed, units: batch.units)
                lastWriteFailed.store(true, ordering: .relaxed)
            }
            batch.reset()
            freeBatches.put(batch)
            if let days = configuration.retainDays, started &- lastRetention > 60_000_000_000 {
                lastRetention = started
                applyRetention(days: days)
            }
        }
        if let days = configuration.retainDays { applyRetention(days: days) }
    }

    private func applyRetention(days: Double) {
        let cutoff = realtimeNanoseconds() / 1_000 &- UInt64(days * 86_400 * 1_000_000)
        do {
            let result = try store.retain(olderThanMicroseconds: cutoff)
            if result.rowsDeleted > 0 { logger.info("retention deleted \(result.rowsDeleted) rows in \(result.transactions) steps") }
        } catch {
            logger.error("retention failed: \(error)")
        }
    }
}

/// A gateway that cannot start: the message names the option and the problem.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
