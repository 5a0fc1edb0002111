/// The airframe and mission figures every drone of a fleet shares; each drone draws its own
/// values inside the ranges. The defaults describe a 2.5 kg quadcopter on a 4S battery.
public struct FlightParameters: Sendable, Equatable {
    /// Cruise ground speed over still air, metres per second.
    public var cruiseSpeedRangeMetersPerSecond: ClosedRange<Double> = 8...15
    /// Fastest the airframe moves through the air; a headwind beyond cruise speed slows it.
    public var airspeedMaxMetersPerSecond: Double = 18
    /// Cruise height above the home point, metres.
    public var cruiseHeightRangeMeters: ClosedRange<Double> = 60...120
    /// Climb rate during take-off, metres per second.
    public var climbRateMetersPerSecond: Double = 3
    /// Descent rate while landing, metres per second.
    public var descentRateMetersPerSecond: Double = 1.5
    /// Waypoints per mission before returning home.
    public var waypointCountRange: ClosedRange<Int> = 3...8
    /// Farthest a waypoint lies from its drone's home, metres (then clamped into the area).
    public var missionRadiusMeters: Double = 1_500
    /// Share of the area's radius within which home points are spread.
    public var homeSpreadFraction: Double = 0.7
    /// Seconds a drone waits on the ground before its first take-off (drawn per drone, so the
    /// fleet does not take off as one).
    public var preflightDelayMaxSeconds: Double = 30
    /// Seconds on the ground after landing: the battery is swapped, then the next mission starts.
    public var groundTimeSeconds: Double = 60

    /// Battery energy when full, watt-hours.
    public var batteryCapacityWattHours: Double = 90
    /// Charge at the start of the run, as a share of full (drawn per drone).
    public var batteryStartRange: ClosedRange<Double> = 0.6...1.0
    /// Charge below which the drone abandons its mission and returns home.
    public var batteryLowFraction: Double = 0.25
    /// Charge below which it lands where it is (a failsafe).
    public var batteryCriticalFraction: Double = 0.08
    /// Power to hover, watts.
    public var hoverPowerWatts: Double = 220
    /// Extra power per (metre per second of airspeed) squared, watts: flying into wind costs more.
    public var dragPowerWattsPerSpeedSquared: Double = 0.6
    /// Extra power per metre per second of climb, watts (m·g over a propulsive efficiency of 0.5).
    public var climbPowerWattsPerMeterPerSecond: Double = 50
    /// Cells in series; voltage per cell runs from 3.5 V empty to 4.2 V full.
    public var batteryCells: Double = 4
    /// Internal resistance of the pack, ohms: the voltage sags under load.
    public var batteryResistanceOhms: Double = 0.02

    /// Standard deviation of the horizontal GPS error, metres.
    public var gpsNoiseHorizontalMeters: Double = 1.0
    /// Standard deviation of the vertical GPS error, metres.
    public var gpsNoiseVerticalMeters: Double = 1.5
    /// Mean rate at which a drone loses its GPS fix, per second (one loss in five minutes).
    public var gpsFixLossRatePerSecond: Double = 1.0 / 300
    /// How long a fix loss lasts, seconds.
    public var gpsFixLossDurationRangeSeconds: ClosedRange<Double> = 1...5

    /// Largest wind speed the fleet's weather draws, metres per second.
    public var windSpeedMaxMetersPerSecond: Double = 8

    public init() {}

    /// The defaults.
    public static let standard = FlightParameters()
}
