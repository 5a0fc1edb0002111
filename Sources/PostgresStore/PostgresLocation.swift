import Foundation
import Telemetry
import TelemetryStore

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`), and
/// the password, which never comes from the URL (it would show in `ps`, shell history and logs):
/// from `--db-password-file`, else the `PGPASSWORD` environment variable, else none (trust or
/// peer authentication).
public struct PostgresLocation: Sendable, Equatable {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// `?sslmode=require` or `verify-full`: TLS or no connection (the default is a plain
    /// connection, as on loopback).
    public var requiresTLS: Bool
    /// `?sslmode=verify-full`: the server's certificate must chain to `caFile` (or, without one,
    /// to the system's CA bundle) and name `host`.
    public var verifiesServerName: Bool = false
    /// `--db-ca-file`: the CA bundle (PEM) the server's certificate is checked against.
    public var caFile: String?
    public var password: String?

    /// Whether `--db` names a PostgreSQL store rather than a SQLite file.
    public static func isPostgres(_ db: String) -> Bool {
        db.hasPrefix("postgres://") || db.hasPrefix("postgresql://")
    }

    /// Parses `url`; the errors name `--db` and never repeat a password.
    /// - Parameter caFile: `--db-ca-file`; it needs `sslmode=verify-full` in the URL, or no
    ///   `sslmode` (then it means verify-full).
    public init(
        url: String, passwordFile: String? = nil, caFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(StoreError) {
        guard Self.isPostgres(url), let components = URLComponents(string: url) else {
            throw .invalidLocation("--db: not a postgres://USER@HOST:PORT/DATABASE URL")
        }
        if components.password != nil {
            throw .invalidLocation("--db: the URL holds a password; put it in --db-password-file or PGPASSWORD instead")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .invalidLocation("--db: the URL names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidLocation("--db: the URL names no host (postgres://USER@HOST:PORT/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw .invalidLocation("--db: port \(port) is out of range") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidLocation("--db: the URL names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        var mode: String?
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", let value?) where ["disable", "require", "verify-full"].contains(value): mode = value
            default:
                throw .invalidLocation("--db: unknown URL parameter '\(item.name)' (only sslmode=disable|require|verify-full)")
            }
        }
        if let caFile {
            // A CA file is given to verify the server: anything weaker than verify-full would
            // quietly not use it.
            guard mode == nil || mode == "verify-full" else {
                throw .invalidLocation("--db-ca-file needs sslmode=verify-full in --db (or no sslmode), not sslmode=\(mode!)")
            }
            mode = "verify-full"
            guard let pem = FileManager.default.contents(atPath: caFile), String(decoding: pem, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                throw .invalidLocation("--db-ca-file: cannot read a PEM certificate from '\(caFile)'")
            }
            self.caFile = caFile
        }
        let requiresTLS = mode == "require" || mode == "verify-full"
        verifiesServerName = mode == "verify-full"
        self.user = user.removingPercentEncoding ?? user
        self.host = host
        self.port = port
        self.database = database.removingPercentEncoding ?? database
        self.requiresTLS = requiresTLS
        if let passwordFile {
            let text: String
            do { text = try SecretFile.readText(path: passwordFile, option: "--db-password-file") } catch {
                throw .invalidLocation(error.description)
            }
            let password = text.trimmingCharacters(in: .newlines)
            guard !password.isEmpty else { throw .invalidLocation("--db-password-file: '\(passwordFile)' is empty") }
            self.password = password
        } else {
            password = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// The URL without any secret, for messages and the status page.
    public var redacted: String {
        "postgres://\(user)@\(host):\(port)/\(database)\(verifiesServerName ? "?sslmode=verify-full" : requiresTLS ? "?sslmode=require" : "")"
    }
}
