import Telemetry
import Testing
import TelemetryWire

@testable import DroneSimulator

/// The flight model stays physical over long runs (inside its area, below its ceiling, within its
/// speeds, battery within capacity), completes whole missions, and its battery drains faster when
/// climbing and in wind and forces a return home when low.
struct DroneFlightTests {
    @Test func longRunStaysWithinAreaAltitudeAndSpeedBounds() {
        let area = FlightArea.standard
        let parameters = FlightParameters.standard
        let step = 0.5
        let steps = Int(3 * 3_600 / step)  // three hours: several missions and battery swaps each
        let windNorth = 5.0
        let windEast = -4.0
        var missions = 0
        var sawCruise = false
        var sawReturn = false
        for droneID in UInt64(1)...12 {
            var drone = DroneFlight(area: area, parameters: parameters, random: SimulatorRandom(seed: 9, stream: droneID))
            for _ in 0..<steps {
                drone.step(seconds: step, windNorth: windNorth, windEast: windEast, area: area, parameters: parameters)
                let fromCenter = (drone.north * drone.north + drone.east * drone.east).squareRoot()
                let groundSpeed = (drone.velocityNorth * drone.velocityNorth + drone.velocityEast * drone.velocityEast)
                    .squareRoot()
                if fromCenter > area.radiusMeters || drone.height < 0
                    || drone.height > parameters.cruiseHeightRangeMeters.upperBound + 1e-9
                    || groundSpeed > parameters.cruiseSpeedRangeMetersPerSecond.upperBound + 1e-9
                    || drone.velocityUp > parameters.climbRateMetersPerSecond
                    || drone.velocityUp < -parameters.descentRateMetersPerSecond
                    || drone.batteryEnergy < 0 || drone.batteryEnergy > parameters.batteryCapacityWattHours
                {
                    Issue.record("drone \(droneID) out of bounds: \(drone)")
                    return
                }
                sawCruise = sawCruise || drone.phase == .cruising
                sawReturn = sawReturn || drone.phase == .returning
                // What the drone reports (with GPS noise) stays inside the area too.
                let sample = drone.makeSample(timeOffsetMicroseconds: 0, area: area, parameters: parameters)
                let offset = area.offsetMeters(latitudeE7: sample.latitudeE7, longitudeE7: sample.longitudeE7)
                let reported = (offset.north * offset.north + offset.east * offset.east).squareRoot()
                #expect(reported <= area.radiusMeters + 5 || sample.latitudeE7 == 0)
            }
            missions += drone.missionsStarted
        }
        #expect(sawCruise && sawReturn)
        // Each drone flies several missions in three hours (about 20 minutes each plus a minute down).
        #expect(missions >= 12 * 3)
    }

    @Test func lowBatteryForcesReturnHomeAndLanding() {
        let area = FlightArea.standard
        var parameters = FlightParameters.standard
        // A small battery, a long mission and no waiting: the battery, not the mission, ends the flight.
        parameters.batteryCapacityWattHours = 40
        parameters.batteryStartRange = 1...1
        parameters.waypointCountRange = 50...50
        parameters.preflightDelayMaxSeconds = 0
        var drone = DroneFlight(area: area, parameters: parameters, random: SimulatorRandom(seed: 1, stream: 2))
        var previousEnergy = drone.batteryEnergy
        var forcedReturnAt: Double?
        var time = 0.0
        let step = 0.1
        while time < 3_600 {
            drone.step(seconds: step, windNorth: 3, windEast: 0, area: area, parameters: parameters)
            time += step
            if drone.phase != .grounded && drone.batteryEnergy >= previousEnergy {
                Issue.record("battery did not drain in flight at \(time) s")
                break
            }
            previousEnergy = drone.batteryEnergy
            if forcedReturnAt == nil && drone.isReturnForced {
                forcedReturnAt = time
                #expect(drone.phase == .returning)
                #expect(drone.isBatteryLow)
                #expect(drone.batteryEnergy < drone.energyToReturnHome(parameters, 3, 0) || drone.batteryFraction(parameters) < parameters.batteryLowFraction)
                let sample = drone.makeSample(timeOffsetMicroseconds: 0, area: area, parameters: parameters)
                #expect(sample.status.contains(.returningHome) && sample.status.contains(.lowBattery))
            }
            if forcedReturnAt != nil && drone.phase == .grounded { break }
        }
        // 40 Wh at ~250 W lasts under 10 minutes; the return must come before that ends, and the
        // drone must reach home and land with charge to spare.
        let returnTime = forcedReturnAt ?? .infinity
        #expect(returnTime > 60 && returnTime < 600)
        #expect(drone.phase == .grounded)
        #expect(drone.batteryFraction(parameters) > parameters.batteryCriticalFraction)
        #expect(abs(drone.north - drone.homeNorth) < 1e-6 && abs(drone.east - drone.homeEast) < 1e-6)
    }

    @Test func climbingAndWindDrawMorePower() {
        let area = FlightArea.standard
        var parameters = FlightParameters.standard
        parameters.preflightDelayMaxSeconds = 0
        func energyUsed(seconds: Double, windEast: Double) -> (energy: Double, takeOffPower: Double, cruisePower: Double) {
            var drone = DroneFlight(area: area, parameters: parameters, random: SimulatorRandom(seed: 5, stream: 1))
            let start = drone.batteryEnergy
            var takeOffPower = 0.0
            var cruisePower = 0.0
            var time = 0.0
            while time < seconds {
                drone.step(seconds: 0.1, windNorth: 0, windEast: windEast, area: area, parameters: parameters)
                if drone.phase == .takingOff { takeOffPower = drone.power }
                if drone.phase == .cruising { cruisePower = drone.power }
                time += 0.1
            }
            return (start - drone.batteryEnergy, takeOffPower, cruisePower)
        }
        let calm = energyUsed(seconds: 120, windEast: 0)
        let windy = energyUsed(seconds: 120, windEast: 7)
        #expect(calm.takeOffPower > parameters.hoverPowerWatts + parameters.climbPowerWattsPerMeterPerSecond * 2.9)
        #expect(calm.takeOffPower > calm.cruisePower)
        #expect(windy.energy > calm.energy)
    }

    @Test func gpsLosesItsFixNowAndThenAndRepeatsTheLastPosition() {
        let area = FlightArea.standard
        var parameters = FlightParameters.standard
        parameters.gpsFixLossRatePerSecond = 1.0 / 20
        var drone = DroneFlight(area: area, parameters: parameters, random: SimulatorRandom(seed: 2, stream: 4))
        var withoutFix = 0
        var previous: WireSample?
        for _ in 0..<6_000 {
            let sample = drone.makeSample(timeOffsetMicroseconds: 0, area: area, parameters: parameters)
            if !sample.status.contains(.gpsFix) {
                withoutFix += 1
                #expect(sample.satellites <= 3)
                if let previous {
                    #expect(sample.latitudeE7 == previous.latitudeE7 && sample.longitudeE7 == previous.longitudeE7)
                }
            }
            previous = sample
            drone.step(seconds: 0.1, windNorth: 0, windEast: 0, area: area, parameters: parameters)
        }
        // 600 s at one loss per 20 s of 1...5 s each: roughly 30 losses, about 15 % of the time.
        #expect(withoutFix > 300 && withoutFix < 2_000)
    }
}
