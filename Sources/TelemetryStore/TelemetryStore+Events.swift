import CSQLite
import Telemetry

extension TelemetryStore {
    /// See `TelemetryStoreWriting.writeEvents`.
    @discardableResult
    public func writeEvents(_ events: [AlertEvent]) throws(StoreError) -> Int {
        guard !events.isEmpty else { return 0 }
        let state = try openState()
        guard state.layout == .chunks else { throw .openFailed(path: path, message: "the row layout keeps no events") }
        let connection = state.connection
        let insert = try connection.prepare("""
            INSERT OR IGNORE INTO events (time_us, protocol, drone, kind, zone, alarm, value, latitude_e7, longitude_e7, altitude_mm)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        return try state.inTransaction { () throws(StoreError) -> Int in
            var added = 0
            for event in events {
                insert.reset()
                insert.bind(1, Int64(clamping: event.timeMicroseconds))
                insert.bind(2, Int64(event.drone.protocol.rawValue))
                insert.bind(3, Int64(event.drone.number))
                insert.bind(4, Int64(event.kind.rawValue))
                try insert.bind(5, event.zone)
                insert.bind(6, Int64(event.alarm ? 1 : 0))
                insert.bind(7, event.value)
                insert.bind(8, Int64(event.latitudeE7))
                insert.bind(9, Int64(event.longitudeE7))
                insert.bind(10, Int64(event.altitudeMM))
                try insert.run()
                added += connection.changes
            }
            return added
        }
    }

    /// See `TelemetryStoreReading.readEvents`.
    public func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] {
        let state = try openState()
        guard state.layout == .chunks else { return [] }
        var sql = """
            SELECT id, time_us, protocol, drone, kind, zone, alarm, value, latitude_e7, longitude_e7, altitude_mm
            FROM events WHERE time_us >= ?1 AND time_us < ?2
            """
        if query.drone != nil { sql += " AND protocol = ?3 AND drone = ?4" }
        if query.kind != nil { sql += " AND kind = ?5" }
        sql += " ORDER BY time_us DESC, id DESC LIMIT ?6"
        let select = try state.connection.prepare(sql)
        select.bind(1, Int64(clamping: query.timeRangeMicroseconds.lowerBound))
        select.bind(2, Int64(clamping: query.timeRangeMicroseconds.upperBound))
        if let drone = query.drone {
            select.bind(3, Int64(drone.protocol.rawValue))
            select.bind(4, Int64(drone.number))
        }
        if let kind = query.kind { select.bind(5, Int64(kind.rawValue)) }
        select.bind(6, Int64(max(0, min(query.limit, Limits.Events.queryMax))))
        var events: [AlertEvent] = []
        // Bounded by the LIMIT.
        while try select.step() {
            guard let telemetryProtocol = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: select.int64(2))),
                  let kind = EventKind(rawValue: UInt8(truncatingIfNeeded: select.int64(4)))
            else { continue }
            events.append(AlertEvent(
                id: UInt64(bitPattern: select.int64(0)), timeMicroseconds: UInt64(bitPattern: select.int64(1)),
                drone: DroneIdentity(protocol: telemetryProtocol, number: UInt32(truncatingIfNeeded: select.int64(3))),
                kind: kind, zone: select.text(5), alarm: select.int64(6) != 0, value: select.double(7),
                latitudeE7: Int32(truncatingIfNeeded: select.int64(8)), longitudeE7: Int32(truncatingIfNeeded: select.int64(9)),
                altitudeMM: Int32(truncatingIfNeeded: select.int64(10))))
        }
        return events
    }

    /// Deletes events before the cutoff (with the telemetry's retention).
    func retainEvents(_ state: OpenState, olderThanMicroseconds cutoff: UInt64) throws(StoreError) -> Int {
        guard state.layout == .chunks else { return 0 }
        let delete = try state.connection.prepare("DELETE FROM events WHERE time_us < ?1")
        return try state.inTransaction { () throws(StoreError) -> Int in
            delete.bind(1, Int64(clamping: cutoff))
            try delete.run()
            return state.connection.changes
        }
    }
}
