#!/usr/bin/env bash
# Which pages of skygate's code a gateway run touches (docs/performance.md, stop 28, "Idle is still
# missed"): `serve` under Scripts/support/code-page-trace.c through 4 s idle, the status pages and
# API, a flood of both protocols and a clean stop. Prints the page count after each phase and
# writes the touched pages' file offsets, in first-touch order, to OUT.
# Usage: Scripts/trace-code-pages.sh SKYGATE OUT   (a release build; needs gcc and curl)
set -euo pipefail
SKYGATE=$(realpath "$1")
OUT=$(realpath -m "$2")
WORK=$(mktemp -d)
trap 'pkill -TERM -f "$WORK/db" 2>/dev/null || true; rm -rf "$WORK"' EXIT
gcc -O2 -shared -fPIC "$(dirname "$0")/support/code-page-trace.c" -o "$WORK/trace.so"
UDP=$((21000 + RANDOM % 20000))
HTTP=$((UDP + 1))
# The Swift runtime's crash backtracer would take SIGSEGV over from the tracer.
SWIFT_BACKTRACE=enable=no CODE_TRACE_OUT="$OUT" CODE_TRACE_BINARY="$(basename "$SKYGATE")" LD_PRELOAD="$WORK/trace.so" \
  "$SKYGATE" serve --udp 127.0.0.1:$UDP --http 127.0.0.1:$HTTP --db "$WORK/db" > "$WORK/serve.log" 2>&1 &
PID=$!
sleep 4
echo "idle: $(wc -l < "$OUT") pages, VmRSS $(awk '/^VmRSS/ {print $2}' /proc/$PID/status) kB"
for path in api/stats metrics "" api/drones healthz readyz review; do curl -s -o /dev/null "127.0.0.1:$HTTP/$path"; done
echo "after the status pages and API: $(wc -l < "$OUT") pages"
"$SKYGATE" simulate --to 127.0.0.1:$UDP --drones 10000 --rate 10 --duration 5 --speed max > /dev/null
"$SKYGATE" simulate --protocol mavlink2 --to 127.0.0.1:$UDP --drones 100 --rate 10 --duration 5 --speed max > /dev/null
sleep 3
echo "after a flood of both protocols: $(wc -l < "$OUT") pages"
kill -TERM $PID
wait $PID || true
echo "after a clean stop: $(wc -l < "$OUT") pages"
