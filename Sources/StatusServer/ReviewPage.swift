import Hummingbird

/// `GET /review`: flight review (Web/review.html, .css, .js with common.js): any moment of the
/// stored range, every drone at the cursor from `/api/fleet?at=`, the activity and events of the
/// range from `/api/timeline`, the selected drone's charts from `/api/drones/{p}/{id}/series`;
/// play, reverse, speeds, steps, deep links (`from`, `until`, `at`, `speed`, `drone` in the query),
/// and "live" as the cursor at now. At most one fleet request in flight, the latest cursor wins.
/// Self-contained like `StatusPage`, and like it puts data into the DOM with `textContent` and
/// `setAttribute` only.
enum ReviewPage {
    static let html = WebPages.page("review.html")
    /// The page as a buffer built once; every response shares it.
    static let body = ByteBuffer(string: html)
}
