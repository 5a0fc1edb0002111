#!/usr/bin/env python3
"""Positions in a flight log as the reference readers see them, for the tests
(Tests/FlightRecordingTests/AutopilotLogTests.swift) and Scripts/measure-log-parse.sh.

Usage: reference_positions.py FILE        prints one JSON object:
  {"reader": ..., "count": N, "first": {"t_us", "lat", "lon", "alt_mm"}, "last": {...}}

- .ulg: pyulog. Positions are `vehicle_global_position` (instance 0) when logged, else
  `vehicle_gps_position` / `sensor_gps` (instance 0); times are the GPS's `time_utc_usec`
  (for fused positions, boot time plus the first GPS UTC offset).
- .bin: pymavlink's DFReader. Positions are GPS records of instance 0; times come from the
  record's GPS week and milliseconds, less the GPS-UTC leap seconds (18 s since 2017).
- pcap / pcapng: the capture's UDP payloads (a small standard-library container reader), framed
  and CRC-checked by pymavlink (one parser per flow, robust parsing); positions are
  GLOBAL_POSITION_INT from component 1, stamped with the packet's capture time.
"""
import json
import struct
import sys

LEAPS = [(362793600, 1), (394329600, 2), (425865600, 3), (489024000, 4), (567993600, 5), (631152000, 6),
         (662688000, 7), (709948800, 8), (741484800, 9), (773020800, 10), (820454400, 11), (867715200, 12),
         (915148800, 13), (1136073600, 14), (1230768000, 15), (1341100800, 16), (1435708800, 17), (1483228800, 18)]


def gps_to_utc_us(week, ms):
    gps_ms = (315964800 + week * 604800) * 1000 + ms
    leap = 0
    for start, offset in LEAPS:
        if gps_ms // 1000 >= start + offset:
            leap = offset
    return (gps_ms - leap * 1000) * 1000


def point(t_us, lat, lon, alt_mm):
    return {"t_us": int(t_us), "lat": int(lat), "lon": int(lon), "alt_mm": int(alt_mm)}


def ulog(path):
    from pyulog import ULog
    log = ULog(path)
    by_name = {}
    for d in log.data_list:
        if d.multi_id == 0:
            by_name[d.name] = d
    gps = by_name.get("vehicle_gps_position") or by_name.get("sensor_gps")
    offset = None
    if gps is not None:
        for boot, utc in zip(gps.data["timestamp"], gps.data["time_utc_usec"]):
            if utc > 0:
                offset = int(utc) - int(boot)
                break
    points = []
    fused = by_name.get("vehicle_global_position")
    if fused is not None and len(fused.data["timestamp"]) > 0:
        d = fused.data
        for i in range(len(d["timestamp"])):
            points.append(point(int(d["timestamp"][i]) + (offset or 0), round(d["lat"][i] * 1e7), round(d["lon"][i] * 1e7),
                                round(d["alt"][i] * 1000)))
    elif gps is not None:
        d = gps.data
        for i in range(len(d["timestamp"])):
            utc = int(d["time_utc_usec"][i])
            t = utc if utc > 0 else int(d["timestamp"][i]) + (offset or 0)
            if "lat" in d:
                points.append(point(t, d["lat"][i], d["lon"][i], d["alt"][i]))
            else:
                points.append(point(t, round(d["latitude_deg"][i] * 1e7), round(d["longitude_deg"][i] * 1e7),
                                    round(d["altitude_msl_m"][i] * 1000)))
    points.sort(key=lambda p: p["t_us"])
    return "pyulog", points


def dataflash(path):
    from pymavlink import DFReader
    log = DFReader.DFReader_binary(path)
    points = []
    offset = None
    pending = []
    while True:
        m = log.recv_match(type=["GPS"])
        if m is None:
            break
        fields = m.get_fieldnames()
        if "I" in fields and m.I != 0:
            continue
        week = getattr(m, "GWk", getattr(m, "Week", 0))
        ms = getattr(m, "GMS", 0)
        boot = getattr(m, "TimeUS", 0)
        lat = round(m.Lat * 1e7)
        lon = round(m.Lng * 1e7)
        alt = round(m.Alt * 1000)
        if week > 0:
            t = gps_to_utc_us(week, ms)
            offset = t - boot
            points.append(point(t, lat, lon, alt))
        else:
            pending.append((boot, lat, lon, alt))
    for boot, lat, lon, alt in pending:
        points.append(point(boot + (offset or 0), lat, lon, alt))
    points.sort(key=lambda p: p["t_us"])
    return "pymavlink DFReader", points


def capture_packets(data):
    """(time ns, link type, frame bytes) for each packet of a pcap or pcapng file."""
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1):
        e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        ns = magic in (0xA1B23C4D, 0x4D3CB2A1)
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
            yield sec * 10**9 + (frac if ns else frac * 1000), link, data[off + 16:off + 16 + incl]
            off += 16 + incl
        return
    off, e, ifaces = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack("<I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if struct.unpack("<I", data[off + 8:off + 12])[0] == 0x1A2B3C4D else ">"
            ifaces = []
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            link = struct.unpack(e + "H", body[:2])[0]
            res, o = 6, 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + "HH", body[o:o + 4])
                if code == 0:
                    break
                if code == 9:
                    res = body[o + 4]
                o += 4 + (olen + 3) // 4 * 4
            ifaces.append((link, res))
        elif btype == 6:
            iface, hi, lo, cap, _ = struct.unpack(e + "IIIII", body[:20])
            link, res = ifaces[iface]
            ts = (hi << 32) | lo
            t = ts * 10**9 // (2 ** (res & 0x7F)) if res & 0x80 else ts * 10**9 // 10**res
            yield t, link, body[20:20 + cap]
        off += blen


def udp_payload(link, frame):
    """(flow, payload) of an unfragmented UDP datagram, or None."""
    if link in (0, 108):
        fam = struct.unpack("<I", frame[:4])[0]
        if fam > 0xFFFF:
            fam = struct.unpack(">I", frame[:4])[0]
        ip = frame[4:]
    elif link == 1:
        et, off = struct.unpack(">H", frame[12:14])[0], 14
        while et in (0x8100, 0x88A8):
            et, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
        ip = frame[off:]
    elif link == 113:
        ip = frame[16:]
    elif link == 276:
        ip = frame[20:]
    else:
        ip = frame
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            return None
        src, dst, udp = ip[12:16], ip[16:20], ip[ihl:struct.unpack(">H", ip[2:4])[0]]
    elif ip[0] >> 4 == 6:
        if ip[6] != 17:
            return None
        src, dst, udp = ip[8:24], ip[24:40], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
    else:
        return None
    length = struct.unpack(">H", udp[4:6])[0]
    return (src, udp[0:2], dst, udp[2:4]), udp[8:length]


def capture(path):
    from pymavlink.dialects.v20 import ardupilotmega as mavlink
    data = open(path, "rb").read()
    parsers = {}
    points = []
    for t, link, frame in capture_packets(data):
        found = udp_payload(link, frame)
        if found is None:
            continue
        flow, payload = found
        parser = parsers.get(flow)
        if parser is None:
            parser = parsers[flow] = mavlink.MAVLink(None)
            parser.robust_parsing = True
        for m in parser.parse_buffer(payload) or []:
            if m.get_type() == "GLOBAL_POSITION_INT" and m.get_srcComponent() == 1:
                points.append(point(t // 1000, m.lat, m.lon, m.alt))
    return "pymavlink", points


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"ULog"):
        reader, points = ulog(path)
    elif head[:3] == b"\xa3\x95\x80":
        reader, points = dataflash(path)
    else:
        reader, points = capture(path)
    print(json.dumps({"reader": reader, "count": len(points), "first": points[0] if points else None,
                      "last": points[-1] if points else None}))


if __name__ == "__main__":
    main()
