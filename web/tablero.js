// tablero.js - live operations dashboard: subscribes to /live and redraws the
// counts and the latest filings as events arrive. No personal data reaches it.
(function () {
  "use strict";
  var estado = document.getElementById("estado");
  var labels = {
    web: "Página web", email: "Correo electrónico", whatsapp: "WhatsApp", staff: "Ventanilla",
    peticion: "Petición", queja: "Queja", reclamo: "Reclamo", sugerencia: "Sugerencia",
    denuncia: "Denuncia", felicitacion: "Felicitación", radicado: "Radicada"
  };
  function label(k) { return labels[k] || k; }
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
  var delay = 1000;
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live";
    var ws = new WebSocket(url, "ventanilla-live");
    ws.onopen = function () {
      delay = 1000;
      estado.textContent = "Conectado: los datos se actualizan solos.";
      ws.send(JSON.stringify({ subscribe: ["items", "metrics"] }));
    };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.topic === "metrics") onMetrics(m);
      else if (m.topic === "items" && m.event === "created") onItem(m.item);
    };
    ws.onclose = function () {
      estado.textContent = "Sin conexión. Reintentando…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
