/// Everything that determines a run's datagrams. Two runs with equal configurations (and the same
/// keys) produce byte-identical datagrams, whatever the pacing or the machine.
public struct FleetConfiguration: Sendable, Equatable {
    /// Drones in the fleet.
    public var droneCount: Int
    /// Id of the first drone; the others follow consecutively.
    public var firstDroneID: UInt32 = 1
    /// Samples per second per drone.
    public var sampleRateHz: Double
    /// Simulated seconds of telemetry per drone.
    public var durationSeconds: Double
    /// Samples per datagram (one Skygate frame carries all of them).
    public var samplesPerDatagram: Int = 1
    /// Seed of every random stream of the run.
    public var seed: UInt64 = 1
    /// Timestamp of the first sample, microseconds since the Unix epoch.
    public var startTimeMicroseconds: UInt64 = FleetConfiguration.startTimeDefaultMicroseconds
    public var area: FlightArea = .standard
    public var flight: FlightParameters = .standard
    public var faults: LinkFaults = .none

    /// 2026-01-01T00:00:00Z: a fixed default start, so runs are reproducible unless asked otherwise.
    public static let startTimeDefaultMicroseconds: UInt64 = 1_767_225_600_000_000

    public init(
        droneCount: Int, sampleRateHz: Double, durationSeconds: Double, samplesPerDatagram: Int = 1, seed: UInt64 = 1
    ) {
        self.droneCount = droneCount
        self.sampleRateHz = sampleRateHz
        self.durationSeconds = durationSeconds
        self.samplesPerDatagram = samplesPerDatagram
        self.seed = seed
    }

    /// Time between two samples of a drone, whole microseconds (so timestamps are exact).
    public var samplePeriodMicroseconds: UInt64 { max(1, UInt64((1_000_000 / sampleRateHz).rounded())) }
    /// Samples each drone takes during the run.
    public var samplesPerDrone: Int { Int((durationSeconds * sampleRateHz).rounded()) }
    /// Samples the whole fleet takes.
    public var samplesTotal: Int { samplesPerDrone * droneCount }
    /// The id of the drone at `index`.
    public func droneID(at index: Int) -> UInt32 { firstDroneID &+ UInt32(truncatingIfNeeded: index) }
}
