#!/usr/bin/env bash
# Database bytes per stored sample (docs/performance.md, "Compressed chunks"; issue 23):
# 1. RUNS times: `skygate serve --db` fed by `skygate simulate --drones 1000 --rate 10
#    --duration 120 --speed max` from a separate process, stopped cleanly (SIGTERM: the gateway
#    stores everything and compacts), then `du -b` of the database and its WAL over the samples
#    stored (counted in the file); prints every run and the median.
# 2. The real logs in Fixtures/flights, each replayed alone into a new database (`skygate replay
#    --db`), the same figure per file and over all of them.
# 3. With PG=1: the PostgreSQL store's bytes per row for the same simulated run (a throwaway
#    server from Scripts/pg-test-server.sh on PG_PORT, default 55444): the telemetry tables and
#    their indexes, pg_total_relation_size over the rows.
# Usage: Scripts/measure-store-bytes.sh [SKYGATE_BINARY] [RUNS]
#   env: DRONES (1000), RATE (10), DURATION (120), PG (0), PG_PORT (55444)
set -euo pipefail
cd "$(dirname "$0")/.."
SKYGATE=$(realpath "${1:-.build-release/release/skygate}")
RUNS=${2:-3}
DRONES=${DRONES:-1000}; RATE=${RATE:-10}; DURATION=${DURATION:-120}
WORK=$(mktemp -d /tmp/skygate-bytes.XXXX)
chmod 755 "$WORK"
cleanup() {
  [ -f "$WORK/pg/port" ] && Scripts/pg-test-server.sh stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

samples_in() {
  sqlite3 "$1" "SELECT (SELECT coalesce(sum(samples), 0) FROM telemetry_chunk) + (SELECT coalesce(sum(samples), 0) FROM telemetry_recent)"
}
bytes_of() {
  local wal=0
  if [ -f "$1-wal" ]; then wal=$(stat -c %s "$1-wal"); fi
  echo $(( $(stat -c %s "$1") + wal ))
}

# simulate_into DB: one simulated run into `serve --db DB`, stopped cleanly.
simulate_into() {
  local db=$1 port=$((20000 + RANDOM % 20000))
  "$SKYGATE" serve --udp 127.0.0.1:$port --http 127.0.0.1:0 --db "$db" \
    ${DB_PASSWORD_FILE:+--db-password-file "$DB_PASSWORD_FILE"} > "$WORK/serve.log" 2>&1 &
  local serve=$!
  sleep 2
  "$SKYGATE" simulate --to 127.0.0.1:$port --drones "$DRONES" --rate "$RATE" --duration "$DURATION" --speed max --start-time now \
    > "$WORK/simulate.log" 2>&1
  sleep 2
  kill -TERM $serve
  wait $serve || true
  grep -E "final accounting" "$WORK/serve.log" | tail -1 >&2 || true
}

echo "== $DRONES drones at $RATE Hz for $DURATION s into serve --db (database + WAL after a clean stop)"
: > "$WORK/runs"
for run in $(seq 1 "$RUNS"); do
  db="$WORK/run$run.db"
  simulate_into "$db"
  bytes=$(bytes_of "$db"); samples=$(samples_in "$db")
  chunks=$(sqlite3 "$db" "SELECT coalesce(sum(length(data)), 0) FROM telemetry_chunk")
  python3 -c "print(f'run $run: {$bytes} bytes ({$bytes}/{$samples} samples) = {$bytes/$samples:.2f} bytes a sample; chunk data alone {$chunks/$samples:.2f}')"
  python3 -c "print($bytes/$samples)" >> "$WORK/runs"
  rm -f "$db" "$db-wal" "$db-shm"
done
python3 -c "import statistics; v=[float(l) for l in open('$WORK/runs')]; print(f'median of {len(v)}: {statistics.median(v):.2f} bytes a sample')"

echo "== Fixtures/flights, each replayed alone into a new database (replay --db)"
total_bytes=0; total_samples=0
for flight in Fixtures/flights/*.tlog Fixtures/flights/*.bin Fixtures/flights/*.ulg Fixtures/flights/*.pcap; do
  [ -f "$flight" ] || continue
  db="$WORK/$(basename "$flight").db"
  if ! "$SKYGATE" replay "$flight" --db "$db" > "$WORK/replay.log" 2>&1; then
    echo "$(basename "$flight"): not replayed ($(tail -1 "$WORK/replay.log"))"; continue
  fi
  bytes=$(bytes_of "$db"); samples=$(samples_in "$db")
  chunks=$(sqlite3 "$db" "SELECT coalesce(sum(length(data)), 0) FROM telemetry_chunk")
  if [ "$samples" -gt 0 ]; then
    python3 -c "print(f'$(basename "$flight"): {$samples} samples, {$bytes} bytes = {$bytes/$samples:.1f} bytes a sample (chunk data alone {$chunks/$samples:.2f})')"
    total_bytes=$((total_bytes + bytes)); total_samples=$((total_samples + samples))
  else
    echo "$(basename "$flight"): no samples stored"
  fi
done
[ "$total_samples" -gt 0 ] && python3 -c "print(f'all flights: {$total_samples} samples, {$total_bytes} bytes = {$total_bytes/$total_samples:.1f} bytes a sample (each file its own database: pages and schema per file)')"

if [ "${PG:-0}" = 1 ]; then
  echo "== PostgreSQL store, the same simulated run (one run)"
  url=$(Scripts/pg-test-server.sh start "$WORK/pg" "${PG_PORT:-55444}")
  export PGPASSWORD=$(cat "$WORK/pg/password")
  DB_PASSWORD_FILE="$WORK/pg/password"
  simulate_into "$url"
  psql -h 127.0.0.1 -p "${PG_PORT:-55444}" -U skygate -d skygate -Atq -c "VACUUM ANALYZE" >/dev/null
  psql -h 127.0.0.1 -p "${PG_PORT:-55444}" -U skygate -d skygate -At -c "
    SELECT (SELECT count(*) FROM telemetry) AS rows_stored,
           sum(pg_total_relation_size(c.oid)) AS bytes,
           round(sum(pg_total_relation_size(c.oid))::numeric / (SELECT count(*) FROM telemetry), 1) AS bytes_per_row
    FROM pg_class c WHERE c.relkind = 'r' AND (c.relname = 'telemetry' OR c.relname LIKE 'telemetry_%')" |
    awk -F'|' '{ printf "postgres: %s rows, %s bytes in the telemetry tables and their indexes = %s bytes a row\n", $1, $2, $3 }'
fi
