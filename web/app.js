/*
 * app.js - hotswapd's web view: draws the chassis from /api/v1/slots,
 * follows /api/v1/events/stream (Server-Sent Events) and sends operator
 * requests with the write token after a confirmation (docs/web.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
"use strict";

const $ = (sel) => document.querySelector(sel);
let token = sessionStorage.getItem("hotswap_token") || "";
let refreshTimer = null;
let lastSeq = -1;
let platform = "";       // "sim": the simulator's physical button is offered        // the newest event shown: the stream goes on from it
const reasons = {};      // slot -> last refusal shown on its box

function setToken(t) {
  token = t.trim();
  sessionStorage.setItem("hotswap_token", token);
  // Reads only (an event stream cannot send headers); writes always
  // carry the Authorization header, never the cookie.
  document.cookie = "hotswap_token=" + encodeURIComponent(token) +
    "; path=/; SameSite=Strict";
  $("#access").textContent = token ? "token set" : "read-only";
}

// A token handed over in the address (#token=...) is taken and removed.
if (location.hash.startsWith("#token=")) {
  setToken(decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, "", location.pathname);
} else {
  setToken(token);
}

function banner(text, ok) {
  const b = $("#banner");
  b.textContent = text;
  b.className = ok ? "ok" : "";
  b.hidden = !text;
}

async function api(path, opts) {
  const headers = { "Accept": "application/json" };
  if (opts && opts.body) headers["Content-Type"] = "application/json";
  if (token && opts && opts.method && opts.method !== "GET")
    headers["Authorization"] = "Bearer " + token;
  const r = await fetch(path, Object.assign({ headers }, opts || {}));
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : r.statusText;
    throw Object.assign(new Error(msg), { status: r.status });
  }
  return body;
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined)
    e.append(typeof k === "string" ? document.createTextNode(k) : k);
  return e;
}

function led(kind, value, label) {
  return el("span", { class: "led-wrap" },
    el("span", { class: `led ${kind} ${value}`, "data-led": kind,
                 "data-value": value, title: `${label}: ${value}` }), " " + label);
}

// The confirmation step: a modal dialog naming what will happen.
function confirmThen(text, fn) {
  const d = $("#confirm");
  $("#confirm-text").textContent = text;
  d.returnValue = "";
  d.onclose = () => { if (d.returnValue === "yes") fn(); };
  d.showModal();
}

async function act(slot, action, body, what) {
  confirmThen(`${what} slot ${slot}?`, async () => {
    reasons[slot] = "";
    banner(`${what} slot ${slot}: working...`, true);
    try {
      await api(`/api/v1/slots/${encodeURIComponent(slot)}/${action}`,
        { method: "POST", body: JSON.stringify(body || {}) });
      banner(`${what} slot ${slot}: done`, true);
    } catch (e) {
      reasons[slot] = e.message;
      banner(`${what} slot ${slot} refused: ${e.message}`, false);
    }
    refresh();
  });
}

async function authorize(slot) {
  confirmThen(`Authorize the blocked functions in slot ${slot}?`, async () => {
    try {
      await api("/api/v1/authorize", { method: "POST",
        body: JSON.stringify({ slot }) });
      banner(`slot ${slot}: authorized`, true);
    } catch (e) {
      reasons[slot] = e.message;
      banner(`authorize slot ${slot} refused: ${e.message}`, false);
    }
    refresh();
  });
}

function slotBox(s) {
  const devs = el("ul", { class: "devices" });
  for (const d of s.devices) {
    devs.append(el("li", { "data-bdf": d.bdf },
      `${d.name || d.bdf} ${d.id} `, d.driver ? `[${d.driver}]` : "[no driver]",
      d.blocked ? el("span", { class: "blocked", title: "blocked by the policy" }, " BLOCKED") : null));
  }
  const up = ["on", "powering-on", "blinking-off", "powering-off", "connected"].includes(s.state);
  const acts = el("div", { class: "actions" });
  const button = (label, fn) => acts.append(el("button", { "data-action": label, onclick: fn }, label));
  if (s.adapter && !up) button("add", () => act(s.slot, "add", {}, "Bring up"));
  if (up) button("remove", () => act(s.slot, "remove", {}, "Remove (quiesce and power off)"));
  if (s.state === "connected") button("configure", () => act(s.slot, "configure", {}, "Configure (find and bind the card in)"));
  if (platform === "sim" && s.caps.includes("button")) button("press button", () => act(s.slot, "button", {}, "Press the attention button of"));
  button(s.attention === "off" ? "locate" : "locate off", () =>
    act(s.slot, "attention", { indicator: s.attention === "off" ? "blink" : "off" },
      s.attention === "off" ? "Blink the attention indicator of" : "Turn off the attention indicator of"));
  if (s.devices.some((d) => d.blocked)) button("authorize", () => authorize(s.slot));
  const leds = el("div", { class: "leds" },
    led("power", s.power_indicator, "power"),
    led("attention", s.attention, "attention"));
  if ("blue_led" in s) leds.append(led("blue", s.blue_led ? "on" : "off", "blue"));
  return el("div", { class: `slot state-${s.state}`, id: `slot-${s.slot}`,
                     "data-slot": s.slot, "data-state": s.state },
    el("h4", {}, `Slot ${s.slot}`, el("span", { class: "kind" }, s.kind)),
    el("div", { class: "state" }, `${s.state}`, s.busy ? " (busy)" : ""),
    el("div", { class: "occupant" }, s.adapter ? `card: ${s.occupant}` : "empty"),
    leds,
    s.latch ? el("div", { class: `latch ${s.latch}` }, `latch ${s.latch}`) : null,
    devs,
    el("div", { class: "reason" }, reasons[s.slot] || s.reason || ""),
    acts);
}

function controllerOf(s) {
  // Native PCIe: one port per slot, drawn together; SHPC and CompactPCI:
  // the controller bridge and its slots.
  return s.kind === "pcie" ? "PCI Express (native hot-plug ports)"
    : `${s.kind === "shpc" ? "SHPC" : "CompactPCI"} controller ${s.bridge}`;
}

async function refresh() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  let slots;
  try {
    slots = await api("/api/v1/slots");
  } catch (e) {
    banner(e.status === 401 ? "reading needs the token (see docs/web.md)" : e.message, false);
    return;
  }
  const groups = new Map();
  for (const s of slots) {
    const g = controllerOf(s);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(s);
  }
  const c = $("#chassis");
  c.replaceChildren();
  for (const [name, list] of groups) {
    c.append(el("div", { class: "controller" }, el("h3", {}, name),
      el("div", { class: "slots" }, ...list.map(slotBox))));
  }
}

function soon() {
  if (!refreshTimer) refreshTimer = setTimeout(refresh, 50);
}

function showEvent(ev) {
  const parts = [ev.type, ev.slot ? `slot ${ev.slot}` : ""];
  if (ev.from) parts.push(`${ev.from} -> ${ev.to}`);
  if (ev.bdf) parts.push(ev.name || ev.bdf);
  if (ev.driver) parts.push(ev.driver);
  if (ev.request) parts.push(`${ev.request}: ${ev.outcome}`);
  if (ev.action) parts.push(ev.action + (ev.card ? " " + ev.card : ""));
  if (ev.msg) parts.push(ev.msg);
  if (ev.seq <= lastSeq) return;
  lastSeq = ev.seq;
  const list = $("#events");
  list.prepend(el("li", { "data-seq": ev.seq, "data-type": ev.type },
    `#${ev.seq} ` + parts.filter(Boolean).join(" ")));
  while (list.children.length > 200) list.lastChild.remove();
}

async function start() {
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setToken($("#token").value);
    $("#token").value = "";
    refresh();
  });
  try {
    const st = await api("/api/v1/status");
    platform = st.platform;
    $("#chassis-name").textContent = `${st.chassis} (${st.clock} clock)`;
    const recent = await api("/api/v1/events?limit=30");
    for (const ev of recent) showEvent(ev);
  } catch (e) {
    banner(e.message, false);
  }
  await refresh();
  // The stream resumes by itself after a drop (Last-Event-ID).
  const es = new EventSource("/api/v1/events/stream?after=" + lastSeq);
  es.onopen = () => { $("#conn").textContent = "live"; $("#conn").className = "conn up"; };
  es.onerror = () => { $("#conn").textContent = "reconnecting"; $("#conn").className = "conn down"; };
  es.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    showEvent(ev);
    soon();
  };
  document.body.dataset.ready = "1";
}

start();
