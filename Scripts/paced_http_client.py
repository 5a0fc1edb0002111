#!/usr/bin/env python3
# Paced HTTP GETs (wrk has no wrk2-style pacing): RATE requests/s over 4 keep-alive connections,
# alternating / and /api/drones; latency is measured from each request's scheduled time, so a
# stalled server is not hidden. Usage: paced_http_client.py HOST PORT RATE SECONDS
import http.client, sys, threading, time
host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
paths = ["/", "/api/drones"]
threads = 4
lat = {p: [] for p in paths}; late = [0]
lock = threading.Lock()
def worker(k):
    c = http.client.HTTPConnection(host, port)
    interval = threads / rate; start = time.perf_counter() + k * interval / threads; n = 0
    while True:
        due = start + n * interval
        if due - start > seconds: break
        now = time.perf_counter()
        if due > now: time.sleep(due - now)
        p = paths[(n + k) % 2]
        t0 = time.perf_counter(); c.request("GET", p); r = c.getresponse(); r.read(); t1 = time.perf_counter()
        # Latency from the scheduled send time, so a stalled server is not hidden (no coordinated omission).
        with lock: lat[p].append(t1 - min(due, t0))
        n += 1
ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
t0 = time.perf_counter(); [t.start() for t in ts]; [t.join() for t in ts]; el = time.perf_counter() - t0
total = sum(len(v) for v in lat.values())
print(f"paced: {total/el:.0f} req/s achieved over {el:.1f} s (target {rate:.0f})")
for p, v in lat.items():
    v.sort(); q = lambda f: v[min(len(v)-1, int(f*len(v)))] * 1000
    print(f"  {p}: n={len(v)} p50 {q(.5):.2f} ms p90 {q(.9):.2f} ms p99 {q(.99):.2f} ms max {v[-1]*1000:.2f} ms")
