import Foundation

/// The test server (`SKYGATE_TEST_PG`, `SKYGATE_TEST_PG_PASSWORD_FILE`), and fresh databases on it
/// made and dropped with `psql`, as an operator would.
public enum PostgresServer {
    public static let environment = ProcessInfo.processInfo.environment
    public static let base = environment["SKYGATE_TEST_PG"]
    public static let passwordFile = environment["SKYGATE_TEST_PG_PASSWORD_FILE"]
    public static var isAvailable: Bool { base != nil && passwordFile != nil }

    /// The server's URL with another database name.
    public static func url(of database: String) -> String {
        guard let base, let slash = base.lastIndex(of: "/") else { return "" }
        return String(base[..<slash]) + "/" + database
    }

    public static func psql(_ sql: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", base ?? "", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = (try? String(contentsOfFile: passwordFile ?? "", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    public static func freshDatabase() throws -> String {
        let name = "skygate_cli_\(UInt32.random(in: 0...UInt32.max))"
        let status = try psql("CREATE DATABASE \(name)")
        guard status == 0 else { throw PostgresServerError(message: "psql CREATE DATABASE failed with \(status)") }
        return name
    }

    public static func drop(_ name: String) { _ = try? psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    public struct PostgresServerError: Error { public var message: String }
}
