import MAVLinkWire
import TelemetryWire

/// Encodes a simulated drone's datagrams as MAVLink 1 or 2, the way an ArduPilot quadcopter's
/// telemetry looks: the drone is system `droneID` (1...255), component 1 (the autopilot), and
/// each datagram carries one GLOBAL_POSITION_INT per sample, preceded about once a second (every
/// `statePeriodDatagrams`-th datagram of the drone, and its first) by HEARTBEAT, SYS_STATUS,
/// GPS_RAW_INT and BATTERY_STATUS describing the first sample.
///
/// MAVLink's sequence is 8 bits per (system, component) and counts frames, not datagrams, so the
/// encoder keeps one counter per system id in a fixed table.
public struct MAVLinkTelemetryEncoder: TelemetryEncoder {
    /// 1 or 2.
    public let version: UInt8
    /// State frames go into every this-many-th datagram of a drone.
    public let statePeriodDatagrams: UInt32
    /// `time_boot_ms` counts from here (µs since 1970): the drones "booted" a minute before the run.
    public let bootMicroseconds: UInt64
    /// Next MAVLink sequence per system id.
    @usableFromInline var sequences: [UInt8]

    /// Frames of state sent ahead of the positions: HEARTBEAT, SYS_STATUS, GPS_RAW_INT, BATTERY_STATUS.
    public static let stateFrameCount = 4
    /// Drone ids must be MAVLink system ids.
    public static let droneIDRange: ClosedRange<UInt32> = 1...255

    public var wireProtocol: WireProtocol { version == 1 ? .mavlink1 : .mavlink2 }

    public init(version: UInt8, statePeriodDatagrams: UInt32, startTimeMicroseconds: UInt64) {
        precondition(version == 1 || version == 2, "MAVLink version must be 1 or 2")
        self.version = version
        self.statePeriodDatagrams = max(statePeriodDatagrams, 1)
        bootMicroseconds = startTimeMicroseconds &- 60_000_000
        sequences = [UInt8](repeating: 0, count: 256)
    }

    /// MAVLink signing is not simulated: no datagram is signed.
    public func isAuthenticating(droneID: UInt32) -> Bool { false }

    public func datagramLengthMax(sampleCount: Int) -> Int {
        // Full payloads (no zero truncation) bound every frame: v1 header 6, v2 header 10, CRC 2.
        let overhead = version == 1 ? MAVLinkFormat.headerLengthV1 + 2 : MAVLinkFormat.headerLengthV2 + 2
        let state: [MAVLinkMessageID] = [.heartbeat, .systemStatus, .gpsRawInt, .batteryStatus]
        let stateBytes = state.reduce(0) { $0 + overhead + (version == 1 ? $1.baseLength : $1.fullLength) }
        return stateBytes + sampleCount * (overhead + MAVLinkMessageID.globalPositionInt.fullLength)
    }

    public mutating func encode(
        droneID: UInt32, sequence: UInt32, timestampMicroseconds: UInt64, samples: UnsafeBufferPointer<WireSample>,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(Self.droneIDRange.contains(droneID), "MAVLink system ids are 1...255")
        let system = UInt8(droneID)
        var offset = 0
        func append(_ message: MAVLinkMessage) {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[offset...])
            offset += MAVLinkEncoder.encode(
                message, version: version, sequence: sequences[Int(system)], systemID: system,
                componentID: MAVLinkFormat.autopilotComponentID, into: rest)
            sequences[Int(system)] &+= 1
        }
        if sequence % statePeriodDatagrams == 0, let first = samples.first {
            let timeMicroseconds = timestampMicroseconds &+ UInt64(first.timeOffsetMicroseconds)
            let state = Self.stateMessages(first, timeMicroseconds: timeMicroseconds)
            append(state.0)
            append(state.1)
            append(state.2)
            append(state.3)
        }
        for sample in samples {
            let time = timestampMicroseconds &+ UInt64(sample.timeOffsetMicroseconds)
            append(.globalPositionInt(MAVLinkGlobalPositionInt(
                timeBootMilliseconds: UInt32(truncatingIfNeeded: (time &- bootMicroseconds) / 1_000),
                latitudeE7: sample.latitudeE7, longitudeE7: sample.longitudeE7, altitudeMM: sample.altitudeMM,
                relativeAltitudeMM: 0, velocityX: sample.velocityNorthCMS, velocityY: sample.velocityEastCMS,
                velocityZ: sample.velocityDownCMS, heading: sample.headingCentidegrees)))
        }
        return offset
    }

    /// The state frames for a sample, as an ArduPilot quadcopter (autopilot 3, type 2) reports it:
    /// mode RTL (6), LAND (9) or LOITER (5); MAV_STATE active in the air, critical in a failsafe.
    /// A tuple, not an array, so that encoding allocates nothing.
    static func stateMessages(_ sample: WireSample, timeMicroseconds: UInt64)
        -> (MAVLinkMessage, MAVLinkMessage, MAVLinkMessage, MAVLinkMessage)
    {
        let status = sample.status
        let customMode: UInt32 = status.contains(.returningHome) ? 6 : status.contains(.landing) ? 9 : 5
        let systemStatus: UInt8 = status.contains(.failsafe) ? 5 : status.contains(.inAir) ? 4 : 3
        let baseMode: UInt8 = 0x01 | (status.contains(.armed) ? 0x80 : 0)
        let percent: Int8 = sample.batteryPercent == WireSample.batteryPercentUnknown ? -1 : Int8(clamping: sample.batteryPercent)
        let hasFix = status.contains(.gpsFix)
        return (
            .heartbeat(MAVLinkHeartbeat(customMode: customMode, vehicleType: 2, autopilot: 3, baseMode: baseMode, systemStatus: systemStatus)),
            .systemStatus(MAVLinkSystemStatus(voltageBattery: sample.batteryMillivolts, currentBattery: -1, batteryRemaining: percent)),
            .gpsRawInt(MAVLinkGPSRawInt(
                timeMicroseconds: timeMicroseconds, latitudeE7: sample.latitudeE7, longitudeE7: sample.longitudeE7,
                altitudeMM: sample.altitudeMM, fixType: hasFix ? 3 : 1, satellitesVisible: sample.satellites)),
            .batteryStatus(MAVLinkBatteryStatus(
                id: 0, voltageMillivolts: UInt32(sample.batteryMillivolts), batteryRemaining: percent,
                chargeState: status.contains(.lowBattery) ? 2 : 1))
        )
    }
}
