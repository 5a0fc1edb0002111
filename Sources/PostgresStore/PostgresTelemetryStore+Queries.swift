import Logging
import PostgresNIO
import Telemetry
import TelemetryStore
import TelemetryWire

extension PostgresTelemetryStore {
    /// The sample columns every read selects, as bigint so one decoder reads them all.
    private static let sampleColumns = """
        sequence::bigint, time_us, latitude_e7::bigint, longitude_e7::bigint, altitude_mm::bigint,
        velocity_north_cms::bigint, velocity_east_cms::bigint, velocity_down_cms::bigint, heading_cdeg::bigint,
        battery_mv::bigint, battery_pct::bigint, satellites::bigint, status, stored_us
        """

    /// Streams samples like `TelemetryStore.readSamples`: drone by drone in (protocol, number)
    /// order, each in (time, sequence) order, one keyset page (`pageSize` rows) per query, so
    /// memory stays bounded and `body` runs on the caller's thread.
    @discardableResult
    public func readSamples(
        drone: DroneIdentity?, timeRangeMicroseconds: Range<UInt64>, pageSize: Int, _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        precondition(pageSize > 0 && pageSize <= 1 << 20)
        let drones: [DroneIdentity]
        if let drone { drones = [drone] } else { drones = try storedDrones() }
        let logger = logger
        let until = Int64(clamping: timeRangeMicroseconds.upperBound)
        let limit = Int64(pageSize)
        var delivered = 0
        for drone in drones {
            var after = (time: Int64(clamping: timeRangeMicroseconds.lowerBound), sequence: Int64(-1))
            while true {
                let from = after
                let page = try run("read samples") { connection in
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT \(Self.sampleColumns) FROM telemetry
                        WHERE protocol = $1 AND drone = $2 AND (time_us, sequence) > ($3, $4) AND time_us < $5
                        ORDER BY time_us, sequence LIMIT $6
                        """, binds: Self.binds(Int16(drone.protocol.rawValue), Int64(drone.number), from.time, from.sequence, until, limit)),
                        logger: logger)
                    var page: [StoredSample] = []
                    for try await row in rows { page.append(try Self.sample(row, drone: drone, at: 0)) }
                    return page
                }
                guard let last = page.last else { break }
                delivered += page.count
                guard body(page) else { return delivered }
                if page.count < pageSize { break }
                after = (Int64(clamping: last.timestampMicroseconds), Int64(last.sequence))
            }
        }
        return delivered
    }

    /// Every drone with a stored sample, in (protocol, number) order, read from `telemetry`
    /// itself (not `drone_latest`, which is bounded and forgets drones offline longest): a
    /// loose index scan over the primary key, one probe per drone.
    func storedDrones() throws(StoreError) -> [DroneIdentity] {
        let logger = logger
        return try run("list the stored drones") { connection in
            let rows = try await connection.query("""
                WITH RECURSIVE drones AS (
                  (SELECT protocol, drone FROM telemetry ORDER BY protocol, drone LIMIT 1)
                  UNION ALL
                  SELECT next.protocol, next.drone FROM drones, LATERAL (
                    SELECT protocol, drone FROM telemetry WHERE (protocol, drone) > (drones.protocol, drones.drone)
                    ORDER BY protocol, drone LIMIT 1) AS next)
                SELECT protocol::bigint, drone FROM drones
                """, logger: logger)
            var drones: [DroneIdentity] = []
            for try await (protocolValue, number) in rows.decode((Int64, Int64).self) {
                if let drone = Self.drone(protocolValue, number) { drones.append(drone) }
            }
            return drones
        }
    }

    public func droneSummaries() throws(StoreError) -> [StoredDroneSummary] {
        let logger = logger
        return try run("summarise drones") { connection in
            let rows = try await connection.query("""
                SELECT protocol::bigint, drone, count(*), min(time_us), max(time_us) FROM telemetry
                GROUP BY protocol, drone ORDER BY protocol, drone
                """, logger: logger)
            var summaries: [StoredDroneSummary] = []
            for try await (protocolValue, number, count, first, last) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
                guard let drone = Self.drone(protocolValue, number) else { continue }
                summaries.append(StoredDroneSummary(
                    drone: drone, rowCount: Int(count), firstTimestampMicroseconds: UInt64(first), lastTimestampMicroseconds: UInt64(last)))
            }
            return summaries
        }
    }

    public func rowCount() throws(StoreError) -> Int {
        let logger = logger
        return try run("count rows") { connection in
            var count: Int64 = 0
            for try await value in try await connection.query("SELECT count(*) FROM telemetry", logger: logger).decode(Int64.self) {
                count = value
            }
            return Int(count)
        }
    }

    public func latestSamples() throws(StoreError) -> [StoredSample] {
        try sharedFleet().map(\.latest)
    }

    /// Every drone's latest state from `drone_latest`, in (protocol, number) order.
    public func sharedFleet() throws(StoreError) -> [SharedDroneState] {
        try flushLatest()
        let logger = logger
        return try run("read the fleet") { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT protocol::bigint, drone, \(Self.sampleColumns), first_stored_us, gateway FROM drone_latest
                ORDER BY protocol, drone
                """), logger: logger)
            var fleet: [SharedDroneState] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                guard let drone = Self.drone(try cells[0].decode(Int64.self), try cells[1].decode(Int64.self)) else { continue }
                let latest = try Self.sample(row, drone: drone, at: 2)
                fleet.append(SharedDroneState(
                    latest: latest, firstStoredMicroseconds: UInt64(max(try cells[16].decode(Int64.self), 0)),
                    lastStoredMicroseconds: latest.storedMicroseconds ?? 0, gateway: try cells[17].decode(String.self)))
            }
            return fleet
        }
    }

    static func drone(_ protocolValue: Int64, _ number: Int64) -> DroneIdentity? {
        guard let known = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: protocolValue)),
              let number = UInt32(exactly: number) else { return nil }
        return DroneIdentity(protocol: known, number: number)
    }

    /// Decodes `sampleColumns` starting at column `first`.
    static func sample(_ row: PostgresRow, drone: DroneIdentity, at first: Int) throws -> StoredSample {
        let cells = row.makeRandomAccess()
        func value(_ index: Int) throws -> Int64 { try cells[first + index].decode(Int64.self) }
        let sample = WireSample(
            timeOffsetMicroseconds: 0,
            latitudeE7: Int32(truncatingIfNeeded: try value(2)),
            longitudeE7: Int32(truncatingIfNeeded: try value(3)),
            altitudeMM: Int32(truncatingIfNeeded: try value(4)),
            velocityNorthCMS: Int16(truncatingIfNeeded: try value(5)),
            velocityEastCMS: Int16(truncatingIfNeeded: try value(6)),
            velocityDownCMS: Int16(truncatingIfNeeded: try value(7)),
            headingCentidegrees: UInt16(truncatingIfNeeded: try value(8)),
            batteryMillivolts: UInt16(truncatingIfNeeded: try value(9)),
            batteryPercent: UInt8(truncatingIfNeeded: try value(10)),
            satellites: UInt8(truncatingIfNeeded: try value(11)),
            status: StatusFlags(rawValue: UInt32(truncatingIfNeeded: try value(12))))
        return StoredSample(
            drone: drone, sequence: UInt32(truncatingIfNeeded: try value(0)),
            timestampMicroseconds: UInt64(max(try value(1), 0)), sample: sample,
            storedMicroseconds: UInt64(max(try value(13), 0)))
    }

    static func binds(_ protocolValue: Int16, _ values: Int64...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count + 1)
        bindings.append(protocolValue)
        for value in values { bindings.append(value) }
        return bindings
    }
}
