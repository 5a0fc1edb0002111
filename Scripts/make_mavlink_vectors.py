#!/usr/bin/env python3
"""Generate the MAVLink golden vectors in Fixtures/mavlink/vectors.json with pymavlink.

pymavlink (PyPI) is the MAVLink project's own Python implementation, generated from the official
common.xml, so the Swift decoder in Sources/MAVLinkWire is checked against the reference rather
than against itself. Every datagram here is encoded by pymavlink (the v1.0 dialect for MAVLink 1
frames, the v2.0 dialect for MAVLink 2, with pymavlink's own signing) and then decoded by a fresh
pymavlink parser (robust parsing on); the fields and rejections it reports are written beside the
bytes as what the Swift decoder must give.

pymavlink's rejections map to the Swift decoder's reasons like this:
    "Bad prefix"                           -> bad_magic   (one unit per run of non-start bytes)
    "invalid incompat_flags"               -> unknown_flags
    "invalid MAVLink CRC"                  -> bad_crc
    "Invalid signature" (bad hash)         -> bad_signature
    "Invalid signature" (old timestamp)    -> replayed    (pymavlink gives one message for both)
    "Invalid signature" (unsigned, key)    -> unsigned    (only when signing is required)
    a message pymavlink decodes that Skygate does not map -> unknown_message (skipped, counted)
    bytes pymavlink is still waiting for at the end       -> truncated

Needs pymavlink:  python3 -m venv /tmp/venv-mav && /tmp/venv-mav/bin/pip install pymavlink
Run from the repository root:  /tmp/venv-mav/bin/python Scripts/make_mavlink_vectors.py
The output is deterministic: running it again gives the same file byte for byte.
"""
import json
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("MAVLINK20", "1")
from pymavlink.dialects.v10 import common as v1  # noqa: E402
from pymavlink.dialects.v20 import common as v2  # noqa: E402
import importlib.metadata  # noqa: E402

OUT = Path("Fixtures/mavlink/vectors.json")
MAPPED = {0, 1, 24, 30, 33, 147}
KEY = bytes(range(1, 33))  # the 32-byte secret of system 7 in the signed vectors
SIGNED_SYSTEM = 7
TIMESTAMP0 = 0x0000_1234_5678_9A  # 10 µs units since 2015-01-01, 48 bits


class Sink:
    def write(self, _):
        pass


def encoder(dialect, system=1, component=1, seq=0, signed=False, link=0, timestamp=TIMESTAMP0):
    mav = dialect.MAVLink(Sink(), srcSystem=system, srcComponent=component)
    mav.seq = seq
    if signed:
        mav.signing.secret_key = KEY
        mav.signing.sign_outgoing = True
        mav.signing.link_id = link
        mav.signing.timestamp = timestamp
    return mav


def messages(d, i=0):
    """One message of each mapped type; i varies the values, including signed extremes."""
    return {
        "HEARTBEAT": d.MAVLink_heartbeat_message(2, 3, 0x80 | 0x1D, 4 + i, 4, 3),
        "SYS_STATUS": d.MAVLink_sys_status_message(
            0x3FFF, 0x3FFF, 0x3FFF, 250, 16_200 - i, -1 if i % 2 else 1_250, 87 - i, 0, 0, 0, 0, 0, 0,
            *([7, 7, 5] if d is v2 else [])),
        "GPS_RAW_INT": d.MAVLink_gps_raw_int_message(
            1_700_000_000_000_000 + i, 3 + i % 3, 473_977_123 + i, 85_456_789 - i, 452_000, 80, 120, 1_250, 9_000,
            14 + i, *([452_500, 900, 1_500, 30, 100, 4_500] if d is v2 else [])),
        "ATTITUDE": d.MAVLink_attitude_message(123_456 + i, 0.05, -0.1, -2.5 + i * 0.25, 0.001, 0.002, -0.003),
        "GLOBAL_POSITION_INT": d.MAVLink_global_position_int_message(
            123_456 + 100 * i, 473_977_123 + 17 * i, 85_456_789 - 23 * i, 452_000 + i, 12_000, 120 - i, -340 + i,
            -15, (9_000 + 311 * i) % 36_000),
        "BATTERY_STATUS": d.MAVLink_battery_status_message(
            0, 1, 3, 2_150, [4_100, 4_101, 4_099, 4_098] + [65_535] * 6, 1_530, 1_234, 5_678, 81 - i,
            *([600, 2 if i else 1, [0, 0, 0, 0], 0, 0] if d is v2 else [])),
    }


def pack(mav, msg, force_v1=False):
    data = bytes(msg.pack(mav, force_mavlink1=force_v1))
    mav.seq = (mav.seq + 1) % 256
    return data


def jsonable(value):
    if isinstance(value, float):
        return struct.unpack("<I", struct.pack("<f", value))[0]  # floats by bit pattern: exact
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def parse(data, key=None):
    """Every message a fresh pymavlink parser (robust parsing) makes of `data`, and whether bytes
    were left waiting for the rest of a frame. With a key, signing is strict: no
    allow_unsigned_callback, so unsigned and badly signed frames are refused."""
    mav = v2.MAVLink(None)
    mav.robust_parsing = True
    if key is not None:
        mav.signing.secret_key = key
    out = []
    m = mav.parse_char(data)
    while m is not None:
        out.append(m)
        m = mav.parse_char(b"")
    return out, mav.buf_len() > 0


def decode(data, key=None, require_signing=False):
    """What pymavlink makes of one datagram, as the units the Swift decoder reports.

    pymavlink has one key per parser and no notion of keys per system, and its
    allow_unsigned_callback also lets badly signed frames through; Skygate keeps keys per system
    and never accepts a bad signature. So the datagram goes through two parsers, one with the
    key (strict) and one without, whose framing is identical: frames from the keyed system take
    the strict parser's verdict (an unsigned frame is accepted, as the keyless parser decoded it,
    unless signing is required), all others the keyless parser's.
    """
    if not data:
        return [{"rejected": "truncated"}]  # pymavlink sees nothing; Skygate counts the datagram
    plain, truncated = parse(data)
    strict, _ = parse(data, key) if key is not None else (plain, truncated)
    assert len(plain) == len(strict)
    accepted_stamps = {}
    units = []
    for loose, tight in zip(plain, strict):
        buf = bytes(loose.get_msgbuf()) if loose.get_type() != "BAD_DATA" else bytes(loose.data)
        is_v2 = buf[0] == 0xFD
        system = buf[5] if is_v2 else (buf[3] if len(buf) > 3 else None)
        if key is None or system != SIGNED_SYSTEM or loose.get_type() == "BAD_DATA":
            units.append(unit(loose))
            continue
        signed = is_v2 and bool(buf[2] & 1)
        if tight.get_type() != "BAD_DATA":
            u = unit(tight)
            if signed:
                accepted_stamps[(buf[-13], buf[5], buf[6])] = u["frame"]["signatureTimestamp"]
            units.append(u)
        elif tight.reason != "Invalid signature":
            units.append(unit(tight))
        elif not signed:
            units.append({"rejected": "unsigned"} if require_signing else unit(loose))
        else:
            tlow, thigh = struct.unpack("<IH", buf[-12:-6])
            old = accepted_stamps.get((buf[-13], buf[5], buf[6]))
            units.append({"rejected": "replayed" if old is not None and tlow + (thigh << 32) <= old else "bad_signature"})
    if truncated:
        units.append({"rejected": "truncated"})
    return units


def unit(m):
    if m.get_type() == "BAD_DATA":
        reason = m.reason
        if reason.startswith("Bad prefix"):
            return {"rejected": "bad_magic"}
        if reason.startswith("invalid incompat_flags"):
            return {"rejected": "unknown_flags"}
        if reason.startswith("invalid MAVLink CRC"):
            return {"rejected": "bad_crc"}
        raise SystemExit(f"unmapped pymavlink rejection: {reason}")
    header = m.get_header()
    if header.msgId not in MAPPED:
        return {"rejected": "unknown_message", "pymavlink": m.get_type()}
    buf = bytes(m.get_msgbuf())
    signed = buf[0] == 0xFD and bool(buf[2] & 1)
    frame = {
        "version": 1 if buf[0] == 0xFE else 2, "sequence": header.seq, "system": header.srcSystem,
        "component": header.srcComponent, "message": header.msgId, "name": m.get_type(),
        "payloadLength": header.mlen, "length": len(buf), "signed": signed,
        "fields": {k: jsonable(v) for k, v in m.to_dict().items() if k != "mavpackettype"},
    }
    if signed:
        tlow, thigh = struct.unpack("<IH", buf[-12:-6])
        frame["linkID"] = buf[-13]
        frame["signatureTimestamp"] = tlow + (thigh << 32)
    return {"frame": frame}


def flip(data, index, mask=0x01):
    b = bytearray(data)
    b[index] ^= mask
    return bytes(b)


def main():
    vectors = []

    def add(name, data, note, key=None, require_signing=False):
        v = {"name": name, "note": note, "hex": data.hex(), "units": decode(data, key, require_signing)}
        if key is not None:
            v["key"] = {"system": SIGNED_SYSTEM, "hex": key.hex(), "requireSigning": require_signing}
        vectors.append(v)

    # One frame of each mapped message, MAVLink 1 (v1.0 dialect: base fields only) and 2.
    for i, name in enumerate(messages(v1)):
        add(f"v1-{name.lower()}", pack(encoder(v1, seq=10 + i), messages(v1, i)[name]), f"MAVLink 1 {name}")
        add(f"v2-{name.lower()}", pack(encoder(v2, seq=20 + i), messages(v2, i)[name]), f"MAVLink 2 {name}")

    # MAVLink 2 payload truncation: trailing zero bytes are not sent and read back as zero.
    add("v2-global_position_int-truncated-payload",
        pack(encoder(v2, system=3), v2.MAVLink_global_position_int_message(5_000, 473_977_000, 85_456_000, 0, 0, 0, 0, 0, 0)),
        "heading, velocities and altitudes zero: pymavlink sends 12 of 28 payload bytes")
    add("v2-sys_status-base-only",
        pack(encoder(v2, system=3), v2.MAVLink_sys_status_message(1, 1, 1, 0, 15_000, 0, 0, 0, 0, 0, 0, 0, 0)),
        "extensions and battery_remaining zero: the payload ends before them")
    add("v2-heartbeat-one-byte",
        pack(encoder(v2, system=3), v2.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 0)),
        "an all-zero payload keeps one byte (MAVLink 2 never sends an empty payload)")
    add("v2-battery_status-extensions",
        pack(encoder(v2, system=4), v2.MAVLink_battery_status_message(
            0, 1, 3, 2_150, [3_900] * 10, 4_400, 2_500, 9_000, 15, 240, 3, [3_901, 3_902, 0, 0], 1, 0)),
        "14 cells (10 + 2 extension cells) and a critical charge state")
    add("v2-global_position_int-heading-unknown",
        pack(encoder(v2, system=4), v2.MAVLink_global_position_int_message(
            9_000, -338_688_000, 1_512_093_000, -12_000, 500, -32_768, 32_767, 100, 65_535)),
        "southern and eastern hemisphere, extreme velocities, heading UINT16_MAX (unknown)")
    # pymavlink's v2.0 dialect with force_mavlink1 sends the extension fields in a MAVLink 1 frame.
    add("v1-gps_raw_int-from-v2-dialect",
        pack(encoder(v2, system=5), messages(v2, 1)["GPS_RAW_INT"], force_v1=True),
        "a MAVLink 1 frame longer than the base fields: the extra bytes are read like MAVLink 2 extensions")

    # Several frames in one datagram, both versions, several systems and components.
    stream = b""
    for s in (1, 2, 3):
        e1, e2 = encoder(v1, system=s, seq=200 + s), encoder(v2, system=s, seq=100 + s)
        stream += pack(e2, messages(v2, s)["HEARTBEAT"]) + pack(e1, messages(v1, s)["SYS_STATUS"])
        stream += pack(e2, messages(v2, s)["GLOBAL_POSITION_INT"]) + pack(e1, messages(v1, s)["GLOBAL_POSITION_INT"])
    stream += pack(encoder(v2, system=1, component=191), messages(v2, 9)["GLOBAL_POSITION_INT"])
    add("mixed-datagram", stream, "12 frames from 3 systems, MAVLink 1 and 2 interleaved, then a position from component 191")

    # Garbage before, between and after frames: skipped to the next start byte, one unit a run.
    a = pack(encoder(v2, system=8), messages(v2, 2)["GLOBAL_POSITION_INT"])
    b = pack(encoder(v1, system=8, seq=1), messages(v1, 3)["GLOBAL_POSITION_INT"])
    add("garbage-between-frames", a + b"\x00\x11\x22" + b + b"\x55\xaa", "a frame, 3 garbage bytes, a frame, 2 garbage bytes")

    # Damage: the CRC check catches it, and the frame is skipped by its length.
    good = pack(encoder(v2, system=9), messages(v2, 4)["GLOBAL_POSITION_INT"])
    nxt = pack(encoder(v2, system=9, seq=1), messages(v2, 5)["GLOBAL_POSITION_INT"])
    add("v2-bad-crc-payload", flip(good, 14) + nxt, "a payload bit flipped, then an intact frame")
    add("v2-bad-crc-field", flip(good, len(good) - 1, 0x80) + nxt, "the CRC's high byte damaged, then an intact frame")
    g1 = pack(encoder(v1, system=9), messages(v1, 4)["HEARTBEAT"])
    add("v1-bad-crc-sequence", flip(g1, 2), "MAVLink 1, the sequence byte damaged")
    add("v2-bad-crc-message-id-mapped",
        flip(pack(encoder(v2, system=9), messages(v2, 1)["ATTITUDE"]), 7, 0x3F),
        "message id 30 damaged into 33 (also mapped): the CRC_EXTRA and CRC disagree")

    # Truncation: a frame cut short at the end of the datagram.
    add("v2-truncated-frame", good[:-3], "the last 3 bytes missing")
    add("v1-truncated-header", b"\xfe", "a lone MAVLink 1 start byte")
    add("intact-then-truncated", good + nxt[:20], "an intact frame, then half a frame")

    # Messages the gateway does not map: counted and skipped without a CRC check.
    add("v2-unmapped-statustext",
        pack(encoder(v2, system=1), v2.MAVLink_statustext_message(6, b"hello from the autopilot")) + good,
        "STATUSTEXT (253) then a mapped frame")
    add("v1-unmapped-sys_time",
        pack(encoder(v1, system=1), v1.MAVLink_system_time_message(1_700_000_000_000_000, 1_000)),
        "SYSTEM_TIME (2), MAVLink 1")
    unknown = bytearray(pack(encoder(v2, system=1), messages(v2)["HEARTBEAT"]))
    unknown[7:10] = (0x7A, 0x56, 0x04)  # message id 284282, in no dialect
    add("v2-unknown-id", bytes(unknown) + good, "a message id no dialect defines, then a mapped frame")

    # Incompatibility flags: only 0x01 (signed) is defined.
    bad_flags = bytearray(good)
    bad_flags[2] = 0x02
    add("v2-unknown-incompat-flag", bytes(bad_flags) + nxt, "incompatibility flag 0x02, then an intact frame")

    # Signing (system 7 holds KEY).
    sig = encoder(v2, system=SIGNED_SYSTEM, signed=True, link=3)
    s1 = pack(sig, messages(v2, 1)["GLOBAL_POSITION_INT"])
    s2 = pack(sig, messages(v2, 2)["HEARTBEAT"])
    s3 = pack(sig, messages(v2, 3)["GLOBAL_POSITION_INT"])
    add("signed-valid", s1 + s2 + s3, "three signed frames, rising timestamps", key=KEY)
    add("signed-no-key", s1, "a signed frame where no key is configured: accepted unchecked")
    add("signed-bad-signature", flip(s1, len(s1) - 1) + s2, "the last signature byte damaged", key=KEY)
    forged = encoder(v2, system=SIGNED_SYSTEM, signed=True, link=3, timestamp=TIMESTAMP0 + 50)
    forged.signing.secret_key = bytes(32)
    add("signed-wrong-key", pack(forged, messages(v2, 4)["GLOBAL_POSITION_INT"]), "signed with another key", key=KEY)
    add("signed-replayed", s1 + s2 + s1, "the first frame sent again: its timestamp does not rise", key=KEY)
    other_link = encoder(v2, system=SIGNED_SYSTEM, signed=True, link=4, timestamp=TIMESTAMP0)
    add("signed-two-links", s1 + pack(other_link, messages(v2, 5)["GLOBAL_POSITION_INT"]),
        "the same timestamp on another link id is another stream", key=KEY)
    unsigned = pack(encoder(v2, system=SIGNED_SYSTEM), messages(v2, 6)["GLOBAL_POSITION_INT"])
    add("unsigned-signing-required", unsigned, "unsigned from a system with a key, signing required", key=KEY,
        require_signing=True)
    add("unsigned-signing-optional", unsigned, "unsigned from a system with a key, signing not required", key=KEY)
    add("unsigned-other-system-required",
        pack(encoder(v2, system=2), messages(v2, 6)["GLOBAL_POSITION_INT"]),
        "signing is required only of systems that have keys", key=KEY, require_signing=True)

    add("empty", b"", "an empty datagram")
    # The declared length (40) says the frame is longer than what arrived: truncated, never read.
    add("v2-length-beyond-datagram", bytes([0xFD, 0xFF]) + bytes(20), "length 255, 22 bytes present")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "MAVLink golden vectors made by Scripts/make_mavlink_vectors.py with pymavlink "
                 + importlib.metadata.version("pymavlink")
                 + "; each datagram's units are what pymavlink decoded (floats as IEEE 754 bit patterns)",
        "vectors": vectors,
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(vectors)} vectors to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
