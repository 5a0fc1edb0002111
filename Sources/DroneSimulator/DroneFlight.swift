#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TelemetryWire

/// One drone's flight: where it is, what it is doing, its battery and its GPS. A plain value with
/// no references, stepped by the fleet once per sample period, so a fleet is one contiguous array
/// and thousands of drones cost a few microseconds each per second of flight.
///
/// The mission cycle is: wait on the ground, take off to cruise height, fly a few waypoints, return
/// home, land, swap the battery, and start again. A battery below `batteryLowFraction` cuts the
/// mission short (return to home); below `batteryCriticalFraction` the drone lands where it is.
public struct DroneFlight: Sendable {
    /// What the drone is doing.
    public enum Phase: UInt8, Sendable {
        case grounded, takingOff, cruising, returning, landing
    }

    public private(set) var phase: Phase = .grounded
    /// Metres north of the area's centre.
    public private(set) var north: Double
    /// Metres east of the area's centre.
    public private(set) var east: Double
    /// Metres above the home point's ground.
    public private(set) var height: Double = 0
    public let homeNorth: Double
    public let homeEast: Double
    /// Ground elevation of the home point above mean sea level, metres.
    public let groundAltitude: Double
    /// Velocity over the ground, metres per second.
    public private(set) var velocityNorth: Double = 0
    public private(set) var velocityEast: Double = 0
    public private(set) var velocityUp: Double = 0
    /// Heading in radians clockwise from north, in [0, 2π).
    public private(set) var heading: Double
    /// Battery energy left, watt-hours.
    public private(set) var batteryEnergy: Double
    /// Whether the battery fell below the low threshold during this flight.
    public private(set) var isBatteryLow = false
    /// Whether the current return or landing was forced by the battery.
    public private(set) var isReturnForced = false
    /// Power drawn during the last step, watts.
    public private(set) var power: Double = 0

    var cruiseSpeed: Double
    var cruiseHeight: Double
    var targetNorth: Double = 0
    var targetEast: Double = 0
    var waypointsLeft = 0
    /// Missions begun so far.
    public private(set) var missionsStarted = 0
    /// Seconds left on the ground before take-off.
    var groundTimer: Double
    /// Seconds left of the current GPS fix loss; 0 with a fix.
    var fixLossLeft: Double = 0
    var satellites: UInt8 = 12
    /// The last position reported with a fix, repeated while the fix is lost.
    var lastFixLatitudeE7: Int32 = 0
    var lastFixLongitudeE7: Int32 = 0
    var lastFixAltitudeMM: Int32 = 0
    var random: SimulatorRandom

    /// A drone on the ground at a home point drawn from `random`, uniformly over the home disc.
    public init(area: FlightArea, parameters: FlightParameters, random: SimulatorRandom) {
        var random = random
        // Uniform over a disc: the radius goes with the square root of a uniform draw.
        let distance = area.radiusMeters * parameters.homeSpreadFraction * random.nextUnit().squareRoot()
        let bearing = random.nextUnit() * 2 * Double.pi
        homeNorth = distance * cos(bearing)
        homeEast = distance * sin(bearing)
        north = homeNorth
        east = homeEast
        groundAltitude = area.groundAltitudeMeters + random.nextDouble(in: -20...20)
        heading = random.nextUnit() * 2 * Double.pi
        batteryEnergy = parameters.batteryCapacityWattHours * random.nextDouble(in: parameters.batteryStartRange)
        cruiseSpeed = random.nextDouble(in: parameters.cruiseSpeedRangeMetersPerSecond)
        cruiseHeight = random.nextDouble(in: parameters.cruiseHeightRangeMeters)
        groundTimer = random.nextDouble(in: 0...parameters.preflightDelayMaxSeconds)
        self.random = random
    }

    /// Share of a full battery left, 0...1.
    public func batteryFraction(_ parameters: FlightParameters) -> Double {
        batteryEnergy / parameters.batteryCapacityWattHours
    }

    /// Advances the flight by `seconds` in a wind blowing towards (`windNorth`, `windEast`) m/s.
    public mutating func step(
        seconds dt: Double, windNorth: Double, windEast: Double, area: FlightArea, parameters p: FlightParameters
    ) {
        switch phase {
        case .grounded:
            velocityNorth = 0
            velocityEast = 0
            velocityUp = 0
            groundTimer -= dt
            if groundTimer <= 0 { startMission(area: area, parameters: p) }
        case .takingOff:
            hold()
            velocityUp = p.climbRateMetersPerSecond
            height += velocityUp * dt
            if height >= cruiseHeight {
                height = cruiseHeight
                velocityUp = 0
                phase = .cruising
            }
        case .cruising, .returning:
            velocityUp = 0
            let arrived = fly(seconds: dt, windNorth: windNorth, windEast: windEast, parameters: p)
            if arrived {
                if phase == .returning {
                    phase = .landing
                } else {
                    waypointsLeft -= 1
                    if waypointsLeft > 0 { pickWaypoint(area: area, parameters: p) } else { returnHome() }
                }
            }
        case .landing:
            hold()
            velocityUp = -p.descentRateMetersPerSecond
            height += velocityUp * dt
            if height <= 0 {
                height = 0
                velocityUp = 0
                phase = .grounded
                groundTimer = p.groundTimeSeconds
            }
        }
        drainBattery(seconds: dt, windNorth: windNorth, windEast: windEast, parameters: p)
        stepGPS(seconds: dt, parameters: p)
    }

    mutating func startMission(area: FlightArea, parameters p: FlightParameters) {
        // A fresh battery for every mission: the crew swapped it while the drone was on the ground.
        // The first mission flies on whatever charge the drone started the run with.
        if missionsStarted > 0 { batteryEnergy = p.batteryCapacityWattHours }
        missionsStarted += 1
        isBatteryLow = false
        isReturnForced = false
        waypointsLeft = random.nextInt(in: p.waypointCountRange)
        cruiseHeight = random.nextDouble(in: p.cruiseHeightRangeMeters)
        pickWaypoint(area: area, parameters: p)
        phase = .takingOff
    }

    mutating func pickWaypoint(area: FlightArea, parameters p: FlightParameters) {
        let distance = p.missionRadiusMeters * random.nextUnit().squareRoot()
        let bearing = random.nextUnit() * 2 * Double.pi
        var n = homeNorth + distance * cos(bearing)
        var e = homeEast + distance * sin(bearing)
        // Clamp into the area, a little inside its edge so GPS noise stays inside too.
        let limit = area.radiusMeters - 10
        let fromCenter = (n * n + e * e).squareRoot()
        if fromCenter > limit {
            n *= limit / fromCenter
            e *= limit / fromCenter
        }
        targetNorth = n
        targetEast = e
    }

    mutating func returnHome() {
        targetNorth = homeNorth
        targetEast = homeEast
        phase = .returning
    }

    /// Holds position horizontally (take-off and landing are vertical).
    mutating func hold() {
        velocityNorth = 0
        velocityEast = 0
    }

    /// Flies towards the target at cruise speed, slowed by a headwind when the airspeed needed
    /// would exceed the airframe's maximum. Returns true on arrival (snapped onto the target).
    mutating func fly(seconds dt: Double, windNorth: Double, windEast: Double, parameters p: FlightParameters)
        -> Bool
    {
        let toNorth = targetNorth - north
        let toEast = targetEast - east
        let distance = (toNorth * toNorth + toEast * toEast).squareRoot()
        guard distance > 1e-6 else {
            hold()
            return true
        }
        let unitNorth = toNorth / distance
        let unitEast = toEast / distance
        // Ground speed s along the unit track d must satisfy |s·d − w| ≤ airspeedMax, which gives
        // s ≤ d·w + sqrt(A² − |w|² + (d·w)²). The wind is always below A, so the root is real.
        let along = unitNorth * windNorth + unitEast * windEast
        let windSquared = windNorth * windNorth + windEast * windEast
        let airspeedMax = p.airspeedMaxMetersPerSecond
        let reachable = along + max(0, airspeedMax * airspeedMax - windSquared + along * along).squareRoot()
        let speed = min(cruiseSpeed, reachable)
        if speed * dt >= distance {
            north = targetNorth
            east = targetEast
            velocityNorth = unitNorth * distance / dt
            velocityEast = unitEast * distance / dt
            return true
        }
        velocityNorth = unitNorth * speed
        velocityEast = unitEast * speed
        north += velocityNorth * dt
        east += velocityEast * dt
        var bearing = atan2(unitEast, unitNorth)
        if bearing < 0 { bearing += 2 * Double.pi }
        heading = bearing
        return false
    }

    mutating func drainBattery(seconds dt: Double, windNorth: Double, windEast: Double, parameters p: FlightParameters) {
        guard phase != .grounded else {
            power = 0
            return
        }
        let airNorth = velocityNorth - windNorth
        let airEast = velocityEast - windEast
        let airspeedSquared = airNorth * airNorth + airEast * airEast
        power =
            p.hoverPowerWatts + p.dragPowerWattsPerSpeedSquared * airspeedSquared
            + p.climbPowerWattsPerMeterPerSecond * max(0, velocityUp)
        batteryEnergy = max(0, batteryEnergy - power * dt / 3_600)
        let fraction = batteryEnergy / p.batteryCapacityWattHours
        if fraction < p.batteryLowFraction || (phase == .cruising && batteryEnergy < energyToReturnHome(p, windNorth, windEast)) {
            isBatteryLow = true
            if phase == .cruising || phase == .takingOff {
                isReturnForced = true
                returnHome()
            }
        }
        if fraction < p.batteryCriticalFraction && phase != .landing {
            // Too little to reach home: land where it is.
            isReturnForced = true
            hold()
            phase = .landing
        }
    }

    /// Energy to fly home into the worst wind and land, with half the low-battery threshold as a
    /// reserve: like a smart return-to-home, the drone turns back in time however far out it is.
    func energyToReturnHome(_ p: FlightParameters, _ windNorth: Double, _ windEast: Double) -> Double {
        let toNorth = homeNorth - north
        let toEast = homeEast - east
        let distance = (toNorth * toNorth + toEast * toEast).squareRoot()
        let windSpeed = (windNorth * windNorth + windEast * windEast).squareRoot()
        // Worst case: a straight headwind, flown at the maximum airspeed.
        let groundSpeed = max(1, p.airspeedMaxMetersPerSecond - windSpeed)
        let airspeed = p.airspeedMaxMetersPerSecond
        let cruisePower = p.hoverPowerWatts + p.dragPowerWattsPerSpeedSquared * airspeed * airspeed
        let seconds = distance / groundSpeed
        let landingSeconds = height / p.descentRateMetersPerSecond
        let reserve = p.batteryCapacityWattHours * p.batteryLowFraction / 2
        return (cruisePower * seconds + p.hoverPowerWatts * landingSeconds) / 3_600 + reserve
    }

    mutating func stepGPS(seconds dt: Double, parameters p: FlightParameters) {
        if fixLossLeft > 0 {
            fixLossLeft = max(0, fixLossLeft - dt)
        } else if random.nextUnit() < p.gpsFixLossRatePerSecond * dt {
            fixLossLeft = random.nextDouble(in: p.gpsFixLossDurationRangeSeconds)
        }
        // The satellite count wanders by at most one per step within 10...18 with a fix.
        let change = random.nextInt(in: -1...1)
        satellites = UInt8(min(18, max(10, Int(satellites) + change)))
    }

    /// Whether the GPS has a fix now.
    public var hasFix: Bool { fixLossLeft == 0 }

    /// The sample the firmware reports now: the true state plus GPS noise, in wire units. Without
    /// a fix the position repeats the last fixed one and the satellite count drops to 0...3.
    public mutating func makeSample(
        timeOffsetMicroseconds: UInt32, area: FlightArea, parameters p: FlightParameters
    ) -> WireSample {
        var status: StatusFlags = []
        let airborne = phase != .grounded
        if airborne { status.insert(.armed) }
        if airborne && height > 0 { status.insert(.inAir) }
        if phase == .returning { status.insert(.returningHome) }
        if phase == .landing { status.insert(.landing) }
        if isBatteryLow { status.insert(.lowBattery) }
        if isReturnForced && batteryFraction(p) < p.batteryCriticalFraction { status.insert(.failsafe) }

        let latitudeE7: Int32
        let longitudeE7: Int32
        let altitudeMM: Int32
        let reportedSatellites: UInt8
        if hasFix {
            status.insert(.gpsFix)
            let noisyNorth = north + p.gpsNoiseHorizontalMeters * random.nextGaussianApproximation()
            let noisyEast = east + p.gpsNoiseHorizontalMeters * random.nextGaussianApproximation()
            let noisyUp = height + p.gpsNoiseVerticalMeters * random.nextGaussianApproximation()
            latitudeE7 = Int32(
                ((area.centerLatitudeDegrees + noisyNorth * area.latitudeDegreesPerMeter) * 1e7).rounded())
            longitudeE7 = Int32(
                ((area.centerLongitudeDegrees + noisyEast * area.longitudeDegreesPerMeter) * 1e7).rounded())
            altitudeMM = Int32(((groundAltitude + noisyUp) * 1_000).rounded())
            lastFixLatitudeE7 = latitudeE7
            lastFixLongitudeE7 = longitudeE7
            lastFixAltitudeMM = altitudeMM
            reportedSatellites = satellites
        } else {
            // Keep the draws per sample constant, so a fix loss does not shift later noise.
            _ = random.next()
            _ = random.next()
            _ = random.next()
            latitudeE7 = lastFixLatitudeE7
            longitudeE7 = lastFixLongitudeE7
            altitudeMM = lastFixAltitudeMM
            reportedSatellites = satellites & 3
        }

        let fraction = min(1, max(0, batteryFraction(p)))
        let openCircuit = p.batteryCells * (3.5 + 0.7 * fraction)
        let current = power / openCircuit
        let volts = openCircuit - current * p.batteryResistanceOhms

        var headingDegrees = heading * 180 / Double.pi
        if headingDegrees >= 360 { headingDegrees -= 360 }
        return WireSample(
            timeOffsetMicroseconds: timeOffsetMicroseconds, latitudeE7: latitudeE7, longitudeE7: longitudeE7,
            altitudeMM: altitudeMM,
            velocityNorthCMS: Int16((velocityNorth * 100).rounded()),
            velocityEastCMS: Int16((velocityEast * 100).rounded()),
            velocityDownCMS: Int16((-velocityUp * 100).rounded()),
            headingCentidegrees: UInt16(min(35_999, (headingDegrees * 100).rounded())),
            batteryMillivolts: UInt16((volts * 1_000).rounded()),
            batteryPercent: UInt8((fraction * 100).rounded(.down)),
            satellites: reportedSatellites, status: status)
    }
}
