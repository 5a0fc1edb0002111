/// What an autopilot log or a packet capture holds beyond the datagrams it replays as: its own
/// message types (ULog topics, DataFlash types) with counts, the vehicle, the positions found and
/// the clocks. A reader fills it during `read`; `skygate inspect` prints it.
public struct LogContents: Sendable, Codable, Equatable {
    /// The log's own message types with their counts: ULog `topic[multi_id]`, DataFlash type
    /// names, capture flows `source -> destination`.
    public var messageCounts: [String: Int] = [:]
    /// What the log says the vehicle is (`PX4 v1.11.0 CUBEPILOT_CUBEORANGE`, `ArduSub V4.1.0`).
    public var vehicle = ""
    /// The MAVLink system id the replayed frames carry (from the log's parameter, or overridden).
    public var systemID: UInt8 = 1
    /// Where the system id came from: `MAV_SYS_ID`, `SYSID_THISMAV`, `override` or `default`.
    public var systemIDSource = "default"
    /// Parameters and logged text messages read.
    public var parameters = 0
    public var textMessages = 0
    /// Positions replayed (GLOBAL_POSITION_INT frames made), first and last in time order.
    public var positions = 0
    public var firstPosition: Position?
    public var lastPosition: Position?
    /// Whether the log gave a UTC time (GPS). Without one, times are the boot clock counted from
    /// the Unix epoch (1970), which replays and inspects but does not place the flight in time.
    public var hasUTC = false
    /// The log's boot clock span, µs (0 when not a log).
    public var bootFirstMicroseconds: UInt64 = 0
    public var bootLastMicroseconds: UInt64 = 0
    /// ULog dropouts (the logger lost data) and their total length.
    public var dropouts = 0
    public var dropoutMilliseconds = 0
    /// Records replayed later than the reorder window allowed (out of time order).
    public var recordsLate = 0

    public struct Position: Sendable, Codable, Equatable {
        /// UTC, µs since the Unix epoch.
        public var timeMicroseconds: UInt64
        public var latitudeE7: Int32
        public var longitudeE7: Int32
        /// Millimetres above mean sea level.
        public var altitudeMM: Int32
    }

    public init() {}
}

/// A player that can say what its file holds beyond the datagrams (autopilot logs, captures).
public protocol LogContentsReading: RecordingReader {
    /// Filled by the last `read`.
    var contents: LogContents { get }
}
