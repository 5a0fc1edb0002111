import Foundation
import Testing

@testable import StatusServer

/// The pages are front-end files embedded at build time (the EmbedWebFiles plugin): what the
/// binary serves is byte for byte what `Sources/StatusServer/Web` holds, every page finds every
/// file it names, and the review page's script keeps to the rules the status page's does.
@Suite struct WebPagesTests {
    static let webDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/StatusServer/Web")

    /// Every file of Web/ is embedded with exactly its text, and nothing else is.
    @Test func embeddedFilesEqualTheFilesOnDisk() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.webDirectory.path)
            .filter { $0.hasSuffix(".html") || $0.hasSuffix(".css") || $0.hasSuffix(".js") }
        #expect(Set(names) == Set(WebFiles.text.keys))
        #expect(names.count >= 10)
        for name in names {
            let disk = try Data(contentsOf: Self.webDirectory.appendingPathComponent(name))
            #expect(WebFiles.text[name].map { Data($0.utf8) } == disk, "\(name) differs from the embedded copy")
        }
    }

    /// Each page assembles from files that exist, into one inline style and one inline script
    /// block that hold the named files in order; no placeholder is left behind.
    @Test(arguments: [("status.html", ["common.js", "status.js"], "status.css"), ("drone.html", ["common.js", "drone.js"], "drone.css"),
        ("review.html", ["common.js", "review.js"], "review.css")])
    func pagesAssemble(page: String, scripts: [String], style: String) throws {
        let (html, missing) = WebPages.assemble(page)
        #expect(missing.isEmpty)
        #expect(!html.contains("data-embed"))
        #expect(InlineContentPolicy.blocks(of: "script", in: html) == ["\n" + scripts.compactMap { WebFiles.text[$0] }.joined()])
        #expect(InlineContentPolicy.blocks(of: "style", in: html) == ["\n" + (WebFiles.text[style] ?? "nil")])
        #expect(html.hasPrefix("<!doctype html>"))
    }

    /// A file's text must not end the block it goes into early.
    @Test func noFileClosesItsBlock() {
        for (name, text) in WebFiles.text where !name.hasSuffix(".html") {
            #expect(!text.lowercased().contains("</script") && !text.lowercased().contains("</style"), "\(name)")
        }
    }

    /// The assembler on made-up files: placeholders replaced in place, files joined in order,
    /// a missing file named (its block left empty), a missing page reported, other text kept.
    @Test func assemblerRules() {
        let files = ["p.html": "<a><style data-embed=\"x.css\"></style>mid<script data-embed=\"a.js b.js c.js\"></script><b>", "x.css": "X{}", "a.js": "A;", "b.js": "B;"]
        let (html, missing) = WebPages.assemble("p.html", files: files)
        #expect(html == "<a><style>\nX{}</style>mid<script>\nA;B;</script><b>")
        #expect(missing == ["c.js"])
        #expect(WebPages.assemble("none.html", files: files).missing == ["none.html"])
        // An unterminated placeholder is left as it is, and the loop ends.
        let broken = ["q.html": "<script data-embed=\"a.js\">", "a.js": "A"]
        let unterminated = WebPages.assemble("q.html", files: broken)
        #expect(unterminated.html == "<script data-embed=\"a.js\">")
        #expect(unterminated.missing.isEmpty)
    }

    /// The review page's script: no markup sink, only its own origin, every fetch through `get`
    /// (the token header) to an /api/ path, the API the contract names, and the bounded fleet
    /// requests (one in flight, the latest cursor wins).
    @Test func reviewScriptRules() throws {
        let script = InlineContentPolicy.blocks(of: "script", in: ReviewPage.html).joined()
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "eval(", "new Function", "setInterval(", "javascript:"] {
            #expect(!script.contains(sink), "the review script uses \(sink)")
        }
        let urls = script.matches(of: try Regex(#"https?://[^"' ]+"#)).map { String(script[$0.range]) }
        #expect(urls == ["http://www.w3.org/2000/svg"])
        #expect(script.components(separatedBy: "fetch(").count == 2, "fetch only inside get")
        for call in script.matches(of: try Regex(#"await get\([^)]*"#)).map({ String(script[$0.range]) }) {
            #expect(call.hasPrefix("await get(\"/api/"), "fetches \(call)")
        }
        for needle in ["\"/api/fleet?at=\"", "\"/api/timeline?\"", "\"/series?from=\"", "if (fleetBusy || fleetWanted === null", "PLAY_REQUEST_MS = 100",
            "history.replaceState(null, \"\", location.pathname + \"?\" + q)", "q.set(\"drone\", view.drone)", "SPEEDS = [1, 2, 4, 8, 16, 32, 64]"] {
            #expect(script.contains(needle), "the review script lacks \(needle)")
        }
        // The keys the page lists are the keys the script handles.
        for key in ["\" \":", "\"ArrowLeft\":", "\"ArrowRight\":", "\",\":", "\"PageUp\":", "\"PageDown\":", "\"r\":", "\"l\":", "\"Home\":", "\"End\":", "\"t\":"] {
            #expect(script.contains(key), "no handler for \(key)")
        }
        #expect(ReviewPage.html.contains("<dt>space</dt>") && ReviewPage.html.contains("<dt>PageUp PageDown</dt>"))
    }

    /// The status page and the drone page link to the review page.
    @Test func pagesLinkToReview() {
        #expect(StatusPage.html.contains("href=\"/review\""))
        #expect(InlineContentPolicy.blocks(of: "script", in: StatusPage.html).joined().contains("pageLink(\"/review\")"))
        #expect(DronePage.html.contains("href=\"/review\""))
    }
}
