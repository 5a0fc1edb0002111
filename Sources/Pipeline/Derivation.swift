/// The derived values, as loops over contiguous columns of primitives that the compiler can
/// vectorise (Benchmarks/…/Derivation compares them with the row-at-a-time versions).
public enum Derivation {
    /// Ground speed in m/s from north and east velocity in cm/s, for every row.
    @inlinable
    public static func groundSpeeds(
        north: UnsafeBufferPointer<Int16>, east: UnsafeBufferPointer<Int16>, into speeds: UnsafeMutablePointer<Float>
    ) {
        precondition(north.count == east.count)
        let count = north.count
        guard count > 0, let n = north.baseAddress, let e = east.baseAddress else { return }
        for row in 0..<count {
            let vn = Float(n[row])
            let ve = Float(e[row])
            speeds[row] = (vn * vn + ve * ve).squareRoot() * 0.01
        }
    }

    /// Metres between consecutive fixes, (latitude, longitude) in 1e-7 degrees, by the
    /// equirectangular approximation: within 0.1 % of the great-circle distance for the
    /// sub-kilometre steps between telemetry samples, and free of trigonometry per row except one
    /// cosine, which is taken from the mean latitude as a polynomial.
    @inlinable
    public static func stepDistances(
        fromLatitudes lat0: UnsafeBufferPointer<Int32>, fromLongitudes lon0: UnsafeBufferPointer<Int32>,
        toLatitudes lat1: UnsafeBufferPointer<Int32>, toLongitudes lon1: UnsafeBufferPointer<Int32>,
        into distances: UnsafeMutablePointer<Float>
    ) {
        let count = lat0.count
        precondition(lon0.count == count && lat1.count == count && lon1.count == count)
        guard count > 0, let a = lat0.baseAddress, let b = lon0.baseAddress, let c = lat1.baseAddress,
            let d = lon1.baseAddress
        else { return }
        // Metres per 1e-7 degree of latitude on a sphere of the mean Earth radius (6,371,008.8 m).
        let metresPerUnit: Float = 6_371_008.8 * Float.pi / 180 * 1e-7
        let radiansPerUnit: Float = Float.pi / 180 * 1e-7
        for row in 0..<count {
            let dLat = Float(c[row] &- a[row])
            let dLon = Float(d[row] &- b[row])
            let meanLatitude = (Float(a[row]) + Float(c[row])) * 0.5 * radiansPerUnit
            // cos(x) to 6 decimals for |x| <= pi/2 by its even Taylor polynomial (degree 10).
            let x2 = meanLatitude * meanLatitude
            let cosine =
                1 - x2 * (0.5 - x2 * (1.0 / 24 - x2 * (1.0 / 720 - x2 * (1.0 / 40_320 - x2 * (1.0 / 3_628_800)))))
            let east = dLon * cosine
            distances[row] = (dLat * dLat + east * east).squareRoot() * metresPerUnit
        }
    }

    /// The same ground speed one sample at a time with `Double` and a function call per row, the
    /// way a row-oriented pipeline would compute it; the benchmark's scalar baseline.
    @inline(never)
    public static func groundSpeedScalar(north: Int16, east: Int16) -> Double {
        (Double(north) * Double(north) + Double(east) * Double(east)).squareRoot() / 100
    }
}
