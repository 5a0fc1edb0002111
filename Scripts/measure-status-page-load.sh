#!/usr/bin/env bash
# Status page under full ingest (docs/performance.md, "Status page"): `skygate bench --http` at
# full rate (1,000 drones x 100 Hz paced = 100,000 datagrams/s into the real gateway and SQLite),
# alternated with and without wrk on / and /api/drones (HTTP_RATE requests/s in all, half on each
# path, paced by Scripts/wrk-paced.lua). Prints one line per run, then the medians.
#
# Usage: Scripts/measure-status-page-load.sh [ROUNDS]   (environment: SKYGATE, HTTP_RATE, RATE,
#        DRONES, DURATION, CONNECTIONS)
set -euo pipefail
. "$(dirname "$0")/bench-url.sh"
cd "$(dirname "$0")/.."
SK=${SKYGATE:-.build/release/skygate}
ROUNDS=${1:-3}
HTTP_RATE=${HTTP_RATE:-500}
RATE=${RATE:-100}
DRONES=${DRONES:-1000}
DURATION=${DURATION:-16}
CONNECTIONS=${CONNECTIONS:-4}
WRK_SECONDS=$((DURATION - 6))
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # $1 = load|none, $2 = run number
  local load=$1 n=$2 dir="$out/$2"
  mkdir -p "$dir"
  "$SK" bench --drones "$DRONES" --rate "$RATE" --duration "$DURATION" --http 127.0.0.1:0 --json \
    > "$dir/bench.json" 2> "$dir/bench.err" &
  local bench=$!
  local url
  url=$(bench_url "$dir/bench.err" $bench) || exit 1
  sleep 3 # the fleet is up and the first commits are behind us
  if [ "$load" = load ]; then
    local half=$((HTTP_RATE / 2))
    wrk -t1 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" --latency -s Scripts/wrk-paced.lua "${url}" -- "$half" > "$dir/page.txt" &
    local w1=$!
    wrk -t1 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" --latency -s Scripts/wrk-paced.lua "${url}api/drones" -- "$half" > "$dir/api.txt"
    wait $w1
  fi
  wait $bench
  python3 - "$load" "$n" "$dir" >> "$out/rows.tsv" <<'PY'
import json, re, sys, os
load, n, d = sys.argv[1:4]
b = json.load(open(f"{d}/bench.json"))
def wrk(path):
    if not os.path.exists(path): return {}
    t = open(path).read()
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    q = {m[0]: float(m[1]) * unit[m[2]] for m in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)$", t, re.M)}
    mx = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", t)
    q["max"] = float(mx[1]) * unit[mx[2]] if mx else float("nan")
    q["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", t)[1])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    q["errors"] = (int(non2xx[1]) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return q
row = {"run": int(n), "load": load, "received_per_s": b["received_datagrams_per_second"],
       "stored": b["samples_stored"], "sent": b["datagrams_sent"], "kernel_drops": b.get("kernel_drops"),
       "ring_full": b["dropped"].get("ring_full", 0), "commit_p99_ms": b["commit_latency_p99_ms"],
       "balanced": b["balanced"], "page": wrk(f"{d}/page.txt"), "api": wrk(f"{d}/api.txt")}
print(json.dumps(row))
def w(q):
    if not q: return "-"
    return f"{q['rps']:.0f} req/s p50 {q['50']:.2f} p90 {q['90']:.2f} p99 {q['99']:.2f} max {q['max']:.1f} ms, errors {q['errors']}"
print(f"run {n} {load:4}: received {row['received_per_s']:.0f}/s, stored {row['stored']} of {row['sent']}, "
      f"kernel drops {row['kernel_drops']}, ring_full {row['ring_full']}, commit p99 {row['commit_p99_ms']:.0f} ms, "
      f"balanced {row['balanced']} | / {w(row['page'])} | /api/drones {w(row['api'])}", file=sys.stderr)
PY
}

n=0
for _ in $(seq 1 "$ROUNDS"); do
  n=$((n + 1)); run none $n
  n=$((n + 1)); run load $n
done
python3 - "$out/rows.tsv" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = statistics.median
base = [r for r in rows if r["load"] == "none"]; load = [r for r in rows if r["load"] == "load"]
rb, rl = med(r["received_per_s"] for r in base), med(r["received_per_s"] for r in load)
sb, sl = med(r["stored"] / r["sent"] for r in base), med(r["stored"] / r["sent"] for r in load)
print(f"median received: {rb:.0f}/s without HTTP load, {rl:.0f}/s with it ({(rl / rb - 1) * 100:+.2f} %); "
      f"stored/sent {sb * 100:.2f} % and {sl * 100:.2f} %")
for path in ("page", "api"):
    qs = [r[path] for r in load]
    print(f"median {'/' if path == 'page' else '/api/drones'}: {med(q['rps'] for q in qs):.0f} req/s, "
          f"p50 {med(q['50'] for q in qs):.2f} ms, p90 {med(q['90'] for q in qs):.2f} ms, p99 {med(q['99'] for q in qs):.2f} ms "
          f"(p99 per run: {', '.join('%.2f' % q['99'] for q in qs)} ms; errors {sum(q['errors'] for q in qs)})")
PY
