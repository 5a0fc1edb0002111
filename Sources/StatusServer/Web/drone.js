const parts = location.pathname.split("/").filter(Boolean);
const PROTO = decodeURIComponent(parts[1] || ""), ID = decodeURIComponent(parts[2] || "");
const BASE = "/api/drones/" + encodeURIComponent(PROTO) + "/" + encodeURIComponent(ID);
// Exports download through fetch, so the token goes in the header, never in the link.
async function download(url, name) {
  const r = await fetch(url, {headers: HEADERS, cache: "no-store"}); if (!r.ok) { document.getElementById("error").textContent = name + ": HTTP " + r.status; return; }
  const href = URL.createObjectURL(await r.blob()), a = el("a", {href: href, download: name}); document.body.appendChild(a); a.click(); a.remove(); setTimeout(() => URL.revokeObjectURL(href), 10000);
}
document.getElementById("title").textContent = PROTO + "/" + ID;
document.getElementById("back").setAttribute("href", pageLink("/"));
document.getElementById("reviewlink").setAttribute("href", pageLink("/review?drone=" + encodeURIComponent(PROTO + ":" + ID)));
document.getElementById("range").addEventListener("change", e => { const c = e.target.value === "custom"; document.getElementById("from").hidden = !c; document.getElementById("until").hidden = !c; });
document.getElementById("load").addEventListener("click", loadTrack);
function rangeQuery() {
  const r = document.getElementById("range").value;
  if (r === "custom") { const q = new URLSearchParams(); const f = document.getElementById("from").value.trim(), u = document.getElementById("until").value.trim(); if (f) q.set("from", f); if (u) q.set("until", u); return q; }
  const until = Date.now() * 1000 + 60e6; return new URLSearchParams({from: String(until - Number(r) * 1e6 - 60e6), until: String(until)});
}
function chart(title, xs, ys, unit) {
  const box = el("div", {class: "chart"}); box.appendChild(el("div", {class: "k"}, title));
  const W = 400, H = 90, svg = sv("svg", {viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none"});
  const v = ys.filter(y => y !== null && isFinite(y));
  if (v.length > 1) {
    const lo = Math.min(...v), hi = Math.max(...v), x0 = xs[0], x1 = xs[xs.length - 1] || x0 + 1, span = Math.max(hi - lo, 1e-9);
    const pts = []; for (let i = 0; i < xs.length; i++) if (ys[i] !== null) pts.push(((xs[i] - x0) / Math.max(x1 - x0, 1) * W).toFixed(1) + "," + (H - 4 - (ys[i] - lo) / span * (H - 16)).toFixed(1));
    svg.appendChild(sv("polyline", {fill: "none", stroke: "#58a6ff", "stroke-width": 1.2, points: pts.join(" ")}));
    svg.appendChild(sv("text", {x: 3, y: 10, fill: "#8a96a3", "font-size": 9}, fmt(lo, 1) + " … " + fmt(hi, 1) + " " + unit));
  } else svg.appendChild(sv("text", {x: 3, y: 14, fill: "#8a96a3", "font-size": 10}, "no data in range"));
  box.appendChild(svg); return box;
}
async function loadTrack() {
  const q = rangeQuery();
  for (const f of ["csv", "geojson", "gpx", "kml"]) { const e = new URLSearchParams(q); e.set("format", f); e.set("points", "10000"); const link = document.getElementById(f); link.setAttribute("href", BASE + "/track?" + e); link.onclick = event => { event.preventDefault(); download(BASE + "/track?" + e, PROTO + "-" + ID + "." + f); }; }
  q.set("points", "1000");
  try {
    const t = await get(BASE + "/track?" + q); document.getElementById("error").textContent = "";
    document.getElementById("info").textContent = t.points.length + " points from " + t.rows_read + " rows" + (t.truncated ? " (row budget reached: narrow the range)" : "");
    const svg = document.getElementById("track"); while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = svg.clientWidth || 600, H = svg.clientHeight || 420, pad = 24; svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    const fixed = t.points.filter(p => p.has_fix || p.lat || p.lon).map(p => merc(p.lat, p.lon));
    if (fixed.length) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const [x, y] of fixed) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      const k = Math.min((W - 2 * pad) / Math.max(x1 - x0, 1e-9), (H - 2 * pad) / Math.max(y1 - y0, 1e-9)), cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
      const P = ([x, y]) => (W / 2 + (x - cx) * k).toFixed(1) + "," + (H / 2 + (y - cy) * k).toFixed(1);
      svg.appendChild(sv("polyline", {fill: "none", stroke: "#58a6ff", "stroke-width": 2, points: fixed.map(P).join(" ")}));
      const end = P(fixed[fixed.length - 1]).split(",");
      svg.appendChild(sv("circle", {cx: end[0], cy: end[1], r: 5, fill: "#58a6ff", stroke: "#fff"}));
      const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * cy))) * 180 / Math.PI, mpp = 40075016.7 * Math.cos(lat * Math.PI / 180) / k;
      const raw = mpp * W / 4, p10 = Math.pow(10, Math.floor(Math.log10(raw))), m = [5, 2, 1].map(f => f * p10).find(v => v <= raw) || p10;
      svg.appendChild(sv("line", {x1: 12, y1: H - 12, x2: 12 + m / mpp, y2: H - 12, stroke: "#d8dee6", "stroke-width": 2}));
      svg.appendChild(sv("text", {x: 12, y: H - 18, fill: "#d8dee6", "font-size": 10}, m >= 1000 ? m / 1000 + " km" : m + " m"));
    } else svg.appendChild(sv("text", {x: 12, y: 22, fill: "#8a96a3"}, "no positions in this range"));
    const xs = t.points.map(p => p.time_us / 1e6), charts = document.getElementById("charts"); while (charts.firstChild) charts.removeChild(charts.firstChild);
    charts.appendChild(chart("altitude", xs, t.points.map(p => p.alt_m), "m"));
    charts.appendChild(chart("ground speed", xs, t.points.map(p => p.ground_speed_mps), "m/s"));
    charts.appendChild(chart("battery", xs, t.points.map(p => p.battery_percent), "%"));
  } catch (e) { document.getElementById("error").textContent = e.message; }
}
async function loadLive() {
  try {
    const d = await get(BASE); const dl = document.createElement("dl"); dl.id = "live";
    const rows = [["state", d.state], ["last seen", fmt(d.last_seen_seconds_ago, 1) + " s ago"], ["position", fmt(d.lat, 6) + ", " + fmt(d.lon, 6)], ["altitude", fmt(d.alt_m, 1) + " m"], ["ground speed", fmt(d.ground_speed_mps, 1) + " m/s"], ["battery", (d.battery_percent === null ? "–" : d.battery_percent + " %") + " · " + fmt(d.battery_v, 2) + " V"], ["link quality", fmt(d.link_quality * 100, 1) + " %"], ["frames", d.frames_received + " received, " + d.frames_lost + " lost"], ["distance flown", fmt(d.distance_flown_m / 1000, 2) + " km"], ["alerts", d.alerts.join(", ") || "none"]];
    for (const [k, v] of rows) { dl.appendChild(el("dt", {}, k)); dl.appendChild(el("dd", {}, v)); }
    const old = document.getElementById("live"); old.parentNode.replaceChild(dl, old);
  } catch (e) { document.getElementById("error").textContent = e.message; }
  setTimeout(loadLive, 1000);
}
loadTrack(); loadLive();
