#!/usr/bin/env bash
# Build and run the libFuzzer targets for the autopilot log and capture players (docs/testing.md).
# Usage: Scripts/fuzz-logs.sh [RUNS] [TARGETS...]   (default 1,000,000 inputs each; targets: ulog
#        dataflash capture, all three by default; RUNS 0 = until stopped)
# The FlightRecording sources are compiled once as a module (with -enable-testing, so the targets
# reach the readers' byte-level entry points), TelemetryWire, Telemetry and MAVLinkWire as theirs;
# each target is its Fuzz/*Fuzz.swift file linked against them. The corpus of each starts afresh
# from the real files in Fixtures/flights, cut at a few lengths up to FUZZ_MAX_LEN (default 8 KiB:
# headers, definitions and the first records; longer inputs cost more per run than they find).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ulog dataflash capture)
OUT=.build-fuzz/logs
MAX_LEN=${FUZZ_MAX_LEN:-8192}
mkdir -p "$OUT/modules"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O)
build_module() {  # name, sources...
  local name=$1; shift
  swiftc "${FLAGS[@]}" -wmo -enable-testing -module-name "$name" -I "$OUT/modules" -I Sources/CZlib \
    -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" -c "$@" -o "$OUT/$name.o"
}
[ "$OUT/TelemetryWire.o" -nt Sources/TelemetryWire ] || build_module TelemetryWire Sources/TelemetryWire/*.swift
[ "$OUT/Telemetry.o" -nt Sources/Telemetry ] || build_module Telemetry Sources/Telemetry/*.swift
[ "$OUT/MAVLinkWire.o" -nt Sources/MAVLinkWire ] || build_module MAVLinkWire Sources/MAVLinkWire/*.swift
build_module FlightRecording Sources/FlightRecording/*.swift
python3 - "$OUT" "$MAX_LEN" <<'PY'
import pathlib, shutil, sys
out = pathlib.Path(sys.argv[1])
max_len = int(sys.argv[2])
seeds = {"ulog": ["pyulog_sample_log_small.ulg"], "dataflash": ["dataflashlog_log.bin", "ardusub_log_tools_small_dataflash.bin"],
         "capture": ["thayer_parsers_longerRun.pcap", "ipal_transcriber_MAVLink.pcap"]}
for target, files in seeds.items():
    corpus = out / f"corpus-{target}"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    for name in files:
        data = (pathlib.Path("Fixtures/flights") / name).read_bytes()
        for cut in (256, 1024, 4096, max_len):
            (corpus / f"{name}-{cut}").write_bytes(data[:min(cut, max_len)])
PY
status=0
for target in "${TARGETS[@]}"; do
  case $target in
    ulog) source=Fuzz/ULogFuzz.swift ;;
    dataflash) source=Fuzz/DataFlashFuzz.swift ;;
    capture) source=Fuzz/CaptureFuzz.swift ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  swiftc "${FLAGS[@]}" -module-name "${target}Fuzz" -I "$OUT/modules" -I Sources/CZlib Fuzz/LogReaderFuzzSupport.swift "$source" \
    "$OUT/FlightRecording.o" "$OUT/MAVLinkWire.o" "$OUT/Telemetry.o" "$OUT/TelemetryWire.o" -lz -o "$OUT/$target-fuzz"
  echo "=== $target: $RUNS runs"
  "$OUT/$target-fuzz" -runs="$RUNS" -max_len="$MAX_LEN" -print_final_stats=1 "$OUT/corpus-$target" || status=$?
done
exit $status
