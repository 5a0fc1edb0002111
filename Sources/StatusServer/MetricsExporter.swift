import Prometheus
import Synchronization
import Telemetry

/// `/metrics` in the Prometheus text format. Nothing on the data path calls a metrics API: each
/// scrape reads the gateway's own atomics once (`statsReport()`, the fleet, the latency buckets)
/// and moves swift-prometheus's counters forward by the difference since the last scrape, so a
/// packet costs no more with metrics than without.
final class MetricsExporter: Sendable {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    static let namespace = "skygate"
    /// Prometheus bucket bounds (seconds) for the commit latency, coarser than the gateway's
    /// 8-per-octave buckets, which are summed into them.
    static let latencyBucketsSeconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct Exported {
        /// Value last added to each counter, by its full name and labels.
        var values: [String: UInt64] = [:]
    }

    private let registry = PrometheusCollectorRegistry()
    private let exported = Mutex(Exported())

    init() {}

    private func counter(_ name: String, _ help: String, labels: [(String, String)] = []) -> Prometheus.Counter {
        let descriptor = MetricNameDescriptor(namespace: Self.namespace, metricName: name, unitName: "total", helpText: help)
        return registry.makeCounter(descriptor: descriptor, labels: labels)
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, labels: [(String, String)] = []) -> Prometheus.Gauge {
        let descriptor = MetricNameDescriptor(namespace: Self.namespace, metricName: name, unitName: unit, helpText: help)
        return registry.makeGauge(descriptor: descriptor, labels: labels)
    }

    /// Moves a counter up to `value` (counters never go down; a smaller value is ignored).
    private func advance(_ counter: Prometheus.Counter, key: String, to value: UInt64, in state: inout Exported) {
        let last = state.values[key] ?? 0
        guard value > last else { return }
        counter.increment(by: Int64(clamping: value - last))
        state.values[key] = value
    }

    /// - Parameter http: the HTTP guards' counters, which the router holds rather than the source.
    func render(source: some StatusSource, http: StatsReport.HTTP? = nil) -> String {
        var report = source.statsReport()
        if let http { report.http = http }
        let fleet = source.droneStatuses()
        let buckets = source.commitLatencyBuckets()
        var perProtocol: [TelemetryProtocol: (frames: UInt64, lost: UInt64, samples: UInt64, drones: Int)] = [:]
        for drone in fleet {
            var sums = perProtocol[drone.drone.protocol] ?? (0, 0, 0, 0)
            sums.frames &+= drone.framesReceived
            sums.lost &+= drone.framesLost
            sums.samples &+= drone.samplesReceived
            sums.drones += 1
            perProtocol[drone.drone.protocol] = sums
        }
        // One scrape at a time moves the counters, so two concurrent scrapes cannot add a
        // difference twice.
        return exported.withLock { state in
            advance(counter("units_received", "Units (frames, or unframeable datagrams) received."), key: "received", to: report.received, in: &state)
            advance(counter("units_stored", "Units committed to the database."), key: "stored", to: report.stored, in: &state)
            advance(counter("units_duplicate", "Units dropped as duplicates."), key: "duplicate", to: report.duplicate, in: &state)
            for reason in RejectionReason.allCases {
                advance(
                    counter("units_rejected", "Units rejected, by reason.", labels: [("reason", reason.name)]),
                    key: "rejected." + reason.name, to: report.rejected[reason.name] ?? 0, in: &state)
            }
            for reason in DropReason.allCases {
                advance(
                    counter("units_dropped", "Units dropped before decoding, by reason.", labels: [("reason", reason.name)]),
                    key: "dropped." + reason.name, to: report.dropped[reason.name] ?? 0, in: &state)
            }
            advance(counter("samples_stored", "Samples committed to the database."), key: "samples", to: report.samples_stored, in: &state)
            advance(counter("datagrams_received", "Datagrams taken from the socket or HTTP ingest."), key: "datagrams", to: report.datagrams_received, in: &state)
            advance(counter("received_bytes", "Bytes of the datagrams received."), key: "bytes", to: report.bytes_received, in: &state)
            advance(counter("kernel_drops", "Datagrams the kernel dropped on the UDP socket."), key: "kernel", to: report.kernel_drops ?? 0, in: &state)
            advance(counter("batches_committed", "Batches committed (one transaction each)."), key: "batches", to: report.batches_committed, in: &state)
            advance(counter("spill_batches", "Batches spilled to the spill file while the writer was behind."), key: "spilled", to: report.spill_batches, in: &state)
            advance(counter("spill_batches_stored", "Spilled batches the writer stored since."), key: "spillStored", to: report.spill_batches_stored, in: &state)
            advance(counter("units_recovered", "Units an earlier run spilled, stored at start-up."), key: "recovered", to: report.recovered, in: &state)
            advance(counter("drones_evicted", "Drones whose fleet rows went to new drones once offline (the table was full)."), key: "evicted", to: report.drones_evicted, in: &state)
            advance(counter("drones_latest_pruned", "Rows of the shared drone_latest deleted to keep it within dronesMax (offline longest)."), key: "latestPruned", to: report.drones_latest_pruned, in: &state)
            advance(counter("store_outages", "Times the database went away (batches then go to the spill file)."), key: "outages", to: report.store_outages, in: &state)
            advance(counter("store_reconnects", "Reconnections to the database after an outage."), key: "reconnects", to: report.store_reconnects, in: &state)
            advance(counter("samples_already_stored", "Samples the shared store already held when committed (stored once)."), key: "already", to: report.samples_already_stored, in: &state)
            for proto in TelemetryProtocol.allCases {
                let sums = perProtocol[proto] ?? (0, 0, 0, 0)
                let labels = [("protocol", proto.name)]
                advance(counter("protocol_frames_received", "Frames accepted per protocol (rate() gives the per-protocol rate).", labels: labels),
                        key: "frames." + proto.name, to: sums.frames, in: &state)
                advance(counter("protocol_frames_lost", "Frames lost per protocol, from sequence gaps.", labels: labels),
                        key: "lost." + proto.name, to: sums.lost, in: &state)
                advance(counter("protocol_samples_received", "Samples accepted per protocol.", labels: labels),
                        key: "psamples." + proto.name, to: sums.samples, in: &state)
                gauge("drones", "count", "Drones seen, per protocol.", labels: labels).set(to: Double(sums.drones))
            }
            gauge("ring_depth", "slots", "Datagrams waiting in the packet ring.").set(to: Double(report.ring_depth))
            gauge("ring_capacity", "bytes", "Bytes of the packet ring (datagrams stored by their size).").set(to: Double(report.ring_capacity))
            gauge("batches_waiting", "count", "Full batches waiting for the writer.").set(to: Double(report.batches_waiting))
            gauge("last_batch", "samples", "Samples in the last committed batch.").set(to: Double(report.last_batch_samples))
            gauge("database", "bytes", "Database file and WAL size.").set(to: Double(report.database_bytes ?? 0))
            gauge("spill", "bytes", "Bytes the spill file holds.").set(to: Double(report.spill_bytes))
            gauge("spill_pending", "count", "Spilled batches waiting for the writer.").set(to: Double(report.spill_pending))
            gauge("store_unavailable", "bool", "1 while the database is away.").set(to: report.store_unavailable ? 1 : 0)
            gauge("uptime", "seconds", "Seconds since the gateway started.").set(to: report.uptime_seconds)
            gauge("accounting_balanced", "bool", "1 when received = stored + duplicate + rejected + dropped.").set(to: report.balanced ? 1 : 0)
            if let recorder = report.recorder { exportRecorder(recorder, in: &state) }
            if let events = report.events { exportEvents(events, in: &state) }
            if let webhooks = report.webhooks { exportWebhooks(webhooks, in: &state) }
            if let http = report.http { exportHTTP(http, in: &state) }
            return registry.emitToString() + Self.histogram(buckets)
        }
    }

    /// Events by kind, their drops and consumers.
    private func exportHTTP(_ http: StatsReport.HTTP, in state: inout Exported) {
        gauge("http_connections_open", "count", "HTTP connections open now.").set(to: Double(http.connections_open))
        advance(counter("http_connections_accepted", "HTTP connections accepted."), key: "http.accepted", to: http.connections_accepted, in: &state)
        advance(
            counter("http_connections_refused", "HTTP connections closed at once: the connection cap was reached."),
            key: "http.refused", to: http.connections_refused, in: &state)
        advance(
            counter("http_connections_timed_out", "HTTP connections closed: no whole request within the idle timeout."),
            key: "http.timed_out", to: http.connections_timed_out, in: &state)
        advance(counter("http_host_refused", "HTTP requests refused for a foreign Host header."), key: "http.host", to: http.host_refused, in: &state)
        advance(
            counter("http_store_reads_refused", "Track and event queries refused: the store reads were all taken."),
            key: "http.store_reads", to: http.store_reads_refused, in: &state)
        advance(
            counter("http_streams_refused_per_client", "Event streams refused: the client held its share."),
            key: "http.streams", to: http.streams_refused_per_client, in: &state)
    }

    private func exportEvents(_ events: StatsReport.Events, in state: inout Exported) {
        for kind in EventKind.allCases {
            advance(
                counter("events", "Events raised (rules and zone crossings), by kind.", labels: [("kind", kind.name)]),
                key: "ev." + kind.name, to: events.by_kind[kind.name] ?? 0, in: &state)
        }
        for (reason, count) in events.dropped.sorted(by: { $0.key < $1.key }) {
            advance(counter("events_dropped", "Events lost, by reason.", labels: [("reason", reason)]), key: "ev.dropped." + reason, to: count, in: &state)
        }
        advance(counter("events_stored", "Events written to the store (a shared store's copies once)."), key: "ev.stored", to: events.stored, in: &state)
        gauge("events_store_queue", "count", "Events waiting for the store writer.").set(to: Double(events.store_queue))
        gauge("event_stream_clients", "count", "Server-Sent-Events clients connected.").set(to: Double(events.stream_clients))
        gauge("zones", "count", "Geofence zones loaded.").set(to: Double(events.zones))
    }

    /// Webhook delivery, per URL.
    private func exportWebhooks(_ webhooks: StatsReport.Webhooks, in state: inout Exported) {
        for (index, endpoint) in webhooks.endpoints.enumerated() {
            let labels = [("webhook", endpoint.url ?? "\(index)")]
            func count(_ name: String, _ help: String, _ value: UInt64) {
                advance(counter(name, help, labels: labels), key: "wh.\(index).\(name)", to: value, in: &state)
            }
            count("webhook_events_accepted", "Events queued for the webhook.", endpoint.accepted)
            count("webhook_events_delivered", "Events the webhook acknowledged (2xx).", endpoint.delivered)
            count("webhook_dead_letters", "Events given up on (refused, or retries spent).", endpoint.dead_letters)
            count("webhook_events_dropped_queue_full", "Events dropped because the webhook's queue was full.", endpoint.dropped_queue_full)
            count("webhook_events_dropped_shutdown", "Events still queued when the gateway stopped.", endpoint.dropped_shutdown)
            count("webhook_requests", "POSTs sent to the webhook.", endpoint.requests)
            count("webhook_request_failures", "POSTs that failed (connection, timeout, non-2xx).", endpoint.request_failures)
            count("webhook_retries", "POSTs retried after a failure.", endpoint.retries)
            gauge("webhook_pending", "count", "Events queued or in flight for the webhook.", labels: labels).set(to: Double(endpoint.pending))
        }
    }

    /// The flight recorder's counters and gauges (`serve --record`); not exported without it.
    private func exportRecorder(_ recorder: StatsReport.Recorder, in state: inout Exported) {
        advance(counter("recorder_datagrams_recorded", "Datagrams written into the flight recording."), key: "rec.datagrams", to: recorder.datagrams_recorded, in: &state)
        advance(counter("recorder_recorded_bytes", "Bytes of the datagrams recorded, as received."), key: "rec.datagramBytes", to: recorder.datagram_bytes_recorded, in: &state)
        for (reason, count) in recorder.datagrams_dropped.sorted(by: { $0.key < $1.key }) {
            advance(
                counter("recorder_datagrams_dropped", "Datagrams left out of the recording (not the database), by reason.", labels: [("reason", reason)]),
                key: "rec.dropped." + reason, to: count, in: &state)
        }
        advance(counter("recorder_written_bytes", "Bytes written into recording files."), key: "rec.written", to: recorder.bytes_written, in: &state)
        advance(counter("recorder_chunks_written", "Compressed chunks written into recording files."), key: "rec.chunks", to: recorder.chunks_written, in: &state)
        advance(counter("recorder_files_started", "Recording files started."), key: "rec.started", to: recorder.files_started, in: &state)
        advance(counter("recorder_files_rotated", "Recording files closed at their size or age limit."), key: "rec.rotated", to: recorder.files_rotated, in: &state)
        advance(counter("recorder_files_deleted", "Recordings deleted to keep the directory under its budget."), key: "rec.deleted", to: recorder.files_deleted, in: &state)
        advance(counter("recorder_deleted_bytes", "Bytes of the recordings deleted for the budget."), key: "rec.deletedBytes", to: recorder.bytes_deleted, in: &state)
        gauge("recorder_directory", "bytes", "Bytes the recordings in the directory take.").set(to: Double(recorder.directory_bytes))
        gauge("recorder_directory_max", "bytes", "The recording directory's budget.").set(to: Double(recorder.directory_bytes_max))
        gauge("recorder_current_file", "bytes", "Bytes of the recording file being written.").set(to: Double(recorder.current_file_bytes))
        gauge("recorder_ring_depth", "slots", "Datagrams waiting in the recorder's ring.").set(to: Double(recorder.ring_depth))
        gauge("recorder_ring_capacity", "bytes", "Bytes of the recorder's ring.").set(to: Double(recorder.ring_capacity))
        gauge("recorder_failed", "bool", "1 after a write failed and recording stopped.").set(to: recorder.failure == nil ? 0 : 1)
    }

    /// The commit latency as a Prometheus histogram, summed from the gateway's finer buckets
    /// (each counted in the first Prometheus bucket at or above its upper bound, so the
    /// cumulative counts stay exact and `le` is an upper bound).
    static func histogram(_ buckets: [(upperBoundSeconds: Double, count: UInt64)]) -> String {
        let name = namespace + "_commit_latency_seconds"
        var counts = [UInt64](repeating: 0, count: latencyBucketsSeconds.count + 1)
        var sum = 0.0
        var total: UInt64 = 0
        for bucket in buckets where bucket.count > 0 {
            let index = latencyBucketsSeconds.firstIndex { bucket.upperBoundSeconds <= $0 } ?? latencyBucketsSeconds.count
            counts[index] &+= bucket.count
            sum += bucket.upperBoundSeconds * Double(bucket.count)
            total &+= bucket.count
        }
        var text = "# HELP \(name) Receive-to-commit latency of stored units (sum uses bucket upper bounds).\n# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (index, bound) in latencyBucketsSeconds.enumerated() {
            cumulative &+= counts[index]
            text += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        return text
    }
}
