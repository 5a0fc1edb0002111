@testable import PostgresStore
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// Which rows a PostgreSQL batch spanning too many days keeps (`BatchDays`, issue 20), without a
/// server: the days with the most rows win (ties: the later day); a Skygate frame's rows (one
/// drone and sequence, consecutive) are kept or refused together, even across midnight; every
/// MAVLink row is a frame of its own; what is kept and what is refused add up to the batch.
@Suite struct BatchDaysTests {
    static let day: UInt64 = 86_400_000_000
    static let base: UInt64 = 20_000 * day  // 2024-10-04

    func append(_ columns: SampleColumns, drone: UInt32, sequence: UInt32, at time: UInt64) {
        columns.append(WireSample(latitudeE7: 1, longitudeE7: 2, altitudeMM: 3), droneID: drone, sequence: sequence, timestampMicroseconds: time)
    }

    @Test func mostPopulatedDaysWinAndTiesGoToTheLaterDay() {
        let counts: [Int64: Int] = [10: 5, 11: 1, 12: 1, 13: 3, 14: 1]
        #expect(BatchDays.daysKept(counts, limit: 3) == [10, 13, 14])
        #expect(BatchDays.daysKept(counts, limit: 10) == Set(counts.keys))
    }

    @Test func framesAreKeptOrRefusedWhole() {
        let skygate = SampleColumns(capacity: 16)
        // A fleet of three frames on the base day.
        for sequence in 0..<3 { append(skygate, drone: 1, sequence: UInt32(sequence), at: Self.base + 3_600_000_000 + UInt64(sequence)) }
        // One frame of two rows crossing midnight into the base day: one row on the day before.
        append(skygate, drone: 9, sequence: 1, at: Self.base - 1)
        append(skygate, drone: 9, sequence: 1, at: Self.base + 1)
        // A frame of one row, ten days back.
        append(skygate, drone: 9, sequence: 2, at: Self.base - 10 * Self.day)
        let mavlink = SampleColumns(capacity: 4)
        append(mavlink, drone: 5, sequence: 7, at: Self.base + 10)
        append(mavlink, drone: 5, sequence: 7, at: Self.base - 20 * Self.day)
        let parts = [StoreBatchPart(protocol: .skygate, columns: skygate), StoreBatchPart(protocol: .mavlink, columns: mavlink)]

        let counts = BatchDays.rowsByDay(parts)
        #expect(counts.count == 4 && counts[Int64(Self.base / Self.day)] == 5)
        let kept = BatchDays.daysKept(counts, limit: 1)
        #expect(kept == [Int64(Self.base / Self.day)])
        let isolated = BatchDays.isolate(parts, keeping: kept)
        // Refused: the frame across midnight (2 rows), the old Skygate frame, the old MAVLink row.
        #expect(isolated.unitsRefused == 3 && isolated.rowsRefused == 4)
        #expect(isolated.parts.map(\.columns.count) == [3, 1])
        #expect(isolated.parts[0].columns.droneIDs.allSatisfy { $0 == 1 })
        #expect(isolated.parts[1].columns.timestampMicroseconds(at: 0) == Self.base + 10)
        #expect(isolated.parts.map(\.protocol) == [.skygate, .mavlink])
        #expect(isolated.parts.reduce(0) { $0 + $1.columns.count } + isolated.rowsRefused == skygate.count + mavlink.count)
    }
}
