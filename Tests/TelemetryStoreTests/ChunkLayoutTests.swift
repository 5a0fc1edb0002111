@_spi(Benchmarking) import TelemetryStore
import Telemetry
import TelemetryWire
import Testing

/// The chunk layout (schema v3): recent blocks, compaction into per-drone chunks, reads that merge
/// both in time order, the latest sample per drone, migration of v2 row files, the spill mark.
@Suite struct ChunkLayoutTests {
    /// A v2 (row layout) file written by the store itself, as Skygate wrote them before v3.
    func writeRowLayoutFile(_ path: String, drones: [UInt32], perDrone: Int) throws -> [StoredSample] {
        var options = StoreOptions()
        options.layout = .rows
        let store = try TelemetryStore(path: path, options: options)
        let columns = SampleColumns(capacity: 100_000)
        fillInterleaved(columns, drones: drones, perDrone: perDrone)
        _ = try store.write(columns, protocol: .skygate)
        #expect(try store.storedSchemaVersion() == 2)
        let rows = try readAll(store)
        let latest = try store.latestSamples()
        #expect(latest.count == drones.count)
        store.close()
        return rows
    }

    @Test func migratesRowLayoutFileIntoChunks() throws {
        // 3 drones, one with more samples than a chunk holds: every row moves into chunks of at
        // most chunkSamplesMax, reads back identical (stored_us included), and the row table goes.
        try withTemporaryDatabase { path in
            let perDrone = Limits.Store.chunkSamplesMax + 100
            let before = try writeRowLayoutFile(path, drones: [5, 9, 2], perDrone: perDrone)
            #expect(before.count == 3 * perDrone)
            let store = try TelemetryStore(path: path)
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            let after = try readAll(store, pageSize: 1_000)
            #expect(after == before)
            #expect(try store.rowCount() == 3 * perDrone)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 6)
            #expect(try rawInteger(path, "SELECT max(samples) FROM telemetry_chunk") == Int64(Limits.Store.chunkSamplesMax))
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'telemetry'") == 0)
            #expect(try store.integrityCheck() == "ok")
            store.close()
            // The row layout refuses the migrated file rather than misread it.
            var rows = StoreOptions()
            rows.layout = .rows
            #expect(throws: StoreError.self) { _ = try TelemetryStore(path: path, options: rows) }
        }
    }

    @Test func readsMergeChunksAndRecentBlocksInTimeOrder() throws {
        // A drone's samples arrive out of order across batches (late data, a replay of an older
        // stretch), some compacted, some still recent: a read returns each drone's samples once,
        // in time order, whatever the mix and page size; a range cuts exactly.
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.chunkSamplesMax = 7  // several chunks per drone per compaction
            let store = try TelemetryStore(path: path, options: options)
            let columns = SampleColumns(capacity: 1_000)
            let drones: [UInt32] = [3, 1, 2]
            for (step, first) in [40, 0, 20, 60, 10, 80].enumerated() {
                columns.removeAll()
                fillInterleaved(columns, drones: drones, perDrone: 10, firstIndex: first)
                _ = try store.write(columns, protocol: .skygate)
                if step == 1 || step == 3 { try store.compactAll() }
            }
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == 2)
            func check(_ rows: [StoredSample], indexes: [Int]) {
                var expected: [UInt32] = []
                for drone in drones.sorted() { expected += indexes.map { _ in drone } }
                #expect(rows.map(\.drone.number) == expected)
                for drone in drones {
                    let mine = rows.filter { $0.drone.number == drone }
                    #expect(mine.map(\.sequence) == indexes.map(UInt32.init))
                    #expect(mine.allSatisfy { $0.sample == makeSample(drone: drone, index: Int($0.sequence)) })
                }
            }
            let all = [Int](0..<30) + [Int](40..<50) + [Int](60..<70) + [Int](80..<90)
            for pageSize in [1, 5, 64, 4_096] { check(try readAll(store, pageSize: pageSize), indexes: all) }
            let from = baseTimeMicroseconds + 15 * 20_000
            let until = baseTimeMicroseconds + 45 * 20_000
            let ranged = try readAll(store, range: from..<until)
            // Drone d's sample i is at base + i × 20 ms + d µs: the range holds its samples 15 to 29
            // and 40 to 44 (sample 15 is d µs past `from`; sample 45 is d µs past `until`).
            check(ranged, indexes: Array(15..<30) + Array(40..<45))
            let one = try readAll(store, drone: DroneIdentity(protocol: .skygate, number: 2), range: from..<until)
            #expect(one.map(\.sequence) == (Array(15..<30) + Array(40..<45)).map(UInt32.init))
            let summaries = try store.droneSummaries()
            #expect(summaries.map(\.rowCount) == [60, 60, 60])
            #expect(summaries[0].firstTimestampMicroseconds == baseTimeMicroseconds + 1)
            #expect(summaries[0].lastTimestampMicroseconds == baseTimeMicroseconds + 89 * 20_000 + 1)
            // Compacting the rest changes nothing a reader sees.
            try store.compactAll()
            check(try readAll(store, pageSize: 3), indexes: all)
            #expect(try store.integrityCheck() == "ok")
        }
    }

    @Test func aChunkThatStartsBeforeEarlierEndingOnesStillReadsInTimeOrder() throws {
        // A drone's chunks are read in index order, by end; a chunk ending later may start
        // earlier (late data compacted after a long chunk). Samples are handed out once no chunk
        // still to come can hold an earlier one (a later chunk starts at most the file's longest
        // span before its end), merged with the recent samples: drone 1 has chunk A 0 to 50 s,
        // then late data in B (12 to 16 s) and C (32 to 36 s), which end first, and D, E long
        // after; 25 and 45 s are still recent.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let columns = SampleColumns(capacity: 64)
            func write(_ seconds: [Int], drone: UInt32 = 1, compact: Bool = true) throws {
                columns.removeAll()
                for second in seconds {
                    columns.append(makeSample(drone: drone, index: second), droneID: drone, sequence: UInt32(second),
                                   timestampMicroseconds: baseTimeMicroseconds + UInt64(second) * 1_000_000)
                }
                _ = try store.write(columns, protocol: .skygate)
                if compact { try store.compactAll() }
            }
            try write([0, 10, 20, 30, 40, 50])
            try write([5, 15], drone: 2)
            try write([12, 14, 16])
            try write([32, 34, 36])
            try write([100, 110, 120])
            try write([200, 205])
            try write([25, 45], compact: false)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk WHERE drone = 1") == 5)
            #expect(try rawInteger(path, "SELECT value FROM store_meta WHERE name = 'chunk_span_max_us'") == 50_000_000)
            let one = DroneIdentity(protocol: .skygate, number: 1)
            let all = [0, 10, 12, 14, 16, 20, 25, 30, 32, 34, 36, 40, 45, 50, 100, 110, 120, 200, 205]
            for pageSize in [1, 3, 4_096] {
                let read = try readAll(store, drone: one, pageSize: pageSize)
                #expect(read.map(\.sequence) == all.map(UInt32.init), "page size \(pageSize)")
                #expect(read.allSatisfy { $0.sample == makeSample(drone: 1, index: Int($0.sequence)) })
                // Every drone: drone 1's samples, then drone 2's.
                #expect(try readAll(store, pageSize: pageSize).map(\.sequence) == (all + [5, 15]).map(UInt32.init))
            }
            let from = baseTimeMicroseconds + 13_000_000, until = baseTimeMicroseconds + 110_000_000
            #expect(try readAll(store, drone: one, range: from..<until).map(\.sequence) == [14, 16, 20, 25, 30, 32, 34, 36, 40, 45, 50, 100])
            // A reader that stops early gets a prefix.
            var first: [UInt32] = []
            _ = try store.readSamples(drone: one, pageSize: 4) { page in first += page.map(\.sequence); return false }
            #expect(first == [0, 10, 12, 14])
            // A query run from inside another's page callback (the same statement texts, which
            // the connection keeps prepared) gets statements of its own: both read everything.
            var outer: [UInt32] = [], inner: [[UInt32]?] = []
            _ = try store.readSamples(drone: one, pageSize: 5) { page in
                outer += page.map(\.sequence)
                inner.append((try? readAll(store, drone: one))?.map(\.sequence))
                return true
            }
            #expect(outer == all.map(UInt32.init))
            #expect(inner.count == 4 && inner.allSatisfy { $0 == all.map(UInt32.init) })
        }
    }

    @Test func latestPerDroneMatchesTheRowLayout() throws {
        // The same batches into both layouts: latest per drone is the same sample, whether it sits
        // in a chunk or in a recent block, and a later arrival with the same time wins.
        let columns = SampleColumns(capacity: 1_000)
        let expected = try latestPerDroneInBothLayouts { writeBoth, chunks in
            for (step, first) in [0, 30, 10].enumerated() {
                columns.removeAll()
                fillInterleaved(columns, drones: step == 2 ? [1, 2, 3, 4] : [1, 2, 3], perDrone: 10, firstIndex: first)
                try writeBoth(columns)
                if step == 0 { try chunks.compactAll() }
            }
        }
        #expect(expected.map(\.drone.number) == [1, 2, 3, 4])
        #expect(expected.map(\.sequence) == [39, 39, 39, 19])
    }

    @Test func latestPerDroneReadsAChunkOnlyWhenItEndsAfterTheRecentSamples() throws {
        // Drone 1: a late, older sample in a recent block; its chunk still holds the latest.
        // Drone 2: the same time in its chunk and a recent block; the later arrival wins.
        // Drone 3: a newer recent sample; its chunk is not read (and would lose).
        let columns = SampleColumns(capacity: 8)
        let expected = try latestPerDroneInBothLayouts { writeBoth, chunks in
            func write(_ samples: [(drone: UInt32, sequence: UInt32, time: UInt64)]) throws {
                columns.removeAll()
                for (drone, sequence, time) in samples {
                    columns.append(
                        makeSample(drone: drone, index: Int(sequence)),
                        header: FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: baseTimeMicroseconds + time))
                }
                try writeBoth(columns)
            }
            try write([(1, 100, 300), (2, 200, 500), (3, 300, 100)])
            try chunks.compactAll()
            try write([(1, 101, 200), (2, 201, 500), (3, 301, 400)])
        }
        #expect(expected.map(\.sequence) == [100, 201, 301])
    }

    @Test func compactionIsAllOrNothing() throws {
        // A chunk insert that fails deep in a compaction (a trigger standing in for a full disk)
        // leaves the recent blocks where they were: every sample still reads back once, and the
        // next compaction moves them all.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let columns = SampleColumns(capacity: 1_000)
            fillInterleaved(columns, drones: [1, 2, 666, 3], perDrone: 20)
            _ = try store.write(columns, protocol: .skygate)
            let before = try readAll(store)
            store.close()
            try rawSQL(path, """
                CREATE TRIGGER fail_chunk BEFORE INSERT ON telemetry_chunk WHEN NEW.drone = 666
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
            let failing = try TelemetryStore(path: path)
            #expect(throws: StoreError.self) { try failing.compactAll() }
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_chunk") == 0)
            #expect(try rawInteger(path, "SELECT count(*) FROM telemetry_recent") == 2)  // groups {1, 2, 3} and {666}
            #expect(try readAll(failing) == before)
            failing.close()
            try rawSQL(path, "DROP TRIGGER fail_chunk")
            let store2 = try TelemetryStore(path: path)
            #expect(try store2.compactAll().samples == 80)
            #expect(try readAll(store2) == before)
            store2.close()
        }
    }

    @Test func compactionIsDueBySizeAndStopsAtTheArena() throws {
        // compactIfDue does nothing below the threshold and compacts at it; recent blocks written
        // by another writer with more than this writer's arena are compacted in several steps.
        try withTemporaryDatabase { path in
            var big = StoreOptions()
            big.compactionSamples = 1_000_000
            let writer = try TelemetryStore(path: path, options: big)
            let columns = SampleColumns(capacity: 1_000)
            for step in 0..<6 {
                columns.removeAll()
                fillInterleaved(columns, drones: [1, 2], perDrone: 100, firstIndex: step * 100)
                _ = try writer.write(columns, protocol: .mavlink)
            }
            #expect(try writer.compactIfDue() == nil)
            writer.close()
            var small = StoreOptions()
            small.compactionSamples = 500
            small.compactionStepSamples = 700
            small.batchRowsMaximum = 200
            let compactor = try TelemetryStore(path: path, options: small)
            #expect(compactor.isCompactionDue)  // 1,200 recent samples found at open
            let result = try #require(try compactor.compactIfDue())
            #expect(result.samples == 1_200 && result.blocks == 6)
            #expect(result.transactions == 2)  // the arena holds 700: three blocks per step
            #expect(!compactor.isCompactionDue)
            #expect(try compactor.rowCount() == 1_200)
            let rows = try readAll(compactor, drone: DroneIdentity(protocol: .mavlink, number: 2))
            #expect(rows.map(\.sequence) == (0..<600).map(UInt32.init))
            compactor.close()
        }
    }

    @Test func spillMarkCommitsWithTheBatch() throws {
        // The spill record number is stored in the batch's own transaction; a failed batch leaves
        // the mark where it was.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            #expect(try store.spillCommittedSequence() == 0)
            let columns = SampleColumns(capacity: 300)
            fillInterleaved(columns, drones: [1], perDrone: 10)
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: 7)
            #expect(try store.spillCommittedSequence() == 7)
            store.close()
            try rawSQL(path, """
                CREATE TRIGGER fail_recent BEFORE INSERT ON telemetry_recent
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
            let failing = try TelemetryStore(path: path)
            #expect(throws: StoreError.self) {
                _ = try failing.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: 8)
            }
            #expect(try failing.spillCommittedSequence() == 7)
            try failing.markSpillCommitted(9)
            #expect(try failing.spillCommittedSequence() == 9)
            failing.close()
        }
    }

    @Test func sampleBlockRoundTripsBothProtocols() throws {
        // The spill file's packing: every field of both protocols back exactly, in order; a block
        // with a damaged header or length is refused.
        let skygate = SampleColumns(capacity: 100)
        let mavlink = SampleColumns(capacity: 100)
        fillInterleaved(skygate, drones: [4_000_000_000, 1], perDrone: 20)
        fillInterleaved(mavlink, drones: [255], perDrone: 7)
        let parts = [StoreBatchPart(protocol: .skygate, columns: skygate), StoreBatchPart(protocol: .mavlink, columns: mavlink)]
        // Streamed through a staging buffer smaller than one column, as the spill file writes it.
        var bytes: [UInt8] = []
        var pieces: [Int] = []
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 8)
        defer { staging.deallocate() }
        let written = SampleBlock.encode(parts, through: staging) { piece in
            bytes.append(contentsOf: piece)
            pieces.append(piece.count)
        }
        #expect(written == 8 + 47 * 53)
        #expect(bytes.count == written)
        // Every piece but the last fills the buffer but for less than one value.
        #expect(pieces.dropLast().allSatisfy { $0 > 100 - 8 && $0 <= 100 })
        #expect(pieces.count > 1 && pieces.last! > 0)
        let backSkygate = SampleColumns(capacity: 100)
        let backMavlink = SampleColumns(capacity: 100)
        #expect(bytes.withUnsafeBytes { SampleBlock.decode($0, skygate: backSkygate, mavlink: backMavlink) })
        #expect(backSkygate.count == 40 && backMavlink.count == 7)
        #expect(firstDifferingRow(backSkygate, skygate) == nil)
        #expect(firstDifferingRow(backMavlink, mavlink) == nil)
        #expect(firstDifferingRow(backMavlink, skygate) == 0, "another protocol's rows differ from the first")
        var damaged = bytes
        damaged[0] = 2
        #expect(!damaged.withUnsafeBytes { SampleBlock.decode($0, skygate: backSkygate, mavlink: backMavlink) })
        #expect(!bytes.dropLast().withUnsafeBytes { SampleBlock.decode($0, skygate: backSkygate, mavlink: backMavlink) })
    }

    @Test(arguments: [1, 2, 5, 46, 47, 200])
    func sampleBlockDecodesAWindowOfRowsAtATime(windowRows: Int) throws {
        // The spill file reads a block back through a buffer of a few rows: the same rows come
        // back as from the whole block, whatever the window; a failed read or a wrong length fails.
        let skygate = SampleColumns(capacity: 100)
        let mavlink = SampleColumns(capacity: 100)
        fillInterleaved(skygate, drones: [7, 9], perDrone: 20)
        fillInterleaved(mavlink, drones: [1], perDrone: 7)
        let parts = [StoreBatchPart(protocol: .mavlink, columns: mavlink), StoreBatchPart(protocol: .skygate, columns: skygate)]
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: SampleBlock.size(count: windowRows), alignment: 8)
        defer { staging.deallocate() }
        var bytes: [UInt8] = []
        _ = SampleBlock.encode(parts, through: staging) { bytes.append(contentsOf: $0) }
        var reads = 0
        func read(_ offset: Int, _ into: UnsafeMutableRawBufferPointer) -> Bool {
            reads += 1
            guard offset >= 0, offset + into.count <= bytes.count else { return false }
            into.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.withUnsafeBytes { $0 }[offset..<(offset + into.count)]))
            return true
        }
        let backSkygate = SampleColumns(capacity: 100)
        let backMavlink = SampleColumns(capacity: 100)
        #expect(SampleBlock.decode(blockBytes: bytes.count, staging: staging, read: read, skygate: backSkygate, mavlink: backMavlink))
        #expect(reads == 1 + 16 * ((47 + windowRows - 1) / windowRows))
        #expect(backSkygate.count == 40 && backMavlink.count == 7)
        #expect(firstDifferingRow(backSkygate, skygate) == nil)
        #expect(firstDifferingRow(backMavlink, mavlink) == nil)
        backSkygate.removeAll(); backMavlink.removeAll()
        #expect(!SampleBlock.decode(blockBytes: bytes.count - 1, staging: staging, read: read, skygate: backSkygate, mavlink: backMavlink))
        var failAfter = 5
        #expect(!SampleBlock.decode(blockBytes: bytes.count, staging: staging, read: { offset, into in
            failAfter -= 1
            return failAfter > 0 && read(offset, into)
        }, skygate: backSkygate, mavlink: backMavlink))
    }
}

/// The same batches into a row-layout store and a chunk-layout store: `body` writes them through
/// `writeBoth` and compacts the chunk store where it likes. Latest per drone must then be the same
/// in both (store times aside: the two write at different moments), and again once the chunk store
/// has compacted the rest. Returns the row layout's answer for the caller's own expectations.
private func latestPerDroneInBothLayouts(
    _ body: (_ writeBoth: (SampleColumns) throws -> Void, _ chunks: TelemetryStore) throws -> Void
) throws -> [StoredSample] {
    func withoutStoredTime(_ samples: [StoredSample]) -> [StoredSample] {
        samples.map { var s = $0; s.storedMicroseconds = nil; return s }
    }
    return try withTemporaryDatabase { chunkPath in
        try withTemporaryDatabase { rowPath in
            var rowOptions = StoreOptions()
            rowOptions.layout = .rows
            let rows = try TelemetryStore(path: rowPath, options: rowOptions)
            let chunks = try TelemetryStore(path: chunkPath)
            defer {
                rows.close()
                chunks.close()
            }
            try body({ columns in
                _ = try rows.write(columns, protocol: .skygate)
                _ = try chunks.write(columns, protocol: .skygate)
            }, chunks)
            let expected = try rows.latestSamples()
            #expect(withoutStoredTime(try chunks.latestSamples()) == withoutStoredTime(expected))
            try chunks.compactAll()
            #expect(withoutStoredTime(try chunks.latestSamples()) == withoutStoredTime(expected))
            return expected
        }
    }
}
