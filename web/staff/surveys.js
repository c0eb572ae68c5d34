// staff/surveys.js - the admin's surveys, in the admin view: the list (with
// the public link and QR code of each active one), the editor that creates a
// survey or saves a new version of one, activate and deactivate, and the
// export and import of a survey as JSON.
//
// Stable selectors (the forms are in web/staff.html):
//   #sv-list[data-loaded=1]       tbody tr[data-code][data-active][data-version]
//     [data-answers]; #sv-edit-CODE, #sv-toggle-CODE (error
//     #sv-toggle-CODE-error), #sv-export-CODE, #sv-link-CODE, #sv-qr-CODE
//   #sv-form                      the editor: #sv-code, #sv-purpose, #sv-title,
//     #sv-intro, #sv-questions (fieldset#sv-q-I per question: #sv-q-I-type,
//     -text, -required, -options, -id, -error, -up, -down, -remove),
//     #sv-add-question, #sv-submit, #sv-cancel, #sv-error
//   #sv-export (#sv-export-link, #sv-export-text), #sv-import (#sv-import-file,
//     #sv-import-text, #sv-import-code, #sv-import-submit)
import { apiError, authed, errMessage } from "./api.js";
import { $, clear, el, notify, setFieldError, setNote, show, td } from "./dom.js";
import { label } from "./labels.js";
import { isAdmin } from "./session.js";
import { state } from "./state.js";

// The admin's surveys (src/api/survey_api.c): GET /api/v1/surveys lists them,
// POST /api/v1/surveys {code, purpose, definition} creates one or, for a
// code that exists, saves a new version; GET /api/v1/surveys/CODE is the
// export (what the POST imports); POST /api/v1/surveys/CODE/active.
var PURPOSES = { after_item: "Después de cerrar una solicitud", event: "Evento o audiencia", "public": "Pública" };
var QTYPES = {
  rating: "Calificación de 1 a 5 (satisfacción)", nps: "De 0 a 10: ¿nos recomendaría? (NPS)",
  yes_no: "Sí o no", single: "Una sola opción", multiple: "Varias opciones", text: "Texto libre"
};
function isChoice(t) { return t === "single" || t === "multiple"; }
function findSurvey(code) {
  for (var i = 0; i < state.surveys.length; i++) if (state.surveys[i].code === code) return state.surveys[i];
  return null;
}
function surveyTitle(s) {
  return (s && s.definition && typeof s.definition.title === "string" && s.definition.title) || (s && s.code) || "";
}

export function clearSurveys() {
  state.surveys = [];
  state.svBusy = false;
  clear($("sv-list").tBodies[0]);
  $("sv-list").removeAttribute("data-loaded");
  $("sv-list").setAttribute("aria-busy", "true");
  $("sv-summary").textContent = "";
  show($("sv-list-message"), false);
  closeExport();
  resetEditor();
  $("sv-import").reset();
  importErrors({});
}

export function loadSurveys(focusId) {
  var seq = ++state.svSeq;
  var table = $("sv-list");
  table.setAttribute("aria-busy", "true");
  return authed("GET", "/api/v1/surveys").then(function (res) {
    if (seq !== state.svSeq || !isAdmin()) return;
    table.setAttribute("aria-busy", "false");
    var msg = $("sv-list-message");
    if (!res.ok || !res.data || !Array.isArray(res.data.surveys)) {
      if (res.status === 401) return;
      msg.textContent = errMessage(res, "No se pudo cargar la lista de encuestas.");
      show(msg, true);
      return;
    }
    show(msg, false);
    state.surveys = res.data.surveys;
    renderSurveys();
    table.setAttribute("data-loaded", "1");
    var f = focusId && $(focusId);
    if (f) f.focus();
  });
}

function renderSurveys() {
  var body = $("sv-list").tBodies[0];
  clear(body);
  state.surveys.forEach(function (s) { body.appendChild(surveyRow(s)); });
  if (!state.surveys.length) {
    body.appendChild(el("tr", { class: "empty" }, [el("td", { colspan: "8", text: "Todavía no hay encuestas." })]));
  }
  var n = state.surveys.length, inactive = state.surveys.filter(function (s) { return !s.active; }).length;
  $("sv-summary").textContent = (n === 1 ? "1 encuesta" : n + " encuestas") +
    (inactive ? " (" + (inactive === 1 ? "1 inactiva" : inactive + " inactivas") + ")" : "");
}

function surveyRow(s) {
  var code = s.code, title = surveyTitle(s), active = !!s.active;
  var linkCell = [];
  if (s.purpose !== "after_item") {
    if (!active) {
      linkCell.push(el("span", { class: "help", text: "Inactiva: el enlace y el código QR no funcionan hasta que la active." }));
    } else {
      var href = s.public_link || ("/encuesta/p/" + encodeURIComponent(code));
      linkCell.push(el("a", { id: "sv-link-" + code, class: "sv-link", href: href, text: href }));
      linkCell.push(el("img", { id: "sv-qr-" + code, class: "sv-qr", src: "/encuesta/p/" + encodeURIComponent(code) + "/qr.svg",
        alt: "Código QR de la encuesta " + title, width: "128", height: "128" }));
    }
  } else {
    linkCell.push(el("span", { class: "help", text: "No tiene: se envía al cerrar cada solicitud." }));
  }
  var toggleId = "sv-toggle-" + code;
  var actions = el("div", { class: "dep-actions" }, [
    el("button", { id: "sv-edit-" + code, type: "button", class: "secondary sv-edit", "data-code": code,
      "aria-label": "Nueva versión de " + title, text: "Nueva versión" }),
    el("button", { id: toggleId, type: "button", class: "secondary sv-toggle", "data-code": code,
      "aria-label": (active ? "Desactivar " : "Activar ") + title, text: active ? "Desactivar" : "Activar" }),
    el("button", { id: "sv-export-" + code, type: "button", class: "secondary sv-exp", "data-code": code,
      "aria-label": "Exportar " + title, text: "Exportar" })
  ]);
  return el("tr", { "data-code": code, "data-active": active ? "1" : "0", "data-version": s.version,
                    "data-answers": s.answers, class: active ? null : "inactive" }, [
    td("Título", [el("span", { class: "sv-title-text", text: title })], "sv-title-cell"),
    td("Código", [el("code", { text: code })], "dep-code"),
    td("Propósito", [label(PURPOSES, s.purpose)], "sv-purpose"),
    td("Estado", [el("span", { class: "dep-status " + (active ? "dep-on" : "dep-off"), text: active ? "Activa" : "Inactiva" })], "dep-state"),
    td("Versión", [String(s.version)], "sv-version"),
    td("Respuestas", [String(s.answers)], "sv-answers"),
    td("Enlace público", linkCell, "sv-public"),
    td("Acciones", [actions, el("p", { id: toggleId + "-error", class: "error", role: "alert", hidden: true })], "dep-acts")
  ]);
}

// ---- the editor: state.svQuestions holds the questions being edited
function newQuestion() {
  var n = state.svQuestions.length + 1, id;
  do { id = "p" + n++; } while (state.svQuestions.some(function (q) { return q.id === id; }));
  return { id: id, type: "rating", text: "", required: true, options: "" };
}

function resetEditor() {
  state.svEditing = null;
  $("sv-form").reset();
  $("sv-code").disabled = false;
  $("sv-purpose").disabled = false;
  $("sv-form-title").textContent = "Crear una encuesta";
  $("sv-submit").textContent = "Crear encuesta";
  show($("sv-cancel"), false);
  show($("sv-version-note"), false);
  state.svQuestions = [];
  state.svQuestions.push(newQuestion());
  renderQuestions();
  surveyErrors({});
}

function openEditor(code) {
  var s = findSurvey(code);
  if (!s) return;
  var def = s.definition || {};
  resetEditor();
  state.svEditing = code;
  $("sv-code").value = code;
  $("sv-code").disabled = true;
  $("sv-purpose").value = s.purpose;
  $("sv-purpose").disabled = true;
  $("sv-title").value = def.title || "";
  $("sv-intro").value = def.intro || "";
  state.svQuestions = (Array.isArray(def.questions) ? def.questions : []).map(function (q) {
    return { id: q.id || "", type: q.type || "text", text: q.text || "", required: q.required === true,
             options: Array.isArray(q.options) ? q.options.join("\n") : "" };
  });
  if (!state.svQuestions.length) state.svQuestions.push(newQuestion());
  renderQuestions();
  $("sv-form-title").textContent = "Nueva versión de «" + surveyTitle(s) + "»";
  $("sv-submit").textContent = "Guardar la versión " + (s.version + 1);
  var note = $("sv-version-note");
  note.textContent = "Está editando la versión " + s.version + ". Al guardar se crea la versión " + (s.version + 1) +
    ", que es la que verá quien responda desde ahora. Las " + s.answers + " respuestas ya recibidas no cambian: " +
    "conservan la versión con la que se respondieron.";
  show(note, true);
  show($("sv-cancel"), true);
  $("sv-form-title").focus();
}

function questionField(p, key, labelText, ctl, help) {
  return el("div", { class: "field" }, [el("label", { for: p + "-" + key, text: labelText }), ctl,
    help ? el("p", { id: p + "-" + key + "-help", class: "help", text: help }) : null]);
}

function renderQuestions(focusId) {
  var box = $("sv-questions");
  clear(box);
  var qs = state.svQuestions;
  qs.forEach(function (q, i) {
    var p = "sv-q-" + i;
    var typeSel = el("select", { id: p + "-type", "data-i": i, "data-k": "type" });
    Object.keys(QTYPES).forEach(function (k) { typeSel.appendChild(el("option", { value: k, text: QTYPES[k] })); });
    typeSel.value = q.type;
    var text = el("textarea", { id: p + "-text", rows: "2", maxlength: "500", "data-i": i, "data-k": "text" });
    text.value = q.text;
    var idIn = el("input", { id: p + "-id", type: "text", maxlength: "32", autocomplete: "off", autocapitalize: "none",
      spellcheck: "false", "data-i": i, "data-k": "id", "aria-describedby": p + "-id-help" });
    idIn.value = q.id;
    var req = el("input", { id: p + "-required", type: "checkbox", "data-i": i, "data-k": "required", checked: q.required });
    var opts = el("textarea", { id: p + "-options", rows: "4", "data-i": i, "data-k": "options", "aria-describedby": p + "-options-help" });
    opts.value = q.options;
    var n = qs.length;
    box.appendChild(el("fieldset", { id: p, class: "sv-q", "data-qid": q.id }, [
      el("legend", { text: "Pregunta " + (i + 1) + " de " + n }),
      questionField(p, "type", "Tipo de respuesta", typeSel),
      questionField(p, "text", "Texto de la pregunta (obligatorio)", text),
      el("div", { class: "field check" }, [req, el("label", { for: p + "-required", text: "Respuesta obligatoria" })]),
      el("div", { id: p + "-options-box", class: "field sv-options", hidden: !isChoice(q.type) }, [
        el("label", { for: p + "-options", text: "Opciones, una por línea (de 2 a 20)" }), opts,
        el("p", { id: p + "-options-help", class: "help", text: "Cada línea es una opción que la persona puede marcar." })]),
      questionField(p, "id", "Identificador", idIn,
        "Para los informes: letras minúsculas sin tildes, números o _, hasta 32. No lo cambie entre versiones."),
      el("p", { id: p + "-error", class: "error", role: "alert", hidden: true }),
      el("div", { class: "dep-actions" }, [
        el("button", { id: p + "-up", type: "button", class: "secondary", "data-i": i, "data-act": "up", disabled: i === 0,
          "aria-label": "Subir la pregunta " + (i + 1), text: "Subir" }),
        el("button", { id: p + "-down", type: "button", class: "secondary", "data-i": i, "data-act": "down", disabled: i === n - 1,
          "aria-label": "Bajar la pregunta " + (i + 1), text: "Bajar" }),
        el("button", { id: p + "-remove", type: "button", class: "secondary", "data-i": i, "data-act": "remove", disabled: n === 1,
          "aria-label": "Quitar la pregunta " + (i + 1), text: "Quitar" })
      ])
    ]));
  });
  $("sv-add-question").disabled = qs.length >= 30;
  var f = focusId && $(focusId);
  if (f && f.disabled) f = $(focusId.replace(/-(up|down)$/, "-text"));
  if (f) f.focus();
}

function onQuestionEdit(ev) {
  var t = ev.target, i = Number(t.getAttribute("data-i")), k = t.getAttribute("data-k");
  var q = state.svQuestions[i];
  if (!q || !k) return;
  q[k] = t.type === "checkbox" ? t.checked : t.value;
  if (k === "type") show($("sv-q-" + i + "-options-box"), isChoice(q.type));
}

function onQuestionButton(ev) {
  var b = ev.target && ev.target.closest ? ev.target.closest("button[data-act]") : null;
  if (!b || b.disabled) return;
  var i = Number(b.getAttribute("data-i")), act = b.getAttribute("data-act"), qs = state.svQuestions;
  if (act === "up" && i > 0) {
    qs.splice(i - 1, 0, qs.splice(i, 1)[0]);
    renderQuestions("sv-q-" + (i - 1) + "-up");
  } else if (act === "down" && i < qs.length - 1) {
    qs.splice(i + 1, 0, qs.splice(i, 1)[0]);
    renderQuestions("sv-q-" + (i + 1) + "-down");
  } else if (act === "remove" && qs.length > 1) {
    qs.splice(i, 1);
    renderQuestions(qs.length ? "sv-q-" + Math.min(i, qs.length - 1) + "-text" : "sv-add-question");
    notify("Se quitó la pregunta " + (i + 1) + ".");
  }
}

function readDefinition() {
  var def = { title: $("sv-title").value.trim() };
  var intro = $("sv-intro").value.trim();
  if (intro) def.intro = intro;
  def.questions = state.svQuestions.map(function (q) {
    var o = { id: q.id.trim(), type: q.type, text: q.text.trim(), required: !!q.required };
    if (isChoice(q.type)) {
      o.options = q.options.split(/\r?\n/).map(function (x) { return x.trim(); }).filter(Boolean);
    }
    return o;
  });
  return def;
}

// errs: {code, purpose, q: index, qmsg, other}
function surveyErrors(errs) {
  setFieldError([$("sv-code")], $("sv-code-error"), errs.code || "");
  setFieldError([$("sv-purpose")], $("sv-purpose-error"), errs.purpose || "");
  state.svQuestions.forEach(function (q, i) {
    var p = "sv-q-" + i, e = $(p + "-error");
    if (!e) return;
    var ctls = [$(p + "-text"), $(p + "-options"), $(p + "-id"), $(p + "-type")];
    setFieldError(ctls, e, errs.q === i ? errs.qmsg : "");
  });
  setNote($("sv-error"), errs.other || "", $("sv-submit"));
}

// The question an API message names ("La pregunta p2 necesita..."), or -1.
function questionOf(message) {
  var words = String(message || "").split(/[^a-z0-9_]+/);
  for (var i = 0; i < state.svQuestions.length; i++) {
    if (state.svQuestions[i].id && words.indexOf(state.svQuestions[i].id) >= 0) return i;
  }
  var m = /pregunta (\d+)\b/.exec(message || "");
  return m && Number(m[1]) >= 1 && Number(m[1]) <= state.svQuestions.length ? Number(m[1]) - 1 : -1;
}

function onSaveSurvey(ev) {
  ev.preventDefault();
  if (state.svBusy) return;
  var editing = state.svEditing, s = editing && findSurvey(editing);
  var code = editing || $("sv-code").value.trim(), purpose = s ? s.purpose : $("sv-purpose").value;
  surveyErrors({});
  if (!code) {
    surveyErrors({ code: "Escriba el código de la encuesta." });
    $("sv-code").focus();
    return;
  }
  if (!editing && findSurvey(code)) {
    surveyErrors({ code: "Ya existe una encuesta con el código " + code + ". Para cambiarla, use «Nueva versión» en la lista." });
    $("sv-code").focus();
    return;
  }
  var def = readDefinition(), btn = $("sv-submit");
  state.svBusy = true;
  btn.disabled = true;
  $("sv-form").setAttribute("aria-busy", "true");
  authed("POST", "/api/v1/surveys", { code: code, purpose: purpose, definition: def }).then(function (res) {
    state.svBusy = false;
    btn.disabled = false;
    $("sv-form").removeAttribute("aria-busy");
    if (res.ok) {
      var v = (res.data && res.data.version) || 1;
      notify(v > 1 ? "Se guardó la versión " + v + " de «" + def.title + "». Las respuestas ya recibidas conservan su versión."
                   : "Se creó la encuesta «" + def.title + "».", "ok");
      resetEditor();
      loadSurveys("sv-edit-" + code);
      return;
    }
    if (res.status === 401) return;
    var msg = errMessage(res, "No se pudo guardar la encuesta."), f = apiError(res).field, errs = {};
    if (f === "code" && !editing) { errs.code = msg; }
    else if (f === "purpose" && !editing) { errs.purpose = msg; }
    else {
      errs.other = msg;
      var qi = f === "definition" ? questionOf(msg) : -1;
      if (qi >= 0) { errs.q = qi; errs.qmsg = msg; }
    }
    surveyErrors(errs);
    if (errs.code) $("sv-code").focus();
    else if (errs.purpose) $("sv-purpose").focus();
    else if (errs.q !== undefined) {
      var q = state.svQuestions[errs.q];
      $("sv-q-" + errs.q + (isChoice(q.type) && /opci/.test(msg) ? "-options" : "-text")).focus();
    } else btn.focus();
  });
}

function onToggleSurvey(btn) {
  if (state.svBusy) return;
  var code = btn.getAttribute("data-code"), s = findSurvey(code);
  if (!s) return;
  var errEl = $("sv-toggle-" + code + "-error");
  setNote(errEl, "", btn);
  state.svBusy = true;
  btn.disabled = true;
  authed("POST", "/api/v1/surveys/" + encodeURIComponent(code) + "/active", { active: !s.active }).then(function (res) {
    state.svBusy = false;
    btn.disabled = false;
    if (res.ok) {
      notify((s.active ? "Se desactivó" : "Se activó") + " la encuesta «" + surveyTitle(s) + "».", "ok");
      loadSurveys("sv-toggle-" + code);
      return;
    }
    if (res.status === 401) return;
    setNote(errEl, errMessage(res, "No se pudo cambiar el estado de la encuesta."), btn);
    btn.focus();
  });
}

function closeExport() {
  if (state.svExportUrl) { URL.revokeObjectURL(state.svExportUrl); state.svExportUrl = null; }
  var a = $("sv-export-link");
  a.setAttribute("href", "#");
  $("sv-export-text").value = "";
  show($("sv-export"), false);
}

function onExportSurvey(btn) {
  var code = btn.getAttribute("data-code"), errEl = $("sv-toggle-" + code + "-error");
  setNote(errEl, "", btn);
  authed("GET", "/api/v1/surveys/" + encodeURIComponent(code)).then(function (res) {
    if (!res.ok || !res.data) {
      if (res.status === 401) return;
      setNote(errEl, errMessage(res, "No se pudo exportar la encuesta."), btn);
      return;
    }
    closeExport();
    var text = JSON.stringify(res.data, null, 2) + "\n";
    var a = $("sv-export-link");
    // a download of a blob: URL (the same origin's memory; nothing is fetched)
    if (typeof Blob !== "undefined" && window.URL && URL.createObjectURL) {
      state.svExportUrl = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      a.setAttribute("href", state.svExportUrl);
      a.setAttribute("download", "encuesta-" + code + ".json");
      show(a.parentNode, true);
    } else {
      show(a.parentNode, false);
    }
    a.textContent = "Descargar el archivo encuesta-" + code + ".json";
    $("sv-export-text").value = text;
    $("sv-export-title").textContent = "Exportar «" + surveyTitle(findSurvey(code) || { code: code }) + "» (" +
      (res.data.versions ? res.data.versions.length : 1) + " versiones guardadas; se importa la actual)";
    show($("sv-export"), true);
    $("sv-export-title").focus();
  });
}

// errs: {text, code, other}
function importErrors(errs) {
  setFieldError([$("sv-import-text")], $("sv-import-text-error"), errs.text || "");
  setFieldError([$("sv-import-code")], $("sv-import-code-error"), errs.code || "");
  setNote($("sv-import-error"), errs.other || "", $("sv-import-submit"));
}

function onImportFile() {
  var inp = $("sv-import-file"), f = inp.files && inp.files[0];
  importErrors({});
  if (!f) return;
  var r = new FileReader();
  r.onload = function () { $("sv-import-text").value = String(r.result || ""); };
  r.onerror = function () { importErrors({ text: "No se pudo leer el archivo " + f.name + "." }); };
  r.readAsText(f);
}

function onImportSurvey(ev) {
  ev.preventDefault();
  if (state.svBusy) return;
  importErrors({});
  var raw = $("sv-import-text").value.trim(), obj = null;
  if (!raw) {
    importErrors({ text: "Elija un archivo o pegue el texto JSON de la encuesta." });
    $("sv-import-text").focus();
    return;
  }
  try { obj = JSON.parse(raw); } catch (e) { obj = null; }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
    importErrors({ text: "El texto no es un JSON válido: revise que esté completo." });
    $("sv-import-text").focus();
    return;
  }
  var code = $("sv-import-code").value.trim() || obj.code;
  var body = { code: code, purpose: obj.purpose, definition: obj.definition };
  var btn = $("sv-import-submit");
  state.svBusy = true;
  btn.disabled = true;
  authed("POST", "/api/v1/surveys", body).then(function (res) {
    state.svBusy = false;
    btn.disabled = false;
    if (res.ok) {
      var v = (res.data && res.data.version) || 1;
      notify(v > 1 ? "Se importó como la versión " + v + " de la encuesta " + code + "."
                   : "Se importó la encuesta " + code + ".", "ok");
      $("sv-import").reset();
      loadSurveys("sv-edit-" + code);
      return;
    }
    if (res.status === 401) return;
    var msg = errMessage(res, "No se pudo importar la encuesta.");
    if (apiError(res).field === "code") { importErrors({ code: msg }); $("sv-import-code").focus(); }
    else { importErrors({ other: msg }); btn.focus(); }
  });
}

export function initSurveys() {
  state.surveys = [];
  state.svQuestions = [];
  $("sv-form").addEventListener("submit", onSaveSurvey);
  $("sv-cancel").addEventListener("click", function () {
    var code = state.svEditing;
    resetEditor();
    var b = code && $("sv-edit-" + code);
    if (b) b.focus();
  });
  $("sv-add-question").addEventListener("click", function () {
    state.svQuestions.push(newQuestion());
    renderQuestions("sv-q-" + (state.svQuestions.length - 1) + "-type");
  });
  var qs = $("sv-questions");
  qs.addEventListener("input", onQuestionEdit);
  qs.addEventListener("change", onQuestionEdit);
  qs.addEventListener("click", onQuestionButton);
  var list = $("sv-list");
  list.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || b.disabled || !list.contains(b)) return;
    if (b.classList.contains("sv-edit")) openEditor(b.getAttribute("data-code"));
    else if (b.classList.contains("sv-toggle")) onToggleSurvey(b);
    else if (b.classList.contains("sv-exp")) onExportSurvey(b);
  });
  $("sv-export-close").addEventListener("click", function () { closeExport(); });
  $("sv-import-file").addEventListener("change", onImportFile);
  $("sv-import").addEventListener("submit", onImportSurvey);
  resetEditor();
}
