import Testing

@testable import WebEmbed

/// The literal the embedder writes for a file: the text exactly, whatever characters it holds.
/// (StatusServerTests compares the compiled result with the files on disk.)
@Suite struct WebEmbedTests {
    @Test func literalEscapesWhatSwiftWouldRead() {
        let text = "a \\ \"\"\" b\r\n\tc \n\u{1}\u{7F}é ✓\n"
        let expected = "\"\"\"\n" + "a \\\\ \\\"\\\"\\\" b\\r\n" + "\\tc\\u{20}\n" + "\\u{1}\\u{7f}é ✓\n" + "\n\"\"\""
        #expect(WebEmbedTool.literal(text) == expected)
        // No line of a literal ends in whitespace, and no backslash is left to escape the newline.
        for line in WebEmbedTool.literal(text).split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(line.last != " " && line.last != "\t")
        }
    }

    @Test func emptyAndTrailingNewlines() {
        #expect(WebEmbedTool.literal("") == "\"\"\"\n\n\"\"\"")
        #expect(WebEmbedTool.literal("\n\n") == "\"\"\"\n\n\n\n\"\"\"")
    }

    @Test func sourceDeclaresEveryFile() {
        let source = WebEmbedTool.source(files: [("a.js", "x"), ("b.css", "y")])
        #expect(source.contains("enum WebFiles {"))
        #expect(source.contains("\"\"\"\na.js\n\"\"\": \"\"\"\nx\n\"\"\",\n"))
        #expect(source.contains("\"\"\"\nb.css\n\"\"\": \"\"\"\ny\n\"\"\",\n"))
        #expect(WebEmbedTool.source(files: []).contains("[\n:\n]"))
    }
}
