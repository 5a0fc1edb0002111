import CSQLite
import Telemetry

/// The chunk layout's writer (schema v3). A batch is committed as packed blocks appended to
/// `telemetry_recent`, one per group of `Limits.Store.recentGroupDrones` drone numbers: appends at
/// the end of a rowid table and of a small index, so the commit costs what its bytes cost, and a
/// one-drone query reads one small block per recent batch. Every `compactionSamples` samples (or
/// `compactionAge`), `compact` reads the recent blocks back, sorts them by (protocol, drone,
/// time) and writes one chunk per drone into `telemetry_chunk`, deleting the blocks it read in
/// the same transaction: a crash leaves either the blocks or the chunks, never both or neither.
/// The index then costs one entry per drone per compaction instead of one per sample. A
/// compaction runs in steps (one transaction each) that start no new drone group past
/// `compactionStepSamples` and never outgrow the arena, so the arena is sized to a step or a
/// batch, not to the backlog.
///
/// Blocks and chunks are written compressed (`SampleCodec`, format version 3; plain version 1 when
/// that would be smaller), and read back in either format.
///
/// Everything is allocated here, once: the arena and sort buffer for a batch or a compaction step, one
/// block buffer for the largest batch or chunk (also where compaction decodes a recent block),
/// and the codec's Zstandard workspaces and staging buffers.
final class ChunkWriter {
    let rowsMaximum: Int
    let compactionSamples: Int
    /// Samples after which a compaction step starts no new drone group
    /// (`StoreOptions.compactionStepSamples`).
    let compactionStepSamples: Int
    let chunkSamplesMax: Int
    let chunkSpanMax: UInt64
    let chunkSparseSamples: Int
    let chunkSparseSpanMax: UInt64
    let compactionAge: Duration

    private let connection: SQLiteConnection
    private let arena: SampleArena
    private let sorter: SortBuffer
    private let blockBuffer: UnsafeMutableRawBufferPointer
    private let encoder: SampleBlockEncoder?
    private let reader: SampleBlockReader
    private let insertRecent: SQLiteStatement
    private let selectRecent: SQLiteStatement
    private let deleteRecent: SQLiteStatement
    private let insertChunk: SQLiteStatement
    private let setSpillMark: SQLiteStatement
    private let setSpanMark: SQLiteStatement
    /// The longest span (end − start, µs) of any chunk in the file, as `store_meta` holds it
    /// (`chunk_span_max_us`): readers bound their index scans by it.
    private var spanMarked: UInt64

    /// Samples in `telemetry_recent` as far as this writer knows (its own writes, and what it found
    /// at open), and when the oldest of them was written.
    private(set) var recentSamples: Int
    private var recentSince: ContinuousClock.Instant?

    init(connection: SQLiteConnection, options: StoreOptions) throws(StoreError) {
        self.connection = connection
        rowsMaximum = options.batchRowsMaximum
        compactionSamples = options.compactionSamples
        compactionStepSamples = options.compactionStepSamples
        chunkSamplesMax = options.chunkSamplesMax
        chunkSpanMax = options.chunkSpanMaxMicroseconds
        chunkSparseSamples = options.chunkSparseSamples
        chunkSparseSpanMax = max(options.chunkSparseSpanMaxMicroseconds, options.chunkSpanMaxMicroseconds)
        compactionAge = options.compactionAge
        let arenaCapacity = Self.arenaSamples(options)
        arena = SampleArena(capacity: arenaCapacity)
        sorter = SortBuffer(capacity: arenaCapacity)
        let bufferBytes = SampleBlock.size(count: max(options.batchRowsMaximum, options.chunkSamplesMax))
        blockBuffer = .init(start: ZeroPages.allocate(UInt8.self, count: bufferBytes), count: bufferBytes)
        encoder = options.compressesBlocks ? SampleBlockEncoder() : nil
        reader = SampleBlockReader(buffer: blockBuffer)
        insertRecent = try connection.prepare(
            "INSERT INTO telemetry_recent (drone_group, first_us, last_us, samples, data) VALUES (?1, ?2, ?3, ?4, ?5)")
        // In drone-group order (the group index, whose entries end in the id): a step takes whole
        // groups, so each drone still gets one chunk per compaction from an arena far smaller
        // than the backlog.
        selectRecent = try connection.prepare("SELECT id, samples, data, drone_group FROM telemetry_recent ORDER BY drone_group, id")
        deleteRecent = try connection.prepare("DELETE FROM telemetry_recent WHERE drone_group < ?1 OR (drone_group = ?1 AND id <= ?2)")
        insertChunk = try connection.prepare(
            "INSERT INTO telemetry_chunk (protocol, drone, start_us, end_us, samples, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        setSpillMark = try connection.prepare(
            "INSERT INTO store_meta (name, value) VALUES ('spill_committed', ?1) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        setSpanMark = try connection.prepare(
            "INSERT INTO store_meta (name, value) VALUES ('\(ChunkSpanMark.name)', ?1) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        // A file written before the mark existed gets it from its chunks once (one scan of the index).
        if let marked = try ChunkSpanMark.read(connection) {
            spanMarked = marked
        } else {
            spanMarked = UInt64(clamping: try connection.integer("SELECT coalesce(max(end_us - start_us), 0) FROM telemetry_chunk") ?? 0)
            setSpanMark.bind(1, Int64(clamping: spanMarked))
            try setSpanMark.run()
        }
        recentSamples = Int(try connection.integer("SELECT coalesce(sum(samples), 0) FROM telemetry_recent") ?? 0)
        recentSince = recentSamples > 0 ? .now : nil
    }

    deinit { ZeroPages.deallocate(blockBuffer.baseAddress!, byteCount: blockBuffer.count) }

    /// Samples the arena holds: a whole batch (appended as one set of blocks) or one compaction
    /// step, whichever is more.
    static func arenaSamples(_ options: StoreOptions) -> Int { max(options.batchRowsMaximum, options.compactionStepSamples) }

    /// Appends `parts` as one block, inside the caller's transaction, and notes the spill
    /// sequence it came from (when it came from the spill file) in the same transaction.
    func append(_ parts: [StoreBatchPart], storedMicroseconds: UInt64, spillSequence: UInt64?) throws(StoreError) {
        arena.removeAll()
        for part in parts where part.columns.count > 0 {
            arena.append(part.columns, protocol: part.protocol, storedMicroseconds: storedMicroseconds)
        }
        if let spillSequence { try markSpill(spillSequence) }
        let count = arena.count
        guard count > 0 else { return }
        sortArena()
        // One block per group of drone numbers, in key order: a group's rows are consecutive.
        let entries = UnsafeBufferPointer(sorter.entries)
        var start = 0
        while start < count {
            let group = SampleBlock.group(ofKey: entries[start].high)
            var end = start + 1
            var first = entries[start].low, last = entries[start].low
            while end < count && SampleBlock.group(ofKey: entries[end].high) == group {
                first = min(first, entries[end].low)
                last = max(last, entries[end].low)
                end += 1
            }
            let bytes = pack(entries, start..<end, level: SampleCodec.recentLevel)
            insertRecent.bind(1, group)
            insertRecent.bind(2, Int64(bitPattern: first))
            insertRecent.bind(3, Int64(bitPattern: last))
            insertRecent.bind(4, Int64(end - start))
            insertRecent.bindBlob(5, UnsafeRawBufferPointer(rebasing: blockBuffer[0..<bytes]))
            try insertRecent.run()
            start = end
        }
    }

    func markSpill(_ sequence: UInt64) throws(StoreError) {
        setSpillMark.bind(1, Int64(bitPattern: sequence))
        try setSpillMark.run()
    }

    /// After a successful commit of `samples` appended samples.
    func noteCommitted(samples: Int) {
        if recentSamples == 0 { recentSince = .now }
        recentSamples += samples
    }

    var isCompactionDue: Bool {
        guard recentSamples > 0 else { return false }
        if recentSamples >= compactionSamples { return true }
        if let recentSince, ContinuousClock.now - recentSince >= compactionAge { return true }
        return false
    }

    /// Sorts `arena[0..<count]` by (protocol, drone, time), stable.
    private func sortArena() {
        let count = arena.count
        var isSorted = true
        var previous = SortEntry(high: 0, low: 0, part: 0, row: 0)
        for row in 0..<count {
            let entry = SortEntry(
                high: DroneIdentity.storeKey(protocol: arena.protocols[row], number: arena.drones[row]), low: arena.times[row],
                part: 0, row: UInt32(truncatingIfNeeded: row))
            if row > 0 && SortEntry.precedes(entry, previous) { isSorted = false }
            sorter.entries[row] = entry
            previous = entry
        }
        if !isSorted { sorter.sort(count: count) }
    }

    /// One compaction step inside the caller's transaction: reads recent blocks in (drone group,
    /// id) order while they fit the arena, writes their samples as per-drone chunks and deletes
    /// the blocks read (every block of the groups before the last one read, and the last group's
    /// up to the last id read). Returns the samples moved and whether recent blocks remain
    /// (another step is needed).
    func compactStep() throws(StoreError) -> (samples: Int, chunks: Int, blocks: Int, more: Bool) {
        arena.removeAll()
        var last: (group: Int64, id: Int64)?
        var blocks = 0
        var more = false
        selectRecent.reset()
        defer { selectRecent.reset() }
        while try selectRecent.step() {
            let samples = Int(selectRecent.int64(1))
            // A step starts no new drone group past `compactionStepSamples` but finishes the group
            // it is in (splitting a group gives its drones two chunks for one compaction: 3 %
            // more bytes a sample when steps split groups), and never goes past the arena.
            let startsGroup = last.map { $0.group != selectRecent.int64(3) } ?? false
            if samples > arena.remainingCapacity || (startsGroup && arena.count + samples > compactionStepSamples) {
                if last == nil {
                    // A block larger than this writer's arena (written with larger limits): it
                    // cannot be compacted here and stays readable where it is.
                    throw .sqlite(
                        code: SQLITE_TOOBIG, message: "a recent block of \(samples) samples exceeds the compaction arena",
                        context: "compact")
                }
                more = true
                break
            }
            let id = selectRecent.int64(0)
            last = (selectRecent.int64(3), id)
            blocks += 1
            // A block this version cannot read is dropped from the recent table only if it is
            // valid; otherwise compaction refuses rather than delete data it did not move.
            // A compressed block is decoded into the block buffer, free until the chunks are written.
            guard let block = reader.view(selectRecent.blob(2)), block.count == samples else {
                throw .sqlite(code: SQLITE_CORRUPT, message: "recent block \(id) is not a valid sample block", context: "compact")
            }
            arena.append(block)
        }
        guard let last else { return (0, 0, 0, false) }
        let count = arena.count
        sortArena()
        var chunks = 0
        var start = 0
        let entries = UnsafeBufferPointer(sorter.entries)
        while start < count {
            let key = entries[start].high
            let first = entries[start].low
            var end = start + 1
            // Rows of a drone are in time order: a chunk ends at the sample count or the span
            // bound, which a chunk of a few samples may pass up to the sparse bound.
            while end < count && entries[end].high == key && end - start < chunkSamplesMax {
                let span = entries[end].low &- first
                guard span <= chunkSpanMax || (end - start < chunkSparseSamples && span <= chunkSparseSpanMax) else { break }
                end += 1
            }
            try writeChunk(entries, start..<end)
            chunks += 1
            start = end
        }
        deleteRecent.bind(1, last.group)
        deleteRecent.bind(2, last.id)
        try deleteRecent.run()
        return (count, chunks, blocks, more)
    }

    private func writeChunk(_ entries: UnsafeBufferPointer<SortEntry>, _ range: Range<Int>) throws(StoreError) {
        let first = entries[range.lowerBound]
        var endTime = first.low
        for index in range { endTime = max(endTime, entries[index].low) }
        let bytes = pack(entries, range, level: SampleCodec.chunkLevel)
        if endTime &- first.low > spanMarked && endTime >= first.low {
            // In the chunk's transaction: a reader never sees a chunk longer than the mark.
            setSpanMark.bind(1, Int64(clamping: endTime - first.low))
            try setSpanMark.run()
            spanMarked = endTime - first.low
        }
        insertChunk.bind(1, Int64(first.high >> 32))
        insertChunk.bind(2, Int64(first.high & 0xFFFF_FFFF))
        insertChunk.bind(3, Int64(bitPattern: first.low))
        insertChunk.bind(4, Int64(bitPattern: endTime))
        insertChunk.bind(5, Int64(range.count))
        insertChunk.bindBlob(6, UnsafeRawBufferPointer(rebasing: blockBuffer[0..<bytes]))
        try insertChunk.run()
    }

    /// Packs arena rows `entries[range]` into the block buffer, compressed at `level` when blocks
    /// are compressed; returns the bytes written.
    private func pack(_ entries: UnsafeBufferPointer<SortEntry>, _ range: Range<Int>, level: Int32) -> Int {
        guard let encoder else { return arena.encode(rows: entries, range, into: blockBuffer) }
        return arena.encodeCompressed(rows: entries, range, into: blockBuffer, encoder: encoder, level: level)
    }

    /// After a compaction committed.
    func noteCompacted(samples: Int, recentRemain: Bool) {
        recentSamples = recentRemain ? max(recentSamples - samples, 0) : 0
        recentSince = recentSamples > 0 ? .now : nil
    }
}
