/// The latest state of each MAVLink system's autopilot, from the messages that carry no
/// position (HEARTBEAT, SYS_STATUS, GPS_RAW_INT, ATTITUDE, BATTERY_STATUS), so that each stored
/// GLOBAL_POSITION_INT row carries battery, satellites, fix and flight status like a Skygate
/// sample. System ids are one byte, so the table is 256 fixed rows, allocated once.
public final class MAVLinkVehicleTable {
    /// One row per system id.
    public static let systemCount = 256
    /// A boot clock that jumps back by more than this is a reboot, not a reordered frame.
    public static let rebootBackstepMilliseconds: UInt32 = 10_000

    @usableFromInline let batteryMillivolts: UnsafeMutablePointer<UInt16>
    @usableFromInline let batteryPercents: UnsafeMutablePointer<UInt8>
    @usableFromInline let satellites: UnsafeMutablePointer<UInt8>
    /// StatusFlags bits other than the GPS fix, from HEARTBEAT and BATTERY_STATUS.
    @usableFromInline let statuses: UnsafeMutablePointer<UInt32>
    /// GPS_RAW_INT fix type, or `fixTypeUnknown` until one arrives.
    @usableFromInline let fixTypes: UnsafeMutablePointer<UInt8>
    /// ATTITUDE yaw in centidegrees, or `headingUnknown`.
    @usableFromInline let attitudeHeadings: UnsafeMutablePointer<UInt16>
    /// Estimated wall-clock time of boot (µs since 1970), 0 = not yet known; and the last boot time.
    @usableFromInline let bootEpochMicroseconds: UnsafeMutablePointer<UInt64>
    @usableFromInline let lastBootMilliseconds: UnsafeMutablePointer<UInt32>

    /// No GPS_RAW_INT seen yet: the fix is inferred from a non-zero position.
    public static let fixTypeUnknown: UInt8 = 0xFF
    /// Heading unknown (as in Skygate samples and GLOBAL_POSITION_INT).
    public static let headingUnknown: UInt16 = 0xFFFF

    public init() {
        func column<T: FixedWidthInteger>(_ value: T) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: Self.systemCount)
            pointer.initialize(repeating: value, count: Self.systemCount)
            return pointer
        }
        batteryMillivolts = column(UInt16(0))
        batteryPercents = column(UInt8(0xFF))
        satellites = column(UInt8(0xFF))
        statuses = column(UInt32(0))
        fixTypes = column(Self.fixTypeUnknown)
        attitudeHeadings = column(Self.headingUnknown)
        bootEpochMicroseconds = column(UInt64(0))
        lastBootMilliseconds = column(UInt32(0))
    }

    deinit {
        batteryMillivolts.deallocate()
        batteryPercents.deallocate()
        satellites.deallocate()
        statuses.deallocate()
        fixTypes.deallocate()
        attitudeHeadings.deallocate()
        bootEpochMicroseconds.deallocate()
        lastBootMilliseconds.deallocate()
    }

    /// Forgets every system (tests, a new gateway run).
    public func reset() {
        for system in 0..<Self.systemCount {
            batteryMillivolts[system] = 0
            batteryPercents[system] = 0xFF
            satellites[system] = 0xFF
            statuses[system] = 0
            fixTypes[system] = Self.fixTypeUnknown
            attitudeHeadings[system] = Self.headingUnknown
            bootEpochMicroseconds[system] = 0
            lastBootMilliseconds[system] = 0
        }
    }

    // Status bits, as TelemetryWire's StatusFlags defines them (docs/protocol.md).
    @usableFromInline static let armedBit: UInt32 = 1 << 0
    @usableFromInline static let inAirBit: UInt32 = 1 << 1
    @usableFromInline static let gpsFixBit: UInt32 = 1 << 2
    @usableFromInline static let returningHomeBit: UInt32 = 1 << 3
    @usableFromInline static let lowBatteryBit: UInt32 = 1 << 4
    @usableFromInline static let landingBit: UInt32 = 1 << 5
    @usableFromInline static let failsafeBit: UInt32 = 1 << 6
    @usableFromInline static let heartbeatBits: UInt32 = armedBit | inAirBit | returningHomeBit | landingBit | failsafeBit

    /// The sample time of a position: the boot clock (`time_boot_ms`) placed on the wall clock by
    /// the earliest-arriving estimate of the boot time (network delay only ever makes a frame
    /// late, so the smallest receive − boot is the best), which keeps the vehicle's own sample
    /// spacing. A boot clock of 0 (not sent) uses the receive time.
    @inlinable
    public func sampleTimeMicroseconds(system: UInt8, timeBootMilliseconds: UInt32, receivedMicroseconds: UInt64) -> UInt64 {
        guard timeBootMilliseconds != 0 else { return receivedMicroseconds }
        let boot = UInt64(timeBootMilliseconds) &* 1_000
        guard receivedMicroseconds > boot else { return receivedMicroseconds }
        let candidate = receivedMicroseconds &- boot
        let epoch = bootEpochMicroseconds[Int(system)]
        let isReboot = timeBootMilliseconds &+ Self.rebootBackstepMilliseconds < lastBootMilliseconds[Int(system)]
        if epoch == 0 || isReboot || candidate < epoch { return receivedMicroseconds }
        return epoch &+ boot
    }

    /// Folds an accepted frame from the system's autopilot into its state.
    @inlinable
    public func apply(_ message: MAVLinkMessage, system: UInt8, receivedMicroseconds: UInt64) {
        let row = Int(system)
        switch message {
        case .heartbeat(let heartbeat):
            statuses[row] = statuses[row] & ~Self.heartbeatBits | Self.heartbeatStatus(heartbeat)
        case .systemStatus(let status):
            batteryMillivolts[row] = status.voltageBattery == UInt16.max ? 0 : status.voltageBattery
            batteryPercents[row] = Self.percent(status.batteryRemaining)
        case .gpsRawInt(let gps):
            fixTypes[row] = gps.fixType
            satellites[row] = gps.satellitesVisible
        case .attitude(let attitude):
            attitudeHeadings[row] = Self.centidegrees(yaw: attitude.yaw)
        case .globalPositionInt(let position):
            guard position.timeBootMilliseconds != 0 else { break }
            let boot = UInt64(position.timeBootMilliseconds) &* 1_000
            guard receivedMicroseconds > boot else { break }
            let candidate = receivedMicroseconds &- boot
            let isReboot = position.timeBootMilliseconds &+ Self.rebootBackstepMilliseconds < lastBootMilliseconds[row]
            if bootEpochMicroseconds[row] == 0 || isReboot || candidate < bootEpochMicroseconds[row] {
                bootEpochMicroseconds[row] = candidate
            }
            lastBootMilliseconds[row] = position.timeBootMilliseconds
        case .batteryStatus(let battery):
            guard battery.id == 0 else { break }
            if let millivolts = battery.voltageMillivolts { batteryMillivolts[row] = UInt16(min(millivolts, 0xFFFE)) }
            batteryPercents[row] = Self.percent(battery.batteryRemaining)
            // MAV_BATTERY_CHARGE_STATE low (2), critical (3), emergency (4) and failed (5).
            let isLow = battery.chargeState >= 2 && battery.chargeState <= 5
            statuses[row] = isLow ? statuses[row] | Self.lowBatteryBit : statuses[row] & ~Self.lowBatteryBit
        }
    }

    /// Status bits of the sample a position becomes: the heartbeat's and battery's bits, plus the
    /// GPS fix (GPS_RAW_INT fix type 3D or better; without any GPS_RAW_INT, a non-zero position).
    @inlinable
    public func status(system: UInt8, latitudeE7: Int32, longitudeE7: Int32) -> UInt32 {
        let row = Int(system)
        let fixType = fixTypes[row]
        let hasFix = fixType == Self.fixTypeUnknown ? (latitudeE7 != 0 || longitudeE7 != 0) : fixType >= 3
        return statuses[row] | (hasFix ? Self.gpsFixBit : 0)
    }

    /// The flight status bits a heartbeat gives. MAV_STATE active (4) means flying; critical (5)
    /// and emergency (6) mean a failsafe. Return-to-home and landing come from the autopilot's
    /// own mode numbers, known for ArduPilot multirotors and PX4.
    @inlinable
    static func heartbeatStatus(_ heartbeat: MAVLinkHeartbeat) -> UInt32 {
        var bits: UInt32 = 0
        if heartbeat.baseMode & 0x80 != 0 { bits |= armedBit }
        if heartbeat.systemStatus == 4 { bits |= inAirBit }
        if heartbeat.systemStatus == 5 || heartbeat.systemStatus == 6 { bits |= failsafeBit }
        switch heartbeat.autopilot {
        case 3:  // ArduPilot; multirotor and helicopter types use ArduCopter's mode numbers.
            switch heartbeat.vehicleType {
            case 2, 3, 4, 13, 14, 15:  // quad, coaxial, helicopter, hexa, octo, tri

                if heartbeat.customMode == 6 || heartbeat.customMode == 21 { bits |= returningHomeBit }  // RTL, SMART_RTL
                if heartbeat.customMode == 9 { bits |= landingBit }  // LAND
            default:
                break
            }
        case 12:  // PX4: main mode in bits 16-23, sub mode in bits 24-31; AUTO (4) with RTL (5) or LAND (6).
            let mainMode = (heartbeat.customMode >> 16) & 0xFF
            let subMode = heartbeat.customMode >> 24
            if mainMode == 4 && subMode == 5 { bits |= returningHomeBit }
            if mainMode == 4 && subMode == 6 { bits |= landingBit }
        default:
            break
        }
        return bits
    }

    /// MAVLink's percent (-1 = not sent) as a Skygate percent (0xFF = unknown).
    @inlinable
    static func percent(_ remaining: Int8) -> UInt8 {
        remaining < 0 || remaining > 100 ? 0xFF : UInt8(remaining)
    }

    /// A yaw in radians as centidegrees 0...35,999 (unknown when not finite).
    @inlinable
    static func centidegrees(yaw: Float) -> UInt16 {
        guard yaw.isFinite, yaw.magnitude < 100 else { return headingUnknown }
        var degrees = Double(yaw) * (18_000 / Double.pi)
        degrees = degrees.truncatingRemainder(dividingBy: 36_000)
        if degrees < 0 { degrees += 36_000 }
        let rounded = Int(degrees.rounded())
        return UInt16(rounded >= 36_000 ? 0 : rounded)
    }
}
