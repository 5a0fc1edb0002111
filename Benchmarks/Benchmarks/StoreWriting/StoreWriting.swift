import Benchmark
@_spi(Benchmarking) import TelemetryStore
import Telemetry
import TelemetryWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the per-sample index cost (schema v2, one row per sample) and what the chunk layout (v3)
// does instead (docs/storage.md). Each iteration writes `totalRows` rows from 1,000 or 10,000
// drones round-robin, as the gateway receives them (drone k mod N, 50 Hz per drone), into a fresh
// WAL database through `TelemetryStore.write`, in commits of the configured size; the chunk layout
// also compacts whenever due, as the gateway's writer does. The metric `rows/s` is rows divided by
// the summed `write` (and compaction) durations (BEGIN to COMMIT, sort included; automatic
// checkpoints happen inside commits and are included; the final close is not, as in
// shared/limits/sqlite_bench.c).
//
// Then the queries, before (rows) and after (chunks), on one hour of 10,000 drones: one drone's
// last hour, and the latest sample of every drone; the chunk layout with its blocks plain (format
// version 1, as before schema v5) and compressed (version 3 since schema v8, `SampleCodec`), in the same run.

let totalRows = 1_048_576
let firstTimeMicroseconds: UInt64 = 1_767_225_600_000_000
let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
let commitMilliseconds = BenchmarkMetric.custom("commit p100 ms", polarity: .prefersSmaller, useScalingFactor: false)

struct StoreDesign {
    var name: String
    var layout: StoreLayout
    var commitRows: Int
    var drones = 1_000
    var walAutoCheckpointPages: Int = StoreOptions().walAutoCheckpointPages
    var pageSize: Int? = nil
    /// Chunk layout: blocks compressed (format version 2, schema v5) or plain (version 1, before).
    var compressed = true
}

/// Fills `columns` with rows `first..<first + columns.capacity` of the `droneCount`-drone stream.
func fill(_ columns: SampleColumns, first: Int, droneCount: Int) {
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
        StoreDesign(name: "v2 rows + (protocol,drone,time) index, 4096-row commits", layout: .rows, commitRows: 4_096),
        StoreDesign(name: "v2 rows + (protocol,drone,time) index, 32768-row commits", layout: .rows, commitRows: 32_768),
        StoreDesign(name: "v2 rows + (protocol,drone,time) index, 32768-row commits, 10000 drones", layout: .rows, commitRows: 32_768, drones: 10_000),
        StoreDesign(name: "v4 plain chunks, 32768-row commits", layout: .chunks, commitRows: 32_768, compressed: false),
        StoreDesign(name: "v4 plain chunks, 32768-row commits, 10000 drones", layout: .chunks, commitRows: 32_768, drones: 10_000, compressed: false),
        StoreDesign(name: "v8 compressed chunks, 4096-row commits", layout: .chunks, commitRows: 4_096),
        StoreDesign(name: "v8 compressed chunks, 32768-row commits", layout: .chunks, commitRows: 32_768),
        StoreDesign(name: "v8 compressed chunks, 32768-row commits, 10000 drones", layout: .chunks, commitRows: 32_768, drones: 10_000),
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
            options.compressesBlocks = design.compressed
            let columns = SampleColumns(capacity: design.commitRows)
            do {
                let store = try TelemetryStore(path: path, options: options)
                var written = Duration.zero
                var slowest = Duration.zero
                let parts = [StoreBatchPart(protocol: .skygate, columns: columns)]
                var first = 0
                benchmark.startMeasurement()
                while first < totalRows {
                    fill(columns, first: first, droneCount: design.drones)
                    let result = try store.write(parts)
                    written += result.duration
                    slowest = max(slowest, result.duration)
                    if let compaction = try store.compactIfDue() {
                        written += compaction.duration
                        slowest = max(slowest, compaction.duration)
                    }
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

    // Queries on one hour of 10,000 drones (a sample every 20 s each: 1.8 M samples), the database
    // written once per layout (the chunk one compacted as the gateway does), then read; and one
    // drone's last hour in a fleet of 100 drones at 10 Hz (36,000 samples a drone, 3.6 M in all):
    // the first fleet's chunks hold 4 samples each, this one's several hundred.
    let queryDesigns: [(name: String, layout: StoreLayout, compressed: Bool)] = [
        ("v2 rows", .rows, false), ("v4 plain chunks", .chunks, false), ("v8 compressed chunks", .chunks, true),
    ]
    for (name, layout, compressed) in queryDesigns where filter.map({ "queries".contains($0) }) ?? true {
        func oneDronesLastHour(_ fleetName: String, _ fleet: QueryDatabase.Fleet, drone number: UInt32, maxIterations: Int) {
            Benchmark("Query, \(fleetName), 1 h: one drone's last hour (\(name))", configuration: .init(timeUnits: .microseconds, maxIterations: maxIterations)) { benchmark in
                let store = try QueryDatabase.shared(fleet, layout, compressed: compressed)
                let drone = DroneIdentity(protocol: .skygate, number: number)
                for _ in benchmark.scaledIterations {
                    let rows = try store.readSamples(drone: drone, timeRangeMicroseconds: QueryDatabase.lastHour) { _ in true }
                    precondition(rows == fleet.samplesPerDrone)
                }
            }
        }
        oneDronesLastHour("10000 drones", .sparse, drone: 4_321, maxIterations: 200)
        Benchmark("Query, 10000 drones, 1 h: latest per drone (\(name))", configuration: .init(timeUnits: .microseconds, maxIterations: 20)) { benchmark in
            let store = try QueryDatabase.shared(.sparse, layout, compressed: compressed)
            for _ in benchmark.scaledIterations {
                let latest = try store.latestSamples()
                precondition(latest.count == QueryDatabase.Fleet.sparse.drones)
            }
        }
        oneDronesLastHour("100 drones at 10 Hz", .dense, drone: 42, maxIterations: 50)
    }

    codecBenchmarks()
}

/// The query benchmarks' databases, one per fleet and layout, made on first use.
enum QueryDatabase {
    /// A fleet writing one hour: `drones` drones, a sample each every `intervalMicroseconds`.
    struct Fleet {
        let name: String
        let drones: Int
        let intervalMicroseconds: UInt64
        var samplesPerDrone: Int { Int(3_600_000_000 / intervalMicroseconds) }
        static let sparse = Fleet(name: "10000x20s", drones: 10_000, intervalMicroseconds: 20_000_000)
        static let dense = Fleet(name: "100x10Hz", drones: 100, intervalMicroseconds: 100_000)
    }

    static let lastHour = firstTimeMicroseconds..<(firstTimeMicroseconds + 3_600_000_000)
    nonisolated(unsafe) static var stores: [String: TelemetryStore] = [:]

    static func shared(_ fleet: Fleet, _ layout: StoreLayout, compressed: Bool) throws -> TelemetryStore {
        let key = "\(fleet.name)-\(layout)-\(compressed ? "compressed" : "plain")"
        if let store = stores[key] { return store }
        let path = "/tmp/skygate-query-bench-\(getpid())-\(key).db"
        removeDatabase(path)
        var options = StoreOptions()
        options.layout = layout
        options.compressesBlocks = compressed
        options.batchRowsMaximum = 32_768
        let store = try TelemetryStore(path: path, options: options)
        // Writes of ~20,000 samples: as many rounds (every drone's sample r) as fit.
        let roundsPerWrite = max(1, 20_000 / fleet.drones)
        let columns = SampleColumns(capacity: roundsPerWrite * fleet.drones)
        for round in stride(from: 0, to: fleet.samplesPerDrone, by: roundsPerWrite) {
            columns.removeAll()
            for r in round..<min(round + roundsPerWrite, fleet.samplesPerDrone) {
                for drone in 1...UInt32(fleet.drones) {
                    columns.append(
                        WireSample(latitudeE7: 473_977_000 + Int32(r), longitudeE7: 85_456_000, altitudeMM: 50_000, status: .gpsFix),
                        header: FrameHeader(
                            droneID: drone, sequence: UInt32(r),
                            timestampMicroseconds: firstTimeMicroseconds + UInt64(r) * fleet.intervalMicroseconds + UInt64(drone)))
                }
            }
            _ = try store.write(columns, protocol: .skygate)
            _ = try store.compactIfDue()
        }
        try store.checkpoint()
        print("# query database (\(key)): \(try store.rowCount()) samples, \(try store.databaseSizeBytes() >> 20) MiB")
        stores[key] = store
        return store
    }
}
