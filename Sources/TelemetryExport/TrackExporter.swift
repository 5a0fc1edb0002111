import Telemetry
import TelemetryStore
import TelemetryWire

/// Writes stored samples as CSV, GeoJSON, GPX or KML, streaming: each page of rows is turned
/// into text and handed to `write` at once, so an export of any size runs in bounded memory.
public enum ExportFormat: String, CaseIterable, Sendable {
    case csv, geojson, gpx, kml

    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .geojson: "application/geo+json"
        case .gpx: "application/gpx+xml"
        case .kml: "application/vnd.google-earth.kml+xml"
        }
    }
}

public struct TrackExporter {
    public let format: ExportFormat
    private let write: (String) -> Void
    private var currentDrone: DroneIdentity?
    private var rowsInTrack = 0
    private var tracks = 0

    public init(format: ExportFormat, write: @escaping (String) -> Void) {
        self.format = format
        self.write = write
    }

    /// The CSV header row.
    public static let csvHeader =
        "protocol,drone,time,time_us,sequence,lat,lon,alt,velocity_north,velocity_east,velocity_down,heading,battery_voltage,battery_percent,satellites,status\n"

    public mutating func begin() {
        switch format {
        case .csv: write(Self.csvHeader)
        case .geojson: write("{\"type\":\"FeatureCollection\",\"features\":[")
        case .gpx:
            write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"skygate\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n")
        case .kml:
            write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document><name>skygate export</name>\n")
        }
    }

    /// Adds rows, which arrive grouped by drone and in time order within a drone.
    public mutating func add(_ rows: [StoredSample]) {
        var text = ""
        text.reserveCapacity(rows.count * 120)
        for row in rows {
            if format == .csv {
                text += Self.csvLine(row)
                continue
            }
            // Tracks: positions without a fix are left out of the geometry.
            guard row.sample.latitudeE7 != 0 || row.sample.longitudeE7 != 0 else { continue }
            if row.drone != currentDrone {
                text += closeTrack()
                text += openTrack(row.drone)
                currentDrone = row.drone
            }
            text += point(row)
            rowsInTrack += 1
        }
        write(text)
    }

    public mutating func end() {
        var text = format == .csv ? "" : closeTrack()
        switch format {
        case .csv: break
        case .geojson: text += "]}\n"
        case .gpx: text += "</gpx>\n"
        case .kml: text += "</Document></kml>\n"
        }
        write(text)
    }

    private mutating func openTrack(_ drone: DroneIdentity) -> String {
        defer { tracks += 1; rowsInTrack = 0 }
        switch format {
        case .csv: return ""
        case .geojson:
            return (tracks > 0 ? "," : "")
                + "{\"type\":\"Feature\",\"properties\":{\"protocol\":\"\(drone.protocol.name)\",\"drone\":\(drone.number)},\"geometry\":{\"type\":\"LineString\",\"coordinates\":["
        case .gpx: return "<trk><name>\(drone.protocol.name) \(drone.number)</name><trkseg>\n"
        case .kml:
            return "<Placemark><name>\(drone.protocol.name) \(drone.number)</name><LineString><altitudeMode>absolute</altitudeMode><coordinates>\n"
        }
    }

    private mutating func closeTrack() -> String {
        guard currentDrone != nil else { return "" }
        currentDrone = nil
        switch format {
        case .csv: return ""
        case .geojson: return "]}}"
        case .gpx: return "</trkseg></trk>\n"
        case .kml: return "</coordinates></LineString></Placemark>\n"
        }
    }

    private func point(_ row: StoredSample) -> String {
        let lat = Self.degrees(row.sample.latitudeE7)
        let lon = Self.degrees(row.sample.longitudeE7)
        let alt = Self.metres(row.sample.altitudeMM)
        switch format {
        case .csv: return ""
        case .geojson: return (rowsInTrack > 0 ? "," : "") + "[\(lon),\(lat),\(alt)]"
        case .gpx:
            return "<trkpt lat=\"\(lat)\" lon=\"\(lon)\"><ele>\(alt)</ele><time>\(Self.iso8601(row.timestampMicroseconds))</time></trkpt>\n"
        case .kml: return "\(lon),\(lat),\(alt)\n"
        }
    }

    static func csvLine(_ row: StoredSample) -> String {
        let s = row.sample
        return "\(row.drone.protocol.name),\(row.drone.number),\(iso8601(row.timestampMicroseconds)),\(row.timestampMicroseconds),\(row.sequence),"
            + "\(degrees(s.latitudeE7)),\(degrees(s.longitudeE7)),\(metres(s.altitudeMM)),"
            + "\(centi(Int(s.velocityNorthCMS))),\(centi(Int(s.velocityEastCMS))),\(centi(Int(s.velocityDownCMS))),"
            + (s.headingCentidegrees == WireSample.headingUnknown ? "" : centi(Int(s.headingCentidegrees))) + ","
            + "\(milli(Int(s.batteryMillivolts))),"
            + (s.batteryPercent == WireSample.batteryPercentUnknown ? "" : "\(s.batteryPercent)") + ","
            + (s.satellites == 0xFF ? "" : "\(s.satellites)") + ",\(s.status.rawValue)\n"
    }

    /// 1e-7 degrees as an exact decimal string (no floating point, so exports are byte-stable).
    public static func degrees(_ e7: Int32) -> String { fixed(Int64(e7), places: 7) }
    static func metres(_ millimetres: Int32) -> String { fixed(Int64(millimetres), places: 3) }
    static func centi(_ value: Int) -> String { fixed(Int64(value), places: 2) }
    static func milli(_ value: Int) -> String { fixed(Int64(value), places: 3) }

    static func fixed(_ value: Int64, places: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let magnitude = value.magnitude
        let whole = magnitude / UInt64(scale)
        var fraction = String(magnitude % UInt64(scale))
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        return (value < 0 ? "-" : "") + "\(whole).\(fraction)"
    }

    /// ISO 8601 UTC with microseconds, e.g. 2026-01-01T00:00:00.000000Z (proleptic Gregorian).
    public static func iso8601(_ microseconds: UInt64) -> String {
        let seconds = Int64(microseconds / 1_000_000)
        let micros = Int(microseconds % 1_000_000)
        let civil = CivilTime(secondsSinceEpoch: seconds)
        func pad(_ value: Int, _ width: Int) -> String { CivilTime.padded(value, width: width) }
        return "\(pad(civil.year, 4))-\(pad(civil.month, 2))-\(pad(civil.day, 2))T\(pad(civil.hour, 2)):\(pad(civil.minute, 2)):\(pad(civil.second, 2)).\(pad(micros, 6))Z"
    }
}
