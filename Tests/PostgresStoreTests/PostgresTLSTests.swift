import Foundation
@testable import PostgresStore
import Telemetry
import TelemetryStore
import Testing

/// TLS to PostgreSQL is verified (issue 20, docs/security.md "Database TLS"): against a PostgreSQL
/// 15 server of its own that takes TCP over TLS only (`hostssl`), with a CA and a server
/// certificate made here by the openssl CLI (Scripts/make-test-ca.sh), the store connects with
/// `--db-ca-file` and `sslmode=verify-full`, writes and reads back over TLS (the server's
/// `pg_stat_ssl` shows the session encrypted), and is refused with an unrelated CA or without TLS.
/// Runs where PostgreSQL 15 and openssl are installed (the development machine, `.ci/run`).
@Suite(.enabled(if: PostgresTLSServer.isInstalled, "needs PostgreSQL 15 (/usr/lib/postgresql/15) and openssl"), .serialized)
struct PostgresTLSTests {
    @Test func verifiedTLSConnectsAndOtherwiseIsRefused() throws {
        let server = try PostgresTLSServer()
        defer { server.stop() }
        let url = "postgres://skygate@localhost:\(server.port)/skygate"

        // The right CA: connected over TLS, rows written and read back.
        let location = try PostgresLocation(url: url, passwordFile: server.passwordFile, caFile: server.file("certs/ca.crt"))
        #expect(location.requiresTLS && location.verifiesServerName)
        #expect(location.redacted.hasSuffix("?sslmode=verify-full"))
        let store = try PostgresTelemetryStore(location: location, gatewayName: "tls-test")
        let columns = makeColumns(drones: [7], perDrone: 4)
        let result = try store.write([StoreBatchPart(protocol: .skygate, columns: columns)], spillSequence: nil)
        #expect(result.rowsWritten == 4)
        #expect(try store.rowCount() == 4)
        #expect(try readAll(store).map(\.sequence) == [0, 1, 2, 3])
        #expect(try server.psql("SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND usename = 'skygate'") >= 1)
        store.close()

        // An unrelated CA: the server's certificate does not chain to it.
        #expect(throws: StoreError.self) {
            let other = try PostgresLocation(url: url, passwordFile: server.passwordFile, caFile: server.file("certs/other-ca.crt"))
            _ = try PostgresTelemetryStore(location: other, gatewayName: "tls-test")
        }
        // No TLS: the server takes none (hostssl only).
        #expect(throws: StoreError.self) {
            let plain = try PostgresLocation(url: url + "?sslmode=disable", passwordFile: server.passwordFile)
            _ = try PostgresTelemetryStore(location: plain, gatewayName: "tls-test")
        }
    }

    /// The CA file needs verify-full (a weaker mode would not use it) and must hold a PEM
    /// certificate; the errors name the option.
    @Test func caFileOptionIsChecked() throws {
        let directory = NSTemporaryDirectory() + "skygate-ca-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: directory + "/bad.pem"))
        func message(_ url: String, caFile: String) -> String {
            do {
                _ = try PostgresLocation(url: url, caFile: caFile, environment: [:])
                return ""
            } catch { return "\(error)" }
        }
        #expect(message("postgres://ops@h/fleet?sslmode=require", caFile: directory + "/bad.pem").contains("needs sslmode=verify-full"))
        #expect(message("postgres://ops@h/fleet?sslmode=disable", caFile: directory + "/bad.pem").contains("needs sslmode=verify-full"))
        #expect(message("postgres://ops@h/fleet", caFile: directory + "/bad.pem").contains("--db-ca-file"))
        #expect(message("postgres://ops@h/fleet", caFile: directory + "/missing.pem").contains("--db-ca-file"))
        #expect(try PostgresLocation(url: "postgres://ops@h/fleet?sslmode=verify-full", environment: [:]).verifiesServerName)
        #expect(throws: StoreError.self) {
            var request = StoreOpener.Request(db: directory + "/x.db")
            request.caFile = directory + "/bad.pem"
            _ = try StoreOpener.open(request)
        }
    }
}

/// A PostgreSQL 15 server on a free loopback port in a temporary directory, TLS only, started by
/// Scripts/pg-test-server.sh with the certificates of Scripts/make-test-ca.sh.
final class PostgresTLSServer {
    static var isInstalled: Bool {
        FileManager.default.fileExists(atPath: "/usr/lib/postgresql/15/bin/pg_ctl") && FileManager.default.fileExists(atPath: "/usr/bin/openssl")
    }

    static var scripts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts")
    }

    let directory: String
    let port: Int
    var passwordFile: String { file("pg/password") }

    init() throws {
        directory = NSTemporaryDirectory() + "skygate-pg-tls-" + UUID().uuidString
        // The server runs as the postgres user, which must reach the data directory.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        port = try Self.freePort()
        try Self.run(Self.scripts.appendingPathComponent("make-test-ca.sh").path, [directory + "/certs"])
        try Self.run(
            Self.scripts.appendingPathComponent("pg-test-server.sh").path, ["start", directory + "/pg", "\(port)", "localhost"],
            environment: ["PG_TLS_DIR": directory + "/certs"])
    }

    func file(_ name: String) -> String { directory + "/" + name }

    func stop() {
        _ = try? Self.run(Self.scripts.appendingPathComponent("pg-test-server.sh").path, ["stop", directory + "/pg"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The first column of the first row of `query`, run as the superuser over the Unix socket.
    func psql(_ query: String) throws -> Int {
        let output = try Self.run(Self.scripts.appendingPathComponent("pg-test-server.sh").path, ["psql", directory + "/pg", "-tAc", query])
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @discardableResult
    static func run(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // The script may start the server, which lives on: it must not inherit any descriptor of
        // this process but the three standard ones (Foundation's Process leaves some open, and
        // one held by the server makes this process wait for the script's end forever).
        process.arguments = [
            "-c", #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec bash "$@""#,
            "close-inherited", script,
        ] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw StoreError.invalidLocation("\(script) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    /// A TCP port nothing listens on now (bound to port 0 and closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw StoreError.invalidLocation("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
