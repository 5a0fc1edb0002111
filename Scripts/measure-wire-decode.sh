#!/usr/bin/env bash
# Measure the Skygate decoder against this machine's C limit in the same run (docs/performance.md).
# Alternates ROUNDS times: the limits' C decoder (shared/limits, step `decode`), then the Swift
# benchmark `Decode datagrams of 1 sample (CRC-32C)`; prints each round and the medians.
# Usage: Scripts/measure-wire-decode.sh [ROUNDS]     (default 3; needs ../shared/limits)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
LIMITS=${LIMITS:-../shared/limits}
[ -f "$LIMITS/run.sh" ] || { echo "limits not found at $LIMITS (set LIMITS=...)" >&2; exit 1; }
out=$(mktemp -d)
(cd Benchmarks && swift package benchmark --target WireDecoding --filter "Decode datagrams of 1 sample.*" \
  --format markdown >/dev/null 2>&1) || true  # build once, outside the timed rounds
for round in $(seq 1 "$ROUNDS"); do
  ONLY='^decode$' QUIET_WAIT=${QUIET_WAIT:-20} bash "$LIMITS/run.sh" 2>/dev/null > "$out/c$round.txt"
  (cd Benchmarks && swift package benchmark --target WireDecoding --filter "Decode datagrams of 1 sample.*" \
    --format markdown 2>/dev/null) > "$out/s$round.txt"
  c=$(awk '/^decode_crc_table:/ {print $2}' "$out/c$round.txt")
  noise=$(awk '/^noise_decode:/ {print $2}' "$out/c$round.txt")
  ns=$(awk -F'|' '/Time \(wall clock\) \(ns\)/ {gsub(/ /, "", $5); print $5; exit}' "$out/s$round.txt")
  s=$(awk -v ns="$ns" 'BEGIN { printf "%.0f", 1e9 / ns }')
  echo "round $round: C decode_crc_table ${c} frames/s (noise ${noise} cores); Swift p50 ${ns} ns = ${s} frames/s; ratio $(awk -v s="$s" -v c="$c" 'BEGIN { printf "%.2f", s / c }')"
  echo "$c $s" >> "$out/pairs"
done
sort -n -k1 "$out/pairs" | awk '{c[NR]=$1} END {print "median C:", c[int((NR+1)/2)]}'
sort -n -k2 "$out/pairs" | awk '{s[NR]=$2} END {print "median Swift:", s[int((NR+1)/2)]}'
awk '{r[NR]=$2/$1} END {n=asort(r); printf "median ratio (per round): %.2f\n", r[int((n+1)/2)]}' "$out/pairs"
rm -rf "$out"
