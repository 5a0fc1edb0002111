const TRAIL_POINTS = 120;
const trails = new Map(), lastSamples = new Map();
let fleet = null, stats = null, statsHistory = null, sortKey = "name", sortAsc = true, lastFleetAt = 0;
function big(n) { if (n === null || n === undefined) return "–"; if (n >= 1e9) return (n / 1e9).toFixed(2) + " G"; if (n >= 1e6) return (n / 1e6).toFixed(2) + " M"; if (n >= 1e4) return (n / 1e3).toFixed(1) + " k"; return String(Math.round(n)); }
function bytes(n) { if (n === null || n === undefined) return "–"; const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0; while (n >= 1024 && i < 4) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + " " + u[i]; }
function ago(s) { if (s < 60) return s.toFixed(1) + " s"; if (s < 3600) return Math.floor(s / 60) + " min"; return (s / 3600).toFixed(1) + " h"; }
function uptime(s) { const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60); return (d ? d + "d " : "") + h + "h " + m + "m " + Math.floor(s % 60) + "s"; }
function name(d) { return d.protocol + "/" + d.id; }

// ---- fleet table
function rowValue(d, k) { if (k === "name") return d.protocol + "/" + String(d.id).padStart(10, "0"); if (k === "alerts") return d.alerts.length; if (k === "rate") return d.rate; if (k === "battery_percent") return d.battery_percent === null ? -1 : d.battery_percent; return d[k]; }
function renderFleet() {
  if (!fleet) return;
  const q = document.getElementById("filter").value.trim().toLowerCase();
  const rows = fleet.drones.filter(d => !q || (name(d) + " " + d.state + " " + d.alerts.join(" ")).toLowerCase().includes(q));
  rows.sort((a, b) => { const x = rowValue(a, sortKey), y = rowValue(b, sortKey); const c = x < y ? -1 : x > y ? 1 : 0; return sortAsc ? c : -c; });
  const body = document.createElement("tbody");
  for (const d of rows) {
    const tr = el("tr", d.alerts.length ? {class: "alert", "data-drone": name(d)} : {"data-drone": name(d)});
    const link = el("a", {href: pageLink("/drones/" + encodeURIComponent(d.protocol) + "/" + encodeURIComponent(d.id))}, d.id);
    const first = el("td"); first.appendChild(link); tr.appendChild(first);
    tr.appendChild(el("td", {}, d.protocol));
    tr.appendChild(el("td", {class: d.state}, d.state));
    tr.appendChild(el("td", {}, ago(d.last_seen_seconds_ago)));
    tr.appendChild(el("td", {}, d.has_fix || d.lat || d.lon ? fmt(d.lat, 6) + ", " + fmt(d.lon, 6) : "no fix"));
    tr.appendChild(el("td", {}, fmt(d.alt_m, 1) + " m"));
    tr.appendChild(el("td", {}, fmt(d.ground_speed_mps, 1) + " m/s"));
    const b = d.battery_percent;
    tr.appendChild(el("td", {class: b === null ? "" : b <= 20 ? "bat-low" : b <= 40 ? "bat-mid" : "bat-ok"}, (b === null ? "–" : b + " %") + " · " + fmt(d.battery_v, 2) + " V"));
    tr.appendChild(el("td", {class: d.link_quality < 0.8 ? "bat-low" : d.link_quality < 0.95 ? "bat-mid" : ""}, fmt(d.link_quality * 100, 1) + " %"));
    tr.appendChild(el("td", {}, fmt(d.rate, 1) + " Hz"));
    const alerts = el("td"); for (const a of d.alerts) alerts.appendChild(el("span", {class: "tag"}, a.replace("_", " "))); tr.appendChild(alerts);
    body.appendChild(tr);
  }
  const table = document.getElementById("drones"); table.replaceChild(body, table.tBodies[0]);
  document.getElementById("fleetinfo").textContent = rows.length + " of " + fleet.drones.length + " shown · online after <" + fleet.stale_after_seconds + " s, offline after " + fleet.offline_after_seconds + " s";
  document.getElementById("summary").textContent = fleet.online + " online · " + fleet.stale + " stale · " + fleet.offline + " offline";
}
for (const th of document.querySelectorAll("#drones th")) th.addEventListener("click", () => {
  const k = th.getAttribute("data-k"); if (k === sortKey) sortAsc = !sortAsc; else { sortKey = k; sortAsc = true; }
  for (const o of document.querySelectorAll("#drones th")) o.classList.remove("sorted", "asc");
  th.classList.add("sorted"); if (sortAsc) th.classList.add("asc"); renderFleet();
});
document.getElementById("filter").addEventListener("input", renderFleet);

// ---- map (Web Mercator: merc() in common.js)
function niceMetres(m) { const p = Math.pow(10, Math.floor(Math.log10(m))); for (const f of [5, 2, 1]) if (f * p <= m) return f * p; return p; }
function renderMap() {
  const svg = document.getElementById("map"); if (!fleet && !zones.length) return;
  const W = svg.clientWidth || 600, H = svg.clientHeight || 440, pad = 30;
  const placed = fleet ? fleet.drones.filter(d => d.has_fix || d.lat || d.lon) : [];
  const pts = []; for (const d of placed) { pts.push(merc(d.lat, d.lon)); for (const p of trails.get(name(d)) || []) pts.push(p); }
  // The zones' corners too, so a zone away from the fleet is still on the map.
  for (const z of zones) { pts.push([z.box[0], z.box[1]]); pts.push([z.box[2], z.box[3]]); }
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  if (!pts.length) { svg.appendChild(sv("text", {x: 12, y: 22, class: "label"}, "no positions yet")); return; }
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const span = Math.max(x1 - x0, y1 - y0, 2e-7);
  const k = Math.min((W - 2 * pad) / Math.max(x1 - x0, span * 0.05), (H - 2 * pad) / Math.max(y1 - y0, span * 0.05));
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const P = ([x, y]) => [W / 2 + (x - cx) * k, H / 2 + (y - cy) * k];
  if (fleet && fleet.tile_url) {
    const z = Math.max(0, Math.min(19, Math.floor(Math.log2(k / 256)))), n = Math.pow(2, z);
    const tx0 = Math.floor((cx - W / 2 / k) * n), tx1 = Math.floor((cx + W / 2 / k) * n), ty0 = Math.floor((cy - H / 2 / k) * n), ty1 = Math.floor((cy + H / 2 / k) * n);
    if ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= 64) for (let tx = tx0; tx <= tx1; tx++) for (let ty = ty0; ty <= ty1; ty++) {
      const [px, py] = P([tx / n, ty / n]);
      const url = fleet.tile_url.replace("{z}", z).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty);
      svg.appendChild(sv("image", {href: url, x: px, y: py, width: k / n + 0.5, height: k / n + 0.5, opacity: 0.6}));
    }
  }
  drawZones(svg, P, k, H);
  for (const d of placed) {
    const t = trails.get(name(d)) || []; if (t.length < 2) continue;
    svg.appendChild(sv("polyline", {class: "trail", points: t.map(p => P(p).map(v => v.toFixed(1)).join(",")).join(" ")}));
  }
  drawEventMarkers(svg, P);
  for (const d of placed) {
    const [px, py] = P(merc(d.lat, d.lon));
    const c = sv("circle", {class: "marker " + d.state, cx: px.toFixed(1), cy: py.toFixed(1), r: 5, "data-drone": name(d)});
    c.appendChild(sv("title", {}, name(d) + " · " + fmt(d.alt_m, 0) + " m")); svg.appendChild(c);
    svg.appendChild(sv("text", {class: "label", x: (px + 7).toFixed(1), y: (py - 6).toFixed(1)}, d.id));
  }
  // Scale bar: metres per pixel at the centre latitude.
  const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * cy))) * 180 / Math.PI;
  const mpp = 40075016.7 * Math.cos(lat * Math.PI / 180) / k;
  const m = niceMetres(mpp * W / 4), len = m / mpp;
  svg.appendChild(sv("line", {class: "scale", x1: 12, y1: H - 14, x2: 12 + len, y2: H - 14}));
  svg.appendChild(sv("text", {class: "scaletext", x: 12, y: H - 20}, m >= 1000 ? m / 1000 + " km" : m + " m"));
  document.getElementById("mapinfo").textContent = placed.length + " drones with a position · " + zones.length + " zones"
    + (zonesError ? " (zones not reachable: " + zonesError + ")" : "") + (fleet && fleet.tile_url ? " · tiles" : "");
}

// ---- zones (GET /api/zones: GeoJSON geometries with [lon, lat] positions, or circles)
const ZONES_MAX = 256, ZONE_VERTICES_MAX = 65536, EQUATOR_METRES = 40075016.7;
let zones = [], zonesError = null;
function position(p) { return Array.isArray(p) && typeof p[0] === "number" && typeof p[1] === "number" && isFinite(p[0]) && isFinite(p[1]) ? merc(p[1], p[0]) : null; }
// Each zone in map units: its rings (or its circle), its bounding box, and the text shown for it.
function parseZones(body) {
  const out = []; let vertices = 0;
  for (const z of (body && Array.isArray(body.zones) ? body.zones : []).slice(0, ZONES_MAX)) {
    const g = z && z.geometry; if (!g || typeof g !== "object") continue;
    const zone = {name: String(z.name === undefined || z.name === null ? "" : z.name), keepIn: z.kind === "keep-in", floor: num(z.floor_m), ceiling: num(z.ceiling_m), rings: [], circle: null, box: null};
    if (g.type === "Circle") {
      const c = position(g.center), radius = Number(g.radius_m); if (!c || !(radius > 0) || !isFinite(radius)) continue;
      // Web Mercator is conformal: a circle stays a circle, its radius in map units set by the latitude.
      const r = radius / (EQUATOR_METRES * Math.cos(g.center[1] * Math.PI / 180));
      zone.circle = {c: c, r: r, radius: radius}; zone.box = [c[0] - r, c[1] - r, c[0] + r, c[1] + r];
    } else {
      const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const polygon of Array.isArray(polygons) ? polygons : []) for (const ring of Array.isArray(polygon) ? polygon : []) {
        if (!Array.isArray(ring)) continue;
        const pts = []; for (const p of ring) { if (vertices >= ZONE_VERTICES_MAX) break; const q = position(p); if (q) { pts.push(q); vertices++; } }
        if (pts.length >= 3) zone.rings.push(pts);
      }
      if (!zone.rings.length) continue;
      const b = [Infinity, Infinity, -Infinity, -Infinity];
      for (const ring of zone.rings) for (const [x, y] of ring) { b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y); }
      zone.box = b;
    }
    const band = zone.floor === null && zone.ceiling === null ? "" : " · " + (zone.floor === null ? "ground" : fmt(zone.floor, 0) + " m") + " to " + (zone.ceiling === null ? "no ceiling" : fmt(zone.ceiling, 0) + " m");
    zone.title = zone.name + " · " + (zone.keepIn ? "keep-in" : "keep-out") + (zone.circle ? " · radius " + fmt(zone.circle.radius, 0) + " m" : "") + band;
    out.push(zone);
  }
  return out;
}
function drawZones(svg, P, k, H) {
  const labels = [];
  for (const z of zones) {
    const kind = z.keepIn ? "keep-in" : "keep-out"; let shape, lx, ly;
    if (z.circle) {
      const [px, py] = P(z.circle.c), r = Math.max(1, z.circle.r * k);
      shape = sv("circle", {class: "zone " + kind, cx: px.toFixed(1), cy: py.toFixed(1), r: r.toFixed(1)});
      lx = px; ly = py - r - 4;
    } else {
      const d = z.rings.map(ring => "M" + ring.map(p => P(p).map(v => v.toFixed(1)).join(" ")).join("L") + "Z").join("");
      shape = sv("path", {class: "zone " + kind, d: d});
      const [x0, y0] = P([z.box[0], z.box[1]]), [x1] = P([z.box[2], z.box[3]]);
      lx = (x0 + x1) / 2; ly = y0 - 4;
    }
    shape.setAttribute("data-zone", z.name);
    shape.appendChild(sv("title", {}, z.title)); svg.appendChild(shape);
    labels.push(sv("text", {class: "zonelabel " + kind, x: lx.toFixed(1), y: Math.max(12, Math.min(H - 30, ly)).toFixed(1)}, z.name));
  }
  for (const label of labels) svg.appendChild(label);
}
async function pollZones() {
  try { zones = parseZones(await get("/api/zones")); zonesError = null; } catch (e) { zonesError = e.message; }
  renderMap(); setTimeout(pollZones, 30000);
}

// ---- events (GET /api/events, then the SSE stream; polling while the stream is down)
const EVENTS_MAX = 100, ALARMS_TRACKED_MAX = 10000, HOUR_US = 3600e6, EVENT_POLL_MS = 5000, STREAM_RETRY_POLLS = 12;
const events = new Map(), alarmTimes = new Map();
let eventStream = null, eventMode = "connecting", eventPollTimer = null, pollsSinceStream = 0, eventsError = null, alarmsSinceUs = 0, eventRenderPending = false;
const UNITS = {low_battery: " %", lost_link: " s silent", overspeed: " m/s", altitude_ceiling: " m", sequence_gap_burst: " frames lost"};
function nowUs() { return fleet ? fleet.generated_at_us : Date.now() * 1000; }
function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
// Keeps only the fields the page shows, as numbers and strings, whatever the body held.
function normalEvent(e) {
  if (!e || typeof e !== "object" || num(e.id) === null) return null;
  return {id: e.id, time_us: num(e.time_us) || 0, protocol: String(e.protocol), drone: String(e.drone), kind: String(e.kind), zone: e.zone ? String(e.zone) : "",
    alarm: e.alarm === true, value: num(e.value), lat: num(e.lat), lon: num(e.lon), alt_m: num(e.alt_m)};
}
function newestFirst() { return [...events.values()].sort((a, b) => b.time_us - a.time_us || b.id - a.id); }
function when(us) { const d = new Date(us / 1000); return Math.abs(nowUs() - us) < 20 * HOUR_US ? d.toLocaleTimeString() : d.toLocaleString(); }
function valueText(e) { return e.kind.startsWith("zone_") || e.value === null ? "" : fmt(e.value, Number.isInteger(e.value) ? 0 : 1) + (UNITS[e.kind] || ""); }
function eventTitle(e) { return e.kind.replace(/_/g, " ") + " · " + e.protocol + "/" + e.drone + (e.zone ? " · " + e.zone : "") + (valueText(e) ? " · " + valueText(e) : "") + " · " + when(e.time_us); }
// `fill` is a whole /api/events answer: when it came back full and its oldest event is within the
// hour, the hour's alarm count from it is only a lower bound.
function addEvents(list, fill) {
  let oldest = Infinity;
  for (const raw of (Array.isArray(list) ? list : []).slice(0, EVENTS_MAX)) {
    const e = normalEvent(raw); if (!e) continue;
    oldest = Math.min(oldest, e.time_us); events.set(e.id, e);
    if (e.alarm) { alarmTimes.delete(e.id); alarmTimes.set(e.id, e.time_us); }
  }
  if (fill && Array.isArray(list) && list.length >= EVENTS_MAX) alarmsSinceUs = Math.max(alarmsSinceUs, oldest);
  if (events.size > EVENTS_MAX) for (const e of newestFirst().slice(EVENTS_MAX)) events.delete(e.id);
  for (const id of alarmTimes.keys()) { if (alarmTimes.size <= ALARMS_TRACKED_MAX) break; alarmTimes.delete(id); }
  // A burst from the stream redraws once, not once per event.
  if (!eventRenderPending) { eventRenderPending = true; setTimeout(() => { eventRenderPending = false; renderEvents(); renderMap(); }, 100); }
}
function renderEvents() {
  const body = document.createElement("tbody"), list = newestFirst();
  for (const e of list) {
    const tr = el("tr", e.alarm ? {class: "alarm", "data-event": e.id} : {"data-event": e.id});
    tr.appendChild(el("td", {}, when(e.time_us)));
    const drone = el("td"); drone.appendChild(el("a", {href: pageLink("/drones/" + encodeURIComponent(e.protocol) + "/" + encodeURIComponent(e.drone))}, e.protocol + "/" + e.drone)); tr.appendChild(drone);
    tr.appendChild(el("td", {class: "kind"}, e.kind.replace(/_/g, " ") + (e.alarm ? " (alarm)" : "")));
    tr.appendChild(el("td", {}, e.zone));
    tr.appendChild(el("td", {}, valueText(e)));
    tr.appendChild(el("td", {}, e.lat === null || e.lon === null ? "–" : fmt(e.lat, 5) + ", " + fmt(e.lon, 5) + (e.alt_m === null ? "" : " · " + fmt(e.alt_m, 0) + " m")));
    body.appendChild(tr);
  }
  const table = document.getElementById("eventlist"); table.replaceChild(body, table.tBodies[0]);
  renderEventInfo();
}
function renderEventInfo() {
  const since = nowUs() - HOUR_US; let alarms = 0;
  for (const [id, t] of alarmTimes) if (t < since) alarmTimes.delete(id); else alarms++;
  const count = (alarmsSinceUs > since ? "≥ " : "") + alarms;
  const mode = eventMode === "live" ? "live" : eventMode === "polling" ? "stream down, polling every 5 s" : "connecting";
  document.getElementById("eventinfo").textContent = events.size + " latest · " + count + " alarms in the last hour · " + mode + (eventsError ? " · not reachable: " + eventsError : "");
  const head = document.getElementById("alarms");
  head.textContent = count + " alarms (1 h)"; head.className = alarms ? "some" : "";
}
function drawEventMarkers(svg, P) {
  for (const e of events.values()) {
    if (e.lat === null || e.lon === null || (e.lat === 0 && e.lon === 0)) continue;
    const [x, y] = P(merc(e.lat, e.lon));
    const mark = sv("path", {class: "evmark" + (e.alarm ? " alarm" : ""), "data-event": e.id, d: "M" + x.toFixed(1) + " " + (y - 7).toFixed(1) + "l6 11h-12z"});
    mark.appendChild(sv("title", {}, eventTitle(e))); svg.appendChild(mark);
  }
}
async function fillEvents() {
  try { const body = await get("/api/events?limit=" + EVENTS_MAX); eventsError = null; addEvents(body.events, true); }
  catch (e) { eventsError = e.message; renderEventInfo(); }
}
function openEventStream() {
  // fetch rather than EventSource, which cannot send the token header: the stream is read and
  // split into events here (id:/event:/data: lines, a blank line ends an event).
  if (typeof ReadableStream === "undefined" || typeof TextDecoder === "undefined") { pollEvents(); return; }
  const abort = new AbortController(), stream = {abort}; eventStream = stream;
  const down = () => {
    if (eventStream !== stream) return;
    abort.abort(); eventStream = null; eventMode = "polling"; renderEventInfo();
    if (eventPollTimer === null) eventPollTimer = setTimeout(pollEvents, EVENT_POLL_MS);
  };
  (async () => {
    try {
      const r = await fetch("/api/events/stream", {headers: HEADERS, cache: "no-store", signal: abort.signal});
      if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
      // Whatever happened while the stream was down is in /api/events: fetch it once, then go live.
      if (eventMode === "polling") fillEvents();
      eventMode = "live"; clearTimeout(eventPollTimer); eventPollTimer = null; pollsSinceStream = 0; renderEventInfo();
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buffer = "", kind = "message", data = [];
      for (;;) {
        const {value, done} = await reader.read(); if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let end;
        while ((end = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, end).replace(/\r$/, ""); buffer = buffer.slice(end + 1);
          if (line === "") {
            if (kind === "alert" && data.length) { let e = null; try { e = JSON.parse(data.join("\n")); } catch (error) {} if (e) addEvents([e], false); }
            kind = "message"; data = [];
          } else if (line.startsWith("event:")) kind = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (buffer.length > 1048576) throw new Error("event stream line too long");
      }
    } catch (error) {}
    down();
  })();
}
async function pollEvents() {
  eventPollTimer = null; await fillEvents();
  // Try the stream again about once a minute; until it opens, keep polling.
  if (++pollsSinceStream >= STREAM_RETRY_POLLS && eventStream === null) { pollsSinceStream = 0; openEventStream(); }
  if (eventMode !== "live" && eventPollTimer === null) eventPollTimer = setTimeout(pollEvents, EVENT_POLL_MS);
}

// ---- health
function card(parent, key, value) { const c = el("div", {class: "card"}); c.appendChild(el("div", {class: "v", "data-k": key}, value)); c.appendChild(el("div", {class: "k"}, key)); parent.appendChild(c); }
function rate(key) { const w = stats && stats.windows && stats.windows["1m"]; return w ? w[key] : null; }
function renderHealth() {
  if (!stats) return;
  const cards = document.createElement("div"); cards.className = "cards"; cards.id = "cards";
  card(cards, "received/s", fmt(rate("received_per_second"), 0));
  card(cards, "stored/s", fmt(rate("stored_per_second"), 0));
  card(cards, "received", big(stats.received));
  card(cards, "stored", big(stats.stored));
  card(cards, "duplicate", big(stats.duplicate));
  card(cards, "rejected", big(Object.values(stats.rejected).reduce((a, b) => a + b, 0)));
  card(cards, "dropped", big(Object.values(stats.dropped).reduce((a, b) => a + b, 0)));
  card(cards, "kernel drops", stats.kernel_drops === null ? "–" : big(stats.kernel_drops));
  card(cards, "ring depth", stats.ring_depth + " / " + big(stats.ring_capacity));
  card(cards, "last batch", big(stats.last_batch_samples));
  card(cards, "commit p50", fmt(stats.commit_latency_ms.p50, 1) + " ms");
  card(cards, "commit p99", fmt(stats.commit_latency_ms.p99, 1) + " ms");
  card(cards, "database", bytes(stats.database_bytes));
  card(cards, "uptime", uptime(stats.uptime_seconds));
  card(cards, "accounting", stats.balanced ? "balanced" : "in flight");
  const old = document.getElementById("cards"); old.parentNode.replaceChild(cards, old);
  const tb = document.createElement("tbody");
  for (const w of ["1m", "5m", "15m"]) {
    const v = stats.windows[w]; if (!v) continue; const tr = el("tr");
    for (const t of [w + " (" + Math.round(v.seconds) + " s)", fmt(v.received_per_second, 1), fmt(v.stored_per_second, 1), fmt(v.rejected_per_second, 2), fmt(v.dropped_per_second, 2), fmt(v.kernel_drops_per_second, 2), v.ring_depth_max]) tr.appendChild(el("td", {}, t));
    tb.appendChild(tr);
  }
  const wt = document.getElementById("windows"); wt.replaceChild(tb, wt.tBodies[0]);
  const reasons = [];
  for (const [k, v] of Object.entries(stats.rejected)) if (v) reasons.push("rejected " + k + ": " + v);
  for (const [k, v] of Object.entries(stats.dropped)) if (v) reasons.push("dropped " + k + ": " + v);
  document.getElementById("reasons").textContent = reasons.length ? reasons.join(" · ") : "no rejections or drops";
}
function spark(title, values, unit) {
  const box = el("div", {class: "chart"}); const head = el("div", {class: "k"});
  const last = values.length ? values[values.length - 1] : null;
  head.appendChild(el("span", {}, title)); head.appendChild(el("span", {}, fmt(last, last !== null && last < 10 ? 1 : 0) + unit)); box.appendChild(head);
  const W = 200, H = 48, svg = sv("svg", {viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none"});
  const max = Math.max(1e-9, ...values);
  if (values.length > 1) svg.appendChild(sv("polyline", {fill: "none", stroke: "#58a6ff", "stroke-width": 1.2, points: values.map((v, i) => (i * W / (values.length - 1)).toFixed(1) + "," + (H - 2 - (v / max) * (H - 4)).toFixed(1)).join(" ")}));
  svg.appendChild(sv("text", {x: 2, y: 9, fill: "#8a96a3", "font-size": 8}, "max " + fmt(max, max < 10 ? 1 : 0)));
  box.appendChild(svg); return box;
}
function renderCharts() {
  if (!statsHistory) return;
  const charts = document.createElement("div"); charts.className = "charts"; charts.id = "charts";
  charts.appendChild(spark("received/s (15 min)", statsHistory.received, ""));
  charts.appendChild(spark("stored/s", statsHistory.stored, ""));
  charts.appendChild(spark("rejected/s", statsHistory.rejected, ""));
  charts.appendChild(spark("dropped/s incl. kernel", statsHistory.dropped, ""));
  charts.appendChild(spark("ring depth", statsHistory.ring_depth, ""));
  charts.appendChild(spark("batch size (samples)", statsHistory.batch_samples, ""));
  charts.appendChild(spark("commit p50 ms", statsHistory.commit_p50_ms, ""));
  charts.appendChild(spark("commit p99 ms", statsHistory.commit_p99_ms, ""));
  const old = document.getElementById("charts"); old.parentNode.replaceChild(charts, old);
}

// ---- polling
async function pollFleet() {
  // Rates by the gateway's clock: the body may be up to 250 ms old when it arrives.
  const f = await get("/api/drones"); const now = f.generated_at_us / 1e6;
  for (const d of f.drones) {
    const key = name(d), prev = lastSamples.get(key);
    // A live rate over at least two seconds of the gateway's time; until then the lifetime average.
    if (!prev) lastSamples.set(key, {n: d.samples_received, t: now, rate: d.sample_rate_hz});
    else if (now - prev.t >= 2) lastSamples.set(key, {n: d.samples_received, t: now, rate: (d.samples_received - prev.n) / (now - prev.t)});
    d.rate = lastSamples.get(key).rate;
    if (d.has_fix || d.lat || d.lon) {
      const t = trails.get(key) || []; const p = merc(d.lat, d.lon); const q = t[t.length - 1];
      if (!q || q[0] !== p[0] || q[1] !== p[1]) { t.push(p); if (t.length > TRAIL_POINTS) t.shift(); }
      trails.set(key, t);
    }
  }
  fleet = f; renderFleet(); renderMap();
}
async function pollStats() { stats = await get("/api/stats"); renderHealth(); }
async function pollHistory() { statsHistory = await get("/api/stats/history"); renderCharts(); }
let tick = 0;
async function loop() {
  try {
    await Promise.all([pollFleet(), pollStats(), tick % 5 === 0 ? pollHistory() : null]);
    document.getElementById("conn").textContent = "updated " + new Date().toLocaleTimeString();
    renderEventInfo();   // alarms age out of the hour's count without new events
  } catch (e) { document.getElementById("conn").textContent = "not reachable: " + e.message; }
  tick++; setTimeout(loop, 1000);
}
document.getElementById("reviewlink").setAttribute("href", pageLink("/review"));
window.addEventListener("resize", renderMap);
loop(); pollZones(); fillEvents().then(openEventStream);
