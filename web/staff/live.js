// staff/live.js - the live feed client: a WebSocket to /live (subprotocol
// ventanilla-live) subscribed to the "staff" topic, reconnected with backoff;
// each event becomes a notice, a queue refresh, and the open item's stale
// notice when someone else changed it. An admin has no live items.
//
// Stable selectors:
//   #live-status[data-state=on|off]
import { api } from "./api.js";
import { $, notify, show } from "./dom.js";
import { refreshQueueSoon } from "./queue.js";
import { isAdmin, sessionLost } from "./session.js";
import { state } from "./state.js";

function setLiveStatus(on) {
  var s = $("live-status");
  s.setAttribute("data-state", on ? "on" : "off");
  s.textContent = on ? "En vivo" : "Sin conexión en vivo";
}

export function connectLive() {
  // the staff topic carries items only; an admin has none (the server refuses it)
  if (!state.session || state.session.password_change_required || state.ws || isAdmin() ||
      typeof WebSocket === "undefined") return;
  clearTimeout(state.wsTimer);
  state.wsTimer = null;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live";
  var ws;
  try { ws = new WebSocket(url, "ventanilla-live"); } catch (e) { scheduleLive(); return; }
  state.ws = ws;
  ws.addEventListener("open", function () {
    state.wsDelay = 1000;
    setLiveStatus(true);
    ws.send(JSON.stringify({ subscribe: ["staff"] }));
  });
  ws.addEventListener("message", function (ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (!m || typeof m !== "object") return;
    if (m.topic === "staff") onStaffEvent(m);
    else if (m.topic === "error") {
      // the session behind the socket is gone or not valid: check it
      api("GET", "/api/v1/session").then(function (res) {
        if (res.status === 401 && state.session) sessionLost();
      });
    }
  });
  ws.addEventListener("close", function () {
    if (state.ws === ws) state.ws = null;
    setLiveStatus(false);
    scheduleLive();
  });
}

function scheduleLive() {
  if (!state.session || state.wsTimer) return;
  var delay = state.wsDelay + Math.floor(Math.random() * 500);
  state.wsDelay = Math.min(state.wsDelay * 2, 30000);
  state.wsTimer = setTimeout(function () { state.wsTimer = null; connectLive(); }, delay);
}

export function closeLive() {
  clearTimeout(state.wsTimer);
  state.wsTimer = null;
  state.wsDelay = 1000;
  var ws = state.ws;
  state.ws = null;
  if (ws) { try { ws.close(1000); } catch (e) { /* already closed */ } }
  setLiveStatus(false);
}

function onStaffEvent(m) {
  var it = m.item || {};
  var rad = it.radicado || "";
  var me = state.session && state.session.user.username;
  var mine = m.actor && m.actor === me;
  if (m.event === "created") notify("Nueva solicitud " + rad);
  else if (m.event === "changed" && !mine) notify("Actualizada " + rad + (m.actor ? " por " + m.actor : ""));
  else if (m.event === "due_soon") notify("Por vencer " + rad);
  refreshQueueSoon();
  if (!mine && state.item && state.item.radicado === rad && !$("item-view").hidden && m.event === "changed") {
    var stale = $("item-stale");
    if (stale) show(stale, true);
  }
}

// Back on the tab: reconnect at once rather than at the next retry.
export function initLive() {
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && state.session && !state.ws) connectLive();
  });
}
