// staff/item.js - one item, as GET /api/v1/items/RADICADO gives it: its
// status and labels, subject and body, the requester (or why it is
// reserved), attachments, the answers given and how each reached the
// citizen, the messages sent to the citizen with their delivery state, the
// action forms (actions.js) and the timeline of audit events.
//
// Stable selectors:
//   #item-view[data-radicado]     the open item:
//   #item-title, #item-status[data-status], #item-stale, #item-reload,
//   #item-labels, #item-original, #item-subject, #item-body, #item-requester,
//   #item-attachments, #item-messages (tbody tr[data-message-id][data-status]),
//   #item-timeline (li[data-action]), #item-actions, #back-to-queue,
//   #item-responses (answers given; only when the API sends "responses")
//   #item-responses li[data-delivery][data-delivery-status]  an answer; a
//     letter has a.letter-link
//   #item-sec-suggestions  the learned classifier's suggestions, when the API
//     sends them (suggestions.js lists its selectors)
import { renderActions } from "./actions.js";
import { authed, errMessage } from "./api.js";
import { $, clear, el, fmtDate, fmtDateTime, fmtSize, td, timeEl } from "./dom.js";
import {
  CHANNELS, CLASSES, DELIVERY, depName, DETAIL_KEYS, GROUPS, KINDS, label, LETTER_METHODS, MESSAGE_KINDS,
  PERSON_TYPES, REQUESTER_FIELDS, STATUS, TASK_NAMES, TIMELINE_ACTIONS, TYPES
} from "./labels.js";
import { showView } from "./session.js";
import { state } from "./state.js";
import { pct, reasonsText, renderSuggestions } from "./suggestions.js";

export function openItem(radicado) {
  var seq = ++state.itemSeq;
  var view = $("item-view");
  showView("item");
  if (!state.item || state.item.radicado !== radicado) {
    clear(view);
    view.removeAttribute("data-radicado");
    view.appendChild(backLink());
    view.appendChild(el("p", { class: "loading", text: "Cargando la solicitud " + radicado + "…" }));
  }
  authed("GET", "/api/v1/items/" + encodeURIComponent(radicado)).then(function (res) {
    if (seq !== state.itemSeq) return;
    if (res.ok && res.data && res.data.radicado) {
      renderItem(res.data, true);
      return;
    }
    if (res.status === 401) return;
    state.item = null;
    clear(view);
    view.appendChild(backLink());
    view.appendChild(el("h1", { id: "item-title", tabindex: "-1", text: "Solicitud " + radicado }));
    view.appendChild(el("p", { class: "error", role: "alert",
      text: res.status === 404 ? "No se encontró la solicitud " + radicado + "." : errMessage(res, "No se pudo cargar la solicitud.") }));
  });
}

function backLink() {
  return el("p", { class: "back" }, [el("a", { id: "back-to-queue", href: "#/", text: "← Volver a la bandeja" })]);
}

function section(id, title, children) {
  var hid = id + "-h";
  return el("section", { id: id, class: "item-section", "aria-labelledby": hid }, [el("h2", { id: hid, text: title })].concat(children));
}

function dl(id, rows) {
  var d = el("dl", { id: id, class: "facts" });
  rows.forEach(function (r) {
    if (!r) return;
    d.appendChild(el("div", { class: "fact" }, [el("dt", { text: r[0] }), el("dd", {}, Array.isArray(r[1]) ? r[1] : [String(r[1])])]));
  });
  return d;
}

export function renderItem(it, focus) {
  state.item = it;
  var view = $("item-view");
  clear(view);
  view.setAttribute("data-radicado", it.radicado);
  document.title = "Solicitud " + it.radicado + " · Ventanilla";
  view.appendChild(backLink());
  var h1 = el("h1", { id: "item-title", tabindex: "-1" }, ["Solicitud ", el("span", { class: "radicado", text: it.radicado })]);
  view.appendChild(h1);

  var status = el("p", { id: "item-status", class: "item-status", "data-status": it.status }, [
    "Estado: ", el("span", { class: "status status-" + it.status, text: it.status_label || label(STATUS, it.status) })
  ]);
  if (it.overdue) status.appendChild(el("span", { class: "badge badge-overdue", text: "Vencida" }));
  if (it.paused) status.appendChild(el("span", { class: "badge badge-paused", text: "Término suspendido" }));
  view.appendChild(status);

  view.appendChild(el("div", { id: "item-stale", class: "notice stale", hidden: true }, [
    el("span", { text: "Otra persona actualizó esta solicitud. " }),
    el("button", { id: "item-reload", type: "button", class: "secondary", text: "Ver la versión actual" })
  ]));

  // labels
  var due = [it.due_date ? timeEl(it.due_date, fmtDate(it.due_date)) : "Sin fecha"];
  if (it.overdue) due.push(" ", el("span", { class: "badge badge-overdue", text: "Vencida" }));
  var facts = [
    ["Tipo", it.type ? label(TYPES, it.type) : label(KINDS, it.kind)],
    it.type === "peticion" || it.petition_class ? ["Clase de petición", label(CLASSES, it.petition_class, "Sin clase")] : null,
    ["Grupo de interés", label(GROUPS, it.group)],
    ["Canal", label(CHANNELS, it.channel)],
    it.reply_channel ? ["Medio de respuesta", label(CHANNELS, it.reply_channel)] : null,
    ["Recibida", [timeEl(it.received_at, fmtDateTime(it.received_at))]],
    ["Vence", due],
    it.original_due_date ? ["Vencimiento antes de la prórroga", fmtDate(it.original_due_date)] : null,
    it.completion_deadline ? ["Plazo del ciudadano para completar", fmtDate(it.completion_deadline)] : null,
    ["Dependencia", depName(it.dependencia)],
    ["Responsable", it.assignee || "Sin responsable"]
  ];
  var labelsSection = [dl("item-labels", facts)];
  if (it.original && typeof it.original === "object") {
    var parts = [];
    var names = { type: ["Tipo", TYPES], petition_class: ["Clase", CLASSES], group: ["Grupo", GROUPS], kind: ["Clase de registro", KINDS] };
    Object.keys(it.original).forEach(function (k) {
      var v = it.original[k];
      if (v === null || v === undefined || typeof v === "object") return;
      var n = names[k];
      parts.push((n ? n[0] : k) + ": " + (n ? label(n[1], v) : String(v)));
    });
    if (parts.length) labelsSection.push(el("p", { id: "item-original", class: "original", text: "Clasificación original: " + parts.join("; ") + "." }));
  }
  view.appendChild(section("item-sec-labels", "Datos de la solicitud", labelsSection));
  if (it.suggestions && typeof it.suggestions === "object") {
    view.appendChild(section("item-sec-suggestions", "Sugerencias del clasificador", renderSuggestions(it)));
  }

  view.appendChild(section("item-sec-subject", "Asunto", [el("p", { id: "item-subject", class: "item-subject", text: it.subject || "(sin asunto)" })]));
  view.appendChild(section("item-sec-body", "Descripción", [el("div", { id: "item-body", class: "item-body", text: it.body || "" })]));

  var reqParts = [renderRequester(it.requester)];
  if (it.identity_reserved && it.requester && !it.requester.restricted) {
    reqParts.push(el("p", { id: "item-identity-reserved", class: "restricted",
      text: "Identidad reservada" + (it.reserve_requested ? " a pedido del ciudadano" : "") +
            ": solo la ven los roles autorizados. No la comparta." }));
  }
  view.appendChild(section("item-sec-requester", "Solicitante", reqParts));
  view.appendChild(section("item-sec-attachments", "Adjuntos", [renderAttachments(it)]));
  if (Array.isArray(it.responses)) view.appendChild(section("item-sec-responses", "Respuestas", [renderResponses(it)]));
  view.appendChild(section("item-sec-messages", "Mensajes al ciudadano", [renderMessages(it.messages)]));
  view.appendChild(section("item-sec-actions", "Acciones", [renderActions(it)]));
  view.appendChild(section("item-sec-timeline", "Historial", [renderTimeline(it.timeline)]));

  if (focus) h1.focus();
}

function renderRequester(r) {
  var box = el("div", { id: "item-requester" });
  if (!r) {
    box.appendChild(el("p", { text: "Sin datos del solicitante." }));
    return box;
  }
  if (r.restricted) {
    box.appendChild(el("p", { class: "restricted", text: "Identidad del solicitante reservada: es o fue una denuncia, o pidió reserva. Solo la ven los roles autorizados." }));
    return box;
  }
  var rows = [], seen = {};
  REQUESTER_FIELDS.forEach(function (f) {
    seen[f[0]] = true;
    var v = r[f[0]];
    if (v === null || v === undefined || v === "") return;
    if (f[0] === "person_type") v = label(PERSON_TYPES, v);
    else if (f[0] === "reply_channel") v = label(CHANNELS, v);
    rows.push([f[1], typeof v === "object" ? JSON.stringify(v) : String(v)]);
  });
  if (r.purged === true) {
    box.appendChild(el("p", { class: "restricted", text: "Los datos personales se eliminaron al cumplirse el plazo de conservación." }));
  }
  seen.purged = true;
  Object.keys(r).forEach(function (k) {
    var v = r[k];
    if (seen[k] || v === null || v === undefined || v === "" || typeof v === "object" || typeof v === "boolean") return;
    rows.push([k.replace(/_/g, " "), String(v)]);
  });
  if (!rows.length && r.purged !== true) box.appendChild(el("p", { text: "Sin datos del solicitante." }));
  else box.appendChild(dl("item-requester-data", rows));
  return box;
}

function renderAttachments(it) {
  var list = it.attachments || [];
  if (!list.length) return el("p", { id: "item-attachments", class: "empty-note", text: "Sin adjuntos." });
  return renderFiles(it, list, "item-attachments");
}

function renderFiles(it, list, id) {
  var ul = el("ul", { id: id, class: "attachments" });
  list.forEach(function (a) {
    var url = typeof a.url === "string" && /^\/[^/\\]/.test(a.url) ? a.url
      : "/api/v1/items/" + encodeURIComponent(it.radicado) + "/attachments/" + encodeURIComponent(a.sha256 || "");
    var meta = [fmtSize(a.size), a.content_type].filter(Boolean).join(", ");
    ul.appendChild(el("li", {}, [
      el("a", { class: "attachment-link", href: url, download: a.filename || "adjunto", text: a.filename || "adjunto" }),
      meta ? el("span", { class: "meta", text: " (" + meta + ")" }) : null
    ]));
  });
  return ul;
}

function renderMessages(msgs) {
  msgs = msgs || [];
  var wrap = el("div", { class: "table-wrap" });
  if (!msgs.length) {
    wrap.appendChild(el("p", { id: "item-messages-empty", class: "empty-note", text: "No se han enviado mensajes." }));
  }
  var table = el("table", { id: "item-messages", class: "messages", hidden: !msgs.length }, [
    el("thead", {}, [el("tr", {}, ["Canal", "Mensaje", "Estado", "Intentos", "Creado"].map(function (h) {
      return el("th", { scope: "col", text: h });
    }))]),
    el("tbody")
  ]);
  msgs.forEach(function (m) {
    table.tBodies[0].appendChild(el("tr", { "data-message-id": m.id, "data-status": m.status, class: "delivery-" + m.status }, [
      td("Canal", [label(CHANNELS, m.channel)]),
      td("Mensaje", [label(MESSAGE_KINDS, m.kind)]),
      td("Estado", [el("span", { class: "delivery delivery-" + m.status, text: label(DELIVERY, m.status) }),
        m.last_error && /^(dead|failed|undeliverable)$/.test(m.status)
          ? el("span", { class: "meta", text: " (" + m.last_error + ")" }) : null]),
      td("Intentos", [String(m.attempts === undefined || m.attempts === null ? "—" : m.attempts)]),
      td("Creado", [timeEl(m.created_at, fmtDateTime(m.created_at))])
    ]));
  });
  wrap.appendChild(table);
  return wrap;
}

function renderTimeline(events) {
  events = events || [];
  if (!events.length) return el("p", { id: "item-timeline", class: "empty-note", text: "Sin eventos." });
  var ol = el("ol", { id: "item-timeline", class: "timeline" });
  events.forEach(function (e) {
    var li = el("li", { "data-action": e.action || "" }, [
      timeEl(e.at, fmtDateTime(e.at)), " · ",
      el("strong", { text: actorName(e.actor) }), " · ",
      el("span", { class: "what", text: describe(e) })
    ]);
    var bits = detailBits(e.details);
    if (bits.length) li.appendChild(el("div", { class: "details", text: bits.join(" · ") }));
    ol.appendChild(li);
  });
  return ol;
}

// The API's description, unless it only repeats the action's code (an action
// it has no words for yet): then ours.
function describe(e) {
  if (e.description && e.description !== e.action) return e.description;
  return label(TIMELINE_ACTIONS, e.action);
}

function actorName(a) {
  if (!a || a === "system" || a === "sistema") return "Sistema";
  if (a === "sistema:clasificador") return "Clasificador automático";
  var m = /^ciudadano(?::(\w+))?$/.exec(a);
  if (m) return m[1] ? "Ciudadano (" + label(CHANNELS, m[1]) + ")" : "Ciudadano";
  return a;
}

function labelsText(o) {
  if (!o || typeof o !== "object") return String(o);
  var parts = [];
  if (o.type) parts.push(label(TYPES, o.type));
  if (o.petition_class) parts.push(label(CLASSES, o.petition_class));
  if (o.group) parts.push(label(GROUPS, o.group));
  if (o.dependencia) parts.push(depName(o.dependencia));
  if (o.due_date) parts.push("vence " + fmtDate(o.due_date));
  return parts.join(", ");
}

function detailBits(d) {
  if (!d || typeof d !== "object" || Array.isArray(d)) return [];
  var bits = [];
  DETAIL_KEYS.forEach(function (k) {
    var v = d[k[0]];
    if (v === null || v === undefined || v === "") return;
    var how = k[2];
    if (how === "bool") { if (typeof v !== "boolean") return; v = v ? "sí" : "no"; }
    else if (how === "true") { if (v !== true) return; v = "sí"; }
    else if (how === "count") { if (typeof v !== "number" || v <= 0) return; }
    else if (how === "date") v = fmtDate(String(v));
    else if (how === "dep") v = depName(String(v));
    else if (how === "channel") v = label(CHANNELS, v);
    else if (how === "method") v = label(LETTER_METHODS, v);
    else if (how === "change") v = typeof v === "object" ? labelsText(v) : fmtDate(String(v));
    else if (how === "labels") { if (typeof v !== "object" || Array.isArray(v)) return; v = labelsText(v); }
    else if (how === "pct") { if (typeof v !== "number") return; v = pct(v); }
    else if (how === "reasons") { if (!Array.isArray(v) || !v.length) return; v = reasonsText(v); }
    else if (how === "tasks") { if (!Array.isArray(v) || !v.length) return; v = v.map(function (t) { return label(TASK_NAMES, t); }).join(", "); }
    else if (typeof v === "object") return;
    bits.push(k[1] + ": " + String(v));
  });
  return bits;
}

// Answers given (not in docs/staff-api.md: shown when the API sends them).
function renderResponses(it) {
  var list = Array.isArray(it.responses) ? it.responses : [];
  if (!list.length) return el("p", { id: "item-responses", class: "empty-note", text: "Todavía no se ha respondido." });
  var ol = el("ol", { id: "item-responses", class: "responses" });
  list.forEach(function (r) {
    var d = r.delivery || {};
    var li = el("li", { "data-delivery": r.channel || "", "data-delivery-status": d.status || "" }, [
      el("p", { class: "meta" }, [timeEl(r.at, fmtDateTime(r.at)), " · ", el("strong", { text: r.by || "—" }), " · " + responseHow(r)]),
      el("div", { class: "item-body", text: r.text || "" })
    ]);
    if (Array.isArray(r.attachments) && r.attachments.length) li.appendChild(renderFiles(it, r.attachments, null));
    if (typeof d.letter_url === "string" && /^\/api\/v1\/items\//.test(d.letter_url) && r.channel === "carta") {
      li.appendChild(el("p", {}, [el("a", { class: "letter-link", href: d.letter_url, target: "_blank", rel: "noopener",
                                           text: "Imprimir la carta" })]));
    }
    ol.appendChild(li);
  });
  return ol;
}

// How an answer reached the citizen, as its delivery record says (never more).
function responseHow(r) {
  var d = r.delivery || {};
  if (r.channel === "email" || r.channel === "whatsapp") {
    return "Por " + label(CHANNELS, r.channel) + ": " + label(DELIVERY, d.status, "vea su estado en «Mensajes al ciudadano»");
  }
  if (r.channel === "carta") {
    if (d.delivered_at) return "Carta impresa, " + label(LETTER_METHODS, d.method, "entregada").toLowerCase() + " el " + fmtDateTime(d.delivered_at);
    return "Carta impresa: pendiente de entrega (no se envió ningún mensaje)";
  }
  if (r.channel === "consulta") return "En la página de consulta del ciudadano (no se envió ningún mensaje)";
  if (r.published) return "Publicada en la página de respuestas";
  return "Sin envío (" + label(CHANNELS, r.channel, "—") + ")";
}

// The stale notice's "Ver la versión actual" reloads the open item.
export function initItem() {
  $("item-view").addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "item-reload" && state.item) openItem(state.item.radicado);
  });
}
