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
    @Test(arguments: [StatusPage.html, DronePage.html])
    func tokenOnlyInHeaderAndFragment(page: String) {
        let script = InlineContentPolicy.blocks(of: "script", in: page).joined()
        #expect(script.contains("new URLSearchParams(location.hash.slice(1)).get(\"access_token\")"))
        #expect(script.contains("{Authorization: \"Bearer \" + TOKEN}"))
        #expect(script.contains("\"#access_token=\" + encodeURIComponent(TOKEN)"))
        #expect(!script.contains("?access_token") && !script.contains("&access_token") && !script.contains("location.search).get"))
        #expect(!script.contains("EventSource("))
    }
}
