import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A database the store creates is 0600 before SQLite opens it, so its -wal and -shm files (which
/// SQLite gives the database file's mode) are 0600 too: no other user reads the fleet's tracks.
/// An existing database keeps the mode its operator gave it.
@Suite struct DatabaseFileModeTests {
    static func mode(_ path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : nil
    }

    @Test func aNewDatabaseAndItsWALAre0600() throws {
        try withTemporaryDatabase { path in
            let store = try TelemetryStore(path: path)
            let columns = SampleColumns(capacity: 16)
            columns.append(WireSample(latitudeE7: 1, longitudeE7: 2, altitudeMM: 3, status: .gpsFix), droneID: 1, sequence: 1,
                           timestampMicroseconds: 1_700_000_000_000_000)
            _ = try store.write(columns, protocol: .skygate)
            #expect(Self.mode(path) == 0o600)
            #expect(Self.mode(path + "-wal") == 0o600, "the WAL exists while the store is open, with the database's mode")
            #expect(Self.mode(path + "-shm") == 0o600)
            store.close()
        }
    }

    @Test func anExistingDatabaseKeepsItsMode() throws {
        try withTemporaryDatabase { path in
            try TelemetryStore(path: path).close()
            chmod(path, 0o640)
            try TelemetryStore(path: path).close()
            #expect(Self.mode(path) == 0o640)
        }
    }
}
