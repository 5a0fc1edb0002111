import CSQLite
import Telemetry
import TelemetryWire

/// One stored row as read back.
public struct StoredSample: Sendable, Equatable {
    public var drone: DroneIdentity
    public var sequence: UInt32
    /// Sample time, microseconds since the Unix epoch (UTC).
    public var timestampMicroseconds: UInt64
    /// The sample's fields (its `timeOffsetMicroseconds` is 0: the time is absolute above).
    public var sample: WireSample
    /// When the row's batch was committed (wall clock µs); nil for rows stored before schema v2.
    public var storedMicroseconds: UInt64?

    public init(drone: DroneIdentity, sequence: UInt32, timestampMicroseconds: UInt64, sample: WireSample, storedMicroseconds: UInt64?) {
        self.drone = drone
        self.sequence = sequence
        self.timestampMicroseconds = timestampMicroseconds
        self.sample = sample
        self.storedMicroseconds = storedMicroseconds
    }
}

/// One drone's stored rows at a glance.
public struct StoredDroneSummary: Sendable, Equatable {
    public var drone: DroneIdentity
    public var rowCount: Int
    public var firstTimestampMicroseconds: UInt64
    public var lastTimestampMicroseconds: UInt64

    public init(drone: DroneIdentity, rowCount: Int, firstTimestampMicroseconds: UInt64, lastTimestampMicroseconds: UInt64) {
        self.drone = drone
        self.rowCount = rowCount
        self.firstTimestampMicroseconds = firstTimestampMicroseconds
        self.lastTimestampMicroseconds = lastTimestampMicroseconds
    }
}

extension TelemetryStore {
    /// Streams the rows with sample time in `timeRangeMicroseconds`, of `drone` or of every drone,
    /// in pages of at most `pageSize` rows (the page array is reused). Order: by time within a
    /// drone, drones in (protocol, number) order, each drone read through the index with its own
    /// range query, so memory stays bounded whatever the range. `body` returns false to stop early.
    /// Returns the number of rows delivered.
    @discardableResult
    public func readSamples(
        drone: DroneIdentity? = nil, timeRangeMicroseconds: Range<UInt64> = 0..<UInt64(Int64.max),
        pageSize: Int = 4_096, _ body: (_ page: [StoredSample]) -> Bool
    ) throws(StoreError) -> Int {
        precondition(pageSize > 0 && pageSize <= 1 << 20)
        let state = try openState()
        if state.layout == .chunks {
            return try state.inReadTransaction { () throws(StoreError) in
                try readChunkSamples(state.connection, drone: drone, range: timeRangeMicroseconds, pageSize: pageSize, body)
            }
        }
        let connection = state.connection
        let drones: [DroneIdentity]
        if let drone { drones = [drone] } else { drones = try storedDrones(connection) }
        let statement = try connection.prepare("""
            SELECT sequence, time_us, latitude_e7, longitude_e7, altitude_mm, velocity_north_cms, velocity_east_cms,
                   velocity_down_cms, heading_cdeg, battery_mv, battery_pct, satellites, status, stored_us
            FROM telemetry WHERE protocol = ?1 AND drone = ?2 AND time_us >= ?3 AND time_us < ?4 ORDER BY time_us
            """)
        var page: [StoredSample] = []
        page.reserveCapacity(pageSize)
        var delivered = 0
        for drone in drones {
            statement.reset()
            statement.bind(1, Int64(drone.protocol.rawValue))
            statement.bind(2, Int64(drone.number))
            statement.bind(3, Int64(clamping: timeRangeMicroseconds.lowerBound))
            statement.bind(4, Int64(clamping: timeRangeMicroseconds.upperBound))
            while try statement.step() {
                page.append(Self.sample(from: statement, drone: drone))
                if page.count == pageSize {
                    delivered += page.count
                    guard body(page) else { return delivered }
                    page.removeAll(keepingCapacity: true)
                }
            }
        }
        if !page.isEmpty {
            delivered += page.count
            _ = body(page)
        }
        return delivered
    }

    /// Every drone with stored rows: row count and first and last sample time. Costs one index
    /// range scan per drone (the count visits each index entry), so the status page should show
    /// the live fleet state from memory and call this only for its storage view.
    public func droneSummaries() throws(StoreError) -> [StoredDroneSummary] {
        let state = try openState()
        if state.layout == .chunks {
            return try state.inReadTransaction { () throws(StoreError) in try chunkDroneSummaries(state.connection) }
        }
        let connection = state.connection
        let statement = try connection.prepare(
            "SELECT count(*), min(time_us), max(time_us) FROM telemetry WHERE protocol = ?1 AND drone = ?2")
        var summaries: [StoredDroneSummary] = []
        for drone in try storedDrones(connection) {
            statement.reset()
            statement.bind(1, Int64(drone.protocol.rawValue))
            statement.bind(2, Int64(drone.number))
            guard try statement.step() else { continue }
            summaries.append(StoredDroneSummary(
                drone: drone, rowCount: Int(statement.int64(0)),
                firstTimestampMicroseconds: UInt64(bitPattern: statement.int64(1)),
                lastTimestampMicroseconds: UInt64(bitPattern: statement.int64(2))))
        }
        return summaries
    }

    /// Rows stored in all (a full count: O(rows)).
    public func rowCount() throws(StoreError) -> Int {
        let state = try openState()
        if state.layout == .chunks {
            return try state.inReadTransaction { () throws(StoreError) in
                let chunks = try state.connection.integer("SELECT coalesce(sum(samples), 0) FROM telemetry_chunk") ?? 0
                let recent = try state.connection.integer("SELECT coalesce(sum(samples), 0) FROM telemetry_recent") ?? 0
                return Int(chunks + recent)
            }
        }
        return try Int(state.connection.integer("SELECT count(*) FROM telemetry") ?? 0)
    }

    /// The latest stored sample of every drone (greatest sample time; the last arrival among
    /// equal times), in (protocol, number) order.
    public func latestSamples() throws(StoreError) -> [StoredSample] {
        let state = try openState()
        if state.layout == .chunks {
            return try state.inReadTransaction { () throws(StoreError) in try latestChunkSamples(state.connection) }
        }
        let connection = state.connection
        let statement = try connection.prepare("""
            SELECT sequence, time_us, latitude_e7, longitude_e7, altitude_mm, velocity_north_cms, velocity_east_cms,
                   velocity_down_cms, heading_cdeg, battery_mv, battery_pct, satellites, status, stored_us
            FROM telemetry WHERE protocol = ?1 AND drone = ?2 ORDER BY time_us DESC, rowid DESC LIMIT 1
            """)
        var latest: [StoredSample] = []
        for drone in try storedDrones(connection) {
            statement.reset()
            statement.bind(1, Int64(drone.protocol.rawValue))
            statement.bind(2, Int64(drone.number))
            if try statement.step() { latest.append(Self.sample(from: statement, drone: drone)) }
        }
        return latest
    }

    /// The distinct (protocol, drone) pairs of `table` (`telemetry`, or `telemetry_chunk` in the
    /// chunk layout), found by skipping through its (protocol, drone, ...) index: one seek per
    /// drone instead of a scan of every row.
    func storedDrones(_ connection: SQLiteConnection, table: String = "telemetry") throws(StoreError) -> [DroneIdentity] {
        let next = try connection.prepare("""
            SELECT protocol, drone FROM \(table) WHERE (protocol, drone) > (?1, ?2)
            ORDER BY protocol, drone LIMIT 1
            """)
        var drones: [DroneIdentity] = []
        var last = (Int64(-1), Int64(-1))
        // Bounded: one step per distinct drone.
        while true {
            next.reset()
            next.bind(1, last.0)
            next.bind(2, last.1)
            guard try next.step() else { break }
            last = (next.int64(0), next.int64(1))
            // Rows of an unknown protocol cannot come from this writer; skip them, never guess.
            if let known = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: last.0)) {
                drones.append(DroneIdentity(protocol: known, number: UInt32(truncatingIfNeeded: last.1)))
            }
        }
        return drones
    }

    static func sample(from statement: SQLiteStatement, drone: DroneIdentity) -> StoredSample {
        let sample = WireSample(
            timeOffsetMicroseconds: 0,
            latitudeE7: Int32(truncatingIfNeeded: statement.int64(2)),
            longitudeE7: Int32(truncatingIfNeeded: statement.int64(3)),
            altitudeMM: Int32(truncatingIfNeeded: statement.int64(4)),
            velocityNorthCMS: Int16(truncatingIfNeeded: statement.int64(5)),
            velocityEastCMS: Int16(truncatingIfNeeded: statement.int64(6)),
            velocityDownCMS: Int16(truncatingIfNeeded: statement.int64(7)),
            headingCentidegrees: UInt16(truncatingIfNeeded: statement.int64(8)),
            batteryMillivolts: UInt16(truncatingIfNeeded: statement.int64(9)),
            batteryPercent: UInt8(truncatingIfNeeded: statement.int64(10)),
            satellites: UInt8(truncatingIfNeeded: statement.int64(11)),
            status: StatusFlags(rawValue: UInt32(truncatingIfNeeded: statement.int64(12))))
        return StoredSample(
            drone: drone, sequence: UInt32(truncatingIfNeeded: statement.int64(0)),
            timestampMicroseconds: UInt64(bitPattern: statement.int64(1)), sample: sample,
            storedMicroseconds: statement.isNull(13) ? nil : UInt64(bitPattern: statement.int64(13)))
    }
}
