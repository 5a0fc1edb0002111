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
    static func parse(_ text: String, path: String, allowed: Set<String>) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        // "\r\n" is one Character in Swift: split on it too, or a file saved with CRLF line ends
        // would read as one long line.
        let rawLines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, rawLine) in rawLines.enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            // Whitespace and newlines: a file saved with CRLF line ends keeps no '\r' in its values.
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            // Control characters (a stray CR, escape sequences) would end up in log lines.
            guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) else {
                throw Problem(description: "--config \(path) line \(number + 1): holds a control character")
            }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Problem(description: "--config \(path) line \(number + 1): expected 'name = value'")
            }
            guard allowed.contains(parts[0]) else {
                throw Problem(description: "--config \(path) line \(number + 1): unknown option '\(parts[0])'")
            }
            values[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return values
    }
}
