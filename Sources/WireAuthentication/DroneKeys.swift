/// Per-drone secret keys, read from a key file:
///
///     # drone id   key (hex, 16 to 64 bytes; 32 recommended)
///     17           4f3a...
///
/// One drone per line; `#` starts a comment; blank lines are ignored. Keys never appear in
/// error messages or logs: errors name the line and what is wrong with it, not the key.
public struct DroneKeys: Sendable, Equatable {
    /// The key bytes of each drone.
    public private(set) var keys: [UInt32: [UInt8]]

    /// Shortest key accepted, in bytes (128 bits).
    public static let minKeyLength = 16
    /// Longest key accepted, in bytes (one SHA-256 block).
    public static let maxKeyLength = 64

    public init() { keys = [:] }

    /// Keys given in code (tests, the simulator).
    public init(_ keys: [UInt32: [UInt8]]) throws(DroneKeysError) {
        for (droneID, key) in keys where key.count < Self.minKeyLength || key.count > Self.maxKeyLength {
            throw DroneKeysError(line: 0, message: "key for drone \(droneID) has \(key.count) bytes; need 16...64")
        }
        self.keys = keys
    }

    public var count: Int { keys.count }
    public subscript(droneID: UInt32) -> [UInt8]? { keys[droneID] }

    /// Parses the text of a key file (`KeyFile`).
    public init(parsing text: String) throws(DroneKeysError) {
        do { keys = try KeyFile.parse(text, rules: Self.rules) } catch { throw DroneKeysError(line: error.line, message: error.message) }
    }

    /// Drone ids are any UInt32; keys 16 to 64 bytes.
    static var rules: KeyFile.Rules<UInt32> {
        KeyFile.Rules(
            idName: "drone id", subjectName: "drone", idRangeText: "0...4294967295", parseID: { UInt32($0) },
            keyProblem: { key in
                guard let key else { return "is not an even number of hex digits" }
                return key.count >= minKeyLength && key.count <= maxKeyLength ? nil : "has \(key.count) bytes; need 16...64"
            })
    }
}

/// A key file problem: the line (1-based; 0 for keys given in code) and what is wrong.
public struct DroneKeysError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "key file line \(line): \(message)" : message }
}
