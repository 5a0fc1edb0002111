#!/usr/bin/env bash
# Build and run the libFuzzer target for the MAVLink decoder (docs/testing.md).
# Usage: Scripts/fuzz-mavlink.sh [RUNS]        (default 1,000,000 inputs; 0 = until stopped)
# The corpus starts from the golden vectors (Fixtures/mavlink), so the fuzzer begins with valid
# frames of every mapped message, both versions, signed and damaged ones.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build-fuzz/mavlink
mkdir -p "$OUT/corpus" "$OUT/modules"
# TelemetryWire is its own module (MAVLinkWire imports it for SampleColumns).
swiftc -sanitize=fuzzer,address -parse-as-library -O -wmo -module-name TelemetryWire \
  -emit-module -emit-module-path "$OUT/modules/TelemetryWire.swiftmodule" \
  -c Sources/TelemetryWire/*.swift -o "$OUT/TelemetryWire.o"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MAVLinkFuzz -I "$OUT/modules" \
  Sources/MAVLinkWire/*.swift Fuzz/MAVLinkFuzz.swift "$OUT/TelemetryWire.o" -o "$OUT/mavlink-fuzz"
python3 - "$OUT/corpus" <<'PY'
import json, sys, pathlib
vectors = json.loads(pathlib.Path("Fixtures/mavlink/vectors.json").read_text())["vectors"]
for v in vectors:
    (pathlib.Path(sys.argv[1]) / v["name"]).write_bytes(bytes.fromhex(v["hex"]))
PY
exec "$OUT/mavlink-fuzz" -runs="$RUNS" -max_len=2048 -print_final_stats=1 "$OUT/corpus"
