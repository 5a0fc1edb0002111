import Telemetry

// Flight review's queries over the chunk layout (StoreReview.swift has what they answer). Each
// runs in one read transaction, like the other chunk queries, so a compaction committing
// meanwhile cannot show a sample twice or hide it.

extension TelemetryStore {
    /// The chunks that overlap the range, from the index alone: one range of the end-time index
    /// (schema v7) bounded by the file's longest chunk (`ChunkSpanMark`), or, on an older file
    /// or past `Limits.Status.reviewFleetCandidatesMax` entries, one seek per drone through the
    /// (protocol, drone, end_us) index. Then only the chunks that can hold a drone's last sample
    /// are read and decoded: the one that starts latest first, then any other whose end is later
    /// than the best sample found so far (none, when a drone's chunks do not overlap in time, as
    /// a live gateway writes them). Plus the recent blocks of the range. Costs about one chunk
    /// decoded per drone, not O(rows stored).
    public func lastSamples(in timeRangeMicroseconds: Range<UInt64>, dronesMax: Int) throws(StoreError) -> [StoredSample] {
        let state = try openState()
        guard state.layout == .chunks else { return try scanLastSamples(in: timeRangeMicroseconds, dronesMax: dronesMax) }
        let range = Self.clamped(timeRangeMicroseconds)
        guard !range.isEmpty, dronesMax > 0 else { return [] }
        return try state.inReadTransaction { () throws(StoreError) in
            let connection = state.connection
            var latest = LatestRows()
            // Blocks of either format (plain or compressed), each decoded into the reader's buffer.
            let reader = SampleBlockReader(decoder: state.queryDecoder)
            let endBound = try ChunkSpanMark.endBound(connection, upper: range.upperBound)
            let candidates: [ChunkCandidate]
            if let found = try Self.overlappingChunks(connection, range: range, endBound: endBound) {
                candidates = found
            } else {
                candidates = try Self.overlappingChunksPerDrone(connection, range: range, endBound: endBound, drones: try chunkDrones(connection))
            }
            let chunkData = try connection.prepare("SELECT data FROM telemetry_chunk WHERE rowid = ?1")
            for chunk in candidates {
                // A chunk ending before the drone's best sample so far cannot hold a later one.
                if let best = latest.rows[chunk.key], chunk.end < best.timestampMicroseconds { continue }
                chunkData.reset()
                chunkData.bind(1, chunk.rowid)
                // A block this version cannot read (damaged) is skipped, not misread.
                guard try chunkData.step(), let block = reader.view(chunkData.blob(0)) else { continue }
                latest.take(block, in: range)
            }
            let recent = try connection.prepare("SELECT data FROM telemetry_recent WHERE last_us >= ?1 AND first_us < ?2")
            recent.bind(1, Int64(range.lowerBound))
            recent.bind(2, Int64(range.upperBound))
            while try recent.step() {
                guard let block = reader.view(recent.blob(0)) else { continue }
                latest.take(block, in: range)
            }
            return latest.sorted(dronesMax: dronesMax)
        }
    }

    /// From the chunk index (min start, max end: a scan of the covering index, O(chunks), no
    /// chunk read) and the recent blocks' bounds.
    public func sampleTimeBounds() throws(StoreError) -> ClosedRange<UInt64>? {
        let state = try openState()
        guard state.layout == .chunks else { return try scanSampleTimeBounds() }
        return try state.inReadTransaction { () throws(StoreError) in
            var first = UInt64.max, last = UInt64.min
            for sql in ["SELECT min(start_us), max(end_us) FROM telemetry_chunk", "SELECT min(first_us), max(last_us) FROM telemetry_recent"] {
                let statement = try state.connection.prepare(sql)
                guard try statement.step(), !statement.isNull(0), !statement.isNull(1) else { continue }
                first = min(first, UInt64(bitPattern: statement.int64(0)))
                last = max(last, UInt64(bitPattern: statement.int64(1)))
            }
            return first <= last ? first...last : nil
        }
    }

    /// Chunks that a live gateway wrote (a drone's samples of one compaction: spans of seconds
    /// to a minute) are counted from their index entries alone (protocol, drone, start, end,
    /// samples), without reading the chunk: its samples are spread evenly over its span, and its
    /// drone counts in every bucket the span touches, which is close for a drone reporting at a
    /// steady rate. A chunk spanning more than `Limits.Status.timelineSpreadSpanMax` and more
    /// than a bucket (a replayed file, late data) is read and counted exactly, as are the recent
    /// blocks. Costs one scan of the covering index, O(chunks stored), plus those reads.
    public func activity(_ buckets: ActivityBuckets) throws(StoreError) -> [ActivityBucket] {
        let state = try openState()
        guard state.layout == .chunks else { return try scanActivity(buckets) }
        let range = buckets.range
        var activity = [ActivityBucket](repeating: ActivityBucket(), count: buckets.count)
        guard !range.isEmpty else { return activity }
        return try state.inReadTransaction { () throws(StoreError) in
            let connection = state.connection
            // Recent samples first, exactly; the (bucket, drone) pairs they counted keep the
            // chunks from counting those drones again.
            var recentPairs = Set<UInt64>()
            let reader = SampleBlockReader(decoder: state.queryDecoder)
            let recent = try connection.prepare("SELECT data FROM telemetry_recent WHERE last_us >= ?1 AND first_us < ?2")
            recent.bind(1, Int64(range.lowerBound))
            recent.bind(2, Int64(clamping: range.upperBound))
            while try recent.step() {
                guard let block = reader.view(recent.blob(0)) else { continue }
                for row in 0..<block.count {
                    guard let index = buckets.index(of: block.time(row)) else { continue }
                    activity[index].samples += 1
                    if recentPairs.insert(Self.pair(index, block.key(row))).inserted { activity[index].drones += 1 }
                }
            }
            // Index order is (protocol, drone, end): a drone's chunks come together, so "a new
            // drone in this bucket" is "not the last drone counted there".
            var lastDroneOfBucket = [UInt64](repeating: .max, count: buckets.count)
            func countDrone(_ index: Int, _ key: UInt64) {
                guard lastDroneOfBucket[index] != key else { return }
                lastDroneOfBucket[index] = key
                if !recentPairs.contains(Self.pair(index, key)) { activity[index].drones += 1 }
            }
            let spreadSpanMax = max(buckets.widthMicroseconds, Limits.Status.timelineSpreadSpanMax.microsecondsClamped)
            let chunkData = try connection.prepare("SELECT data FROM telemetry_chunk WHERE rowid = ?1")
            let chunks = try connection.prepare("""
                SELECT protocol, drone, start_us, end_us, samples, rowid FROM telemetry_chunk
                WHERE end_us >= ?1 AND start_us < ?2 ORDER BY protocol, drone, end_us
                """)
            chunks.bind(1, Int64(range.lowerBound))
            chunks.bind(2, Int64(clamping: range.upperBound))
            while try chunks.step() {
                let key = UInt64(truncatingIfNeeded: chunks.int64(0)) << 32 | UInt64(truncatingIfNeeded: chunks.int64(1)) & 0xFFFF_FFFF
                let start = UInt64(bitPattern: chunks.int64(2))
                let end = UInt64(bitPattern: chunks.int64(3))
                let samples = UInt64(clamping: chunks.int64(4))
                guard end >= start, end < UInt64.max else { continue }
                let span = end - start + 1
                // A chunk longer than a live compaction makes (replayed files, late data: it may
                // hold stretches days apart) is read and counted sample by sample.
                if span > spreadSpanMax {
                    chunkData.reset()
                    chunkData.bind(1, chunks.int64(5))
                    guard try chunkData.step(), let block = reader.view(chunkData.blob(0)) else { continue }
                    for row in 0..<block.count {
                        guard let index = buckets.index(of: block.time(row)) else { continue }
                        activity[index].samples += 1
                        countDrone(index, key)
                    }
                    continue
                }
                // Samples before position p of the span, spread evenly: samples × (p − start) / span.
                func before(_ position: UInt64) -> UInt64 {
                    span.dividingFullWidth(samples.multipliedFullWidth(by: position - start)).quotient
                }
                var time = max(start, range.lowerBound)
                let stop = min(end + 1, range.upperBound)
                // Bounded: one step per bucket the span touches.
                while time < stop, let index = buckets.index(of: time) {
                    let bucketEnd = min(buckets.originMicroseconds + UInt64(index + 1) * buckets.widthMicroseconds, stop)
                    activity[index].samples += Int(before(bucketEnd) - before(time))
                    countDrone(index, key)
                    time = bucketEnd
                }
            }
            return activity
        }
    }

    private static func pair(_ bucket: Int, _ key: UInt64) -> UInt64 { UInt64(bucket) << 41 | key }

    /// The range as the Int64 columns can hold it.
    static func clamped(_ range: Range<UInt64>) -> Range<UInt64> {
        let limit = UInt64(Int64.max)
        return min(range.lowerBound, limit)..<min(range.upperBound, limit)
    }
}

/// A chunk's index entry: whose, when, where.
struct ChunkCandidate {
    var key: UInt64
    var start: UInt64
    var end: UInt64
    var rowid: Int64
}

extension TelemetryStore {
    /// Every chunk overlapping `range`, in (drone, latest start first) order, from one range of
    /// `telemetry_chunk_end`; nil on a file without that index (schema v6 and older, read
    /// without migrating) or when more than `Limits.Status.reviewFleetCandidatesMax` overlap
    /// (replayed copies of the same flights stacked on each other), so memory stays bounded.
    static func overlappingChunks(_ connection: SQLiteConnection, range: Range<UInt64>, endBound: Int64) throws(StoreError) -> [ChunkCandidate]? {
        guard try connection.integer("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'telemetry_chunk_end'") == 1
        else { return nil }
        let scan = try connection.prepare("""
            SELECT protocol, drone, start_us, end_us, rowid FROM telemetry_chunk INDEXED BY telemetry_chunk_end
            WHERE end_us >= ?1 AND end_us < ?3 AND start_us < ?2
            """)
        scan.bind(1, Int64(range.lowerBound))
        scan.bind(2, Int64(range.upperBound))
        scan.bind(3, endBound)
        var found: [ChunkCandidate] = []
        // Bounded: at most `reviewFleetCandidatesMax` entries are kept.
        while try scan.step() {
            guard found.count < Limits.Status.reviewFleetCandidatesMax else { return nil }
            found.append(
                ChunkCandidate(
                    key: UInt64(truncatingIfNeeded: scan.int64(0)) << 32 | UInt64(truncatingIfNeeded: scan.int64(1)) & 0xFFFF_FFFF,
                    start: UInt64(bitPattern: scan.int64(2)), end: UInt64(bitPattern: scan.int64(3)), rowid: scan.int64(4)))
        }
        found.sort { ($0.key, $1.start) < ($1.key, $0.start) }
        return found
    }

    /// The same, by two seeks per drone through (protocol, drone, end_us): the index every
    /// chunk file has.
    static func overlappingChunksPerDrone(
        _ connection: SQLiteConnection, range: Range<UInt64>, endBound: Int64, drones: [DroneIdentity]
    ) throws(StoreError) -> [ChunkCandidate] {
        let seek = try connection.prepare("""
            SELECT start_us, end_us, rowid FROM telemetry_chunk
            WHERE protocol = ?1 AND drone = ?2 AND end_us >= ?3 AND end_us < ?5 AND start_us < ?4
            """)
        var found: [ChunkCandidate] = []
        for drone in drones {
            seek.reset()
            seek.bind(1, Int64(drone.protocol.rawValue))
            seek.bind(2, Int64(drone.number))
            seek.bind(3, Int64(range.lowerBound))
            seek.bind(4, Int64(range.upperBound))
            seek.bind(5, endBound)
            let first = found.count
            // Bounded by the drone's chunks that overlap the window (the index entries only).
            while try seek.step() {
                found.append(
                    ChunkCandidate(
                        key: drone.storeKey, start: UInt64(bitPattern: seek.int64(0)), end: UInt64(bitPattern: seek.int64(1)),
                        rowid: seek.int64(2)))
            }
            found[first...].sort { $0.start > $1.start }
        }
        return found
    }
}

/// The best row per drone so far (greatest (time, sequence)), decoded only when it wins.
private struct LatestRows {
    var rows: [UInt64: StoredSample] = [:]

    /// Takes every run of one drone's rows in `block` (rows are sorted by drone) within `range`.
    mutating func take(_ block: SampleBlockView, in range: Range<UInt64>) {
        var row = 0
        // Bounded: each row is visited once.
        while row < block.count {
            let key = block.key(row)
            var best = -1
            var bestOrder = (time: UInt64(0), sequence: UInt32(0))
            while row < block.count && block.key(row) == key {
                let time = block.time(row)
                if range.contains(time) {
                    let order = (time: time, sequence: block.sequence(row))
                    if best < 0 || order >= bestOrder { best = row; bestOrder = order }
                }
                row += 1
            }
            guard best >= 0 else { continue }
            if let held = rows[key], (held.timestampMicroseconds, held.sequence) >= bestOrder { continue }
            if let sample = block.storedSample(best) { rows[key] = sample }
        }
    }

    func sorted(dronesMax: Int) -> [StoredSample] {
        Array(rows.values.sorted { $0.drone.storeKey < $1.drone.storeKey }.prefix(dronesMax))
    }
}
