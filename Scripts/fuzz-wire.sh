#!/usr/bin/env bash
# Build and run the libFuzzer target for the Skygate wire decoder (docs/testing.md).
# Usage: Scripts/fuzz-wire.sh [RUNS]        (default 1,000,000 inputs; 0 = until stopped)
# The corpus starts from the golden vectors, so the fuzzer begins with valid frames of every shape.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build-fuzz
mkdir -p "$OUT/corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name WireFuzz \
  Sources/TelemetryWire/*.swift Fuzz/WireDecoderFuzz.swift -o "$OUT/wire-fuzz"
python3 - "$OUT/corpus" <<'PY'
import json, sys, pathlib
vectors = json.loads(pathlib.Path("Fixtures/wire/vectors.json").read_text())["vectors"]
for v in vectors:
    (pathlib.Path(sys.argv[1]) / v["name"]).write_bytes(bytes.fromhex(v["hex"]))
PY
exec "$OUT/wire-fuzz" -runs="$RUNS" -max_len=4096 -print_final_stats=1 "$OUT/corpus"
