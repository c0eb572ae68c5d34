// staff/session.js - who is signed in and which view shows: the first
// session check, login, logout, the password change (forced after a one-time
// password), the dependencias every view names (loadDependencias), and the
// routing: #/ is the queue, #/solicitud/RADICADO an item; an admin gets only
// the admin view. clearSession() leaves nothing of the last user in the page.
//
// Stable selectors:
//   #loading                      shown until the first session check ends
//   #login-view, #login-form      the login form
//   #login-user, #login-pass, #login-submit, #login-error, #login-info
//   #whoami, #whoami-name, #logout, #password-open
//   #password-view, #password-form, #pw-current, #pw-new, #pw-confirm,
//   #password-submit, #password-cancel, #password-error, #password-info
//                                 (shown by itself when the session says
//                                 password_change_required, e.g. a one-time
//                                 password: POST /api/v1/session/password)
import { api, apiError, authed, errMessage } from "./api.js";
import { clearAdmin, showAdmin } from "./dependencias.js";
import { $, clear, el, notify, setFieldError, show } from "./dom.js";
import { openItem } from "./item.js";
import { depName, label, ROLES } from "./labels.js";
import { closeLive, connectLive } from "./live.js";
import { readFilters, showQueue } from "./queue.js";
import { state } from "./state.js";

function setSession(s) {
  state.session = s;
  state.csrf = s.csrf_token || null;
  var u = s.user || {};
  $("whoami-name").textContent = (u.username || "") + " · " + label(ROLES, u.role, "") +
    (u.dependencia ? " · " + depName(u.dependencia) : "");
  show($("whoami"), true);
  show($("live-status"), u.role !== "admin");
}
function clearSession() {
  state.session = null;
  state.csrf = null;
  state.item = null;
  state.queueDirty = true;
  show($("whoami"), false);
  // nothing of the last user's work stays in the page
  clear($("notices"));
  clear($("item-view"));
  $("item-view").removeAttribute("data-radicado");
  clear($("queue").tBodies[0]);
  $("queue").removeAttribute("data-loaded");
  $("queue-summary").textContent = "";
  $("whoami-name").textContent = "";
  clearAdmin();
  closeLive();
}
export function sessionLost() {
  clearSession();
  showLogin("Su sesión terminó. Ingrese de nuevo.");
}

export function showView(name) {
  show($("loading"), false);
  show($("login-view"), name === "login");
  show($("password-view"), name === "password");
  show($("queue-view"), name === "queue");
  show($("item-view"), name === "item");
  show($("admin-view"), name === "admin");
}

function showLogin(info) {
  showView("login");
  var i = $("login-info");
  i.textContent = info || "";
  show(i, !!info);
  $("login-pass").value = "";
  setFieldError([$("login-user"), $("login-pass")], $("login-error"), "");
  document.title = "Ingreso · Ventanilla";
  $("login-user").focus();
}

function onLogin(ev) {
  ev.preventDefault();
  var user = $("login-user"), pass = $("login-pass"), btn = $("login-submit"), err = $("login-error");
  setFieldError([user, pass], err, "");
  if (!user.value.trim() || !pass.value) {
    setFieldError(!user.value.trim() ? [user] : [pass], err, "Escriba su usuario y su contraseña.");
    (!user.value.trim() ? user : pass).focus();
    return;
  }
  btn.disabled = true;
  btn.textContent = "Entrando…";
  api("POST", "/api/v1/session", { username: user.value.trim(), password: pass.value }).then(function (res) {
    btn.disabled = false;
    btn.textContent = "Entrar";
    if (res.ok && res.data && res.data.user) {
      pass.value = "";
      show($("login-info"), false);
      setSession(res.data);
      afterLogin();
      return;
    }
    var msg = errMessage(res, "No se pudo ingresar. Intente de nuevo.");
    var e = apiError(res);
    if (res.status === 429 && e.code !== "throttled" && res.headers && res.headers.get("Retry-After") &&
        !/\d/.test(msg)) {
      msg += " Intente de nuevo en " + res.headers.get("Retry-After") + " segundos.";
    }
    pass.value = "";
    setFieldError([user, pass], err, msg);
    pass.focus();
  });
}

function onLogout() {
  var btn = $("logout");
  btn.disabled = true;
  api("POST", "/api/v1/session/logout").then(function () {
    btn.disabled = false;
    clearSession();
    if (location.hash && location.hash !== "#/") history.replaceState(null, "", location.pathname);
    showLogin("Cerró la sesión.");
  });
}

function afterLogin() {
  state.filters = readFilters();  // what the browser may have kept in the form
  state.page = 1;
  if (state.session.password_change_required) {
    showPassword("Debe cambiar la contraseña de un solo uso antes de continuar.");
    return;
  }
  if (isAdmin()) {  // its view loads the dependencias itself; no live items
    route();
    return;
  }
  loadDependencias().then(function () {
    if (state.session && state.session.user) setSession(state.session);  // dependencia name
    route();
  });
  connectLive();
}

// ------------------------------------------------------- password change
export function showPassword(info) {
  showView("password");
  var i = $("password-info");
  i.textContent = info || "";
  show(i, !!info);
  ["pw-current", "pw-new", "pw-confirm"].forEach(function (id) { $(id).value = ""; });
  $("pw-username").value = (state.session && state.session.user && state.session.user.username) || "";
  setFieldError([$("pw-current"), $("pw-new"), $("pw-confirm")], $("password-error"), "");
  show($("password-cancel"), !(state.session && state.session.password_change_required));
  document.title = "Cambiar la contraseña · Ventanilla";
  $("password-title").focus();
}

function onPassword(ev) {
  ev.preventDefault();
  var cur = $("pw-current"), nw = $("pw-new"), conf = $("pw-confirm"), err = $("password-error");
  var btn = $("password-submit");
  setFieldError([cur, nw, conf], err, "");
  if (!cur.value || !nw.value) {
    setFieldError(!cur.value ? [cur] : [nw], err, "Escriba la contraseña actual y la nueva.");
    (!cur.value ? cur : nw).focus();
    return;
  }
  if (nw.value.length < 12) {
    setFieldError([nw], err, "La contraseña nueva debe tener al menos 12 caracteres.");
    nw.focus();
    return;
  }
  if (nw.value !== conf.value) {
    setFieldError([conf], err, "Las dos contraseñas nuevas no coinciden.");
    conf.focus();
    return;
  }
  btn.disabled = true;
  api("POST", "/api/v1/session/password", { current_password: cur.value, new_password: nw.value }).then(function (res) {
    btn.disabled = false;
    if (res.status === 401) { sessionLost(); return; }
    if (!res.ok) {
      var e = apiError(res);
      var bad = e.code === "wrong_password" || e.field === "current_password" ? [cur]
        : e.field === "new_password" ? [nw] : [cur, nw];
      setFieldError(bad, err, errMessage(res, "No se pudo cambiar la contraseña."));
      bad[0].focus();
      return;
    }
    cur.value = nw.value = conf.value = "";
    api("GET", "/api/v1/session").then(function (r2) {
      if (r2.ok && r2.data && r2.data.user) {
        setSession(r2.data);
        notify("Contraseña cambiada.", "ok");
        afterLogin();
      } else {
        sessionLost();
      }
    });
  });
}

// ------------------------------------------------------------ dependencias
// Every view names dependencias; the queue's filter lists them.
export function loadDependencias() {
  return authed("GET", "/api/v1/dependencias").then(function (res) {
    if (!res.ok || !res.data || !Array.isArray(res.data.dependencias)) return res;
    state.deps = res.data.dependencias;
    state.triage = typeof res.data.triage === "string" ? res.data.triage : null;
    state.depNames = {};
    state.deps.forEach(function (d) { state.depNames[d.code] = d.name || d.code; });
    var sel = $("filter-dependencia"), cur = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    state.deps.forEach(function (d) {
      sel.appendChild(el("option", { value: d.code, text: (d.name || d.code) + (d.active === false ? " (inactiva)" : "") }));
    });
    sel.value = cur;
    return res;
  });
}

// ------------------------------------------------------------------ routing
function route() {
  if (!state.session) return;
  if (state.session.password_change_required) {
    showPassword("Debe cambiar la contraseña de un solo uso antes de continuar.");
    return;
  }
  if (isAdmin()) {
    // an admin works no items: the dependencias are the whole job
    showAdmin();
    return;
  }
  var m = /^#\/solicitud\/([^/?#]+)$/.exec(location.hash || "");
  if (m) openItem(decodeURIComponent(m[1]));
  else showQueue();
}

export function isAdmin() {
  return !!(state.session && state.session.user && state.session.user.role === "admin");
}

// The session's controls: the login and password forms, the header's buttons,
// and the address (#/solicitud/RADICADO) that picks the view.
export function initSession() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  $("password-form").addEventListener("submit", onPassword);
  $("password-open").addEventListener("click", function () { showPassword(""); });
  $("password-cancel").addEventListener("click", function () {
    if (state.session && !state.session.password_change_required) route();
  });
  window.addEventListener("hashchange", route);
}

// The first session check: the open session's view, or the login form.
export function checkSession() {
  api("GET", "/api/v1/session").then(function (res) {
    if (res.ok && res.data && res.data.user) {
      setSession(res.data);
      afterLogin();
    } else if (res.status === 401) {
      showLogin("");
    } else {
      showLogin(errMessage(res, "No se pudo verificar la sesión."));
    }
  });
}
