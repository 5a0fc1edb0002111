import Synchronization
import Foundation
@testable import PostgresStore
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

@Suite(.enabled(if: TestServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh; .ci/run starts one)"), .serialized)
struct PostgresStoreTests {
    @Test func writesAndReadsBackEveryFieldExactly() throws {
        try TestDatabase.withFresh { database in
            let store = try database.open()
            defer { store.close() }
            let drones: [UInt32] = [1, 2, 3, 700]
            let columns = makeColumns(drones: drones, perDrone: 50)
            let mavlink = makeColumns(drones: [9], perDrone: 5)
            let result = try store.write(
                [StoreBatchPart(protocol: .skygate, columns: columns), StoreBatchPart(protocol: .mavlink, columns: mavlink)],
                spillSequence: nil)
            #expect(result.rowsWritten == 205)
            #expect(result.rowsAlreadyStored == 0)
            #expect(try store.rowCount() == 205)
            let one = try readAll(store, drone: DroneIdentity(protocol: .skygate, number: 700), pageSize: 7)
            #expect(one.count == 50)
            #expect(one.map(\.sequence) == Array(0..<50).map(UInt32.init))
            for (index, row) in one.enumerated() {
                #expect(row.sample == makeSample(drone: 700, index: index))
                #expect(row.timestampMicroseconds == baseTimeMicroseconds + UInt64(index) * 20_000 + 700)
                #expect(row.storedMicroseconds != nil)
            }
            let all = try readAll(store)
            #expect(all.count == 205)
            // Drones in (protocol, number) order, each in time order.
            #expect(all.first?.drone == DroneIdentity(protocol: .skygate, number: 1))
            #expect(all.last?.drone == DroneIdentity(protocol: .mavlink, number: 9))
            let summaries = try store.droneSummaries()
            #expect(summaries.map(\.rowCount) == [50, 50, 50, 50, 5])
            let latest = try store.latestSamples()
            #expect(latest.count == 5)
            #expect(latest.first { $0.drone.number == 2 }?.sequence == 49)
            #expect(latest.first { $0.drone.number == 2 }?.sample == makeSample(drone: 2, index: 49))
            let fleet = try store.sharedFleet()
            #expect(fleet.allSatisfy { $0.gateway == "test-gateway" && $0.lastStoredMicroseconds >= $0.firstStoredMicroseconds })
            // Times are bigint microseconds, bit for bit.
            #expect(try database.integer("SELECT max(time_us) FROM telemetry") == Int64(baseTimeMicroseconds + 49 * 20_000 + 700))
        }
    }

    @Test func aFrameTwoGatewaysReceivedIsStoredOnce() throws {
        try TestDatabase.withFresh { database in
            let first = try database.open(gateway: "gw-a")
            let second = try database.open(gateway: "gw-b")
            defer { first.close(); second.close() }
            // gw-a gets samples 0..<60 of drones 1...20; gw-b gets 40..<100 (20 overlap per drone).
            let a = makeColumns(drones: Array(1...20), perDrone: 60)
            let b = makeColumns(drones: Array(1...20), perDrone: 60, firstIndex: 40)
            let resultA = try first.write([StoreBatchPart(protocol: .skygate, columns: a)], spillSequence: nil)
            let resultB = try second.write([StoreBatchPart(protocol: .skygate, columns: b)], spillSequence: nil)
            #expect(resultA.rowsAlreadyStored == 0)
            #expect(resultB.rowsAlreadyStored == 400)
            #expect(try first.rowCount() == 2_000)
            let rows = try readAll(second, drone: DroneIdentity(protocol: .skygate, number: 5))
            #expect(rows.map(\.sequence) == Array(0..<100).map(UInt32.init))
            // The same batch again (a retried commit that had in fact committed): all kept once.
            let again = try second.write([StoreBatchPart(protocol: .skygate, columns: b)], spillSequence: nil)
            #expect(again.rowsAlreadyStored == 1_200)
            #expect(try first.rowCount() == 2_000)
            // The fleet shows the latest sample, whoever stored it.
            let fleet = try first.sharedFleet()
            #expect(fleet.count == 20)
            #expect(fleet.allSatisfy { $0.latest.sequence == 99 && $0.gateway == "gw-b" })
        }
    }

    @Test func partitionsByDayAndRetentionDropsWholeDays() throws {
        try TestDatabase.withFresh { database in
            let store = try database.open()
            defer { store.close() }
            // 4 samples per drone, 12 hours apart: 2026-01-01 00:00 and 12:00, 01-02 00:00 and 12:00.
            let columns = makeColumns(drones: [1, 2], perDrone: 4, spacing: 43_200_000_000)
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
            #expect(try database.integer("SELECT count(*) FROM pg_inherits WHERE inhparent = 'telemetry'::regclass") == 2)
            #expect(try database.integer("SELECT count(*) FROM telemetry_20260101") == 4)
            #expect(try database.integer("SELECT count(*) FROM telemetry_20260102") == 4)
            try database.sql("ANALYZE telemetry_20260101")
            // Keep from 2026-01-01 18:00: only days wholly before it go, so nothing is dropped.
            #expect(try store.retain(olderThanMicroseconds: baseTimeMicroseconds + 64_800_000_000).partitionsDropped == 0)
            // Keep from 2026-01-02 06:00: 01-01 goes whole; 01-02 stays whole (its 00:00 rows too).
            let result = try store.retain(olderThanMicroseconds: baseTimeMicroseconds + 108_000_000_000)
            #expect(result.partitionsDropped == 1)
            #expect(result.rowsDeleted == 4)
            #expect(try store.rowCount() == 4)
            #expect(try database.integer("SELECT count(*) FROM pg_inherits WHERE inhparent = 'telemetry'::regclass") == 1)
            // A later batch for the dropped day creates its partition again.
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: makeColumns(drones: [3], perDrone: 1))], spillSequence: nil)
            #expect(try store.rowCount() == 5)
        }
    }

    @Test func spillMarkCommitsWithTheBatchPerGateway() throws {
        try TestDatabase.withFresh { database in
            let store = try database.open(gateway: "gw-a")
            let other = try database.open(gateway: "gw-b")
            defer { store.close(); other.close() }
            #expect(try store.spillCommittedSequence() == 0)
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: makeColumns(drones: [1], perDrone: 3))], spillSequence: 7)
            _ = try store.write([StoreBatchPart(protocol: .skygate, columns: makeColumns(drones: [2], perDrone: 3))], spillSequence: 5)
            #expect(try store.spillCommittedSequence() == 7)
            #expect(try other.spillCommittedSequence() == 0)
            // A batch spanning too many days is not refused whole (issue 20): its rows on the day
            // beyond the partitions one batch may create are isolated, the rest and the mark stored.
            let days = Limits.Postgres.partitionsPerBatchMax
            let wide = makeColumns(drones: [4], perDrone: days + 1, spacing: 86_400_000_000)
            let result = try store.write([StoreBatchPart(protocol: .skygate, columns: wide)], spillSequence: 9)
            #expect(result.rowsWritten == days && result.unitsRefused == 1 && result.rowsRefused == 1)
            #expect(try store.spillCommittedSequence() == 9)
            #expect(try store.rowCount() == 6 + days)
            // A failed batch moves neither rows nor the mark: here the spill mark's update fails
            // (a constraint added for the test) after the rows were copied, in one transaction.
            try database.sql("ALTER TABLE skygate_spill ADD CONSTRAINT test_mark_below_ten CHECK (committed < 10)")
            #expect(throws: StoreError.self) {
                try store.write([StoreBatchPart(protocol: .skygate, columns: makeColumns(drones: [5], perDrone: 2))], spillSequence: 11)
            }
            #expect(try store.spillCommittedSequence() == 9)
            #expect(try store.rowCount() == 6 + days)
        }
    }
}

@Suite(.enabled(if: TestServer.isAvailable, "needs SKYGATE_TEST_PG"), .serialized)
struct PostgresMigrationTests {
    @Test func freshDatabaseGetsTheCurrentSchemaOnceWhenGatewaysStartTogether() throws {
        try TestDatabase.withFresh { database in
            let location = try database.location
            // Three gateways opening at once: the advisory lock lets one migrate.
            let errors = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 3) { index in
                do {
                    let store = try PostgresTelemetryStore(location: location, gatewayName: "gw-\(index)")
                    store.close()
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
            #expect(errors.withLock { $0 }.isEmpty)
            #expect(try database.integer("SELECT version FROM skygate_schema") == Int64(PostgresTelemetryStore.schemaVersion))
            #expect(try database.integer("SELECT count(*) FROM skygate_schema") == 1)
        }
    }

    @Test func migratesVersion1KeepingRowsAndFillingTheFleet() throws {
        try TestDatabase.withFresh { database in
            // A version-1 database as an earlier Skygate left it.
            let location = try database.location
            try PostgresTelemetryStore.blocking { () async throws -> Int in
                let connection = try await TestDatabase.connect(location)
                try await connection.query("BEGIN", logger: TestDatabase.logger)
                let version = try await PostgresSchema.migrate(connection, upTo: 1, logger: TestDatabase.logger)
                try await connection.query(PostgresSchema.createPartition(day: 20_454), logger: TestDatabase.logger)
                try await connection.query("""
                    INSERT INTO telemetry VALUES (1, 42, 1767225600000000, 1, 473977000, -85456000, 450000, 0, 0, 0, 9000, 16000, 80, 12, 5, 1767225601000000),
                                                 (1, 42, 1767225600100000, 2, 473977001, -85456001, 450001, 0, 0, 0, 9001, 15999, 79, 12, 5, 1767225601000000)
                    """, logger: TestDatabase.logger)
                try await connection.query("COMMIT", logger: TestDatabase.logger)
                try await connection.close()
                return version
            }.get()
            #expect(try database.integer("SELECT version FROM skygate_schema") == 1)
            let store = try database.open()
            defer { store.close() }
            #expect(try database.integer("SELECT version FROM skygate_schema") == Int64(PostgresTelemetryStore.schemaVersion))
            #expect(try store.rowCount() == 2)
            let fleet = try store.sharedFleet()
            #expect(fleet.count == 1)
            #expect(fleet.first?.latest.sequence == 2)
            #expect(fleet.first?.latest.sample.latitudeE7 == 473_977_001)
        }
    }

    @Test func refusesANewerSchemaAndChangesNothing() throws {
        try TestDatabase.withFresh { database in
            do {
                let store = try database.open()
                _ = try store.write([StoreBatchPart(protocol: .skygate, columns: makeColumns(drones: [1], perDrone: 4))], spillSequence: nil)
                store.close()
            }
            try database.sql("UPDATE skygate_schema SET version = 99")
            #expect(throws: StoreError.schemaTooNew(found: 99, supported: PostgresTelemetryStore.schemaVersion)) {
                _ = try database.open()
            }
            #expect(throws: StoreError.schemaTooNew(found: 99, supported: PostgresTelemetryStore.schemaVersion)) {
                _ = try database.open(readOnly: true)
            }
            #expect(try database.integer("SELECT version FROM skygate_schema") == 99)
            #expect(try database.integer("SELECT count(*) FROM telemetry") == 4)
        }
    }
}

@Suite struct PostgresLocationTests {
    @Test func parsesTheURLAndTakesThePasswordFromTheEnvironment() throws {
        let location = try PostgresLocation(url: "postgres://ops@db.example:6543/fleet", environment: ["PGPASSWORD": "s3cret"])
        #expect(location == PostgresLocation.testValue(user: "ops", host: "db.example", port: 6543, database: "fleet", password: "s3cret"))
        #expect(location.redacted == "postgres://ops@db.example:6543/fleet")
        #expect(try PostgresLocation(url: "postgresql://ops@h/fleet?sslmode=require", environment: [:]).requiresTLS)
        #expect(try PostgresLocation(url: "postgres://ops@h/fleet", environment: [:]).port == 5432)
    }

    @Test func badURLsNameTheOptionAndNeverEchoAPassword() {
        func message(_ url: String, passwordFile: String? = nil) -> String {
            do {
                _ = try PostgresLocation(url: url, passwordFile: passwordFile, environment: [:])
                return "accepted"
            } catch { return "\(error)" }
        }
        let withPassword = message("postgres://ops:hunter2@h:5432/fleet")
        #expect(withPassword.contains("--db") && withPassword.contains("--db-password-file") && !withPassword.contains("hunter2"))
        #expect(message("postgres://h:5432/fleet").contains("names no user"))
        #expect(message("postgres://ops@:5432/fleet").contains("--db"))
        #expect(message("postgres://ops@h:5432/").contains("names no database"))
        #expect(message("postgres://ops@h:99999/fleet").contains("--db"))
        // verify-full is known (docs/operations.md, --db-ca-file); verify-ca and prefer are not.
        #expect(message("postgres://ops@h/fleet?sslmode=verify-full") == "accepted")
        #expect(message("postgres://ops@h/fleet?sslmode=verify-ca").contains("unknown URL parameter"))
        #expect(message("postgres://ops@h/fleet?sslmode=prefer").contains("unknown URL parameter"))
        #expect(message("postgres://ops@h/fleet", passwordFile: "/nonexistent/pw").contains("--db-password-file"))
    }

    /// A password file other users can read is refused, naming the file and its mode, never the
    /// password; a private one is read (one trailing newline dropped).
    @Test func aPasswordFileOthersCanReadIsRefused() throws {
        let path = NSTemporaryDirectory() + "skygate-pg-password-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("hunter2\n".utf8))
        for mode: mode_t in [0o644, 0o640, 0o604] {
            chmod(path, mode)
            do {
                _ = try PostgresLocation(url: "postgres://ops@h/fleet", passwordFile: path, environment: [:])
                Issue.record("mode \(String(mode, radix: 8)) accepted")
            } catch {
                #expect("\(error)".contains("--db-password-file: permissions 0\(String(mode, radix: 8)) for '\(path)' are too open"), "\(error)")
                #expect(!"\(error)".contains("hunter2"))
            }
        }
        chmod(path, 0o600)
        #expect(try PostgresLocation(url: "postgres://ops@h/fleet", passwordFile: path, environment: [:]).password == "hunter2")
    }
}

@Suite(.enabled(if: TestServer.isAvailable, "needs SKYGATE_TEST_PG"))
struct PostgresConnectionErrorTests {
    @Test func aRefusedConnectionIsAnOutageNamingTheServer() throws {
        // A port nothing listens on (bound and closed here, so it is free).
        let url = "postgres://skygate@127.0.0.1:1/skygate"
        do {
            _ = try PostgresTelemetryStore(location: PostgresLocation(url: url, environment: [:]), gatewayName: "t")
            Issue.record("connected to port 1")
        } catch {
            #expect(error.isUnavailable)
            #expect("\(error)".contains("127.0.0.1:1"))
        }
    }

    @Test func aWrongPasswordSaysWhereThePasswordComesFrom() throws {
        let base = try PostgresLocation(url: TestServer.url!, environment: [:])
        do {
            _ = try PostgresTelemetryStore(
                location: PostgresLocation(url: base.redacted, environment: ["PGPASSWORD": "not-the-password"]), gatewayName: "t")
            Issue.record("logged in with a wrong password")
        } catch {
            #expect(!error.isUnavailable)
            #expect("\(error)".contains("28P01"))
            #expect("\(error)".contains("--db-password-file or PGPASSWORD"))
            #expect(!"\(error)".contains("not-the-password"))
        }
    }
}

extension PostgresLocation {
    static func testValue(user: String, host: String, port: Int, database: String, password: String?) -> PostgresLocation {
        var location = try! PostgresLocation(url: "postgres://\(user)@\(host):\(port)/\(database)", environment: [:])
        location.password = password
        return location
    }
}
