#!/usr/bin/env bash
# Real-browser test of the review page (/review, issue 21) in headless Chromium over the DevTools
# protocol (Scripts/cdp_browser.py). A fleet is flown once into a gateway's database by the
# simulator, 8x faster than real time and starting ten minutes ago (with a keep-out zone over its
# area, so zone events are stored at sample times through the flight); that gateway then serves
# the review page and its API. The test:
# - scrubs the slider to several instants: the map's markers (drone, lat, lon, sample time) equal
#   GET /api/fleet?at= for the instant the map says it shows, and times each seek from the slider's
#   input event to the frame that shows the new markers (median reported; the goal is 200 ms);
# - plays at 16x: the cursor advances 16 s per wall-clock second, within 10 %, while the page keeps
#   at most one /api/fleet request in flight, at most about ten a second (resource timings);
# - clicks an event tick: the cursor goes to the event's time and its drone is selected, with its
#   four charts drawn; a click on a chart moves the cursor there; the right arrow key steps to the
#   drone's next sample;
# - reopens the page's own address (the deep link) in a new tab: same range, cursor, speed,
#   direction and selection;
# - finds no console error, no refused load and no CSP report, and the policy has no
#   'unsafe-inline' but the hash of the page's one script block.
# Screenshots: review-fleet.png (the fleet at an instant) and review-drone.png (one drone selected,
# with its charts) in OUT; with DOCS_IMAGES=1 also copied to docs/images/ for docs/operations.md.
#
#   Scripts/review-browser-test.sh [SKYGATE_BINARY]      (default .build/debug/skygate)
# Environment: DRONES (default 6), OUT (default a temp dir), DOCS_IMAGES=1. About 40 s.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/skygate}
drones=${DRONES:-6}
out=${OUT:-$(mktemp -d /tmp/skygate-review.XXXXXX)}
mkdir -p "$out"
rm -f "$out/review.db" "$out/review.db-wal" "$out/review.db-shm"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "review-browser-test: chromium not found (apt-get install -y chromium)"; exit 1; }
[ -x "$bin" ] || { echo "review-browser-test: $bin not built"; exit 1; }

# A keep-out square over the middle of the simulated fleet's area (FlightArea.standard: 47.397742 N,
# 8.545594 E, homes within 3.5 km): drones fly in and out of it, so events fall through the flight.
python3 - "$out/zones.geojson" <<'PY'
import json, math, sys
lat0, lon0 = 47.397742, 8.545594
north = 180 / (math.pi * 6371008.8); east = north / math.cos(math.radians(lat0))
def at(n, e): return [round(lon0 + e * east, 7), round(lat0 + n * north, 7)]
square = [at(-2000, -2000), at(-2000, 2000), at(2000, 2000), at(2000, -2000), at(-2000, -2000)]
json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "centre", "kind": "keep-out"},
    "geometry": {"type": "Polygon", "coordinates": [square]}}]}, open(sys.argv[1], "w"))
PY

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
udp=$(port); http=$(port)
"$bin" serve --udp "127.0.0.1:$udp" --http "127.0.0.1:$http" --db "$out/review.db" --zones "$out/zones.geojson" > "$out/serve.log" 2>&1 &
serve=$!
cleanup() { kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# 240 s of flight at 2 Hz, flown in 30 s, its first sample ten minutes ago.
start_us=$(( ($(date +%s) - 600) * 1000000 ))
"$bin" simulate --to "127.0.0.1:$udp" --drones "$drones" --rate 2 --duration 240 --speed 8 --seed 11 --start-time "$start_us" > "$out/simulate.log" 2>&1
# Stored when the timeline's sample count stops growing.
last=-1
for _ in $(seq 60); do
  n=$(curl -sf "http://127.0.0.1:$http/api/timeline" | python3 -c 'import json,sys; print(sum(b["samples"] for b in json.load(sys.stdin)["buckets"]))' 2>/dev/null || echo 0)
  [ "$n" -gt 0 ] && [ "$n" = "$last" ] && break
  last=$n; sleep 0.5
done
echo "review-browser-test: $n samples stored ($out/simulate.log)"

timeout 150 python3 - "$browser" "http://127.0.0.1:$http" "$out" "$drones" <<'PY'
import hashlib, base64, json, re, statistics, sys, time, urllib.request
sys.path.insert(0, "Scripts")
from cdp_browser import Browser
binary, base, out, drones = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
problems = []
def api(path): return json.load(urllib.request.urlopen(base + path, timeout=10))
def expect(ok, message):
    if not ok: problems.append(message)
    return ok

browser = Browser(binary, open(f"{out}/chromium.log", "w"))
try:
    browser.open(base + "/review")
    ready = "(() => { const m = document.getElementById('map'); return m.getAttribute('data-at') !== null && m.getAttribute('data-at') === document.body.getAttribute('data-at'); })()"
    if not browser.wait_for(ready, 30): raise SystemExit("review-browser-test FAILED: the review page never drew the fleet at its cursor (console: " + "; ".join(browser.console()[:5]) + ")")
    browser.evaluate("performance.setResourceTimingBufferSize(100000), true")

    # 1. Scrub: the markers equal /api/fleet?at= for the instant shown; each seek timed in the page.
    seek_ms = []
    for fraction in [0.12, 0.31, 0.5, 0.69, 0.88, 0.22, 0.77]:
        shown = browser.evaluate("""new Promise(done => {
          const slider = document.getElementById('slider'), map = document.getElementById('map'), t0 = performance.now();
          slider.value = String(Math.round(Number(slider.max) * %f)); slider.dispatchEvent(new Event('input', {bubbles: true}));
          const want = document.body.getAttribute('data-at');
          const poll = () => map.getAttribute('data-at') === want
            ? done({at: want, ms: performance.now() - t0, markers: [...map.querySelectorAll('circle.marker')].map(c => [c.getAttribute('data-drone'), c.getAttribute('data-lat'), c.getAttribute('data-lon'), c.getAttribute('data-time')])})
            : (performance.now() - t0 > 10000 ? done(null) : requestAnimationFrame(poll));
          poll(); })""" % fraction)
        if not expect(shown is not None, f"seek to {fraction:.0%} of the range: the map never showed the cursor's instant"): continue
        seek_ms.append(shown["ms"])
        fleet = api("/api/fleet?at=" + shown["at"])
        # (0, 0) is a receiver before its first fix: the page draws no marker for it.
        expected = sorted((f"{d['protocol']}:{d['id']}", float(d["lat"]), float(d["lon"]), int(d["time_us"])) for d in fleet["drones"] if (d["lat"], d["lon"]) != (0, 0))
        drawn = sorted((k, float(lat), float(lon), int(t)) for k, lat, lon, t in shown["markers"])
        expect(drawn == expected, f"at {shown['at']}: markers {drawn[:3]}… differ from /api/fleet {expected[:3]}…")
        expect(len(drawn) == drones, f"at {shown['at']}: {len(drawn)} markers, expected all {drones} drones flying")
    time.sleep(0.3); browser.screenshot(f"{out}/review-fleet.png")

    # 2. Play at 16x from a fifth of the way in: cursor speed by the page's own clock, fleet requests bounded.
    browser.evaluate("(() => { const s = document.getElementById('slider'); s.value = String(Math.round(Number(s.max) * 0.2)); s.dispatchEvent(new Event('input', {bubbles: true})); "
                     "const sp = document.getElementById('speed'); sp.value = '16'; sp.dispatchEvent(new Event('change', {bubbles: true})); return true; })()")
    time.sleep(0.5)
    play = browser.evaluate("""new Promise(done => {
      performance.clearResourceTimings(); document.getElementById('play').click();
      setTimeout(() => { const a0 = Number(document.body.getAttribute('data-at')), t0 = performance.now();
        setTimeout(() => { const a1 = Number(document.body.getAttribute('data-at')), t1 = performance.now(); document.getElementById('play').click();
          const fleet = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/fleet?')).map(e => [e.startTime, e.responseEnd]);
          done({rate: (a1 - a0) / 1000 / (t1 - t0), seconds: (t1 - t0) / 1000, fleet: fleet}); }, 3000); }, 400); })""", timeout=20)
    expect(abs(play["rate"] - 16) <= 1.6, f"playing at 16x the cursor moved {play['rate']:.2f} s per second")
    requests = sorted(play["fleet"])
    overlaps = sum(1 for a, b in zip(requests, requests[1:]) if b[0] < a[1] - 1)
    expect(overlaps == 0, f"{overlaps} /api/fleet requests started while another was in flight")
    per_second = len(requests) / (play["seconds"] + 0.4)
    expect(0 < per_second <= 11, f"{len(requests)} /api/fleet requests in {play['seconds'] + 0.4:.1f} s of playback")

    # 3. An event tick, clicked with the mouse: the cursor goes to the event, its drone is selected.
    tick = browser.evaluate("""(() => { for (const t of [...document.querySelectorAll('#timeline .evtick')].reverse()) {
        if (!t.getAttribute('data-drone')) continue; const r = t.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
        const top = document.elementFromPoint(x, y); if (top && top.classList.contains('evtick')) return {x: x, y: y, time: top.getAttribute('data-time'), drone: top.getAttribute('data-drone')}; }
      return null; })()""")
    if expect(tick is not None, "the timeline shows no event tick with a drone (zone events expected)"):
        browser.click(tick["x"], tick["y"])
        followed = browser.wait_for(f"document.body.getAttribute('data-at') === '{tick['time']}' && new URLSearchParams(location.search).get('drone') === '{tick['drone']}'"
                                    " && document.querySelectorAll('#charts .chart polyline').length >= 3 && document.querySelector('#map circle.marker.selected') !== null", 10)
        if not followed:
            seen = browser.evaluate("[document.body.getAttribute('data-at'), location.search, document.querySelectorAll('#charts .chart').length]")
            expect(False, f"clicking the event tick at {tick['time']} ({tick['drone']}): cursor, address and charts {seen}")
        # Halfway across a chart: the cursor to the middle of the range.
        middle = browser.evaluate("""(() => { const svg = document.querySelector('#charts .chart svg'), r = svg.getBoundingClientRect(); svg.scrollIntoView({block: 'center'});
            const q = svg.getBoundingClientRect(); return {x: q.left + q.width / 2, y: q.top + q.height / 2, from: view.from, until: view.until}; })()""")
        browser.click(middle["x"], middle["y"])
        time.sleep(0.3)
        at = int(browser.evaluate("document.body.getAttribute('data-at')"))
        half = (middle["from"] + middle["until"]) / 2
        expect(abs(at - half) <= 0.01 * (middle["until"] - middle["from"]), f"a click mid-chart put the cursor at {at}, expected about {half:.0f}")
        # The right arrow: the selected drone's next sample.
        browser.evaluate("window.scrollTo(0, 0), document.activeElement && document.activeElement.blur(), true")
        browser.key("ArrowRight", "ArrowRight")
        browser.wait_for(f"Number(document.body.getAttribute('data-at')) > {at}", 5)
        stepped = int(browser.evaluate("document.body.getAttribute('data-at')"))
        protocol, number = tick["drone"].split(":")
        nxt = api(f"/api/drones/{protocol}/{number}/series?from={at + 1}&until={at + 600_000_000}&points=1000")["time_us"]
        expect(nxt and stepped == nxt[0], f"the right arrow stepped from {at} to {stepped}, the next sample is {nxt[:1]}")
        time.sleep(0.4); browser.screenshot(f"{out}/review-drone.png")

    # 4. The deep link: reverse at 8x, then the page's own address in a new tab shows the same view.
    browser.evaluate("(() => { const sp = document.getElementById('speed'); sp.value = '8'; sp.dispatchEvent(new Event('change', {bubbles: true})); document.getElementById('reverse').click(); return true; })()")
    time.sleep(0.8)
    def state(): return browser.evaluate("""({at: document.body.getAttribute('data-at'), from: document.getElementById('from').value, until: document.getElementById('until').value,
        speed: document.getElementById('speed').value, reverse: document.getElementById('reverse').classList.contains('on'),
        drone: (document.querySelector('#map circle.marker.selected') || {getAttribute: () => null}).getAttribute('data-drone'), href: location.href})""")
    before = state()
    browser.open(before["href"])
    browser.wait_for(ready + " && document.querySelectorAll('#charts .chart polyline').length >= 3 && document.querySelector('#map circle.marker.selected') !== null", 20)
    after = state()
    expect(int(after["at"]) == int(before["at"]) // 1000 * 1000, f"deep link cursor {after['at']}, was {before['at']} (the address carries milliseconds)")
    for key in ["from", "until", "speed", "reverse", "drone"]:
        expect(after[key] == before[key], f"deep link {key} {after[key]!r}, was {before[key]!r} ({before['href']})")
    expect(all(k in before["href"] for k in ["from=", "until=", "at=", "speed=-8", "drone="]), f"the address {before['href']} lacks part of the view")

    console = browser.console()
finally:
    browser.close()
open(f"{out}/console.log", "w").write("\n".join(console) + "\n")
bad = [l for l in console if re.search(r"Uncaught|CONSOLE.*(Error|error)|Refused to|Failed to load resource|Content Security Policy|DIALOG", l)]
expect(not bad, "console errors:\n  " + "\n  ".join(bad[:10]))

# The policy: no 'unsafe-inline'; the page's one script block and one style block named by hash.
response = urllib.request.urlopen(base + "/review", timeout=10)
policy, html = response.headers["Content-Security-Policy"] or "", response.read().decode()
expect("unsafe-inline" not in policy and "default-src 'none'" in policy, f"policy {policy}")
for tag in ["script", "style"]:
    blocks = re.findall(f"<{tag}>(.*?)</{tag}>", html, re.S)
    expect(len(blocks) == 1, f"{len(blocks)} <{tag}> blocks in /review")
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        expect(f"'sha256-{digest}'" in policy, f"the policy lacks the hash of the page's <{tag}> block")

median = statistics.median(seek_ms) if seek_ms else float("nan")
print(f"review-browser-test: seek to map updated: median {median:.0f} ms, max {max(seek_ms or [0]):.0f} ms over {len(seek_ms)} seeks (goal: 200 ms)")
print(f"review-browser-test: playing at 16x the cursor moved {play['rate']:.2f} s/s; {len(requests)} fleet requests in {play['seconds'] + 0.4:.1f} s, {overlaps} overlapping")
if tick: print(f"review-browser-test: event tick at {tick['time']} selected {tick['drone']}; deep link {before['href']}")
expect(median <= 1000, f"median seek {median:.0f} ms: far over the 200 ms goal")
if problems:
    print("review-browser-test FAILED:\n- " + "\n- ".join(problems)); sys.exit(1)
print("review-browser-test passed")
PY
if [ "${DOCS_IMAGES:-0}" = 1 ]; then
  cp "$out/review-fleet.png" "$out/review-drone.png" docs/images/
  echo "review-browser-test: copied the screenshots to docs/images/"
fi
echo "review-browser-test: screenshots $out/review-fleet.png $out/review-drone.png (console $out/console.log)"
