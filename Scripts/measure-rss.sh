#!/usr/bin/env bash
# RSS of `skygate serve` over a simulated run: sampled every 5 s from /proc/PID/status, to show that
# memory is allocated at start-up and stays flat (docs/performance.md).
# Usage: Scripts/measure-rss.sh DRONES RATE SECONDS   (release build of skygate needed)
set -euo pipefail
cd "$(dirname "$0")/.."
DRONES=${1:-10000}; RATE=${2:-10}; SECONDS_RUN=${3:-60}
SKYGATE=${SKYGATE:-.build/release/skygate}
DB=$(mktemp -d)/rss.db
PORT=$((20000 + RANDOM % 20000))
"$SKYGATE" serve --udp 127.0.0.1:$PORT --http 127.0.0.1:$((PORT + 1)) --db "$DB" > "$DB.log" 2>&1 &
PID=$!
sleep 1.5
rss() { awk '/^VmRSS:/ {print $2 / 1024}' /proc/$PID/status; }
URL=http://127.0.0.1:$((PORT + 1))
# Batches spilled so far: a first spill touches the spill file's buffers (docs/performance.md).
spilled() { curl -s "$URL/api/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("spill_batches", "?"))' 2>/dev/null || echo "?"; }
echo "after start-up, before traffic: $(rss) MB"
"$SKYGATE" simulate --to 127.0.0.1:$PORT --drones "$DRONES" --rate "$RATE" --duration "$SECONDS_RUN" --start-time now > "$DB.sim" 2>&1 &
SIM=$!
SAMPLES=()
for ((t = 5; t <= SECONDS_RUN; t += 5)); do
  sleep 5
  value=$(rss)
  echo "t=${t}s: $value MB (spilled batches so far: $(spilled))"
  if [ "$t" -gt 60 ]; then SAMPLES+=("$value"); fi
done
wait $SIM
if [ ${#SAMPLES[@]} -gt 0 ]; then
  # Flat after the first minute: the spread of the samples taken after t=60 s, against their median.
  printf '%s\n' "${SAMPLES[@]}" | python3 -c '
import statistics, sys
values = [float(line) for line in sys.stdin if line.strip()]
median = statistics.median(values)
print(f"after the first minute: {len(values)} samples, min {min(values):.1f} MB, median {median:.1f} MB, max {max(values):.1f} MB, "
      f"spread {100 * (max(values) - min(values)) / median:.2f} % of the median (max {100 * (max(values) - median) / median:+.2f} %, min {100 * (min(values) - median) / median:+.2f} %)")'
fi
sleep 1
echo "after the run: $(rss) MB"
kill -TERM $PID; wait $PID || true
tail -3 "$DB.log"
grep -E "^(sent|datagrams|samples)" "$DB.sim" | head -5 || true
rm -rf "$(dirname "$DB")"
