import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Telemetry
import TelemetryWire
import Testing

@testable import TelemetryExport
@testable import TelemetryStore

/// Exports are byte-stable text built without floating point: exact decimal degrees and metres,
/// ISO 8601 times, one track per drone, fix-less rows left out of the geometry; the parsed
/// documents are well-formed (JSON through JSONSerialization, XML through XMLParser).
@Suite struct TrackExporterTests {
    static func row(_ drone: UInt32, _ sequence: UInt32, latitudeE7: Int32, longitudeE7: Int32, at seconds: UInt64) -> StoredSample {
        StoredSample(
            drone: DroneIdentity(protocol: .skygate, number: drone), sequence: sequence,
            timestampMicroseconds: 1_767_225_600_000_000 + seconds * 1_000_000,
            sample: WireSample(latitudeE7: latitudeE7, longitudeE7: longitudeE7, altitudeMM: -1_250, velocityNorthCMS: -5,
                               batteryMillivolts: 15_004, batteryPercent: 80, satellites: 12, status: .gpsFix),
            storedMicroseconds: nil)
    }

    static let rows = [
        row(7, 1, latitudeE7: 473_977_420, longitudeE7: 85_455_940, at: 0),
        row(7, 2, latitudeE7: 0, longitudeE7: 0, at: 1),  // no fix
        row(7, 3, latitudeE7: 473_977_500, longitudeE7: 85_456_000, at: 2),
        row(9, 1, latitudeE7: -338_688_000, longitudeE7: -1_512_093_000, at: 0),
    ]

    static func export(_ format: ExportFormat) -> String {
        var text = ""
        var exporter = TrackExporter(format: format) { text += $0 }
        exporter.begin()
        exporter.add(rows)
        exporter.end()
        return text
    }

    @Test func csvHasEveryRowExactly() {
        let lines = Self.export(.csv).split(separator: "\n")
        #expect(lines.count == 1 + Self.rows.count)
        #expect(lines[0] + "\n" == TrackExporter.csvHeader)
        #expect(lines[1] == "skygate,7,2026-01-01T00:00:00.000000Z,1767225600000000,1,47.3977420,8.5455940,-1.250,-0.05,0.00,0.00,,15.004,80,12,4")
        #expect(lines[4].hasPrefix("skygate,9,2026-01-01T00:00:00.000000Z,1767225600000000,1,-33.8688000,-151.2093000,"))
    }

    @Test func geojsonHasOneLineStringPerDroneWithoutFixlessRows() throws {
        let document = try JSONSerialization.jsonObject(with: Data(Self.export(.geojson).utf8)) as? [String: Any]
        let features = try #require(document?["features"] as? [[String: Any]])
        #expect(features.count == 2)
        let geometry = try #require(features[0]["geometry"] as? [String: Any])
        let coordinates = try #require(geometry["coordinates"] as? [[Double]])
        #expect(coordinates.count == 2)
        #expect(coordinates[0] == [8.545594, 47.397742, -1.25])
    }

    @Test(arguments: [ExportFormat.gpx, .kml])
    func xmlIsWellFormed(format: ExportFormat) {
        let text = Self.export(format)
        let parser = XMLParser(data: Data(text.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(text.components(separatedBy: format == .gpx ? "<trkpt " : "\n8.").count >= 2)
    }

    @Test func decimalsAreExact() {
        #expect(TrackExporter.degrees(-1) == "-0.0000001")
        #expect(TrackExporter.degrees(900_000_000) == "90.0000000")
        #expect(TrackExporter.metres(1_005) == "1.005")
        #expect(TrackExporter.iso8601(951_782_400_000_000 + 3_723_000_042) == "2000-02-29T01:02:03.000042Z")
    }
}

/// The times users type: ISO 8601 UTC with or without a fraction, a date alone, or µs.
@Suite struct TimeTextTests {
    @Test(arguments: [
        ("2026-01-01T00:00:00Z", UInt64(1_767_225_600_000_000)),
        ("2026-01-01", UInt64(1_767_225_600_000_000)),
        ("2026-01-01T12:30:05.25Z", UInt64(1_767_225_600_000_000 + 45_005_250_000)),
        ("2000-02-29 01:02:03+00:00", UInt64(951_782_400_000_000 + 3_723_000_000)),
        ("1767225600000000", UInt64(1_767_225_600_000_000)),
    ])
    func parses(text: String, microseconds: UInt64) {
        #expect(TimeText.microseconds(from: text) == microseconds)
    }

    @Test(arguments: ["", "2026-13-01", "2026-01-01T25:00:00Z", "2026-01-01T00:00:00+02:00", "1969-12-31", "yesterday", "2026-01-01T00:00:00."])
    func refuses(text: String) {
        #expect(TimeText.microseconds(from: text) == nil)
    }

    /// What the exporter writes, the parser reads back.
    @Test func roundTripsTheExportFormat() {
        for microseconds in stride(from: UInt64(0), to: 4_102_444_800_000_000, by: 86_399_123_457 * 37) {
            #expect(TimeText.microseconds(from: TrackExporter.iso8601(microseconds)) == microseconds)
        }
    }
}
