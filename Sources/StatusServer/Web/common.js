"use strict";
// Shared by every page (embedded ahead of the page's own script, in the same <script> block).
// The read token comes in the address's fragment (#access_token=…), which the browser never
// sends, is kept for this tab only, and goes out solely as an Authorization header.
const TOKEN = (() => { const t = new URLSearchParams(location.hash.slice(1)).get("access_token"); if (t) { sessionStorage.setItem("skygate-access-token", t); history.replaceState(null, "", location.pathname + location.search); return t; } return sessionStorage.getItem("skygate-access-token"); })();
const HEADERS = TOKEN ? {Authorization: "Bearer " + TOKEN} : {};
const SVGNS = "http://www.w3.org/2000/svg";
// Every string that came off the air or from a file reaches the DOM through these two
// (textContent and setAttribute), never parsed as markup.
function el(tag, attrs, text) { const e = document.createElement(tag); for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = String(text); return e; }
function sv(tag, attrs, text) { const e = document.createElementNS(SVGNS, tag); for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = String(text); return e; }
function pageLink(url) { return TOKEN ? url + "#access_token=" + encodeURIComponent(TOKEN) : url; }
function fmt(n, d) { return n === null || n === undefined || !isFinite(n) ? "–" : Number(n).toFixed(d === undefined ? 0 : d); }
// A JSON GET with the token; a refusal throws with the server's message when it sent one.
async function get(url, signal) {
  const r = await fetch(url, {headers: HEADERS, cache: "no-store", signal: signal});
  if (!r.ok) { let m = "HTTP " + r.status; try { m = (await r.json()).error.message || m; } catch (e) {} throw new Error(url.split("?")[0] + ": " + m); }
  return r.json();
}
// Web Mercator in 0...1 (so the optional tiles line up).
function merc(lat, lon) { const s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180); return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)]; }
