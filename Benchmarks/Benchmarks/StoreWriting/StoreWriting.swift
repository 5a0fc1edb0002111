import Benchmark
@_spi(Benchmarking) import TelemetryStore
import Telemetry
import TelemetryWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the (protocol, drone, time) index costs and what amortises it (docs/architecture.md,
// "Storage"). Each iteration writes `totalRows` rows from 1,000 drones round-robin, as the gateway
// receives them (drone k mod 1,000, 50 Hz per drone), into a fresh WAL database through
// `TelemetryStore.write`, in commits of the configured size. The metric `rows/s` is rows divided by
// the summed `write` durations (BEGIN to COMMIT, sort included; automatic checkpoints happen inside
// commits and are included; the final close is not, as in shared/limits/sqlite_bench.c).

let totalRows = 1_048_576
let droneCount = 1_000
let firstTimeMicroseconds: UInt64 = 1_767_225_600_000_000
let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
let commitMilliseconds = BenchmarkMetric.custom("commit p100 ms", polarity: .prefersSmaller, useScalingFactor: false)

struct StoreDesign {
    var name: String
    var layout: StoreLayout
    var commitRows: Int
    var walAutoCheckpointPages: Int = StoreOptions().walAutoCheckpointPages
    var pageSize: Int? = nil
}

/// Fills `columns` with rows `first..<first + columns.capacity` of the 1,000-drone stream.
func fill(_ columns: SampleColumns, first: Int) {
    columns.removeAll()
    for k in first..<(first + columns.capacity) {
        let drone = UInt32(k % droneCount + 1)
        let round = k / droneCount
        let sample = WireSample(
            latitudeE7: 473_977_000 + Int32(truncatingIfNeeded: round * 3 + Int(drone) * 1_000),
            longitudeE7: 85_456_000 - Int32(truncatingIfNeeded: round * 2), altitudeMM: 50_000 + Int32(round % 10_000),
            velocityNorthCMS: Int16(round % 400) - 200, velocityEastCMS: 120, velocityDownCMS: -5,
            headingCentidegrees: UInt16(round % 36_000), batteryMillivolts: 16_400 - UInt16(round % 4_000),
            batteryPercent: UInt8(100 - round % 100), satellites: 14, status: [.armed, .inAir, .gpsFix])
        columns.append(
            sample,
            header: FrameHeader(
                droneID: drone, sequence: UInt32(truncatingIfNeeded: round),
                timestampMicroseconds: firstTimeMicroseconds + UInt64(round) * 20_000 + UInt64(k % droneCount) * 20))
    }
}

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [rowsPerSecond, commitMilliseconds, .wallClock],
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(20),
        maxIterations: 3
    )

    let designs: [StoreDesign] = [
        StoreDesign(name: "plain rowid table, no index, 4096-row commits", layout: .unindexed, commitRows: 4_096),
        StoreDesign(name: "plain rowid table, no index, 32768-row commits", layout: .unindexed, commitRows: 32_768),
        StoreDesign(
            name: "rowid + (protocol,drone,time) index, 4096-row commits, autocheckpoint 1000",
            layout: .indexed, commitRows: 4_096, walAutoCheckpointPages: 1_000),
        StoreDesign(name: "rowid + (protocol,drone,time) index, 4096-row commits", layout: .indexed, commitRows: 4_096),
        StoreDesign(
            name: "rowid + (protocol,drone,time) index, 32768-row commits, autocheckpoint 1000",
            layout: .indexed, commitRows: 32_768, walAutoCheckpointPages: 1_000),
        StoreDesign(name: "rowid + (protocol,drone,time) index, 32768-row commits", layout: .indexed, commitRows: 32_768),
        StoreDesign(name: "rowid + (protocol,drone,time) index, 131072-row commits", layout: .indexed, commitRows: 131_072),
        StoreDesign(
            name: "rowid + (protocol,drone,time) index, 4096-row commits, 1 KiB pages",
            layout: .indexed, commitRows: 4_096, pageSize: 1_024),
        StoreDesign(name: "WITHOUT ROWID clustered (protocol,drone,time,seq), 4096-row commits", layout: .clustered, commitRows: 4_096),
        StoreDesign(name: "WITHOUT ROWID clustered (protocol,drone,time,seq), 32768-row commits", layout: .clustered, commitRows: 32_768),
        StoreDesign(name: "WITHOUT ROWID clustered (protocol,drone,time,seq), 131072-row commits", layout: .clustered, commitRows: 131_072),
    ]

    let filter = getenv("STORE_DESIGNS").map { String(cString: $0) }
    for design in designs where filter.map({ design.name.contains($0) }) ?? true {
        Benchmark("Store \(totalRows) rows: \(design.name)") { benchmark in
            let path = "/tmp/skygate-store-bench-\(getpid()).db"
            removeDatabase(path)
            defer { removeDatabase(path) }
            var options = StoreOptions()
            options.layout = design.layout
            options.batchRowsMaximum = design.commitRows
            options.walAutoCheckpointPages = design.walAutoCheckpointPages
            options.pageSize = design.pageSize
            let columns = SampleColumns(capacity: design.commitRows)
            do {
                let store = try TelemetryStore(path: path, options: options)
                var written = Duration.zero
                var slowest = Duration.zero
                let parts = [StoreBatchPart(protocol: .skygate, columns: columns)]
                var first = 0
                benchmark.startMeasurement()
                while first < totalRows {
                    fill(columns, first: first)
                    let result = try store.write(parts)
                    written += result.duration
                    slowest = max(slowest, result.duration)
                    first += design.commitRows
                }
                benchmark.stopMeasurement()
                let seconds = Double(written.components.seconds) + Double(written.components.attoseconds) * 1e-18
                benchmark.measurement(rowsPerSecond, Int(Double(totalRows) / seconds))
                benchmark.measurement(
                    commitMilliseconds,
                    Int(slowest.components.seconds * 1_000 + slowest.components.attoseconds / 1_000_000_000_000_000))
                let size = try store.databaseSizeBytes()
                store.close()
                print("# \(design.name): \(Int(Double(totalRows) / seconds)) rows/s, slowest commit \(slowest), \(size / totalRows) bytes/row")
            } catch {
                print("# \(design.name): \(error)")
                fatalError("\(error)")
            }
        }
    }
}
