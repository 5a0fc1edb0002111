import Foundation
import Logging
import TelemetryStore

/// The one place a `--db` value becomes a store: a `postgres://` URL opens the shared
/// PostgreSQL store, anything else is a SQLite file.
public enum StoreOpener {
    public struct Request: Sendable {
        /// The `--db` value.
        public var db: String
        /// `--db-password-file` (PostgreSQL; else `PGPASSWORD`).
        public var passwordFile: String?
        /// This gateway's name in the shared store (`--gateway-name`).
        public var gatewayName: String
        public var options: StoreOptions
        /// `--db-ca-file` (PostgreSQL): verify the server against this CA bundle (`sslmode=verify-full`).
        public var caFile: String?

        public init(db: String, passwordFile: String? = nil, gatewayName: String = StoreOpener.defaultGatewayName, options: StoreOptions = StoreOptions()) {
            self.db = db
            self.passwordFile = passwordFile
            self.gatewayName = gatewayName
            self.options = options
        }

        public var isPostgres: Bool { PostgresLocation.isPostgres(db) }

        /// The `--db` value without secrets (a URL's password is refused anyway).
        public var displayName: String {
            guard isPostgres else { return db }
            return (try? PostgresLocation(url: db, environment: [:]).redacted) ?? "postgres://…"
        }
    }

    /// The host name: a Kubernetes pod's name, so a restarted container finds its spill mark.
    public static var defaultGatewayName: String { ProcessInfo.processInfo.hostName }

    public static func open(_ request: Request, logger: Logger = Logger(label: "skygate.store")) throws(StoreError) -> any TelemetryStoring {
        if request.isPostgres {
            let location = try PostgresLocation(url: request.db, passwordFile: request.passwordFile, caFile: request.caFile)
            return try PostgresTelemetryStore(
                location: location, gatewayName: request.gatewayName, readOnly: request.options.isReadOnly, logger: logger)
        }
        if request.passwordFile != nil {
            throw .invalidLocation("--db-password-file is for a postgres:// --db; '\(request.db)' is a SQLite file")
        }
        if request.caFile != nil {
            throw .invalidLocation("--db-ca-file is for a postgres:// --db; '\(request.db)' is a SQLite file")
        }
        return try TelemetryStore(path: request.db, options: request.options)
    }
}
