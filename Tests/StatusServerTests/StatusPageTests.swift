import Foundation
import Testing

@testable import StatusServer

/// The status page's script, read as text: data (drone ids, zone names, event fields) can reach
/// the DOM only through `textContent` and `setAttribute`, because none of the APIs that parse a
/// string as HTML or script appear in it; it talks only to its own origin; and it reads the zone
/// and event endpoints the gateway serves. The real-browser test (Scripts/browser-test.sh) checks
/// the same with hostile zone names in Chromium.
@Suite struct StatusPageTests {
    var script: String {
        let blocks = InlineContentPolicy.blocks(of: "script", in: StatusPage.html)
        #expect(blocks.count == 1)
        return blocks.first ?? ""
    }

    /// No sink that turns a string into markup or code.
    @Test(arguments: [
        "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "createContextualFragment",
        "srcdoc", "eval(", "new Function", "setTimeout(\"", "setInterval(", "javascript:",
    ])
    func noMarkupSink(_ sink: String) {
        #expect(!script.contains(sink), "the page's script uses \(sink)")
    }

    /// Every URL in the script is a path on this origin; the only absolute URL is the SVG
    /// namespace, which is a name and never fetched.
    @Test func onlyOwnOrigin() throws {
        let absolute = try Regex(#"https?://[^"' ]+"#)
        let urls = script.matches(of: absolute).map { String(script[$0.range]) }
        #expect(urls == ["http://www.w3.org/2000/svg"])
        // Every fetch goes through `get` (which adds the token header), always with a path.
        let fetched = try Regex(#"await get\([^)]*"#)
        let calls = script.matches(of: fetched).map { String(script[$0.range]) }
        #expect(calls.count >= 5)
        for call in calls { #expect(call.hasPrefix("await get(\"/api/"), "fetches \(call)") }
        // Two fetch calls: inside get, and the event stream's; both send the token header.
        #expect(script.components(separatedBy: "fetch(").count == 3, "fetch only in get and the event stream")
        #expect(script.components(separatedBy: "{headers: HEADERS, cache: \"no-store\"").count == 3)
    }

    /// The zones, the event list and the event stream (read through fetch, which sends the token
    /// header, where EventSource could only put it in the query), the stream's `alert` events,
    /// and the polling fallback.
    @Test func readsZonesAndEvents() {
        for needle in [
            "get(\"/api/zones\")", "\"/api/events?limit=\" + EVENTS_MAX", "fetch(\"/api/events/stream\", {headers: HEADERS",
            "kind === \"alert\"", "down();", "setTimeout(pollZones, 30000)", "EVENT_POLL_MS = 5000",
        ] {
            #expect(script.contains(needle), "the page's script lacks \(needle)")
        }
        // The stream's fetch needs connect-src, and the page's icon (a data: URL) img-src.
        #expect(InlineContentPolicy.header.contains("connect-src 'self'"))
        #expect(InlineContentPolicy.header.contains("img-src 'self' data:"))
    }

    /// The token never goes into a URL the server sees: the pages read it from the fragment
    /// (`#access_token=`, never sent), send it only as an `Authorization` header, and pass it to
    /// each other in the fragment; exports download through fetch with the header.
    @Test(arguments: [StatusPage.html, DronePage.html, ReviewPage.html])
    func tokenOnlyInHeaderAndFragment(page: String) {
        let script = InlineContentPolicy.blocks(of: "script", in: page).joined()
        #expect(script.contains("new URLSearchParams(location.hash.slice(1)).get(\"access_token\")"))
        #expect(script.contains("{Authorization: \"Bearer \" + TOKEN}"))
        #expect(script.contains("\"#access_token=\" + encodeURIComponent(TOKEN)"))
        #expect(!script.contains("?access_token") && !script.contains("&access_token") && !script.contains("location.search).get"))
        #expect(!script.contains("EventSource("))
    }

    /// The page's own event-stream reader, run in Node.js (where installed) against a stream cut
    /// mid-line and mid-event, with CRLF lines and keepalive comments: both events arrive once, in
    /// order; the request carried the token header; when the stream ends the page falls back to
    /// polling. Node's fetch-era globals (ReadableStream, TextDecoder, AbortController) stand in
    /// for the browser's.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/node"), "needs /usr/bin/node"))
    func eventStreamReaderSplitsEvents() throws {
        let source = script
        let start = try #require(source.range(of: "function openEventStream() {"))
        let end = try #require(source.range(of: "async function pollEvents() {"))
        let function = String(source[start.lowerBound..<end.lowerBound])
        let harness = #"""
            let eventStream = null, eventMode = "polling", eventPollTimer = null, pollsSinceStream = 0, EVENT_POLL_MS = 5000;
            const HEADERS = {Authorization: "Bearer t"}; const got = []; let filled = 0;
            function renderEventInfo() {} function addEvents(list, replace) { got.push(...list); } function fillEvents() { filled++; } function pollEvents() {}
            const chunks = ["retry: 2000\n: skygate events\n\n", "id: 1\nevent: alert\nda", "ta: {\"id\":1}\n\n: keepalive\n\nid: 2\r\nevent: alert\r\ndata: {\"id\":2}\r\n\r\n"];
            globalThis.fetch = async (url, options) => {
              if (url !== "/api/events/stream" || options.headers.Authorization !== "Bearer t") throw new Error("bad request " + url);
              let i = 0;
              return {ok: true, body: new ReadableStream({pull(c) { if (i < chunks.length) c.enqueue(new TextEncoder().encode(chunks[i++])); else c.close(); }})};
            };
            globalThis.setTimeout = () => 42; globalThis.clearTimeout = () => {};
            """# + function + #"""
            openEventStream();
            process.on("beforeExit", () => console.log(JSON.stringify({ids: got.map(e => e.id), filled, eventMode, eventStream, eventPollTimer})));
            """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/node")
        process.arguments = ["-e", harness]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains(#"{"ids":[1,2],"filled":1,"eventMode":"polling","eventStream":null,"eventPollTimer":42}"#), "\(text)")
    }
}
