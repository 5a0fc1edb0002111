#!/usr/bin/env bash
# Status page under full ingest (docs/performance.md, "Status page"): serve + simulate (1000 drones x RATE Hz, paced) with and without paced HTTP load at 500 req/s.
set -u
SK=${SKYGATE:-.build/release/skygate}
RATE=${RATE:-100}
run() {
  local load=$1 dir; dir=$(mktemp -d)
  local U=$((30000 + RANDOM % 10000))
  $SK serve --udp 127.0.0.1:$U --http 127.0.0.1:0 --db $dir/p.db > $dir/serve.log 2>&1 &
  local S=$!
  sleep 1.5
  local H; H=$(grep -o "127.0.0.1:[0-9]*/" $dir/serve.log | head -1 | tr -d '/' | cut -d: -f2)
  $SK simulate --to 127.0.0.1:$U --drones 1000 --rate $RATE --duration 12 --seed 3 --start-time now > $dir/sim.log 2>&1 &
  local M=$!
  sleep 2
  if [ "$load" = yes ]; then python3 "$(dirname "$0")/paced_http_client.py" 127.0.0.1 $H 500 8; fi
  wait $M
  sleep 1
  curl -s http://127.0.0.1:$H/api/stats | python3 -c "import json,sys; r=json.load(sys.stdin); print('load=$load', 'received', r['datagrams_received'], 'stored', r['stored'], 'kernel_drops', r['kernel_drops'], 'ring_full', r['dropped']['ring_full'], 'commit p99', r['commit_latency_ms']['p99'])"
  kill -TERM $S; wait $S 2>/dev/null
  grep "rate:" $dir/sim.log
  rm -rf $dir
}
run no; run yes; run no; run yes
