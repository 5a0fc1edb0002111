import Logging
import PostgresNIO
import Telemetry
import TelemetryStore

// Flight review's queries (StoreReview.swift has what they answer). Drones are enumerated from
// `drone_latest`, as `readSamples` enumerates them for export, so review and export agree on
// which drones exist; each drone is then one seek down the (protocol, drone, time_us, sequence)
// primary key of each day partition the range touches.

extension PostgresTelemetryStore {
    public func lastSamples(in timeRangeMicroseconds: Range<UInt64>, dronesMax: Int) throws(StoreError) -> [StoredSample] {
        let from = Int64(clamping: timeRangeMicroseconds.lowerBound)
        let until = Int64(clamping: timeRangeMicroseconds.upperBound)
        guard from < until, dronesMax > 0 else { return [] }
        try flushLatest()
        let logger = logger
        let statement = PostgresQuery(unsafeSQL: """
            SELECT d.protocol::bigint, d.drone, t.* FROM drone_latest d CROSS JOIN LATERAL (
              SELECT \(Self.reviewSampleColumns) FROM telemetry s
              WHERE s.protocol = d.protocol AND s.drone = d.drone AND s.time_us >= $1 AND s.time_us < $2
              ORDER BY s.time_us DESC, s.sequence DESC LIMIT 1) t
            ORDER BY d.protocol, d.drone LIMIT $3
            """, binds: Self.reviewBinds(from, until, Int64(dronesMax)))
        return try run("read the fleet at an instant") { connection in
            var samples: [StoredSample] = []
            for try await row in try await connection.query(statement, logger: logger) {
                let cells = row.makeRandomAccess()
                guard let drone = Self.drone(try cells[0].decode(Int64.self), try cells[1].decode(Int64.self)) else { continue }
                samples.append(try Self.sample(row, drone: drone, at: 2))
            }
            return samples
        }
    }

    public func sampleTimeBounds() throws(StoreError) -> ClosedRange<UInt64>? {
        try flushLatest()
        let logger = logger
        return try run("read the stored time range") { connection in
            let rows = try await connection.query("""
                SELECT min(f.time_us), max(l.time_us) FROM drone_latest d
                CROSS JOIN LATERAL (SELECT time_us FROM telemetry s WHERE s.protocol = d.protocol AND s.drone = d.drone
                                    ORDER BY s.time_us LIMIT 1) f
                CROSS JOIN LATERAL (SELECT time_us FROM telemetry s WHERE s.protocol = d.protocol AND s.drone = d.drone
                                    ORDER BY s.time_us DESC LIMIT 1) l
                """, logger: logger)
            var bounds: ClosedRange<UInt64>?
            for try await (first, last) in rows.decode((Int64?, Int64?).self) {
                if let first, let last, first >= 0, first <= last { bounds = UInt64(first)...UInt64(last) }
            }
            return bounds
        }
    }

    /// Exact counts, one grouped pass over the rows of the range (O(samples in the range)).
    public func activity(_ buckets: ActivityBuckets) throws(StoreError) -> [ActivityBucket] {
        let range = buckets.range
        var activity = [ActivityBucket](repeating: ActivityBucket(), count: buckets.count)
        guard !range.isEmpty else { return activity }
        let logger = logger
        let statement = PostgresQuery(unsafeSQL: """
            SELECT (time_us - $1) / $3, count(DISTINCT (protocol::bigint << 32) | drone), count(*) FROM telemetry
            WHERE time_us >= $1 AND time_us < $2 GROUP BY 1
            """, binds: Self.reviewBinds(
                Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound), Int64(clamping: buckets.widthMicroseconds)))
        let counts = try run("read the activity") { connection in
            var counts: [(Int64, Int64, Int64)] = []
            for try await row in try await connection.query(statement, logger: logger).decode((Int64, Int64, Int64).self) {
                counts.append(row)
            }
            return counts
        }
        for (bucket, drones, samples) in counts where bucket >= 0 && bucket < Int64(buckets.count) {
            activity[Int(bucket)] = ActivityBucket(drones: Int(drones), samples: Int(samples))
        }
        return activity
    }

    /// `sampleColumns` of the `s` alias (the lateral subqueries' table).
    private static let reviewSampleColumns = """
        s.sequence::bigint AS sequence, s.time_us, s.latitude_e7::bigint AS latitude_e7, s.longitude_e7::bigint AS longitude_e7,
        s.altitude_mm::bigint AS altitude_mm, s.velocity_north_cms::bigint AS velocity_north_cms,
        s.velocity_east_cms::bigint AS velocity_east_cms, s.velocity_down_cms::bigint AS velocity_down_cms,
        s.heading_cdeg::bigint AS heading_cdeg, s.battery_mv::bigint AS battery_mv, s.battery_pct::bigint AS battery_pct,
        s.satellites::bigint AS satellites, s.status, s.stored_us
        """

    private static func reviewBinds(_ values: Int64...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return bindings
    }
}
