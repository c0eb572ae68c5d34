// staff/dom.js - the staff UI's DOM helpers: $() and el(), the element
// builder (attributes with setAttribute, text with textContent, never an
// event attribute or innerHTML), clear/show, dates and sizes as es-CO writes
// them, table cells and selects, the notices, and the field errors
// (aria-invalid and aria-describedby on the controls they belong to).
//
// Stable selectors:
//   #notices                      live region; each notice is a p.notice-item

export var $ = function (id) { return document.getElementById(id); };

// -------------------------------------------------------------- DOM helpers
// el("p", {class: "x", text: "..."}, [children]); attributes are set with
// setAttribute (never event handlers), text with textContent.
export function el(tag, attrs, children) {
  var e = document.createElement(tag);
  var a = attrs || {};
  Object.keys(a).forEach(function (k) {
    var v = a[k];
    if (v === null || v === undefined || v === false) return;
    if (k === "text") e.textContent = String(v);
    else if (k === "class") e.className = v;
    else if (k === "hidden" || k === "disabled" || k === "required" || k === "multiple" ||
             k === "selected" || k === "checked") e[k] = true;
    else if (/^on/i.test(k)) throw new Error("no event attributes");
    else e.setAttribute(k, String(v));
  });
  (children || []).forEach(function (c) {
    if (c === null || c === undefined || c === false) return;
    e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return e;
}
export function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
export function show(e, on) { e.hidden = !on; }

export function fmtDate(d) {
  var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d || "");
  return m ? m[3] + "/" + m[2] + "/" + m[1] : (d || "");
}
export function fmtDateTime(iso) {
  var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  return m ? m[3] + "/" + m[2] + "/" + m[1] + " " + m[4] + ":" + m[5] : (iso || "");
}
export function timeEl(iso, text) { return el("time", { datetime: iso || null, text: text }); }
export function fmtSize(n) {
  if (typeof n !== "number") return "";
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return Math.round(n / 1024) + " KB";
  return (n / (1024 * 1024)).toFixed(1).replace(".", ",") + " MB";
}

// ----------------------------------------------------------------- notices
export function notify(text, kind) {
  var box = $("notices");
  var p = el("p", { class: "notice-item" + (kind ? " notice-" + kind : ""), text: text });
  box.appendChild(p);
  while (box.children.length > 4) box.removeChild(box.firstChild);
  setTimeout(function () { if (p.parentNode) p.parentNode.removeChild(p); }, 10000);
}

// ------------------------------------------------------------ field errors
export function setFieldError(inputs, errEl, message) {
  errEl.textContent = message || "";
  show(errEl, !!message);
  inputs.forEach(function (inp) {
    if (message) {
      inp.setAttribute("aria-invalid", "true");
      addDescribedBy(inp, errEl.id);
    } else {
      inp.removeAttribute("aria-invalid");
      removeDescribedBy(inp, errEl.id);
    }
  });
}
function addDescribedBy(inp, id) {
  var ids = (inp.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  if (ids.indexOf(id) < 0) ids.push(id);
  inp.setAttribute("aria-describedby", ids.join(" "));
}
export function removeDescribedBy(inp, id) {
  var ids = (inp.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) { return x && x !== id; });
  if (ids.length) inp.setAttribute("aria-describedby", ids.join(" "));
  else inp.removeAttribute("aria-describedby");
}

// A message that belongs to no field: shown in errEl and read with the
// control (a button) that the user acts on next.
export function setNote(errEl, message, ctl) {
  errEl.textContent = message || "";
  show(errEl, !!message);
  if (ctl) (message ? addDescribedBy : removeDescribedBy)(ctl, errEl.id);
}

// -------------------------------------------------------- selects and cells
export function fillSelect(sel, map) {
  Object.keys(map).forEach(function (k) { sel.appendChild(el("option", { value: k, text: map[k] })); });
}

export function td(labelText, children, cls) {
  return el("td", { "data-label": labelText, class: cls || null }, children);
}
