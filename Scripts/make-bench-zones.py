#!/usr/bin/env python3
"""Writes Fixtures/zones/bench100.geojson: the 100 keep-out zones the ZoneEvaluation benchmark
builds in code (Benchmarks/Benchmarks/ZoneEvaluation), as a zone file for `skygate bench --zones`
(Scripts/measure-webhook-ingest.sh). Same seeded xorshift32 and the same recipe: every third zone
a circle of 80 m, the others 12-vertex polygons 60-85 m from their centre, spread over 9 km
around the simulator's area centre (FlightArea.standard).

    python3 Scripts/make-bench-zones.py > Fixtures/zones/bench100.geojson
"""
import json
import math

CENTRE = (47.397742, 8.545594)
METRES_PER_DEGREE = 111319.49


class Unit:
    """xorshift32 mapped to [0, 1], as the benchmark's `Unit`."""

    def __init__(self, state):
        self.state = state

    def next(self):
        s = self.state
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.state = s
        return s / 0xFFFFFFFF


def zones(count):
    random = Unit(0x2468ACE1)
    east_scale = math.cos(CENTRE[0] * math.pi / 180)
    features = []
    for index in range(count):
        north = (random.next() - 0.5) * 9000
        east = (random.next() - 0.5) * 9000
        lat = CENTRE[0] + north / METRES_PER_DEGREE
        lon = CENTRE[1] + east / (METRES_PER_DEGREE * east_scale)
        if index % 3 == 0:
            features.append({"type": "Feature", "properties": {"name": f"c{index}", "kind": "keep-out", "radius_m": 80},
                             "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}})
            continue
        ring = []
        for corner in range(12):
            angle = corner / 12 * 2 * math.pi
            radius = 60 + 25 * random.next()
            ring.append([round(lon + radius * math.cos(angle) / (METRES_PER_DEGREE * east_scale), 7),
                         round(lat + radius * math.sin(angle) / METRES_PER_DEGREE, 7)])
        ring.append(ring[0])
        features.append({"type": "Feature", "properties": {"name": f"p{index}", "kind": "keep-out"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features}


if __name__ == "__main__":
    print(json.dumps(zones(100), indent=None, separators=(",", ":")))
