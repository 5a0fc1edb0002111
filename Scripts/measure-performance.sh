#!/usr/bin/env bash
# Measure Skygate against this machine's limits in the same run (docs/performance.md).
# Each round runs the C limits (shared/limits/run.sh, the steps named in STEPS), then the Skygate
# figures right after: `skygate bench` with one-sample datagrams from 1,000 drones, the same with
# 5 samples per datagram, and the wire decoder benchmark. Prints every round and the medians.
# Usage: Scripts/measure-performance.sh [ROUNDS]    (default 3; release build of skygate needed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
LIMITS=${LIMITS:-../shared/limits}
STEPS=${STEPS:-'^(udp_recvmmsg|sqlite_idx|sqlite_multi64|decode|pipeline)$'}
OUT=${OUT:-/tmp/skygate-perf}
BENCH_ARGS=${BENCH_ARGS:-}   # extra `skygate bench` options, e.g. --commit-samples-max 65536
SKYGATE=${SKYGATE:-.build/release/skygate}
DECODE=${DECODE:-1}   # 0 skips the decoder benchmark (its figures then print as n/a)
[ -x "$SKYGATE" ] || { echo "build first: swift build -c release --product skygate" >&2; exit 1; }
mkdir -p "$OUT"
if [ "$DECODE" = 1 ]; then
  (cd Benchmarks && swift package benchmark --target WireDecoding --filter "Decode datagrams of 1 sample.*" --format markdown >/dev/null 2>&1) || true
fi
for round in $(seq 1 "$ROUNDS"); do
  ONLY="$STEPS" QUIET_WAIT=${QUIET_WAIT:-30} bash "$LIMITS/run.sh" > "$OUT/limits-$round.txt" 2> "$OUT/limits-$round.log"
  "$SKYGATE" bench --drones 1000 --rate 100 --duration 10 --max --json $BENCH_ARGS > "$OUT/bench1-$round.json"
  "$SKYGATE" bench --drones 1000 --rate 100 --duration 10 --samples-per-datagram 5 --max --json $BENCH_ARGS > "$OUT/bench5-$round.json"
  if [ "$DECODE" = 1 ]; then
    (cd Benchmarks && swift package benchmark --target WireDecoding --filter "Decode datagrams of 1 sample.*" --format markdown 2>/dev/null) > "$OUT/decode-$round.txt"
  else
    : > "$OUT/decode-$round.txt"
  fi
  echo "round $round done" >&2
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def limits(r):
    d = {}
    for line in open(f"{out}/limits-{r}.txt"):
        m = re.match(r"^(\S+): ([0-9.]+)", line)
        if m: d[m.group(1)] = float(m.group(2))
    return d
rows = []
for r in range(1, rounds + 1):
    L = limits(r)
    b1 = json.load(open(f"{out}/bench1-{r}.json"))
    b5 = json.load(open(f"{out}/bench5-{r}.json"))
    ns = None
    for line in open(f"{out}/decode-{r}.txt"):
        if "Time (wall clock) (ns)" in line:
            ns = float(line.split("|")[4]); break
    rows.append(dict(
        udp=L.get("udp_recvmmsg_recv"), idx=L.get("sqlite_idx"), multi64=L.get("sqlite_multi64"),
        cdec=L.get("decode_crc_table", float("nan")), cpipe=L.get("pipeline_stored"),
        noise=max(v for k, v in L.items() if k.startswith("noise_")) if any(k.startswith("noise_") for k in L) else None,
        stored1=b1["stored_samples_per_second"], recv1=b1["received_datagrams_per_second"], sent1=b1["sender_datagrams_per_second"],
        ring1=b1["dropped"].get("ring_full", 0), lost1=b1["lost_before_gateway"], p99=b1["commit_latency_p99_ms"],
        stored5=b5["stored_samples_per_second"], ring5=b5["dropped"].get("ring_full", 0), p99_5=b5["commit_latency_p99_ms"],
        rss=b1["rss_megabytes"], dec=1e9 / ns if ns else float("nan"), cdec_or_nan=L.get("decode_crc_table", float("nan"))))
    x = rows[-1]
    print(f"round {r}: C udp_recvmmsg_recv {x['udp']:.0f}/s, C pipeline_stored {x['cpipe']:.0f}/s, C sqlite_idx {x['idx']:.0f}/s, "
          f"C decode_crc_table {x['cdec']:.0f}/s (max noise {x['noise']} cores) | skygate stored {x['stored1']:.0f} samples/s "
          f"(sender {x['sent1']:.0f}/s, ring drops {x['ring1']}, lost {x['lost1']}, commit p99 {x['p99']:.0f} ms), "
          f"5/datagram {x['stored5']:.0f} samples/s, decode {x['dec']:.0f} frames/s")
med = lambda k: statistics.median(x[k] for x in rows)
ratio = lambda a, b: statistics.median(x[a] / x[b] for x in rows)
print()
print(f"medians of {rounds} rounds:")
print(f"  stored, 1 sample/datagram, 1,000 drones: {med('stored1'):.0f} samples/s = {ratio('stored1','cpipe'):.2f} x pipeline_stored ({med('cpipe'):.0f}), {ratio('stored1','udp'):.2f} x udp_recvmmsg_recv ({med('udp'):.0f}); commit p99 {med('p99'):.0f} ms; ring drops {sum(x['ring1'] for x in rows)}")
print(f"  stored, 5 samples/datagram: {med('stored5'):.0f} samples/s = {ratio('stored5','idx'):.2f} x sqlite_idx ({med('idx'):.0f}); commit p99 {med('p99_5'):.0f} ms")
print(f"  decode, 1-sample frames: {med('dec'):.0f} frames/s = {ratio('dec','cdec'):.2f} x decode_crc_table ({med('cdec'):.0f})")
print(f"  RSS after the run: {med('rss'):.0f} MB")
PY
