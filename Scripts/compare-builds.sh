#!/usr/bin/env bash
# A/B two release builds of skygate end to end, alternating in each round so the machine's noise
# falls on both alike, with this machine's limits measured in the same rounds
# (docs/performance.md, "Restructuring re-check", "The store keeps up with the socket"). Per round:
# shared/limits/run.sh (STEPS), then for each build in turn: `bench --max` with 1 and with 5
# samples per datagram (1,000 drones, 1,000,000 datagrams), `bench --max` with 10,000 drones
# (2,000,000 datagrams), and `replay --db` of a Skygate and a MAVLink 2 recording made once
# beforehand. Prints every run and the medians per build.
# Usage: Scripts/compare-builds.sh OLD_SKYGATE NEW_SKYGATE [ROUNDS]   (default 3)
# RATE_1K and RATE_10K (default 100 and 20 Hz per drone, for 10 s) set the floods' sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1
NEW=$2
ROUNDS=${3:-3}
LIMITS=${LIMITS:-../shared/limits}
STEPS=${STEPS:-'^(udp_recvmmsg|sqlite_idx|pipeline)$'}
OUT=${OUT:-/tmp/skygate-compare}
rm -rf "$OUT"
mkdir -p "$OUT"

# The recordings, made once with the new build: a simulated fleet into `skygate record`.
record() {
  local name=$1; shift
  "$NEW" record --udp 127.0.0.1:0 --out "$OUT/$name.skyrec" > "$OUT/$name.record.log" &
  local recorder=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*UDP 127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/$name.record.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  "$NEW" simulate --to "127.0.0.1:$port" "$@" > "$OUT/$name.simulate.log"
  sleep 1
  kill -INT "$recorder"
  wait "$recorder"
}
record skygate --drones 1000 --rate 10 --duration 12 --speed max
record mavlink --protocol mavlink2 --drones 200 --rate 10 --duration 60 --speed max

run_build() {
  local label=$1 binary=$2 round=$3
  "$binary" bench --drones 1000 --rate "${RATE_1K:-100}" --duration 10 --max --json > "$OUT/$label-bench1-$round.json"
  "$binary" bench --drones 1000 --rate 100 --duration 10 --samples-per-datagram 5 --max --json > "$OUT/$label-bench5-$round.json"
  "$binary" bench --drones 10000 --rate "${RATE_10K:-20}" --duration 10 --max --json > "$OUT/$label-bench10k-$round.json"
  for recording in skygate mavlink; do
    rm -f "$OUT/replay.db"*
    "$binary" replay "$OUT/$recording.skyrec" --db "$OUT/replay.db" > "$OUT/$label-replay-$recording-$round.txt"
  done
}

for round in $(seq 1 "$ROUNDS"); do
  ONLY="$STEPS" QUIET_WAIT=${QUIET_WAIT:-20} bash "$LIMITS/run.sh" > "$OUT/limits-$round.txt" 2> "$OUT/limits-$round.log"
  # Alternate which build goes first, so neither always runs on the warmer machine.
  if [ $((round % 2)) = 1 ]; then
    run_build old "$OLD" "$round"; run_build new "$NEW" "$round"
  else
    run_build new "$NEW" "$round"; run_build old "$OLD" "$round"
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
def replay(label, recording, r):
    text = open(f"{out}/{label}-replay-{recording}-{r}.txt").read()
    m = re.search(r"([0-9]+) positions/s stored", text)
    return float(m.group(1)) if m else float("nan")
rows = []
for r in range(1, rounds + 1):
    lim = limits(r)
    for label in ("old", "new"):
        b1 = json.load(open(f"{out}/{label}-bench1-{r}.json"))
        b5 = json.load(open(f"{out}/{label}-bench5-{r}.json"))
        bk = json.load(open(f"{out}/{label}-bench10k-{r}.json"))
        rows.append(dict(round=r, build=label, udp=lim.get("udp_recvmmsg_recv"), pipe=lim.get("pipeline_stored"),
            idx=lim.get("sqlite_idx"), stored1=b1["stored_samples_per_second"], sender1=b1["sender_datagrams_per_second"],
            drops1=b1["dropped"].get("ring_full", 0), all1=b1["samples_stored"] == b1["datagrams_sent"],
            p99_1=b1["commit_latency_p99_ms"], stored5=b5["stored_samples_per_second"], drops5=b5["dropped"].get("ring_full", 0),
            p99_5=b5["commit_latency_p99_ms"], storedk=bk["stored_samples_per_second"], senderk=bk["sender_datagrams_per_second"],
            dropsk=bk["dropped"].get("ring_full", 0), allk=bk["samples_stored"] == bk["datagrams_sent"], p99_k=bk["commit_latency_p99_ms"],
            replay_sky=replay(label, "skygate", r), replay_mav=replay(label, "mavlink", r),
            balanced=b1["balanced"] and b5["balanced"] and bk["balanced"]))
print("| round | build | C udp_recvmmsg_recv | C pipeline_stored | C sqlite_idx | 1k drones: stored/s (sender) | ring drops | all stored | p99 | 10k drones: stored/s (sender) | ring drops | all stored | p99 | 5/dgram stored/s | p99 | replay Skygate pos/s | replay MAVLink pos/s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for x in rows:
    print(f"| {x['round']} | {x['build']} | {x['udp']:,.0f} | {x['pipe']:,.0f} | {x['idx']:,.0f} | {x['stored1']:,.0f} ({x['sender1']:,.0f}) | {x['drops1']} | {x['all1']} | {x['p99_1']:.0f} ms "
          f"| {x['storedk']:,.0f} ({x['senderk']:,.0f}) | {x['dropsk']} | {x['allk']} | {x['p99_k']:.0f} ms "
          f"| {x['stored5']:,.0f} | {x['p99_5']:.0f} ms | {x['replay_sky']:,.0f} | {x['replay_mav']:,.0f} |")
for label in ("old", "new"):
    sel = [x for x in rows if x["build"] == label]
    med = lambda k: statistics.median(x[k] for x in sel)
    print(f"median {label}: stored1 {med('stored1'):,.0f}/s = {statistics.median(x['stored1']/x['pipe'] for x in sel):.2f}x pipeline_stored, "
          f"{statistics.median(x['stored1']/x['udp'] for x in sel):.2f}x udp_recvmmsg_recv; p99 {med('p99_1'):.0f} ms; "
          f"10k drones: stored {med('storedk'):,.0f}/s = {statistics.median(x['storedk']/x['pipe'] for x in sel):.2f}x pipeline_stored, "
          f"{statistics.median(x['storedk']/x['udp'] for x in sel):.2f}x udp_recvmmsg_recv, ring drops {sorted(x['dropsk'] for x in sel)}, p99 {med('p99_k'):.0f} ms; "
          f"1k ring drops {sorted(x['drops1'] for x in sel)}; "
          f"stored5 {med('stored5'):,.0f}/s = {statistics.median(x['stored5']/x['idx'] for x in sel):.2f}x sqlite_idx; "
          f"replay skygate {med('replay_sky'):,.0f}/s, mavlink {med('replay_mav'):,.0f}/s; balanced {all(x['balanced'] for x in sel)}")
PY
