import Foundation
import Telemetry
import TelemetryWire
import Testing

@testable import TelemetryExport
@testable import TelemetryStore

/// Databases written by older Skygates open with the current store and read back exactly what
/// that Skygate exported from them; compaction turns their recent block into version 3 chunks
/// beside the old ones, and every sample still reads back the same, commit times included.
/// Made by Scripts/make-store-fixture.sh:
/// - Fixtures/store/v1.db: before compressed blocks (schema v4), one version 1 chunk and one
///   version 1 recent block;
/// - Fixtures/store/v2.db: before Zstandard blocks (schema v7), six version 2 (zlib) chunks and
///   one version 2 recent block;
/// - Fixtures/store/v3.db: before stored blocks (schema v8), six version 3 (Zstandard) chunks and
///   one version 3 recent block.
@Suite struct StoreFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/store").standardized

    /// What each fixture holds: its schema, its chunks and recent blocks by block version (1 to 4).
    struct Fixture: Sendable, CustomTestStringConvertible {
        let name: String
        let schema: Int
        let chunks: [Int64]
        let recent: [Int64]
        /// Samples in its recent block.
        let recentSamples: Int
        var testDescription: String { name }
    }

    static let databases = [
        Fixture(name: "v1", schema: 4, chunks: [1, 0, 0, 0], recent: [1, 0, 0, 0], recentSamples: 309),
        Fixture(name: "v2", schema: 7, chunks: [0, 6, 0, 0], recent: [0, 1, 0, 0], recentSamples: 167),
        Fixture(name: "v3", schema: 8, chunks: [0, 0, 6, 0], recent: [0, 0, 1, 0], recentSamples: 167),
    ]

    func withFixtureCopy<T>(_ fixture: Fixture, _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skygate-\(fixture.name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("\(fixture.name).db").path
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("\(fixture.name).db").path, toPath: path)
        return try body(path)
    }

    func expectedCSV(_ fixture: Fixture) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent("\(fixture.name).csv"), encoding: .utf8)
    }

    func csv(_ store: TelemetryStore) throws -> String {
        var text = ""
        var exporter = TrackExporter(format: .csv) { text += $0 }
        exporter.begin()
        try store.readSamples { page in exporter.add(page); return true }
        exporter.end()
        return text
    }

    func all(_ store: TelemetryStore) throws -> [StoredSample] {
        var samples: [StoredSample] = []
        try store.readSamples { page in samples.append(contentsOf: page); return true }
        return samples
    }

    func blockVersions(_ path: String, _ table: String) throws -> [Int64] {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        defer { connection.close() }
        return try [1, 2, 3, 4].map { version in
            try connection.integer("SELECT count(*) FROM \(table) WHERE substr(data, 1, 1) = x'0\(version)'") ?? -1
        }
    }

    @Test(arguments: databases) func anOldDatabaseReadsBackWhatItsSkygateExported(_ fixture: Fixture) throws {
        let expected = try expectedCSV(fixture)
        #expect(expected.split(separator: "\n").count == 1_102, "the header and 1,101 samples")
        try withFixtureCopy(fixture) { path in
            #expect(try blockVersions(path, "telemetry_chunk") == fixture.chunks)
            #expect(try blockVersions(path, "telemetry_recent") == fixture.recent)
            var options = StoreOptions()
            options.compactionSamples = 1
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            #expect(try csv(store) == expected)
            #expect(try store.rowCount() == 1_101)
            let before = try all(store)

            let compacted = try #require(try store.compactIfDue())
            // The one drone's recent samples, in chunks of at most `Limits.Store.chunkSpanMax`.
            #expect(compacted.samples == fixture.recentSamples && compacted.chunks >= 1)
            // The old chunks stay; the new ones are version 3, or 4 where Zstandard would not
            // save an eighth.
            let after = try blockVersions(path, "telemetry_chunk")
            #expect(after[0...1] == fixture.chunks[0...1])
            #expect(after[2] >= fixture.chunks[2] && after[3] >= fixture.chunks[3])
            #expect(after[2] + after[3] - fixture.chunks[2] - fixture.chunks[3] == Int64(compacted.chunks))
            let connection = try SQLiteConnection(path: path, readOnly: true)
            let span = try connection.integer(
                "SELECT max(end_us - start_us) FROM telemetry_chunk WHERE substr(data, 1, 1) IN (x'03', x'04')") ?? -1
            connection.close()
            #expect(span >= 0 && span <= Int64(Limits.Store.chunkSpanMax.microsecondsClamped))
            #expect(try blockVersions(path, "telemetry_recent") == [0, 0, 0, 0])
            // The migration filled each drone's greatest chunk end, and the triggers kept it.
            let ends = try SQLiteConnection(path: path, readOnly: true)
            #expect(try ends.integer("SELECT count(*) FROM chunk_drone_end") == 1)
            #expect(try ends.integer("SELECT end_us FROM chunk_drone_end") == ends.integer("SELECT max(end_us) FROM telemetry_chunk"))
            ends.close()
            #expect(try all(store) == before)
            #expect(try csv(store) == expected)
            let latest = try store.latestSamples()
            #expect(latest.count == 1 && latest.first == before.max { $0.timestampMicroseconds < $1.timestampMicroseconds })
        }
    }

    @Test(arguments: databases) func aReaderOpensAnOldDatabaseWithoutMigratingIt(_ fixture: Fixture) throws {
        let expected = try expectedCSV(fixture)
        try withFixtureCopy(fixture) { path in
            var options = StoreOptions()
            options.isReadOnly = true
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            #expect(try store.storedSchemaVersion() == fixture.schema)
            #expect(try csv(store) == expected)
            // Latest per drone from the chunk index (the file has no `chunk_drone_end`).
            let samples = try all(store)
            #expect(try store.latestSamples() == [samples.max { $0.timestampMicroseconds < $1.timestampMicroseconds }!])
        }
    }
}
