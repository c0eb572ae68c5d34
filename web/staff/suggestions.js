// staff/suggestions.js - what the learned classifier suggested for the open
// item (GET /api/v1/items/R: "suggestions", "reviewed", "classified_by", and
// the timeline's "asignado" by sistema:clasificador when the item was filed
// already routed), and the one action that accepts or corrects it all
// ("classify": docs/staff-api.md). One row per task the model answered: the
// suggested value, its confidence, the features that weighed most, whether
// the item has that value now and whether staff already reviewed it.
// "Aceptar sugerencias" sends the suggested labels in one click (the help
// beside it says beforehand what will change); "Corregir" opens a small form
// of four selects, sent as one action too. The message afterwards is built
// from the item before and the item the API answers, never from what was
// merely asked for.
//
// Stable selectors:
//   #item-sec-suggestions              the section (only when suggestions is not null)
//   #suggest-routed                    the item was filed routed by the classifier
//   #item-suggestions[data-model]      the table:
//     tbody tr[data-task=TASK][data-label=CODE][data-applied=1|0][data-reviewed=1|0]
//       td.suggest-value, td.suggest-confidence, td.suggest-reasons,
//       td.suggest-state
//   #suggest-accept                    one click: classify with the suggested
//     labels; #suggest-accept-help says what it will change
//   #suggest-correct[aria-expanded]    opens form#suggest-form: #suggest-type,
//     #suggest-petition_class (only for a peticion), #suggest-group,
//     #suggest-dependencia, #suggest-submit, #suggest-cancel (Esc also closes)
//   #suggest-error                     the API's refusal (role=alert)
//   the result is #action-result, as for every action (actions.js)
import { afterAction } from "./actions.js";
import { apiError, authed, errMessage } from "./api.js";
import { el, fillSelect, fmtDate, setFieldError, setNote, td } from "./dom.js";
import { CLASSES, depName, GROUPS, label, STATUS, TYPES } from "./labels.js";
import { state } from "./state.js";

// The tasks in the order shown: their Spanish names and how a value reads.
var TASKS = [
  { task: "type", name: "Tipo", text: function (v) { return label(TYPES, v); } },
  { task: "petition_class", name: "Clase de petición", text: function (v) { return label(CLASSES, v, "Sin clase"); } },
  { task: "group", name: "Grupo de interés", text: function (v) { return label(GROUPS, v); } },
  { task: "dependencia", name: "Dependencia", text: function (v) { return depName(v); } }
];

// A confidence (0 to 1) as a whole percentage, as es-CO writes it: "87 %".
export function pct(c) {
  if (typeof c !== "number" || !isFinite(c)) return "—";
  return Math.round(Math.max(0, Math.min(1, c)) * 100) + "\u00a0%";
}

// Features that describe the message (its signature, sender's domain,
// channel) read as they are; words and word pairs of the text go in «».
var DESCRIBED = /^(firma|dominio|canal): |^dominio \.|^dominio de empresa$|^otro dominio$|^correo personal/;
function reasonText(r) {
  var f = typeof r === "string" ? r : r && typeof r.feature === "string" ? r.feature : "";
  if (!f) return "";
  return DESCRIBED.test(f) ? f : "«" + f + "»";
}
export function reasonsText(list) {
  var parts = (Array.isArray(list) ? list : []).map(reasonText).filter(Boolean);
  return parts.length ? parts.join(", ") : "—";
}

// How the item's current group was decided (classified_by), in plain words.
function groupOrigin(cb) {
  if (!cb || typeof cb !== "string") return "";
  if (/^modelo:/.test(cb)) return "la puso el clasificador";
  if (cb === "declared") return "la declaró el ciudadano";
  if (cb === "person_type:nna") return "el solicitante es niña, niño o adolescente";
  if (/^contacts:/.test(cb)) return "según el registro de contactos";
  if (/^domain:/.test(cb)) return "según el dominio del correo (" + cb.slice(7) + ")";
  if (/^keyword:/.test(cb)) return "por la palabra «" + cb.slice(8) + "»";
  if (cb === "default") return "valor por omisión";
  if (cb === "staff") return "la puso el personal";
  return "";
}

// The item's value for a task; items in triage belong to the triage dependencia.
function current(it, task) {
  if (task === "type") return it.type || null;
  if (task === "petition_class") return it.type === "peticion" ? it.petition_class || null : null;
  if (task === "group") return it.group || null;
  return it.dependencia || null;
}
function same(task, a, b) {
  if (task === "dependencia") {
    a = a || state.triage;
    b = b || state.triage;
  }
  return (a || null) === (b || null);
}
function taskSpec(task) { return TASKS.filter(function (t) { return t.task === task; })[0]; }
function suggestedLabel(sug, task) {
  var s = sug && sug[task];
  return s && typeof s.label === "string" && s.label ? s.label : null;
}
// An active dependencia (or nothing known about them: let the API decide).
function depUsable(code) {
  if (!state.deps.length) return true;
  return state.deps.some(function (d) { return d.code === code && d.active !== false; });
}

// The classify payload that accepts every suggestion (a class only when the
// resulting type is a peticion), and the suggestions it cannot carry.
function acceptPayload(it) {
  var sug = it.suggestions, p = { action: "classify" }, skipped = [];
  var type = suggestedLabel(sug, "type");
  if (type) p.type = type;
  var cls = suggestedLabel(sug, "petition_class");
  if (cls && (type || it.type) === "peticion") p.petition_class = cls;
  var group = suggestedLabel(sug, "group");
  if (group) p.group = group;
  var dep = suggestedLabel(sug, "dependencia");
  if (dep && depUsable(dep)) p.dependencia = dep;
  else if (dep) skipped.push(dep);
  return { payload: p, skipped: skipped };
}

// "tipo Reclamo → Queja" for what differs, "grupo Ciudadanía" for what stays.
function diff(before, after, tasks) {
  var changed = [], kept = [];
  tasks.forEach(function (task) {
    if (!Object.prototype.hasOwnProperty.call(after, task)) return;
    var t = taskSpec(task), b = current(before, task), a = after[task];
    var n = t.name.charAt(0).toLowerCase() + t.name.slice(1);
    if (same(task, b, a)) kept.push(n + " " + t.text(a));
    else changed.push(n + " " + t.text(b) + " → " + t.text(a));
  });
  return { changed: changed, kept: kept };
}

function sentValues(p) {
  var v = {};
  TASKS.forEach(function (t) { if (typeof p[t.task] === "string") v[t.task] = p[t.task]; });
  return v;
}

// What the action did, from the item the API answered (or, when it left the
// user's scope, from its answer's dependencia and what was sent).
function resultText(before, payload, data) {
  var sent = sentValues(payload), now = {};
  var after = data && data.radicado && !data.out_of_scope ? data : null;
  Object.keys(sent).forEach(function (task) {
    if (after) now[task] = current(after, task);
    else if (task === "dependencia" && data && typeof data.dependencia === "string") now[task] = data.dependencia;
    else now[task] = sent[task];
  });
  var d = diff(before, now, Object.keys(now));
  var text = "Clasificación revisada" + (d.changed.length ? ": " + d.changed.join("; ") + "." : ": sin cambios.");
  if (d.kept.length) text += " Se confirmó: " + d.kept.join("; ") + ".";
  if (after && after.status !== before.status) {
    text += " Estado: " + label(STATUS, before.status) + " → " + label(STATUS, after.status) + ".";
  }
  if (after && after.due_date && after.due_date !== before.due_date) text += " Ahora vence el " + fmtDate(after.due_date) + ".";
  return text;
}

export function renderSuggestions(it) {
  var sug = it.suggestions;
  var reviewed = it.reviewed && typeof it.reviewed === "object" ? it.reviewed : {};
  var out = [];
  out.push(el("p", { class: "help", text: "El clasificador automático leyó la solicitud y sugiere esta clasificación. " +
    "Revísela: acepte las sugerencias o corríjalas. Lo que usted confirme o corrija le enseña al clasificador." }));
  var routed = routedEvent(it);
  if (routed) out.push(routedNote(it, routed));

  var rows = TASKS.filter(function (t) { return suggestedLabel(sug, t.task); });
  var table = el("table", { id: "item-suggestions", class: "suggestions", "data-model": typeof sug.model === "string" ? sug.model : "" }, [
    el("caption", { class: "visually-hidden", text: "Sugerencias del clasificador, con su confianza y sus razones" }),
    el("thead", {}, [el("tr", {}, ["Dato", "Sugerencia", "Confianza", "Por qué", "Estado"].map(function (h) {
      return el("th", { scope: "col", text: h });
    }))]),
    el("tbody")
  ]);
  rows.forEach(function (t) {
    var s = sug[t.task], code = s.label, now = current(it, t.task);
    var applies = t.task !== "petition_class" || it.type === "peticion";
    var applied = applies && same(t.task, now, code);
    var rev = Object.prototype.hasOwnProperty.call(reviewed, t.task) ? reviewed[t.task] : null;
    var stateText;
    if (!applies) stateText = "No aplica: la solicitud no es una petición";
    else if (applied) stateText = "Aplicada";
    else {
      stateText = "Distinta de la actual: " + t.text(now);
      if (t.task === "group" && groupOrigin(it.classified_by)) stateText += " (" + groupOrigin(it.classified_by) + ")";
    }
    if (t.task === "dependencia" && !depUsable(code)) stateText += ". Esa dependencia no está activa en esta entidad";
    var stateCell = [el("span", { class: "suggest-state-text", text: stateText })];
    if (rev !== null) {
      stateCell.push(" ", el("span", { class: "badge badge-reviewed",
        text: rev === code ? "Revisada: se confirmó" : "Revisada: se corrigió a " + t.text(rev) }));
    }
    table.tBodies[0].appendChild(el("tr", {
      "data-task": t.task, "data-label": code, "data-applied": applied ? "1" : "0", "data-reviewed": rev !== null ? "1" : "0",
      class: applied ? "applied" : "differs"
    }, [
      el("th", { scope: "row", "data-label": "Dato", text: t.name }),
      td("Sugerencia", [t.text(code)], "suggest-value"),
      td("Confianza", [pct(s.confidence)], "suggest-confidence"),
      td("Por qué", [reasonsText(s.reasons)], "suggest-reasons"),
      td("Estado", stateCell, "suggest-state")
    ]));
  });
  out.push(el("div", { class: "table-wrap" }, [table]));

  if (!Array.isArray(it.actions) || it.actions.indexOf("classify") < 0) {
    out.push(el("p", { class: "empty-note", text: "Su rol o el estado de la solicitud no permiten revisar la clasificación." }));
    return out;
  }
  out.push(reviewControls(it));
  return out;
}

function routedEvent(it) {
  var list = Array.isArray(it.timeline) ? it.timeline : [];
  for (var i = list.length - 1; i >= 0; i--) {
    var e = list[i];
    if (e && e.actor === "sistema:clasificador" && e.action === "asignado") return e;
  }
  return null;
}

function routedNote(it, e) {
  var d = e.details && typeof e.details === "object" ? e.details : {};
  var text = "Enrutada automáticamente por el clasificador a " + depName(d.dependencia) +
    (typeof d.confidence === "number" ? " (confianza " + pct(d.confidence) + ")" : "") + ".";
  if (Array.isArray(d.reasons) && d.reasons.length) text += " Por qué: " + reasonsText(d.reasons) + ".";
  if (d.dependencia && !same("dependencia", it.dependencia, d.dependencia)) {
    text += " Después se asignó a " + depName(it.dependencia) + ".";
  }
  return el("p", { id: "suggest-routed", class: "notice suggest-routed", text: text });
}

function reviewControls(it) {
  var box = el("div", { id: "suggest-review", class: "suggest-review" });
  var acc = acceptPayload(it);
  var d = diff(it, sentValues(acc.payload), TASKS.map(function (t) { return t.task; }));
  var help = d.changed.length ? "Al aceptar cambiará: " + d.changed.join("; ") + "." : "Al aceptar, la clasificación actual queda confirmada.";
  if (acc.skipped.length) help += " La dependencia sugerida no está activa, así que no se asignará.";
  var accept = el("button", { id: "suggest-accept", type: "button", "aria-describedby": "suggest-accept-help", text: "Aceptar sugerencias" });
  var correct = el("button", { id: "suggest-correct", type: "button", class: "secondary", "aria-expanded": "false",
                               "aria-controls": "suggest-form", text: "Corregir" });
  var err = el("p", { id: "suggest-error", class: "error", role: "alert", hidden: true });
  box.appendChild(el("div", { class: "suggest-buttons" }, [accept, correct]));
  box.appendChild(el("p", { id: "suggest-accept-help", class: "help", text: help }));
  var form = correctionForm(it);
  box.appendChild(form);
  box.appendChild(err);

  var busy = function (on) {
    accept.disabled = on;
    correct.disabled = on;
    form.querySelector("#suggest-submit").disabled = on;
    if (on) box.setAttribute("aria-busy", "true"); else box.removeAttribute("aria-busy");
  };
  var send = function (payload, controls) {
    setNote(err, "", accept);
    setFieldError(controls, err, "");
    busy(true);
    authed("POST", "/api/v1/items/" + encodeURIComponent(it.radicado) + "/actions", payload).then(function (res) {
      busy(false);
      if (res.ok && res.data && afterAction(it, res, resultText(it, payload, res.data))) return;
      if (res.status === 401) return;
      var msg = errMessage(res, "No se pudo revisar la clasificación.");
      var f = apiError(res).field;
      var bad = controls.filter(function (c) { return f && c.name === f; });
      if (bad.length) {
        setFieldError(bad, err, msg);
        bad[0].focus();
      } else if (controls.length) {
        setFieldError(controls, err, msg);
      } else {
        setNote(err, msg, accept);
        accept.focus();
      }
    });
  };

  accept.addEventListener("click", function () { send(acceptPayload(it).payload, []); });
  var open = function (on) {
    form.hidden = !on;
    correct.setAttribute("aria-expanded", on ? "true" : "false");
    if (on) form.querySelector("select").focus();
    else correct.focus();
  };
  correct.addEventListener("click", function () { open(form.hidden); });
  form.querySelector("#suggest-cancel").addEventListener("click", function () { open(false); });
  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); open(false); }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var controls = Array.prototype.slice.call(form.querySelectorAll("select"));
    var p = { action: "classify" };
    controls.forEach(function (c) {
      if (c.disabled || !c.value) return;
      // a suggested task is confirmed or corrected; another only when changed
      if (suggestedLabel(it.suggestions, c.name) || !same(c.name, current(it, c.name), c.value)) p[c.name] = c.value;
    });
    if (Object.keys(p).length < 2) {
      setFieldError(controls, err, "Cambie al menos un dato de la clasificación.");
      controls[0].focus();
      return;
    }
    send(p, controls);
  });
  return box;
}

function correctionForm(it) {
  var sug = it.suggestions;
  var form = el("form", { id: "suggest-form", class: "suggest-form", novalidate: "novalidate", hidden: true,
                          "aria-labelledby": "suggest-form-title" });
  form.appendChild(el("p", { id: "suggest-form-title", class: "suggest-form-title",
    text: "Corrija lo que no corresponda y guarde: se registra como una sola revisión." }));
  var initial = function (task) { return suggestedLabel(sug, task) || current(it, task) || ""; };
  var field = function (task, ctl) {
    var t = taskSpec(task);
    ctl.id = "suggest-" + task;
    ctl.name = task;
    return el("div", { class: "field", "data-field": task }, [el("label", { for: ctl.id, text: t.name }), ctl]);
  };
  var type = el("select");
  fillSelect(type, TYPES);
  type.value = initial("type");
  var cls = el("select");
  fillSelect(cls, CLASSES);
  cls.value = initial("petition_class") || "general";
  var group = el("select");
  fillSelect(group, GROUPS);
  group.value = initial("group");
  var dep = el("select");
  var want = initial("dependencia") || state.triage || "";
  var deps = state.deps.filter(function (d) { return d.active !== false || d.code === it.dependencia; });
  if (want && !deps.some(function (d) { return d.code === want; })) deps.push({ code: want, name: depName(want) });
  deps.forEach(function (d) { dep.appendChild(el("option", { value: d.code, text: d.name || d.code })); });
  dep.value = want;
  var clsField = field("petition_class", cls);
  [field("type", type), clsField, field("group", group), field("dependencia", dep)].forEach(function (f) { form.appendChild(f); });
  var sync = function () {
    var on = type.value === "peticion";
    clsField.hidden = !on;
    cls.disabled = !on;
  };
  type.addEventListener("change", sync);
  sync();
  form.appendChild(el("div", { class: "suggest-buttons" }, [
    el("button", { id: "suggest-submit", type: "submit", text: "Guardar clasificación" }),
    el("button", { id: "suggest-cancel", type: "button", class: "secondary", text: "Cancelar" })
  ]));
  return form;
}
