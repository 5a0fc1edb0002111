import ArgumentParser
import Foundation
import Telemetry
import PostgresStore
import TelemetryExport
import TelemetryStore

/// `skygate export`: stored telemetry as CSV, GeoJSON, GPX or KML on standard output (or --out).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export stored telemetry as csv, geojson, gpx or kml.",
        discussion: "Rows come per drone, in time order. Times are ISO 8601 UTC (2026-01-01T12:00:00Z) or microseconds since the Unix epoch."
    )

    @Option(help: "SQLite database written by `skygate serve`, or postgres://USER@HOST:PORT/DB.") var db: String
    @Option(help: "With a postgres:// --db: file holding the password (default: PGPASSWORD).") var dbPasswordFile: String?
    @Option(help: "With a postgres:// --db: the CA the server's certificate must chain to (sslmode=verify-full).") var dbCaFile: String?
    @Option(help: "Only this drone: a number (Skygate drone id), or protocol/number (mavlink/1).") var drone: String?
    @Option(help: "Only samples at or after this time.") var from: String?
    @Option(help: "Only samples before this time.") var until: String?
    @Option(help: "csv, geojson, gpx or kml.") var format: String
    @Option(help: "Write to this file instead of standard output.") var out: String?

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of csv, geojson, gpx, kml, got '\(format)'")
        }
        _ = try parsedDrone()
        _ = try parsedRange()
        // A SQLite file must exist (export never creates one); a postgres:// URL is checked when opened.
        if !StoreOpener.Request(db: db).isPostgres && !FileManager.default.fileExists(atPath: db) {
            throw ValidationError("--db: no database at '\(db)'")
        }
    }

    func parsedDrone() throws -> DroneIdentity? {
        guard let drone else { return nil }
        let parts = drone.split(separator: "/")
        if parts.count == 1, let number = UInt32(parts[0]) { return DroneIdentity(protocol: .skygate, number: number) }
        if parts.count == 2, let proto = TelemetryProtocol(name: String(parts[0])), let number = UInt32(parts[1]) {
            return DroneIdentity(protocol: proto, number: number)
        }
        throw ValidationError("--drone must be a number or protocol/number (skygate/7, mavlink/1), got '\(drone)'")
    }

    func parsedRange() throws -> Range<UInt64> {
        var lower: UInt64 = 0
        var upper = UInt64(Int64.max)
        if let from {
            guard let value = TimeText.microseconds(from: from) else { throw ValidationError("--from: '\(from)' is not an ISO 8601 UTC time or microseconds") }
            lower = value
        }
        if let until {
            guard let value = TimeText.microseconds(from: until) else { throw ValidationError("--until: '\(until)' is not an ISO 8601 UTC time or microseconds") }
            upper = value
        }
        guard lower <= upper else { throw ValidationError("--from \(from ?? "") is after --until \(until ?? "")") }
        return lower..<upper
    }

    func run() throws {
        var request = StoreOpener.Request(db: db, passwordFile: dbPasswordFile)
        request.caFile = dbCaFile
        request.options.isReadOnly = true
        let store: any TelemetryStoring
        do { store = try StoreOpener.open(request) } catch { throw ValidationError("--db \(request.displayName): \(error)") }
        defer { store.close() }
        let output: FileHandle
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
                throw ValidationError("--out: cannot write '\(out)'")
            }
            output = handle
        } else {
            output = FileHandle.standardOutput
        }
        var exporter = TrackExporter(format: ExportFormat(rawValue: format)!) { text in
            output.write(Data(text.utf8))
        }
        exporter.begin()
        do {
            try store.readSamples(drone: try parsedDrone(), timeRangeMicroseconds: try parsedRange()) { page in
                exporter.add(page)
                return true
            }
        } catch let error as StoreError {
            throw ValidationError("--db \(db): \(error)")
        }
        exporter.end()
        if out != nil { try? output.close() }
    }
}
