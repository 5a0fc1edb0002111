import Hummingbird

/// `GET /drones/{protocol}/{id}`: one drone's track over a chosen range, read from the database
/// through the track API (downsampled to at most 1,000 points), its altitude, speed and battery
/// over that range, its live state, and export links (Web/drone.html, .css, .js with common.js).
/// Self-contained like `StatusPage`, and like it puts data into the DOM with `textContent` and
/// `setAttribute` only.
enum DronePage {
    static let html = WebPages.page("drone.html")
    /// The page as a buffer built once; every response shares it.
    static let body = ByteBuffer(string: html)
}
