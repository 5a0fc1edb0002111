#!/usr/bin/env bash
# Real-browser test of the status page: starts `skygate serve` on loopback ports and a seeded
# simulated fleet (start time now), loads / in headless Chromium, and checks from the rendered DOM
# that the fleet table lists every drone, the map draws one marker per drone, the health numbers
# are non-zero, and the console shows no errors (nor CSP refusals); that the map lays the optional
# background tiles (`--tile-url`, served here by a tiny local tile server) and that the browser
# fetched them; and that the drone page draws its track. Saves screenshots.
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
  --tile-url "http://127.0.0.1:$tiles/tiles/{z}/{x}/{y}.png" > "$out/serve.log" 2>&1 &
serve=$!
sim=""
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null || true; kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; kill "$tileserver" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" simulate --to "127.0.0.1:$udp" --drones "$drones" --rate 5 --duration 120 --seed 7 --start-time now > "$out/simulate.log" 2>&1 &
sim=$!
# Let every drone report and the sampler take a few per-second snapshots (the 1-minute window).
for _ in $(seq 100); do
  n=$(curl -sf "http://127.0.0.1:$http/api/drones" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["drones"]))' 2>/dev/null || echo 0)
  [ "$n" -ge "$drones" ] && break; sleep 0.1
done
sleep 3

flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars
       --window-size=1400,1000 --virtual-time-budget=6000 --enable-logging=stderr --v=0)
url="http://127.0.0.1:$http/"
timeout 90 "$browser" "${flags[@]}" --dump-dom "$url" > "$out/dom.html" 2> "$out/console.log" || true
timeout 90 "$browser" "${flags[@]}" --screenshot="$out/status-page.png" "$url" > /dev/null 2>> "$out/console-screenshot.log" || true
drone_url="http://127.0.0.1:$http/drones/skygate/1"
timeout 90 "$browser" "${flags[@]}" --dump-dom "$drone_url" > "$out/drone-dom.html" 2> "$out/console-drone.log" || true
timeout 90 "$browser" "${flags[@]}" --screenshot="$out/drone-page.png" "$drone_url" > /dev/null 2>> "$out/console-drone-screenshot.log" || true

python3 - "$out" "$drones" "$tiles" <<'EOF'
import re, sys
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
# Both pages: no script errors, no refused loads, no Content-Security-Policy refusals.
for log in ["console.log", "console-drone.log"]:
    console = open(out + "/" + log).read()
    bad = [l for l in console.splitlines() if re.search(r"Uncaught|CONSOLE.*(Error|error)|Refused to|Failed to load resource|Content Security Policy", l)]
    if bad: problems.append(f"console errors ({log}):\n  " + "\n  ".join(bad[:10]))
print(f"browser-test: map {len(page.tiles)} tile images, {len(fetched)} tile requests at the tile server")
print(f"browser-test: drone page {drone_page.track_lines} track line(s), {drone_page.live_fields} live fields")
print(f"browser-test: {len(page.rows)} rows, {len(page.markers)} markers, health {dict((k, page.cards.get(k)) for k in ['received/s', 'stored/s', 'stored'])}")
if problems:
    print("browser-test FAILED:\n- " + "\n- ".join(problems)); sys.exit(1)
print("browser-test passed")
EOF
echo "browser-test: screenshots $out/status-page.png $out/drone-page.png (DOM $out/dom.html, console $out/console.log)"
