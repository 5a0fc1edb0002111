import Foundation

/// Reads `serve --config FILE`: `name = value` lines; `#` starts a comment; blank lines are
/// ignored; a value may be quoted. Unknown names and malformed lines are errors that name the file
/// and the line. The parser takes text and knows nothing of the command line, so the fuzz target
/// (`Fuzz/ConfigFileFuzz.swift`) compiles it alone.
enum ConfigFile {
    struct Problem: Error, CustomStringConvertible, Equatable {
        var description: String
    }

    /// Longest config file read: a few dozen options fit in a few KiB.
    static let bytesMax = 1 << 20

    /// The values of the file at `path`, by name.
    static func read(_ path: String, allowed: Set<String>) throws(Problem) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "--config: cannot read '\(path)'")
        }
        guard data.count <= bytesMax else { throw Problem(description: "--config \(path): larger than \(bytesMax >> 20) MiB") }
        return try parse(String(decoding: data, as: UTF8.self), path: path, allowed: allowed)
    }

    /// The values of a config file's text, by name; `path` prefixes every message.
    ///
    /// Lines, comments and the `=` are found in the UTF-8 bytes, not among Swift's Characters: a
    /// Character is a grapheme cluster, and a `#` or `=` can be part of one (a combining mark
    /// after it, U+20E3 making "#⃣"; a prepended concatenation mark before it, U+06DD), which
    /// a search for the Character would pass over. ASCII bytes never occur inside another
    /// character's UTF-8, so the split is exact.
    static func parse(_ text: String, path: String, allowed: Set<String>) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        let newline = UInt8(ascii: "\n"), hash = UInt8(ascii: "#"), equals = UInt8(ascii: "=")
        let rawLines = text.utf8.split(separator: newline, omittingEmptySubsequences: false)
        for (number, rawLine) in rawLines.enumerated() {
            let line = rawLine.prefix { $0 != hash }
            // Whitespace and newlines: a file saved with CRLF line ends keeps no '\r' in its values.
            let trimmed = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            // Control characters (a stray CR, escape sequences) would end up in log lines.
            guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) else {
                throw Problem(description: "--config \(path) line \(number + 1): holds a control character")
            }
            let bytes = trimmed.utf8
            guard let split = bytes.firstIndex(of: equals) else {
                throw Problem(description: "--config \(path) line \(number + 1): expected 'name = value'")
            }
            let name = String(decoding: bytes[..<split], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let value = String(decoding: bytes[bytes.index(after: split)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, !value.isEmpty else {
                throw Problem(description: "--config \(path) line \(number + 1): expected 'name = value'")
            }
            guard allowed.contains(name) else {
                throw Problem(description: "--config \(path) line \(number + 1): unknown option '\(name)'")
            }
            values[name] = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return values
    }
}
