#!/usr/bin/env bash
# PostgreSQL store throughput against the C limit on this machine (docs/performance.md,
# "PostgreSQL store"): C libpq COPY (Benchmarks/limits/pg_copy_bench.c) and `skygate bench-store`
# write the same rows into the same schema on a throwaway PostgreSQL 15, at the same batch sizes,
# for ROUNDS rounds; prints every run and the medians. BRIN (time_us) is measured beside the btree
# primary key for the C limit (the store needs the key to de-duplicate).
#   Scripts/measure-postgres.sh [SKYGATE_BINARY] [ROUNDS]      env: ROWS (200000), DRONES (1000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build-release/release/skygate}")
rounds=${2:-3}
rows=${ROWS:-200000}
drones=${DRONES:-1000}
work=$(mktemp -d /tmp/skygate-pgbench.XXXX)
chmod 755 "$work"
gcc -O2 -I/usr/include/postgresql -o "$work/pg_copy_bench" Benchmarks/limits/pg_copy_bench.c -lpq
url=$(Scripts/pg-test-server.sh start "$work/pg" 55498)
trap 'Scripts/pg-test-server.sh stop "$work/pg"; rm -rf "$work"' EXIT
export PGPASSWORD=$(cat "$work/pg/password")
conninfo="host=127.0.0.1 port=55498 user=skygate dbname=skygate"
reset() { Scripts/pg-test-server.sh psql "$work/pg" -q -c "DROP TABLE IF EXISTS telemetry, drone_latest, skygate_spill, skygate_schema CASCADE" 2>/dev/null; }
rate() { grep -o '= [0-9]* rows/s' | grep -o '[0-9]*'; }
record() { echo "$1 $2" | tee -a "$work/runs.txt"; }
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  for batch in 1000 10000; do
    record "c_btree_$batch" "$("$work/pg_copy_bench" "$conninfo" "$rows" "$batch" "$drones" btree | rate)"
    reset
    record "swift_$batch" "$("$bin" bench-store --db "$url" --rows "$rows" --batch "$batch" --drones "$drones" | rate)"
  done
  record c_brin_10000 "$("$work/pg_copy_bench" "$conninfo" "$rows" 10000 "$drones" brin | rate)"
  reset
  # Three gateways at once: three connections, disjoint drones, one server.
  record swift_3writers_10000 "$("$bin" bench-store --db "$url" --rows "$rows" --batch 10000 --drones "$drones" --writers 3 | rate)"
done
python3 - "$work/runs.txt" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split()
    runs[k].append(int(v))
med = {k: statistics.median(v) for k, v in runs.items()}
for k in sorted(med): print(f"{k:24s} median {med[k]:>9.0f} rows/s  runs {runs[k]}")
for b in (1000, 10000):
    print(f"ratio swift/C btree at batch {b}: {med[f'swift_{b}'] / med[f'c_btree_{b}']:.2f}")
print(f"ratio 3 writers (sum)/C btree at batch 10000: {med['swift_3writers_10000'] / med['c_btree_10000']:.2f}")
print(f"C btree/BRIN at batch 10000: {med['c_btree_10000'] / med['c_brin_10000']:.2f}")
PY
