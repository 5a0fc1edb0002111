#!/usr/bin/env python3
"""Seek to map in headless Chromium (docs/performance.md, "Flight review API"): opens /review on a
running gateway, then moves the slider to SEEKS random points of the stored range and times each,
in the page, from the slider's input event to the frame whose map shows the new instant's fleet
(the same measure as Scripts/review-browser-test.sh). Prints each seek and the median/p90/max.

    python3 Scripts/measure-review-seek.py http://127.0.0.1:PORT [SEEKS]   (default 30)
"""
import os, random, shutil, statistics, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp_browser import Browser

base, seeks = sys.argv[1].rstrip("/"), int(sys.argv[2]) if len(sys.argv) > 2 else 30
binary = shutil.which("chromium") or shutil.which("chromium-browser")
if not binary: sys.exit("needs chromium")
browser = Browser(binary, open(os.path.join(tempfile.mkdtemp(), "chromium.log"), "w"))
try:
    browser.open(base + "/review")
    ready = "(() => { const m = document.getElementById('map'); return m.getAttribute('data-at') !== null && m.getAttribute('data-at') === document.body.getAttribute('data-at'); })()"
    if not browser.wait_for(ready, 60): sys.exit("the review page never drew the fleet at its cursor")
    random.seed(7)
    times, drones = [], []
    for _ in range(seeks):
        fraction = random.random()
        shown = browser.evaluate("""new Promise(done => {
          const slider = document.getElementById('slider'), map = document.getElementById('map'), t0 = performance.now();
          slider.value = String(Math.round(Number(slider.max) * %f)); slider.dispatchEvent(new Event('input', {bubbles: true}));
          const want = document.body.getAttribute('data-at');
          const poll = () => map.getAttribute('data-at') === want
            ? done({ms: performance.now() - t0, drones: Number(map.getAttribute('data-drones'))})
            : (performance.now() - t0 > 20000 ? done(null) : requestAnimationFrame(poll));
          poll(); })""" % fraction, timeout=60)
        if shown is None: sys.exit(f"seek to {fraction:.3f}: the map never showed the instant")
        times.append(shown["ms"]); drones.append(shown["drones"])
        print(f"seek to {fraction:.3f} of the range: {shown['ms']:.0f} ms, {shown['drones']} drones")
    errors = [line for line in browser.console() if "error" in line.lower()]
finally:
    browser.close()
times.sort()
print(f"seek to map updated: median {statistics.median(times):.0f} ms, p90 {times[int(len(times) * 0.9)]:.0f} ms, max {times[-1]:.0f} ms "
      f"over {len(times)} seeks ({statistics.median(drones):.0f} drones a frame, median); console errors: {len(errors)}")
for line in errors[:5]: print("  " + line)
