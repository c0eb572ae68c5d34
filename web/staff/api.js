// staff/api.js - the staff UI's calls to the staff API (docs/staff-api.md):
// api() fetches as JSON with the CSRF token (state.csrf, in memory only) on
// every POST and never rejects (a network error is status 0); authed() is
// api() for a signed-in user: a 401 sends them back to the login form, a 403
// password_change_required to the password form. apiError(), errMessage() and
// errorTarget() turn the API's error into Spanish text and the control it names.
import { sessionLost, showPassword } from "./session.js";
import { state } from "./state.js";

export function api(method, path, body) {
  var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
  if (method !== "GET") {
    // every POST is JSON, even one without fields (the API answers 415 otherwise)
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body === undefined ? {} : body);
  }
  if (method !== "GET" && state.csrf) opts.headers["X-CSRF-Token"] = state.csrf;
  return fetch(path, opts).then(function (r) {
    return r.text().then(function (t) {
      var data = null;
      if (t) { try { data = JSON.parse(t); } catch (e) { data = null; } }
      return { status: r.status, ok: r.ok, data: data, headers: r.headers };
    });
  }, function () { return { status: 0, ok: false, data: null, headers: null }; });
}
// Like api(), but a lost session sends the user back to the login form.
export function authed(method, path, body) {
  return api(method, path, body).then(function (res) {
    if (res.status === 401 && state.session) sessionLost();
    else if (res.status === 403 && apiError(res).code === "password_change_required" && state.session) {
      state.session.password_change_required = true;
      showPassword(apiError(res).message);
    }
    return res;
  });
}
export function apiError(res) {
  return (res.data && res.data.error) || {};
}
export function errMessage(res, fallback) {
  var e = apiError(res);
  if (e.message) return e.message;
  if (res.status === 0) return "No se pudo conectar con el servidor. Revise la conexión e intente de nuevo.";
  if (res.status === 401) return "Su sesión terminó. Ingrese de nuevo.";
  if (res.status === 403) return "No tiene permiso para hacer esto.";
  if (res.status === 404) return "No se encontró lo que buscaba.";
  return fallback || ("Ocurrió un error (" + res.status + "). Intente de nuevo.");
}

// Which of the given controls the API's error names (error.field).
export function errorTarget(res, byField, fallback) {
  var f = apiError(res).field;
  return (f && Object.prototype.hasOwnProperty.call(byField, f)) ? byField[f] : fallback;
}
