import Synchronization
import Telemetry

/// One drone as the status page and the API show it: a copy, safe to keep.
public struct DroneStatus: Sendable, Equatable {
    public var drone: DroneIdentity
    public var firstSeenNanoseconds: UInt64
    public var lastSeenNanoseconds: UInt64
    public var framesReceived: UInt64
    public var framesLost: UInt64
    public var framesDuplicate: UInt64
    public var samplesReceived: UInt64
    /// Time of the last sample, µs since the Unix epoch (the drone's clock).
    public var lastSampleMicroseconds: UInt64
    public var hasFix: Bool
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    public var altitudeMM: Int32
    public var headingCentidegrees: UInt16
    public var batteryMillivolts: UInt16
    public var batteryPercent: UInt8
    public var satellites: UInt8
    public var status: UInt32
    public var groundSpeedMetresPerSecond: Float
    public var climbRateMetresPerSecond: Float
    public var distanceFlownMetres: Double

    public init(
        drone: DroneIdentity, firstSeenNanoseconds: UInt64, lastSeenNanoseconds: UInt64, framesReceived: UInt64,
        framesLost: UInt64, framesDuplicate: UInt64, samplesReceived: UInt64, lastSampleMicroseconds: UInt64, hasFix: Bool,
        latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32, headingCentidegrees: UInt16, batteryMillivolts: UInt16,
        batteryPercent: UInt8, satellites: UInt8, status: UInt32, groundSpeedMetresPerSecond: Float,
        climbRateMetresPerSecond: Float, distanceFlownMetres: Double
    ) {
        self.drone = drone
        self.firstSeenNanoseconds = firstSeenNanoseconds
        self.lastSeenNanoseconds = lastSeenNanoseconds
        self.framesReceived = framesReceived
        self.framesLost = framesLost
        self.framesDuplicate = framesDuplicate
        self.samplesReceived = samplesReceived
        self.lastSampleMicroseconds = lastSampleMicroseconds
        self.hasFix = hasFix
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
        self.headingCentidegrees = headingCentidegrees
        self.batteryMillivolts = batteryMillivolts
        self.batteryPercent = batteryPercent
        self.satellites = satellites
        self.status = status
        self.groundSpeedMetresPerSecond = groundSpeedMetresPerSecond
        self.climbRateMetresPerSecond = climbRateMetresPerSecond
        self.distanceFlownMetres = distanceFlownMetres
    }

    /// Share of the frames the drone sent that arrived, from sequence gaps (1 = no loss).
    public var linkQuality: Double {
        let expected = framesReceived + framesLost
        return expected == 0 ? 1 : Double(framesReceived) / Double(expected)
    }
}

/// The live fleet: written by the batch processor once per drained pass, read by the HTTP side.
/// One lock acquisition per pass on the writer side, never per packet.
public final class FleetState: Sendable {
    let lock = Mutex<Void>(())
    nonisolated(unsafe) let table: FleetTable

    init(capacity: Int, duplicateWindow: Int) {
        table = FleetTable(capacity: capacity, duplicateWindow: duplicateWindow)
    }

    /// Runs `body` with exclusive access to the table (the processor's side).
    func withTable<R>(_ body: (FleetTable) -> R) -> R {
        lock.withLock { _ in body(table) }
    }

    /// Drones known so far.
    public var count: Int { lock.withLock { _ in table.count } }

    /// A copy of every drone, in the order they were first seen. Bounded by `Limits.dronesMax`.
    public func snapshot() -> [DroneStatus] {
        lock.withLock { _ in (0..<table.count).map { status(row: $0) } }
    }

    /// A copy of one drone, or nil if it was never seen.
    public func status(of drone: DroneIdentity) -> DroneStatus? {
        lock.withLock { _ in table.row(of: drone).map { status(row: $0) } }
    }

    private func status(row: Int) -> DroneStatus {
        let t = table
        return DroneStatus(
            drone: DroneIdentity(protocol: TelemetryProtocol(rawValue: t.protocols[row]) ?? .skygate, number: t.numbers[row]),
            firstSeenNanoseconds: t.firstSeenNanoseconds[row], lastSeenNanoseconds: t.lastSeenNanoseconds[row],
            framesReceived: t.framesReceived[row], framesLost: t.framesLost[row],
            framesDuplicate: t.framesDuplicate[row], samplesReceived: t.samplesReceived[row],
            lastSampleMicroseconds: t.lastTimestamps[row], hasFix: t.hasFix[row], latitudeE7: t.lastLatitudes[row],
            longitudeE7: t.lastLongitudes[row], altitudeMM: t.lastAltitudes[row], headingCentidegrees: t.lastHeadings[row],
            batteryMillivolts: t.lastBatteryMillivolts[row], batteryPercent: t.lastBatteryPercents[row],
            satellites: t.lastSatellites[row], status: t.lastStatuses[row],
            groundSpeedMetresPerSecond: t.lastGroundSpeeds[row], climbRateMetresPerSecond: t.lastClimbRates[row],
            distanceFlownMetres: t.distancesFlown[row])
    }
}
