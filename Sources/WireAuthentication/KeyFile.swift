/// The one reader of key files, for Skygate drone keys (`DroneKeys`) and MAVLink signing keys
/// (`MAVLinkKeys`):
///
///     # id   key (hex)
///     17     4f3a...
///
/// One id per line; `#` starts a comment; blank lines are ignored; an id may have one key. What
/// an id and a key may be is the caller's (`Rules`); the structure is checked here. Errors name
/// the line and the problem, never the key.
public enum KeyFile {
    /// What one kind of key file accepts.
    public struct Rules<ID: Hashable> {
        /// How the id column is named in messages ("drone id", "system id").
        public var idName: String
        /// How an id is named in messages about its key ("drone", "system").
        public var subjectName: String
        /// The id's range in words, for messages ("0...4294967295").
        public var idRangeText: String
        /// The id a field spells, or nil when it is not a valid id.
        public var parseID: (Substring) -> ID?
        /// Why a key of these bytes is refused (nil when it is fine); nil bytes mean the field is
        /// not an even number of hex digits.
        public var keyProblem: (_ key: [UInt8]?) -> String?

        public init(
            idName: String, subjectName: String, idRangeText: String, parseID: @escaping (Substring) -> ID?,
            keyProblem: @escaping ([UInt8]?) -> String?
        ) {
            self.idName = idName
            self.subjectName = subjectName
            self.idRangeText = idRangeText
            self.parseID = parseID
            self.keyProblem = keyProblem
        }
    }

    /// A problem on a line (1-based; 0 for keys given in code).
    public struct Problem: Error, Equatable, Sendable {
        public var line: Int
        public var message: String
    }

    /// The keys of `text`, by id.
    public static func parse<ID: Hashable>(_ text: String, rules: Rules<ID>) throws(Problem) -> [ID: [UInt8]] {
        var keys: [ID: [UInt8]] = [:]
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on it too, or a key file saved with CRLF line
        // ends would read as one line.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw Problem(line: lineNumber, message: "expected '<\(rules.idName)> <hex key>'")
            }
            guard let id = rules.parseID(fields[0]) else {
                // An id field long enough to be a key (columns swapped) is not repeated: errors go
                // to logs, keys must not.
                let shown = fields[0].count <= 10 ? "'\(fields[0])'" : "of \(fields[0].count) characters"
                throw Problem(line: lineNumber, message: "\(rules.idName) \(shown) is not a number in \(rules.idRangeText)")
            }
            let key = bytes(fromHex: fields[1])
            if let problem = rules.keyProblem(key) {
                throw Problem(line: lineNumber, message: "key for \(rules.subjectName) \(id) \(problem)")
            }
            guard keys[id] == nil else {
                throw Problem(line: lineNumber, message: "\(rules.subjectName) \(id) has a second key")
            }
            keys[id] = key
        }
        return keys
    }

    /// The bytes an even-length run of hex digits spells (either case), or nil.
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
