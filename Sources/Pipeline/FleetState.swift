import Synchronization
import Telemetry
import TelemetryWire


/// The live fleet: written by the batch processor once per drained pass, read by the HTTP side.
/// One lock acquisition per pass on the writer side, never per packet.
public final class FleetState: Sendable {
    let lock = Mutex<Void>(())
    nonisolated(unsafe) let table: FleetTable

    init(capacity: Int, duplicateWindow: Int, offlineAfterNanoseconds: UInt64 = .max) {
        table = FleetTable(capacity: capacity, duplicateWindow: duplicateWindow, offlineAfterNanoseconds: offlineAfterNanoseconds)
    }

    /// Runs `body` with exclusive access to the table (the processor's side).
    func withTable<R>(_ body: (FleetTable) -> R) -> R {
        lock.withLock { _ in body(table) }
    }

    /// Bytes of the fleet table, allocated at start-up (`Limits.dronesMax` rows).
    public var allocatedBytes: Int { table.allocatedBytes }

    /// Drones known so far.
    public var count: Int { lock.withLock { _ in table.count } }

    /// Drones whose fleet rows went to new drones (the table was full and they were offline).
    public var dronesEvicted: UInt64 { lock.withLock { _ in table.dronesEvicted } }

    /// A copy of every drone, by fleet row (the order they were first seen, until rows are reused). Bounded by `Limits.dronesMax`.
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
            distanceFlownMetres: t.distancesFlown[row],
            reportsLowBattery: StatusFlags(rawValue: t.lastStatuses[row]).contains(.lowBattery),
            reportsFailsafe: StatusFlags(rawValue: t.lastStatuses[row]).contains(.failsafe))
    }
}
