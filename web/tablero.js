// tablero.js - /tablero. The public page: subscribes to /live ("items",
// "metrics") and redraws the counts and the latest filings. The managers'
// page (a gerente's session, #tablero[data-view=gerencia]): subscribes to
// "dashboard" and draws each figure as a Chart.js chart (when
// /static/vendor/chart.js loaded) and as a table of the same data, which
// screen readers always reach and everyone can show with a button. Both
// update in place on every message, without reloading. No personal data
// reaches either; nothing here writes inline styles or scripts (CSP).
(function () {
  "use strict";
  var estado = document.getElementById("estado");
  var root = document.getElementById("tablero");
  var manager = !!root && root.dataset.view === "gerencia";
  var labels = {
    web: "Página web", email: "Correo electrónico", whatsapp: "WhatsApp", staff: "Ventanilla",
    peticion: "Petición", queja: "Queja", reclamo: "Reclamo", sugerencia: "Sugerencia",
    denuncia: "Denuncia", felicitacion: "Felicitación", radicado: "Radicada"
  };
  function label(k) { return labels[k] || k; }

  // ---- the public counts
  function fillTable(id, counts) {
    var body = document.querySelector("#" + id + " tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    Object.keys(counts || {}).sort().forEach(function (k) {
      var tr = document.createElement("tr");
      var a = document.createElement("td"); a.textContent = label(k);
      var b = document.createElement("td"); b.textContent = String(counts[k]);
      tr.appendChild(a); tr.appendChild(b); body.appendChild(tr);
    });
  }
  function onMetrics(m) {
    document.getElementById("total").textContent = String(m.total);
    document.getElementById("overdue").textContent = String(m.overdue);
    document.getElementById("due_soon").textContent = String(m.due_soon);
    fillTable("by_channel", m.by_channel);
    fillTable("by_type", m.by_type);
    fillTable("by_group", m.by_group);
    fillTable("by_status", m.by_status);
  }
  function onItem(it) {
    var body = document.querySelector("#recent tbody");
    var tr = document.createElement("tr");
    [it.radicado, label(it.type || it.kind), label(it.channel), it.group, it.due_date || "—"]
      .forEach(function (v) { var td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 20) body.removeChild(body.lastChild);
  }

  // ---- the managers' charts
  var NUM = new Intl.NumberFormat("es-CO");
  var DEC = new Intl.NumberFormat("es-CO", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var MONTH = new Intl.DateTimeFormat("es-CO", { month: "short", year: "numeric", timeZone: "UTC" });
  var DAY = new Intl.DateTimeFormat("es-CO", { day: "numeric", month: "long", timeZone: "UTC" });
  var TIME = new Intl.DateTimeFormat("es-CO", { hour: "numeric", minute: "2-digit", second: "2-digit",
                                                timeZone: "America/Bogota" });
  var NO_DATA = "Sin datos";
  var BLUE = "#0b5394", ORANGE = "#b45f06", GREEN = "#38761d", RED = "#a4000f", GOLD = "#bf9000",
      GREY = "#6b7785";
  var hasChart = manager && typeof window.Chart === "function" && !root.classList.contains("no-charts");
  var charts = {};
  var updates = 0;

  function count(n) { return NUM.format(n || 0); }
  function pct(x) { return x === null || x === undefined ? NO_DATA : DEC.format(x) + " %"; }
  function score(x) { return x === null || x === undefined ? NO_DATA : DEC.format(x); }
  function monthLabel(key) {
    var p = key.split("-");
    return MONTH.format(new Date(Date.UTC(+p[0], +p[1] - 1, 15)));
  }
  function dayLabel(ymd) {
    var p = (ymd || "").split("-");
    return p.length === 3 ? DAY.format(new Date(Date.UTC(+p[0], +p[1] - 1, +p[2]))) : ymd;
  }
  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  // rows: arrays of cell texts; the first cell heads its row.
  function setRows(id, rows) {
    var body = document.querySelector("#t-" + id + " tbody");
    if (!body) return;
    var frag = document.createDocumentFragment();
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (v, i) {
        var c = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) c.scope = "row";
        c.textContent = v;
        tr.appendChild(c);
      });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    if (!rows.length) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      td.colSpan = body.parentNode.querySelectorAll("thead th").length;
      td.textContent = NO_DATA;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  // spec: {type, labels, datasets: [{label, data, color(s)}], horizontal, percent}
  function draw(id, spec) {
    if (!hasChart) return;
    var canvas = document.getElementById("c-" + id);
    if (!canvas) return;
    var box = canvas.parentNode;
    box.classList.toggle("tall", !!spec.horizontal && spec.labels.length > 6);
    var chart = charts[id];
    if (chart) {
      chart.data.labels = spec.labels;
      spec.datasets.forEach(function (d, i) {
        if (chart.data.datasets[i]) chart.data.datasets[i].data = d.data;
        if (d.backgroundColor && chart.data.datasets[i]) chart.data.datasets[i].backgroundColor = d.backgroundColor;
      });
      chart.update();
      return;
    }
    var value = spec.percent ? function (v) { return DEC.format(v); } : function (v) { return NUM.format(v); };
    var valueAxis = { beginAtZero: true, ticks: { precision: spec.percent ? undefined : 0, callback: value } };
    if (spec.percent) { valueAxis.suggestedMin = 0; valueAxis.suggestedMax = 100; }
    var scales = spec.horizontal ? { x: valueAxis, y: { ticks: { autoSkip: false } } }
                                 : { y: valueAxis, x: { ticks: { autoSkip: spec.type === "line" } } };
    spec.datasets.forEach(function (d) { d.maxBarThickness = 56; });
    charts[id] = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        locale: "es-CO",
        responsive: true,
        maintainAspectRatio: false,
        // Figures change in place, without motion: easier to read, and
        // what is drawn is what the table says at any moment.
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: scales,
        spanGaps: true,
        plugins: {
          legend: { display: spec.datasets.length > 1 },
          tooltip: { callbacks: { label: function (ctx) {
            var v = spec.horizontal ? ctx.parsed.x : ctx.parsed.y;
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") +
              (v === null || v === undefined ? NO_DATA : value(v));
          } } }
        }
      }
    });
  }

  function volume(id, rows, horizontal) {
    rows = rows || [];
    setRows(id, rows.map(function (r) { return [r.label, count(r.n)]; }));
    draw(id, {
      type: "bar", horizontal: horizontal,
      labels: rows.map(function (r) { return r.label; }),
      datasets: [{ label: "Solicitudes", data: rows.map(function (r) { return r.n; }), backgroundColor: BLUE }]
    });
  }

  function satisfaction(id, rows, labelOf, type) {
    setRows(id, rows.map(function (r) { return [labelOf(r), count(r.answers), pct(r.csat), score(r.nps)]; }));
    draw(id, {
      type: type, horizontal: type === "bar", percent: true,
      labels: rows.map(labelOf),
      datasets: [
        { label: "CSAT (%)", data: rows.map(function (r) { return r.csat; }), backgroundColor: BLUE,
          borderColor: BLUE },
        { label: "NPS", data: rows.map(function (r) { return r.nps; }), backgroundColor: ORANGE,
          borderColor: ORANGE }
      ]
    });
  }

  function onDashboard(d) {
    var v = d.volume || {}, c = d.compliance || {}, s = d.satisfaction || {}, h = d.hearings || {};
    setText("vol-total", count(v.total));
    volume("vol-canal", v.by_channel, false);
    volume("vol-tipo", v.by_type, false);
    volume("vol-grupo", v.by_group, true);
    volume("vol-dependencia", v.by_dependencia, true);

    setText("comp-pct", pct(c.on_time_pct));
    setText("comp-avg", c.avg_response_days === null || c.avg_response_days === undefined ? NO_DATA
            : DEC.format(c.avg_response_days) + " días hábiles");
    setText("comp-overdue", count(c.overdue));
    setText("comp-soon", count(c.due_soon));
    var terms = [
      ["Respondidas a tiempo", c.on_time, GREEN],
      ["Respondidas tarde", c.late, ORANGE],
      ["Vencidas hoy, en trámite", c.overdue, RED],
      ["Por vencer hasta el " + dayLabel(d.due_soon_until), c.due_soon, GOLD]
    ];
    setRows("terminos", terms.map(function (t) { return [t[0], count(t[1])]; }));
    draw("terminos", {
      type: "bar", labels: terms.map(function (t) { return t[0]; }),
      datasets: [{ label: "Solicitudes", data: terms.map(function (t) { return t[1] || 0; }),
                   backgroundColor: terms.map(function (t) { return t[2]; }) }]
    });

    setText("sat-csat", pct(s.csat));
    setText("sat-nps", score(s.nps));
    setText("sat-answers", count(s.answers));
    satisfaction("sat-mes", s.by_month || [], function (r) { return monthLabel(r.key); }, "line");
    satisfaction("sat-grupo", s.by_group || [], function (r) { return r.label; }, "bar");

    var pending = Math.max(0, (h.received || 0) - (h.answered || 0));
    var hear = [["Recibidas", h.received, BLUE], ["Respondidas", h.answered, GREEN],
                ["Sin respuesta", pending, GREY]];
    setRows("audiencias", hear.map(function (t) { return [t[0], count(t[1])]; }));
    draw("audiencias", {
      type: "bar", labels: hear.map(function (t) { return t[0]; }),
      datasets: [{ label: "Preguntas", data: hear.map(function (t) { return t[1] || 0; }),
                   backgroundColor: hear.map(function (t) { return t[2]; }) }]
    });

    if (d.generated_at) setText("generated", "Cifras actualizadas a las " + TIME.format(new Date(d.generated_at)));
    updates++;
    root.dataset.updates = String(updates);
    root.dataset.generated = d.generated_at || "";
  }

  function setupManager() {
    var toggle = document.getElementById("toggle-tables");
    if (!hasChart) {
      // No chart library: the tables are the dashboard.
      root.classList.add("no-charts");
      root.classList.remove("hide-tables");
      toggle.hidden = true;
      return;
    }
    toggle.addEventListener("click", function () {
      var show = root.classList.toggle("hide-tables") === false;
      toggle.setAttribute("aria-pressed", show ? "true" : "false");
      toggle.textContent = show ? "Ocultar las tablas de datos" : "Mostrar las tablas de datos";
    });
  }

  // The session ended or is not a gerente's: say so, with the way back in.
  function refused(m) {
    estado.replaceChildren(document.createTextNode((m.message || "No puede ver este tablero.") + " "));
    var a = document.createElement("a");
    a.href = "/staff";
    a.textContent = "Entrar con su usuario";
    estado.appendChild(a);
    root.dataset.refused = m.code || "error";
  }

  // ---- the connection
  var delay = 1000, stop = false;
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live";
    var ws = new WebSocket(url, "ventanilla-live");
    ws.onopen = function () {
      delay = 1000;
      estado.textContent = "Conectado: los datos se actualizan solos.";
      ws.send(JSON.stringify({ subscribe: manager ? ["dashboard"] : ["items", "metrics"] }));
    };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.topic === "metrics" && !manager) onMetrics(m);
      else if (m.topic === "items" && m.event === "created" && !manager) onItem(m.item);
      else if (m.topic === "dashboard" && manager) onDashboard(m);
      else if (m.topic === "error" && manager && (m.code === "unauthenticated" || m.code === "forbidden")) {
        stop = true;
        refused(m);
        ws.close();
      }
    };
    ws.onclose = function () {
      if (stop) return;
      estado.textContent = "Sin conexión. Reintentando…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  if (manager) setupManager();
  connect();
})();
