/// What `GET /api/stats` returns: the accounting, the ring, the commits, the fleet size. Field
/// names are the JSON keys (docs/operations.md).
public struct StatsReport: Codable, Sendable, Equatable {
    public struct Quantiles: Codable, Sendable, Equatable {
        public var p50: Double?
        public var p99: Double?
        public init(p50: Double?, p99: Double?) {
            self.p50 = p50
            self.p99 = p99
        }
    }

    public var uptime_seconds: Double
    /// Units (frames, or datagrams that could not be framed) in each outcome.
    public var received: UInt64
    public var stored: UInt64
    public var duplicate: UInt64
    public var rejected: [String: UInt64]
    public var dropped: [String: UInt64]
    /// Whether received == stored + duplicate + rejected + dropped at this instant. It can be
    /// false by less than one batch while batches are in flight; after a drain it must be true.
    public var balanced: Bool
    public var samples_stored: UInt64
    public var datagrams_received: UInt64
    public var bytes_received: UInt64
    public var kernel_drops: UInt64?
    public var ring_capacity: Int
    public var ring_depth: Int
    public var batches_committed: UInt64
    public var batches_waiting: Int
    public var last_batch_samples: Int
    public var commit_latency_ms: Quantiles
    public var commit_duration_ms: Quantiles
    public var drones: Int
    /// Drones whose fleet rows went to new drones once they were offline (the table was full).
    public var drones_evicted: UInt64 = 0
    /// Rows of the shared `drone_latest` (PostgreSQL) this gateway deleted to keep it within
    /// `dronesMax`: drones offline longest; 0 with SQLite.
    public var drones_latest_pruned: UInt64 = 0
    public var database_bytes: Int?
    /// Batches spilled while the writer was behind, spilled batches stored since, and what the
    /// spill file holds now (records and bytes); all 0 without a spill file.
    public var spill_batches: UInt64 = 0
    public var spill_batches_stored: UInt64 = 0
    public var spill_pending: Int = 0
    public var spill_bytes: Int = 0
    /// Units a previous run spilled that this run stored at start-up (outside `balanced`).
    public var recovered: UInt64 = 0
    public var samples_recovered: UInt64 = 0
    /// The store: "sqlite" or "postgres"; whether it is away now; outages ridden out and
    /// reconnections; samples a shared store already held (another gateway stored the frame).
    public var store: String = "sqlite"
    public var store_unavailable: Bool = false
    public var store_outages: UInt64 = 0
    public var store_reconnects: UInt64 = 0
    public var samples_already_stored: UInt64 = 0
    /// How long compactions of recent blocks into chunks take.
    public var compaction_duration_ms = Quantiles(p50: nil, p99: nil)
    /// The flight recorder (`serve --record`); nil, and absent from the JSON, when not recording.
    public var recorder: Recorder?
    /// Events raised (by kind), dropped (by reason), stored, and their consumers (docs/events.md).
    public var events: Events?
    /// Webhook delivery, per endpoint and in sum; nil without `--webhook`.
    public var webhooks: Webhooks?
    /// How memory divides at start-up, bytes per component (nil from a source without one).
    public var memory: Memory?
    /// The HTTP side's guards (docs/security.md, "HTTP"); nil from a source without a server.
    public var http: HTTP?
    /// Rates over the last 1, 5 and 15 minutes (keys "1m", "5m", "15m"), from the per-second
    /// history; a window shorter than the uptime covers the uptime only. Empty until sampled.
    public var windows: [String: StatsWindow] = [:]

    public init(
        uptime_seconds: Double, received: UInt64, stored: UInt64, duplicate: UInt64, rejected: [String: UInt64],
        dropped: [String: UInt64], balanced: Bool, samples_stored: UInt64, datagrams_received: UInt64,
        bytes_received: UInt64, kernel_drops: UInt64?, ring_capacity: Int, ring_depth: Int, batches_committed: UInt64,
        batches_waiting: Int, last_batch_samples: Int, commit_latency_ms: Quantiles, commit_duration_ms: Quantiles,
        drones: Int, database_bytes: Int?
    ) {
        self.uptime_seconds = uptime_seconds
        self.received = received
        self.stored = stored
        self.duplicate = duplicate
        self.rejected = rejected
        self.dropped = dropped
        self.balanced = balanced
        self.samples_stored = samples_stored
        self.datagrams_received = datagrams_received
        self.bytes_received = bytes_received
        self.kernel_drops = kernel_drops
        self.ring_capacity = ring_capacity
        self.ring_depth = ring_depth
        self.batches_committed = batches_committed
        self.batches_waiting = batches_waiting
        self.last_batch_samples = last_batch_samples
        self.commit_latency_ms = commit_latency_ms
        self.commit_duration_ms = commit_duration_ms
        self.drones = drones
        self.database_bytes = database_bytes
    }

    /// The accounting of one snapshot as the history keeps it.
    var counterSample: CounterSample {
        var sample = CounterSample()
        sample.received = received
        sample.stored = stored
        sample.duplicate = duplicate
        sample.rejected = rejected.values.reduce(0, +)
        sample.dropped = dropped.values.reduce(0, +)
        sample.samplesStored = samples_stored
        sample.datagramsReceived = datagrams_received
        sample.bytesReceived = bytes_received
        sample.kernelDrops = kernel_drops ?? 0
        sample.ringDepth = ring_depth
        sample.commitLatencyP50Milliseconds = commit_latency_ms.p50 ?? 0
        sample.commitLatencyP99Milliseconds = commit_latency_ms.p99 ?? 0
        sample.lastBatchSamples = last_batch_samples
        return sample
    }
}

extension StatsReport {
    /// `http` in `/api/stats`: what the connection guard, the `Host` check, the store-read limiter
    /// and the stream slots refused.
    public struct HTTP: Codable, Sendable, Equatable {
        public var connections_open: Int
        public var connections_max: Int
        public var connections_accepted: UInt64
        /// Closed as soon as accepted: `connections_max` were open.
        public var connections_refused: UInt64
        /// Closed because a whole request did not come within the idle timeout.
        public var connections_timed_out: UInt64
        public var idle_timeout_seconds: Double
        /// Requests refused (421) for a `Host` that is not this loopback gateway's.
        public var host_refused: UInt64
        /// Track and event queries refused (503) while the store reads were all taken.
        public var store_reads_refused: UInt64
        /// Event streams refused (429) because the client already held its share.
        public var streams_refused_per_client: UInt64
    }

    /// `events` in `/api/stats`.
    public struct Events: Codable, Sendable, Equatable {
        public var total: UInt64
        public var by_kind: [String: UInt64]
        /// "burst" (more than a batch may raise), "store_queue_full" (a long store outage),
        /// "stream" (a slow SSE client's), "store_failed" (a refused write).
        public var dropped: [String: UInt64]
        public var stored: UInt64
        public var store_queue: Int
        public var stream_clients: Int
        public var zones: Int
        public var zones_loaded_us: UInt64

        public init(
            total: UInt64, by_kind: [String: UInt64], dropped: [String: UInt64], stored: UInt64, store_queue: Int,
            stream_clients: Int, zones: Int, zones_loaded_us: UInt64
        ) {
            self.total = total
            self.by_kind = by_kind
            self.dropped = dropped
            self.stored = stored
            self.store_queue = store_queue
            self.stream_clients = stream_clients
            self.zones = zones
            self.zones_loaded_us = zones_loaded_us
        }
    }

    /// `webhooks` in `/api/stats`: one entry per URL and their sum.
    public struct Webhooks: Codable, Sendable, Equatable {
        public struct Counts: Codable, Sendable, Equatable {
            public var url: String?
            public var accepted: UInt64
            public var delivered: UInt64
            public var dead_letters: UInt64
            public var dropped_queue_full: UInt64
            public var dropped_shutdown: UInt64
            public var pending: UInt64
            public var requests: UInt64
            public var request_failures: UInt64
            public var retries: UInt64

            public init(
                url: String?, accepted: UInt64, delivered: UInt64, dead_letters: UInt64, dropped_queue_full: UInt64,
                dropped_shutdown: UInt64, pending: UInt64, requests: UInt64, request_failures: UInt64, retries: UInt64
            ) {
                self.url = url
                self.accepted = accepted
                self.delivered = delivered
                self.dead_letters = dead_letters
                self.dropped_queue_full = dropped_queue_full
                self.dropped_shutdown = dropped_shutdown
                self.pending = pending
                self.requests = requests
                self.request_failures = request_failures
                self.retries = retries
            }
        }
        public var total: Counts
        public var endpoints: [Counts]
        public init(total: Counts, endpoints: [Counts]) {
            self.total = total
            self.endpoints = endpoints
        }
    }
}
