import Hummingbird

/// `GET /`: the ops page (Web/status.html, .css, .js with common.js): self-contained, no CDN, font
/// or tile server unless the config names a tile URL. It polls `/api/drones` and `/api/stats`
/// every second, `/api/stats/history` every five and `/api/zones` every thirty (zones reload on
/// SIGHUP); it fills the events panel from `/api/events` and then follows `/api/events/stream`
/// (SSE), polling `/api/events` every five seconds while the stream is down. Every string that came
/// off the air or from a file (drone ids, zone names, event fields) reaches the DOM through
/// `textContent` or `setAttribute`, never `innerHTML`. It links to the review page.
enum StatusPage {
    static let html = WebPages.page("status.html")
    /// The page as a buffer built once; every response shares it.
    static let body = ByteBuffer(string: html)
}
