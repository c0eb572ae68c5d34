// staff.js - the staff UI at /staff: login, the queue of items, one item with
// its history and the actions the user may take, live updates, and for the
// admin role the entity's dependencias.
//
// Talks only to the staff API (docs/staff-api.md). The page is served with a
// strict Content-Security-Policy, so everything here is plain DOM: elements
// are made with createElement and filled with textContent; data never goes
// through innerHTML, so a body containing <script> shows as text.
//
// Stable selectors (used by tests/integration/test_13_staff_browser.py):
//   #loading                      shown until the first session check ends
//   #login-view, #login-form      the login form
//   #login-user, #login-pass, #login-submit, #login-error, #login-info
//   #whoami, #whoami-name, #logout, #password-open, #live-status[data-state=on|off]
//   #password-view, #password-form, #pw-current, #pw-new, #pw-confirm,
//   #password-submit, #password-cancel, #password-error, #password-info
//                                 (shown by itself when the session says
//                                 password_change_required, e.g. a one-time
//                                 password: POST /api/v1/session/password)
//   #notices                      live region; each notice is a p.notice-item
//   #queue-view, #filters         the queue and its filters:
//   #filter-q, #filter-status, #filter-type, #filter-class, #filter-channel,
//   #filter-group, #filter-dependencia, #filter-assignee, #filter-due-within,
//   #filter-overdue, #filter-submit, #filter-clear
//   #queue[data-loaded=1][data-q=...][aria-busy=false]   after each load
//   #queue tbody tr[data-radicado][data-status]  one per item; .overdue when late
//   #queue tbody tr a.item-link   opens the item (#/solicitud/RADICADO)
//   #queue-summary, #queue-message, #page-prev, #page-info, #page-next
//   #item-view[data-radicado]     the open item:
//   #item-title, #item-status[data-status], #item-stale, #item-reload,
//   #item-labels, #item-original, #item-subject, #item-body, #item-requester,
//   #item-attachments, #item-messages (tbody tr[data-message-id][data-status]),
//   #item-timeline (li[data-action]), #item-actions, #back-to-queue,
//   #item-responses (answers given; only when the API sends "responses")
//   details#action-NAME > form.action-form[data-action=NAME]   one per allowed
//     action (assign, reclassify, request_completion, complete, extend,
//     transfer, note, respond, close, reopen, deliver_letter); fields are named
//     as the API fields and have ids action-NAME-FIELD (e.g.
//     #action-assign-dependencia, #action-assign-assignee, #action-respond-text,
//     #action-respond-files, #action-deliver_letter-method);
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
//   #item-responses li[data-delivery][data-delivery-status]  an answer; a
//     letter has a.letter-link
//   #admin-view, #admin-title     the admin role's view of the dependencias (the
//                                 only view an admin gets; never shown to others)
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
(function () {
  "use strict";

  // ---------------------------------------------------------------- vocabulary
  var STATUS = {
    radicado: "Radicada", en_tramite: "En trámite", pendiente_completar: "Pendiente de completar",
    respondido: "Respondida", cerrado: "Cerrada", desistido: "Desistida", trasladado: "Trasladada"
  };
  var TYPES = {
    peticion: "Petición", queja: "Queja", reclamo: "Reclamo", sugerencia: "Sugerencia",
    denuncia: "Denuncia", felicitacion: "Felicitación"
  };
  var CLASSES = { general: "Interés general o particular", documentos: "Documentos e información", consulta: "Consulta" };
  var KINDS = { pqrsd: "PQRSD", hearing_question: "Pregunta para audiencia pública", survey_response: "Respuesta de encuesta" };
  var CHANNELS = {
    web: "Página web", email: "Correo electrónico", whatsapp: "WhatsApp", staff: "Ventanilla presencial",
    postal: "Correo postal", publicacion: "Publicación en la página de respuestas",
    carta: "Carta impresa", consulta: "Página de consulta del ciudadano", no_enviado: "No se envió"
  };
  var LETTER_METHODS = { entrega_personal: "Entregada en persona", correo_postal: "Enviada por correo postal" };
  var GROUPS = {
    ciudadania: "Ciudadanía", nna: "Niños, niñas y adolescentes", organizaciones_sociales: "Organizaciones sociales",
    entidades_publicas: "Entidades públicas", organismos_control: "Organismos de control",
    medios: "Medios de comunicación", sector_privado: "Sector privado", academia: "Academia",
    servidores_publicos: "Servidores públicos"
  };
  var ROLES = {
    agente: "Agente", coordinador: "Coordinación", gerente: "Gerencia", moderador: "Moderación",
    admin: "Administración"
  };
  var DELIVERY = {
    pending: "En cola", sending: "Enviando", sent: "Enviado", delivered: "Entregado", read: "Leído",
    dead: "No se pudo entregar", failed: "No se pudo entregar",
    undeliverable: "Fuera de la ventana de WhatsApp", superseded: "Reemplazado"
  };
  var MESSAGE_KINDS = {
    ack: "Acuse de recibo", respuesta: "Respuesta", reply: "Respuesta", traslado: "Aviso de traslado",
    completar: "Solicitud de completar", completada: "Aviso: solicitud completada", prorroga: "Aviso de prórroga",
    prompt: "Pregunta al ciudadano", status: "Aviso de estado", read: "Confirmación de lectura"
  };
  var PERSON_TYPES = { natural: "Persona natural", juridica: "Persona jurídica", nna: "Niña, niño o adolescente", anonimo: "Anónimo" };
  var REQUESTER_FIELDS = [
    ["person_type", "Tipo de persona"], ["name", "Nombre"], ["id_type", "Tipo de documento"],
    ["id_number", "Número de documento"], ["email", "Correo electrónico"], ["phone", "Teléfono"],
    ["address", "Dirección"], ["municipality", "Municipio"], ["characterization", "Caracterización"],
    ["reply_channel", "Medio de respuesta"]
  ];
  var TIMELINE_ACTIONS = {
    radicado: "Se radicó la solicitud.", asignado: "Se asignó a una dependencia.",
    reclasificado: "Se corrigió la clasificación.", completar_solicitado: "Se pidió al ciudadano completar la solicitud.",
    completada: "La solicitud quedó completa.", prorrogado: "Se prorrogó el término de respuesta.",
    trasladado: "Se trasladó a la entidad competente.", nota: "Nota interna.", respondido: "Se respondió al ciudadano.",
    cerrado: "Se cerró la solicitud.", reabierto: "Se reabrió la solicitud.",
    desistido: "Se archivó por desistimiento tácito.",
    respuesta_entregada: "Se entregó al ciudadano la carta con la respuesta."
  };
  // The details of an audit event worth showing, with their Spanish names;
  // the rest (ids, hashes, raw timestamps) stays out of the way.
  var DETAIL_KEYS = [
    ["dependencia", "Dependencia", "dep"], ["assignee", "Responsable"], ["text", "Texto"], ["note", "Nota"],
    ["reason", "Motivo"], ["entity", "Entidad"], ["entity_email", "Correo de la entidad"],
    ["deadline", "Plazo para completar", "date"], ["due_date", "Vence", "date"],
    ["previous_due_date", "Vencimiento anterior", "date"], ["from", "Antes", "change"], ["to", "Después", "change"],
    ["channel", "Medio", "channel"], ["notified_by", "Aviso por", "channel"], ["published", "Publicada en la página de respuestas", "true"],
    ["attachments", "Adjuntos", "count"], ["within_5_days", "Dentro de los 5 días hábiles", "bool"],
    ["requested", "Pedida por", "channel"], ["method", "Entrega", "method"]
  ];

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

  function label(map, k, fallback) {
    if (k === null || k === undefined || k === "") return fallback === undefined ? "—" : fallback;
    return Object.prototype.hasOwnProperty.call(map, k) ? map[k] : String(k);
  }

  // ------------------------------------------------------------------- state
  var state = {
    session: null,      // the session object of the API
    csrf: null,         // kept in memory only
    deps: [],           // [{code, name, active}]
    depNames: {},
    triage: null,       // the triage dependencia's code (GET /api/v1/dependencias)
    depSeq: 0,
    depEditing: null,   // code of the row whose rename form is open
    depBusy: false,
    surveys: [],        // GET /api/v1/surveys
    svSeq: 0,
    svEditing: null,    // code of the survey whose new version is being edited
    svQuestions: [],    // the editor's questions: [{id, type, text, required, options (text)}]
    svBusy: false,
    svExportUrl: null,  // the blob: URL of the last export
    filters: {},
    page: 1,
    perPage: 25,
    queueSeq: 0,
    queueDirty: true,
    item: null,
    itemSeq: 0,
    ws: null,
    wsDelay: 1000,
    wsTimer: null,
    refreshTimer: null
  };

  var $ = function (id) { return document.getElementById(id); };

  // -------------------------------------------------------------- DOM helpers
  // el("p", {class: "x", text: "..."}, [children]); attributes are set with
  // setAttribute (never event handlers), text with textContent.
  function el(tag, attrs, children) {
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
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function show(e, on) { e.hidden = !on; }

  function fmtDate(d) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : (d || "");
  }
  function fmtDateTime(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] + " " + m[4] + ":" + m[5] : (iso || "");
  }
  function timeEl(iso, text) { return el("time", { datetime: iso || null, text: text }); }
  function fmtSize(n) {
    if (typeof n !== "number") return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return Math.round(n / 1024) + " KB";
    return (n / (1024 * 1024)).toFixed(1).replace(".", ",") + " MB";
  }
  function depName(code) {
    if (!code) return "Sin asignar";
    return state.depNames[code] || code;
  }

  // ----------------------------------------------------------------- notices
  function notify(text, kind) {
    var box = $("notices");
    var p = el("p", { class: "notice-item" + (kind ? " notice-" + kind : ""), text: text });
    box.appendChild(p);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { if (p.parentNode) p.parentNode.removeChild(p); }, 10000);
  }

  // --------------------------------------------------------------------- API
  function api(method, path, body) {
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
  function authed(method, path, body) {
    return api(method, path, body).then(function (res) {
      if (res.status === 401 && state.session) sessionLost();
      else if (res.status === 403 && apiError(res).code === "password_change_required" && state.session) {
        state.session.password_change_required = true;
        showPassword(apiError(res).message);
      }
      return res;
    });
  }
  function apiError(res) {
    return (res.data && res.data.error) || {};
  }
  function errMessage(res, fallback) {
    var e = apiError(res);
    if (e.message) return e.message;
    if (res.status === 0) return "No se pudo conectar con el servidor. Revise la conexión e intente de nuevo.";
    if (res.status === 401) return "Su sesión terminó. Ingrese de nuevo.";
    if (res.status === 403) return "No tiene permiso para hacer esto.";
    if (res.status === 404) return "No se encontró lo que buscaba.";
    return fallback || ("Ocurrió un error (" + res.status + "). Intente de nuevo.");
  }

  // ----------------------------------------------------------------- session
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
  function sessionLost() {
    clearSession();
    showLogin("Su sesión terminó. Ingrese de nuevo.");
  }

  function showView(name) {
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

  function setFieldError(inputs, errEl, message) {
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
  function removeDescribedBy(inp, id) {
    var ids = (inp.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) { return x && x !== id; });
    if (ids.length) inp.setAttribute("aria-describedby", ids.join(" "));
    else inp.removeAttribute("aria-describedby");
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
  function showPassword(info) {
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

  function loadDependencias() {
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

  // -------------------------------------------------------------------- queue
  function fillSelect(sel, map) {
    Object.keys(map).forEach(function (k) { sel.appendChild(el("option", { value: k, text: map[k] })); });
  }

  function readFilters() {
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

  function showQueue() {
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

  function td(labelText, children, cls) {
    return el("td", { "data-label": labelText, class: cls || null }, children);
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
  function refreshQueueSoon() {
    state.queueDirty = true;
    if ($("queue-view").hidden) return;
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(function () { if (!$("queue-view").hidden) loadQueue(); }, 600);
  }

  // --------------------------------------------------------------------- item
  function openItem(radicado) {
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
    return el("section", { class: "item-section", "aria-labelledby": hid }, [el("h2", { id: hid, text: title })].concat(children));
  }

  function dl(id, rows) {
    var d = el("dl", { id: id, class: "facts" });
    rows.forEach(function (r) {
      if (!r) return;
      d.appendChild(el("div", { class: "fact" }, [el("dt", { text: r[0] }), el("dd", {}, Array.isArray(r[1]) ? r[1] : [String(r[1])])]));
    });
    return d;
  }

  function renderItem(it, focus) {
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
        el("span", { class: "what", text: e.description || label(TIMELINE_ACTIONS, e.action) })
      ]);
      var bits = detailBits(e.details);
      if (bits.length) li.appendChild(el("div", { class: "details", text: bits.join(" · ") }));
      ol.appendChild(li);
    });
    return ol;
  }

  function actorName(a) {
    if (!a || a === "system" || a === "sistema") return "Sistema";
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

  function showResult(name, spec, data) {
    var text = resultText(name, spec, data);
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

  // ------------------------------------------------------------------ actions
  function renderActions(it) {
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
      if (res.ok && res.data && res.data.out_of_scope) {
        // the action routed the item away from this user's scope
        state.queueDirty = true;
        state.item = null;
        notify(resultText(name, spec, res.data) + " La solicitud " + (res.data.radicado || it.radicado) + " pasó a " +
               depName(res.data.dependencia) + " y ya no está en su bandeja.", "ok");
        if (/^#\/solicitud\//.test(location.hash)) location.hash = "#/";
        else showQueue();
        return;
      }
      if (res.ok && res.data && res.data.radicado) {
        state.queueDirty = true;
        renderItem(res.data, false);
        showResult(name, spec, res.data);
        var st = $("item-status");
        if (st) { st.setAttribute("tabindex", "-1"); st.focus(); }
        return;
      }
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

  // ------------------------------------------------------------ dependencias
  // The admin role's view: list, create, rename, deactivate (POST
  // /api/v1/dependencias creates or updates one: {code, name, active}).
  function isAdmin() {
    return !!(state.session && state.session.user && state.session.user.role === "admin");
  }

  function showAdmin() {
    if (!isAdmin()) { showQueue(); return; }
    var wasHidden = $("admin-view").hidden;
    showView("admin");
    document.title = "Dependencias · Ventanilla";
    if (wasHidden && (document.activeElement === document.body || !document.activeElement)) $("admin-title").focus();
    loadAdmin();
    loadSurveys();
  }

  function clearAdmin() {
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

  // Which of the given controls the API's error names (error.field).
  function errorTarget(res, byField, fallback) {
    var f = apiError(res).field;
    return (f && Object.prototype.hasOwnProperty.call(byField, f)) ? byField[f] : fallback;
  }

  // A message that belongs to no field: shown in errEl and read with the
  // control (a button) that the user acts on next.
  function setNote(errEl, message, ctl) {
    errEl.textContent = message || "";
    show(errEl, !!message);
    if (ctl) (message ? addDescribedBy : removeDescribedBy)(ctl, errEl.id);
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

  // ------------------------------------------------------------------ surveys
  // The admin's surveys (src/survey_api.c): GET /api/v1/surveys lists them,
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

  function clearSurveys() {
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

  function loadSurveys(focusId) {
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

  function initSurveys() {
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

  // --------------------------------------------------------------------- live
  function setLiveStatus(on) {
    var s = $("live-status");
    s.setAttribute("data-state", on ? "on" : "off");
    s.textContent = on ? "En vivo" : "Sin conexión en vivo";
  }

  function connectLive() {
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

  function closeLive() {
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

  // --------------------------------------------------------------------- init
  function init() {
    fillSelect($("filter-status"), STATUS);
    fillSelect($("filter-type"), TYPES);
    fillSelect($("filter-class"), CLASSES);
    fillSelect($("filter-channel"), { web: CHANNELS.web, email: CHANNELS.email, whatsapp: CHANNELS.whatsapp, staff: CHANNELS.staff });
    fillSelect($("filter-group"), GROUPS);

    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("password-form").addEventListener("submit", onPassword);
    $("password-open").addEventListener("click", function () { showPassword(""); });
    $("password-cancel").addEventListener("click", function () {
      if (state.session && !state.session.password_change_required) route();
    });
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
    $("item-view").addEventListener("click", function (ev) {
      if (ev.target && ev.target.id === "item-reload" && state.item) openItem(state.item.radicado);
    });
    $("dep-create").addEventListener("submit", onCreateDep);
    initSurveys();
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
    window.addEventListener("hashchange", route);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && state.session && !state.ws) connectLive();
    });

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

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
