#!/usr/bin/env bash
# Flight review API figures (docs/performance.md, "Flight review API"), on a release build.
#
#   Scripts/measure-review-api.sh fleet  DRONES SECONDS [QUERIES]   # /api/fleet?at= latency
#   Scripts/measure-review-api.sh series DRONES SECONDS [QUERIES]   # one drone's whole range at 1,000 points
#
# Builds a SQLite database the way a gateway fills one: `skygate serve` on loopback and
# `skygate simulate` flying DRONES drones at 1 Hz for SECONDS of simulated time as fast as the
# gateway takes them (--speed max; samples end now, since serve refuses samples older than a
# day, so SECONDS must stay under 86,400). Then it asks QUERIES (default 300) requests with curl
# at random instants (fleet: `at` uniform in the stored range; series: a random drone, the whole
# range, points=1000), RUNS times (default 3), and prints each run's p50/p99/max in ms and the
# median run's. `DB=path` reuses a database built before (kept when KEEP=1); `DB=postgres://…`
# with `DB_ARGS="--db-password-file FILE"` and `BUILD=1` builds and measures on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?fleet or series}
drones=${2:?drones}
seconds=${3:?seconds}
queries=${4:-300}
runs=${RUNS:-3}
bin=${SKYGATE_BIN:-.build-release/release/skygate}
[[ -x "$bin" ]] || { echo "no release build at $bin (swift build -c release --build-path .build-release)" >&2; exit 1; }
work=$(mktemp -d)
db=${DB:-$work/review.db}
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [[ "${KEEP:-0}" == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$bin" serve --udp 127.0.0.1:0 --http 127.0.0.1:0 --db "$db" ${DB_ARGS:-} >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 200); do grep -q "status page on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
udp=$(grep -o 'UDP 127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2)
http=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
[[ -n "$udp" && -n "$http" ]] || { cat "$work/serve.log" >&2; exit 1; }

if [[ -z "${DB:-}" || "${BUILD:-0}" == 1 ]]; then
  start=$(( ($(date +%s) - seconds) * 1000000 ))
  t0=$(date +%s)
  "$bin" simulate --to "127.0.0.1:$udp" --drones "$drones" --rate 1 --duration "$seconds" --speed max \
    --start-time "$start" --samples-per-datagram 1 >"$work/simulate.log" 2>&1
  # Wait until the gateway has committed everything it received.
  for _ in $(seq 600); do
    waiting=$(curl -s "$http/api/stats" | grep -o '"batches_waiting":[0-9]*' | cut -d: -f2)
    [[ "$waiting" == 0 ]] && break
    sleep 0.5
  done
  sleep 2
  stored=$(curl -s "$http/api/stats" | grep -o '"samples_stored":[0-9]*' | cut -d: -f2)
  echo "built $db: $drones drones x $seconds s at 1 Hz, $stored samples stored of $((drones * seconds)) sent, in $(( $(date +%s) - t0 )) s"
fi
timeline=$(curl -s "$http/api/timeline?buckets=1")
first=$(echo "$timeline" | grep -o '"first_us":[0-9]*' | cut -d: -f2)
last=$(echo "$timeline" | grep -o '"last_us":[0-9]*' | cut -d: -f2)
echo "stored range: $first .. $last ($(( (last - first) / 1000000 )) s); database $( [[ -f "$db" ]] && du -h "$db" | cut -f1 || echo "$db" | sed 's/:[^@]*@/@/')"

# Request URLs, generated once so every run asks the same ones.
awk -v n="$queries" -v first="$first" -v last="$last" -v drones="$drones" -v mode="$mode" -v base="$http" 'BEGIN {
  srand(42)
  for (i = 0; i < n; i++) {
    if (mode == "fleet") printf "%s/api/fleet?at=%.0f\n", base, first + rand() * (last - first)
    else printf "%s/api/drones/skygate/%d/series?from=%.0f&until=%.0f&points=1000\n", base, 1 + int(rand() * drones), first, last + 1
  }
}' >"$work/urls"
# One warm-up pass (the page cache, as on a gateway that has been serving).
while read -r url; do curl -s -o /dev/null "$url"; done <"$work/urls"
summary=()
for run in $(seq "$runs"); do
  while read -r url; do curl -s -o /dev/null -w '%{time_total}\n' "$url"; done <"$work/urls" | sort -n >"$work/times.$run"
  line=$(awk '{ t[NR] = $1 * 1000 } END {
    p50 = t[int(NR * 0.50 + 0.5)]; p99 = t[int(NR * 0.99 + 0.5)]; if (p99 == "") p99 = t[NR]
    printf "p50 %.1f ms  p99 %.1f ms  max %.1f ms", p50, p99, t[NR] }' "$work/times.$run")
  echo "run $run: $line ($queries requests)"
  summary+=("$(echo "$line" | awk '{ print $5 }') $line")
done
echo "median run by p99: $(printf '%s\n' "${summary[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p" | cut -d' ' -f2-)"
# The answer size of one request, for the record.
size=$(head -1 "$work/urls" | xargs curl -s | wc -c)
echo "answer size: $size bytes"
