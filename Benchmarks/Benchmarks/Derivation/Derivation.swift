import Benchmark
import Pipeline

// The pipeline's derived values over whole columns (struct of arrays, Float, no calls per row)
// against the same arithmetic one row at a time (Double, a call per row), as a row-oriented
// pipeline would compute it. One scaled iteration = one batch of 4,096 rows, so throughput is
// batches/s; rows/s is 4,096 times that.

let rows = 4_096

final class Columns: @unchecked Sendable {
    var north = [Int16](repeating: 0, count: rows)
    var east = [Int16](repeating: 0, count: rows)
    var lat0 = [Int32](repeating: 0, count: rows)
    var lon0 = [Int32](repeating: 0, count: rows)
    var lat1 = [Int32](repeating: 0, count: rows)
    var lon1 = [Int32](repeating: 0, count: rows)
    var speeds = [Float](repeating: 0, count: rows)
    var distances = [Float](repeating: 0, count: rows)
    var doubles = [Double](repeating: 0, count: rows)

    init() {
        var state: UInt32 = 0x1234_5678
        func next() -> UInt32 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return state
        }
        for row in 0..<rows {
            north[row] = Int16(truncatingIfNeeded: Int(next() % 3_000) - 1_500)
            east[row] = Int16(truncatingIfNeeded: Int(next() % 3_000) - 1_500)
            lat0[row] = 473_977_000 + Int32(next() % 100_000)
            lon0[row] = 85_456_000 + Int32(next() % 100_000)
            lat1[row] = lat0[row] + Int32(next() % 200) - 100
            lon1[row] = lon0[row] + Int32(next() % 200) - 100
        }
    }
}

/// Row-at-a-time distance: haversine in Double with a call per row, the textbook way.
@inline(never)
func haversineMetres(_ lat0: Int32, _ lon0: Int32, _ lat1: Int32, _ lon1: Int32) -> Double {
    let toRadians = Double.pi / 180 * 1e-7
    let phi0 = Double(lat0) * toRadians
    let phi1 = Double(lat1) * toRadians
    let dPhi = phi1 - phi0
    let dLambda = Double(lon1 - lon0) * toRadians
    let a = sin(dPhi / 2) * sin(dPhi / 2) + cos(phi0) * cos(phi1) * sin(dLambda / 2) * sin(dLambda / 2)
    return 2 * 6_371_008.8 * asin(a.squareRoot())
}

#if canImport(Glibc)
import Glibc
#endif

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 1, scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 1_000)
    let columns = Columns()

    Benchmark("Ground speed, column loop (4,096 rows)") { benchmark in
        columns.north.withUnsafeBufferPointer { north in
            columns.east.withUnsafeBufferPointer { east in
                columns.speeds.withUnsafeMutableBufferPointer { speeds in
                    for _ in benchmark.scaledIterations {
                        Derivation.groundSpeeds(north: north, east: east, into: speeds.baseAddress!)
                        blackHole(speeds[0])
                    }
                }
            }
        }
    }
    Benchmark("Ground speed, row at a time (4,096 rows)") { benchmark in
        for _ in benchmark.scaledIterations {
            for row in 0..<rows {
                columns.doubles[row] = Derivation.groundSpeedScalar(north: columns.north[row], east: columns.east[row])
            }
            blackHole(columns.doubles[0])
        }
    }
    Benchmark("Step distance, column loop (4,096 rows)") { benchmark in
        columns.lat0.withUnsafeBufferPointer { lat0 in
            columns.lon0.withUnsafeBufferPointer { lon0 in
                columns.lat1.withUnsafeBufferPointer { lat1 in
                    columns.lon1.withUnsafeBufferPointer { lon1 in
                        columns.distances.withUnsafeMutableBufferPointer { distances in
                            for _ in benchmark.scaledIterations {
                                Derivation.stepDistances(
                                    fromLatitudes: lat0, fromLongitudes: lon0, toLatitudes: lat1, toLongitudes: lon1,
                                    into: distances.baseAddress!)
                                blackHole(distances[0])
                            }
                        }
                    }
                }
            }
        }
    }
    Benchmark("Step distance, haversine row at a time (4,096 rows)") { benchmark in
        for _ in benchmark.scaledIterations {
            for row in 0..<rows {
                columns.doubles[row] = haversineMetres(columns.lat0[row], columns.lon0[row], columns.lat1[row], columns.lon1[row])
            }
            blackHole(columns.doubles[0])
        }
    }
}
