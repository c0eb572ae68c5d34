// staff/dependencias.js - the admin role's view (the only view an admin gets;
// never shown to others) and its dependencias: list, create, rename,
// deactivate. The view's surveys are surveys.js.
//
// Stable selectors:
//   #admin-view, #admin-title     the admin role's view
//   #dep-create                   form to create one: #dep-new-name, #dep-new-code,
//     #dep-new-active, #dep-new-submit; errors #dep-new-name-error,
//     #dep-new-code-error, #dep-new-error (the rest); help #dep-new-code-help
//   #dep-list[data-loaded=1][aria-busy=false]   after each load; #dep-summary,
//     #dep-list-message (load error)
//   #dep-list tbody tr[data-code][data-active=1|0][data-triage=1 on the triage one]
//     td.dep-name (span.dep-name-text), td.dep-code, td.dep-state
//     #dep-rename-CODE     opens the rename form of that row:
//       form.dep-rename-form[data-code], #dep-name-CODE, #dep-name-CODE-error,
//       #dep-save-CODE, #dep-cancel-CODE (Esc also cancels)
//     #dep-toggle-CODE     Desactivar / Activar (disabled on the triage one,
//       explained by #dep-toggle-CODE-help); error #dep-toggle-CODE-error
import { authed, errMessage, errorTarget } from "./api.js";
import { $, clear, el, notify, removeDescribedBy, setFieldError, setNote, show, td } from "./dom.js";
import { showQueue } from "./queue.js";
import { isAdmin, loadDependencias, showView } from "./session.js";
import { state } from "./state.js";
import { clearSurveys, loadSurveys } from "./surveys.js";

// The admin role's view: list, create, rename, deactivate (POST
// /api/v1/dependencias creates or updates one: {code, name, active}).

export function showAdmin() {
  if (!isAdmin()) { showQueue(); return; }
  var wasHidden = $("admin-view").hidden;
  showView("admin");
  document.title = "Dependencias · Ventanilla";
  if (wasHidden && (document.activeElement === document.body || !document.activeElement)) $("admin-title").focus();
  loadAdmin();
  loadSurveys();
}

export function clearAdmin() {
  clearSurveys();
  state.depEditing = null;
  state.depBusy = false;
  state.triage = null;
  clear($("dep-list").tBodies[0]);
  $("dep-list").removeAttribute("data-loaded");
  $("dep-list").setAttribute("aria-busy", "true");
  $("dep-summary").textContent = "";
  show($("dep-list-message"), false);
  $("dep-create").reset();
  depCreateErrors({});
}

// Reloads the list; focusId (optional) is the id to focus once it is drawn.
function loadAdmin(focusId) {
  var seq = ++state.depSeq;
  var table = $("dep-list");
  table.setAttribute("aria-busy", "true");
  return loadDependencias().then(function (res) {
    if (seq !== state.depSeq || !isAdmin()) return;
    table.setAttribute("aria-busy", "false");
    var msg = $("dep-list-message");
    if (!res || !res.ok || !res.data || !Array.isArray(res.data.dependencias)) {
      if (res && res.status === 401) return;
      msg.textContent = errMessage(res || { status: 0 }, "No se pudo cargar la lista de dependencias.");
      show(msg, true);
      return;
    }
    show(msg, false);
    renderDeps();
    table.setAttribute("data-loaded", "1");
    var f = focusId && $(focusId);
    if (f) f.focus();
  });
}

function sortedDeps() {
  var t = state.triage;
  return state.deps.slice().sort(function (a, b) {
    if ((a.code === t) !== (b.code === t)) return a.code === t ? -1 : 1;
    return String(a.name || a.code).localeCompare(String(b.name || b.code), "es", { sensitivity: "base" }) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
  });
}

function renderDeps() {
  var body = $("dep-list").tBodies[0];
  clear(body);
  var deps = sortedDeps();
  if (state.depEditing && !deps.some(function (d) { return d.code === state.depEditing; })) state.depEditing = null;
  deps.forEach(function (d) { body.appendChild(depRow(d)); });
  if (!deps.length) {
    body.appendChild(el("tr", { class: "empty" }, [el("td", { colspan: "4", text: "Todavía no hay dependencias." })]));
  }
  var inactive = deps.filter(function (d) { return d.active === false; }).length;
  $("dep-summary").textContent = (deps.length === 1 ? "1 dependencia" : deps.length + " dependencias") +
    (inactive ? " (" + (inactive === 1 ? "1 inactiva" : inactive + " inactivas") + ")" : "");
}

function depRow(d) {
  var code = d.code, active = d.active !== false, triage = code === state.triage;
  var nameCell;
  if (state.depEditing === code) {
    nameCell = td("Nombre", [renameForm(d)], "dep-name");
  } else {
    nameCell = td("Nombre", [el("span", { class: "dep-name-text", text: d.name || code }),
      triage ? el("span", { class: "badge badge-triage", text: "Reparto" }) : null], "dep-name");
  }
  var toggleId = "dep-toggle-" + code;
  var helpId = toggleId + "-help";
  // the triage dependencia receives the items nobody routed yet: it stays active
  var locked = triage && active;
  var actions = [
    el("button", { id: "dep-rename-" + code, type: "button", class: "secondary dep-rename", "data-code": code,
      "aria-label": "Cambiar nombre de " + (d.name || code), hidden: state.depEditing === code,
      text: "Cambiar nombre" }),
    el("button", { id: toggleId, type: "button", class: "secondary dep-toggle", "data-code": code,
      "aria-label": (active ? "Desactivar " : "Activar ") + (d.name || code),
      "aria-describedby": locked ? helpId : null, disabled: locked,
      text: active ? "Desactivar" : "Activar" })
  ];
  var cellChildren = [el("div", { class: "dep-actions" }, actions)];
  if (locked) {
    cellChildren.push(el("p", { id: helpId, class: "help", text: "Es la dependencia de reparto: recibe las solicitudes " +
      "que todavía no tienen dependencia. Por eso no se puede desactivar." }));
  }
  cellChildren.push(el("p", { id: toggleId + "-error", class: "error", role: "alert", hidden: true }));
  return el("tr", { "data-code": code, "data-active": active ? "1" : "0", "data-triage": triage ? "1" : null,
                    class: active ? null : "inactive" }, [
    nameCell,
    td("Código", [el("code", { text: code })], "dep-code"),
    td("Estado", [el("span", { class: "dep-status " + (active ? "dep-on" : "dep-off"), text: active ? "Activa" : "Inactiva" })], "dep-state"),
    td("Acciones", cellChildren, "dep-acts")
  ]);
}

function renameForm(d) {
  var code = d.code, id = "dep-name-" + code;
  var form = el("form", { class: "dep-rename-form", "data-code": code, novalidate: "novalidate" }, [
    el("label", { for: id, text: "Nombre nuevo (obligatorio)" }),
    el("input", { id: id, name: "name", type: "text", maxlength: "200", autocomplete: "off", required: true }),
    el("p", { id: id + "-error", class: "error", role: "alert", hidden: true }),
    el("div", { class: "dep-actions" }, [
      el("button", { id: "dep-save-" + code, type: "submit", text: "Guardar" }),
      el("button", { id: "dep-cancel-" + code, type: "button", class: "secondary dep-cancel", "data-code": code, text: "Cancelar" })
    ])
  ]);
  form.elements.namedItem("name").value = d.name || "";
  return form;
}

function findDep(code) {
  for (var i = 0; i < state.deps.length; i++) if (state.deps[i].code === code) return state.deps[i];
  return null;
}

function openRename(code) {
  state.depEditing = code;
  renderDeps();
  var inp = $("dep-name-" + code);
  if (inp) { inp.focus(); inp.select(); }
}

function closeRename(code) {
  state.depEditing = null;
  renderDeps();
  var b = $("dep-rename-" + code);
  if (b) b.focus();
}

// POST one dependencia; resolves with the API answer.
function saveDep(dep) {
  state.depBusy = true;
  return authed("POST", "/api/v1/dependencias", dep).then(function (res) {
    state.depBusy = false;
    if (res.ok) state.queueDirty = true;
    return res;
  });
}

// errs: {name, code, active, other}: the message for each (absent: none).
function depCreateErrors(errs) {
  setFieldError([$("dep-new-name")], $("dep-new-name-error"), errs.name || "");
  setFieldError([$("dep-new-code")], $("dep-new-code-error"), errs.code || "");
  var gen = $("dep-new-error"), submit = $("dep-new-submit");
  setFieldError([$("dep-new-active")], gen, errs.active || "");
  removeDescribedBy(submit, gen.id);
  if (!errs.active && errs.other) setNote(gen, errs.other, submit);
}

function onCreateDep(ev) {
  ev.preventDefault();
  if (state.depBusy) return;
  var nameIn = $("dep-new-name"), codeIn = $("dep-new-code"), btn = $("dep-new-submit");
  var name = nameIn.value.trim(), code = codeIn.value.trim();
  var errs = {};
  if (!name) errs.name = "Escriba el nombre de la dependencia.";
  if (!code) errs.code = "Escriba el código de la dependencia.";
  var existing = code && findDep(code);
  if (existing) {
    errs.code = "Ya existe una dependencia con el código " + code + " (" + (existing.name || code) +
      "). Para cambiarle el nombre, use «Cambiar nombre» en la lista.";
  }
  depCreateErrors(errs);
  if (errs.name || errs.code) {
    (errs.name ? nameIn : codeIn).focus();
    return;
  }
  btn.disabled = true;
  $("dep-create").setAttribute("aria-busy", "true");
  saveDep({ code: code, name: name, active: $("dep-new-active").checked }).then(function (res) {
    btn.disabled = false;
    $("dep-create").removeAttribute("aria-busy");
    if (res.ok) {
      var saved = res.data && res.data.code ? res.data : { code: code, name: name };
      notify("Se creó la dependencia «" + (saved.name || name) + "».", "ok");
      $("dep-create").reset();
      loadAdmin("dep-new-name");
      return;
    }
    if (res.status === 401) return;
    var msg = errMessage(res, "No se pudo crear la dependencia.");
    var which = errorTarget(res, { name: "name", code: "code", active: "active" }, "other");
    var e2 = {};
    e2[which] = msg;
    depCreateErrors(e2);
    (which === "name" ? nameIn : which === "code" ? codeIn : which === "active" ? $("dep-new-active") : btn).focus();
  });
}

function onRenameDep(form) {
  if (state.depBusy) return;
  var code = form.getAttribute("data-code");
  var d = findDep(code);
  if (!d) return;
  var inp = $("dep-name-" + code), errEl = $("dep-name-" + code + "-error");
  var btn = $("dep-save-" + code);
  var name = inp.value.trim();
  setFieldError([inp], errEl, "");
  if (!name) {
    setFieldError([inp], errEl, "Escriba el nombre de la dependencia.");
    inp.focus();
    return;
  }
  if (name === d.name) { closeRename(code); return; }
  btn.disabled = true;
  form.setAttribute("aria-busy", "true");
  saveDep({ code: code, name: name, active: d.active !== false }).then(function (res) {
    btn.disabled = false;
    form.removeAttribute("aria-busy");
    if (res.ok) {
      state.depEditing = null;
      notify("Se cambió el nombre: ahora es «" + name + "».", "ok");
      loadAdmin("dep-rename-" + code);
      return;
    }
    if (res.status === 401) return;
    setFieldError([inp], errEl, errMessage(res, "No se pudo cambiar el nombre."));
    inp.focus();
  });
}

function onToggleDep(btn) {
  if (state.depBusy) return;
  var code = btn.getAttribute("data-code");
  var d = findDep(code);
  if (!d) return;
  var active = d.active !== false;
  if (active && code === state.triage) return;  // the button is disabled; never send it
  var errEl = $("dep-toggle-" + code + "-error");
  setNote(errEl, "", btn);
  btn.disabled = true;
  saveDep({ code: code, name: d.name || code, active: !active }).then(function (res) {
    btn.disabled = false;
    if (res.ok) {
      notify((active ? "Se desactivó" : "Se activó") + " la dependencia «" + (d.name || code) + "».", "ok");
      loadAdmin("dep-toggle-" + code);
      return;
    }
    if (res.status === 401) return;
    setNote(errEl, errMessage(res, active ? "No se pudo desactivar la dependencia." : "No se pudo activar la dependencia."), btn);
    btn.focus();
  });
}

// The create form, and the list's buttons, rename forms and Esc (one listener
// each on the list: its rows are redrawn after every change).
export function initDependencias() {
  $("dep-create").addEventListener("submit", onCreateDep);
  var depList = $("dep-list");
  depList.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || b.disabled || !depList.contains(b)) return;
    var code = b.getAttribute("data-code");
    if (b.classList.contains("dep-rename")) openRename(code);
    else if (b.classList.contains("dep-cancel")) closeRename(code);
    else if (b.classList.contains("dep-toggle")) onToggleDep(b);
  });
  depList.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f || !f.classList || !f.classList.contains("dep-rename-form")) return;
    ev.preventDefault();
    onRenameDep(f);
  });
  depList.addEventListener("keydown", function (ev) {
    var f = ev.target && ev.target.closest ? ev.target.closest("form.dep-rename-form") : null;
    if (f && (ev.key === "Escape" || ev.key === "Esc")) {
      ev.preventDefault();
      closeRename(f.getAttribute("data-code"));
    }
  });
}
