// staff/queue.js - the queue (bandeja): its filters (sent in a POST body,
// never in the URL), the search, the table of items, the pager, and the
// debounced refresh after a live event.
//
// Stable selectors:
//   #queue-view, #filters         the queue and its filters:
//   #filter-q, #filter-status, #filter-type, #filter-class, #filter-channel,
//   #filter-group, #filter-dependencia, #filter-assignee, #filter-due-within,
//   #filter-overdue, #filter-submit, #filter-clear
//   #queue[data-loaded=1][data-q=...][aria-busy=false]   after each load
//   #queue tbody tr[data-radicado][data-status]  one per item; .overdue when late
//   #queue tbody tr a.item-link   opens the item (#/solicitud/RADICADO)
//   #queue-summary, #queue-message, #page-prev, #page-info, #page-next
import { authed, errMessage } from "./api.js";
import { $, clear, el, fillSelect, fmtDate, show, td, timeEl } from "./dom.js";
import { CHANNELS, CLASSES, depName, GROUPS, KINDS, label, ROLES, STATUS, TYPES } from "./labels.js";
import { showView } from "./session.js";
import { state } from "./state.js";

export function readFilters() {
  var f = {};
  ["status", "type", "class", "channel", "group", "dependencia"].forEach(function (k) {
    var v = $("filter-" + k).value;
    if (v) f[k] = v;
  });
  var a = $("filter-assignee").value;
  if (a === "__me__" && state.session) f.assignee = state.session.user.username;
  else if (a) f.assignee = a;
  if ($("filter-overdue").checked) f.overdue = "1";
  var dw = $("filter-due-within").value.trim();
  if (/^\d+$/.test(dw)) f.due_within = dw;
  var q = $("filter-q").value.trim();
  if (q) f.q = q;
  return f;
}

function applyFilters() {
  state.filters = readFilters();
  state.page = 1;
  loadQueue();
}

var filterTimer = null;
function applyFiltersSoon() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(applyFilters, 350);
}

// The filters go in a POST body (POST /api/v1/items/search), never in the
// URL: what staff search for may be a citizen's name or ID number.
function queueSearch() {
  var body = {};
  var f = state.filters;
  Object.keys(f).forEach(function (k) {
    body[k] = (k === "due_within") ? Number(f[k]) : (k === "overdue" ? true : f[k]);
  });
  body.page = state.page;
  body.per_page = state.perPage;
  return body;
}

// Roles without items (docs/staff-api.md): no queue to show.
function worksItems() {
  var r = state.session && state.session.user && state.session.user.role;
  return r !== "admin" && r !== "moderador";
}

export function showQueue() {
  showView("queue");
  document.title = "Bandeja · Ventanilla";
  var works = worksItems();
  ["filters", "queue-summary", "pager"].forEach(function (id) { show($(id), works); });
  show($("queue").parentNode, works);
  if (!works) {
    var msg = $("queue-message");
    msg.textContent = "Su rol (" + label(ROLES, state.session.user.role, "") + ") no trabaja solicitudes, " +
      "así que no tiene bandeja.";
    msg.className = "notice";
    show(msg, true);
    return;
  }
  $("queue-message").className = "error";
  var t = $("queue-title");
  if (document.activeElement === document.body || !document.activeElement ||
      $("item-view").contains(document.activeElement)) t.focus();
  if (state.queueDirty) loadQueue();
}

function loadQueue() {
  var seq = ++state.queueSeq;
  var table = $("queue");
  table.setAttribute("aria-busy", "true");
  state.queueDirty = false;
  var q = state.filters.q || "";
  return authed("POST", "/api/v1/items/search", queueSearch()).then(function (res) {
    if (seq !== state.queueSeq) return;  // a newer request is on its way
    table.setAttribute("aria-busy", "false");
    var msg = $("queue-message");
    if (!res.ok || !res.data || !Array.isArray(res.data.items)) {
      if (res.status === 401) return;
      msg.textContent = errMessage(res, "No se pudo cargar la bandeja.");
      show(msg, true);
      renderQueue({ items: [], page: 1, per_page: state.perPage, total: 0 }, q);
      state.queueDirty = true;
      return;
    }
    show(msg, false);
    renderQueue(res.data, q);
  });
}

function renderQueue(data, q) {
  var table = $("queue");
  var body = table.tBodies[0];
  clear(body);
  var items = data.items || [];
  items.forEach(function (it) {
    var typeText = it.type ? label(TYPES, it.type) : label(KINDS, it.kind);
    if (it.petition_class) typeText += " · " + label(CLASSES, it.petition_class);
    var due = [it.due_date ? timeEl(it.due_date, fmtDate(it.due_date)) : "Sin fecha"];
    if (it.overdue) due.push(" ", el("span", { class: "badge badge-overdue", text: "Vencida" }));
    if (it.paused) due.push(" ", el("span", { class: "badge badge-paused", text: "En pausa" }));
    var tr = el("tr", { "data-radicado": it.radicado, "data-status": it.status, class: it.overdue ? "overdue" : null }, [
      td("Radicado", [el("a", { class: "item-link", href: "#/solicitud/" + encodeURIComponent(it.radicado), text: it.radicado })]),
      td("Tipo", [typeText]),
      td("Asunto", [it.subject || "(sin asunto)"], "subject"),
      td("Estado", [el("span", { class: "status status-" + it.status, text: it.status_label || label(STATUS, it.status) })]),
      td("Dependencia", [depName(it.dependencia)]),
      td("Responsable", [it.assignee || "—"]),
      td("Vence", due)
    ]);
    body.appendChild(tr);
  });
  if (!items.length) {
    body.appendChild(el("tr", { class: "empty" }, [el("td", { colspan: "7", text: "No hay solicitudes con estos filtros." })]));
  }
  var total = typeof data.total === "number" ? data.total : items.length;
  var per = data.per_page || state.perPage;
  var page = data.page || state.page;
  var pages = Math.max(1, Math.ceil(total / per));
  // Past 10,000 matches the API stops counting (total_exact false).
  var more = data.total_exact === false;
  state.page = page;
  $("queue-summary").textContent = more ? "Más de " + total.toLocaleString("es-CO") + " solicitudes"
    : (total === 1 ? "1 solicitud" : total + " solicitudes");
  $("page-info").textContent = more ? "Página " + page : "Página " + page + " de " + pages;
  $("page-prev").disabled = page <= 1;
  $("page-next").disabled = more ? items.length < per : page >= pages;
  table.setAttribute("data-q", q);
  table.setAttribute("data-loaded", "1");
}

// Debounced queue refresh for live events.
export function refreshQueueSoon() {
  state.queueDirty = true;
  if ($("queue-view").hidden) return;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(function () { if (!$("queue-view").hidden) loadQueue(); }, 600);
}

// The filters' choices, and the filters and pager's controls.
export function initQueue() {
  fillSelect($("filter-status"), STATUS);
  fillSelect($("filter-type"), TYPES);
  fillSelect($("filter-class"), CLASSES);
  fillSelect($("filter-channel"), { web: CHANNELS.web, email: CHANNELS.email, whatsapp: CHANNELS.whatsapp, staff: CHANNELS.staff });
  fillSelect($("filter-group"), GROUPS);

  var filters = $("filters");
  filters.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(filterTimer); applyFilters(); });
  filters.addEventListener("change", function (ev) {
    if (ev.target.id === "filter-q" || ev.target.id === "filter-due-within") applyFiltersSoon();
    else applyFilters();
  });
  filters.addEventListener("input", function (ev) {
    if (ev.target.id === "filter-q" || ev.target.id === "filter-due-within") applyFiltersSoon();
  });
  $("filter-clear").addEventListener("click", function () { filters.reset(); applyFilters(); });
  $("page-prev").addEventListener("click", function () { if (state.page > 1) { state.page--; loadQueue(); } });
  $("page-next").addEventListener("click", function () { state.page++; loadQueue(); });
}
