import WireAuthentication

/// MAVLink 2 signing keys per system id, read from a key file:
///
///     # system id   secret key (hex, exactly 32 bytes)
///     1             0102...20
///
/// One system per line; `#` starts a comment; blank lines are ignored. Keys never appear in error
/// messages or logs: errors name the line and what is wrong with it, not the key.
public struct MAVLinkKeys: Sendable, Equatable {
    /// MAVLink's secret keys are 32 bytes.
    public static let keyLength = 32

    /// The key bytes of each system id.
    public private(set) var keys: [UInt8: [UInt8]]

    public init() { keys = [:] }

    /// Keys given in code (tests, the simulator).
    public init(_ keys: [UInt8: [UInt8]]) throws(MAVLinkKeysError) {
        for (system, key) in keys where key.count != Self.keyLength {
            throw MAVLinkKeysError(line: 0, message: "key for system \(system) has \(key.count) bytes; need 32")
        }
        self.keys = keys
    }

    public var count: Int { keys.count }
    public subscript(system: UInt8) -> [UInt8]? { keys[system] }

    /// Parses the text of a key file (`KeyFile`, the reader drone key files use too).
    public init(parsing text: String) throws(MAVLinkKeysError) {
        do { keys = try KeyFile.parse(text, rules: Self.rules) } catch {
            throw MAVLinkKeysError(line: error.line, message: error.message)
        }
    }

    /// System ids are 1...255 (0 is the broadcast id); keys exactly 32 bytes.
    static var rules: KeyFile.Rules<UInt8> {
        KeyFile.Rules(
            idName: "system id", subjectName: "system", idRangeText: "1...255", parseID: { UInt8($0).flatMap { $0 == 0 ? nil : $0 } },
            keyProblem: { key in key?.count == keyLength ? nil : "is not 64 hex digits (32 bytes)" })
    }
}

/// A key file problem: the line and what is wrong, never the key.
public struct MAVLinkKeysError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}
