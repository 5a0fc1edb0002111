#!/usr/bin/env bash
# Build and run a libFuzzer target for one of the gateway's file and text inputs (docs/testing.md,
# "Fuzzing the file inputs"; docs/security.md):
#   zones   the zone GeoJSON reader and the grid built from it (Fuzz/ZoneFileFuzz.swift)
#   keys    Skygate and MAVLink key files (Fuzz/KeyFileFuzz.swift)
#   config  `serve --config` files (Fuzz/ConfigFileFuzz.swift)
#   skyrec  the Skygate recording reader, with CRC repair (Fuzz/SkyrecFuzz.swift)
#   tlog    the MAVLink .tlog reader (Fuzz/TlogFuzz.swift)
#   codec   the store's compressed sample blocks (Fuzz/SampleCodecFuzz.swift)
#   ingest  the `POST /api/telemetry` body parser, JSON and binary (Fuzz/IngestBodyFuzz.swift)
# Usage: Scripts/fuzz-inputs.sh TARGET [RUNS]    (default 1,000,000 inputs; -1 = until stopped)
# Extra libFuzzer flags may follow RUNS (e.g. -max_total_time=20). Each target is compiled from
# the source files directly with `swiftc -sanitize=fuzzer,address`, as Scripts/fuzz-wire.sh does;
# modules shared by several targets are compiled once and reused while their sources are older.
# Findings are written as crash-*/leak-*/oom-* files in the working directory; rerun one with
# `.build-fuzz/inputs/TARGET-fuzz FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?usage: Scripts/fuzz-inputs.sh zones|keys|config|skyrec|tlog|codec|ingest [RUNS] [libFuzzer flags]}
RUNS=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))
OUT=.build-fuzz/inputs
mkdir -p "$OUT/modules" "$OUT/corpus-$TARGET"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O)

# module NAME SOURCES...: a library module (object and .swiftmodule), rebuilt when a source is newer.
module() {
  local name=$1; shift
  local object="$OUT/$name.o"
  if [ -f "$object" ] && [ -z "$(find "$@" -newer "$object" 2>/dev/null)" ]; then return; fi
  swiftc "${FLAGS[@]}" -wmo -module-name "$name" -I "$OUT/modules" -I Sources/CZlib \
    -I Sources/CThreadShims/include \
    -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" -c "$@" -o "$object"
}
# Telemetry names its threads through the one C shim; its object is linked wherever Telemetry is.
clang -O1 -c Sources/CThreadShims/CThreadShims.c -I Sources/CThreadShims/include -o "$OUT/CThreadShims.o"

corpus="$OUT/corpus-$TARGET"
max_len=65536
case "$TARGET" in
zones)
  module Telemetry Sources/Telemetry/*.swift
  swiftc "${FLAGS[@]}" -module-name ZoneFuzz -I "$OUT/modules" -I Sources/CThreadShims/include \
    Sources/Alerts/Zone.swift Sources/Alerts/ZoneFile.swift Sources/Alerts/ZoneSet.swift Fuzz/ZoneFileFuzz.swift \
    "$OUT/Telemetry.o" "$OUT/CThreadShims.o" -o "$OUT/zones-fuzz"
  # Small files of each geometry (inputs stay under 4 KiB: parsing and building the grid of a
  # large file is slow enough to cut the fuzzer's rate tenfold, and adds no new code).
  cat > "$corpus/shapes.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"a","kind":"keep-out","floor_m":0,"ceiling_m":120},"geometry":{"type":"Polygon","coordinates":[[[8.5,47.3],[8.6,47.3],[8.6,47.4],[8.5,47.3]]]}},
 {"type":"Feature","properties":{"name":"b","kind":"keep-in","radius_m":500},"geometry":{"type":"Point","coordinates":[179.9,-89.5]}},
 {"type":"Feature","properties":{"kind":"keep-out"},"geometry":{"type":"MultiPolygon","coordinates":[[[[-180,-90],[0,-90],[0,90],[-180,-90]],[[-100,-10],[-90,-10],[-90,10],[-100,-10]]],[[[100,0],[170,0],[170,10],[100,0]]]]}}
]}
JSON
  printf '%s' '{"type":"Feature","properties":{"kind":"keep-out","name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}' > "$corpus/feature.geojson"
  max_len=4096
  binary="$OUT/zones-fuzz"
  ;;
keys)
  module WireAuthentication Sources/WireAuthentication/KeyFile.swift Sources/WireAuthentication/DroneKeys.swift
  swiftc "${FLAGS[@]}" -module-name KeyFuzz -I "$OUT/modules" \
    Sources/MAVLinkSigning/MAVLinkKeys.swift Fuzz/KeyFileFuzz.swift "$OUT/WireAuthentication.o" -o "$OUT/keys-fuzz"
  printf '# drone keys\n17 00112233445566778899aabbccddeeff\n4294967295\t%s  # the last\n\n' \
    "$(printf 'ab%.0s' $(seq 64))" > "$corpus/drones.keys"
  printf '1 %s\r\n255 %s\r\n' "$(printf '0f%.0s' $(seq 32))" "$(printf 'A0%.0s' $(seq 32))" > "$corpus/mavlink.keys"
  max_len=4096
  binary="$OUT/keys-fuzz"
  ;;
config)
  swiftc "${FLAGS[@]}" -module-name ConfigFuzz Sources/skygate/ConfigFile.swift Fuzz/ConfigFileFuzz.swift -o "$OUT/config-fuzz"
  # The shipped Kubernetes config's lines, and quoting, comments and CRLF.
  sed -n '/skygate.conf: |/,$p' deploy/kubernetes/configmap.yaml | tail -n +2 | sed 's/^    //' > "$corpus/kubernetes.conf"
  printf 'udp = 0.0.0.0:14550\r\nhttp = "127.0.0.1:8080"  # quoted\r\n\r\n# db = x\r\nretain=30\r\n' > "$corpus/crlf.conf"
  # A '#' joined into a grapheme cluster (the finding kept in Fuzz/findings).
  cp Fuzz/findings/config-hash-after-a-prepended-mark.conf "$corpus/"
  max_len=4096
  binary="$OUT/config-fuzz"
  ;;
skyrec|tlog)
  module Telemetry Sources/Telemetry/*.swift
  module TelemetryWire Sources/TelemetryWire/*.swift
  module MAVLinkWire Sources/MAVLinkWire/*.swift
  module PacketRing Sources/PacketRing/*.swift
  source=Fuzz/SkyrecFuzz.swift
  [ "$TARGET" = tlog ] && source=Fuzz/TlogFuzz.swift
  swiftc "${FLAGS[@]}" -module-name RecordingFuzz -I "$OUT/modules" -I Sources/CZlib -I Sources/CThreadShims/include \
    Sources/FlightRecording/*.swift "$source" "$OUT/Telemetry.o" "$OUT/CThreadShims.o" "$OUT/TelemetryWire.o" "$OUT/MAVLinkWire.o" \
    "$OUT/PacketRing.o" -lz -o "$OUT/$TARGET-fuzz"
  if [ "$TARGET" = tlog ]; then
    for flight in Fixtures/flights/*.tlog; do
      name=$(basename "$flight" .tlog)
      head -c 4096 "$flight" > "$corpus/$name-head"
      tail -c 3000 "$flight" > "$corpus/$name-tail"
      dd if="$flight" of="$corpus/$name-middle" bs=1 skip=100000 count=2000 status=none
    done
  else
    # Seed recordings written by the real RecordingWriter (the target's LLVMFuzzerInitialize).
    SKYREC_FUZZ_SEEDS="$corpus" "$OUT/skyrec-fuzz" -runs=0 "$corpus" >/dev/null 2>&1 || true
  fi
  binary="$OUT/$TARGET-fuzz"
  ;;
codec)
  swiftc "${FLAGS[@]}" -module-name CodecFuzz -I Sources/CZlib -I Sources/CZstd \
    Sources/TelemetryStore/SampleCodec.swift Fuzz/SampleCodecFuzz.swift -lz -lzstd -o "$OUT/codec-fuzz"
  # Seed blocks written by the real encoder (the target's LLVMFuzzerInitialize).
  SAMPLECODEC_FUZZ_SEEDS="$corpus" "$OUT/codec-fuzz" -runs=0 "$corpus" >/dev/null 2>&1 || true
  # 4 KiB: a plain input of 77 samples, an encoded one of hundreds or thousands; longer inputs
  # add no code and cut the rate (170 inputs/s at 16 KiB under ASan on this busy machine).
  max_len=4096
  binary="$OUT/codec-fuzz"
  ;;
ingest)
  module Telemetry Sources/Telemetry/*.swift
  module TelemetryWire Sources/TelemetryWire/*.swift
  module MAVLinkWire Sources/MAVLinkWire/*.swift
  swiftc "${FLAGS[@]}" -module-name IngestFuzz -I "$OUT/modules" -I Sources/CThreadShims/include \
    Sources/IngestFraming/*.swift Fuzz/IngestBodyFuzz.swift \
    "$OUT/Telemetry.o" "$OUT/CThreadShims.o" "$OUT/TelemetryWire.o" "$OUT/MAVLinkWire.o" -o "$OUT/ingest-fuzz"
  # The documented JSON forms (an object with samples, a bare array, ISO and µs times), a Skygate
  # frame body and a MAVLink body (the wire and MAVLink golden vectors).
  printf '%s' '{"samples":[{"drone":7,"sequence":1,"time_us":1780000000000000,"lat":47.39,"lon":8.51,"alt_m":420.5,"velocity_north_mps":1.5,"heading_deg":90,"battery_v":16.2,"battery_percent":80,"satellites":12,"status":1}]}' > "$corpus/object.json"
  printf '%s' '[{"drone":1,"sequence":9,"time":"2026-12-04T16:00:00.250Z","lat":-89.9,"lon":179.9,"alt_m":0},{"drone":2,"sequence":0,"time":"2026-12-04 16:00:00","lat":0,"lon":-180,"alt_m":-10}]' > "$corpus/array.json"
  python3 - "$corpus" <<'PY'
import json, sys, pathlib
for fixture, prefix in (("Fixtures/wire/vectors.json", "skygate-"), ("Fixtures/mavlink/vectors.json", "mavlink-")):
    for v in json.loads(pathlib.Path(fixture).read_text())["vectors"]:
        (pathlib.Path(sys.argv[1]) / (prefix + v["name"])).write_bytes(bytes.fromhex(v["hex"]))
PY
  max_len=8192
  binary="$OUT/ingest-fuzz"
  ;;
*)
  echo "unknown target '$TARGET': zones, keys, config, skyrec, tlog, codec or ingest" >&2
  exit 2
  ;;
esac
exec "$binary" -runs="$RUNS" -max_len="$max_len" -print_final_stats=1 "$@" "$corpus"
