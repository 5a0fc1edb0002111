#!/usr/bin/env python3
"""Stream MAVLink from several simulated vehicles to a UDP port with pymavlink, and say what was sent.

Used by Tests/GatewayTests/GatewayMAVLinkEndToEndTests.swift against a real gateway, and usable by
hand against `skygate serve`. Every frame is encoded by pymavlink (the MAVLink project's reference
implementation), never by Skygate's own encoder, so the gateway is tested against an outside
sender. Deterministic for a given --seed.

Each vehicle (system ids 1..N, component 1) sends MAVLink 2 or MAVLink 1 (odd systems MAVLink 2,
even MAVLink 1, and every fifth datagram of a vehicle in the other version), several frames per
datagram: HEARTBEAT, SYS_STATUS, GPS_RAW_INT, ATTITUDE and BATTERY_STATUS now and then, and one to
three GLOBAL_POSITION_INT. Some datagrams are damaged: one payload byte of one GLOBAL_POSITION_INT
is flipped, so that frame fails its CRC and the frames around it still arrive. Some datagrams
also carry a frame from another component (a gimbal, 154) and an unmapped message (STATUSTEXT).

The JSON written to --out (or stdout) lists every intact GLOBAL_POSITION_INT of component 1
(system, lat, lon, alt, time_boot_ms), and the counts of datagrams, frames, intact frames of
component 1 (mapped messages), damaged frames, other-component frames and unmapped frames.

usage: mavlink_sender.py --port PORT [--host 127.0.0.1] [--vehicles 6] [--datagrams 150] [--seed 1]
                         [--corrupt-percent 10] [--out FILE]
"""
import argparse
import json
import os
import random
import socket
import sys
import time

os.environ.setdefault("MAVLINK20", "1")
from pymavlink.dialects.v10 import common as v1  # noqa: E402
from pymavlink.dialects.v20 import common as v2  # noqa: E402


class Vehicle:
    def __init__(self, system, rng):
        self.system = system
        self.rng = rng
        # One MAVLink sequence per (system, component), shared by both versions, as an autopilot has.
        self.seq = 0
        self.gimbal_seq = 0
        self.boot_ms = 60_000 + system * 1_000
        self.lat = 473_977_000 + system * 10_000
        self.lon = 85_456_000 - system * 10_000
        self.alt = 450_000 + system * 1_000

    def frame(self, dialect, message, component=1):
        mav = dialect.MAVLink(None, srcSystem=self.system, srcComponent=component)
        if component == 1:
            mav.seq = self.seq
            self.seq = (self.seq + 1) % 256
        else:
            mav.seq = self.gimbal_seq
            self.gimbal_seq = (self.gimbal_seq + 1) % 256
        return bytes(message.pack(mav, force_mavlink1=False))

    def position(self, dialect):
        self.boot_ms += 100
        self.lat += self.rng.randint(-200, 200)
        self.lon += self.rng.randint(-200, 200)
        self.alt += self.rng.randint(-50, 50)
        hdg = self.rng.choice([self.rng.randint(0, 35_999), 65_535])
        msg = dialect.MAVLink_global_position_int_message(
            self.boot_ms, self.lat, self.lon, self.alt, self.alt - 440_000, self.rng.randint(-500, 500),
            self.rng.randint(-500, 500), self.rng.randint(-100, 100), hdg)
        return msg, {"system": self.system, "lat": self.lat, "lon": self.lon, "alt": self.alt, "time_boot_ms": self.boot_ms}


def state_messages(d, vehicle, rng):
    ext = d is v2
    return [
        d.MAVLink_heartbeat_message(2, 3, 0x81, rng.choice([5, 6, 9]), rng.choice([3, 4]), 3),
        d.MAVLink_sys_status_message(1, 1, 1, 100, rng.randint(14_000, 16_800), -1, rng.randint(10, 100), 0, 0, 0, 0, 0, 0,
                                     *([0, 0, 0] if ext else [])),
        d.MAVLink_gps_raw_int_message(vehicle.boot_ms * 1_000, 3, vehicle.lat, vehicle.lon, vehicle.alt, 80, 120, 500, 9_000,
                                      rng.randint(6, 20), *([0, 0, 0, 0, 0, 0] if ext else [])),
        d.MAVLink_attitude_message(vehicle.boot_ms, 0.01, -0.02, rng.uniform(-3.1, 3.1), 0, 0, 0),
        d.MAVLink_battery_status_message(0, 1, 3, 2_000, [4_000] * 4 + [65_535] * 6, 1_000, 100, 200, rng.randint(10, 100),
                                         *([0, rng.choice([1, 2]), [0, 0, 0, 0], 0, 0] if ext else [])),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--vehicles", type=int, default=6)
    parser.add_argument("--datagrams", type=int, default=150, help="datagrams per vehicle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corrupt-percent", type=float, default=10)
    parser.add_argument("--out")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vehicles = [Vehicle(s, rng) for s in range(1, args.vehicles + 1)]
    counts = {"datagrams": 0, "frames": 0, "intact_autopilot_frames": 0, "corrupted_frames": 0,
              "other_component_frames": 0, "unmapped_frames": 0}
    positions = []
    datagrams = []
    for index in range(args.datagrams):
        for vehicle in vehicles:
            use_v2 = (vehicle.system % 2 == 1) != (index % 5 == 4)
            d = v2 if use_v2 else v1
            frames = []  # (bytes, kind, position or None)
            if index % 4 == 0:
                for message in state_messages(d, vehicle, rng):
                    frames.append((vehicle.frame(d, message), "state", None))
            for _ in range(rng.randint(1, 3)):
                message, position = vehicle.position(d)
                frames.append((vehicle.frame(d, message), "position", position))
            if index % 10 == 3:
                gimbal = d.MAVLink_attitude_message(vehicle.boot_ms, 0, 0, 0, 0, 0, 0)
                frames.append((vehicle.frame(d, gimbal, component=154), "other", None))
            if index % 15 == 7:
                text = d.MAVLink_statustext_message(6, b"skygate e2e")
                frames.append((vehicle.frame(d, text), "unmapped", None))
            # Damage one position frame now and then: a payload byte flipped, so its CRC fails.
            if rng.uniform(0, 100) < args.corrupt_percent:
                candidates = [i for i, f in enumerate(frames) if f[1] == "position"]
                victim = rng.choice(candidates)
                data = bytearray(frames[victim][0])
                header = 10 if data[0] == 0xFD else 6
                data[header + rng.randrange(data[1])] ^= 1 << rng.randrange(8)
                frames[victim] = (bytes(data), "corrupted", None)
            for data, kind, position in frames:
                counts["frames"] += 1
                if kind in ("state", "position"):
                    counts["intact_autopilot_frames"] += 1
                elif kind == "corrupted":
                    counts["corrupted_frames"] += 1
                elif kind == "other":
                    counts["other_component_frames"] += 1
                else:
                    counts["unmapped_frames"] += 1
                if position is not None:
                    positions.append(position)
            datagrams.append(b"".join(f[0] for f in frames))
    counts["datagrams"] = len(datagrams)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        for number, datagram in enumerate(datagrams):
            sock.sendto(datagram, (args.host, args.port))
            if number % 64 == 63:
                time.sleep(0.001)  # stay well inside the receiver's socket buffer
    report = {"counts": counts, "positions": positions}
    text = json.dumps(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
