import ArgumentParser
import Foundation
import Synchronization
import PostgresStore
import Telemetry
import TelemetryStore
import TelemetryWire

/// `skygate bench-store`: the store writer alone, for the ratio to C libpq COPY
/// (Scripts/measure-postgres.sh): `--writers` threads, each with its own store connection (a
/// gateway each), write `--rows` rows in batches of `--batch`, generated as the C limit does.
struct StoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store", abstract: "Measure the store writer alone (rows/s into --db).", shouldDisplay: false)

    @Option(help: "SQLite file or postgres://USER@HOST:PORT/DB.") var db: String
    @Option(help: "With a postgres:// --db: file holding the password (default: PGPASSWORD).") var dbPasswordFile: String?
    @Option(parsing: .unconditional, help: "Rows per writer.") var rows: Int = 200_000
    @Option(parsing: .unconditional, help: "Rows per batch (one transaction).") var batch: Int = 1_000
    @Option(parsing: .unconditional, help: "Drones the rows spread over (per writer, disjoint ids).") var drones: Int = 1_000
    @Option(parsing: .unconditional, help: "Writers in parallel, each its own connection.") var writers: Int = 1

    func validate() throws {
        guard (1...10_000_000).contains(rows), (1...131_072).contains(batch), (1...100_000).contains(drones), (1...16).contains(writers) else {
            throw ValidationError("--rows 1...10000000, --batch 1...131072, --drones 1...100000, --writers 1...16")
        }
    }

    func run() throws {
        let stores: [any TelemetryStoring] = try (0..<writers).map { writer in
            do {
                return try StoreOpener.open(StoreOpener.Request(db: db, passwordFile: dbPasswordFile, gatewayName: "bench-\(writer)"))
            } catch { throw ValidationError("--db \(StoreOpener.Request(db: db).displayName): \(error)") }
        }
        defer { stores.forEach { $0.close() } }
        // Each writer thread uses its own store only.
        nonisolated(unsafe) let perWriter = stores
        let (rows, batch, drones) = (self.rows, self.batch, self.drones)
        let failures = Mutex<[String]>([])
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            let columns = SampleColumns(capacity: batch)
            let firstDrone = UInt32(writer * drones + 1)
            var done = 0
            while done < rows {
                columns.removeAll()
                let count = min(batch, rows - done)
                for offset in 0..<count {
                    let row = done + offset
                    let drone = firstDrone + UInt32(row % drones)
                    let index = row / drones
                    let sample = WireSample(
                        latitudeE7: 473_977_000 + Int32(drone % 1_000) * 1_000 + Int32(index), longitudeE7: -85_456_000 - Int32(index),
                        altitudeMM: 450_000 + Int32(index) * 3, velocityNorthCMS: Int16(index % 300) - 150, velocityEastCMS: 0,
                        velocityDownCMS: -5, headingCentidegrees: UInt16(index % 36_000), batteryMillivolts: 16_000,
                        batteryPercent: 80, satellites: 12, status: StatusFlags(rawValue: 5))
                    columns.append(sample, droneID: drone, sequence: UInt32(truncatingIfNeeded: index),
                                   timestampMicroseconds: 1_767_225_600_000_000 + UInt64(index) * 20_000 + UInt64(drone))
                }
                do {
                    _ = try perWriter[writer].write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
                } catch {
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                    return
                }
                done += count
            }
        }
        let seconds = Double((ContinuousClock.now - start).nanosecondsClamped) / 1e9
        if let failure = failures.withLock({ $0.first }) { throw ValidationError(failure) }
        let total = rows * writers
        print("bench-store \(writers) writer(s) batch \(batch): \(total) rows in \(String(format: "%.3f", seconds)) s = \(Int(Double(total) / seconds)) rows/s")
    }
}
