#!/usr/bin/env bash
# Writes Fixtures/store/vN.db, a database as an older Skygate wrote it, and Fixtures/store/vN.csv,
# that Skygate's own export of it. Tests/TelemetryExportTests/StoreFixtureTests.swift opens a copy
# with the current store and checks it reads back exactly that export (docs/storage.md,
# "Migration").
# Usage: Scripts/make-store-fixture.sh N SKYGATE_BINARY
#   N = 1: SKYGATE_BINARY built before compressed blocks (schema v4, every block format version 1;
#          the fixture in the repository was made by the release build of 2a6ea73).
#   N = 2: SKYGATE_BINARY built before Zstandard blocks (schema v7, compressed blocks in format
#          version 2, zlib; the fixture in the repository was made by the release build of 34bc81d).
#   N = 3: SKYGATE_BINARY built before stored blocks (schema v8, compressed blocks in format
#          version 3, Zstandard; the fixture in the repository was made by a release build of
#          stop 31's work whose encoder and schema are ce5fc1e's: the commits after it, up to
#          ce5fc1e, changed only the decoder's loops, comments and docs).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:?usage: Scripts/make-store-fixture.sh N SKYGATE_BINARY}
SKYGATE=${2:?usage: Scripts/make-store-fixture.sh N SKYGATE_BINARY}
OUT=Fixtures/store
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
db="$WORK/v$N.db"
# Two real flights of MAVLink system 1, replayed through the gateway pipeline into the database:
# the whole of the small ArduSub log, and the first two minutes of the DroneKit flight.
"$SKYGATE" replay Fixtures/flights/ardusub_log_tools_small.tlog --db "$db" >/dev/null
"$SKYGATE" replay Fixtures/flights/dronekit-python_flight.tlog --until +120 --db "$db" >/dev/null
# A clean stop compacts everything into chunks. A crash before a compaction leaves recent blocks,
# which have the same format: the newest chunk goes back to telemetry_recent as one, so the
# fixture has both kinds of block.
sqlite3 "$db" <<'SQL'
INSERT INTO telemetry_recent (drone_group, first_us, last_us, samples, data)
  SELECT ((protocol << 32) | drone) / 32, start_us, end_us, samples, data FROM telemetry_chunk
  WHERE rowid = (SELECT max(rowid) FROM telemetry_chunk);
DELETE FROM telemetry_chunk WHERE rowid = (SELECT max(rowid) FROM telemetry_chunk);
VACUUM;
SQL
"$SKYGATE" export --db "$db" --format csv --out "$WORK/v$N.csv"
mkdir -p "$OUT"
cp "$db" "$OUT/v$N.db"
cp "$WORK/v$N.csv" "$OUT/v$N.csv"
sqlite3 "$OUT/v$N.db" "SELECT 'schema ' || (SELECT version FROM schema_version) || ', chunks ' || (SELECT count(*) FROM telemetry_chunk) || ', recent blocks ' || (SELECT count(*) FROM telemetry_recent) || ', samples ' || ((SELECT sum(samples) FROM telemetry_chunk) + (SELECT sum(samples) FROM telemetry_recent)) || ', block versions ' || (SELECT group_concat(DISTINCT hex(substr(data, 1, 1))) FROM (SELECT data FROM telemetry_chunk UNION ALL SELECT data FROM telemetry_recent))"
