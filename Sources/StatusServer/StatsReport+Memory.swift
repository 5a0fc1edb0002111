extension StatsReport {
    /// How the gateway's memory divides at start-up (`/api/stats` → `memory`, and the start-up
    /// log line): the bytes each component allocated from `Limits`, and what the kernel says the
    /// process holds (docs/performance.md, "Memory footprint").
    public struct Memory: Codable, Sendable, Equatable {
        /// The UDP packet ring (`Limits.ringBytes`).
        public var packet_ring: Int
        /// HTTP ingest's ring (`Limits.httpIngestRingBytes`).
        public var http_ingest_ring: Int
        /// The receive thread's `recvmmsg` scratch (`receiveBatchDatagrams × datagramBytesMax`).
        public var receive_scratch: Int
        /// The commit batches and the writer's latency scratch (`commitSamplesMax`,
        /// `commitBatchesInFlight`), and the spill file's buffers when spilling is on.
        public var commit_batches: Int
        /// The batch processor's derivation scratch (`commitSamplesMax` rows).
        public var processor_scratch: Int
        /// The fleet table (`dronesMax` rows, `duplicateWindowFrames` each).
        public var fleet_table: Int
        /// The event engine's per-drone state (`dronesMax` rows) and pending events, and the
        /// event hub's queue for the store writer (`Limits.Events.storeQueueMax`) and recent
        /// history (`recentMax`).
        public var event_engine: Int
        /// The SQLite writer's compaction arena, sort and block buffers (0 with PostgreSQL).
        public var store_buffers: Int
        /// The recorder's ring (`Limits.recordingRingBytes`), 0 without `--record`.
        public var recorder_ring: Int
        /// The sum of the above.
        public var allocated_total: Int
        /// The most the writer's SQLite page cache may grow to (`Limits.Store.writerCacheKiB`),
        /// filled as pages are touched; not in `allocated_total`.
        public var sqlite_page_cache_max: Int
        /// Resident set now and its peak (`VmRSS`, `VmHWM` of /proc/self/status), when readable.
        public var resident_bytes: Int?
        public var resident_peak_bytes: Int?

        public init(
            packet_ring: Int, http_ingest_ring: Int, receive_scratch: Int, commit_batches: Int, processor_scratch: Int,
            fleet_table: Int, event_engine: Int, store_buffers: Int, recorder_ring: Int, sqlite_page_cache_max: Int
        ) {
            self.packet_ring = packet_ring
            self.http_ingest_ring = http_ingest_ring
            self.receive_scratch = receive_scratch
            self.commit_batches = commit_batches
            self.processor_scratch = processor_scratch
            self.fleet_table = fleet_table
            self.event_engine = event_engine
            self.store_buffers = store_buffers
            self.recorder_ring = recorder_ring
            self.sqlite_page_cache_max = sqlite_page_cache_max
            allocated_total =
                packet_ring + http_ingest_ring + receive_scratch + commit_batches + processor_scratch + fleet_table
                + event_engine + store_buffers + recorder_ring
        }

        /// `name=MiB` pairs for the start-up log line.
        public var logText: String {
            func mib(_ bytes: Int) -> String {
                let tenths = (bytes * 10 + (1 << 19)) >> 20
                return "\(tenths / 10).\(tenths % 10)"
            }
            return [
                ("packet_ring", packet_ring), ("http_ingest_ring", http_ingest_ring), ("receive_scratch", receive_scratch),
                ("commit_batches", commit_batches), ("processor_scratch", processor_scratch), ("fleet_table", fleet_table),
                ("event_engine", event_engine), ("store_buffers", store_buffers), ("recorder_ring", recorder_ring),
                ("allocated_total", allocated_total), ("sqlite_page_cache_max", sqlite_page_cache_max),
            ].map { "\($0.0)=\(mib($0.1))" }.joined(separator: " ") + " MiB"
        }
    }
}
