@testable import TelemetryStore
import Telemetry
import TelemetryWire
import Testing

/// The chunk writer directly, under its store: each commit appends recent blocks and counts their
/// samples; compaction is due by size, moves every recent sample into chunks in one step when
/// they fit, leaves none behind, and reads back every sample, bit for bit, in time order.
@Suite struct ChunkWriterTests {
    @Test func appendsCountsCompactsAndReadsBack() throws {
        try withTemporaryDatabase { path in try appendsCountsCompactsAndReadsBack(path: path) }
    }

    func appendsCountsCompactsAndReadsBack(path: String) throws {
        var options = StoreOptions()
        options.compactionSamples = 2_000
        let store = try TelemetryStore(path: path, options: options)
        defer { store.close() }
        let writer = try #require(store.state?.chunkWriter, "a new database uses the chunk layout")
        #expect(writer.recentSamples == 0 && !writer.isCompactionDue)
        let columns = SampleColumns(capacity: 500)
        var written: [UInt32: [UInt64]] = [:]
        for batch in 0..<5 {
            columns.removeAll()
            for index in 0..<500 {
                let drone = UInt32(index % 25) + 1
                let time = 1_767_225_600_000_000 + UInt64(batch * 500 + index) * 1_000
                columns.append(
                    WireSample(latitudeE7: Int32(index), longitudeE7: Int32(batch), altitudeMM: 1, status: .gpsFix),
                    droneID: drone, sequence: UInt32(batch * 500 + index), timestampMicroseconds: time)
                written[drone, default: []].append(time)
            }
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            #expect(writer.recentSamples == (batch + 1) * 500)
        }
        #expect(writer.isCompactionDue, "2,500 recent samples with compaction at 2,000")
        let result = try #require(try store.compactIfDue())
        #expect(result.samples == 2_500)
        #expect(writer.recentSamples == 0 && !writer.isCompactionDue)
        #expect(try store.rowCount() == 2_500)
        for (drone, times) in written {
            var read: [UInt64] = []
            try store.readSamples(drone: DroneIdentity(protocol: .skygate, number: drone)) { page in
                read.append(contentsOf: page.map(\.timestampMicroseconds))
                return true
            }
            #expect(read == times, "drone \(drone)")
        }
    }

    /// A compaction splits a drone's run at `chunkSpanMaxMicroseconds` as well as at the sample
    /// count, and the span mark in `store_meta` is the longest chunk's span, kept in the chunk's
    /// transaction; every sample still reads back in order.
    @Test func chunksEndAtTheSpanBoundAndTheMarkFollowsThem() throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.chunkSpanMaxMicroseconds = 45_000  // 46 samples 1 ms apart per drone and chunk
            let store = try TelemetryStore(path: path, options: options)
            let columns = SampleColumns(capacity: 1_000)
            for index in 0..<1_000 {
                columns.append(
                    WireSample(latitudeE7: Int32(index), longitudeE7: 1, altitudeMM: 1, status: .gpsFix),
                    droneID: UInt32(index % 4) + 1, sequence: UInt32(index), timestampMicroseconds: baseTimeMicroseconds + UInt64(index / 4) * 1_000)
            }
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            #expect(try rawInteger(path, "SELECT value FROM store_meta WHERE name = 'chunk_span_max_us'") == 0)
            _ = try store.compactAll()
            store.close()
            // 250 samples a drone, 1 ms apart: chunks of 46 samples (45 ms), the last of 200 % 46.
            #expect(try rawInteger(path, "SELECT max(end_us - start_us) FROM telemetry_chunk") == 45_000)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 4 * 6)
            #expect(try rawInteger(path, "SELECT value FROM store_meta WHERE name = 'chunk_span_max_us'") == 45_000)
            #expect(try rawInteger(path, "SELECT sum(samples) FROM telemetry_chunk") == 1_000)
            let reopened = try TelemetryStore(path: path)
            defer { reopened.close() }
            var times: [UInt64] = []
            try reopened.readSamples(drone: DroneIdentity(protocol: .skygate, number: 3)) { page in
                times.append(contentsOf: page.map(\.timestampMicroseconds))
                return true
            }
            #expect(times == (0..<250).map { baseTimeMicroseconds + UInt64($0) * 1_000 })
        }
    }

    /// A chunk of a few samples may pass the span bound, up to the sparse bound, and no chunk
    /// passes the span bound with more than `chunkSparseSamples` samples; a drone that turns dense
    /// inside such a chunk closes it there. The mark is the sparse chunks' span, and every drone
    /// still reads back whole and in order.
    @Test func chunksOfAFewSamplesMayPassTheSpanBoundUpToTheSparseBound() throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.chunkSpanMaxMicroseconds = 45_000
            options.chunkSparseSamples = 8
            options.chunkSparseSpanMaxMicroseconds = 200_000
            let store = try TelemetryStore(path: path, options: options)
            // Drone 1: 250 samples 1 ms apart (dense). Drone 2: 100 samples 10 ms apart. Drone 3:
            // 20 samples 50 ms apart. Drone 4: four samples 30 ms apart, then 100 1 ms apart.
            var times: [UInt32: [UInt64]] = [
                1: (0..<250).map { UInt64($0) * 1_000 }, 2: (0..<100).map { UInt64($0) * 10_000 },
                3: (0..<20).map { UInt64($0) * 50_000 },
                4: (0..<4).map { UInt64($0) * 30_000 } + (0..<100).map { 91_000 + UInt64($0) * 1_000 },
            ]
            let columns = SampleColumns(capacity: 1_000)
            for (drone, offsets) in times.sorted(by: { $0.key < $1.key }) {
                for (index, offset) in offsets.enumerated() {
                    columns.append(
                        WireSample(latitudeE7: Int32(index), longitudeE7: Int32(drone), altitudeMM: 1, status: .gpsFix),
                        droneID: drone, sequence: UInt32(index), timestampMicroseconds: baseTimeMicroseconds + offset)
                }
            }
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            _ = try store.compactAll()
            store.close()
            func chunks(_ drone: Int) throws -> Int64 { try rawInteger(path, "SELECT count(*) FROM telemetry_chunk WHERE drone = \(drone)") }
            func first(_ drone: Int, _ column: String) throws -> Int64 {
                try rawInteger(path, "SELECT \(column) FROM telemetry_chunk WHERE drone = \(drone) ORDER BY start_us LIMIT 1")
            }
            // Dense: 46 samples (45 ms) a chunk, as without the rule: 5 of 46 and one of 20.
            #expect(try chunks(1) == 6)
            #expect(try first(1, "samples") == 46)
            // 10 ms apart: 8 samples (70 ms) a chunk instead of 5 (40 ms): 12 of 8 and one of 4.
            #expect(try chunks(2) == 13)
            #expect(try first(2, "samples") == 8 && first(2, "end_us - start_us") == 70_000)
            // 50 ms apart: the sparse bound closes a chunk at 5 samples (200 ms).
            #expect(try chunks(3) == 4)
            #expect(try first(3, "samples") == 5 && first(3, "end_us - start_us") == 200_000)
            // The drone turns dense inside its first chunk: it closes at 8 samples (94 ms), then
            // 46-sample chunks: 8 + 46 + 46 + 4.
            #expect(try chunks(4) == 4)
            #expect(try first(4, "samples") == 8 && first(4, "end_us - start_us") == 94_000)
            #expect(
                try rawInteger(path, "SELECT count(*) FROM telemetry_chunk WHERE end_us - start_us > 45000 AND (samples > 8 OR end_us - start_us > 200000)") == 0)
            #expect(try rawInteger(path, "SELECT value FROM store_meta WHERE name = 'chunk_span_max_us'") == 200_000)
            let reopened = try TelemetryStore(path: path)
            defer { reopened.close() }
            for (drone, offsets) in times.sorted(by: { $0.key < $1.key }) {
                var read: [UInt64] = []
                try reopened.readSamples(drone: DroneIdentity(protocol: .skygate, number: drone)) { page in
                    read.append(contentsOf: page.map(\.timestampMicroseconds))
                    return true
                }
                #expect(read == offsets.map { baseTimeMicroseconds + $0 }, "drone \(drone)")
                times[drone] = nil
            }
            #expect(times.isEmpty)
        }
    }

    /// A backlog far larger than the arena is compacted in steps of whole drone groups: several
    /// transactions, each drone still in one chunk (its group's blocks all read in one step),
    /// nothing left recent, every sample read back in order.
    /// The step bounds a step even where the arena (sized to the larger of a batch and a step)
    /// would hold more: with 2,000-row batches and 700-sample steps, 640 samples (ten 64-sample
    /// blocks) a step.
    @Test(arguments: [(rows: 640, step: 1_000, transactions: 4), (rows: 2_000, step: 700, transactions: 5)])
    func compactionStepsTakeWholeDroneGroups(rows: Int, step: Int, transactions: Int) throws {
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.batchRowsMaximum = rows
            options.compactionStepSamples = step  // a group here is 32 drones x 5 batches x 2 = 320 samples
            options.compactionSamples = 1_000_000
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            let columns = SampleColumns(capacity: 640)
            for batch in 0..<5 {
                columns.removeAll()
                for index in 0..<640 {
                    let drone = UInt32(index % 320)
                    columns.append(
                        WireSample(latitudeE7: Int32(index), longitudeE7: Int32(batch), altitudeMM: 1, status: .gpsFix),
                        droneID: drone, sequence: UInt32(batch * 2 + index / 320),
                        timestampMicroseconds: baseTimeMicroseconds + UInt64(batch * 2 + index / 320) * 1_000)
                }
                _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            }
            let result = try store.compactAll()
            // 10 groups of 320 samples in 64-sample blocks: three whole groups (960) a step at
            // 1,000, two (640) at 700.
            #expect(result.samples == 3_200 && result.transactions == transactions && result.blocks == 50)
            #expect(result.chunks == 320)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == 0)
            #expect(try rawInteger(path, "SELECT count(DISTINCT drone) FROM telemetry_chunk") == 320)
            for drone: UInt32 in [0, 31, 32, 200, 319] {
                var sequences: [UInt32] = []
                try store.readSamples(drone: DroneIdentity(protocol: .skygate, number: drone)) { page in
                    sequences.append(contentsOf: page.map(\.sequence))
                    return true
                }
                #expect(sequences == Array(0..<10), "drone \(drone)")
            }
        }
    }
}
