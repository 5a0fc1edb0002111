/// What a run sent, per drone and in total, as `--summary-json` writes it (see docs/simulator.md).
/// A receiver test checks itself against it: without authentication, a drone's accepted samples
/// are `samplesIntact + samplesDuplicated`, and its first and last accepted samples carry
/// `firstIntact` and `lastIntact`.
public struct SimulationSummary: Codable, Sendable, Equatable {
    public var telemetryProtocol: String
    public var seed: UInt64
    public var droneCount: Int
    public var sampleRateHz: Double
    public var durationSeconds: Double
    public var samplesPerDatagram: Int
    public var startTimeMicroseconds: UInt64
    public var totals: DatagramCounts
    public var drones: [DroneSummary]
    /// How the run went against the clock; absent for runs that were not paced by a runner.
    public var run: RunReport?

    enum CodingKeys: String, CodingKey {
        case telemetryProtocol = "protocol"
        case seed
        case droneCount = "drone_count"
        case sampleRateHz = "sample_rate_hz"
        case durationSeconds = "duration_seconds"
        case samplesPerDatagram = "samples_per_datagram"
        case startTimeMicroseconds = "start_time_us"
        case totals, drones, run
    }
}

/// A position as it went over the wire.
public struct ReportedPosition: Codable, Sendable, Equatable {
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    public var altitudeMM: Int32
    /// Sample time, microseconds since the Unix epoch.
    public var timestampMicroseconds: UInt64

    public init(latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32, timestampMicroseconds: UInt64) {
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
        self.timestampMicroseconds = timestampMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case latitudeE7 = "lat_e7"
        case longitudeE7 = "lon_e7"
        case altitudeMM = "alt_mm"
        case timestampMicroseconds = "timestamp_us"
    }
}

/// Counts of what the link did, in samples and in datagrams. Samples count once per original
/// datagram: `samplesGenerated == samplesIntact + samplesLost + samplesCorrupted`, with
/// duplicated copies counted apart in `samplesDuplicated` (intact copies only).
public struct DatagramCounts: Codable, Sendable, Equatable {
    public var samplesGenerated = 0
    public var samplesIntact = 0
    /// Lost on the link, outages included.
    public var samplesLost = 0
    /// Of `samplesLost`, those lost in link outages.
    public var samplesLostInOutage = 0
    public var samplesCorrupted = 0
    /// Extra intact copies sent.
    public var samplesDuplicated = 0
    public var datagramsGenerated = 0
    public var datagramsIntact = 0
    public var datagramsLost = 0
    public var datagramsLostInOutage = 0
    public var datagramsCorrupted = 0
    public var datagramsDuplicated = 0
    /// Sent after a later datagram of the same drone.
    public var datagramsReordered = 0
    /// Datagrams handed to the link, copies included: intact + corrupted + duplicated.
    public var datagramsSent = 0
    public var bytesSent = 0

    public init() {}

    mutating func add(_ other: DatagramCounts) {
        samplesGenerated += other.samplesGenerated
        samplesIntact += other.samplesIntact
        samplesLost += other.samplesLost
        samplesLostInOutage += other.samplesLostInOutage
        samplesCorrupted += other.samplesCorrupted
        samplesDuplicated += other.samplesDuplicated
        datagramsGenerated += other.datagramsGenerated
        datagramsIntact += other.datagramsIntact
        datagramsLost += other.datagramsLost
        datagramsLostInOutage += other.datagramsLostInOutage
        datagramsCorrupted += other.datagramsCorrupted
        datagramsDuplicated += other.datagramsDuplicated
        datagramsReordered += other.datagramsReordered
        datagramsSent += other.datagramsSent
        bytesSent += other.bytesSent
    }

    enum CodingKeys: String, CodingKey {
        case samplesGenerated = "samples_generated"
        case samplesIntact = "samples_intact"
        case samplesLost = "samples_lost"
        case samplesLostInOutage = "samples_lost_in_outage"
        case samplesCorrupted = "samples_corrupted"
        case samplesDuplicated = "samples_duplicated"
        case datagramsGenerated = "datagrams_generated"
        case datagramsIntact = "datagrams_intact"
        case datagramsLost = "datagrams_lost"
        case datagramsLostInOutage = "datagrams_lost_in_outage"
        case datagramsCorrupted = "datagrams_corrupted"
        case datagramsDuplicated = "datagrams_duplicated"
        case datagramsReordered = "datagrams_reordered"
        case datagramsSent = "datagrams_sent"
        case bytesSent = "bytes_sent"
    }
}

/// One drone's counts and its first and last intact positions (null when nothing got through).
public struct DroneSummary: Codable, Sendable, Equatable {
    public var droneID: UInt32
    public var isAuthenticated: Bool
    public var counts: DatagramCounts
    public var firstIntact: ReportedPosition?
    public var lastIntact: ReportedPosition?

    enum CodingKeys: String, CodingKey {
        case droneID = "drone_id"
        case isAuthenticated = "authenticated"
        case counts
        case firstIntact = "first_intact"
        case lastIntact = "last_intact"
    }
}

/// How a paced run kept time.
public struct RunReport: Codable, Sendable, Equatable {
    /// Wall-clock seconds from the first send to the end of the last one.
    public var elapsedSeconds: Double
    /// Samples per second requested: drones × rate × speed (0 when unpaced).
    public var samplesPerSecondRequested: Double
    /// Samples generated per wall-clock second.
    public var samplesPerSecondAchieved: Double
    /// |achieved − requested| / requested, in percent (0 when unpaced).
    public var pacingErrorPercent: Double
    /// Furthest the sender fell behind its schedule, milliseconds.
    public var lagMaxMilliseconds: Double
    /// Datagrams the operating system refused to send (counted, then skipped).
    public var sendErrors: Int

    public init(
        elapsedSeconds: Double, samplesPerSecondRequested: Double, samplesPerSecondAchieved: Double,
        pacingErrorPercent: Double, lagMaxMilliseconds: Double, sendErrors: Int
    ) {
        self.elapsedSeconds = elapsedSeconds
        self.samplesPerSecondRequested = samplesPerSecondRequested
        self.samplesPerSecondAchieved = samplesPerSecondAchieved
        self.pacingErrorPercent = pacingErrorPercent
        self.lagMaxMilliseconds = lagMaxMilliseconds
        self.sendErrors = sendErrors
    }

    enum CodingKeys: String, CodingKey {
        case elapsedSeconds = "elapsed_seconds"
        case samplesPerSecondRequested = "samples_per_second_requested"
        case samplesPerSecondAchieved = "samples_per_second_achieved"
        case pacingErrorPercent = "pacing_error_percent"
        case lagMaxMilliseconds = "lag_max_ms"
        case sendErrors = "send_errors"
    }
}
