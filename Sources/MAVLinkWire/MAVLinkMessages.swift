/// The fields Skygate reads from each mapped message, in their wire units. Offsets are those of
/// the MAVLink wire order (fields sorted by size, extensions last), as pymavlink's generated
/// `unpacker` formats give them; docs/protocol.md ("MAVLink") has the tables.

/// HEARTBEAT (0): what the vehicle is and whether it is armed.
public struct MAVLinkHeartbeat: Equatable, Sendable {
    public var customMode: UInt32
    /// MAV_TYPE (2 = quadrotor, 1 = fixed wing, 6 = ground control station, ...).
    public var vehicleType: UInt8
    /// MAV_AUTOPILOT (3 = ArduPilot, 12 = PX4, 8 = invalid: not a flight controller).
    public var autopilot: UInt8
    /// MAV_MODE_FLAG bits; 0x80 = safety armed.
    public var baseMode: UInt8
    /// MAV_STATE (3 = standby, 4 = active, 5 = critical, 6 = emergency, ...).
    public var systemStatus: UInt8
    public var mavlinkVersion: UInt8

    public init(customMode: UInt32, vehicleType: UInt8, autopilot: UInt8, baseMode: UInt8, systemStatus: UInt8, mavlinkVersion: UInt8 = 3) {
        self.customMode = customMode
        self.vehicleType = vehicleType
        self.autopilot = autopilot
        self.baseMode = baseMode
        self.systemStatus = systemStatus
        self.mavlinkVersion = mavlinkVersion
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        customMode = p.load(0)
        vehicleType = p.load(4)
        autopilot = p.load(5)
        baseMode = p.load(6)
        systemStatus = p.load(7)
        mavlinkVersion = p.load(8)
    }
}

/// SYS_STATUS (1): the battery as the autopilot reports it overall.
public struct MAVLinkSystemStatus: Equatable, Sendable {
    /// Millivolts; UINT16_MAX = not sent.
    public var voltageBattery: UInt16
    /// Centiamperes; -1 = not sent.
    public var currentBattery: Int16
    /// Percent; -1 = not sent.
    public var batteryRemaining: Int8

    public init(voltageBattery: UInt16, currentBattery: Int16, batteryRemaining: Int8) {
        self.voltageBattery = voltageBattery
        self.currentBattery = currentBattery
        self.batteryRemaining = batteryRemaining
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        voltageBattery = p.load(14)
        currentBattery = p.load(16)
        batteryRemaining = p.load(30)
    }
}

/// GPS_RAW_INT (24): the receiver's fix.
public struct MAVLinkGPSRawInt: Equatable, Sendable {
    public var timeMicroseconds: UInt64
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    public var altitudeMM: Int32
    /// GPS_FIX_TYPE: 0/1 = no fix, 2 = 2D, 3 = 3D, 4 = DGPS, 5 = RTK float, 6 = RTK fixed, ...
    public var fixType: UInt8
    /// Satellites visible; 255 = unknown.
    public var satellitesVisible: UInt8

    public init(timeMicroseconds: UInt64, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32, fixType: UInt8, satellitesVisible: UInt8) {
        self.timeMicroseconds = timeMicroseconds
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
        self.fixType = fixType
        self.satellitesVisible = satellitesVisible
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        timeMicroseconds = p.load(0)
        latitudeE7 = p.load(8)
        longitudeE7 = p.load(12)
        altitudeMM = p.load(16)
        fixType = p.load(28)
        satellitesVisible = p.load(29)
    }
}

/// ATTITUDE (30): orientation; Skygate uses the yaw when a position has no heading.
public struct MAVLinkAttitude: Equatable, Sendable {
    public var timeBootMilliseconds: UInt32
    /// Radians.
    public var roll: Float
    public var pitch: Float
    /// Radians, -pi...pi.
    public var yaw: Float

    public init(timeBootMilliseconds: UInt32, roll: Float, pitch: Float, yaw: Float) {
        self.timeBootMilliseconds = timeBootMilliseconds
        self.roll = roll
        self.pitch = pitch
        self.yaw = yaw
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        timeBootMilliseconds = p.load(0)
        roll = p.loadFloat(4)
        pitch = p.loadFloat(8)
        yaw = p.loadFloat(12)
    }
}

/// GLOBAL_POSITION_INT (33): the fused position; one stored row each (from the autopilot).
public struct MAVLinkGlobalPositionInt: Equatable, Sendable {
    public var timeBootMilliseconds: UInt32
    /// 1e-7 degrees.
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    /// Millimetres above mean sea level.
    public var altitudeMM: Int32
    /// Millimetres above home.
    public var relativeAltitudeMM: Int32
    /// cm/s north, east, down (positive down).
    public var velocityX: Int16
    public var velocityY: Int16
    public var velocityZ: Int16
    /// Centidegrees 0...35,999; UINT16_MAX = unknown.
    public var heading: UInt16

    public init(
        timeBootMilliseconds: UInt32, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32, relativeAltitudeMM: Int32,
        velocityX: Int16, velocityY: Int16, velocityZ: Int16, heading: UInt16
    ) {
        self.timeBootMilliseconds = timeBootMilliseconds
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
        self.relativeAltitudeMM = relativeAltitudeMM
        self.velocityX = velocityX
        self.velocityY = velocityY
        self.velocityZ = velocityZ
        self.heading = heading
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        timeBootMilliseconds = p.load(0)
        latitudeE7 = p.load(4)
        longitudeE7 = p.load(8)
        altitudeMM = p.load(12)
        relativeAltitudeMM = p.load(16)
        velocityX = p.load(20)
        velocityY = p.load(22)
        velocityZ = p.load(24)
        heading = p.load(26)
    }
}

/// BATTERY_STATUS (147): one battery in detail; Skygate maps battery id 0.
public struct MAVLinkBatteryStatus: Equatable, Sendable {
    /// Battery id (0 = the first).
    public var id: UInt8
    /// Total millivolts: the sum of the cell voltages that are sent (cells 1-10 and the
    /// extension cells 11-14), or nil when cell 0 is UINT16_MAX (voltage not sent).
    public var voltageMillivolts: UInt32?
    /// Percent; -1 = not sent.
    public var batteryRemaining: Int8
    /// MAV_BATTERY_CHARGE_STATE (extension): 0 = undefined, 1 = ok, 2 = low, 3 = critical,
    /// 4 = emergency, 5 = failed, 6 = unhealthy, 7 = charging.
    public var chargeState: UInt8

    /// Offset of `voltages[0]`; ten u16 cells follow.
    @usableFromInline static let voltagesOffset = 10
    /// Offset of `voltages_ext[0]` (extension); four u16 cells, 0 = not present.
    @usableFromInline static let voltagesExtensionOffset = 41

    public init(id: UInt8, voltageMillivolts: UInt32?, batteryRemaining: Int8, chargeState: UInt8) {
        self.id = id
        self.voltageMillivolts = voltageMillivolts
        self.batteryRemaining = batteryRemaining
        self.chargeState = chargeState
    }

    @inlinable
    public init(_ p: MAVLinkPayload) {
        id = p.load(32)
        batteryRemaining = p.load(35)
        chargeState = p.load(40)
        let first: UInt16 = p.load(Self.voltagesOffset)
        if first == UInt16.max {
            voltageMillivolts = nil
        } else {
            // The MAVLink definition: cells not measured are UINT16_MAX; a pack above 65,534 mV
            // sends 65,534 in cell 0 and the rest in cell 1. Summing the sent cells covers both.
            var total = UInt32(first)
            for cell in 1..<10 {
                let value: UInt16 = p.load(Self.voltagesOffset &+ 2 &* cell)
                if value != UInt16.max { total &+= UInt32(value) }
            }
            for cell in 0..<4 {
                let value: UInt16 = p.load(Self.voltagesExtensionOffset &+ 2 &* cell)
                if value != 0 && value != UInt16.max { total &+= UInt32(value) }
            }
            voltageMillivolts = total
        }
    }
}

/// One decoded message of a mapped type.
public enum MAVLinkMessage: Equatable, Sendable {
    case heartbeat(MAVLinkHeartbeat)
    case systemStatus(MAVLinkSystemStatus)
    case gpsRawInt(MAVLinkGPSRawInt)
    case attitude(MAVLinkAttitude)
    case globalPositionInt(MAVLinkGlobalPositionInt)
    case batteryStatus(MAVLinkBatteryStatus)

    /// Decodes `payload` as message `id`.
    @inlinable
    public init(id: MAVLinkMessageID, payload: MAVLinkPayload) {
        switch id {
        case .heartbeat: self = .heartbeat(MAVLinkHeartbeat(payload))
        case .systemStatus: self = .systemStatus(MAVLinkSystemStatus(payload))
        case .gpsRawInt: self = .gpsRawInt(MAVLinkGPSRawInt(payload))
        case .attitude: self = .attitude(MAVLinkAttitude(payload))
        case .globalPositionInt: self = .globalPositionInt(MAVLinkGlobalPositionInt(payload))
        case .batteryStatus: self = .batteryStatus(MAVLinkBatteryStatus(payload))
        }
    }
}
