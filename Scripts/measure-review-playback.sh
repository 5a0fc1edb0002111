#!/usr/bin/env bash
# What flight review costs live ingest (docs/performance.md, "Flight review: playback under
# ingest"): `skygate bench` at full paced rate (1,000 drones x 100 Hz = 100,000 datagrams/s into
# the real gateway and SQLite) on a database that already holds a past hour of 1,000 drones,
# alternated with and without a reviewer playing that hour at 64x through the same gateway:
#   REVIEWER=browser  headless Chromium on /review, playing at 64x (the page asks /api/fleet?at=
#                     as the cursor moves: one request in flight, at most one per 100 ms), on the
#                     same two cores as the gateway, so its own rendering is counted against ingest;
#   REVIEWER=requests the page's request stream without a browser: /api/fleet?at= for a cursor
#                     advancing 64 s per second, one in flight, at most one per 100 ms.
# Prints one line per run, then the medians (received/s with and without, stored/sent, the
# reviewer's fleet answers per second and their latency).
#
# Usage: Scripts/measure-review-playback.sh SKYGATE [ROUNDS]   (a release build; default 3 rounds)
# Environment: REVIEWER (browser), HISTORY=path of a 1,000-drone hour built before (else built
# here, ~20 s), RATE (100), DRONES (1000), DURATION (16).
set -euo pipefail
. "$(dirname "$0")/bench-url.sh"
cd "$(dirname "$0")/.."
SK=$1
ROUNDS=${2:-3}
REVIEWER=${REVIEWER:-browser}
RATE=${RATE:-100}
DRONES=${DRONES:-1000}
DURATION=${DURATION:-16}
PLAY_SECONDS=$((DURATION - 6))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
browser=$(command -v chromium || command -v chromium-browser || true)
[ "$REVIEWER" != browser ] || [ -n "$browser" ] || { echo "needs chromium" >&2; exit 2; }

history=${HISTORY:-}
if [ -z "$history" ]; then
  history=$out/history.db
  KEEP=1 DB=$history BUILD=1 SKYGATE_BIN=$SK RUNS=1 Scripts/measure-review-api.sh fleet 1000 3600 1 >"$out/history.log" 2>&1 \
    || { cat "$out/history.log" >&2; exit 1; }
  grep '^built' "$out/history.log" >&2
fi

run() { # $1 = none|review, $2 = run number
  local mode=$1 n=$2 dir="$out/$2"
  mkdir -p "$dir"
  cp "$history" "$dir/bench.db"
  "$SK" bench --drones "$DRONES" --rate "$RATE" --duration "$DURATION" --db "$dir/bench.db" --http 127.0.0.1:0 --json \
    >"$dir/bench.json" 2>"$dir/bench.err" &
  local bench=$!
  local url
  url=$(bench_url "$dir/bench.err" $bench) || exit 1
  sleep 3
  if [ "$mode" = review ]; then
    python3 - "$REVIEWER" "${browser:-}" "$url" "$PLAY_SECONDS" "$dir" >"$dir/review.json" 2>"$dir/review.err" <<'PY' || { cat "$dir/review.err" >&2; }
import json, sys, time, urllib.request
sys.path.insert(0, "Scripts")
reviewer, binary, url, seconds, directory = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
# The past hour only (the bench adds the present): its first and last sample before now - 60 s.
timeline = json.load(urllib.request.urlopen(url + "api/timeline?buckets=1", timeout=10))
first, last = timeline["first_us"], timeline["last_us"]
until = min(last, first + 3_600_000_000)
if reviewer == "browser":
    from cdp_browser import Browser
    browser = Browser(binary, open(f"{directory}/chromium.log", "w"))
    try:
        browser.open(f"{url}review?from={first}&until={until}&at={first}&speed=64")
        if not browser.wait_for("Number(document.getElementById('map').getAttribute('data-drones')) > 0", 20):
            raise SystemExit("the review page did not show the fleet")
        browser.evaluate("document.getElementById('play').click()")
        start_at = float(browser.evaluate("document.body.getAttribute('data-at')"))
        t0 = time.time(); time.sleep(seconds); elapsed = time.time() - t0
        end_at = float(browser.evaluate("document.body.getAttribute('data-at')"))
        timings = browser.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/fleet')).map(e => e.duration)")
        errors = [line for line in browser.console() if "error" in line.lower()]
    finally:
        browser.close()
    fleet = timings[1:]  # the first is the page's opening seek
else:
    fleet = []
    at, t0 = first, time.time(); last_start = 0.0
    while time.time() - t0 < seconds:
        wait = 0.1 - (time.time() - last_start)
        if wait > 0: time.sleep(wait)
        last_start = time.time()
        at = min(until, first + int((last_start - t0) * 64_000_000))
        started = time.time()
        urllib.request.urlopen(f"{url}api/fleet?at={at}", timeout=10).read()
        fleet.append((time.time() - started) * 1000)
    elapsed = time.time() - t0; start_at, end_at = first, at; errors = []
fleet.sort()
print(json.dumps({"requests": len(fleet), "per_second": len(fleet) / elapsed, "p50_ms": fleet[len(fleet) // 2] if fleet else None,
                  "p99_ms": fleet[min(len(fleet) - 1, int(len(fleet) * 0.99))] if fleet else None,
                  "cursor_rate": (end_at - start_at) / 1e6 / elapsed, "errors": errors}))
PY
  fi
  wait $bench
  python3 - "$mode" "$n" "$dir" >>"$out/rows.tsv" <<'PY'
import json, os, sys
mode, n, d = sys.argv[1:4]
b = json.load(open(f"{d}/bench.json"))
review = json.load(open(f"{d}/review.json")) if os.path.exists(f"{d}/review.json") and os.path.getsize(f"{d}/review.json") else None
row = {"run": int(n), "mode": mode, "received_per_s": b["received_datagrams_per_second"], "stored": b["samples_stored"],
       "sent": b["datagrams_sent"], "kernel_drops": b.get("kernel_drops"), "ring_full": b["dropped"].get("ring_full", 0),
       "commit_p99_ms": b["commit_latency_p99_ms"], "balanced": b["balanced"], "review": review}
print(json.dumps(row))
r = "" if not review else (f" | reviewer: {review['requests']} fleet answers ({review['per_second']:.1f}/s), p50 {review['p50_ms']:.1f} ms, "
                           f"p99 {review['p99_ms']:.1f} ms, cursor {review['cursor_rate']:.1f} s/s, errors {len(review['errors'])} {review['errors'][:3]}")
print(f"run {n} {mode:6}: received {row['received_per_s']:.0f}/s, stored {row['stored']} of {row['sent']}, kernel drops "
      f"{row['kernel_drops']}, ring_full {row['ring_full']}, commit p99 {row['commit_p99_ms']:.0f} ms, balanced {row['balanced']}{r}", file=sys.stderr)
PY
}

n=0
for _ in $(seq 1 "$ROUNDS"); do
  n=$((n + 1)); run none $n
  n=$((n + 1)); run review $n
done
python3 - "$out/rows.tsv" "$REVIEWER" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = statistics.median
base = [r for r in rows if r["mode"] == "none"]; rev = [r for r in rows if r["mode"] == "review" and r["review"]]
rb, rr = med(r["received_per_s"] for r in base), med(r["received_per_s"] for r in rev)
sb, sr = med(r["stored"] / r["sent"] for r in base), med(r["stored"] / r["sent"] for r in rev)
print(f"reviewer {sys.argv[2]}: median received {rb:.0f}/s without review, {rr:.0f}/s with it ({(rr / rb - 1) * 100:+.2f} %); "
      f"stored/sent {sb * 100:.2f} % and {sr * 100:.2f} %; commit p99 {med(r['commit_p99_ms'] for r in base):.0f} and "
      f"{med(r['commit_p99_ms'] for r in rev):.0f} ms; fleet answers {med(r['review']['per_second'] for r in rev):.1f}/s, "
      f"p50 {med(r['review']['p50_ms'] for r in rev):.1f} ms, p99 {med(r['review']['p99_ms'] for r in rev):.1f} ms, "
      f"cursor {med(r['review']['cursor_rate'] for r in rev):.1f} s/s")
PY
