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

    /// Parses the text of a key file.
    public init(parsing text: String) throws(MAVLinkKeysError) {
        var keys: [UInt8: [UInt8]] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw MAVLinkKeysError(line: lineNumber, message: "expected '<system id> <hex key>'")
            }
            guard let system = UInt8(fields[0]), system != 0 else {
                throw MAVLinkKeysError(line: lineNumber, message: "system id '\(fields[0])' is not a number in 1...255")
            }
            guard let key = Self.bytes(fromHex: fields[1]), key.count == Self.keyLength else {
                throw MAVLinkKeysError(line: lineNumber, message: "key for system \(system) is not 64 hex digits (32 bytes)")
            }
            guard keys[system] == nil else {
                throw MAVLinkKeysError(line: lineNumber, message: "system \(system) has a second key")
            }
            keys[system] = key
        }
        self.keys = keys
    }

    static func bytes(fromHex hex: Substring) -> [UInt8]? { DroneKeys.bytes(fromHex: hex) }
}

/// A key file problem: the line and what is wrong, never the key.
public struct MAVLinkKeysError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}
