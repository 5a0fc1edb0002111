import Telemetry
import TelemetryWire

// Queries over the chunk layout (schema v3). A drone's samples live in its chunks
// (`telemetry_chunk`, found through the (protocol, drone, end_us) index) and in the recent blocks
// not yet compacted (`telemetry_recent`, bounded by the compaction threshold). Each query runs in
// one read transaction, so a compaction committing meanwhile cannot show a sample twice.

/// Pages of samples handed to a reader's closure; remembers whether it asked to stop.
private struct PageEmitter {
    var page: [StoredSample] = []
    let pageSize: Int
    var delivered = 0
    var stopped = false
    let body: ([StoredSample]) -> Bool

    init(pageSize: Int, body: @escaping ([StoredSample]) -> Bool) {
        self.pageSize = pageSize
        self.body = body
        page.reserveCapacity(pageSize)
    }

    mutating func emit(_ sample: StoredSample) {
        guard !stopped else { return }
        page.append(sample)
        if page.count == pageSize { flush() }
    }

    mutating func flush() {
        guard !stopped, !page.isEmpty else { return }
        delivered += page.count
        if !body(page) { stopped = true }
        page.removeAll(keepingCapacity: true)
    }
}

extension TelemetryStore {
    func readChunkSamples(
        _ connection: SQLiteConnection, drone: DroneIdentity?, range: Range<UInt64>, pageSize: Int,
        _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        let recent = try recentSamples(connection, drone: drone, range: range)
        let drones: [DroneIdentity]
        if let drone {
            drones = [drone]
        } else {
            var keys = Set(try chunkDrones(connection))
            for sample in recent { keys.insert(sample.drone) }
            drones = keys.sorted { $0.storeKey < $1.storeKey }
        }
        // A drone's chunks in index order (by end), each read in the step that finds it. Every
        // chunk spans at most `span` (`ChunkSpanMark`), so the index range stops at end_us < hi +
        // span, and a chunk ending at e holds no sample before e − span.
        let chunks = try connection.cached("""
            SELECT start_us, end_us, data FROM telemetry_chunk
            WHERE protocol = ?1 AND drone = ?2 AND end_us >= ?3 AND end_us < ?5 AND start_us < ?4
            ORDER BY end_us
            """)
        defer { chunks.done() }
        let span = try ChunkSpanMark.span(connection)
        let endBound = ChunkSpanMark.endBound(upper: range.upperBound, span: span)
        let reader = SampleBlockReader(decoder: try openState().queryDecoder)
        return try withoutActuallyEscaping(body) { body throws(StoreError) -> Int in
            var emitter = PageEmitter(pageSize: pageSize, body: body)
            var recentIndex = 0
            var pending: [StoredSample] = []
            for drone in drones where !emitter.stopped {
                let key = drone.storeKey
                while recentIndex < recent.count && recent[recentIndex].drone.storeKey < key { recentIndex += 1 }
                var recentNext = recentIndex
                while recentIndex < recent.count && recent[recentIndex].drone.storeKey == key { recentIndex += 1 }
                let recentEnd = recentIndex

                // A sample is handed out once no chunk still to come can hold an earlier one (the
                // next chunk's start, and the span before its end, bound every later chunk's
                // samples), merged with the drone's recent samples (sorted already), so the
                // samples come out in time order even where chunks overlap (late or replayed
                // data), holding only those within one span of the chunk being read.
                func handOut(before limit: UInt64) {
                    while recentNext < recentEnd && recent[recentNext].timestampMicroseconds < limit {
                        pending.append(recent[recentNext])
                        recentNext += 1
                    }
                    guard !pending.isEmpty else { return }
                    pending.sort { ($0.timestampMicroseconds, $0.sequence) < ($1.timestampMicroseconds, $1.sequence) }
                    var taken = 0
                    while taken < pending.count && pending[taken].timestampMicroseconds < limit {
                        emitter.emit(pending[taken])
                        taken += 1
                    }
                    pending.removeFirst(taken)
                }
                chunks.reset()
                chunks.bind(1, Int64(drone.protocol.rawValue))
                chunks.bind(2, Int64(drone.number))
                chunks.bind(3, Int64(clamping: range.lowerBound))
                chunks.bind(4, Int64(clamping: range.upperBound))
                chunks.bind(5, endBound)
                while !emitter.stopped, try chunks.step() {
                    let start = UInt64(bitPattern: chunks.int64(0))
                    let end = UInt64(bitPattern: chunks.int64(1))
                    handOut(before: min(start, end >= span ? end - span : 0))
                    // A block this version cannot read (damaged) is skipped, not misread.
                    guard let block = reader.view(chunks.blob(2)) else { continue }
                    for row in 0..<block.count {
                        let time = block.time(row)
                        if range.contains(time), let sample = block.storedSample(row) { pending.append(sample) }
                    }
                }
                handOut(before: .max)
                pending.removeAll(keepingCapacity: true)
            }
            emitter.flush()
            return emitter.delivered
        }
    }

    /// Samples of the recent blocks (one drone's, or all) with time in `range`, sorted by
    /// (protocol, drone, time) and, among equal times, by arrival.
    func recentSamples(_ connection: SQLiteConnection, drone: DroneIdentity?, range: Range<UInt64>) throws(StoreError) -> [StoredSample] {
        let statement = try connection.cached(
            drone == nil
                ? "SELECT data FROM telemetry_recent WHERE last_us >= ?1 AND first_us < ?2 ORDER BY id"
                : "SELECT data FROM telemetry_recent WHERE drone_group = ?3 AND last_us >= ?1 AND first_us < ?2 ORDER BY id")
        defer { statement.done() }
        statement.bind(1, Int64(clamping: range.lowerBound))
        statement.bind(2, Int64(clamping: range.upperBound))
        if let drone { statement.bind(3, SampleBlock.group(ofKey: drone.storeKey)) }
        var samples: [StoredSample] = []
        let reader = SampleBlockReader(decoder: try openState().queryDecoder)
        while try statement.step() {
            // A block this version cannot read (damaged) is skipped, not misread.
            guard let block = reader.view(statement.blob(0)) else { continue }
            let rows = drone.map { block.rows(of: $0.storeKey) } ?? 0..<block.count
            for row in rows {
                if range.contains(block.time(row)), let sample = block.storedSample(row) { samples.append(sample) }
            }
        }
        if drone == nil || samples.count > 1 {
            let order = samples.indices.sorted { a, b in
                let (x, y) = (samples[a], samples[b])
                if x.drone.storeKey != y.drone.storeKey { return x.drone.storeKey < y.drone.storeKey }
                if x.timestampMicroseconds != y.timestampMicroseconds { return x.timestampMicroseconds < y.timestampMicroseconds }
                return a < b
            }
            samples = order.map { samples[$0] }
        }
        return samples
    }

    /// Whether the file has `chunk_drone_end` (schema v9; an older file opened read-only has not).
    func hasChunkDroneEnds(_ connection: SQLiteConnection) throws(StoreError) -> Bool {
        try connection.cachedInteger("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chunk_drone_end'") == 1
    }

    /// The distinct drones with chunks (one seek per drone through the chunk index).
    func chunkDrones(_ connection: SQLiteConnection) throws(StoreError) -> [DroneIdentity] {
        try storedDrones(connection, table: "telemetry_chunk")
    }

    func chunkDroneSummaries(_ connection: SQLiteConnection) throws(StoreError) -> [StoredDroneSummary] {
        var summaries: [UInt64: StoredDroneSummary] = [:]
        let statement = try connection.prepare(
            "SELECT protocol, drone, sum(samples), min(start_us), max(end_us) FROM telemetry_chunk GROUP BY protocol, drone")
        while try statement.step() {
            guard let known = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: statement.int64(0))) else { continue }
            let drone = DroneIdentity(protocol: known, number: UInt32(truncatingIfNeeded: statement.int64(1)))
            summaries[drone.storeKey] = StoredDroneSummary(
                drone: drone, rowCount: Int(statement.int64(2)),
                firstTimestampMicroseconds: UInt64(bitPattern: statement.int64(3)),
                lastTimestampMicroseconds: UInt64(bitPattern: statement.int64(4)))
        }
        for sample in try recentSamples(connection, drone: nil, range: 0..<UInt64(Int64.max)) {
            let time = sample.timestampMicroseconds
            if var summary = summaries[sample.drone.storeKey] {
                summary.rowCount += 1
                summary.firstTimestampMicroseconds = min(summary.firstTimestampMicroseconds, time)
                summary.lastTimestampMicroseconds = max(summary.lastTimestampMicroseconds, time)
                summaries[sample.drone.storeKey] = summary
            } else {
                summaries[sample.drone.storeKey] = StoredDroneSummary(
                    drone: sample.drone, rowCount: 1, firstTimestampMicroseconds: time, lastTimestampMicroseconds: time)
            }
        }
        return summaries.values.sorted { $0.drone.storeKey < $1.drone.storeKey }
    }

    func latestChunkSamples(_ connection: SQLiteConnection) throws(StoreError) -> [StoredSample] {
        var latest: [UInt64: StoredSample] = [:]
        let reader = SampleBlockReader(decoder: try openState().queryDecoder)
        // Recent blocks first, in commit order: rows of one drone are in time order within a
        // block, so its last row is its latest there, and a later block wins a tie.
        let recent = try connection.prepare("SELECT data FROM telemetry_recent ORDER BY id")
        while try recent.step() {
            guard let block = reader.view(recent.blob(0)) else { continue }
            var row = 0
            while row < block.count {
                let key = block.key(row)
                var last = row
                while last + 1 < block.count && block.key(last + 1) == key { last += 1 }
                if latest[key].map({ block.time(last) >= $0.timestampMicroseconds }) ?? true,
                   let sample = block.storedSample(last) {
                    latest[key] = sample
                }
                row = last + 1
            }
        }
        // Then each drone's greatest chunk end: one row a drone from `chunk_drone_end` (schema
        // v9), or on an older file read without migrating, from a scan of the chunk index. Recent
        // blocks arrived after every chunk and win a tie, so a chunk that ends no later than the
        // drone's latest recent sample is never read: a drone still sending has its newest
        // samples in recent blocks until the next compaction.
        let ends = try connection.cached(
            try hasChunkDroneEnds(connection)
                ? "SELECT protocol, drone, end_us FROM chunk_drone_end"
                : "SELECT protocol, drone, max(end_us) FROM telemetry_chunk GROUP BY protocol, drone")
        defer { ends.done() }
        var wanted: [(protocol: Int64, drone: Int64, end: Int64)] = []
        while try ends.step() {
            let key = DroneIdentity.storeKey(
                protocol: UInt8(truncatingIfNeeded: ends.int64(0)), number: UInt32(truncatingIfNeeded: ends.int64(1)))
            if let have = latest[key], have.timestampMicroseconds >= UInt64(bitPattern: ends.int64(2)) { continue }
            wanted.append((ends.int64(0), ends.int64(1), ends.int64(2)))
        }
        // Of the drone's chunks ending then, the last written (a later compaction's): its samples
        // arrived later, and the last arrival wins a tie. (SQLite's bare column beside max()
        // comes from any one of the rows that tie.)
        let data = try connection.prepare("""
            SELECT data FROM telemetry_chunk WHERE protocol = ?1 AND drone = ?2 AND end_us = ?3
            ORDER BY rowid DESC LIMIT 1
            """)
        for chunk in wanted {
            data.reset()
            data.bind(1, chunk.protocol)
            data.bind(2, chunk.drone)
            data.bind(3, chunk.end)
            guard try data.step(), let block = reader.view(data.blob(0)), block.count > 0 else { continue }
            var best = 0
            for row in 1..<block.count where block.time(row) >= block.time(best) { best = row }
            if let sample = block.storedSample(best),
               latest[sample.drone.storeKey].map({ sample.timestampMicroseconds > $0.timestampMicroseconds }) ?? true {
                latest[sample.drone.storeKey] = sample
            }
        }
        return latest.values.sorted { $0.drone.storeKey < $1.drone.storeKey }
    }
}
