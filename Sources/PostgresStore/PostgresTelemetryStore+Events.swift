import PostgresNIO
import Telemetry
import TelemetryStore

extension PostgresTelemetryStore {
    /// See `TelemetryStoreWriting.writeEvents`: one INSERT ... ON CONFLICT DO NOTHING of every event.
    @discardableResult
    public func writeEvents(_ events: [AlertEvent]) throws(StoreError) -> Int {
        guard !events.isEmpty else { return 0 }
        let logger = logger
        // 10 parameters per event; PostgreSQL allows 65,535 per statement.
        let chunks = stride(from: 0, to: events.count, by: 6_000).map { Array(events[$0..<min(events.count, $0 + 6_000)]) }
        return try transaction("store events") { connection in
            var added = 0
            for chunk in chunks {
                var bindings = PostgresBindings(capacity: chunk.count * 10)
                var values: [String] = []
                values.reserveCapacity(chunk.count)
                for (index, event) in chunk.enumerated() {
                    let base = index * 10
                    values.append("(" + (1...10).map { "$\(base + $0)" }.joined(separator: ",") + ")")
                    bindings.append(Int64(clamping: event.timeMicroseconds))
                    bindings.append(Int16(event.drone.protocol.rawValue))
                    bindings.append(Int64(event.drone.number))
                    bindings.append(Int16(event.kind.rawValue))
                    bindings.append(event.zone)
                    bindings.append(event.alarm)
                    bindings.append(event.value)
                    bindings.append(event.latitudeE7)
                    bindings.append(event.longitudeE7)
                    bindings.append(event.altitudeMM)
                }
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    WITH inserted AS (
                      INSERT INTO events (time_us, protocol, drone, kind, zone, alarm, value, latitude_e7, longitude_e7, altitude_mm)
                      VALUES \(values.joined(separator: ",")) ON CONFLICT DO NOTHING RETURNING 1)
                    SELECT count(*) FROM inserted
                    """, binds: bindings), logger: logger)
                for try await count in rows.decode(Int64.self) { added += Int(count) }
            }
            return added
        }
    }

    /// See `TelemetryStoreReading.readEvents`.
    public func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] {
        let logger = logger
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(Int64(clamping: query.timeRangeMicroseconds.lowerBound))
        bindings.append(Int64(clamping: query.timeRangeMicroseconds.upperBound))
        var sql = """
            SELECT id, time_us, protocol::bigint, drone, kind::bigint, zone, alarm, value, latitude_e7::bigint, longitude_e7::bigint,
                   altitude_mm::bigint
            FROM events WHERE time_us >= $1 AND time_us < $2
            """
        var next = 3
        if let drone = query.drone {
            sql += " AND protocol = $\(next) AND drone = $\(next + 1)"
            bindings.append(Int16(drone.protocol.rawValue))
            bindings.append(Int64(drone.number))
            next += 2
        }
        if let kind = query.kind {
            sql += " AND kind = $\(next)"
            bindings.append(Int16(kind.rawValue))
            next += 1
        }
        sql += " ORDER BY time_us DESC, id DESC LIMIT $\(next)"
        bindings.append(Int64(max(0, min(query.limit, Limits.Events.queryMax))))
        let statement = PostgresQuery(unsafeSQL: sql, binds: bindings)
        return try run("read events") { connection in
            let rows = try await connection.query(statement, logger: logger)
            var events: [AlertEvent] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                guard let drone = Self.drone(try cells[2].decode(Int64.self), try cells[3].decode(Int64.self)),
                      let kind = EventKind(rawValue: UInt8(truncatingIfNeeded: try cells[4].decode(Int64.self)))
                else { continue }
                events.append(AlertEvent(
                    id: UInt64(max(try cells[0].decode(Int64.self), 0)), timeMicroseconds: UInt64(max(try cells[1].decode(Int64.self), 0)),
                    drone: drone, kind: kind, zone: try cells[5].decode(String.self), alarm: try cells[6].decode(Bool.self),
                    value: try cells[7].decode(Double.self),
                    latitudeE7: Int32(truncatingIfNeeded: try cells[8].decode(Int64.self)),
                    longitudeE7: Int32(truncatingIfNeeded: try cells[9].decode(Int64.self)),
                    altitudeMM: Int32(truncatingIfNeeded: try cells[10].decode(Int64.self))))
            }
            return events
        }
    }
}
