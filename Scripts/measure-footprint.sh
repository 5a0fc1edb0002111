#!/usr/bin/env bash
# Memory footprint of `skygate serve` (issue 23, docs/performance.md "Memory footprint"): per run,
# the idle RSS 3 s after start, then VmHWM while `simulate --drones 10000 --rate 10 --duration 20
# --speed max` floods it from a separate process, with the accounting from /api/stats once the
# last datagram is in. Prints one line per run and the medians.
# Usage: Scripts/measure-footprint.sh SKYGATE [RUNS]   (default 3; a release build)
# DRONES, RATE, DURATION change the flood; SERVE_ARGS adds options to serve.
set -euo pipefail
SKYGATE=$1
RUNS=${2:-3}
DRONES=${DRONES:-10000}
RATE=${RATE:-10}
DURATION=${DURATION:-20}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

status_kib() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
stat_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

for run in $(seq 1 "$RUNS"); do
  UDP=$((21000 + RANDOM % 20000))
  HTTP=$((UDP + 1))
  # shellcheck disable=SC2086
  "$SKYGATE" serve --udp 127.0.0.1:$UDP --http 127.0.0.1:$HTTP --db "$OUT/run$run.db" ${SERVE_ARGS:-} > "$OUT/serve$run.log" 2>&1 &
  PID=$!
  sleep 3
  IDLE=$(status_kib $PID VmRSS)
  "$SKYGATE" simulate --to 127.0.0.1:$UDP --drones "$DRONES" --rate "$RATE" --duration "$DURATION" --speed max > "$OUT/sim$run.log" 2>&1
  # Until the received count stays still for a second (bounded: 60 s).
  last=-1
  for _ in $(seq 1 60); do
    sleep 1
    now=$(curl -s "127.0.0.1:$HTTP/api/stats" | stat_field "d['datagrams_received']")
    [ "$now" = "$last" ] && break
    last=$now
  done
  sleep 1
  STATS=$(curl -s "127.0.0.1:$HTTP/api/stats")
  HWM=$(status_kib $PID VmHWM)
  RSS=$(status_kib $PID VmRSS)
  SENT=$(awk '/^datagrams sent:/ {print $3}' "$OUT/sim$run.log")
  echo "run $run: idle_rss_mib=$(echo "$IDLE" | awk '{printf "%.1f", $1/1024}') flood_hwm_mib=$(echo "$HWM" | awk '{printf "%.1f", $1/1024}')" \
    "rss_after_mib=$(echo "$RSS" | awk '{printf "%.1f", $1/1024}') sent=${SENT:-?}" \
    "$(echo "$STATS" | stat_field "'received=%d datagrams=%d stored=%d dropped=%s rejected=%s kernel_drops=%s balanced=%s' % (d['received'], d['datagrams_received'], d['stored'], d['dropped'], d['rejected'], d.get('kernel_drops'), d['balanced'])")"
  kill -TERM $PID
  wait $PID || true
  grep -m1 "gateway started" "$OUT/serve$run.log" | sed 's/.*memory=\([^ ]*\( [a-z_]*=[0-9.]*\)*\) MiB.*/  memory: \1 MiB/' || true
done | tee "$OUT/runs.txt"
python3 - "$OUT/runs.txt" <<'EOF'
import re, statistics, sys
runs = [line for line in open(sys.argv[1]) if line.startswith("run ")]
for key in ("idle_rss_mib", "flood_hwm_mib", "rss_after_mib"):
    values = [float(re.search(key + r"=([0-9.]+)", line).group(1)) for line in runs]
    print(f"{key}: median {statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f}, {len(values)} runs)")
EOF
