import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// Flight review's reads on SQLite (TelemetryStore+Review.swift) against the reference answers
/// every store gives through `readSamples` (StoreReview.swift): the fleet at many instants and
/// windows, the stored time range and the activity per bucket, over a store whose drones' samples
/// sit in compacted chunks (several per compaction, overlapping where late data came), in recent
/// blocks, and in both.
@Suite struct ReviewQueryTests {
    /// Three drones (and one MAVLink system), written in six out-of-order batches of 10 frames
    /// each (20 ms apart), compacted twice in between so chunks overlap and two batches stay recent.
    func makeMixedStore(_ path: String) throws -> TelemetryStore {
        var options = StoreOptions()
        options.chunkSamplesMax = 7
        let store = try TelemetryStore(path: path, options: options)
        let columns = SampleColumns(capacity: 1_000)
        let mavlink = SampleColumns(capacity: 1_000)
        for (step, first) in [40, 0, 20, 60, 10, 80].enumerated() {
            columns.removeAll()
            fillInterleaved(columns, drones: [3, 1, 2], perDrone: 10, firstIndex: first)
            mavlink.removeAll()
            fillInterleaved(mavlink, drones: [7], perDrone: 5, firstIndex: first)
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns), StoreBatchPart(protocol: .mavlink, columns: mavlink)])
            if step == 1 || step == 3 { try store.compactAll() }
        }
        return store
    }

    @Test func fleetAtAnInstantEqualsTheReferenceEverywhere() throws {
        // Every instant from before the first sample to after the last, in steps that land on,
        // between and beside sample times, with windows from 1 µs to all of it: the indexed
        // answer equals the scan over every sample, field for field.
        try withTemporaryDatabase { path in
            let store = try makeMixedStore(path)
            defer { store.close() }
            var compared = 0
            var nonEmpty = 0
            for window: UInt64 in [1, 20_000, 150_000, 1_000_000, 10_000_000] {
                var at = baseTimeMicroseconds - 50_000
                while at < baseTimeMicroseconds + 2_000_000 {
                    let range = (at >= window ? at - window + 1 : 0)..<(at + 1)
                    let fast = try store.lastSamples(in: range, dronesMax: 100)
                    let reference = try store.scanLastSamples(in: range, dronesMax: 100)
                    #expect(fast == reference, "at \(at) window \(window)")
                    compared += 1
                    if !fast.isEmpty { nonEmpty += 1 }
                    at += 6_997
                }
            }
            #expect(compared > 1_000)
            #expect(nonEmpty > compared / 3)
            // At the last sample of drone 2 (index 89), with a wide window: every drone, each at
            // its own last sample, in (protocol, number) order, the MAVLink system last.
            let at = baseTimeMicroseconds + 89 * 20_000 + 2
            let fleet = try store.lastSamples(in: 0..<(at + 1), dronesMax: 100)
            #expect(fleet.map(\.drone) == [
                DroneIdentity(protocol: .skygate, number: 1), DroneIdentity(protocol: .skygate, number: 2),
                DroneIdentity(protocol: .skygate, number: 3), DroneIdentity(protocol: .mavlink, number: 7),
            ])
            #expect(fleet.map(\.sequence) == [89, 89, 88, 84])
            #expect(fleet[0].sample == makeSample(drone: 1, index: 89))
            // dronesMax keeps the first drones in order; an empty range is no drones.
            #expect(try store.lastSamples(in: 0..<(at + 1), dronesMax: 2).map(\.drone.number) == [1, 2])
            #expect(try store.lastSamples(in: at..<at, dronesMax: 10).isEmpty)
            #expect(try store.lastSamples(in: 0..<baseTimeMicroseconds, dronesMax: 10).isEmpty)
        }
    }

    /// The fleet at an instant on the paths an older file takes: without the end-time index (a
    /// v6 file read without migrating: per-drone seeks) and without the span mark (unbounded
    /// scans), against the reference at the same instants.
    @Test func fleetAtOnAFileWithoutTheEndIndexOrSpanMark() throws {
        try withTemporaryDatabase { path in
            try makeMixedStore(path).close()
            #expect(try rawInteger(path, "SELECT count(*) FROM sqlite_master WHERE name = 'telemetry_chunk_end'") == 1)
            #expect(try rawInteger(path, "SELECT value FROM store_meta WHERE name = 'chunk_span_max_us'")
                == rawInteger(path, "SELECT max(end_us - start_us) FROM telemetry_chunk"))
            for step in [
                "DROP INDEX telemetry_chunk_end; UPDATE schema_version SET version = 6",
                "DELETE FROM store_meta WHERE name = 'chunk_span_max_us'",
            ] {
                try rawSQL(path, step)
                var options = StoreOptions()
                options.isReadOnly = true
                let store = try TelemetryStore(path: path, options: options)
                defer { store.close() }
                var nonEmpty = 0
                for window: UInt64 in [20_000, 1_000_000] {
                    var at = baseTimeMicroseconds - 50_000
                    while at < baseTimeMicroseconds + 2_000_000 {
                        let range = (at - window + 1)..<(at + 1)
                        let fast = try store.lastSamples(in: range, dronesMax: 100)
                        #expect(fast == (try store.scanLastSamples(in: range, dronesMax: 100)), "\(step): at \(at) window \(window)")
                        if !fast.isEmpty { nonEmpty += 1 }
                        at += 13_001
                    }
                }
                #expect(nonEmpty > 100)
            }
        }
    }

    @Test func storedTimeRangeIsTheFirstAndLastSample() throws {
        try withTemporaryDatabase { path in
            let empty = try TelemetryStore(path: path)
            #expect(try empty.sampleTimeBounds() == nil)
            empty.close()
            let store = try makeMixedStore(path)
            defer { store.close() }
            let bounds = try #require(try store.sampleTimeBounds())
            #expect(bounds == (try store.scanSampleTimeBounds()))
            #expect(bounds.lowerBound == baseTimeMicroseconds + 1)
            #expect(bounds.upperBound == baseTimeMicroseconds + 89 * 20_000 + 3)
        }
    }

    @Test func activityMatchesTheReference() throws {
        // Chunks are counted from their index entries, their samples spread evenly over their
        // span. For drones reporting steadily (batches in time order, so every chunk is a
        // stretch without gaps) that is exact in total, exact in drones per bucket (a bucket is
        // wider than the sample spacing, so any chunk span that touches it has a sample in it),
        // and off by less than one sample per chunk cut by a bucket edge (at most two per drone).
        try withTemporaryDatabase { path in
            var options = StoreOptions()
            options.chunkSamplesMax = 7
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            let columns = SampleColumns(capacity: 1_000)
            for first in stride(from: 0, to: 100, by: 10) {
                columns.removeAll()
                fillInterleaved(columns, drones: [3, 1, 2, 9], perDrone: 10, firstIndex: first)
                _ = try store.write(columns, protocol: .skygate)
                if first % 20 == 10 && first < 90 { try store.compactAll() }
            }
            for (width, count) in [(UInt64(100_000), 20), (UInt64(33_333), 60), (UInt64(1_000_000), 3), (UInt64(45_000), 50)] {
                let buckets = ActivityBuckets(originMicroseconds: baseTimeMicroseconds, widthMicroseconds: width, count: count)
                let fast = try store.activity(buckets)
                let reference = try store.scanActivity(buckets)
                #expect(fast.count == count)
                let total = fast.map(\.samples).reduce(0, +)
                #expect(total == 400, "width \(width)")
                #expect(reference.map(\.samples).reduce(0, +) == 400)
                for (index, (mine, theirs)) in zip(fast, reference).enumerated() {
                    #expect(abs(mine.samples - theirs.samples) <= 2 * 4, "width \(width) bucket \(index): \(mine) vs \(theirs)")
                    #expect(mine.drones == theirs.drones, "width \(width) bucket \(index)")
                }
            }
        }
        // Two flights a day apart loaded together (review of two files) share one compaction,
        // so each drone's chunk spans the day between: such a chunk is read and counted sample by
        // sample, and the activity equals the reference exactly, with nothing in between.
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            defer { store.close() }
            let columns = SampleColumns(capacity: 1_000)
            fillInterleaved(columns, drones: [1, 2], perDrone: 100)
            for row in 0..<100 {
                let drone = UInt32(1 + row % 2)
                columns.append(
                    makeSample(drone: drone, index: row), droneID: drone, sequence: UInt32(1_000 + row),
                    timestampMicroseconds: baseTimeMicroseconds + 86_400_000_000 + UInt64(row) * 20_000)
            }
            _ = try store.write(columns, protocol: .skygate)
            try store.compactAll()
            let buckets = ActivityBuckets(originMicroseconds: baseTimeMicroseconds, widthMicroseconds: 3_600_000_000, count: 25)
            let activity = try store.activity(buckets)
            #expect(activity == (try store.scanActivity(buckets)))
            #expect(activity.map(\.samples) == [200] + Array(repeating: 0, count: 23) + [100])
            #expect(activity.map(\.drones) == [2] + Array(repeating: 0, count: 23) + [2])
        }
        // Where one compaction held two stretches with a gap between (late data), its chunks
        // span the gap and spread samples into it: the totals stay exact.
        try withTemporaryDatabase { path in
            let store = try makeMixedStore(path)
            defer { store.close() }
            let buckets = ActivityBuckets(originMicroseconds: baseTimeMicroseconds, widthMicroseconds: 100_000, count: 20)
            let total = try store.activity(buckets).map(\.samples).reduce(0, +)
            #expect(total == 6 * 35)  // 6 batches of 3 drones × 10 and 5 MAVLink samples
            #expect(try store.scanActivity(buckets).map(\.samples).reduce(0, +) == 6 * 35)
        }
    }
}
