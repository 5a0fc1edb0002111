/// Flight status bits carried in every sample (sample bytes 28..31).
public struct StatusFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Motors armed.
    public static let armed = StatusFlags(rawValue: 1 << 0)
    /// Airborne (not on the ground).
    public static let inAir = StatusFlags(rawValue: 1 << 1)
    /// GPS has a 3D fix; without it the position fields repeat the last known position or are zero.
    public static let gpsFix = StatusFlags(rawValue: 1 << 2)
    /// Returning to the home point (commanded or forced by a low battery).
    public static let returningHome = StatusFlags(rawValue: 1 << 3)
    /// Battery below the firmware's low threshold.
    public static let lowBattery = StatusFlags(rawValue: 1 << 4)
    /// Descending to land.
    public static let landing = StatusFlags(rawValue: 1 << 5)
    /// A failsafe is active (lost radio link, geofence, sensor failure).
    public static let failsafe = StatusFlags(rawValue: 1 << 6)
}

/// One telemetry sample as firmware fills it in: integers in the wire's own units, so encoding
/// is a copy and a decoded sample equals the encoded one exactly.
public struct WireSample: Equatable, Sendable {
    /// Microseconds after the frame's timestamp at which this sample was taken.
    public var timeOffsetMicroseconds: UInt32
    /// Latitude in 1e-7 degrees (WGS 84).
    public var latitudeE7: Int32
    /// Longitude in 1e-7 degrees (WGS 84).
    public var longitudeE7: Int32
    /// Altitude above mean sea level in millimetres.
    public var altitudeMM: Int32
    /// Velocity north in cm/s.
    public var velocityNorthCMS: Int16
    /// Velocity east in cm/s.
    public var velocityEastCMS: Int16
    /// Velocity down in cm/s (positive when descending).
    public var velocityDownCMS: Int16
    /// Heading in centidegrees 0...35,999; `WireSample.headingUnknown` when not known.
    public var headingCentidegrees: UInt16
    /// Battery voltage in millivolts.
    public var batteryMillivolts: UInt16
    /// Battery remaining, 0...100 percent; `WireSample.batteryPercentUnknown` when not known.
    public var batteryPercent: UInt8
    /// Satellites used in the GPS solution; 0xFF when not known.
    public var satellites: UInt8
    /// Flight status bits.
    public var status: StatusFlags

    /// The heading value that means "not known".
    public static let headingUnknown: UInt16 = 0xFFFF
    /// The battery percent value that means "not known".
    public static let batteryPercentUnknown: UInt8 = 0xFF

    @inlinable
    public init(
        timeOffsetMicroseconds: UInt32 = 0, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32,
        velocityNorthCMS: Int16 = 0, velocityEastCMS: Int16 = 0, velocityDownCMS: Int16 = 0,
        headingCentidegrees: UInt16 = WireSample.headingUnknown, batteryMillivolts: UInt16 = 0,
        batteryPercent: UInt8 = WireSample.batteryPercentUnknown, satellites: UInt8 = 0xFF,
        status: StatusFlags = []
    ) {
        self.timeOffsetMicroseconds = timeOffsetMicroseconds
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
        self.velocityNorthCMS = velocityNorthCMS
        self.velocityEastCMS = velocityEastCMS
        self.velocityDownCMS = velocityDownCMS
        self.headingCentidegrees = headingCentidegrees
        self.batteryMillivolts = batteryMillivolts
        self.batteryPercent = batteryPercent
        self.satellites = satellites
        self.status = status
    }
}

/// The frame header fields a sender chooses (the rest follow from the samples and the flags).
public struct FrameHeader: Equatable, Sendable {
    /// The drone's 32-bit identity; with the protocol it names the drone, whatever its address.
    public var droneID: UInt32
    /// Frame counter per drone, +1 per frame sent, wrapping at 2^32. Gaps measure link loss.
    public var sequence: UInt32
    /// Time of the frame in microseconds since the Unix epoch (UTC); samples add their offsets.
    public var timestampMicroseconds: UInt64

    @inlinable
    public init(droneID: UInt32, sequence: UInt32, timestampMicroseconds: UInt64) {
        self.droneID = droneID
        self.sequence = sequence
        self.timestampMicroseconds = timestampMicroseconds
    }
}

/// What the decoder learned about one accepted frame.
public struct DecodedFrame: Equatable, Sendable {
    public var header: FrameHeader
    /// Samples appended to the columns.
    public var sampleCount: Int
    /// Bytes the frame occupied.
    public var length: Int
    /// Whether the frame carried a tag that verified.
    public var isAuthenticated: Bool
    /// The authentication counter, when the frame was authenticated.
    public var authenticationCounter: UInt64

    @inlinable
    public init(
        header: FrameHeader, sampleCount: Int, length: Int, isAuthenticated: Bool,
        authenticationCounter: UInt64
    ) {
        self.header = header
        self.sampleCount = sampleCount
        self.length = length
        self.isAuthenticated = isAuthenticated
        self.authenticationCounter = authenticationCounter
    }
}
