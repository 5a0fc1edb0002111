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
    /// The values that say "not known" in `headingCentidegrees` and `batteryPercent`: the wire's
    /// (`WireSample.headingUnknown`, `.batteryPercentUnknown`; PipelineTests holds them equal).
    public static let headingUnknown: UInt16 = 0xFFFF
    public static let batteryPercentUnknown: UInt8 = 0xFF
    /// What the drone's own status word says (its wire flags, read where the wire is known).
    public var reportsLowBattery: Bool
    public var reportsFailsafe: Bool

    public init(
        drone: DroneIdentity, firstSeenNanoseconds: UInt64, lastSeenNanoseconds: UInt64, framesReceived: UInt64,
        framesLost: UInt64, framesDuplicate: UInt64, samplesReceived: UInt64, lastSampleMicroseconds: UInt64, hasFix: Bool,
        latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32, headingCentidegrees: UInt16, batteryMillivolts: UInt16,
        batteryPercent: UInt8, satellites: UInt8, status: UInt32, groundSpeedMetresPerSecond: Float,
        climbRateMetresPerSecond: Float, distanceFlownMetres: Double, reportsLowBattery: Bool = false, reportsFailsafe: Bool = false
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
        self.reportsLowBattery = reportsLowBattery
        self.reportsFailsafe = reportsFailsafe
    }

    /// Share of the frames the drone sent that arrived, from sequence gaps (1 = no loss).
    public var linkQuality: Double {
        let expected = framesReceived + framesLost
        return expected == 0 ? 1 : Double(framesReceived) / Double(expected)
    }
}
