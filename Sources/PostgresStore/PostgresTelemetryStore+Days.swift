import Telemetry
import TelemetryStore
import TelemetryWire

/// A batch whose samples fall on more UTC days than one batch may create partitions for
/// (`Limits.Postgres.partitionsPerBatchMax`) is never refused whole (issue 20): the days with the
/// most rows are kept, and the frames with a row on any other day are isolated, counted by the
/// commit loop as `rejected{batch_days_exceeded}`, and left out of the transaction.
///
/// Live ingest cannot make such a batch (samples at most `Limits.sampleAgeMax` old); a replay or
/// import of a recording whose samples are spread over months beside a fleet can. Keeping the most
/// populated days keeps the fleet: a sender spreading dates must outnumber it on every day to
/// push one of its days out. Not the hot path: this runs only for such a batch.
enum BatchDays {
    /// The UTC day (`Limits.Postgres.partitionMicroseconds` wide) of a sample time.
    static func day(ofMicroseconds time: UInt64) -> Int64 { Int64(time / Limits.Postgres.partitionMicroseconds) }

    /// The distinct days of the batch's rows with their row counts; stops counting new days past
    /// `limit` + 1 entries only in the sense that the caller compares the count with it.
    static func rowsByDay(_ parts: [StoreBatchPart]) -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for part in parts {
            for time in part.columns.timestampsMicroseconds { counts[day(ofMicroseconds: time), default: 0] += 1 }
        }
        return counts
    }

    /// The `limit` days with the most rows (ties: the later day).
    static func daysKept(_ counts: [Int64: Int], limit: Int) -> Set<Int64> {
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key > $1.key }
        return Set(ranked.prefix(limit).map(\.key))
    }

    /// What is left of a batch after the frames with a row outside `days` are taken out.
    struct Isolated {
        var parts: [StoreBatchPart]
        var rowsRefused = 0
        var unitsRefused = 0
    }

    /// Copies the frames of `parts` whose rows all fall on `days` into new columns. A Skygate
    /// frame's rows are consecutive and share drone and sequence (a frame may cross midnight, so
    /// it is kept or refused whole); a MAVLink row is one frame of its own.
    static func isolate(_ parts: [StoreBatchPart], keeping days: Set<Int64>) -> Isolated {
        var result = Isolated(parts: [])
        for part in parts {
            let columns = part.columns
            let kept = SampleColumns(capacity: max(columns.count, 1))
            var start = 0
            // Bounded: every pass moves `start` past at least one row.
            while start < columns.count {
                var end = start + 1
                if part.protocol == .skygate {
                    while end < columns.count && columns.droneID(at: end) == columns.droneID(at: start)
                        && columns.sequence(at: end) == columns.sequence(at: start)
                    {
                        end += 1
                    }
                }
                var inside = true
                for row in start..<end where !days.contains(day(ofMicroseconds: columns.timestampMicroseconds(at: row))) {
                    inside = false
                }
                if inside {
                    for row in start..<end {
                        kept.append(
                            columns.sample(at: row), droneID: columns.droneID(at: row), sequence: columns.sequence(at: row),
                            timestampMicroseconds: columns.timestampMicroseconds(at: row))
                    }
                } else {
                    result.rowsRefused += end - start
                    result.unitsRefused += 1
                }
                start = end
            }
            result.parts.append(StoreBatchPart(protocol: part.protocol, columns: kept))
        }
        return result
    }
}
