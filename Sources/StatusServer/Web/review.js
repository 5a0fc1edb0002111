// Flight review: one cursor over a stored range. The cursor moves by time (slider, play at 1× to
// 64× either way, steps, a typed time, clicks on the timeline, an event, the track or a chart);
// the map shows every drone's last sample at the cursor (GET /api/fleet?at=), the timeline the
// range's activity and events (GET /api/timeline), the charts the selected drone over the range
// (GET /api/drones/{protocol}/{id}/series). "Live" is the cursor at now, following.
// At most one fleet request is in flight and the latest cursor wins, so scrubbing and playback
// at 64× cost the gateway at most one small store read at a time, ten a second while playing.
const SPEEDS = [1, 2, 4, 8, 16, 32, 64];
const SECOND_US = 1e6, TRAIL_US = 30e6, TRAIL_POINTS = 64, PLAY_REQUEST_MS = 100, URL_UPDATE_MS = 500;
// Up to LABELS_MAX drones the map is SVG: a circle per marker (its data-* attributes are what the
// browser test compares with /api/fleet?at=), a label and a tooltip each. A bigger fleet (10,000
// drones) has its markers and trails painted on a canvas over the map (the selected drone stays
// SVG); a click picks the nearest marker. The table lists TABLE_ROWS_MAX rows (the selected
// drone's always).
const LABELS_MAX = 300, TABLE_ROWS_MAX = 500;
const TIMELINE_BUCKETS = 240, SERIES_POINTS = 800, LIVE_POLL_MS = 1000, LIVE_TIMELINE_MS = 10000, LIVE_RANGE_US = 3600e6, SAMPLE_STEP_WINDOW_US = 600e6;
const view = {from: null, until: null, first: null, last: null, at: null, speed: 1, dir: 1, playing: false, live: false, drone: null};
let timeline = null, series = null, frame = null, tileURL = null, bbox = null;
const trails = new Map();

function $(id) { return document.getElementById(id); }
function droneKey(protocol, id) { return protocol + ":" + id; }
function iso(us) { return new Date(Math.floor(us / 1000)).toISOString(); }
// ISO 8601 UTC, or an integer of µs since the epoch, as the API takes them; null when neither.
function parseTime(text) {
  text = String(text || "").trim();
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]00:?00)?)?$/.test(text)) return null;
  const ms = Date.parse(text.replace(" ", "T") + (/(Z|[+-]00:?00)$/.test(text) || text.length === 10 ? "" : "Z"));
  return isFinite(ms) ? ms * 1000 : null;
}
function clamp(us) { return Math.max(view.from, Math.min(view.until, us)); }
function showError(message) { const c = $("conn"); c.textContent = message; c.className = message ? "error" : ""; }

// ---- the address: range, cursor, speed and selection, so a view can be sent as a link
let urlTimer = null;
function readAddress() {
  const q = new URLSearchParams(location.search), wanted = {};
  for (const k of ["from", "until", "at"]) { const t = parseTime(q.get(k)); if (t !== null) wanted[k] = t; }
  const speed = Number(q.get("speed"));
  if (SPEEDS.includes(Math.abs(speed))) { view.speed = Math.abs(speed); view.dir = speed < 0 ? -1 : 1; }
  const drone = /^(skygate|mavlink):(\d{1,10})$/.exec(q.get("drone") || "");
  if (drone) view.drone = droneKey(drone[1], Number(drone[2]));
  view.live = q.get("live") === "1";
  return wanted;
}
function writeAddress(now) {
  if (urlTimer !== null && !now) return;
  const write = () => {
    urlTimer = null; if (view.at === null) return;
    const q = new URLSearchParams();
    q.set("from", iso(view.from)); q.set("until", iso(view.until)); q.set("at", iso(view.at)); q.set("speed", String(view.speed * view.dir));
    if (view.drone) q.set("drone", view.drone);
    if (view.live) q.set("live", "1");
    history.replaceState(null, "", location.pathname + "?" + q);
  };
  if (now) { clearTimeout(urlTimer); write(); } else urlTimer = setTimeout(write, URL_UPDATE_MS);
}

// ---- the cursor
let seekStarted = null, sliderHeld = false;
function seek(us, keepLive) {
  if (view.from === null || !isFinite(us)) return;
  if (!keepLive && view.live) setLive(false);
  view.at = clamp(Math.round(us)); seekStarted = performance.now();
  drawCursor(); requestFleet(); writeAddress(false);
}
function drawCursor() {
  if (view.at === null) return;
  $("cursortext").textContent = iso(view.at).replace("T", " ").replace("Z", " UTC") + (view.live ? " · live" : "");
  const span = Math.max(view.until - view.from, 1), slider = $("slider");
  if (!sliderHeld) slider.value = String(Math.round((view.at - view.from) / 1000));
  const line = $("timeline").querySelector(".cursor");
  if (line) { const x = timelineX(view.at).toFixed(1); line.setAttribute("x1", x); line.setAttribute("x2", x); }
  for (const chart of document.querySelectorAll("#charts svg")) {
    const c = chart.querySelector(".cursor"); if (!c) continue;
    const x = ((view.at - view.from) / span * 400).toFixed(1); c.setAttribute("x1", x); c.setAttribute("x2", x);
  }
  renderReadouts();
  document.body.setAttribute("data-at", String(view.at));
}

// ---- play, pause, speed, direction
let lastTick = null;
function setPlaying(on) {
  if (on && view.live) setLive(false);
  if (on && view.at !== null && (view.dir > 0 ? view.at >= view.until : view.at <= view.from)) view.at = view.dir > 0 ? view.from : view.until;
  view.playing = on && view.at !== null; lastTick = null;
  $("play").textContent = view.playing ? "❚❚ pause" : "▶ play"; $("play").classList.toggle("on", view.playing);
  if (view.playing) requestAnimationFrame(tick);
  requestFleet();
}
function tick(now) {
  if (!view.playing) return;
  if (lastTick !== null) {
    const next = view.at + view.dir * view.speed * (now - lastTick) * 1000;
    view.at = clamp(Math.round(next));
    if (next >= view.until || next <= view.from) { drawCursor(); requestFleet(); setPlaying(false); writeAddress(true); return; }
    drawCursor(); requestFleet(); writeAddress(false);
  }
  lastTick = now; requestAnimationFrame(tick);
}
function setSpeed(speed, dir) {
  view.speed = speed; view.dir = dir; lastTick = null;
  $("speed").value = String(speed); $("reverse").classList.toggle("on", dir < 0);
  writeAddress(false);
}
function faster(by) { const i = SPEEDS.indexOf(view.speed); setSpeed(SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + by))], view.dir); }

// ---- live: the cursor at now, the range growing with the store
let liveTimer = null, liveTimelineAt = 0;
function setLive(on) {
  view.live = on; $("live").classList.toggle("on", on);
  clearTimeout(liveTimer); liveTimer = null;
  if (on) { if (view.playing) setPlaying(false); liveTimelineAt = 0; followLive(); }
  writeAddress(true);
}
async function followLive() {
  if (!view.live) return;
  // The range is the last hour, slid forward every LIVE_TIMELINE_MS (with that much room ahead).
  const now = Date.now() * 1000;
  if (performance.now() - liveTimelineAt > LIVE_TIMELINE_MS || now > view.until) {
    liveTimelineAt = performance.now();
    view.from = now - LIVE_RANGE_US; view.until = now + LIVE_TIMELINE_MS * 1000;
    try { await loadTimeline(true); } catch (e) { showError(e.message); }
    $("from").value = iso(view.from); $("until").value = iso(view.until);
    if (view.drone) loadSeries();
  }
  seek(now, true);
  if (view.live) liveTimer = setTimeout(followLive, LIVE_POLL_MS);
}

// ---- steps: by time, or to the selected drone's next or previous sample
let stepping = false;
async function step(kind) {
  if (view.at === null || stepping) return;
  if (kind !== "sample" && kind !== "sample-back") { seek(view.at + Number(kind) * SECOND_US); return; }
  const back = kind === "sample-back";
  if (!view.drone) { seek(view.at + (back ? -1 : 1) * SECOND_US); return; }
  // The exact neighbour from a narrow series read (buckets of 0.6 ms hold one sample each).
  stepping = true;
  try {
    const [protocol, id] = view.drone.split(":");
    const from = back ? Math.max(view.from, view.at - SAMPLE_STEP_WINDOW_US) : view.at + 1;
    const until = back ? view.at : Math.min(view.until, view.at + SAMPLE_STEP_WINDOW_US) + 1;
    if (from >= until) return;
    const s = await get("/api/drones/" + encodeURIComponent(protocol) + "/" + encodeURIComponent(id) + "/series?from=" + from + "&until=" + until + "&points=1000");
    const times = Array.isArray(s.time_us) ? s.time_us : [];
    if (times.length) seek(back ? times[times.length - 1] : times[0]);
  } catch (e) { showError(e.message); } finally { stepping = false; }
}

// ---- the fleet at the cursor: one request in flight, the latest cursor wins
let fleetBusy = false, fleetWanted = null, fleetTimer = null, fleetStarted = 0;
function requestFleet() { if (view.at !== null) { fleetWanted = view.at; pumpFleet(); } }
async function pumpFleet() {
  if (fleetBusy || fleetWanted === null || fleetTimer !== null) return;
  // While playing, at most one request per PLAY_REQUEST_MS; a seek goes at once.
  const wait = view.playing ? PLAY_REQUEST_MS - (performance.now() - fleetStarted) : 0;
  if (wait > 0) { fleetTimer = setTimeout(() => { fleetTimer = null; pumpFleet(); }, wait); return; }
  const at = fleetWanted; fleetWanted = null; fleetBusy = true; fleetStarted = performance.now();
  try {
    const f = await get("/api/fleet?at=" + at);
    if (f && Array.isArray(f.drones)) { renderFleet(f); showError(""); }
  } catch (e) { showError(e.message); }
  finally { fleetBusy = false; if (fleetWanted !== null) pumpFleet(); }
}
function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
// 0, 0 is what a receiver reports before its first fix (real logs start so): no position.
function fixed(lat, lon) { return lat !== null && lon !== null && !(lat === 0 && lon === 0); }
function renderFleet(f) {
  const drones = [];
  for (const d of f.drones) {
    if (!d || typeof d !== "object" || num(d.id) === null) continue;
    drones.push({key: droneKey(String(d.protocol), d.id), protocol: String(d.protocol), id: d.id, time_us: num(d.time_us) || 0, lat: num(d.lat), lon: num(d.lon),
      alt_m: num(d.alt_m), ground_speed_mps: num(d.ground_speed_mps), battery_percent: num(d.battery_percent), status: String(d.status || "")});
  }
  frame = {at: num(f.at_us) || 0, window_s: num(f.window_s), drones: drones};
  for (const d of drones) {
    if (!fixed(d.lat, d.lon)) continue;
    const t = trails.get(d.key) || [], last = t[t.length - 1];
    if (!last || last.time_us !== d.time_us) { t.push({time_us: d.time_us, p: merc(d.lat, d.lon)}); if (t.length > TRAIL_POINTS) t.shift(); }
    trails.set(d.key, t);
  }
  for (const [k, t] of trails) { const kept = t.filter(p => p.time_us <= frame.at && p.time_us > frame.at - TRAIL_US); if (kept.length) trails.set(k, kept); else trails.delete(k); }
  renderMap(); renderTable();
  if (seekStarted !== null && frame.at === view.at) { window.reviewSeekMs = performance.now() - seekStarted; seekStarted = null; }
}
function renderTable() {
  if (!frame) return;
  const body = document.createElement("tbody");
  const shown = frame.drones.length <= TABLE_ROWS_MAX ? frame.drones
    : frame.drones.filter((d, i) => i < TABLE_ROWS_MAX || d.key === view.drone);
  for (const d of shown) {
    const tr = el("tr", {"data-drone": d.key, class: d.key === view.drone ? "selected" : ""});
    tr.appendChild(el("td", {}, d.protocol + "/" + d.id));
    tr.appendChild(el("td", {}, d.status));
    tr.appendChild(el("td", {}, fmt(d.alt_m, 1) + " m"));
    tr.appendChild(el("td", {}, fmt(d.ground_speed_mps, 1) + " m/s"));
    tr.appendChild(el("td", {}, d.battery_percent === null ? "–" : fmt(d.battery_percent) + " %"));
    tr.appendChild(el("td", {}, fmt((frame.at - d.time_us) / SECOND_US, 1) + " s"));
    body.appendChild(tr);
  }
  const table = $("drones"); table.replaceChild(body, table.tBodies[0]);
  $("fleetinfo").textContent = frame.drones.length + " with a sample in the " + fmt(frame.window_s) + " s before the cursor"
    + (shown.length < frame.drones.length ? " (the first " + TABLE_ROWS_MAX + " listed; click the map for any other)" : "");
}
// One listener each for the table's rows and the map's markers, whatever the fleet's size.
$("drones").addEventListener("click", event => {
  const row = event.target.closest && event.target.closest("tr[data-drone]");
  if (row) { const key = row.getAttribute("data-drone"); select(key === view.drone ? null : key); }
});
let painted = [];  // [x, y, key, status] of the markers on the canvas, in the map's viewBox units
$("map").addEventListener("click", event => {
  const marker = event.target.closest && event.target.closest("circle.marker");
  let key = marker ? marker.getAttribute("data-drone") : null;
  if (!key && painted.length && event.target === $("map")) {
    const svg = $("map"), r = svg.getBoundingClientRect(), W = svg.clientWidth || 600, H = svg.clientHeight || 520;
    const mx = (event.clientX - r.left) * W / r.width, my = (event.clientY - r.top) * H / r.height;
    let bestD = 64;
    for (const [x, y, k] of painted) { const dd = (x - mx) * (x - mx) + (y - my) * (y - my); if (dd < bestD) { bestD = dd; key = k; } }
  }
  if (key) select(key === view.drone ? null : key);
});
function paintCanvas(W, H, trailsPath, dots) {
  const canvas = $("mapdots"), ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(W * ratio) || canvas.height !== Math.round(H * ratio)) { canvas.width = Math.round(W * ratio); canvas.height = Math.round(H * ratio); }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0); g.clearRect(0, 0, W, H);
  if (!dots.length) return;
  const css = getComputedStyle(document.documentElement), color = name => css.getPropertyValue(name).trim();
  if (trailsPath.length) {
    g.strokeStyle = color("--acc"); g.globalAlpha = 0.6; g.lineWidth = 1.5; g.beginPath();
    for (const t of trailsPath) { g.moveTo(t[0][0], t[0][1]); for (let i = 1; i < t.length; i++) g.lineTo(t[i][0], t[i][1]); }
    g.stroke(); g.globalAlpha = 1;
  }
  const fills = {online: color("--acc"), stale: color("--warn"), offline: color("--bad")};
  for (const status of ["online", "stale", "offline"]) {
    g.fillStyle = fills[status]; g.beginPath();
    for (const [x, y, , s] of dots) if ((s === "stale" || s === "offline" ? s : "online") === status) { g.moveTo(x + 3, y); g.arc(x, y, 3, 0, 2 * Math.PI); }
    g.fill();
  }
}

// ---- the map (Web Mercator; the frame only grows within a range, so playback does not jump)
function niceMetres(m) { const p = Math.pow(10, Math.floor(Math.log10(m))); for (const f of [5, 2, 1]) if (f * p <= m) return f * p; return p; }
function selectedTrack() {
  if (!series) return [];
  const out = [];
  for (let i = 0; i < series.time_us.length; i++) if (fixed(series.lat[i], series.lon[i])) out.push({time_us: series.time_us[i], p: merc(series.lat[i], series.lon[i])});
  return out;
}
function renderMap() {
  const svg = $("map"), W = svg.clientWidth || 600, H = svg.clientHeight || 520, pad = 30;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  const placed = frame ? frame.drones.filter(d => fixed(d.lat, d.lon)) : [];
  const track = selectedTrack();
  for (const p of placed.map(d => merc(d.lat, d.lon)).concat(track.map(t => t.p))) {
    if (!bbox) bbox = [p[0], p[1], p[0], p[1]];
    else bbox = [Math.min(bbox[0], p[0]), Math.min(bbox[1], p[1]), Math.max(bbox[2], p[0]), Math.max(bbox[3], p[1])];
  }
  if (frame) { svg.setAttribute("data-at", String(frame.at)); svg.setAttribute("data-drones", String(frame.drones.length)); }
  $("mapinfo").textContent = frame ? placed.length + " drones at " + iso(frame.at).replace("T", " ").replace("Z", " UTC") : "";
  if (!bbox) {
    painted = []; paintCanvas(W, H, [], []);
    svg.appendChild(sv("text", {x: 12, y: 22, class: "label"}, frame ? "no drone has a sample near the cursor" : "loading…")); return;
  }
  // At least ~400 m across (1e-5 of the world), so a lone drone or a hover is not drawn at 0.1 m scale.
  const [x0, y0, x1, y1] = bbox, span = Math.max(x1 - x0, y1 - y0, 2e-7);
  const k = Math.min((W - 2 * pad) / Math.max(x1 - x0, span * 0.05, 1e-5), (H - 2 * pad) / Math.max(y1 - y0, span * 0.05, 1e-5));
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const P = ([x, y]) => [W / 2 + (x - cx) * k, H / 2 + (y - cy) * k];
  if (tileURL) {
    const z = Math.max(0, Math.min(19, Math.floor(Math.log2(k / 256)))), n = Math.pow(2, z);
    const tx0 = Math.floor((cx - W / 2 / k) * n), tx1 = Math.floor((cx + W / 2 / k) * n), ty0 = Math.floor((cy - H / 2 / k) * n), ty1 = Math.floor((cy + H / 2 / k) * n);
    if ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= 64) for (let tx = tx0; tx <= tx1; tx++) for (let ty = ty0; ty <= ty1; ty++) {
      const [px, py] = P([tx / n, ty / n]);
      const url = tileURL.replace("{z}", z).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty);
      svg.appendChild(sv("image", {href: url, x: px, y: py, width: k / n + 0.5, height: k / n + 0.5, opacity: 0.6}));
    }
  }
  const line = pts => pts.map(p => P(p).map(v => v.toFixed(1)).join(",")).join(" ");
  if (track.length > 1) {
    // The selected drone's whole track over the range: click it to move the cursor there.
    const path = sv("polyline", {class: "track", points: line(track.map(t => t.p))});
    path.addEventListener("click", event => {
      const r = svg.getBoundingClientRect(), mx = (event.clientX - r.left) * W / r.width, my = (event.clientY - r.top) * H / r.height;
      let best = null, bestD = Infinity;
      for (const t of track) { const [px, py] = P(t.p), dd = (px - mx) * (px - mx) + (py - my) * (py - my); if (dd < bestD) { bestD = dd; best = t; } }
      if (best) seek(best.time_us);
    });
    svg.appendChild(path);
    const recent = track.filter(t => frame && t.time_us <= frame.at && t.time_us > frame.at - TRAIL_US);
    if (recent.length > 1) svg.appendChild(sv("polyline", {class: "trail selected", points: line(recent.map(t => t.p))}));
  }
  // Every other drone's trail: SVG polylines for a small fleet, one canvas path for a big one.
  const labelled = placed.length <= LABELS_MAX, canvasTrails = [], dots = [];
  for (const d of placed) {
    if (d.key === view.drone && track.length > 1) continue;
    const t = trails.get(d.key) || []; if (t.length < 2) continue;
    if (labelled) svg.appendChild(sv("polyline", {class: "trail", points: line(t.map(q => q.p))}));
    else canvasTrails.push(t.map(q => P(q.p)));
  }
  const markers = document.createDocumentFragment();
  for (const d of placed) {
    const [px, py] = P(merc(d.lat, d.lon)), selected = d.key === view.drone;
    if (!labelled && !selected) { dots.push([px, py, d.key, d.status]); continue; }
    const c = sv("circle", {class: "marker" + (selected ? " selected" : d.status === "stale" || d.status === "offline" ? " " + d.status : ""), cx: px.toFixed(1), cy: py.toFixed(1), r: selected ? 7 : 5,
      "data-drone": d.key, "data-lat": String(d.lat), "data-lon": String(d.lon), "data-time": String(d.time_us)});
    c.appendChild(sv("title", {}, d.protocol + "/" + d.id + " · " + fmt(d.alt_m, 0) + " m · " + fmt(d.ground_speed_mps, 1) + " m/s · " + d.status));
    markers.appendChild(c);
    markers.appendChild(sv("text", {class: "label", x: (px + 7).toFixed(1), y: (py - 6).toFixed(1)}, d.id));
  }
  svg.appendChild(markers);
  painted = dots;
  svg.setAttribute("data-painted", String(dots.length));
  paintCanvas(W, H, canvasTrails, dots);
  const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * cy))) * 180 / Math.PI, mpp = 40075016.7 * Math.cos(lat * Math.PI / 180) / k;
  const m = niceMetres(mpp * W / 4), len = m / mpp;
  svg.appendChild(sv("line", {class: "scale", x1: 12, y1: H - 14, x2: 12 + len, y2: H - 14}));
  svg.appendChild(sv("text", {class: "scaletext", x: 12, y: H - 20}, m >= 1000 ? m / 1000 + " km" : m + " m"));
}

// ---- the timeline: samples per bucket (bars), drones per bucket (line), events (ticks), cursor
const TL_H = 76, TL_TOP = 14, TL_BOTTOM = 12;
function timelineWidth() { return $("timeline").clientWidth || 1000; }
function timelineX(us) { return (us - view.from) / Math.max(view.until - view.from, 1) * timelineWidth(); }
async function loadTimeline(keepRange) {
  const q = new URLSearchParams({buckets: String(TIMELINE_BUCKETS)});
  if (view.from !== null) { q.set("from", String(view.from)); q.set("until", String(view.until)); }
  const t = await get("/api/timeline?" + q);
  timeline = {first: num(t.first_us), last: num(t.last_us), from: num(t.from_us), until: num(t.until_us), bucket: num(t.bucket_us) || 1,
    buckets: (Array.isArray(t.buckets) ? t.buckets : []).map(b => ({start: num(b.start_us) || 0, drones: num(b.drones) || 0, samples: num(b.samples) || 0})),
    events: (Array.isArray(t.events) ? t.events : []).filter(e => e && typeof e === "object").map(e => ({time_us: num(e.time_us) || 0, kind: String(e.kind), protocol: String(e.protocol),
      id: num(e.id) !== null ? e.id : num(Number(e.drone)), alarm: e.alarm === true, detail: e.detail === undefined || e.detail === null ? "" : String(e.detail)})),
    truncated: t.events_truncated === true};
  if (!keepRange || view.from === null) { view.from = timeline.from; view.until = timeline.until; }
  renderTimeline();
}
function renderTimeline() {
  const svg = $("timeline"), W = timelineWidth();
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", "0 0 " + W + " " + TL_H);
  const slider = $("slider"); slider.max = String(Math.max(1, Math.round((view.until - view.from) / 1000)));
  $("rangeinfo").textContent = iso(view.from).replace("T", " ").replace("Z", "") + " → " + iso(view.until).replace("T", " ").replace("Z", " UTC")
    + (timeline && timeline.first !== null ? " · stored " + iso(timeline.first).slice(0, 19).replace("T", " ") + " → " + iso(timeline.last).slice(0, 19).replace("T", " ") : " · nothing stored yet");
  if (timeline) {
    const h = TL_H - TL_TOP - TL_BOTTOM, maxSamples = Math.max(1, ...timeline.buckets.map(b => b.samples)), maxDrones = Math.max(1, ...timeline.buckets.map(b => b.drones));
    const bw = Math.max(1, timeline.bucket / Math.max(view.until - view.from, 1) * W);
    for (const b of timeline.buckets) {
      if (!b.samples) continue;
      const bh = b.samples / maxSamples * h;
      const r = sv("rect", {class: "samples", x: timelineX(b.start).toFixed(1), y: (TL_TOP + h - bh).toFixed(1), width: bw.toFixed(1), height: bh.toFixed(1)});
      r.appendChild(sv("title", {}, iso(b.start).slice(11, 19) + " · " + b.samples + " samples · " + b.drones + " drones")); svg.appendChild(r);
    }
    if (timeline.buckets.length > 1) svg.appendChild(sv("polyline", {class: "drones", points: timeline.buckets.map(b => (timelineX(b.start) + bw / 2).toFixed(1) + "," + (TL_TOP + h - b.drones / maxDrones * h).toFixed(1)).join(" ")}));
    svg.appendChild(sv("text", {class: "axis", x: 2, y: 10}, "samples (bars, max " + maxSamples + ") · drones (line, max " + maxDrones + ")" + (timeline.events.length ? " · " + timeline.events.length + (timeline.truncated ? "+" : "") + " events" : "")));
    svg.appendChild(sv("text", {class: "axis", x: 2, y: TL_H - 1}, iso(view.from).slice(11, 19)));
    svg.appendChild(sv("text", {class: "axis", x: W - 2, y: TL_H - 1, "text-anchor": "end"}, iso(view.until).slice(11, 19)));
    timeline.events.forEach((e, i) => {
      if (e.time_us < view.from || e.time_us > view.until) return;
      const x = timelineX(e.time_us).toFixed(1);
      const tick = sv("line", {class: "evtick" + (e.alarm ? " alarm" : ""), x1: x, x2: x, y1: TL_TOP - 2, y2: TL_TOP + 14, "data-event": String(i), "data-time": String(e.time_us), "data-drone": e.id === null ? "" : droneKey(e.protocol, e.id)});
      tick.appendChild(sv("title", {}, e.kind.replace(/_/g, " ") + " · " + e.protocol + "/" + e.id + (e.detail ? " · " + e.detail : "") + " · " + iso(e.time_us)));
      tick.addEventListener("click", event => { event.stopPropagation(); if (view.playing) setPlaying(false); if (e.id !== null) select(droneKey(e.protocol, e.id)); seek(e.time_us); });
      svg.appendChild(tick);
    });
  }
  svg.appendChild(sv("line", {class: "cursor", x1: 0, x2: 0, y1: 0, y2: TL_H}));
  drawCursor();
}

// ---- the selected drone: its series over the range, four charts with the cursor on them
let seriesRequest = 0;
function select(key) {
  view.drone = key; series = null; seriesRequest++;
  renderTable(); renderCharts(); renderMap(); writeAddress(true);
  if (key) loadSeries();
}
async function loadSeries() {
  const mine = ++seriesRequest, [protocol, id] = view.drone.split(":");
  $("selinfo").textContent = protocol + "/" + id + " · loading…";
  try {
    const s = await get("/api/drones/" + encodeURIComponent(protocol) + "/" + encodeURIComponent(id) + "/series?from=" + view.from + "&until=" + (view.until + 1) + "&points=" + SERIES_POINTS);
    if (mine !== seriesRequest) return;
    const column = k => Array.isArray(s[k]) ? s[k].map(num) : [];
    const times = column("time_us"), n = times.length;
    series = {time_us: times, lat: column("lat"), lon: column("lon"), alt_m: column("alt_m"), ground_speed_mps: column("ground_speed_mps"), battery_percent: column("battery_percent"), link_quality: column("link_quality")};
    for (const k in series) while (series[k].length < n) series[k].push(null);
    $("selinfo").textContent = protocol + "/" + id + " · " + n + " points over the range";
  } catch (e) { if (mine === seriesRequest) { $("selinfo").textContent = protocol + "/" + id + " · " + e.message; } }
  renderCharts(); renderMap();
}
const CHARTS = [["alt_m", "altitude", " m", 1], ["ground_speed_mps", "ground speed", " m/s", 1], ["battery_percent", "battery", " %", 0], ["link_quality", "link quality", " %", 1]];
function renderCharts() {
  const box = document.createElement("div"); box.id = "charts";
  if (series) for (const [key, title, unit] of CHARTS) {
    const chart = el("div", {class: "chart", "data-chart": key}), head = el("div", {class: "k"});
    head.appendChild(el("span", {}, title)); head.appendChild(el("span", {class: "v", "data-readout": key}, "")); chart.appendChild(head);
    const W = 400, H = 64, svg = sv("svg", {viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none"});
    const scale = key === "link_quality" ? 100 : 1, xs = series.time_us, ys = series[key].map(v => v === null ? null : v * scale);
    const vals = ys.filter(v => v !== null);
    if (vals.length > 1) {
      const lo = Math.min(...vals), hi = Math.max(...vals), span = Math.max(hi - lo, 1e-9), range = Math.max(view.until - view.from, 1);
      let pts = [];
      const flush = () => { if (pts.length > 1) svg.appendChild(sv("polyline", {class: "line", points: pts.join(" ")})); pts = []; };
      for (let i = 0; i < xs.length; i++) {
        if (ys[i] === null) { flush(); continue; }
        // A flat series (link quality 100 % throughout) draws mid-height, not on the floor.
        const y = hi - lo < 1e-6 ? H / 2 : H - 4 - (ys[i] - lo) / span * (H - 16);
        pts.push(((xs[i] - view.from) / range * W).toFixed(1) + "," + y.toFixed(1));
      }
      flush();
      svg.appendChild(sv("text", {class: "note", x: 3, y: 10}, fmt(lo, 1) + " … " + fmt(hi, 1) + unit));
    } else svg.appendChild(sv("text", {class: "note", x: 3, y: 14}, "no " + title + " in this range"));
    svg.appendChild(sv("line", {class: "cursor", x1: 0, x2: 0, y1: 0, y2: H}));
    svg.addEventListener("click", event => { const r = svg.getBoundingClientRect(); seek(view.from + (event.clientX - r.left) / Math.max(r.width, 1) * (view.until - view.from)); });
    chart.appendChild(svg); box.appendChild(chart);
  }
  const old = $("charts"); old.parentNode.replaceChild(box, old);
  if (!view.drone) $("selinfo").textContent = "none: click a marker, a row or an event";
  drawCursor();
}
// The selected drone's values at the cursor: its last series point at or before it.
function renderReadouts() {
  if (!series || !series.time_us.length) return;
  let lo = 0, hi = series.time_us.length - 1;
  if (series.time_us[0] > view.at) lo = -1;
  else while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (series.time_us[mid] <= view.at) lo = mid; else hi = mid - 1; }
  for (const [key, , unit, digits] of CHARTS) {
    const out = document.querySelector("[data-readout=\"" + key + "\"]"); if (!out) continue;
    const v = lo < 0 ? null : series[key][lo];
    out.textContent = v === null ? "–" : fmt(key === "link_quality" ? v * 100 : v, digits) + unit;
  }
}

// ---- wiring
$("play").addEventListener("click", () => setPlaying(!view.playing));
$("reverse").addEventListener("click", () => setSpeed(view.speed, -view.dir));
$("speed").addEventListener("change", e => setSpeed(Number(e.target.value), view.dir));
$("live").addEventListener("click", () => setLive(!view.live));
for (const b of document.querySelectorAll("[data-step]")) b.addEventListener("click", () => step(b.getAttribute("data-step")));
$("slider").addEventListener("input", e => seek(view.from + Number(e.target.value) * 1000));
$("slider").addEventListener("pointerdown", () => { sliderHeld = true; });
for (const type of ["pointerup", "pointercancel", "change"]) $("slider").addEventListener(type, () => { sliderHeld = false; });
$("timeline").addEventListener("click", event => {
  const r = $("timeline").getBoundingClientRect(); seek(view.from + (event.clientX - r.left) / Math.max(r.width, 1) * (view.until - view.from));
});
$("timeform").addEventListener("submit", event => {
  event.preventDefault(); const t = parseTime($("time").value);
  if (t === null) { showError("not a time: " + $("time").value + " (ISO 8601 UTC or µs since the epoch)"); return; }
  if (t < view.from || t > view.until) { showError("outside the range shown: change the range below"); return; }
  showError(""); $("time").blur(); seek(t);
});
$("rangeform").addEventListener("submit", event => {
  event.preventDefault(); const f = parseTime($("from").value), u = parseTime($("until").value);
  if (f === null || u === null || f >= u) { showError("the range needs from before until, each ISO 8601 UTC or µs"); return; }
  changeRange(f, u);
});
$("wholerange").addEventListener("click", () => changeRange(null, null));
async function changeRange(from, until) {
  if (view.live) setLive(false);
  view.from = from; view.until = until; bbox = null; trails.clear();
  try { await loadTimeline(from !== null); } catch (e) { showError(e.message); return; }
  $("from").value = iso(view.from); $("until").value = iso(view.until);
  seek(view.at === null ? view.from : view.at);
  if (view.drone) loadSeries();
}
document.addEventListener("keydown", event => {
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName) && event.target.type !== "range";
  if (event.key === "Escape") { if (typing) event.target.blur(); else select(null); return; }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    " ": () => setPlaying(!view.playing),
    "ArrowLeft": () => event.shiftKey ? step("-60") : step("sample-back"),
    "ArrowRight": () => event.shiftKey ? step("60") : step("sample"),
    ",": () => step("-300"), ".": () => step("300"), "PageUp": () => step("-600"), "PageDown": () => step("600"),
    "+": () => faster(1), "=": () => faster(1), "-": () => faster(-1),
    "r": () => setSpeed(view.speed, -view.dir), "R": () => setSpeed(view.speed, -view.dir),
    "l": () => setLive(!view.live), "L": () => setLive(!view.live),
    "Home": () => seek(view.from), "End": () => seek(view.until),
    "t": () => $("time").focus(), "T": () => $("time").focus(),
  };
  const action = keys[event.key]; if (!action) return;
  event.preventDefault(); action();
});
window.addEventListener("resize", () => { renderTimeline(); renderMap(); });
$("statuslink").setAttribute("href", pageLink("/"));

async function start() {
  const wanted = readAddress();
  setSpeed(view.speed, view.dir);
  // The optional tile URL is the gateway's setting, which /api/drones carries.
  get("/api/drones").then(d => { if (d && typeof d.tile_url === "string") { tileURL = d.tile_url; renderMap(); } }).catch(() => {});
  try {
    if (wanted.from !== undefined && wanted.until !== undefined && wanted.from < wanted.until) { view.from = wanted.from; view.until = wanted.until; }
    await loadTimeline(view.from !== null);
  } catch (e) { showError(e.message); return; }
  $("from").value = iso(view.from); $("until").value = iso(view.until);
  if (timeline.first === null && !view.live) { showError("nothing stored yet: press live to follow the fleet"); }
  const drone = view.drone; view.drone = null;
  view.at = clamp(wanted.at !== undefined ? wanted.at : view.from);
  if (drone) select(drone);
  if (view.live) setLive(true); else seek(view.at, true);
  writeAddress(true);
}
start();
