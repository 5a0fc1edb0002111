import Foundation
import Telemetry
import TelemetryWire
import Testing

@testable import TelemetryExport
@testable import TelemetryStore

/// A database written before compressed blocks (Fixtures/store/v1.db, schema v4, one version 1
/// chunk and one version 1 recent block, made by Scripts/make-store-v1-fixture.sh with an older
/// Skygate) opens with the current store and reads back exactly what that Skygate exported from it
/// (Fixtures/store/v1.csv); compaction turns its recent block into a compressed chunk beside the
/// old plain one, and every sample still reads back the same, commit times included.
@Suite struct StoreV1FixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/store").standardized

    func withFixtureCopy<T>(_ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skygate-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("v1.db").path
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("v1.db").path, toPath: path)
        return try body(path)
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
        return try [1, 2].map { version in
            try connection.integer("SELECT count(*) FROM \(table) WHERE substr(data, 1, 1) = x'0\(version)'") ?? -1
        }
    }

    @Test func anOldDatabaseReadsBackWhatItsSkygateExported() throws {
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("v1.csv"), encoding: .utf8)
        #expect(expected.split(separator: "\n").count == 1_102, "the header and 1,101 samples")
        try withFixtureCopy { path in
            #expect(try blockVersions(path, "telemetry_chunk") == [1, 0])
            #expect(try blockVersions(path, "telemetry_recent") == [1, 0])
            var options = StoreOptions()
            options.compactionSamples = 1
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            #expect(try store.storedSchemaVersion() == TelemetryStore.schemaVersion)
            #expect(try csv(store) == expected)
            #expect(try store.rowCount() == 1_101)
            let before = try all(store)

            let compacted = try #require(try store.compactIfDue())
            // The one drone's 309 recent samples, in chunks of at most `Limits.Store.chunkSpanMax`.
            #expect(compacted.samples == 309 && compacted.chunks >= 1)
            #expect(try blockVersions(path, "telemetry_chunk") == [1, Int64(compacted.chunks)], "the old chunk stays; the new ones are compressed")
            let connection = try SQLiteConnection(path: path, readOnly: true)
            let span = try connection.integer("SELECT max(end_us - start_us) FROM telemetry_chunk WHERE substr(data, 1, 1) = x'02'") ?? -1
            connection.close()
            #expect(span >= 0 && span <= Int64(Limits.Store.chunkSpanMax.microsecondsClamped))
            #expect(try blockVersions(path, "telemetry_recent") == [0, 0])
            #expect(try all(store) == before)
            #expect(try csv(store) == expected)
            let latest = try store.latestSamples()
            #expect(latest.count == 1 && latest.first == before.max { $0.timestampMicroseconds < $1.timestampMicroseconds })
        }
    }

    @Test func aReaderOpensAnOldDatabaseWithoutMigratingIt() throws {
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("v1.csv"), encoding: .utf8)
        try withFixtureCopy { path in
            var options = StoreOptions()
            options.isReadOnly = true
            let store = try TelemetryStore(path: path, options: options)
            defer { store.close() }
            #expect(try store.storedSchemaVersion() == 4)
            #expect(try csv(store) == expected)
        }
    }
}
