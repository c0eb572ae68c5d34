// wall.js - the question wall of a public hearing (/audiencia/{code}/pantalla):
// subscribes to the "wall" topic of /live and shows the approved and selected
// questions, each with the asker's name only when they agreed to show it.
(function () {
  "use strict";
  var root = document.getElementById("muro");
  if (!root) return;
  var code = root.dataset.hearing;
  var list = document.getElementById("preguntas");
  var estado = document.getElementById("estado");

  function render(m) {
    while (list.firstChild) list.removeChild(list.firstChild);
    (m.questions || []).forEach(function (q) {
      var li = document.createElement("li");
      li.className = "pregunta " + q.status;
      if (q.topic) {
        var t = document.createElement("p");
        t.className = "tema";
        t.textContent = q.topic;
        li.appendChild(t);
      }
      var p = document.createElement("p");
      p.className = "texto";
      p.textContent = q.text;
      li.appendChild(p);
      if (q.name) {
        var n = document.createElement("p");
        n.className = "nombre";
        n.textContent = q.name;
        li.appendChild(n);
      }
      list.appendChild(li);
    });
  }

  var delay = 1000;
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live";
    var ws = new WebSocket(url, "ventanilla-live");
    ws.onopen = function () {
      delay = 1000;
      estado.textContent = "";
      ws.send(JSON.stringify({ subscribe: ["wall"], hearing: code }));
    };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.topic === "wall" && m.hearing === code) render(m);
    };
    ws.onclose = function () {
      estado.textContent = "Sin conexión. Reintentando…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
