#!/usr/bin/env bash
# `skygate replay --db` of a long autopilot capture: positions/s stored against the positions/s of
# the parse alone (`inspect`), and resident memory sampled through the run, to show that a log of
# any size replays in flat memory (issue 22; docs/performance.md). NOT run by CI: it times things
# and writes SIZE_MB of data.
#
# The long file is the real PX4 loopback capture (Fixtures/flights/thayer_parsers_longerRun.pcap)
# repeated with its capture times shifted by the capture's span plus one second per copy, so time
# runs forward and every copy's positions are stored (MAVLink frames whose boot time steps back
# are stamped with the capture time; docs/recording-format.md). With ULOG=1 it also samples the
# RSS of `inspect` over a ULog of the same size (the real log's data section repeated).
# Usage: Scripts/measure-log-replay.sh [SIZE_MB] [ROUNDS]   (default 1024 MB, 3 rounds;
#        SKYGATE_BIN=... for the binary, else the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
ROUNDS=${2:-3}
if [ -z "${SKYGATE_BIN:-}" ]; then
  swift build -c release --product skygate >/dev/null
  SKYGATE=$(swift build -c release --show-bin-path)/skygate
else
  SKYGATE=$SKYGATE_BIN
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$SIZE_MB" "${ULOG:-0}" <<'PY'
import pathlib, struct, sys
work, size, ulog = pathlib.Path(sys.argv[1]), int(sys.argv[2]) << 20, sys.argv[3] == "1"
flights = pathlib.Path("Fixtures/flights")
p = (flights / "thayer_parsers_longerRun.pcap").read_bytes()
records, off = [], 24
while off + 16 <= len(p):
    sec, frac, cap, orig = struct.unpack_from("<IIII", p, off)
    records.append((sec, frac, p[off + 8:off + 16 + cap]))
    off += 16 + cap
span = records[-1][0] - records[0][0] + 1
with open(work / "long.pcap", "wb") as out:
    out.write(p[:24])
    written, copy = 24, 0
    while written < size:
        chunk = bytearray()
        for sec, frac, rest in records:
            chunk += struct.pack("<II", sec + copy * span, frac) + rest
        out.write(chunk)
        written += len(chunk)
        copy += 1
print(f"long.pcap: {written >> 20} MiB, {copy} copies of {len(records)} packets", file=sys.stderr)
if ulog:
    u = (flights / "pyulog_sample_log_small.ulg").read_bytes()
    off, first = 16, None
    while off + 3 <= len(u):
        n, t = struct.unpack_from("<HB", u, off)
        if first is None and t in (ord("D"), ord("L"), ord("O")):
            first = off
        off += 3 + n
    with open(work / "long.ulg", "wb") as out:
        out.write(u)
        written = len(u)
        while written < size:
            out.write(u[first:off])
            written += off - first
PY

# run_sampled OUT COMMAND...: runs COMMAND, samples its VmRSS every 0.2 s into OUT (KiB per line),
# and prints the wall time.
run_sampled() {
  local out=$1; shift
  : > "$out"
  local start end pid
  start=$(date +%s.%N)
  "$@" > "$work/command.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null >> "$out" || true
    sleep 0.2
  done
  wait "$pid"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}
# rss_summary FILE: the samples after the first tenth of the run: min, median, max (MiB).
rss_summary() {
  local n skip
  n=$(wc -l < "$1")
  skip=$(( n / 10 ))
  tail -n +$(( skip + 1 )) "$1" | sort -n | awk '{v[NR]=$1} END { printf "RSS %.0f / %.0f / %.0f MiB (min/median/max of %d samples after the first tenth)", v[1]/1024, v[int((NR+1)/2)]/1024, v[NR]/1024, NR }'
}

mb=$(awk -v b="$(stat -c %s "$work/long.pcap")" 'BEGIN { printf "%.0f", b / 1048576 }')
for round in $(seq 1 "$ROUNDS"); do
  rm -f "$work"/replay.db*
  seconds=$(run_sampled "$work/rss-inspect" "$SKYGATE" inspect "$work/long.pcap" --json)
  positions=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log"]["positions"])' "$work/command.out")
  echo "round $round: inspect ${mb} MB in ${seconds} s: $(awk -v p="$positions" -v s="$seconds" 'BEGIN { printf "%.0f", p / s }') positions/s parsed ($positions positions); $(rss_summary "$work/rss-inspect")"
  seconds=$(run_sampled "$work/rss-replay" "$SKYGATE" replay "$work/long.pcap" --db "$work/replay.db")
  stored=$(sed -n 's/.*samples stored \([0-9]*\).*/\1/p' "$work/command.out")
  grep -E "final accounting" "$work/command.out" | sed 's/^/  /'
  echo "round $round: replay --db ${mb} MB in ${seconds} s: $(awk -v p="$stored" -v s="$seconds" 'BEGIN { printf "%.0f", p / s }') positions/s stored ($stored samples); $(rss_summary "$work/rss-replay")"
done
if [ "${ULOG:-0}" = 1 ]; then
  seconds=$(run_sampled "$work/rss-ulog" "$SKYGATE" inspect "$work/long.ulg" --json)
  echo "inspect long.ulg ($(( $(stat -c %s "$work/long.ulg") >> 20 )) MiB) in ${seconds} s; $(rss_summary "$work/rss-ulog")"
fi
