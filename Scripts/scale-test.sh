#!/usr/bin/env bash
# Three gateways sharing one PostgreSQL 15, each in its own network namespace (ip netns + veth on
# a bridge, no default routes), fed a seeded simulated fleet; one gateway at a time restarted
# (SIGTERM, start again) during ingest and PostgreSQL restarted once. Then: every intact frame the
# simulator summaries list is stored exactly once, each drone's first and last position match,
# and every gateway run's accounting balanced.
#
#   Scripts/scale-test.sh [SKYGATE_BINARY]     env: DRONES (300), SECONDS_OF_FLIGHT (60), RATE (5)
#
# Each slice of the fleet (DRONES/3 drones) is sent to two gateways by two simulators with the
# same seed, so the frames are identical: the way a UDP balancer re-pins flows after a pod loss
# delivers a drone's frames to a second gateway. With one gateway down at a time, every frame
# reaches a live one; the shared store keeps each once. Needs root (namespaces), PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build/debug/skygate}")
drones=${DRONES:-300}
seconds=${SECONDS_OF_FLIGHT:-60}
rate=${RATE:-5}
work=$(mktemp -d /tmp/skygate-scale.XXXX)
chmod 755 "$work"
pg="$work/pg"
net=10.77.0
slice=$(( drones / 3 ))
[ $(( slice * 3 )) -eq "$drones" ] || { echo "DRONES must be a multiple of 3" >&2; exit 2; }
echo "scale test: $drones drones, $seconds s at $rate Hz, 3 gateways; work in $work"

cleanup() {
  set +e
  for pidfile in "$work"/*.pid; do [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null; done
  sleep 1
  for pidfile in "$work"/*.pid; do [ -f "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null; done
  Scripts/pg-test-server.sh stop "$pg" 2>/dev/null
  for ns in skygw1 skygw2 skygw3 skysim; do ip netns del "$ns" 2>/dev/null; done
  ip link del skyscale0 2>/dev/null
}
trap cleanup EXIT

# The network: a bridge in the root namespace (PostgreSQL listens there), one namespace per host.
ip link add skyscale0 type bridge
ip addr add "$net.1/24" dev skyscale0
ip link set skyscale0 up
host() {  # NAME ADDRESS
  ip netns add "$1"
  ip link add "v$1" type veth peer name eth0 netns "$1"
  ip link set "v$1" master skyscale0 up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
}
host skygw1 "$net.11"; host skygw2 "$net.12"; host skygw3 "$net.13"; host skysim "$net.20"
ip -n skygw1 route | grep -q default && { echo "unexpected default route" >&2; exit 1; }

url=$(Scripts/pg-test-server.sh start "$pg" 55499 "$net.1")
echo "PostgreSQL: $url"

start_gateway() {  # N
  local n=$1
  ip netns exec "skygw$n" "$bin" serve --db "$url" --db-password-file "$pg/password" --gateway-name "gw$n" \
    --udp "$net.1$n:14550" --http "127.0.0.1:8080" --spill "$work/gw$n.spill" >> "$work/gw$n.log" 2>&1 &
  echo $! > "$work/gw$n.pid"
}
wait_ready() {  # N
  for _ in $(seq 1 100); do
    ip netns exec "skygw$1" curl -sf -o /dev/null "http://127.0.0.1:8080/readyz" && return 0
    sleep 0.1
  done
  echo "gateway $1 did not get ready" >&2; tail -5 "$work/gw$1.log" >&2; return 1
}
stop_gateway() {  # N
  local pid; pid=$(cat "$work/gw$1.pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$work/gw$1.pid"
}

for n in 1 2 3; do start_gateway "$n"; done
for n in 1 2 3; do wait_ready "$n"; done

# Slice k (drones k*slice+1 ...) goes to gateway k+1 and to the next one. Both copies of a slice
# start at the same recent time (live ingest refuses samples older than a day), so their frames
# are identical and each must be stored once.
start_us=$(( $(date +%s) * 1000000 ))
for k in 0 1 2; do
  for copy in a b; do
    target=$(( k + 1 )); [ "$copy" = b ] && target=$(( (k + 1) % 3 + 1 ))
    ip netns exec skysim "$bin" simulate --to "$net.1$target:14550" --drones "$slice" --first-drone-id $(( k * slice + 1 )) \
      --rate "$rate" --duration "$seconds" --speed 1 --seed $(( 7 + k )) --loss 1 --start-time "$start_us" \
      --summary-json "$work/slice$k-$copy.json" > "$work/sim$k$copy.log" 2>&1 &
    echo $! > "$work/sim$k$copy.pid"
  done
done

step=$(( seconds / 6 ))
for n in 1 2 3; do
  sleep "$step"
  echo "$(date +%T) restart gateway $n (SIGTERM, start again)"
  stop_gateway "$n"; start_gateway "$n"; wait_ready "$n"
done
sleep "$step"
# Any gateway shows the whole fleet (read back from PostgreSQL), at most 2 s old, though each
# hears only two thirds of it.
for n in 1 2 3; do
  ip netns exec "skygw$n" curl -sf "http://127.0.0.1:8080/api/drones" > "$work/drones-gw$n.json"
  python3 - "$work/drones-gw$n.json" "$drones" "$n" <<'PY'
import json, sys
report, drones, n = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
listed = report["drones"]
oldest = max(d["last_seen_seconds_ago"] for d in listed)
print(f"gateway {n}: /api/drones lists {len(listed)} drones, the oldest last seen {oldest:.1f} s ago")
if len(listed) != drones or oldest > 2.0:
    sys.exit(f"gateway {n} does not show the whole fleet within 2 s")
PY
done
echo "$(date +%T) restart PostgreSQL"
Scripts/pg-test-server.sh restart "$pg"
for k in 0 1 2; do for copy in a b; do
  pid=$(cat "$work/sim$k$copy.pid"); while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -f "$work/sim$k$copy.pid"
done; done
sleep 2
for n in 1 2 3; do stop_gateway "$n"; done

# Check: the store against the summaries, and every gateway run's accounting.
Scripts/pg-test-server.sh psql "$pg" -tA -F ' ' -c "
  SELECT t.drone, count(*), count(DISTINCT (t.time_us, t.sequence)),
         (array_agg(latitude_e7 ORDER BY time_us))[1], (array_agg(longitude_e7 ORDER BY time_us))[1],
         (array_agg(latitude_e7 ORDER BY time_us DESC))[1], (array_agg(longitude_e7 ORDER BY time_us DESC))[1]
  FROM telemetry t GROUP BY t.drone ORDER BY t.drone" > "$work/stored.txt"
python3 - "$work" "$drones" <<'PY'
import json, re, sys, glob
work, drones = sys.argv[1], int(sys.argv[2])
stored = {}
for line in open(f"{work}/stored.txt"):
    if line.strip():
        d, n, distinct, lat0, lon0, lat1, lon1 = map(int, line.split())
        stored[d] = (n, distinct, lat0, lon0, lat1, lon1)
problems, intact_total = [], 0
for k in range(3):
    a, b = (json.load(open(f"{work}/slice{k}-{c}.json")) for c in "ab")
    if a["drones"] != b["drones"]:
        problems.append(f"slice {k}: the two simulators differ")
    for drone in a["drones"]:
        d, intact = drone["drone_id"], drone["counts"]["datagrams_intact"]
        intact_total += intact
        n, distinct, lat0, lon0, lat1, lon1 = stored.get(d, (0, 0, 0, 0, 0, 0))
        if n != intact or distinct != n:
            problems.append(f"drone {d}: {intact} intact frames, {n} stored ({distinct} distinct)")
        f, l = drone["first_intact"], drone["last_intact"]
        if intact and ((lat0, lon0) != (f["lat_e7"], f["lon_e7"]) or (lat1, lon1) != (l["lat_e7"], l["lon_e7"])):
            problems.append(f"drone {d}: first/last position differ")
if len(stored) != drones:
    problems.append(f"{len(stored)} drones stored, expected {drones}")
runs, received, stored_units = 0, 0, 0
for log in sorted(glob.glob(f"{work}/gw*.log")):
    for m in re.finditer(r"final accounting: received (\d+) = stored (\d+) .*\((\w+)\)", open(log).read()):
        runs += 1
        received += int(m.group(1)); stored_units += int(m.group(2))
        if m.group(3) != "balanced":
            problems.append(f"{log}: accounting {m.group(3)}")
if runs != 6:
    problems.append(f"{runs} gateway runs ended with an accounting line, expected 6")
rows = sum(v[0] for v in stored.values())
print(f"intact frames {intact_total}, stored rows {rows}, gateway runs {runs}: received {received}, stored {stored_units} "
      f"(each frame reached two gateways; the store kept it once)")
for p in problems[:20]:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
PY
grep -h "outage\|reconnect" "$work"/gw*.log | head -3 || true
echo "scale test passed"
