#!/usr/bin/env python3
# Usage: Scripts/make-dense-capture.py OUT.pcap SECONDS SYSTEMS   (needs pymavlink)
# For docs/performance.md, "Autopilot logs and captures": `replay --db` of a capture whose datagrams
# are mostly positions, so its positions/s can be set against the SQLite limit (the real captures
# carry one position per ~12 datagrams).
# A dense MAVLink 2 capture: SYSTEMS autopilots (component 1) each sending GLOBAL_POSITION_INT at
# 10 Hz for SECONDS, one frame per UDP datagram, Ethernet/IPv4/UDP in a classic pcap (µs).
import struct, sys, time
from pymavlink.dialects.v20 import common as mav
out, seconds, systems = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = int(time.time()) - seconds - 60
class W:  # pymavlink needs a file-like object
    def write(self, b): pass
links = {}
for s in range(1, systems + 1):
    m = mav.MAVLink(W(), srcSystem=s, srcComponent=1); m.robust_parsing = False
    links[s] = m
def ip_checksum(h):
    total = sum(struct.unpack("!10H", h))
    while total >> 16: total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for tick in range(seconds * 10):
        for s in range(1, systems + 1):
            t_ms = tick * 100
            msg = mav.MAVLink_global_position_int_message(t_ms, 473977000 + s * 1000 + tick, 85456000 + tick * 2, 500000, 20000, 150, -20, 0, 9000)
            links[s].seq = tick % 256  # (pymavlink advances seq only in send())
            payload = msg.pack(links[s])
            udp = struct.pack("!HHHH", 14550, 14550, 8 + len(payload), 0) + payload
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, bytes([10, 1, s >> 8, s & 255]), bytes([10, 0, 0, 1]))
            iph = iph[:10] + struct.pack("!H", ip_checksum(iph)) + iph[12:]
            frame = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + iph + udp
            usec = (tick * 100_000 + s * 50) 
            f.write(struct.pack("<IIII", start + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
