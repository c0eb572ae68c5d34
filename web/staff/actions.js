// staff/actions.js - the action forms of the open item, one per action the
// API allows (assign, reclassify, request_completion, complete, extend,
// transfer, note, respond, close, reopen, deliver_letter): their fields, the
// assignees of the chosen dependencia, the respond form's delivery choice
// (how the answer will reach the citizen, shown before sending), the files
// read as base64, the submit and what the action actually did (afterAction,
// shared with suggestions.js, whose "classify" has no form here).
//
// Stable selectors:
//   details#action-NAME > form.action-form[data-action=NAME]   one per allowed
//     action; fields are named as the API fields and have ids
//     action-NAME-FIELD (e.g. #action-assign-dependencia,
//     #action-assign-assignee, #action-respond-text, #action-respond-files,
//     #action-deliver_letter-method);
//     submit button: #action-NAME-submit; error: #action-NAME-error
//   #action-respond-delivery[data-loaded=1]  how the answer will reach the
//     citizen, from GET /api/v1/items/R/delivery, shown before sending:
//     #action-respond-delivery-summary, one radio
//     input[name=delivery][value=WAY] per way (#action-respond-delivery-WAY,
//     disabled when not available, its explanation beside it), and
//     #action-respond-how (the chosen way in one sentence)
//   #action-result[data-outcome]  after an action, what it actually did
//     (built from the API's "result": "en cola de envío" only when outbox
//     rows were queued); #action-result-letter links the letter to print
import { apiError, authed, errMessage } from "./api.js";
import { $, el, fillSelect, notify, setFieldError } from "./dom.js";
import { renderItem } from "./item.js";
import { CHANNELS, CLASSES, depName, GROUPS, label, LETTER_METHODS, ROLES, TYPES } from "./labels.js";
import { showQueue } from "./queue.js";
import { state } from "./state.js";

// The action forms, in the order they are shown.
var ACTIONS = {
  respond: {
    title: "Responder", submit: "Enviar respuesta", done: "Respuesta registrada.",
    fields: [
      { name: "text", label: "Respuesta al ciudadano", kind: "textarea", rows: 8, required: true },
      { name: "attachments", id: "files", label: "Adjuntos (opcional)", kind: "file",
        help: "Puede adjuntar uno o varios archivos; se envían con la respuesta." }
    ]
  },
  assign: {
    title: "Asignar", submit: "Asignar", done: "Solicitud asignada.",
    fields: [
      { name: "dependencia", label: "Dependencia", kind: "dependencia", required: true },
      { name: "assignee", label: "Responsable (opcional)", kind: "assignee" }
    ]
  },
  reclassify: {
    title: "Reclasificar", submit: "Reclasificar", done: "Clasificación actualizada.",
    help: "Cambie solo lo que corresponda; lo que deje en «Sin cambio» se conserva.",
    fields: [
      { name: "type", label: "Tipo", kind: "select", options: TYPES, empty: "Sin cambio" },
      { name: "petition_class", label: "Clase de petición", kind: "select", options: CLASSES, empty: "Sin cambio" },
      { name: "group", label: "Grupo de interés", kind: "select", options: GROUPS, empty: "Sin cambio" }
    ]
  },
  request_completion: {
    title: "Pedir que complete la solicitud", submit: "Pedir información", done: "Se pidió al ciudadano completar la solicitud.",
    help: "Solo dentro de los 10 días hábiles siguientes a la radicación. El plazo se suspende hasta que responda.",
    fields: [{ name: "text", label: "Qué información o documentos faltan", kind: "textarea", rows: 4, required: true }]
  },
  complete: {
    title: "Marcar como completada", submit: "Marcar como completada", done: "La solicitud quedó completa y en trámite.",
    help: "Úselo cuando el ciudadano entregó lo que faltaba, por ejemplo en persona.",
    fields: [{ name: "note", label: "Nota (opcional)", kind: "textarea", rows: 3 }]
  },
  extend: {
    title: "Prorrogar el plazo", submit: "Prorrogar", done: "Plazo prorrogado.",
    help: "Solo una vez y antes del vencimiento. Explique el motivo al ciudadano.",
    fields: [
      { name: "reason", label: "Motivo de la prórroga", kind: "textarea", rows: 3, required: true },
      { name: "due_date", label: "Nueva fecha de vencimiento", kind: "date", required: true }
    ]
  },
  transfer: {
    title: "Trasladar por competencia", submit: "Trasladar", done: "Solicitud trasladada.",
    fields: [
      { name: "entity", label: "Entidad competente", kind: "text", required: true },
      { name: "entity_email", label: "Correo de la entidad (opcional)", kind: "email" },
      { name: "reason", label: "Motivo del traslado", kind: "textarea", rows: 3, required: true }
    ]
  },
  note: {
    title: "Agregar nota interna", submit: "Agregar nota", done: "Nota agregada.",
    help: "El ciudadano no ve las notas internas.",
    fields: [{ name: "text", label: "Nota", kind: "textarea", rows: 3, required: true }]
  },
  close: {
    title: "Cerrar", submit: "Cerrar la solicitud", done: "Solicitud cerrada.",
    fields: [{ name: "reason", label: "Motivo del cierre", kind: "textarea", rows: 3,
               help: "Obligatorio si la solicitud no ha sido respondida." }]
  },
  reopen: {
    title: "Reabrir", submit: "Reabrir", done: "Solicitud reabierta.",
    fields: [{ name: "reason", label: "Motivo de la reapertura", kind: "textarea", rows: 3, required: true }]
  },
  deliver_letter: {
    title: "Marcar la carta como entregada", submit: "Marcar como entregada", done: "Entrega registrada.",
    help: "Úselo cuando haya entregado en persona o enviado por correo postal la carta impresa con la respuesta.",
    fields: [
      { name: "method", label: "Cómo se entregó", kind: "select", options: LETTER_METHODS, empty: false },
      { name: "note", label: "Nota (opcional)", kind: "textarea", rows: 2,
        help: "Por ejemplo, el número de guía del correo o quién la recibió." }
    ]
  }
};
var ACTION_ORDER = ["respond", "deliver_letter", "assign", "reclassify", "request_completion", "complete", "extend",
                    "transfer", "note", "close", "reopen"];

// What an action actually did, from the API's "result": "en cola de envío"
// only when the action queued outbox rows.
function resultText(name, spec, data) {
  var r = data && data.result;
  if (!r || typeof r !== "object") return spec.done;
  var ids = Array.isArray(r.outbox_ids) ? r.outbox_ids : [];
  var ch = label(CHANNELS, r.delivery, "—");
  var respond = name === "respond";
  switch (r.outcome) {
    case "queued":
      if (!ids.length) break;
      return spec.done + (respond ? " El mensaje con la respuesta" : " El aviso al ciudadano") +
        " quedó en cola de envío por " + ch + " (" + (ids.length === 1 ? "mensaje n.º " : "mensajes n.º ") + ids.join(", ") + ").";
    case "published":
      return spec.done + " Quedó publicada en la página de respuestas y en la consulta del radicado; no se envió ningún mensaje.";
    case "letter_pending":
      if (!r.letter_url) {
        return spec.done + " No se envió ningún mensaje: la carta la imprime una persona autorizada para ver la identidad del solicitante, y se marca como entregada cuando se entregue.";
      }
      return spec.done + " No se envió ningún mensaje: imprima la carta y márquela como entregada cuando la entregue o la envíe por correo postal.";
    case "letter_delivered":
      return spec.done;
    case "status_page":
      return spec.done + (respond ? " No se envió ningún mensaje: el ciudadano la ve" : " No se envió ningún aviso: el ciudadano lo ve") +
        " en la página de consulta con su radicado y su código.";
    case "not_sent":
      return spec.done + " No se envió ningún aviso al ciudadano: su medio de respuesta no está disponible aquí.";
  }
  return spec.done;
}

function showResult(text, data) {
  var r = (data && data.result) || {};
  var view = $("item-view");
  var old = $("action-result");
  if (old) old.parentNode.removeChild(old);
  var p = el("p", { id: "action-result", class: "notice action-result", role: "status", "data-outcome": r.outcome || "" }, [text]);
  if (typeof r.letter_url === "string" && /^\/api\/v1\/items\//.test(r.letter_url)) {
    p.appendChild(document.createTextNode(" "));
    p.appendChild(el("a", { id: "action-result-letter", href: r.letter_url, target: "_blank", rel: "noopener", text: "Imprimir la carta" }));
  }
  var status = $("item-status");
  if (view && status && status.parentNode === view) view.insertBefore(p, status.nextSibling);
  notify(text, "ok");
}

// What a successful action shows, whichever form sent it (suggestions.js
// too): the item as the API answered it with text as #action-result, or,
// when the action took the item out of the user's scope, the queue and a
// notice saying where it went. Returns false when res is not a success.
export function afterAction(it, res, text) {
  if (!res.ok || !res.data) return false;
  if (res.data.out_of_scope) {
    state.queueDirty = true;
    state.item = null;
    notify(text + " La solicitud " + (res.data.radicado || it.radicado) + " pasó a " +
           depName(res.data.dependencia) + " y ya no está en su bandeja.", "ok");
    if (/^#\/solicitud\//.test(location.hash)) location.hash = "#/";
    else showQueue();
    return true;
  }
  if (!res.data.radicado) return false;
  state.queueDirty = true;
  renderItem(res.data, false);
  showResult(text, res.data);
  var st = $("item-status");
  if (st) { st.setAttribute("tabindex", "-1"); st.focus(); }
  return true;
}

export function renderActions(it) {
  var box = el("div", { id: "item-actions", class: "actions" });
  var allowed = Array.isArray(it.actions) ? it.actions : [];
  var shown = ACTION_ORDER.filter(function (a) { return allowed.indexOf(a) >= 0; });
  if (!shown.length) {
    box.appendChild(el("p", { class: "empty-note", text: "No hay acciones disponibles para su rol en este estado de la solicitud." }));
    return box;
  }
  shown.forEach(function (name) { box.appendChild(actionForm(it, name)); });
  return box;
}

function fieldControl(it, name, f) {
  var id = "action-" + name + "-" + (f.id || f.name);
  var helpId = f.help ? id + "-help" : null;
  var common = { id: id, name: f.name, "aria-describedby": helpId, required: f.required };
  var ctl;
  if (f.kind === "textarea") {
    ctl = el("textarea", Object.assign({ rows: String(f.rows || 3) }, common));
  } else if (f.kind === "file") {
    ctl = el("input", Object.assign({ type: "file", multiple: true }, common));
  } else if (f.kind === "date") {
    ctl = el("input", Object.assign({ type: "date" }, common));
  } else if (f.kind === "email") {
    ctl = el("input", Object.assign({ type: "email", autocomplete: "off" }, common));
  } else if (f.kind === "text") {
    ctl = el("input", Object.assign({ type: "text" }, common));
  } else if (f.kind === "select") {
    ctl = el("select", common, f.empty === false ? [] : [el("option", { value: "", text: f.empty || "Seleccione" })]);
    fillSelect(ctl, f.options);
  } else if (f.kind === "dependencia") {
    ctl = el("select", common);
    var deps = state.deps.filter(function (d) { return d.active !== false || d.code === it.dependencia; });
    var codes = deps.map(function (d) { return d.code; });
    var mine = state.session && state.session.user.dependencia;
    [it.dependencia, mine].forEach(function (c) {
      if (c && codes.indexOf(c) < 0) { deps.push({ code: c, name: c }); codes.push(c); }
    });
    if (!deps.length) ctl.appendChild(el("option", { value: "", text: "No hay dependencias" }));
    deps.forEach(function (d) { ctl.appendChild(el("option", { value: d.code, text: d.name || d.code })); });
    ctl.value = it.dependencia || mine || (deps[0] && deps[0].code) || "";
  } else if (f.kind === "assignee") {
    ctl = el("select", common, [el("option", { value: "", text: "Sin responsable" })]);
  }
  var children = [el("label", { for: id, text: f.label + (f.required ? " (obligatorio)" : "") })];
  if (f.help) children.push(el("p", { id: helpId, class: "help", text: f.help }));
  children.push(ctl);
  return el("div", { class: "field" }, children);
}

function loadAssignees(form, it) {
  var depSel = form.elements.namedItem("dependencia");
  var sel = form.elements.namedItem("assignee");
  var note = form.querySelector(".assignee-note");
  var dep = depSel.value;
  var keep = sel.value || it.assignee || "";
  while (sel.options.length > 1) sel.remove(1);
  sel.setAttribute("data-loaded", "0");
  note.textContent = "";
  if (!dep) return;
  authed("GET", "/api/v1/users?dependencia=" + encodeURIComponent(dep)).then(function (res) {
    if (depSel.value !== dep) return;
    if (res.ok && res.data && Array.isArray(res.data.users)) {
      res.data.users.forEach(function (u) {
        sel.appendChild(el("option", { value: u.username, text: u.username + " (" + label(ROLES, u.role, u.role) + ")" }));
      });
      if (!res.data.users.length) note.textContent = "Esa dependencia no tiene personas habilitadas.";
      sel.value = keep;
      if (sel.value !== keep) sel.value = "";
    } else if (res.status !== 401) {
      note.textContent = res.status === 403 ? "No puede ver las personas de esa dependencia; puede asignarla sin responsable."
        : errMessage(res, "No se pudo cargar la lista de personas.");
    }
    sel.setAttribute("data-loaded", "1");
  });
}

function actionForm(it, name) {
  var spec = ACTIONS[name];
  var errId = "action-" + name + "-error";
  var form = el("form", { class: "action-form", "data-action": name, novalidate: "novalidate" });
  if (spec.help) form.appendChild(el("p", { class: "help", text: spec.help }));
  spec.fields.forEach(function (f) {
    if (name === "close" && f.name === "reason" && it.status !== "respondido") {
      f = Object.assign({}, f, { required: true });
    }
    form.appendChild(fieldControl(it, name, f));
  });
  if (name === "assign") {
    form.appendChild(el("p", { class: "help assignee-note", "aria-live": "polite" }));
    form.elements.namedItem("dependencia").addEventListener("change", function () { loadAssignees(form, it); });
    loadAssignees(form, it);
  }
  if (name === "respond") {
    form.appendChild(deliveryBox(it, form));
  }
  if (name === "reclassify") {
    var cls = form.elements.namedItem("petition_class"), typ = form.elements.namedItem("type");
    var sync = function () {
      var t = typ.value || it.type;
      cls.disabled = t !== "peticion";
      if (cls.disabled) cls.value = "";
    };
    typ.addEventListener("change", sync);
    sync();
  }
  form.appendChild(el("p", { id: errId, class: "error", role: "alert", hidden: true }));
  form.appendChild(el("button", { id: "action-" + name + "-submit", type: "submit", text: spec.submit }));
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    submitAction(it, name, form);
  });
  var details = el("details", { id: "action-" + name, class: "action" }, [el("summary", { text: spec.title }), form]);
  return details;
}

// The respond form's "how will it reach the citizen", shown before sending:
// the ways GET /api/v1/items/R/delivery lists, the unavailable ones
// disabled with the reason, the default chosen.
function deliveryBox(it, form) {
  var box = el("fieldset", { id: "action-respond-delivery", class: "delivery-choice", "data-loaded": "0" }, [
    el("legend", { text: "Cómo llegará la respuesta al ciudadano" }),
    el("p", { id: "action-respond-delivery-summary", class: "help", "aria-live": "polite", text: "Consultando cómo puede llegar la respuesta…" }),
    el("div", { class: "delivery-options" }),
    el("p", { id: "action-respond-how", class: "delivery-how", "aria-live": "polite" })
  ]);
  var opts = box.querySelector(".delivery-options");
  var how = box.querySelector("#action-respond-how");
  var submit = function () { return form.querySelector("button[type=submit]"); };
  var describe = function (data) {
    var chosen = form.querySelector("input[name=delivery]:checked");
    var o = chosen && data.options.filter(function (x) { return x.delivery === chosen.value; })[0];
    var btn = submit();
    if (!o) {
      how.textContent = "Elija cómo llegará la respuesta antes de enviarla.";
      if (btn) btn.textContent = "Registrar respuesta";
      return;
    }
    var text = "La respuesta irá por: " + o.label + (o.address ? " (" + o.address + ")" : "") + ". " + o.explanation;
    how.textContent = text;
    if (btn) {
      btn.textContent = o.delivery === "email" || o.delivery === "whatsapp" ? "Enviar respuesta"
        : o.delivery === "publicacion" ? "Publicar respuesta"
        : o.delivery === "carta" ? "Registrar respuesta y preparar la carta" : "Registrar respuesta";
    }
  };
  authed("GET", "/api/v1/items/" + encodeURIComponent(it.radicado) + "/delivery").then(function (res) {
    var data = res.ok && res.data && Array.isArray(res.data.options) ? res.data : null;
    if (!data) {
      box.querySelector("#action-respond-delivery-summary").textContent =
        "No se pudo saber cómo llegará la respuesta. Al enviarla, el sistema usará el medio que pidió el ciudadano si está disponible, o le pedirá elegir otro.";
      box.setAttribute("data-loaded", "1");
      return;
    }
    box.querySelector("#action-respond-delivery-summary").textContent = data.summary || "";
    data.options.forEach(function (o) {
      var id = "action-respond-delivery-" + o.delivery;
      var input = el("input", { type: "radio", name: "delivery", id: id, value: o.delivery,
                                disabled: !o.available, checked: data["default"] === o.delivery,
                                "aria-describedby": id + "-why" });
      input.addEventListener("change", function () { describe(data); });
      var title = o.label + (o.requested ? " (lo pidió el ciudadano)" : "") + (o.address ? ": " + o.address : "");
      opts.appendChild(el("div", { class: "field check delivery-option" + (o.available ? "" : " unavailable"), "data-available": o.available ? "1" : "0" }, [
        input, el("label", { for: id, text: title }),
        el("p", { id: id + "-why", class: "help", text: (o.available ? "" : "No disponible: ") + o.explanation })
      ]));
    });
    describe(data);
    box.setAttribute("data-loaded", "1");
  });
  return box;
}

function readFileBase64(file) {
  return new Promise(function (resolve, reject) {
    var r = new FileReader();
    r.onload = function () {
      var s = String(r.result || "");
      var comma = s.indexOf(",");
      resolve({ filename: file.name, content_base64: comma >= 0 ? s.slice(comma + 1) : "" });
    };
    r.onerror = function () { reject(new Error("No se pudo leer el archivo " + file.name + ".")); };
    r.readAsDataURL(file);
  });
}

function submitAction(it, name, form) {
  var spec = ACTIONS[name];
  var errEl = form.querySelector("#action-" + name + "-error");
  var btn = form.querySelector("button[type=submit]");
  var controls = Array.prototype.slice.call(form.querySelectorAll("input, select, textarea"));
  setFieldError(controls, errEl, "");
  var payload = { action: name };
  var files = [];
  controls.forEach(function (c) {
    if (!c.name || c.disabled) return;
    if (c.type === "radio" && !c.checked) return;
    if (c.type === "file") {
      Array.prototype.forEach.call(c.files || [], function (f) { files.push(f); });
      return;
    }
    var v = c.tagName === "TEXTAREA" ? c.value.replace(/\s+$/, "") : c.value.trim();
    if (v !== "") payload[c.name] = v;
  });
  // the form can say what is missing before the server does
  var missing = controls.filter(function (c) { return c.required && !c.disabled && c.type !== "file" && !payload[c.name]; });
  if (missing.length) {
    setFieldError(missing, errEl, "Complete: " + missing.map(function (c) {
      var l = form.querySelector("label[for='" + c.id + "']");
      return l ? l.textContent.replace(/ \(obligatorio\)$/, "") : c.name;
    }).join(", ") + ".");
    missing[0].focus();
    return;
  }
  if (name === "reclassify" && !payload.type && !payload.petition_class && !payload.group) {
    setFieldError(controls, errEl, "Elija al menos un cambio de clasificación.");
    return;
  }
  var radios = controls.filter(function (c) { return c.type === "radio" && c.name === "delivery"; });
  if (name === "respond" && radios.length && !payload.delivery) {
    setFieldError(radios, errEl, "Elija cómo llegará la respuesta al ciudadano.");
    var first = radios.filter(function (c) { return !c.disabled; })[0];
    if (first) first.focus();
    return;
  }
  btn.disabled = true;
  form.setAttribute("aria-busy", "true");
  Promise.all(files.map(readFileBase64)).then(function (atts) {
    if (atts.length) payload.attachments = atts;
    return authed("POST", "/api/v1/items/" + encodeURIComponent(it.radicado) + "/actions", payload);
  }).then(function (res) {
    btn.disabled = false;
    form.removeAttribute("aria-busy");
    if (afterAction(it, res, resultText(name, spec, res.data))) return;
    if (res.status === 401) return;
    var e = apiError(res);
    var bad = [];
    if (e.field) {
      var base = String(e.field).split(/[.[]/)[0];
      bad = controls.filter(function (c) { return c.name === e.field || c.name === base; });
    }
    setFieldError(bad.length ? bad : controls, errEl, errMessage(res, "No se pudo completar la acción."));
    if (bad.length) bad[0].focus();
  }, function (err) {
    btn.disabled = false;
    form.removeAttribute("aria-busy");
    setFieldError(controls.filter(function (c) { return c.type === "file"; }), errEl, err.message || "No se pudo leer un archivo.");
  });
}
