/// The pages are front-end files (`Web/*.html`, `*.css`, `*.js`), embedded into the binary at
/// build time by the `EmbedWebFiles` plugin (`WebFiles.text`), so the gateway stays one file to
/// deploy. A page's HTML names its style and script files in empty placeholder elements,
/// `<style data-embed="status.css"></style>` and `<script data-embed="common.js status.js"></script>`;
/// `assemble` puts the files' texts there as one plain inline `<style>` or `<script>` block each,
/// once at start-up. `InlineContentPolicy` hashes those blocks for the Content-Security-Policy, so
/// the hashes always come from the files as built.
enum WebPages {
    /// A page put together from the embedded files, with the names of the files it asked for and
    /// the build did not embed (none, as the tests check for every page).
    static func assemble(_ page: String, files: [String: String] = WebFiles.text) -> (html: String, missing: [String]) {
        guard let template = files[page] else { return ("", [page]) }
        var html = template
        var missing: [String] = []
        for tag in ["style", "script"] {
            let opening = "<\(tag) data-embed=\""
            let closing = "\"></\(tag)>"
            var result = ""
            var rest = html[...]
            // Each pass consumes the text up to one placeholder's end, so the loop ends.
            while let open = rest.range(of: opening), let close = rest.range(of: closing, range: open.upperBound..<rest.endIndex) {
                result += rest[..<open.lowerBound]
                var block = ""
                for name in rest[open.upperBound..<close.lowerBound].split(separator: " ") {
                    if let text = files[String(name)] { block += text } else { missing.append(String(name)) }
                }
                result += "<\(tag)>\n" + block + "</\(tag)>"
                rest = rest[close.upperBound...]
            }
            html = result + rest
        }
        return (html, missing)
    }

    /// The page as served (a missing file, which the tests rule out, leaves its block empty).
    static func page(_ name: String) -> String {
        assemble(name).html
    }
}
