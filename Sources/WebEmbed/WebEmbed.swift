import Foundation

/// The build tool behind the `EmbedWebFiles` plugin: `WebEmbed OUTPUT FILE...` writes OUTPUT, a
/// Swift source declaring `enum WebFiles` with each FILE's text under its file name. Fails (exit
/// 1, nothing written) on a file that cannot be read, is not UTF-8, or shares a name with another.
@main
enum WebEmbedTool {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let output = arguments.first else {
            FileHandle.standardError.write(Data("usage: WebEmbed OUTPUT FILE...\n".utf8))
            exit(2)
        }
        var files: [(name: String, text: String)] = []
        for path in arguments.dropFirst() {
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                fail("\(path): cannot be read as UTF-8 text")
            }
            guard !files.contains(where: { $0.name == name }) else { fail("\(path): a second file named \(name)") }
            files.append((name, text))
        }
        do {
            try Data(source(files: files).utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            fail("\(output): \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("WebEmbed: \(message)\n".utf8))
        exit(1)
    }

    /// The generated source: a dictionary literal of file name to text.
    static func source(files: [(name: String, text: String)]) -> String {
        var out = "// Generated at build time by the EmbedWebFiles plugin from the target's Web/ folder: edit those files.\n"
        out += "enum WebFiles {\n    /// Each front-end file's text, by file name.\n    static let text: [String: String] = [\n"
        if files.isEmpty { out += ":\n" }
        for file in files {
            out += literal(file.name) + ": " + literal(file.text) + ",\n"
        }
        out += "]\n}\n"
        return out
    }

    /// A multi-line string literal whose value is exactly `text`: backslashes and quotes escaped,
    /// carriage returns and other control characters as escapes, and whitespace that ends a line
    /// escaped too, so no line of the literal ends in a space.
    static func literal(_ text: String) -> String {
        var out = "\"\"\"\n"
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            let endsLine = index + 1 == scalars.count || scalars[index + 1] == "\n"
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case " " where endsLine: out += "\\u{20}"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\n\"\"\""
    }
}
