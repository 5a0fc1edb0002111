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

    /// Parses the text of a key file.
    public init(parsing text: String) throws(DroneKeysError) {
        var keys: [UInt32: [UInt8]] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw DroneKeysError(line: lineNumber, message: "expected '<drone id> <hex key>'")
            }
            guard let droneID = UInt32(fields[0]) else {
                throw DroneKeysError(line: lineNumber, message: "drone id '\(fields[0])' is not a number in 0...4294967295")
            }
            guard let key = Self.bytes(fromHex: fields[1]) else {
                throw DroneKeysError(line: lineNumber, message: "key for drone \(droneID) is not an even number of hex digits")
            }
            guard key.count >= Self.minKeyLength && key.count <= Self.maxKeyLength else {
                throw DroneKeysError(line: lineNumber, message: "key for drone \(droneID) has \(key.count) bytes; need 16...64")
            }
            guard keys[droneID] == nil else {
                throw DroneKeysError(line: lineNumber, message: "drone \(droneID) has a second key")
            }
            keys[droneID] = key
        }
        self.keys = keys
    }

    /// The bytes an even-length run of hex digits spells (either case), or nil. Shared by the
    /// MAVLink key files, so both kinds of key file read keys the same way.
    public static func bytes(fromHex hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

/// A key file problem: the line (1-based; 0 for keys given in code) and what is wrong.
public struct DroneKeysError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "key file line \(line): \(message)" : message }
}
