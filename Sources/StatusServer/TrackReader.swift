import Dispatch
import Foundation
import Hummingbird
import Synchronization
import Telemetry
import TelemetryExport
import TelemetryStore

/// The parameters of `/api/drones/{protocol}/{id}/track`, checked: a bad one is a 400 that names it.
struct TrackQuery: Sendable {
    var fromMicroseconds: UInt64
    var untilMicroseconds: UInt64
    /// nil is JSON.
    var format: ExportFormat?
    var points: Int

    /// `parameter` looks up one query parameter.
    init(nowMicroseconds: UInt64, parameter: (String) -> String?) throws {
        func time(_ name: String) throws -> UInt64? {
            guard let text = parameter(name) else { return nil }
            guard let value = TimeText.microseconds(from: String(text)) else {
                throw HTTPError(.badRequest, message: "\(name)='\(text)' is not ISO 8601 UTC (2026-01-01T12:00:00Z) or µs since the epoch")
            }
            return value
        }
        untilMicroseconds = try time("until") ?? nowMicroseconds &+ 60_000_000
        fromMicroseconds = try time("from") ?? untilMicroseconds &- min(untilMicroseconds, Limits.Status.trackRangeDefault.microsecondsClamped)
        guard fromMicroseconds < untilMicroseconds else {
            throw HTTPError(.badRequest, message: "from must be before until")
        }
        switch parameter("format") {
        case nil, "json": format = nil
        case let name?:
            guard let known = ExportFormat(rawValue: name) else {
                throw HTTPError(.badRequest, message: "format='\(name)' is not one of json, csv, geojson, gpx, kml")
            }
            format = known
        }
        if let text = parameter("points") {
            guard let value = Int(text), (2...Limits.Status.trackPointsMax).contains(value) else {
                throw HTTPError(.badRequest, message: "points='\(text)' must be a whole number in 2...\(Limits.Status.trackPointsMax)")
            }
            points = value
        } else {
            points = Limits.Status.trackPointsDefault
        }
    }
}

/// A downsampled track: at most one row per time bucket of (until − first row's time) / points.
struct Track: Sendable {
    var drone: DroneIdentity
    var points: [StoredSample]
    var rowsRead: Int
    /// The row budget ran out before the range did.
    var isTruncated: Bool

    struct Point: Encodable {
        var time_us: UInt64
        var lat: Double
        var lon: Double
        var alt_m: Double
        var ground_speed_mps: Double
        var battery_percent: Int?
        var battery_v: Double
        var has_fix: Bool
    }

    struct Reply: Encodable {
        var `protocol`: String
        var id: UInt32
        var rows_read: Int
        var truncated: Bool
        var points: [Point]
    }

    func response(format: ExportFormat?) -> Response {
        guard let format else {
            let reply = Reply(
                protocol: drone.protocol.name, id: drone.number, rows_read: rowsRead, truncated: isTruncated,
                points: points.map { row in
                    let s = row.sample
                    return Point(
                        time_us: row.timestampMicroseconds, lat: Double(s.latitudeE7) / 1e7, lon: Double(s.longitudeE7) / 1e7,
                        alt_m: Double(s.altitudeMM) / 1_000,
                        ground_speed_mps: (Double(s.velocityNorthCMS) * Double(s.velocityNorthCMS)
                            + Double(s.velocityEastCMS) * Double(s.velocityEastCMS)).squareRoot() / 100,
                        battery_percent: s.batteryPercent == 0xFF ? nil : Int(s.batteryPercent),
                        battery_v: Double(s.batteryMillivolts) / 1_000, has_fix: s.status.contains(.gpsFix))
                })
            return StatusRoutes.jsonResponse(reply)
        }
        var text = ""
        var exporter = TrackExporter(format: format) { text += $0 }
        exporter.begin()
        exporter.add(points)
        exporter.end()
        var response = Response(
            status: .ok, headers: [.contentType: format.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentDisposition] = "attachment; filename=\"\(drone.protocol.name)-\(drone.number).\(format.rawValue)\""
        return response
    }
}

/// Reads tracks from the database: a read-only connection of its own per request, through the
/// `StoreReadLimiter` it shares with `/api/events`, at most `Limits.Status.trackRowsReadMax` rows each.
struct TrackReader: Sendable {
    let limiter: StoreReadLimiter

    func read(source: any StatusSource, drone: DroneIdentity, query: TrackQuery) async throws -> Track {
        let result = try await limiter.run(what: "track") { () throws(StoreError) in
            try source.withStoreForReading { store throws(StoreError) in try Self.readNow(store: store, drone: drone, query: query) }
        }
        switch result {
        case .success(let track): return track
        case .failure(let error): throw HTTPError(.internalServerError, message: "reading the track failed: \(error)")
        }
    }

    static func readNow(store: any TelemetryStoreReading, drone: DroneIdentity, query: TrackQuery) throws(StoreError) -> Track {
        // Buckets span from the first stored row (not `from`) to `until`, so a wide range over a
        // short flight still gets up to `points` points.
        var origin = query.fromMicroseconds
        var bucketMicroseconds: UInt64 = 1
        var points: [StoredSample] = []
        points.reserveCapacity(query.points + 1)
        var lastBucket = UInt64.max
        var rowsRead = 0
        var isTruncated = false
        try store.readSamples(
            drone: drone, timeRangeMicroseconds: query.fromMicroseconds..<query.untilMicroseconds, pageSize: Limits.Status.trackPageRows
        ) { page in
            for row in page {
                if rowsRead == 0 && points.isEmpty {
                    origin = row.timestampMicroseconds
                    bucketMicroseconds = max((query.untilMicroseconds - origin) / UInt64(query.points), 1)
                }
                let bucket = (row.timestampMicroseconds - origin) / bucketMicroseconds
                if bucket != lastBucket {
                    lastBucket = bucket
                    points.append(row)
                }
            }
            rowsRead += page.count
            if rowsRead >= Limits.Status.trackRowsReadMax {
                isTruncated = true
                return false
            }
            return true
        }
        return Track(drone: drone, points: points, rowsRead: rowsRead, isTruncated: isTruncated)
    }
}
