#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The disc the fleet flies in: a centre on the WGS 84 ellipsoid and a radius. The model works in
/// metres east and north of the centre and converts to degrees only when it reports a sample.
///
/// The conversion is the equirectangular approximation, exact enough over a few kilometres (the
/// error at 10 km is below a metre) and one multiplication per axis, which keeps thousands of
/// drones cheap.
public struct FlightArea: Sendable, Equatable {
    /// Latitude of the centre in degrees.
    public var centerLatitudeDegrees: Double
    /// Longitude of the centre in degrees.
    public var centerLongitudeDegrees: Double
    /// Radius of the area in metres: no drone flies (or reports, less GPS noise) beyond it.
    public var radiusMeters: Double
    /// Ground elevation above mean sea level at the centre, in metres; homes vary around it.
    public var groundAltitudeMeters: Double

    /// Mean Earth radius (IUGG) in metres.
    public static let earthRadiusMeters = 6_371_008.8

    /// The PX4/ArduPilot SITL default neighbourhood (Zurich), 5 km across each way.
    public static let standard = FlightArea(
        centerLatitudeDegrees: 47.397_742, centerLongitudeDegrees: 8.545_594, radiusMeters: 5_000,
        groundAltitudeMeters: 488)

    public init(
        centerLatitudeDegrees: Double, centerLongitudeDegrees: Double, radiusMeters: Double,
        groundAltitudeMeters: Double
    ) {
        self.centerLatitudeDegrees = centerLatitudeDegrees
        self.centerLongitudeDegrees = centerLongitudeDegrees
        self.radiusMeters = radiusMeters
        self.groundAltitudeMeters = groundAltitudeMeters
    }

    /// Degrees of latitude per metre north.
    public var latitudeDegreesPerMeter: Double { 180 / (Double.pi * Self.earthRadiusMeters) }
    /// Degrees of longitude per metre east at the centre's latitude.
    public var longitudeDegreesPerMeter: Double {
        latitudeDegreesPerMeter / cos(centerLatitudeDegrees * Double.pi / 180)
    }

    /// Metres north and east of the centre of a position given in 1e-7 degrees (the inverse of
    /// what the model reports; tests use it to check the bounds from the wire values).
    public func offsetMeters(latitudeE7: Int32, longitudeE7: Int32) -> (north: Double, east: Double) {
        let north = (Double(latitudeE7) * 1e-7 - centerLatitudeDegrees) / latitudeDegreesPerMeter
        let east = (Double(longitudeE7) * 1e-7 - centerLongitudeDegrees) / longitudeDegreesPerMeter
        return (north, east)
    }
}
