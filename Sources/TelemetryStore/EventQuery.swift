import Telemetry

/// Which stored events `/api/events` wants.
public struct EventQuery: Sendable, Equatable {
    /// Event times, µs since the Unix epoch.
    public var timeRangeMicroseconds: Range<UInt64>
    public var drone: DroneIdentity?
    public var kind: EventKind?
    public var limit: Int

    public init(timeRangeMicroseconds: Range<UInt64> = 0..<UInt64(Int64.max), drone: DroneIdentity? = nil, kind: EventKind? = nil, limit: Int = Limits.Events.queryDefault) {
        self.timeRangeMicroseconds = timeRangeMicroseconds
        self.drone = drone
        self.kind = kind
        self.limit = limit
    }
}
