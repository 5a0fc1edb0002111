import Foundation
import Logging
import PostgresNIO
@testable import PostgresStore
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// The test server `.ci/run` starts (Scripts/pg-test-server.sh): its URL in `SKYGATE_TEST_PG`,
/// the password file in `SKYGATE_TEST_PG_PASSWORD_FILE`. Without them the suites are skipped,
/// unless `SKYGATE_REQUIRE_PG=1` (CI), where that is a failure.
enum TestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["SKYGATE_TEST_PG"]
    static let passwordFile = environment["SKYGATE_TEST_PG_PASSWORD_FILE"]
    static var isAvailable: Bool { url != nil && passwordFile != nil }
    static var isRequired: Bool { environment["SKYGATE_REQUIRE_PG"] == "1" }
}

@Suite struct PostgresTestServerPresence {
    @Test func serverIsConfiguredWhenRequired() {
        if TestServer.isRequired { #expect(TestServer.isAvailable, "SKYGATE_REQUIRE_PG=1 but SKYGATE_TEST_PG is not set") }
    }
}

/// A fresh database on the test server for one test, dropped afterwards.
struct TestDatabase {
    let name: String
    let url: String
    let passwordFile: String

    static func withFresh<T>(_ body: (TestDatabase) throws -> T) throws -> T {
        let base = try PostgresLocation(url: TestServer.url!, passwordFile: TestServer.passwordFile!)
        let name = "skygate_t\(UInt32.random(in: 0...UInt32.max))"
        try admin(base, "CREATE DATABASE \(name)")
        defer { try? admin(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        let url = "postgres://\(base.user)@\(base.host):\(base.port)/\(name)"
        return try body(TestDatabase(name: name, url: url, passwordFile: TestServer.passwordFile!))
    }

    var location: PostgresLocation { get throws { try PostgresLocation(url: url, passwordFile: passwordFile) } }

    func open(gateway: String = "test-gateway", readOnly: Bool = false) throws -> PostgresTelemetryStore {
        try PostgresTelemetryStore(location: location, gatewayName: gateway, readOnly: readOnly)
    }

    /// Runs SQL on this database outside any store.
    func sql(_ statement: String) throws { try Self.admin(location, statement) }

    /// The first column of the first row as an integer.
    func integer(_ statement: String) throws -> Int64 {
        let location = try location
        let result = PostgresTelemetryStore.blocking { () async throws -> Int64 in
            let connection = try await Self.connect(location)
            defer { Task { try? await connection.close() } }
            var value: Int64 = -1
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger).decode(Int64.self) {
                value = row
            }
            return value
        }
        return try result.get()
    }

    static let logger = Logger(label: "skygate.test.postgres")

    static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(host: location.host, port: location.port, username: location.user, password: location.password,
                                 database: location.database, tls: .disable),
            id: 1, logger: logger)
    }

    static func admin(_ location: PostgresLocation, _ statement: String) throws {
        let result = PostgresTelemetryStore.blocking { () async throws -> Void in
            let connection = try await connect(location)
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
        try result.get()
    }
}

let baseTimeMicroseconds: UInt64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z

func makeSample(drone: UInt32, index: Int) -> WireSample {
    let small = Int32(drone % 1_000)
    return WireSample(
        timeOffsetMicroseconds: 0, latitudeE7: 473_977_000 + small * 1_000 + Int32(index),
        longitudeE7: -85_456_000 - small * 7 - Int32(index), altitudeMM: 450_000 + Int32(index) * 3,
        velocityNorthCMS: Int16(index % 300) - 150, velocityEastCMS: -Int16(drone % 100), velocityDownCMS: -5,
        headingCentidegrees: UInt16((Int(small) * 100 + index) % 36_000), batteryMillivolts: 16_400 - UInt16(index % 400),
        batteryPercent: UInt8(90 - index % 50), satellites: UInt8(drone % 20),
        status: StatusFlags(rawValue: UInt32(index % 8) | 1 << 31))
}

/// `perDrone` samples for each drone, 20 ms apart, starting at `firstIndex`, `spacing` µs apart.
func makeColumns(drones: [UInt32], perDrone: Int, firstIndex: Int = 0, spacing: UInt64 = 20_000) -> SampleColumns {
    let columns = SampleColumns(capacity: max(drones.count * perDrone, 1))
    for index in firstIndex..<(firstIndex + perDrone) {
        for drone in drones {
            columns.append(makeSample(drone: drone, index: index), droneID: drone, sequence: UInt32(index),
                           timestampMicroseconds: baseTimeMicroseconds + UInt64(index) * spacing + UInt64(drone))
        }
    }
    return columns
}

func readAll(_ store: any TelemetryStoring, drone: DroneIdentity? = nil, pageSize: Int = 4_096) throws -> [StoredSample] {
    var rows: [StoredSample] = []
    try store.readSamples(drone: drone, timeRangeMicroseconds: 0..<UInt64(Int64.max), pageSize: pageSize) { rows += $0; return true }
    return rows
}
