/// Every bound of Skygate in one place (after TigerBeetle's `constants.zig`): queue sizes, batch
/// sizes, table sizes, time windows, sleeps and time-outs. Memory is allocated from these at
/// start-up and never grows. Times are `Duration`s, so the unit lives in the type.
///
/// Two kinds of bound live here:
/// - the data path's tunables, instance properties that `serve`, `bench` and tests may change:
///   they are checked once, by `ValidLimits(_:)`, and every stage takes the checked value;
/// - fixed bounds, static properties grouped by the stage that obeys them (`Limits.Transport`,
///   `Limits.Recording`, `Limits.Replay`, `Limits.Status`, `Limits.Simulator`, `Limits.Commands`),
///   whose relations `Limits.fixedBoundProblems()` checks (the limits test asserts it is empty).
///
/// Help texts of the command line print these values, so a default is written once.
public struct Limits: Sendable, Equatable {
    /// Bytes of the packet ring (a power of two): datagrams are stored by their size, a record
    /// of 24 bytes of header, the sender's address (16 bytes for IPv4, 28 for IPv6) and the
    /// datagram, rounded to 8 (`DatagramRing`). The simulator's datagrams are 60 bytes (one
    /// sample), so a record is 104 bytes and 2 MiB hold ~20,000 of them, ~75 ms of backlog at
    /// ~270k datagrams/s. The processor never waits for the writer (a full commit pipeline
    /// spills), so the ring covers the processor's own pauses only. Measured (docs/performance.md,
    /// stops 27 and 28): `bench --max` at 1,000 and 10,000 drones, with 5 samples a datagram, and
    /// the 10,000-drone flood dropped nothing at 8, 4 and 2 MiB, at the same rates and p99; each
    /// halving cut the flood's peak RSS by what it saved, every page of the ring being touched
    /// within seconds of steady traffic. Datagrams of 2,048 bytes fill it ~20 times sooner:
    /// raise it (`serve --ring-kib`) for senders of large datagrams.
    public var ringBytes: Int = 2 << 20
    /// Bytes one ring slot holds. Larger datagrams are rejected as `oversized`. 2,048 covers every
    /// Skygate frame (1,076) and a MAVLink 2 frame (280) several times over.
    public var datagramBytesMax: Int = 2_048
    /// Datagrams the receive thread asks the kernel for per `recvmmsg` call.
    public var receiveBatchDatagrams: Int = 64
    /// How long the receive thread pauses after a call that emptied the socket (fewer than
    /// `receiveBatchDatagrams` came back) before it asks again, so the next datagrams gather into
    /// one call instead of waking it one or two at a time, as a NIC's interrupt moderation does;
    /// zero asks again at once. A datagram waits at most this long more before the ring (the
    /// commit interval is 250 ms); the socket's buffer holds far more than arrives meanwhile.
    public var receivePause: Duration = .microseconds(100)
    /// Kernel receive buffer requested for the UDP socket (`SO_RCVBUF`; the kernel doubles it and
    /// caps it at `net.core.rmem_max`).
    public var socketReceiveBufferBytes: Int = 8 << 20

    /// Datagrams a batch processor takes from the ring per pass.
    public var drainBatchDatagrams: Int = 1_024
    /// Samples one commit batch holds; a batch is committed when it is this full... A batch
    /// takes 112 bytes a sample (both protocols' columns, the fleet row and ground speed of each,
    /// a receive time per unit), and `commitBatchesInFlight + 1` of them are allocated, with a
    /// sort buffer and a block buffer of twice as many rows in the store: 32,768 samples make
    /// 3.5 MiB a batch. Measured (`bench --max`, 10,000 drones at 20 Hz, release, quiet machine):
    /// 16,384 cut memory by ~5 MiB more but split each drone's recent block into ~50 samples and
    /// raised the commit latency p99 past the 1 s goal (1,442 ms, 271k samples/s); 32,768 gives
    /// 655 ms and ~280k/s, 65,536 (7 MiB a batch) 720–786 ms and ~280–297k/s.
    public var commitSamplesMax: Int = 32_768
    /// ...or when its oldest sample has waited this long, whichever comes first.
    public var commitInterval: Duration = .milliseconds(250)
    /// Commit batches in flight between the processor and the store writer (double buffering).
    public var commitBatchesInFlight: Int = 2

    /// Drones the fleet table holds. A new drone beyond this takes the row of the drone silent
    /// longest once that one is offline (`droneOfflineAfter`, counted `drones_evicted`), and is
    /// rejected as `too_many_drones` while nobody is.
    public var dronesMax: Int = 16_384
    /// How long a drone must be silent to count as offline: the status page shows it so, and its
    /// fleet row may go to a new drone when the table is full (`serve --offline-after`).
    public var droneOfflineAfter: Duration = .seconds(60)
    /// Recent (sequence, timestamp) pairs remembered per drone to recognise duplicates.
    public var duplicateWindowFrames: Int = 32
    /// How far in the future a sample's timestamp may be, against the gateway's clock.
    public var futureTolerance: Duration = .seconds(300)
    /// How old a sample may be, against the gateway's clock, on live ingest (the rings); older
    /// ones are rejected `timestamp_too_old`, so one sender spreading dates over months cannot
    /// make every batch span many days (docs/security.md). `.zero` turns the check off. Replay and
    /// imports (`ProcessLoop.feed`) keep their history and are not checked.
    public var sampleAgeMax: Duration = .seconds(86_400)

    /// Bytes of the ring between the batch processor's recording tap and the recorder thread
    /// (records as in `ringBytes`, the address in its 6- or 18-byte portable form, so 96 bytes
    /// a one-sample datagram): 2 MiB hold ~21,800 datagrams, about 80 ms of a full-rate burst
    /// while a chunk is written (the 16,384 slots of 2,240 bytes it replaces took 35 MiB).
    public var recordingRingBytes: Int = 2 << 20
    /// Bytes of the packet ring of `skygate record`, which has no batch processor behind it:
    /// 4 MiB hold ~40,000 one-sample datagrams.
    public var recordSessionRingBytes: Int = 4 << 20
    /// Bytes of HTTP ingest's ring (`POST /api/telemetry`): a 64 KiB body packs into datagrams of
    /// up to `datagramBytesMax` and takes ~70 KiB of records, so 256 KiB hold three bodies at
    /// once, and the processor empties it within one pass (`drainBatchDatagrams`). It must hold
    /// two bodies' bytes, so one whole body always fits in an empty ring.
    public var httpIngestRingBytes: Int = 256 << 10

    /// HTTP: how long a connection may take to deliver a whole request (head and body) after it
    /// opens or after its last response ends; a connection that is idle, or that trickles bytes,
    /// is closed when it runs out (`http_connections_timed_out`). A request being answered (a
    /// track read, an event stream) is not timed.
    public var httpIdleTimeout: Duration = .seconds(30)
    /// HTTP connections open at once; one more is closed as soon as it is accepted
    /// (`http_connections_refused`). 256 is four times what a control room of browsers, the
    /// Prometheus scrapes and the SSE streams need, and each costs a file descriptor and ~100 KiB.
    public var httpConnectionsMax: Int = 256
    /// SSE streams (`/api/events/stream`) one client address may hold at once, so one client
    /// cannot take all `Events.streamClientsMax` slots; 429 beyond.
    public var streamClientsPerPeerMax: Int = 4

    public init() {}

    /// Room a batch must have before it takes another datagram: every sample occupies at least
    /// 32 bytes of a datagram, and the decoder wants room for one whole frame (32 samples) before
    /// each frame it decodes.
    public var samplesPerDatagramMax: Int { datagramBytesMax / 32 + 32 }

    /// Problems with the tunables and how they relate, as messages naming the limit. Empty when
    /// the limits can be used; `ValidLimits(_:)` is the one caller outside tests.
    public func problems() -> [String] {
        var problems: [String] = []
        func isPowerOfTwo(_ value: Int) -> Bool { value >= 2 && value & (value - 1) == 0 }
        for (name, bytes) in [
            ("ringBytes", ringBytes), ("recordingRingBytes", recordingRingBytes), ("recordSessionRingBytes", recordSessionRingBytes),
            ("httpIngestRingBytes", httpIngestRingBytes),
        ] where !isPowerOfTwo(bytes) || bytes < ringBytesMin || bytes > Self.ringBytesMax {
            problems.append(
                "\(name) \(bytes) must be a power of two in \(ringBytesMin)...\(Self.ringBytesMax) (two of the largest records)")
        }
        if datagramBytesMax < 280 || datagramBytesMax > 65_536 {
            problems.append("datagramBytesMax \(datagramBytesMax) must be in 280...65536 (a MAVLink 2 frame is 280 bytes)")
        }
        if receiveBatchDatagrams < 1 || receiveBatchDatagrams > Transport.datagramsPerCallMax {
            problems.append("receiveBatchDatagrams \(receiveBatchDatagrams) must be in 1...\(Transport.datagramsPerCallMax)")
        }
        // 50 ms at the socket limit (~350k datagrams/s) is ~17,500 datagrams, about what the
        // 8 MiB receive buffer holds at ~1 KiB of kernel memory each; the default is ~35.
        if receivePause < .zero || receivePause > .milliseconds(50) {
            problems.append("receivePause \(receivePause) must be in 0...50 ms")
        }
        if drainBatchDatagrams < 1 || drainBatchDatagrams > Self.drainBatchDatagramsMax {
            problems.append("drainBatchDatagrams \(drainBatchDatagrams) must be in 1...\(Self.drainBatchDatagramsMax)")
        }
        if commitSamplesMax > 1 << 22 {
            problems.append("commitSamplesMax \(commitSamplesMax) must be at most 4194304")
        }
        if commitSamplesMax < 2 * samplesPerDatagramMax {
            problems.append(
                "commitSamplesMax \(commitSamplesMax) must hold at least two of the largest datagrams (\(2 * samplesPerDatagramMax) samples)")
        }
        if commitInterval < .milliseconds(1) || commitInterval > .seconds(10) {
            problems.append("commitInterval \(commitInterval) must be in 1 ms...10 s")
        }
        if commitBatchesInFlight < 1 || commitBatchesInFlight > 8 {
            problems.append("commitBatchesInFlight \(commitBatchesInFlight) must be in 1...8")
        }
        if dronesMax < 1 || dronesMax > 1 << 20 {
            problems.append("dronesMax \(dronesMax) must be in 1...1048576")
        }
        if droneOfflineAfter <= .zero || droneOfflineAfter > .seconds(86_400 * 365) {
            problems.append("droneOfflineAfter \(droneOfflineAfter) must be above 0 and at most a year")
        }
        if duplicateWindowFrames < 1 || duplicateWindowFrames > 1_024 {
            problems.append("duplicateWindowFrames \(duplicateWindowFrames) must be in 1...1024")
        }
        if futureTolerance < .zero || futureTolerance > .seconds(86_400) {
            problems.append("futureTolerance \(futureTolerance) must be in 0...1 day")
        }
        if sampleAgeMax < .zero || sampleAgeMax > .seconds(Self.sampleAgeMaxSecondsMax) {
            problems.append("sampleAgeMax \(sampleAgeMax) must be in 0 (off)...\(Self.sampleAgeMaxSecondsMax / 3_600) hours")
        }
        if httpIngestRingBytes < 2 * Status.ingestBodyBytesMax {
            problems.append("httpIngestRingBytes \(httpIngestRingBytes) must hold two ingest bodies (\(2 * Status.ingestBodyBytesMax) bytes)")
        }
        if httpIdleTimeout < .seconds(1) || httpIdleTimeout > .seconds(3_600) {
            problems.append("httpIdleTimeout \(httpIdleTimeout) must be in 1 s...1 h")
        }
        if httpConnectionsMax < 2 || httpConnectionsMax > 65_536 {
            problems.append("httpConnectionsMax \(httpConnectionsMax) must be in 2...65536")
        }
        if streamClientsPerPeerMax < 1 || streamClientsPerPeerMax > Events.streamClientsMax {
            problems.append("streamClientsPerPeerMax \(streamClientsPerPeerMax) must be in 1...\(Events.streamClientsMax) (Events.streamClientsMax)")
        }
        return problems
    }

    /// Largest `sampleAgeMax` (seconds): ten years, well inside the range of sample times.
    public static let sampleAgeMaxSecondsMax: Int64 = 10 * 366 * 86_400

    /// Largest ring (bytes): 1 GiB, millions of datagrams.
    public static let ringBytesMax = 1 << 30
    /// Smallest ring for `datagramBytesMax`: two of the largest records (24 bytes of header, a
    /// 128-byte address, the datagram), as `DatagramRing` needs; rounded to a power of two.
    public var ringBytesMin: Int {
        var bytes = 64
        while bytes < 2 * (24 + 128 + datagramBytesMax + 7) { bytes <<= 1 }
        return bytes
    }
    /// Most datagrams a batch processor takes per pass.
    public static let drainBatchDatagramsMax = 65_536

    /// Earliest sample time accepted: 2000-01-01T00:00:00Z in µs. Anything older is a drone with
    /// no clock yet (GPS time not acquired), counted `timestamp_out_of_range`.
    public static let earliestSampleMicroseconds: UInt64 = 946_684_800_000_000
}

/// Limits that passed `Limits.problems()`: the only form the stages take, so they are checked
/// once, where a configuration becomes a gateway (or a replay, or a recording session), and a
/// stage can rely on how they relate without checking again.
public struct ValidLimits: Sendable, Equatable {
    public let value: Limits

    public init(_ limits: Limits) throws(LimitsError) {
        let problems = limits.problems()
        guard problems.isEmpty else { throw LimitsError(problems: problems) }
        value = limits
    }

    /// The defaults, which the limits test proves valid.
    public static let defaults: ValidLimits = {
        do { return try ValidLimits(Limits()) } catch { preconditionFailure("the default limits are invalid: \(error)") }
    }()
}

/// Limits that do not hold together; the message lists every problem, each naming its limit.
public struct LimitsError: Error, CustomStringConvertible, Sendable, Equatable {
    public var problems: [String]
    public var description: String { "invalid limits: " + problems.joined(separator: "; ") }
}

// MARK: Fixed bounds, by stage

extension Limits {
    /// Sockets (`UDPTransport`).
    public enum Transport {
        /// Most datagrams one `recvmmsg`/`sendmmsg` call moves (`CSOCKET_BATCH_MAX` in
        /// CSocketShims, which the transport test checks against this): the message arrays stay
        /// on the caller's stack and the call is already amortised.
        public static let datagramsPerCallMax = 256
        /// The receive loop's `SO_RCVTIMEO`: how soon it notices a stop request on a quiet socket.
        public static let receiveTimeout: Duration = .milliseconds(100)
        /// Socket send buffer requested by senders, so a full batch never waits on the kernel.
        public static let sendBufferBytes = 4 << 20
        /// Largest UDP payload over IPv4 (65,535 − 8 − 20): the longest datagram a replay sends.
        public static let datagramBytesMaxUDP = 65_507
        /// Most bytes read from a /proc file (/proc/net/udp grows with the sockets open).
        public static let procFileBytesMax = 1 << 20
    }

    /// The gateway's threads (`Gateway`, `Playback`).
    public enum Threads {
        /// How long the batch processor sleeps when both rings were empty: short, so a quiet
        /// link's first datagram waits at most this long before decoding.
        public static let processorIdleSleep: Duration = .microseconds(200)
        /// How long a recorder thread sleeps when its ring was empty.
        public static let recorderIdleSleep: Duration = .milliseconds(1)
        /// How often the store writer applies retention (`--retain`), between commits.
        public static let retentionInterval: Duration = .seconds(60)
    }

    /// Flight recording (`serve --record`, `record`, `inspect`).
    public enum Recording {
        /// Datagrams a recorder thread writes per pass before it looks at the clock again.
        public static let writeBatchDatagrams = 1_024
        /// `inspect` reports silences longer than this between consecutive datagrams...
        public static let inventoryGapThreshold: Duration = .seconds(2)
        /// ...the longest this many of them.
        public static let inventoryGapsMax = 20
        /// Problems a player describes in words; later ones are only counted.
        public static let readProblemsMax = 20
        /// Autopilot logs (ULog, DataFlash) replay in time order through a reorder heap: frames
        /// wait until the newest record is this much later. ArduPilot writes some records a few
        /// milliseconds late; 2 s covers that with room.
        public static let logReorderWindow: Duration = .seconds(2)
        /// ...and at most this many frames wait (a 64-byte frame each: ~1 MiB with the heap).
        public static let logReorderEntriesMax = 16_384
        /// ULog topic subscriptions and DataFlash formats a log may define; more are damage.
        public static let logSubscriptionsMax = 4_096
        /// Nesting depth of ULog formats (a format whose fields are formats).
        public static let logFormatDepthMax = 8
        /// Pending IP fragment sets a capture reader reassembles at once (oldest evicted, counted).
        public static let captureFragmentSetsMax = 64
        /// Bytes of a mapped recording or log a front-to-back walk keeps resident behind where it
        /// reads: pages further back are given back to the kernel as the walk passes them, so
        /// replaying a file of any size costs at most about twice this in resident memory (a
        /// 1 GB log would otherwise count 1 GB of file pages in the process's RSS).
        public static let mappedResidentBehindBytes = 8 << 20
    }

    /// The SQLite store (`TelemetryStore`).
    public enum Store {
        /// Outages of a store that can go away (a network database; a local SQLite file never
        /// reports one): the writer's first wait before reconnecting; it doubles up to the
        /// maximum, so a restarting server is not hammered and a short blip is ridden out fast.
        public static let reconnectBackoffInitial: Duration = .milliseconds(100)
        public static let reconnectBackoffMax: Duration = .seconds(2)
        /// At shutdown with the store away, the writer tries this long before it leaves the rest
        /// in the spill file for the next start.
        public static let shutdownReconnectWait: Duration = .seconds(5)
        /// Rows per multi-row INSERT statement (one prepared statement, reused): SQLite's C limit
        /// run (`sqlite_multi64`, ~988k rows/s) is about 1.5 times its single-row figure (~654k).
        public static let rowsPerStatement = 64
        /// Recent samples after which the writer compacts them into per-drone chunks: ~1 s of a
        /// flood, 26 samples per drone at 10,000 drones, a few seconds of a paced fleet.
        public static let compactionSamples = 262_144
        /// Samples after which a compaction step (one transaction) starts no new drone group; it
        /// finishes the group it is in, within the writer's arena. The arena is sized to the
        /// larger of a commit's batch (both protocols, 65,536) and a step, 101 bytes a sample
        /// with its sort buffer; a step of about half the arena keeps most of the other half
        /// untouched while one protocol sends (a Skygate-only fleet's commit fills 32,768 rows):
        /// the 10,000-drone flood's peak RSS fell 3.0 MiB. Compacting the whole backlog in one
        /// step needed an arena of `compactionSamples` plus a batch: 38 MiB.
        public static let compactionStepSamples = 32_768
        /// A quiet gateway compacts its recent samples once they are this old.
        public static let compactionAge: Duration = .seconds(30)
        /// Each of the spill file's two staging buffers (one for the processor's appends, one for
        /// the writer's reads): records stream through them, so the spill costs the same memory
        /// whatever the batch size (a whole record at the default 32,768-sample batch is 3.9 MiB).
        /// 64 KiB is 16 writes a MiB and 1,236 rows a read window.
        public static let spillStagingBytes = 64 << 10
        /// Samples one chunk holds at most (217 KB packed).
        public static let chunkSamplesMax = 4_096
        /// Time one chunk of more than `chunkSparseSamples` spans at most (first to last sample;
        /// one of at most that many may span up to `chunkSparseSpanMax`). A live gateway's compaction
        /// (every `compactionAge`) writes chunks of about 30 s; a replay or a flood at full speed
        /// would write a drone's whole compaction as one chunk (262 s of a 1,000-drone fleet at
        /// 1 Hz), and a review seek (`/api/fleet?at=`) decodes a whole chunk per drone to find one
        /// sample: on the 1,000-drone hour this bound cut that from 262 samples a drone to 60.
        public static let chunkSpanMax: Duration = .seconds(60)
        /// A chunk may span past `chunkSpanMax` (up to `chunkSparseSpanMax`) as long as it holds
        /// at most this many samples. The span bound is there to bound the samples a seek decodes
        /// per drone; a sparse drone's few samples are cheap to decode, while each extra chunk
        /// costs a query an index entry, a row, a block header and a decoder set-up. A drone
        /// reporting every 20 s got chunks of 3 or 4 samples (42 an hour, where the filing build
        /// of issue 23 had 7), so one drone's sparse hour read 42 chunks; with this rule it reads
        /// one per compaction (docs/performance.md, stop 33). A seek decodes at most the larger
        /// of a minute of a drone's samples and this many.
        public static let chunkSparseSamples = 32
        /// The longest a sparse chunk (at most `chunkSparseSamples`) may span, so the span mark
        /// (`chunk_span_max_us`), which bounds every reader's index range and a one-drone read's
        /// held samples, stays at ten minutes.
        public static let chunkSparseSpanMax: Duration = .seconds(600)
        /// A committed batch is kept as one recent block per group of this many consecutive drone
        /// numbers (a power of two), so a one-drone query reads one small block per recent batch,
        /// not whole batches.
        public static let recentGroupDrones = 32
        /// Samples a compressed block (format version 2) may declare for a reader to decode it: a
        /// block from this gateway holds at most a batch (`StoreOptions.batchRowsMaximum`, 131,072)
        /// or a chunk; a larger count is damage, refused before anything is sized by it (53 MiB).
        public static let decodedBlockSamplesMax = 1_048_576
        /// Statements a store connection keeps prepared for its queries (each a fixed text, so
        /// the cache holds one per call site that asks for it). Preparing cost ~4 µs a
        /// statement, a third of a short query (one drone's sparse hour prepared four, and its
        /// read transaction parsed BEGIN and COMMIT: docs/performance.md, stop 32).
        public static let cachedStatementsMax = 32
        /// Chunks one retention transaction deletes at most.
        public static let retentionStepChunksMax = 1_000
        /// Rows one retention transaction deletes at most (row layout), so the writer and readers' WAL
        /// snapshots never wait long.
        public static let retentionStepRowsMax = 10_000
        /// How long a connection waits for another's lock before it fails.
        public static let busyTimeout: Duration = .seconds(5)
        /// Page cache of a read-only connection for one track request.
        public static let readerCacheKiB = 2_048
        /// Page cache of the writer's connection: a commit appends recent blocks and chunks at
        /// the end of their tables and touches a few index pages, so 4 MiB (1,024 pages of 4 KiB)
        /// holds the working set. A flood fills it to its bound: 64 MiB grew the gateway's peak
        /// RSS by up to 64 MiB for no measured gain; 4 MiB stored as fast as 8 MiB (`bench --max`
        /// with 5 samples a datagram, the writer-bound figure, 841k against 837k samples/s); 2 MiB
        /// stored 6 % slower and raised the 10,000-drone commit p99 (docs/performance.md).
        public static let writerCacheKiB = 4_096
    }

    /// The PostgreSQL store (`serve --db postgres://...`).
    public enum Postgres {
        /// A connection attempt that takes longer fails (and counts as an outage).
        public static let connectTimeout: Duration = .seconds(5)
        /// Any one call (a batch's whole transaction, a read page) that gets no answer this long
        /// closes the connection and counts as an outage, so no thread waits on a dead server.
        public static let operationTimeout: Duration = .seconds(20)
        /// How often a gateway reads the whole fleet's latest state back (`/api/drones`): the
        /// page is at most this, one commit interval and the fleet body's refresh old (~1 s;
        /// the goal is 2 s). One read of `drone_latest`, ~10 ms at 10,000 drones.
        public static let fleetRefreshInterval: Duration = .milliseconds(250)
        /// The writer upserts the drones' latest state (`drone_latest`) with a commit at most
        /// this often, not with every batch: one row per drone costs more than a batch's COPY
        /// when batches are small. Part of the fleet page's age (`fleetRefreshInterval`).
        public static let latestFlushInterval: Duration = .milliseconds(250)
        /// How often a writing gateway bounds `drone_latest` to its `dronesMax` rows, deleting
        /// the drones offline longest (issue 20): one DELETE over at most a few `dronesMax` rows.
        public static let latestPruneInterval: Duration = .seconds(2)
        /// Width of one telemetry partition (daily), in microseconds of sample time.
        public static let partitionMicroseconds: UInt64 = 86_400_000_000
        /// Partitions one batch may create; a batch spanning more days is refused (its samples'
        /// times were validated, so only a replay of a long recording in one batch could).
        public static let partitionsPerBatchMax = 64
        /// Bytes of COPY text one batch may need: the batch's rows at the widest row (16
        /// fields of at most 20 digits and a separator each).
        public static let copyRowBytesMax = 16 * 21
        /// Rows per page of a read (export, tracks).
        public static let readPageRows = 4_096
    }

    /// Replay of recordings (`replay`).
    public enum Replay {
        /// Datagrams sent per `sendmmsg` call at most by `replay --to`; whatever is due goes together.
        public static let sendBatchDatagrams = 64
        /// A gap between consecutive files longer than this is not waited out: the next file
        /// starts at once (files from different flights or days).
        public static let fileGapHonoured: Duration = .seconds(60)
        /// How often the progress line on a terminal is redrawn.
        public static let progressInterval: Duration = .milliseconds(250)
    }

    /// The HTTP side (`StatusServer`).
    public enum Status {
        /// Largest `POST /api/telemetry` body; larger ones get 413 before they are read in full.
        public static let ingestBodyBytesMax = 64 * 1_024
        /// Samples one JSON ingest body may carry (one frame each).
        public static let ingestJSONSamplesMax = 1_024
        /// A track request without `from` covers the last hour.
        public static let trackRangeDefault: Duration = .seconds(3_600)
        /// Points a track request gets when it does not ask, and the most it may ask for.
        public static let trackPointsDefault = 1_000
        public static let trackPointsMax = 10_000
        /// Store reads running at once, track and `/api/events` requests together (each a
        /// read-only connection, with PostgreSQL a connection to the server, on its own thread);
        /// 503 beyond.
        public static let storeReadsConcurrentMax = 2
        /// Shortest access or ingest token `serve` accepts (characters): 16 random characters of
        /// base64 are 96 bits.
        public static let tokenCharactersMin = 16
        /// Rows one track request may read: ~0.2 s of SQLite reading on this machine.
        public static let trackRowsReadMax = 200_000
        /// Rows a track read takes from SQLite per page.
        public static let trackPageRows = 4_096
        /// Freshness the `/api/drones` refresher keeps; the page polls once a second.
        public static let fleetBodyRefreshInterval: Duration = .milliseconds(250)
        /// A request builds the body itself rather than serve one older than this.
        public static let fleetBodyStaleAfter: Duration = .seconds(2)
        /// The refresher stops after this long without a request.
        public static let fleetBodyIdleAfter: Duration = .seconds(10)
        /// How often the counters are sampled into the stats history.
        public static let statsSampleInterval: Duration = .seconds(1)
        /// Per-second samples the stats history keeps: 15 minutes and one more, so the 15-minute
        /// window has both ends.
        public static let statsHistorySamples = 15 * 60 + 1

        // Flight review (`/api/fleet`, `/api/timeline`, `/api/drones/{protocol}/{id}/series`).
        /// `/api/fleet?at=` shows each drone's last sample this long before `at` by default...
        public static let reviewWindowDefault: Duration = .seconds(10)
        /// ...and at most this long (PostgreSQL reads the window's rows; 10 minutes covers a
        /// drone reporting every few minutes).
        public static let reviewWindowMax: Duration = .seconds(600)
        /// Drones one `/api/fleet` answer lists at most (the fleet table's default `dronesMax`):
        /// ~2.5 MB of JSON.
        public static let reviewFleetDronesMax = 16_384
        /// Chunk index entries `/api/fleet?at=` collects in one range of the end-time index
        /// (32 bytes each, 4 MiB): ~1.5 a drone at 10,000 drones; past it (copies of the same
        /// flights replayed on top of each other), the query seeks drone by drone instead.
        public static let reviewFleetCandidatesMax = 131_072
        /// Activity buckets of a timeline by default, and at most.
        public static let timelineBucketsDefault = 240
        public static let timelineBucketsMax = 4_096
        /// Events one timeline lists at most (the newest of the range; `events_truncated` says so).
        public static let timelineEventsMax = 1_000
        /// A timeline counts a SQLite chunk spanning at most this long (what a live gateway's
        /// compaction writes) from its index entry, spread evenly over its span; a longer one
        /// (a replay of files days apart) is read and counted sample by sample.
        public static let timelineSpreadSpanMax: Duration = .seconds(120)
        /// Points of a drone's series by default, and at most.
        public static let seriesPointsDefault = 1_000
        public static let seriesPointsMax = 10_000
        /// Rows one series request may read: a day at 4 Hz, ~0.4 s of SQLite reading.
        public static let seriesRowsReadMax = 400_000
        /// A series' link quality counts a jump of more sequence numbers than this as a
        /// restarted sender, not as that many lost frames (18 hours of 1 Hz frames).
        public static let seriesSequenceJumpMax: UInt32 = 65_536
    }

    /// Webhook delivery of alert events (`serve --webhook`, the `Webhooks` target); the defaults of
    /// `WebhookSettings`, which tests shrink.
    public enum Webhooks {
        /// Events each endpoint's queue holds; more are dropped, counted `dropped_queue_full`, so a
        /// slow or dead receiver costs at most this much memory (~80 bytes an event) and never
        /// blocks the batch processor.
        public static let queueCapacityEvents = 10_000
        /// Events one POST carries at most: a burst of a whole fleet's alarms goes out in a few
        /// requests, and a body stays around 20 KB.
        public static let eventsPerRequestMax = 100
        /// A request (connect, send, answer) that takes longer fails and is retried.
        public static let requestTimeout: Duration = .seconds(5)
        /// The first wait before a failed request is retried; it doubles up to the maximum, so a
        /// restarting receiver is not hammered and a short blip is ridden out fast.
        public static let backoffInitial: Duration = .milliseconds(500)
        public static let backoffMax: Duration = .seconds(30)
        /// Tries of one request before its events become dead letters: with the backoff above,
        /// about a minute and a half of outage (0.5 + 1 + 2 + 4 + 8 + 16 + 30 s of waits).
        public static let attemptsPerRequestMax = 8
        /// At shutdown, how long delivery goes on for what is queued; the rest is counted
        /// `dropped_shutdown`.
        public static let shutdownDrainTimeout: Duration = .seconds(5)
        /// Longest secret file (`--webhook-secret-file`): a secret is a few dozen bytes; a larger
        /// file is the wrong file.
        public static let secretBytesMax = 4_096
        /// Bytes of a receiver's answer read at most (the rest is not read); only its status counts.
        public static let responseBodyBytesMax = 64 * 1_024
        /// Webhook endpoints one gateway may have (`--webhook` given this many times at most).
        public static let endpointsMax = 16
    }

    /// The drone simulator (`simulate`, `demo`, `bench`).
    public enum Simulator {
        /// Most drones in one run. A drone costs about 300 bytes of state (plus its held frames
        /// when `--reorder` is on), so 100,000 drones stay well under 100 MB.
        public static let dronesMax = 100_000
        /// Highest sample rate per drone. Autopilots stream positions at 1 to 50 Hz; 1,000 Hz
        /// leaves room for stress tests while keeping the sample period a whole number of µs.
        public static let sampleRateMaxHz = 1_000.0
        /// Longest run: one week of simulated time, so sample indexes and timestamps cannot overflow.
        public static let durationMaxSeconds = 7.0 * 24 * 3_600
        /// Datagrams handed to the sender at once; one `sendmmsg` call each.
        public static let datagramsPerBatchMax = 256
        /// Interval between the sender's wake-ups when pacing at real time. Samples that fall
        /// between two wake-ups are sent together; 5 ms keeps a drone's sample within 5 ms of its
        /// timestamp and costs 200 wake-ups a second, nothing next to the sends themselves.
        public static let pacingTick: Duration = .milliseconds(5)
        /// Most simulated time a single wake-up may catch up when the sender fell behind: the
        /// backlog then leaves at up to 10 times the requested rate instead of in one burst that
        /// would overflow the receiver's socket buffer.
        public static let catchUpMax: Duration = .milliseconds(50)
        /// Datagrams a drone may hold back for `--reorder` at once; three is enough to reorder
        /// within any gateway's window.
        public static let reorderHoldMax = 3
        /// How often the progress line is redrawn.
        public static let progressInterval: Duration = .seconds(1)
    }

    /// Geofence zones (`serve --zones FILE`, docs/events.md).
    public enum Zones {
        /// Largest zone file read: a few hundred detailed zones fit in well under 8 MiB of GeoJSON.
        public static let fileBytesMax = 8 << 20
        /// Most zones loaded at once; each drone keeps one bit per zone (32 bytes per drone).
        public static let zonesMax = 256
        /// Most vertices in one zone (all its rings): the self-intersection check at load is
        /// quadratic in them, and the per-sample test linear in the edges of the zones hit.
        public static let verticesPerZoneMax = 1_024
        /// Most vertices in the whole file.
        public static let verticesMax = 65_536
        /// Largest circle radius, 100 km: beyond that the flat-earth distance is off by metres.
        public static let radiusMaxMetres = 100_000.0
        /// Cells per side of the grid that finds a sample's candidate zones (the prefilter
        /// before each zone's own bounding box): 64 x 64 cells over the zones' extent.
        public static let gridCellsPerSide = 64
        /// Default hysteresis: a drone inside a zone leaves it only once this far outside it
        /// (horizontally, or beyond the floor or ceiling), so GPS noise on an edge makes no flurry
        /// of enter/exit events.
        public static let hysteresisDefaultMetres = 5.0
    }

    /// Events (rules and zone crossings, docs/events.md).
    public enum Events {
        /// Events one drone may raise at once: each fleet row has a token bucket of this many
        /// events, refilled by one every `perDroneRefillInterval`; events beyond it are counted
        /// `events_dropped{rate_limited}`, so a storm of fake alarms from one drone (a spoofed or
        /// broken sender flickering across a zone edge) cannot fill the webhook queues
        /// (`Webhooks.queueCapacityEvents`) and push other drones' alarms out. 32 covers a real
        /// drone crossing many zones at once; a sustained 30 a minute is far above any real
        /// drone's alarms.
        public static let perDroneBurst: UInt32 = 32
        public static let perDroneRefillInterval: Duration = .seconds(2)
        /// Events one batch may raise; more are counted `events_dropped{burst}` (a burst that size
        /// means the thresholds are wrong, not that ops need each one).
        public static let perBatchMax = 4_096
        /// Events waiting for the store writer; beyond, counted `events_dropped{store_queue_full}`.
        public static let storeQueueMax = 65_536
        /// Events one store transaction writes at most.
        public static let storeWriteMax = 4_096
        /// Longest an event waits for the store writer when no batch comes to wake it.
        public static let storeWaitMax: Duration = .milliseconds(250)
        /// Recent events kept in memory for SSE clients that reconnect with Last-Event-ID.
        public static let recentMax = 1_024
        /// Events a slow SSE client may have waiting before the oldest are dropped for it.
        public static let streamBufferEvents = 1_024
        /// SSE clients at once; more get 503.
        public static let streamClientsMax = 64
        /// Comment line sent to idle SSE clients so proxies keep the connection.
        public static let streamKeepalive: Duration = .seconds(15)
        /// How often the processor checks for drones that fell silent (`lost_link`).
        public static let lostLinkCheckInterval: Duration = .milliseconds(200)
        /// Events `/api/events` returns by default, and at most.
        public static let queryDefault = 100
        public static let queryMax = 10_000
        /// Re-arm margins of the threshold rules: a rule that fired fires again only after the
        /// value came back past its threshold by this much.
        public static let batteryRearmPercent: UInt8 = 5
        public static let speedRearmFraction = 0.9
        public static let altitudeRearmMetres = 5.0
    }

    /// Waits of the command-line tool's sessions (`demo`, `bench`, `record`).
    public enum Commands {
        /// How long `bench --http` waits for its status server to bind before it gives up.
        public static let statusBindWaitMax: Duration = .seconds(10)
        /// How often a session polls for a condition (a bind, a signal, the end of a recording).
        public static let pollInterval: Duration = .milliseconds(50)
        /// The bench waits for the last datagrams until the received count stays still this long...
        public static let arrivalQuietPeriod: Duration = .milliseconds(200)
        /// ...and at most this long in all.
        public static let arrivalWaitMax: Duration = .seconds(10)
        /// The demo lets the last datagrams arrive for this long before it drains the gateway.
        public static let demoSettleTime: Duration = .milliseconds(500)
    }

    /// Problems with how the fixed bounds relate, as messages naming them; the limits test
    /// asserts there are none (the fixed bounds cannot change at run time).
    public static func fixedBoundProblems() -> [String] {
        var problems: [String] = []
        if Simulator.datagramsPerBatchMax > Transport.datagramsPerCallMax {
            problems.append("Simulator.datagramsPerBatchMax must fit one sendmmsg call (Transport.datagramsPerCallMax)")
        }
        if Simulator.datagramsPerBatchMax < 2 * (1 + Simulator.reorderHoldMax) {
            problems.append("Simulator.datagramsPerBatchMax must hold a drone's held datagrams twice over")
        }
        if Simulator.catchUpMax <= Simulator.pacingTick || Simulator.progressInterval <= Simulator.pacingTick {
            problems.append("Simulator.catchUpMax and progressInterval must be longer than pacingTick")
        }
        if Store.recentGroupDrones < 1 || Store.recentGroupDrones & (Store.recentGroupDrones - 1) != 0 {
            problems.append("Store.recentGroupDrones must be a power of two")
        }
        if Store.chunkSparseSamples > Store.chunkSamplesMax || Store.chunkSparseSpanMax < Store.chunkSpanMax {
            problems.append("Store.chunkSparseSamples must be at most chunkSamplesMax, chunkSparseSpanMax at least chunkSpanMax")
        }
        if Store.chunkSamplesMax > Store.compactionSamples || Store.retentionStepChunksMax < 1 {
            problems.append("Store.chunkSamplesMax must be at most compactionSamples (a compaction fills chunks), retentionStepChunksMax at least 1")
        }
        if Replay.sendBatchDatagrams > Transport.datagramsPerCallMax {
            problems.append("Replay.sendBatchDatagrams must fit one sendmmsg call")
        }
        if Events.perDroneBurst < 1 || Int(Events.perDroneBurst) > Webhooks.queueCapacityEvents / 100
            || Events.perDroneRefillInterval <= .zero
        {
            problems.append("Events.perDroneBurst must be in 1...1% of Webhooks.queueCapacityEvents, perDroneRefillInterval above 0")
        }
        if Status.timelineBucketsDefault > Status.timelineBucketsMax || Status.seriesPointsDefault > Status.seriesPointsMax
            || Status.reviewWindowDefault > Status.reviewWindowMax || Status.trackPageRows > Status.seriesRowsReadMax {
            problems.append("Status review defaults must be within their maximums, trackPageRows at most seriesRowsReadMax")
        }
        if Status.trackPointsDefault > Status.trackPointsMax || Status.trackPageRows > Status.trackRowsReadMax {
            problems.append("Status.trackPointsDefault must be at most trackPointsMax, trackPageRows at most trackRowsReadMax")
        }
        if Status.fleetBodyRefreshInterval >= Status.fleetBodyStaleAfter || Status.fleetBodyStaleAfter >= Status.fleetBodyIdleAfter {
            problems.append("Status: fleetBodyRefreshInterval < fleetBodyStaleAfter < fleetBodyIdleAfter")
        }
        if Commands.arrivalQuietPeriod >= Commands.arrivalWaitMax || Commands.pollInterval >= Commands.statusBindWaitMax {
            problems.append("Commands: the quiet period and poll interval must be shorter than the waits they end")
        }
        return problems
    }
}

extension Duration {
    /// Whole nanoseconds (negative durations are 0), for clocks counted in `UInt64` nanoseconds.
    @inlinable
    public var nanosecondsClamped: UInt64 {
        let parts = components
        guard parts.seconds >= 0 else { return 0 }
        return UInt64(parts.seconds) &* 1_000_000_000 &+ UInt64(parts.attoseconds / 1_000_000_000)
    }

    /// Whole microseconds (negative durations are 0).
    @inlinable
    public var microsecondsClamped: UInt64 { nanosecondsClamped / 1_000 }
}
