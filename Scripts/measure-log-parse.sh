#!/usr/bin/env bash
# Parse throughput of the autopilot log and capture players against the reference readers, on the
# same files, same machine, one after the other (docs/performance.md; issue 22's goal: >= 50x).
# NOT run by CI and not to be run on a busy machine: it times things.
#
# For each real file in Fixtures/flights (.ulg, .bin, .pcap), it makes a larger file of about
# SIZE_MB (default 256) by repeating the real one's records (ULog: the data section after the
# definitions; DataFlash: the whole file, whose FMT records repeat harmlessly; pcap: the packet
# records), then times, ROUNDS times each (default 3, median printed):
#   - `skygate inspect FILE --json` (release build): the whole read, every datagram made and
#     framed, plus the inventory; positions from its `log.positions`;
#   - the reference reader reading the whole file: pyulog `ULog(path)` (all topics), pymavlink
#     `DFReader_binary` (`recv_msg` until the end), and pymavlink over the capture's UDP payloads
#     (Scripts/reference_positions.py's capture reader);
# and prints MB/s and positions/s for each and the ratio, with peak RSS (GNU time) for skygate.
# Usage: Scripts/measure-log-parse.sh [SIZE_MB] [ROUNDS]     (needs $MAV_PY or /tmp/venv-mav with
#        pyulog==1.3.0 and pymavlink==2.4.50, and /usr/bin/time; SKYGATE_BIN=... for a dry run)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-256}
ROUNDS=${2:-3}
PY=${MAV_PY:-/tmp/venv-mav/bin/python}
"$PY" -c 'import pyulog, pymavlink' || { echo "needs pyulog and pymavlink in $PY" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
# SKYGATE_BIN overrides the binary (a dry run of the script with a debug build; not for figures).
if [ -z "${SKYGATE_BIN:-}" ]; then
  swift build -c release --product skygate >/dev/null
  SKYGATE=$(swift build -c release --show-bin-path)/skygate
else
  SKYGATE=$SKYGATE_BIN
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PY" - "$work" "$SIZE_MB" <<'PY'
import pathlib, struct, sys
work, size = pathlib.Path(sys.argv[1]), int(sys.argv[2]) << 20
flights = pathlib.Path("Fixtures/flights")
def grow(name, head, body):
    out = bytearray(head)
    while len(out) < size:
        out += body
    (work / name).write_bytes(out)
# ULog: header and definitions once, then the data section again and again.
u = (flights / "pyulog_sample_log_small.ulg").read_bytes()
off, first_data = 16, None
while off + 3 <= len(u):
    n, t = struct.unpack_from("<HB", u, off)
    if first_data is None and t in (ord("D"), ord("L"), ord("O")):
        first_data = off
    off += 3 + n
grow("big.ulg", u[:first_data], u[first_data:])
b = (flights / "dataflashlog_log.bin").read_bytes()
grow("big.bin", b"", b)
p = (flights / "thayer_parsers_longerRun.pcap").read_bytes()
grow("big.pcap", p[:24], p[24:])
PY

cat > "$work/reference.py" <<'PY'
import json, sys, time
sys.path.insert(0, "Scripts")
import reference_positions as ref
path = sys.argv[1]
start = time.perf_counter()
cpu_start = time.process_time()
if path.endswith(".ulg"):
    from pyulog import ULog
    log = ULog(path)
    positions = len(next(d for d in log.data_list if d.name == "vehicle_gps_position" and d.multi_id == 0).data["timestamp"])
elif path.endswith(".bin"):
    from pymavlink import DFReader
    log = DFReader.DFReader_binary(path)
    positions = 0
    while True:
        m = log.recv_msg()
        if m is None:
            break
        if m.get_type() == "GPS":
            positions += 1
else:
    _, points = ref.capture(path)
    positions = len(points)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu_start, "positions": positions}))
PY

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for file in big.ulg big.bin big.pcap; do
  path="$work/$file"
  mb=$(awk -v b="$(stat -c %s "$path")" 'BEGIN { printf "%.1f", b / 1048576 }')
  : > "$work/ours"; : > "$work/theirs"
  for round in $(seq 1 "$ROUNDS"); do
    start=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/rss" "$SKYGATE" inspect "$path" --json > "$work/inventory.json"
    end=$(date +%s.%N)
    positions=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["log"]["positions"])' "$work/inventory.json")
    read -r rss user system < "$work/rss"
    echo "$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }') $positions $rss $(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')" >> "$work/ours"
    "$PY" "$work/reference.py" "$path" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print(r["seconds"], r["positions"], r["cpu"])' >> "$work/theirs"
  done
  ours=$(awk '{print $1}' "$work/ours" | median); theirs=$(awk '{print $1}' "$work/theirs" | median)
  ours_positions=$(awk 'NR==1 {print $2}' "$work/ours"); theirs_positions=$(awk 'NR==1 {print $2}' "$work/theirs")
  rss=$(awk '{print $3}' "$work/ours" | sort -n | tail -1)
  ours_cpu=$(awk '{print $4}' "$work/ours" | median); theirs_cpu=$(awk '{print $3}' "$work/theirs" | median)
  awk -v f="$file" -v mb="$mb" -v o="$ours" -v t="$theirs" -v op="$ours_positions" -v tp="$theirs_positions" -v rss="$rss" -v oc="$ours_cpu" -v tc="$theirs_cpu" 'BEGIN {
    printf "%s (%s MB): skygate %.2f s = %.1f MB/s, %.0f positions/s (%d positions, peak RSS %.0f MiB); reference %.2f s = %.1f MB/s, %.0f positions/s (%d positions); ratio %.1fx (CPU time %.3f s vs %.2f s: %.1fx)\n",
      f, mb, o, mb / o, op / o, op, rss / 1024, t, mb / t, tp / t, tp, t / o, oc, tc, tc / oc }'
done
