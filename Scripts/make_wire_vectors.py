#!/usr/bin/env python3
"""Generate the Skygate wire-format golden vectors in Fixtures/wire/vectors.json.

This is a second, independent implementation of docs/protocol.md written with nothing but
Python's standard library (struct, hmac, hashlib and a bitwise CRC-32C), so the Swift encoder
and decoder are checked against the specification rather than against themselves.

Run from the repository root:  python3 Scripts/make_wire_vectors.py
The output is deterministic: running it again gives the same file byte for byte.
"""
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

MAGIC = 0xA7
VERSION = 1
TYPE_TELEMETRY = 1
FLAG_AUTHENTICATED = 0x01
HEADER = "<BBBBIIQBBH"  # magic, version, type, flags, drone id, sequence, timestamp µs, count, reserved, length
SAMPLE = "<IiiihhhHHBBI"  # offset µs, lat e7, lon e7, alt mm, vn, ve, vd cm/s, heading cdeg, mV, %, sats, status
assert struct.calcsize(HEADER) == 24 and struct.calcsize(SAMPLE) == 32


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), reflected, bit by bit: deliberately unlike the Swift slicing-by-8."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"

SAMPLE_FIELDS = ["timeOffsetMicroseconds", "latitudeE7", "longitudeE7", "altitudeMM", "velocityNorthCMS",
                 "velocityEastCMS", "velocityDownCMS", "headingCentidegrees", "batteryMillivolts",
                 "batteryPercent", "satellites", "status"]


def frame(drone, seq, ts, samples, *, key=None, counter=0, version=VERSION, mtype=TYPE_TELEMETRY,
          flags=None, count=None, reserved=0, length=None, magic=MAGIC):
    """Build one frame exactly as docs/protocol.md lays it out; overrides make invalid frames."""
    auth = key is not None
    if flags is None:
        flags = FLAG_AUTHENTICATED if auth else 0
    n = len(samples) if count is None else count
    real_length = 24 + 32 * len(samples) + (24 if auth else 0) + 4
    length = real_length if length is None else length
    body = struct.pack(HEADER, magic, version, mtype, flags, drone, seq, ts, n, reserved, length)
    for s in samples:
        body += struct.pack(SAMPLE, *(s[f] for f in SAMPLE_FIELDS))
    if auth:
        body += struct.pack("<Q", counter)
        body += hmac.new(key, body, hashlib.sha256).digest()[:16]
    return body + struct.pack("<I", crc32c(body))


def sample(i, drone=1):
    """A plausible sample near Zurich; i varies every field, including signed extremes."""
    return {
        "timeOffsetMicroseconds": i * 20000,
        "latitudeE7": 473977000 + drone * 1000 + i * 17,
        "longitudeE7": 85456000 - drone * 1000 - i * 23,
        "altitudeMM": 450000 + i * 150,
        "velocityNorthCMS": 120 - i * 9,
        "velocityEastCMS": -340 + i * 7,
        "velocityDownCMS": -15 + i,
        "headingCentidegrees": (9000 + i * 311) % 36000,
        "batteryMillivolts": 16800 - i * 3,
        "batteryPercent": 96 - (i % 90),
        "satellites": 12 + (i % 6),
        "status": 0x07 | (0x10 if i % 5 == 4 else 0),
    }


def extreme_sample():
    """Every field at a boundary, to pin down signedness and widths."""
    return {
        "timeOffsetMicroseconds": 0xFFFFFFFF, "latitudeE7": -900000000, "longitudeE7": 1800000000,
        "altitudeMM": -2147483648, "velocityNorthCMS": -32768, "velocityEastCMS": 32767,
        "velocityDownCMS": -1, "headingCentidegrees": 0xFFFF, "batteryMillivolts": 0xFFFF,
        "batteryPercent": 0xFF, "satellites": 0xFF, "status": 0xFFFFFFFF,
    }


T0 = 1767225600_000000  # 2026-01-01T00:00:00Z in µs
KEY_7 = bytes(range(0x40, 0x60))  # drone 7's key, 32 bytes
KEY_WRONG = bytes(range(0x60, 0x80))
KEYS = {"7": KEY_7.hex(), "8": bytes(range(0x80, 0x90)).hex()}


def expect_frame(drone, seq, ts, samples, *, counter=None):
    return {"droneID": drone, "sequence": seq, "timestampMicroseconds": ts,
            "authenticated": counter is not None, "counter": counter or 0, "samples": samples}


def vectors():
    v = []

    def add(name, what, data, accepted=(), rejected=(), keys=False):
        v.append({"name": name, "description": what, "hex": data.hex(), "useKeys": keys,
                  "accepted": list(accepted), "rejected": list(rejected)})

    one = [sample(0, 1)]
    f_one = frame(1, 0, T0, one)
    add("one-sample", "One frame with one sample, untagged.", f_one, [expect_frame(1, 0, T0, one)])

    five = [sample(i, 2) for i in range(5)]
    add("five-samples", "A firmware batching five samples into one frame.", frame(2, 41, T0 + 1000, five),
        [expect_frame(2, 41, T0 + 1000, five)])

    full = [sample(i, 3) for i in range(32)]
    add("max-samples", "The largest untagged frame: 32 samples.", frame(3, 0xFFFFFFFF, T0, full),
        [expect_frame(3, 0xFFFFFFFF, T0, full)])

    ext = [extreme_sample()]
    add("extreme-fields", "Every field at its boundary value; drone id and timestamp at their maxima.",
        frame(0xFFFFFFFF, 7, 0xFFFFFFFFFFFFFFFF - 0xFFFFFFFF, ext),
        [expect_frame(0xFFFFFFFF, 7, 0xFFFFFFFFFFFFFFFF - 0xFFFFFFFF, ext)])

    tagged = [sample(i, 7) for i in range(3)]
    f_tag = frame(7, 100, T0, tagged, key=KEY_7, counter=(5 << 32) | 100)
    add("tagged", "Three samples with an HMAC-SHA256-128 tag under drone 7's key.", f_tag,
        [expect_frame(7, 100, T0, tagged, counter=(5 << 32) | 100)], keys=True)

    full_tag = [sample(i, 8) for i in range(32)]
    add("tagged-max", "The largest frame of all: 32 samples and a tag (1,076 bytes), 16-byte key.",
        frame(8, 1, T0, full_tag, key=bytes.fromhex(KEYS["8"]), counter=1),
        [expect_frame(8, 1, T0, full_tag, counter=1)], keys=True)

    f_a = frame(1, 1, T0 + 20000, [sample(1, 1)])
    f_b = frame(2, 9, T0 + 20000, [sample(1, 2), sample(2, 2)])
    add("two-frames", "Two frames from two drones in one datagram.", f_a + f_b,
        [expect_frame(1, 1, T0 + 20000, [sample(1, 1)]), expect_frame(2, 9, T0 + 20000, [sample(1, 2), sample(2, 2)])])

    # --- invalid: one per reason -------------------------------------------------------------
    add("empty", "An empty datagram.", b"", rejected=["truncated"])
    add("truncated", "A valid frame without its last byte.", f_one[:-1], rejected=["truncated"])
    add("truncated-header", "Only the first 10 header bytes.", f_one[:10], rejected=["truncated"])
    add("bad-magic", "First byte 0x00.", b"\x00" + f_one[1:], rejected=["bad_magic"])
    add("mavlink2-magic", "A MAVLink 2 start byte is not ours.", b"\xfd" + f_one[1:], rejected=["bad_magic"])
    add("unknown-version", "Version 2, otherwise valid (CRC recomputed).", frame(1, 0, T0, one, version=2),
        rejected=["unknown_version"])
    add("bad-length-small", "Length field 10: below the smallest frame.", frame(1, 0, T0, one, length=10),
        rejected=["bad_length"])
    add("bad-length-large", "Length field 2000: above the largest frame.", frame(1, 0, T0, one, length=2000),
        rejected=["bad_length"])
    damaged = bytearray(f_one)
    damaged[30] ^= 0x10  # a bit in the first sample's latitude
    add("bad-crc", "One bit flipped in the latitude.", bytes(damaged), rejected=["bad_crc"])
    add("unknown-type", "Message type 9 with a valid CRC.", frame(1, 0, T0, one, mtype=9), rejected=["unknown_type"])
    add("unknown-flags", "Flag bit 0x80 set, valid CRC.", frame(1, 0, T0, one, flags=0x80), rejected=["unknown_flags"])
    add("bad-sample-count-zero", "Sample count 0 in an intact frame.", frame(1, 0, T0, one, count=0),
        rejected=["bad_sample_count"])
    add("bad-sample-count-mismatch", "Sample count 2 but length for 1.", frame(1, 0, T0, one, count=2),
        rejected=["bad_sample_count"])
    add("reserved-not-zero", "Reserved byte 1 in an intact frame.", frame(1, 0, T0, one, reserved=1),
        rejected=["reserved_not_zero"])
    add("unknown-key", "A tagged frame from drone 9, for which no key is configured.",
        frame(9, 0, T0, [sample(0, 9)], key=KEY_7, counter=1), rejected=["unknown_key"], keys=True)
    add("bad-tag", "Drone 7's frame tagged with the wrong key.",
        frame(7, 0, T0, tagged, key=KEY_WRONG, counter=1), rejected=["bad_tag"], keys=True)
    add("replayed", "The same tagged frame twice: the second is a replay.", f_tag + f_tag,
        [expect_frame(7, 100, T0, tagged, counter=(5 << 32) | 100)], ["replayed"], keys=True)
    add("unauthenticated", "An untagged frame from drone 7, which has a key.", frame(7, 0, T0, tagged),
        rejected=["unauthenticated"], keys=True)
    add("garbage-after-frame", "A valid frame followed by garbage: the rest counts once.",
        f_one + b"\x00\x01\x02\x03\x04", [expect_frame(1, 0, T0, one)], ["bad_magic"])
    add("intact-reject-then-valid", "An intact frame of an unknown type is skipped by its length.",
        frame(1, 0, T0, one, mtype=9) + f_a, [expect_frame(1, 1, T0 + 20000, [sample(1, 1)])], ["unknown_type"])
    add("crc-failure-stops-framing", "After a bad CRC the following frame cannot be trusted.",
        bytes(damaged) + f_a, rejected=["bad_crc"])
    return v


def main():
    out = {
        "format": "skygate-wire-vectors",
        "wireVersion": VERSION,
        "generator": "python3 Scripts/make_wire_vectors.py",
        "note": "Independent Python implementation of docs/protocol.md; see the script's docstring.",
        "crc32cCheckValue": "e3069283",
        "keys": KEYS,
        "vectors": vectors(),
    }
    path = Path(__file__).resolve().parent.parent / "Fixtures" / "wire" / "vectors.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out['vectors'])} vectors to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
