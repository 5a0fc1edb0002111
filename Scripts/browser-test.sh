#!/usr/bin/env bash
# Real-browser test of the status page: starts `skygate serve` on loopback ports with a zone file
# and a seeded simulated fleet (start time now), loads / in headless Chromium, and checks from the
# rendered DOM that the fleet table lists every drone, the map draws one marker per drone, the
# health numbers are non-zero, and the console shows no errors (nor CSP refusals); that the map lays
# the optional background tiles (`--tile-url`, served here by a tiny local tile server) and that the
# browser fetched them; and that the drone page draws its track.
#
# Zones and events (issue 14): the zone file holds a keep-out polygon and a keep-in circle over the
# fleet's area, named with payloads that run script if a page ever parses them as HTML. The map
# must draw both shapes and show both names as text (the shapes' <title>, the labels, `data-zone`)
# without the page gaining an <img>, a second <script>, an `on…` attribute, a JavaScript dialog or a
# changed title. Then the simulator is stopped with the page still open: once the lost-link
# threshold (3 s here) has passed, every drone's `lost_link` must arrive over the event stream, so
# the events panel lists them, says the stream is live, and the map marks where they happened.
#
# The status page keeps an event stream (SSE) open, and an open fetch stalls Chromium's virtual
# clock (`--virtual-time-budget` waits for fetches to finish), so that page is driven in real time
# over the DevTools protocol (`--remote-debugging-pipe`: no extra packages); the drone page still
# uses `--dump-dom`. Saves DOMs and screenshots. Takes about 30 s.
#
#   Scripts/browser-test.sh [SKYGATE_BINARY]      (default .build/debug/skygate)
# Environment: DRONES (default 6), OUT (directory for DOM, logs and screenshot; default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/skygate}
drones=${DRONES:-6}
out=${OUT:-$(mktemp -d /tmp/skygate-browser.XXXXXX)}
mkdir -p "$out"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "browser-test: chromium not found (apt-get install -y chromium)"; exit 1; }
[ -x "$bin" ] || { echo "browser-test: $bin not built"; exit 1; }
# The zone and event checks must run, never be skipped: a binary without the options fails here.
serve_help=$("$bin" serve --help 2>&1 || true)
for option in --zones --rule-lost-link-seconds; do
  grep -q -- "$option" <<<"$serve_help" || {
    echo "browser-test: '$bin serve' has no $option option: this binary predates geofence zones and events (issue 14), so the zone and event checks cannot run"; exit 1; }
done
lost_link_seconds=3

# The zone file (docs/events.md, "Zones"): a keep-out square and a keep-in circle over the simulated
# fleet's area (FlightArea.standard: 47.397742 N, 8.545594 E, 5 km radius, homes within 3.5 km of
# the centre). The circle holds every home, so every drone's first sample enters it: a zone_enter
# per drone, whatever the seed.
python3 - "$out/zones.geojson" <<'PY'
import json, math, sys
lat0, lon0 = 47.397742, 8.545594
north = 180 / (math.pi * 6371008.8)                 # degrees of latitude per metre
east = north / math.cos(math.radians(lat0))         # degrees of longitude per metre at the centre
def at(n, e): return [round(lon0 + e * east, 7), round(lat0 + n * north, 7)]
square = [at(-1500, -1500), at(-1500, 1500), at(1500, 1500), at(1500, -1500), at(-1500, -1500)]
zones = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "<img src=x onerror=\"document.title='pwned'\">", "kind": "keep-out", "ceiling_m": 1000},
     "geometry": {"type": "Polygon", "coordinates": [square]}},
    {"type": "Feature", "properties": {"name": "\"><script>alert(1)</script>", "kind": "keep-in", "radius_m": 4000},
     "geometry": {"type": "Point", "coordinates": at(0, 0)}}]}
json.dump(zones, open(sys.argv[1], "w"), indent=1)
PY

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
udp=$(port); http=$(port); tiles=$(port)
# A site's tile server, as --tile-url expects one: any /tiles/{z}/{x}/{y}.png answers a 1x1 PNG,
# and every request is logged, so the test sees what the browser fetched.
python3 - "$tiles" "$out/tiles.log" <<'PY' &
import http.server, re, struct, sys, zlib
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
# One grey 8-bit RGB pixel, stretched over each tile: visible under the markers in the screenshot.
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"\x00\x60\x70\x80")) + chunk(b"IEND", b""))
log = open(sys.argv[2], "a", buffering=1)
class Tiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = re.fullmatch(r"/tiles/\d+/\d+/\d+\.png", self.path) is not None
        log.write(self.path + "\n")
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "image/png"); self.send_header("Content-Length", str(len(png) if ok else 0)); self.end_headers()
        if ok: self.wfile.write(png)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Tiles).serve_forever()
PY
tileserver=$!
: > "$out/tiles.log"
"$bin" serve --udp "127.0.0.1:$udp" --http "127.0.0.1:$http" --db "$out/browser.db" \
  --tile-url "http://127.0.0.1:$tiles/tiles/{z}/{x}/{y}.png" \
  --zones "$out/zones.geojson" --rule-lost-link-seconds "$lost_link_seconds" > "$out/serve.log" 2>&1 &
serve=$!
sim=""
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null || true; kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; kill "$tileserver" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# The gateway must have loaded both zones, names intact, or nothing below means anything.
curl -sf "http://127.0.0.1:$http/api/zones" > "$out/zones.json" || {
  echo "browser-test: GET /api/zones failed (serve.log: $out/serve.log)"; tail -5 "$out/serve.log"; exit 1; }
python3 - "$out/zones.json" <<'PY'
import json, sys
names = sorted(z["name"] for z in json.load(open(sys.argv[1]))["zones"])
expected = sorted(["<img src=x onerror=\"document.title='pwned'\">", "\"><script>alert(1)</script>"])
if names != expected: sys.exit(f"browser-test: /api/zones names {names}, expected {expected} (does serve read this zone file?)")
PY
"$bin" simulate --to "127.0.0.1:$udp" --drones "$drones" --rate 5 --duration 120 --seed 7 --start-time now > "$out/simulate.log" 2>&1 &
sim=$!
# Let every drone report and the sampler take a few per-second snapshots (the 1-minute window).
for _ in $(seq 100); do
  n=$(curl -sf "http://127.0.0.1:$http/api/drones" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["drones"]))' 2>/dev/null || echo 0)
  [ "$n" -ge "$drones" ] && break; sleep 0.1
done
sleep 3

# The drone page first: the status page's session below stops the fleet.
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars
       --window-size=1400,1000 --virtual-time-budget=6000 --enable-logging=stderr --v=0)
drone_url="http://127.0.0.1:$http/drones/skygate/1"
timeout 90 "$browser" "${flags[@]}" --dump-dom "$drone_url" > "$out/drone-dom.html" 2> "$out/console-drone.log" || true
timeout 90 "$browser" "${flags[@]}" --screenshot="$out/drone-page.png" "$drone_url" > /dev/null 2>> "$out/console-drone-screenshot.log" || true

# The status page, in real time over the DevTools protocol: once the fleet, its markers and the
# zones are drawn, save the DOM and a screenshot (dom.html, status-page.png); then stop the
# simulator, wait for the stream to bring every drone's lost_link, and save them again
# (events-dom.html, events-page.png). What happened goes to page-state.json and console.log.
timeout 100 python3 - "$browser" "http://127.0.0.1:$http/" "$out" "$sim" "$drones" "$lost_link_seconds" <<'PY' || {
import base64, json, os, signal, subprocess, sys, threading, time
browser, url, out, sim, drones, lost_link_seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])

sys.path.insert(0, "Scripts")
import cdp_browser

class Browser(cdp_browser.Browser):
    """The shared DevTools client (Scripts/cdp_browser.py), plus what this test needs: a dialog
    (the alert(1) payload, if it ever ran) is dismissed while waiting, and an expression that
    throws reads as no value instead of failing the test."""
    def __init__(self, log): super().__init__(browser, log)
    def evaluate(self, expression):
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}).get("result", {}).get("value")
    def dialogs(self):
        with self.condition: return [e["params"] for e in self.events if e.get("method") == "Page.javascriptDialogOpening"]
    def wait_for(self, expression, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            # A dialog (the alert(1) payload, if it ever ran) would hold the page: dismiss it; it is
            # reported from the events anyway.
            if self.dialogs():
                try: self.call("Page.handleJavaScriptDialog", {"accept": False}, timeout=5)
                except RuntimeError: pass
            try:
                if self.evaluate(expression): return True
            except RuntimeError: pass
            time.sleep(0.25)
        return False
    def save(self, dom, screenshot):
        open(f"{out}/{dom}", "w").write("<!doctype html>\n" + (self.evaluate("document.documentElement.outerHTML") or ""))
        open(f"{out}/{screenshot}", "wb").write(base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"]))

def count(selector): return f"document.querySelectorAll({json.dumps(selector)}).length"
state = {}
page = Browser(open(f"{out}/chromium.log", "w"))
try:
    page.open(url)
    drawn = (f"{count('#drones tbody tr[data-drone]')} === {drones} && {count('#map circle.marker')} === {drones} && {count('#map .zone')} >= 2"
             " && /[1-9]/.test((document.querySelector('[data-k=\"stored\"]') || {}).textContent || '')")
    state["drawn"] = page.wait_for(drawn, 30)
    time.sleep(2)   # a few more polls: live rates, trails
    state["title_before_stop"] = page.evaluate("document.title")
    page.save("dom.html", "status-page.png")
    os.kill(sim, signal.SIGTERM)
    stopped = time.time()
    lost = (f"[...document.querySelectorAll('#eventlist tbody tr')].filter(r => r.textContent.includes('lost link')).length >= {drones}"
            f" && document.getElementById('eventinfo').textContent.includes('live') && {count('#map .evmark')} >= 1")
    state["lost_link_shown"] = page.wait_for(lost, lost_link_seconds + 20)
    state["lost_link_shown_after_seconds"] = round(time.time() - stopped, 1)
    time.sleep(0.5)
    state["title_after_stop"] = page.evaluate("document.title")
    state["eventinfo"] = page.evaluate("document.getElementById('eventinfo').textContent")
    page.save("events-dom.html", "events-page.png")
    state["dialogs"] = page.dialogs()
    open(f"{out}/console.log", "w").write("\n".join(page.console()) + "\n")
finally:
    page.close()
    json.dump(state, open(f"{out}/page-state.json", "w"), indent=1)
PY
  echo "browser-test: the DevTools session with the status page failed (chromium log: $out/chromium.log)"; exit 1; }

python3 - "$out" "$drones" "$tiles" <<'EOF'
import json, re, sys
from html.parser import HTMLParser
out, drones, tiles = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Page(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = set(); self.markers = set(); self.tiles = []; self.stack = []; self.cards = {}; self.key = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); self.stack.append(a.get("id"))
        if tag == "tr" and "data-drone" in a and "drones" in self.stack: self.rows.add(a["data-drone"])
        if tag == "circle" and "marker" in (a.get("class") or "") and "map" in self.stack: self.markers.add(a.get("data-drone"))
        if tag == "image" and "map" in self.stack: self.tiles.append(a.get("href") or "")
        if tag == "div" and a.get("class") == "v" and a.get("data-k"): self.key = a["data-k"]
    def handle_endtag(self, tag):
        if self.stack: self.stack.pop()
    def handle_data(self, data):
        if self.key: self.cards[self.key] = data.strip(); self.key = None
page = Page(); page.feed(open(out + "/dom.html").read())
problems = []
state = json.load(open(out + "/page-state.json"))
if not state.get("drawn"): problems.append("the status page never showed every drone, its marker, both zones and a non-zero stored count (waited 30 s)")
if len(page.rows) != drones: problems.append(f"table lists {len(page.rows)} drones, expected {drones}: {sorted(page.rows)}")
if len(page.markers) != drones: problems.append(f"map draws {len(page.markers)} markers, expected {drones}")
# Background tiles: laid under the map from --tile-url, and fetched by the browser (so the CSP
# let them through).
tile_prefix = f"http://127.0.0.1:{tiles}/tiles/"
if not page.tiles or not all(t.startswith(tile_prefix) and re.search(r"/\d+/\d+/\d+\.png$", t) for t in page.tiles):
    problems.append(f"map tiles {page.tiles[:4]}: expected <image> elements from {tile_prefix}{{z}}/{{x}}/{{y}}.png")
fetched = [l for l in open(out + "/tiles.log").read().split() if re.fullmatch(r"/tiles/\d+/\d+/\d+\.png", l)]
if not fetched: problems.append("the browser fetched no tiles from the tile server")
rates = re.findall(r"<td>([0-9.]+) Hz</td>", open(out + "/dom.html").read())
if len([r for r in rates if float(r) > 0]) != drones: problems.append(f"sample rates {rates}: expected {drones} non-zero")
for key in ["received/s", "stored/s", "received", "stored"]:
    value = page.cards.get(key, "")
    if not re.search(r"[1-9]", value): problems.append(f"health number {key!r} is {value!r}")
# The drone page: its track is drawn from the database and its live fields filled in.
class DronePage(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.track_lines = 0; self.live_fields = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); self.stack.append(a.get("id"))
        if tag == "polyline" and "track" in self.stack: self.track_lines += 1
        if tag == "dt" and "live" in self.stack: self.live_fields += 1
    def handle_endtag(self, tag):
        if self.stack: self.stack.pop()
drone_page = DronePage(); drone_page.feed(open(out + "/drone-dom.html").read())
if drone_page.track_lines < 1: problems.append("drone page draws no track")
if drone_page.live_fields < 1: problems.append("drone page shows no live fields")

# Zones and events. A tree of the DOM (void elements closed), with each element's text content.
NAMES = {"keep-out": "<img src=x onerror=\"document.title='pwned'\">", "keep-in": "\"><script>alert(1)</script>"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
class Tree(HTMLParser):
    def __init__(self):
        super().__init__(); self.nodes = []; self.open = []
    def handle_starttag(self, tag, attrs):
        node = {"tag": tag, "attrs": attrs, "a": dict(attrs), "text": "", "children": [], "ids": {n["a"].get("id") for n in self.open}}
        if self.open: self.open[-1]["children"].append(node)
        self.nodes.append(node)
        if tag not in VOID: self.open.append(node)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID: self.open.pop()
    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i]["tag"] == tag: del self.open[i:]; break
    def handle_data(self, data):
        for node in self.open: node["text"] += data
def classes(node): return (node["a"].get("class") or "").split()
def tree(name):
    raw = open(f"{out}/{name}").read(); t = Tree(); t.feed(raw); return raw, t.nodes
for name in ["dom.html", "events-dom.html"]:
    raw, nodes = tree(name)
    # Nothing the payloads would have made: no <img>, no second <script>, no handler attribute,
    # the title unchanged, no dialog; and their text not in the markup unescaped.
    imgs = [n for n in nodes if n["tag"] == "img"]
    scripts = [n for n in nodes if n["tag"] == "script"]
    handlers = [k for n in nodes for k, _ in n["attrs"] if k.startswith("on")]
    if imgs: problems.append(f"{name}: {len(imgs)} <img> element(s) in the page: {[n['a'] for n in imgs][:3]}")
    if len(scripts) != 1: problems.append(f"{name}: {len(scripts)} <script> elements, expected the page's own one")
    if handlers: problems.append(f"{name}: event-handler attributes {handlers[:5]}")
    for literal in ["<img src=x", "<img src=\"x\"", "<script>alert"]:
        if literal in raw: problems.append(f"{name}: the markup holds {literal!r} unescaped")
    titles = [n["text"] for n in nodes if n["tag"] == "title" and "map" not in n["ids"]]
    if titles != ["Skygate status"]: problems.append(f"{name}: document title {titles}")
for key in ["title_before_stop", "title_after_stop"]:
    if state.get(key) != "Skygate status": problems.append(f"document.title {key.replace('_', ' ')} is {state.get(key)!r}")
if state.get("dialogs"): problems.append(f"JavaScript dialogs opened: {state['dialogs']}")

# The zones: one keep-out path and one keep-in circle, each named (data-zone, <title>, label)
# with the zone's name verbatim as text.
raw, nodes = tree("dom.html")
shapes = [n for n in nodes if "map" in n["ids"] and "zone" in classes(n)]
kinds = sorted((n["tag"], next((k for k in ["keep-out", "keep-in"] if k in classes(n)), "?")) for n in shapes)
if kinds != [("circle", "keep-in"), ("path", "keep-out")]: problems.append(f"zone shapes {kinds}: expected a keep-out path and a keep-in circle")
for shape in shapes:
    kind = "keep-in" if "keep-in" in classes(shape) else "keep-out"
    if shape["a"].get("data-zone") != NAMES[kind]: problems.append(f"{kind} zone's data-zone is {shape['a'].get('data-zone')!r}")
    title = next((c["text"] for c in shape["children"] if c["tag"] == "title"), "")
    if not title.startswith(NAMES[kind] + " · "): problems.append(f"{kind} zone's <title> is {title!r}")
    if shape["tag"] == "circle" and not float(shape["a"].get("r") or 0) > 1: problems.append(f"keep-in circle radius {shape['a'].get('r')!r}")
    if shape["tag"] == "path" and len(re.findall(r"L", shape["a"].get("d") or "")) < 3: problems.append(f"keep-out path {shape['a'].get('d')!r}")
labels = sorted(n["text"] for n in nodes if "map" in n["ids"] and "zonelabel" in classes(n))
if labels != sorted(NAMES.values()): problems.append(f"zone labels {labels}")

# The events: after the fleet stopped, a lost_link for every drone, delivered live by the stream,
# listed newest first with a link to the drone's page, and marked on the map.
raw, nodes = tree("events-dom.html")
rows = [n for n in nodes if n["tag"] == "tr" and "eventlist" in n["ids"] and "data-event" in n["a"]]
def cells(row): return [c["text"] for c in row["children"] if c["tag"] == "td"]
lost = [r for r in rows if cells(r)[2].startswith("lost link")]
lost_drones = {cells(r)[1] for r in lost}
if len(lost_drones) < drones: problems.append(f"events panel shows lost_link for {sorted(lost_drones)}, expected all {drones} drones ({len(rows)} rows)")
for r in lost:
    links = [c["a"].get("href") for td in r["children"] for c in td["children"] if c["tag"] == "a"]
    if not links or not re.fullmatch(r"/drones/skygate/\d+", links[0] or ""): problems.append(f"lost_link row links {links}"); break
# Every drone starts inside the keep-in circle: its zone_enter names the zone verbatim, as text.
zone_rows = [r for r in rows if cells(r)[2].startswith("zone")]
for r in zone_rows:
    if cells(r)[3] not in NAMES.values(): problems.append(f"zone event's zone cell {cells(r)[3]!r}"); break
entered = {cells(r)[1] for r in zone_rows if cells(r)[2].startswith("zone enter") and cells(r)[3] == NAMES["keep-in"]}
if len(entered) < drones: problems.append(f"zone_enter into the keep-in circle for {sorted(entered)}, expected all {drones} drones")
marks = [n for n in nodes if "map" in n["ids"] and "evmark" in classes(n)]
if not marks or not all(any(c["tag"] == "title" and c["text"] for c in m["children"]) for m in marks):
    problems.append(f"{len(marks)} event markers on the map, expected at least one, each with a <title>")
if "live" not in (state.get("eventinfo") or ""): problems.append(f"events panel says {state.get('eventinfo')!r}, expected the stream live")
alarms = next((n["text"] for n in nodes if n["a"].get("id") == "alarms"), "")
if not re.match(r"(≥ )?[1-9]", alarms): problems.append(f"header alarm count {alarms!r}")

# Both pages: no script errors, no refused loads, no Content-Security-Policy refusals.
for log in ["console.log", "console-drone.log"]:
    console = open(out + "/" + log).read()
    bad = [l for l in console.splitlines() if re.search(r"Uncaught|CONSOLE.*(Error|error)|Refused to|Failed to load resource|Content Security Policy|DIALOG", l)]
    if bad: problems.append(f"console errors ({log}):\n  " + "\n  ".join(bad[:10]))
print(f"browser-test: map {len(page.tiles)} tile images, {len(fetched)} tile requests at the tile server")
print(f"browser-test: drone page {drone_page.track_lines} track line(s), {drone_page.live_fields} live fields")
print(f"browser-test: {len(page.rows)} rows, {len(page.markers)} markers, health {dict((k, page.cards.get(k)) for k in ['received/s', 'stored/s', 'stored'])}")
print(f"browser-test: zones {kinds}, {len(labels)} zone labels; events {len(rows)} rows ({len(lost)} lost_link for {len(lost_drones)} drones, "
      f"{len(zone_rows)} zone events), {len(marks)} event markers, {alarms!r}; lost links shown {state.get('lost_link_shown_after_seconds')} s after the fleet stopped")
if problems:
    print("browser-test FAILED:\n- " + "\n- ".join(problems)); sys.exit(1)
print("browser-test passed")
EOF
echo "browser-test: screenshots $out/status-page.png $out/events-page.png $out/drone-page.png (DOM $out/dom.html $out/events-dom.html, console $out/console.log)"
