#if canImport(Glibc)
import Glibc
#endif
import Alerts
import FlightRecording
import Foundation
import IngestFraming
import Pipeline
import StoreWriter
import PostgresStore
import Synchronization
import StatusServer
import Telemetry
import TelemetryStore
import UDPTransport
import Webhooks

extension Gateway: StatusSource {
    public func statsReport() -> StatsReport {
        let snapshot = counters.snapshot()
        func milliseconds(_ histogram: LatencyHistogram) -> StatsReport.Quantiles {
            StatsReport.Quantiles(
                p50: histogram.quantile(0.5).map { $0 / 1_000 }, p99: histogram.quantile(0.99).map { $0 / 1_000 })
        }
        var report = StatsReport(
            uptime_seconds: Double(SystemClock.realtimeNanoseconds() &- startedNanoseconds) / 1e9,
            received: snapshot.received, stored: snapshot.stored, duplicate: snapshot.duplicate,
            rejected: Dictionary(uniqueKeysWithValues: snapshot.rejected.map { ($0.key.name, $0.value) }),
            dropped: Dictionary(uniqueKeysWithValues: snapshot.dropped.map { ($0.key.name, $0.value) }),
            balanced: snapshot.isBalanced, samples_stored: snapshot.samplesStored,
            datagrams_received: snapshot.datagramsReceived, bytes_received: snapshot.bytesReceived,
            kernel_drops: kernelDrops(), ring_capacity: ring.byteCapacity, ring_depth: ring.count,
            batches_committed: batchesCommittedCount, batches_waiting: batchesWaiting,
            last_batch_samples: lastBatchSampleCount, commit_latency_ms: milliseconds(commitLatency),
            commit_duration_ms: milliseconds(commitDuration), drones: processor.fleet.count,
            database_bytes: databaseBytes())
        if let spill = commits.spill {
            report.spill_batches = spill.spilledBatchCount
            report.spill_batches_stored = spill.replayedBatchCount
            report.spill_pending = spill.pendingRecords
            report.spill_bytes = spill.bytesUsed
        }
        report.recovered = snapshot.recovered
        report.drones_evicted = snapshot.dronesEvicted
        report.drones_latest_pruned = (commits.store as? PostgresTelemetryStore)?.latestRowsPruned.load(ordering: .relaxed) ?? 0
        report.samples_recovered = snapshot.samplesRecovered
        report.store = commits.store is any SharedFleetReading ? "postgres" : "sqlite"
        report.store_unavailable = commits.isStoreUnavailable
        report.store_outages = commits.outageCount
        report.store_reconnects = commits.reconnectCount
        report.samples_already_stored = commits.samplesAlreadyStored
        report.compaction_duration_ms = milliseconds(commits.compactionDuration)
        report.recorder = recorder.map(Self.recorderReport)
        report.events = eventsReport()
        report.webhooks = webhooks.map { Self.webhooksReport($0.snapshot()) }
        report.memory = memoryReport()
        return report
    }

    func eventsReport() -> StatsReport.Events {
        let counters = eventHub.snapshot()
        let dropped = [
            "burst": counters.droppedBurst, "store_queue_full": counters.droppedStoreQueueFull, "stream": counters.droppedStream,
            "store_failed": commits.eventsStoreFailed.load(ordering: .relaxed), "rate_limited": counters.droppedRateLimited,
        ]
        return StatsReport.Events(
            total: counters.total, by_kind: Dictionary(uniqueKeysWithValues: counters.byKind.map { ($0.key.name, $0.value) }),
            dropped: dropped, stored: commits.eventsStored.load(ordering: .relaxed), store_queue: counters.storeQueueDepth,
            stream_clients: counters.streamClients, zones: zones.zones.count, zones_loaded_us: zones.loadedMicroseconds)
    }

    static func webhooksReport(_ stats: WebhookStats) -> StatsReport.Webhooks {
        func counts(_ counts: WebhookStats.Counts, url: String?) -> StatsReport.Webhooks.Counts {
            StatsReport.Webhooks.Counts(
                url: url, accepted: counts.accepted, delivered: counts.delivered, dead_letters: counts.deadLetters,
                dropped_queue_full: counts.droppedQueueFull, dropped_shutdown: counts.droppedShutdown, pending: counts.pending,
                requests: counts.requests, request_failures: counts.requestFailures, retries: counts.retries)
        }
        return StatsReport.Webhooks(total: counts(stats.total, url: nil), endpoints: stats.endpoints.map { counts($0.counts, url: $0.name) })
    }

    public func zonesJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(zones.report()))) ?? Array(#"{"zones":[]}"#.utf8)
    }

    public func subscribeEvents(after lastID: UInt64?) -> EventSubscription? {
        eventHub.subscribe(after: lastID)
    }

    /// The recorder's counters: atomics its thread and the processor's tap update.
    static func recorderReport(_ recorder: FlightRecorder) -> StatsReport.Recorder {
        let files = recorder.files
        return StatsReport.Recorder(
            directory: recorder.directory, datagrams_recorded: recorder.datagramsRecorded,
            datagram_bytes_recorded: recorder.datagramBytesRecorded,
            datagrams_dropped: Dictionary(
                uniqueKeysWithValues: RecordingDrain.NotRecordedReason.allCases.map { ($0.name, recorder.datagramsNotRecorded($0)) }),
            bytes_written: files.bytesWritten, chunks_written: files.chunksWritten, files_started: files.filesStarted,
            files_rotated: files.filesRotated, files_deleted: files.filesDeleted, bytes_deleted: files.bytesDeleted,
            current_file: files.currentFile, current_file_bytes: files.currentFileBytes, directory_bytes: files.directoryBytes,
            directory_bytes_max: recorder.directoryBytesMax, ring_depth: recorder.ringDepth, ring_capacity: recorder.ringCapacity,
            failure: recorder.failure)
    }

    /// The live fleet; with a shared store, merged with every other gateway's drones as the
    /// store last showed them (`SharedFleetView`, at most about a second old).
    public func droneStatuses() -> [DroneStatus] {
        let local = processor.fleet.snapshot()
        guard let sharedFleet else { return local }
        return sharedFleet.merged(with: local)
    }

    public func droneStatus(of drone: DroneIdentity) -> DroneStatus? {
        let local = processor.fleet.status(of: drone)
        guard let sharedFleet else { return local }
        return sharedFleet.merged(with: local.map { [$0] } ?? []).first { $0.drone == drone }
    }

    /// A read-only connection of its own (the caller closes it); the endpoints use the pool.
    public func openStoreForReading() throws(StoreError) -> any TelemetryStoreReading {
        var request = configuration.storeRequest
        request.options.isReadOnly = true
        request.options.cacheSizeKiB = Limits.Store.readerCacheKiB
        return try StoreOpener.open(request, logger: logger)
    }

    public func withStoreForReading<Value>(_ body: (any TelemetryStoreReading) throws(StoreError) -> Value) throws(StoreError) -> Value {
        try readers.withStore(body)
    }

    /// Stored events, newest first, on a pooled read connection (called off the server's pool;
    /// the HTTP side bounds how many run at once).
    public func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] {
        try readers.withStore { store throws(StoreError) in try store.readEvents(query) }
    }

    /// Frames the body into ring-slot datagrams (`IngestFraming`: a malformed body is refused
    /// whole, with the reason) and pushes them through the HTTP ingest ring, all or none.
    public func ingest(body: [UInt8], format: IngestBodyFormat) -> IngestOutcome {
        let datagramBytesMax = limits.value.datagramBytesMax
        let datagrams: [[UInt8]]
        do {
            switch format {
            case .frames: datagrams = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: datagramBytesMax)
            case .json: datagrams = try IngestBody.datagrams(fromJSON: body, datagramBytesMax: datagramBytesMax, timeParser: TimeText.microseconds(from:))
            }
        } catch {
            return .malformed(error.message)
        }
        return httpIngest.push(datagrams, nowNanoseconds: SystemClock.realtimeNanoseconds())
            ? .accepted(datagrams: datagrams.count) : .ringFull(accepted: 0)
    }

    public func commitLatencyBuckets() -> [(upperBoundSeconds: Double, count: UInt64)] {
        commitLatency.buckets().map { (upperBoundSeconds: $0.upperBoundMicroseconds / 1e6, count: $0.count) }
    }

    /// What the HTTP side shows and requires, from the configuration.
    public var statusSettings: StatusSettings {
        StatusSettings(
            staleAfterSeconds: configuration.staleAfterSeconds, offlineAfterSeconds: configuration.offlineAfterSeconds,
            tileURL: configuration.tileURL, accessToken: configuration.accessToken)
    }

    /// Size of the database file and its WAL, read from the file system (never a query).
    func databaseBytes() -> Int? {
        if configuration.storeRequest.isPostgres { return nil }
        var total = 0
        var found = false
        for suffix in ["", "-wal"] {
            var info = stat()
            if stat(configuration.databasePath + suffix, &info) == 0 {
                total += Int(info.st_size)
                found = true
            }
        }
        return found ? total : nil
    }
}

extension Gateway {
    /// The start-up division of memory, with the resident set now and at its peak.
    func memoryReport() -> StatsReport.Memory {
        var memory = memoryAtStart
        if let status = readProcFile("/proc/self/status") {
            for line in status.split(separator: "\n") {
                // "VmRSS:\t   42056 kB": a tab, then spaces.
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
                if fields[0] == "VmRSS:" { memory.resident_bytes = kib << 10 }
                if fields[0] == "VmHWM:" { memory.resident_peak_bytes = kib << 10 }
            }
        }
        return memory
    }
}
