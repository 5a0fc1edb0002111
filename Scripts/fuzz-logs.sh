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
OUT=${FUZZ_OUT:-.build-fuzz/logs}
MAX_LEN=${FUZZ_MAX_LEN:-8192}
mkdir -p "$OUT/modules"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O)
build_module() {  # name, sources...
  local name=$1; shift
  swiftc "${FLAGS[@]}" -wmo -enable-testing -module-name "$name" -I "$OUT/modules" -I Sources/CZlib \
    -I Sources/CThreadShims/include -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" -c "$@" -o "$OUT/$name.o"
}
# Telemetry names its threads through the one C shim; its object is linked wherever Telemetry is.
clang -O1 -c Sources/CThreadShims/CThreadShims.c -I Sources/CThreadShims/include -o "$OUT/CThreadShims.o"
[ "$OUT/TelemetryWire.o" -nt Sources/TelemetryWire ] || build_module TelemetryWire Sources/TelemetryWire/*.swift
[ "$OUT/Telemetry.o" -nt Sources/Telemetry ] || build_module Telemetry Sources/Telemetry/*.swift
[ "$OUT/MAVLinkWire.o" -nt Sources/MAVLinkWire ] || build_module MAVLinkWire Sources/MAVLinkWire/*.swift
[ "$OUT/PacketRing.o" -nt Sources/PacketRing ] || build_module PacketRing Sources/PacketRing/*.swift
build_module FlightRecording Sources/FlightRecording/*.swift
python3 - "$OUT" "$MAX_LEN" <<'PY'
import pathlib, shutil, struct, sys
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
    # Compact seeds that reach the data paths within a few KiB: only the definitions, parameters
    # and subscriptions of the mapped topics and types, and their first records.
    if target == "ulog":
        data = (pathlib.Path("Fixtures/flights") / "pyulog_sample_log_small.ulg").read_bytes()
        keep_topics = {b"vehicle_gps_position", b"battery_status", b"vehicle_global_position"}
        seed, off, ids, counts = bytearray(data[:16]), 16, set(), {}
        while off + 3 <= len(data):
            n, t = struct.unpack_from("<HB", data, off)
            msg = data[off:off + 3 + n]
            body = msg[3:]
            keep = False
            if t == ord("F"):
                keep = body.split(b":")[0] in keep_topics
            elif t in (ord("B"), ord("I"), ord("L"), ord("S"), ord("O")):
                keep = t != ord("I") or len(seed) < 2048
            elif t == ord("P"):
                keep = b"MAV_SYS_ID" in body or b"MAV_TYPE" in body
            elif t == ord("A"):
                keep = body[3:] in keep_topics
                if keep:
                    ids.add(struct.unpack_from("<H", body, 1)[0])
            elif t == ord("D"):
                i = struct.unpack_from("<H", body, 0)[0]
                counts[i] = counts.get(i, 0) + 1
                keep = i in ids and counts[i] <= 6
            if keep:
                seed += msg
            off += 3 + n
        (corpus / "ulog-compact").write_bytes(bytes(seed[:max_len]))
    if target == "dataflash":
        for name in files:
            data = (pathlib.Path("Fixtures/flights") / name).read_bytes()
            lengths, names, counts = {128: 89}, {128: b"FMT"}, {}
            keep_names = {b"FMT", b"GPS", b"CURR", b"BAT", b"PARM", b"MSG", b"FMTU", b"UNIT", b"MULT"}
            seed, off = bytearray(), 0
            while off + 3 <= len(data) and data[off:off + 2] == b"\xa3\x95" and data[off + 2] in lengths:
                t = data[off + 2]
                rec = data[off:off + lengths[t]]
                if t == 128:
                    lengths[rec[3]] = rec[4]
                    names[rec[3]] = rec[5:9].rstrip(b"\0")
                    keep = names[rec[3]] in keep_names
                else:
                    counts[t] = counts.get(t, 0) + 1
                    keep = names[t] in keep_names and counts[t] <= 8
                if keep:
                    seed += rec
                off += lengths[t]
            (corpus / f"{name}-compact").write_bytes(bytes(seed[:max_len]))
PY
status=0
for target in "${TARGETS[@]}"; do
  case $target in
    ulog) source=Fuzz/ULogFuzz.swift ;;
    dataflash) source=Fuzz/DataFlashFuzz.swift ;;
    capture) source=Fuzz/CaptureFuzz.swift ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  swiftc "${FLAGS[@]}" -module-name "${target}Fuzz" -I "$OUT/modules" -I Sources/CZlib -I Sources/CThreadShims/include Fuzz/LogReaderFuzzSupport.swift "$source" \
    "$OUT/FlightRecording.o" "$OUT/MAVLinkWire.o" "$OUT/Telemetry.o" "$OUT/CThreadShims.o" "$OUT/TelemetryWire.o" "$OUT/PacketRing.o" -lz -o "$OUT/$target-fuzz"
  echo "=== $target: $RUNS runs"
  "$OUT/$target-fuzz" -runs="$RUNS" -max_len="$MAX_LEN" -print_final_stats=1 "$OUT/corpus-$target" || status=$?
done
exit $status
