@testable import PostgresStore
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// Flight review's reads on PostgreSQL (PostgresTelemetryStore+Review.swift) against the
/// reference answers every store gives through `readSamples` (StoreReview.swift), over samples
/// written in out-of-order batches that span two day partitions.
@Suite(.enabled(if: TestServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh; .ci/run starts one)"), .serialized)
struct PostgresReviewTests {
    @Test func fleetBoundsAndActivityEqualTheReference() throws {
        try TestDatabase.withFresh { database in
            let store = try database.open()
            defer { store.close() }
            #expect(try store.sampleTimeBounds() == nil)
            #expect(try store.lastSamples(in: 0..<UInt64(Int64.max), dronesMax: 10).isEmpty)
            // 1 s apart from 23:59:00 on 2026-01-01, so the flight crosses into the next day's partition.
            let spacing: UInt64 = 1_000_000
            let start = baseTimeMicroseconds + 86_340 * spacing
            for first in [60, 0, 30, 90] {
                let skygate = makeColumns(drones: [3, 1, 2], perDrone: 30, firstIndex: first, spacing: spacing)
                let mavlink = makeColumns(drones: [7], perDrone: 10, firstIndex: first, spacing: spacing)
                func shifted(_ columns: SampleColumns) -> SampleColumns {
                    let moved = SampleColumns(capacity: columns.count)
                    for row in 0..<columns.count {
                        moved.append(
                            columns.sample(at: row), droneID: columns.droneIDs[row], sequence: columns.sequences[row],
                            timestampMicroseconds: columns.timestampsMicroseconds[row] - baseTimeMicroseconds + start)
                    }
                    return moved
                }
                _ = try store.write(
                    [StoreBatchPart(protocol: .skygate, columns: shifted(skygate)), StoreBatchPart(protocol: .mavlink, columns: shifted(mavlink))],
                    spillSequence: nil)
            }
            _ = try store.compactAll()
            let bounds = try #require(try store.sampleTimeBounds())
            #expect(bounds == (try store.scanSampleTimeBounds()))
            #expect(bounds == (start + 1)...(start + 119 * spacing + 3))
            var nonEmpty = 0
            for window: UInt64 in [1, 1_500_000, 10_000_000, 200_000_000] {
                var at = start - 2 * spacing
                while at < start + 125 * spacing {
                    let range = (at >= window ? at - window + 1 : 0)..<(at + 1)
                    let fast = try store.lastSamples(in: range, dronesMax: 100)
                    #expect(fast == (try store.scanLastSamples(in: range, dronesMax: 100)), "at \(at) window \(window)")
                    if !fast.isEmpty { nonEmpty += 1 }
                    at += 3_333_333
                }
            }
            #expect(nonEmpty > 50)
            #expect(try store.lastSamples(in: 0..<UInt64(Int64.max), dronesMax: 2).map(\.drone.number) == [1, 2])
            for (width, count) in [(UInt64(10_000_000), 13), (UInt64(777_777), 200), (UInt64(3_600_000_000), 1)] {
                let buckets = ActivityBuckets(originMicroseconds: start, widthMicroseconds: width, count: count)
                let activity = try store.activity(buckets)
                #expect(activity == (try store.scanActivity(buckets)), "width \(width)")
                let total = activity.map(\.samples).reduce(0, +)
                #expect(total == 400)  // 4 batches of 3 × 30 + 10 samples
            }
        }
    }
}
