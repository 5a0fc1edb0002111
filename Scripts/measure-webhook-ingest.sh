#!/bin/bash
# Ingest rate with alerts on, and with the webhook receiver killed mid-run, against the plain
# gateway (issue 14: "the receiver killed mid-run: ingest rate unchanged").
#
#   Scripts/measure-webhook-ingest.sh [SKYGATE_BINARY] [ROUNDS]
#
# Each round runs `skygate bench --drones 1000 --rate 100 --duration 10 --max` four ways, one
# after the other so noise falls on all of them alike:
#   base   no zones, no webhook
#   zones  100 zones (Fixtures/zones/bench100.geojson) and the default rules
#   killed zones and a live signed receiver (Scripts/webhook-receiver.py), SIGKILLed 2 s in
#   dead   zones and a webhook to a closed port from the start
# and prints each run's JSON report line, then the medians of stored samples/s and each way's
# ratio to base.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$root/.build-release/release/skygate}")
rounds=${2:-3}
zones="$root/Fixtures/zones/bench100.geojson"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "webhook secret for the benchmark" > "$work/secret"
chmod 600 "$work/secret"  # skygate refuses a secret others can read
bench=(bench --drones 1000 --rate 100 --duration 10 --max --json)

closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for round in $(seq 1 "$rounds"); do
  "$bin" "${bench[@]}" > "$work/base-$round.json" 2>/dev/null
  "$bin" "${bench[@]}" --zones "$zones" > "$work/zones-$round.json" 2>/dev/null

  python3 "$root/Scripts/webhook-receiver.py" 0 "$work/secret" "$work/hook-$round.jsonl" > "$work/receiver.out" &
  receiver=$!
  for _ in $(seq 1 100); do [ -s "$work/receiver.out" ] && break; sleep 0.05; done
  port=$(awk '{print $2}' "$work/receiver.out")
  "$bin" "${bench[@]}" --zones "$zones" --webhook "http://127.0.0.1:$port/hook" --webhook-secret-file "$work/secret" \
    > "$work/killed-$round.json" 2>/dev/null &
  run=$!
  sleep 2
  kill -9 "$receiver"
  wait "$run"
  wait "$receiver" 2>/dev/null || true
  delivered_before_kill=$(wc -l < "$work/hook-$round.jsonl")

  "$bin" "${bench[@]}" --zones "$zones" --webhook "http://127.0.0.1:$closed_port/hook" > "$work/dead-$round.json" 2>/dev/null
  for way in base zones killed dead; do echo "round $round $way $(cat "$work/$way-$round.json")"; done
  echo "round $round killed: the receiver took $delivered_before_kill requests before SIGKILL"
done

python3 - "$work" "$rounds" <<'EOF'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
ways = ["base", "zones", "killed", "dead"]
reports = {w: [json.load(open(f"{work}/{w}-{r}.json")) for r in range(1, rounds + 1)] for w in ways}
base = statistics.median(r["stored_samples_per_second"] for r in reports["base"])
print(f"medians of {rounds} rounds (stored samples/s; ratio to base; dropped in the gateway; events; webhook outcome)")
for w in ways:
    rs = reports[w]
    rate = statistics.median(r["stored_samples_per_second"] for r in rs)
    dropped = [sum(r["dropped"].values()) for r in rs]
    balanced = all(r["balanced"] for r in rs)
    hooks = [(r.get("webhook_delivered"), r.get("webhook_request_failures"), r.get("webhook_pending")) for r in rs]
    print(f"{w:6s} {rate:10.0f}/s  {rate / base:5.2f}x  dropped {dropped}  balanced {balanced}  "
          f"events {[r.get('events') for r in rs]}  webhook (delivered, failed requests, pending at report) {hooks if w in ('killed', 'dead') else '-'}")
EOF
