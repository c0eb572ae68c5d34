"""The learned classifier's suggestions in the staff UI (issue 15, point 3),
in a real headless Chromium (tests/integration/cdp.py) against real daemons:

- an item filed about a pothole shows "Sugerencias del clasificador": one row
  per task with the suggested value in Spanish (the dependencia by the name
  the entity gave it), a whole percentage, reasons that are words of the
  text, and whether the item has that value; nothing of it breaks a 375 px
  screen;
- "Aceptar sugerencias" sends one classify action: the labels are stored
  (the item's "reviewed"), the timeline has clasificacion_revisada, the item
  is routed, and the message says exactly what changed;
- "Corregir" (keyboard: focus into the form, Escape back out) sets another
  group and dependencia in one action; the item changed and the message is
  true to the item before and after;
- a refusal by the API (the suggested dependencia was deactivated meanwhile)
  is shown with the API's Spanish message, and nothing is stored;
- on a daemon that routes at filing (classify.route_confidence 0), the item
  says it was routed automatically with the event's confidence, the
  timeline names the classifier, and a correction that keeps the item in
  the user's scope redraws it in place with the reviewed marks;
- and all of it without a JavaScript exception or a CSP violation.

Needs /usr/bin/chromium (Debian's chromium package). Without it the test is
skipped, unless VT_REQUIRE_BROWSER=1, which makes a missing browser a failure.
Screenshots go to $VT_ARTIFACTS (default build/test-artifacts/).
"""
import functools
import os
import re
import sys
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import cdp  # noqa: E402
import staffkit  # noqa: E402

REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))

TRIAGE = "atencion_ciudadano"
# The ten dependencias of a municipal administration (issue 15), by the
# names this entity gives them: the UI must show these, not the codes.
DEPS = {
    "atencion_ciudadano": "Atención al ciudadano", "hacienda": "Secretaría de Hacienda",
    "obras": "Secretaría de Obras Públicas", "planeacion": "Secretaría de Planeación",
    "gobierno": "Secretaría de Gobierno", "salud": "Secretaría de Salud",
    "educacion": "Secretaría de Educación", "desarrollo_social": "Desarrollo Social",
    "talento_humano": "Talento Humano", "juridica": "Oficina Jurídica",
}
TYPES = {"peticion": "Petición", "queja": "Queja", "reclamo": "Reclamo", "sugerencia": "Sugerencia",
         "denuncia": "Denuncia", "felicitacion": "Felicitación"}
CLASSES = {"general": "Interés general o particular", "documentos": "Documentos e información",
           "consulta": "Consulta"}
GROUPS = {"ciudadania": "Ciudadanía", "nna": "Niños, niñas y adolescentes",
          "organizaciones_sociales": "Organizaciones sociales", "entidades_publicas": "Entidades públicas",
          "organismos_control": "Organismos de control", "medios": "Medios de comunicación",
          "sector_privado": "Sector privado", "academia": "Academia", "servidores_publicos": "Servidores públicos"}
TASKS = [("type", "tipo"), ("petition_class", "clase de petición"), ("group", "grupo de interés"),
         ("dependencia", "dependencia")]

POTHOLES = [
    ("Hueco en la vía", "Hay un hueco enorme en la vía de la carrera 5 con calle 10. Ya se cayeron dos motos.\n"
                        "Pedimos que tapen el hueco y arreglen el pavimento."),
    ("Huecos en la calle del barrio", "En la calle 8 del barrio San José la vía está llena de huecos y el "
                                      "pavimento está destruido. Solicitamos el arreglo de la malla vial."),
    ("Hueco frente al colegio", "Frente al colegio de la carrera 12 hay un hueco grande en la vía y el "
                                "pavimento se está hundiendo. Pedimos que lo tapen antes de un accidente."),
]


def js(s):
    return cdp.js_str(s)


def fold(s):
    """Lower case without accents, as the classifier's features are."""
    return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")


def pct(c):
    return "%d\u00a0%%" % int(c * 100 + 0.5)


def value_text(task, code):
    if task == "type":
        return TYPES.get(code, code or "—")
    if task == "petition_class":
        return CLASSES.get(code, code) if code else "Sin clase"
    if task == "group":
        return GROUPS.get(code, code or "—")
    return DEPS.get(code, code) if code else "Sin asignar"


def current(item, task):
    if task == "petition_class":
        return item.get("petition_class") if item.get("type") == "peticion" else None
    return item.get(task)


def same(task, a, b):
    if task == "dependencia":
        a, b = a or TRIAGE, b or TRIAGE
    return (a or None) == (b or None)


def review_text(before, now):
    """What the UI must say after a classify action: before is the item as
    the API showed it before, now {task: value the item has after} for the
    tasks sent (the spec of suggestions.js's message)."""
    changed, kept = [], []
    for task, name in TASKS:
        if task not in now:
            continue
        b, a = current(before, task), now[task]
        if same(task, b, a):
            kept.append("%s %s" % (name, value_text(task, a)))
        else:
            changed.append("%s %s → %s" % (name, value_text(task, b), value_text(task, a)))
    text = "Clasificación revisada" + (": " + "; ".join(changed) + "." if changed else ": sin cambios.")
    if kept:
        text += " Se confirmó: " + "; ".join(kept) + "."
    return text


def file_item(d, subject, body):
    """A reclamo filed over the JSON intake by a named citizen without email
    (so no sender's domain weighs in); returns its radicado."""
    r = d.post_json(H.item_payload(type="reclamo", subject=subject, body=body, requester=staffkit.web_requester()))
    if r.status != 201:
        raise AssertionError("intake failed: %r" % r)
    return r.json()["radicado"]


def shot_on_failure(fn):
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except BaseException:
            try:
                p = self.shot("fail-%s" % fn.__name__)
                print("\n  failure screenshot: %s\n  browser: %s" % (p, self.b.report()))
            except Exception:  # noqa: BLE001 - the browser may be what failed
                pass
            raise
    return wrapper


@unittest.skipIf(not HAVE_BROWSER and not REQUIRE_BROWSER,
                 "no browser at %s (apt-get install chromium); set VT_REQUIRE_BROWSER=1 to fail instead"
                 % cdp.CHROMIUM)
class ClassifierBrowser(H.DaemonCase):
    b = None
    auto = None
    done = set()
    expected_failures = []  # (status, method, path) a step provoked on purpose

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        # Routing at filing off (above any confidence): every item waits in
        # triage with its suggestion, so staff accept or correct it.
        cls.d = H.Daemon(name="clsui", config={"classify": {"route_confidence": 101}})
        for name, role, dep in (("admin.cl", "admin", None), ("coord.cl", "coordinador", TRIAGE),
                                ("gerente.cl", "gerente", None)):
            staffkit.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.ensure_deps(cls.d)
        cls.items = {}
        for key, (subject, body) in zip(("accept", "correct", "refused"), POTHOLES):
            cls.items[key] = file_item(cls.d, subject, body)
        cls.texts = {k: fold(s + "\n" + b) for k, (s, b) in zip(("accept", "correct", "refused"), POTHOLES)}

        # Routing at filing on for every confidence: the item goes straight to
        # the suggested dependencia. The dependencias must exist when the
        # daemon starts (it reads the routable ones then), so it restarts.
        cls.auto = H.Daemon(name="clsauto", config={"classify": {"route_confidence": 0}})
        staffkit.add_user(cls.auto, "admin.cl", "admin")
        staffkit.add_user(cls.auto, "gerente.cl", "gerente")
        cls.auto.start()
        cls.ensure_deps(cls.auto)
        staffkit.add_user(cls.auto, "coord.obras", "coordinador", "obras")
        cls.auto.restart()
        subject, body = POTHOLES[0]
        cls.items["routed"] = file_item(cls.auto, subject, body)
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        H.release(cls.b, cls.d, cls.auto)

    @classmethod
    def ensure_deps(cls, d):
        """The ten dependencias, made by the admin through the API where the
        daemon did not seed them (a seeded one is renamed to the name above)."""
        admin = staffkit.Staff(d, "admin.cl")
        for code, name in DEPS.items():
            r = admin.post("/api/v1/dependencias", {"code": code, "name": name, "active": True})
            if r.status not in (200, 201):
                raise AssertionError("POST /api/v1/dependencias %s: %r" % (code, r))
        admin.logout()

    # ------------------------------------------------------------------ helpers
    def need(self, *steps):
        missing = [s for s in steps if s not in self.done]
        if missing:
            self.fail("an earlier step failed: %s" % ", ".join(missing))

    def shot(self, name):
        path = os.path.join(ARTIFACTS, "classifier-%s.png" % name)
        self.b.screenshot(path)
        return path

    def api(self, d=None):
        """A gerente's session (reads every item) on d (default the triage daemon)."""
        return staffkit.Staff(d or self.d, "gerente.cl")

    def login(self, d, username):
        self.b.navigate("http://127.0.0.1:%d/staff" % d.port)
        self.b.wait_visible("#login-form")
        self.b.type("#login-user", username)
        self.b.type("#login-pass", staffkit.PASSWORD)
        self.b.click("#login-submit")
        self.b.wait_for("!document.getElementById('whoami').hidden", H.WAIT, message="login of %s" % username)
        # every notice, kept even after it leaves the screen (10 s)
        self.b.evaluate("window.__notices=[];new MutationObserver(function(ms){ms.forEach(function(m){"
                        "m.addedNodes.forEach(function(n){window.__notices.push(n.textContent);});});})"
                        ".observe(document.getElementById('notices'),{childList:true})")

    def open_item(self, radicado):
        self.b.evaluate("location.hash = %s" % js("#/solicitud/" + radicado))
        self.b.wait_for("(function(){var v=document.getElementById('item-view');return !v.hidden&&"
                        "v.dataset.radicado===%s&&document.getElementById('item-status')!==null;})()"
                        % js(radicado), H.WAIT, message="item %s" % radicado)

    def rows(self):
        return self.b.evaluate(
            "[...document.querySelectorAll('#item-suggestions tbody tr')].map(function(r){return {"
            "task: r.dataset.task, label: r.dataset.label, applied: r.dataset.applied, reviewed: r.dataset.reviewed,"
            "name: r.querySelector('th').textContent, value: r.querySelector('.suggest-value').textContent,"
            "confidence: r.querySelector('.suggest-confidence').textContent,"
            "reasons: r.querySelector('.suggest-reasons').textContent,"
            "state: r.querySelector('.suggest-state').textContent};})")

    def focused(self):
        return self.b.evaluate("document.activeElement ? document.activeElement.id : ''")

    def forget_notices(self):
        self.b.evaluate("window.__notices=[]")

    def wait_notice(self, needle):
        return self.b.wait_for("(window.__notices||[]).filter(function(t){return t.indexOf(%s)>=0;})[0]" % js(needle),
                               H.WAIT, message="a notice with %r" % needle)

    def assert_suggestions_match(self, item, text):
        """The section shows the API's suggestions, each as staff read it."""
        sug = item["suggestions"]
        self.assertTrue(self.b.exists("#item-sec-suggestions"), "no suggestions section")
        self.assertEqual(self.b.text("#item-sec-suggestions-h"), "Sugerencias del clasificador")
        self.assertEqual(self.b.evaluate("document.getElementById('item-suggestions').dataset.model"), sug["model"])
        rows = {r["task"]: r for r in self.rows()}
        tasks = [t for t, _ in TASKS if t in sug and sug[t]]
        self.assertEqual(list(rows), tasks)
        names = {"type": "Tipo", "petition_class": "Clase de petición", "group": "Grupo de interés",
                 "dependencia": "Dependencia"}
        for task in tasks:
            s, r = sug[task], rows[task]
            self.assertEqual(r["name"], names[task])
            self.assertEqual(r["label"], s["label"])
            self.assertEqual(r["value"], value_text(task, s["label"]))
            self.assertRegex(r["confidence"], r"^\d{1,3}\u00a0%$")
            self.assertEqual(r["confidence"], pct(s["confidence"]))
            for reason in s["reasons"]:
                self.assertIn(reason["feature"], r["reasons"])
        return rows

    # -------------------------------------------------------------------- steps
    @shot_on_failure
    def test_01_suggestions_shown(self):
        rad = self.items["accept"]
        before = self.api().item(rad)
        sug = before["suggestions"]
        self.assertIsNotNone(sug, "the daemon made no suggestion for %s" % rad)
        self.assertEqual(sug["dependencia"]["label"], "obras", sug)
        self.assertIsNone(before["dependencia"])  # waits in triage
        self.login(self.d, "coord.cl")
        self.open_item(rad)
        rows = self.assert_suggestions_match(before, self.texts["accept"])
        dep = rows["dependencia"]
        self.assertEqual(dep["value"], "Secretaría de Obras Públicas")
        # at least one reason is a word of what the citizen wrote, in «»
        quoted = re.findall(r"«([^»]+)»", dep["reasons"])
        self.assertTrue([w for w in quoted if w in self.texts["accept"]], dep["reasons"])
        # the item does not have it yet, and nobody reviewed it
        self.assertEqual(dep["applied"], "0")
        self.assertEqual(dep["state"], "Distinta de la actual: Sin asignar")
        self.assertEqual({r["reviewed"] for r in rows.values()}, {"0"})
        self.assertFalse(self.b.exists("#suggest-routed"))
        # what one click will change is said before the click
        help_text = self.b.text("#suggest-accept-help")
        self.assertIn("dependencia Sin asignar → Secretaría de Obras Públicas", help_text)
        self.assertIn("suggest-accept-help",
                      self.b.evaluate("document.getElementById('suggest-accept').getAttribute('aria-describedby')"))
        # the table is a table for a screen reader: column and row headers
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#item-suggestions thead th[scope=col]').length"), 5)
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#item-suggestions tbody th[scope=row]').length"),
                         len(rows))
        print("\n  suggestions screenshot: %s" % self.shot("suggestions"))
        # a 375 px phone: no sideways scrolling
        self.b.set_viewport(375, 740, mobile=True)
        try:
            self.b.wait_for("document.documentElement.clientWidth <= 380", H.WAIT, message="narrow viewport")
            self.assertLessEqual(self.b.evaluate("document.documentElement.scrollWidth"), 380,
                                 "the suggestions overflow a 375 px screen")
            print("\n  suggestions screenshot (375 px): %s" % self.shot("suggestions-narrow"))
        finally:
            self.b.set_viewport(1280, 900)
        self.done.add("shown")

    @shot_on_failure
    def test_02_refusal_shows_the_api_message_and_stores_nothing(self):
        self.need("shown")
        rad = self.items["refused"]
        self.open_item(rad)
        before = self.api().item(rad)
        self.assertEqual(before["suggestions"]["dependencia"]["label"], "obras")
        # the admin deactivates the suggested dependencia while the page is open
        admin = staffkit.Staff(self.d, "admin.cl")
        try:
            r = admin.post("/api/v1/dependencias", {"code": "obras", "name": DEPS["obras"], "active": False})
            self.assertIn(r.status, (200, 201), r)
            # the API's words for this refusal, from a request that stores nothing
            probe = staffkit.Staff(self.d, "coord.cl")
            sent = {t: before["suggestions"][t]["label"] for t in ("type", "group", "dependencia")}
            if sent["type"] == "peticion" and before["suggestions"].get("petition_class"):
                sent["petition_class"] = before["suggestions"]["petition_class"]["label"]
            err = H.assert_error(self, probe.act(rad, "classify", **sent), 422, "invalid")
            probe.logout()
            self.expected_failures.append((422, "POST", "/api/v1/items/%s/actions" % rad))
            self.b.click("#suggest-accept")
            self.b.wait_for("!document.getElementById('suggest-error').hidden", H.WAIT, message="the refusal")
            self.assertEqual(self.b.text("#suggest-error"), err["message"])
            self.assertEqual(self.b.evaluate("document.getElementById('suggest-error').getAttribute('role')"), "alert")
            self.assertEqual(self.focused(), "suggest-accept")
            self.assertIn("suggest-error", self.b.evaluate(
                "document.getElementById('suggest-accept').getAttribute('aria-describedby')").split())
            self.assertFalse(self.b.evaluate("document.getElementById('suggest-accept').disabled"))
            # nothing stored: no label, no event, the labels as they were
            after = self.api().item(rad)
            self.assertEqual(after["reviewed"], {})
            self.assertNotIn("clasificacion_revisada", [e["action"] for e in after["timeline"]])
            for k in ("type", "petition_class", "group", "dependencia", "status", "due_date"):
                self.assertEqual(after[k], before[k], k)
        finally:
            r = admin.post("/api/v1/dependencias", {"code": "obras", "name": DEPS["obras"], "active": True})
            admin.logout()
            self.assertIn(r.status, (200, 201), r)
        self.done.add("refused")

    @shot_on_failure
    def test_03_accept_stores_the_labels_and_routes(self):
        self.need("shown")
        rad = self.items["accept"]
        api = self.api()
        before = api.item(rad)
        sug = before["suggestions"]
        self.open_item(rad)
        self.forget_notices()
        self.b.click("#suggest-accept")
        # the item went to obras, out of a triage coordinador's scope: the
        # queue, and a notice saying what changed and where the item went
        notice = self.wait_notice("Clasificación revisada")
        after = api.item(rad)
        sent = {t: sug[t]["label"] for t in ("type", "group", "dependencia")}
        if sent["type"] == "peticion" and sug.get("petition_class"):
            sent["petition_class"] = sug["petition_class"]["label"]
        now = {t: current(after, t) for t in sent}
        self.assertEqual(now, sent)  # everything suggested is on the item now
        self.assertEqual(after["dependencia"], "obras")
        self.assertEqual(after["reviewed"], sent)  # and stored as labels to learn from
        ev = [e for e in after["timeline"] if e["action"] == "clasificacion_revisada"]
        self.assertEqual(len(ev), 1, after["timeline"])
        self.assertEqual(ev[0]["actor"], "coord.cl")
        self.assertEqual(sorted(ev[0]["details"]["accepted"]), sorted(sent))
        self.assertEqual(ev[0]["details"]["corrected"], [])
        self.assertEqual(ev[0]["details"]["model"], sug["model"])
        expected = review_text(before, now) + " La solicitud %s pasó a %s y ya no está en su bandeja." % (
            rad, DEPS["obras"])
        self.assertEqual(notice, expected)
        self.assertIn("dependencia Sin asignar → Secretaría de Obras Públicas", notice)
        self.b.wait_for("!document.getElementById('queue-view').hidden", H.WAIT, message="back to the queue")
        self.done.add("accepted")

    @shot_on_failure
    def test_04_correct_group_and_dependencia(self):
        self.need("shown")
        rad = self.items["correct"]
        api = self.api()
        before = api.item(rad)
        sug = before["suggestions"]
        self.open_item(rad)
        self.assert_suggestions_match(before, self.texts["correct"])
        # the form opens from the keyboard's point of view: focus goes in
        self.b.click("#suggest-correct")
        self.b.wait_visible("#suggest-form")
        self.assertEqual(self.b.evaluate("document.getElementById('suggest-correct').getAttribute('aria-expanded')"),
                         "true")
        self.assertEqual(self.focused(), "suggest-type")
        # every select has its label
        unlabelled = self.b.evaluate("[...document.querySelectorAll('#suggest-form select')].filter(function(s){"
                                     "return !document.querySelector('label[for=\"'+s.id+'\"]');}).map(function(s){"
                                     "return s.id;})")
        self.assertEqual(unlabelled, [])
        # prefilled with the suggestions
        for task in ("type", "group", "dependencia"):
            self.assertEqual(self.b.evaluate("document.getElementById('suggest-%s').value" % task), sug[task]["label"])
        # the class is asked only of a peticion
        self.b.select("#suggest-type", "peticion")
        self.assertFalse(self.b.evaluate("document.getElementById('suggest-petition_class').disabled"))
        self.b.select("#suggest-type", "queja")
        self.assertTrue(self.b.evaluate("document.getElementById('suggest-petition_class').disabled"))
        self.assertFalse(self.b.evaluate("(function(){var e=document.getElementById('suggest-petition_class');"
                                         "return e.getBoundingClientRect().height>0;})()"))
        # Escape closes it and gives the focus back
        self.b.evaluate("document.getElementById('suggest-group').focus()")
        self.b.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "Escape", "code": "Escape",
                                               "windowsVirtualKeyCode": 27})
        self.b.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Escape", "code": "Escape",
                                               "windowsVirtualKeyCode": 27})
        self.b.wait_for("document.getElementById('suggest-form').hidden", 10, message="the form closed")
        self.assertEqual(self.focused(), "suggest-correct")
        self.assertEqual(self.b.evaluate("document.getElementById('suggest-correct').getAttribute('aria-expanded')"),
                         "false")
        # staff keep the citizen's type and set another group and dependencia
        group = next(g for g in ("academia", "medios") if g not in (sug["group"]["label"], before["group"]))
        dep = next(d for d in ("planeacion", "gobierno") if d != sug["dependencia"]["label"])
        self.b.click("#suggest-correct")
        self.b.wait_visible("#suggest-form")
        self.b.select("#suggest-type", before["type"])
        self.b.select("#suggest-group", group)
        self.b.select("#suggest-dependencia", dep)
        self.forget_notices()
        self.b.click("#suggest-submit")
        notice = self.wait_notice("Clasificación revisada")
        after = api.item(rad)
        self.assertEqual((after["type"], after["group"], after["dependencia"]), (before["type"], group, dep))
        self.assertEqual(after["reviewed"], {"type": before["type"], "group": group, "dependencia": dep})
        ev = [e for e in after["timeline"] if e["action"] == "clasificacion_revisada"]
        self.assertEqual(len(ev), 1, after["timeline"])
        self.assertIn("group", ev[0]["details"]["corrected"])
        self.assertIn("dependencia", ev[0]["details"]["corrected"])
        # the message is what happened, read from the item before and after
        now = {t: current(after, t) for t in ("type", "group", "dependencia")}
        expected = review_text(before, now) + " La solicitud %s pasó a %s y ya no está en su bandeja." % (rad, DEPS[dep])
        self.assertEqual(notice, expected)
        self.assertIn("grupo de interés %s → %s" % (GROUPS[before["group"]], GROUPS[group]), notice)
        self.assertIn("dependencia Sin asignar → %s" % DEPS[dep], notice)
        self.assertIn("Se confirmó: tipo %s." % TYPES[before["type"]], notice)
        self.done.add("corrected")

    @shot_on_failure
    def test_05_routed_item_says_so_and_redraws_in_place(self):
        self.need("shown")
        rad = self.items["routed"]
        api = self.api(self.auto)
        before = api.item(rad)
        routed = [e for e in before["timeline"] if e["actor"] == "sistema:clasificador" and e["action"] == "asignado"]
        self.assertEqual(len(routed), 1, before["timeline"])
        self.assertEqual(before["dependencia"], "obras")
        conf = routed[0]["details"]["confidence"]
        self.login(self.auto, "coord.obras")
        self.open_item(rad)
        self.assertEqual(self.b.text("#suggest-routed").split(" Por qué: ")[0],
                         "Enrutada automáticamente por el clasificador a %s (confianza %s)." % (DEPS["obras"], pct(conf)))
        rows = self.assert_suggestions_match(before, fold(" ".join(POTHOLES[0])))
        self.assertEqual((rows["dependencia"]["applied"], rows["dependencia"]["state"]), ("1", "Aplicada"))
        # the timeline names the classifier in Spanish
        who = self.b.evaluate("[...document.querySelectorAll('#item-timeline li[data-action=asignado] strong')]"
                              ".map(function(s){return s.textContent;})")
        self.assertEqual(who, ["Clasificador automático"])
        # a correction that keeps the item here: the item is redrawn in place
        sug = before["suggestions"]
        group = next(g for g in ("medios", "academia") if g not in (sug["group"]["label"], before["group"]))
        typ = next(t for t in ("queja", "sugerencia") if t not in (sug["type"]["label"], before["type"]))
        self.b.click("#suggest-correct")
        self.b.wait_visible("#suggest-form")
        self.b.select("#suggest-type", typ)
        self.b.select("#suggest-group", group)
        self.b.click("#suggest-submit")
        self.b.wait_for("!!document.getElementById('action-result')", H.WAIT, message="the result in place")
        after = api.item(rad)
        self.assertEqual((after["type"], after["group"], after["dependencia"]), (typ, group, "obras"))
        self.assertEqual(after["reviewed"], {"type": typ, "group": group, "dependencia": "obras"})
        now = {t: current(after, t) for t in ("type", "group", "dependencia")}
        expected = review_text(before, now)
        if after["status"] != before["status"]:
            expected += " Estado: %s → %s." % (before["status_label"], after["status_label"])
        if after["due_date"] != before["due_date"]:
            expected += " Ahora vence el %s." % staffkit.date_es(after["due_date"])
        self.assertEqual(self.b.text("#action-result"), expected)
        self.assertIn("Se confirmó: dependencia %s." % DEPS["obras"], expected)
        self.assertEqual(self.focused(), "item-status")
        # the rows now say they were reviewed, and what staff set
        rows = {r["task"]: r for r in self.rows()}
        self.assertEqual(rows["dependencia"]["reviewed"], "1")
        self.assertIn("Revisada: se confirmó", rows["dependencia"]["state"])
        self.assertIn("Revisada: se corrigió a %s" % GROUPS[group], rows["group"]["state"])
        self.assertTrue(rows["group"]["state"].startswith("Distinta de la actual: %s" % GROUPS[group]),
                        rows["group"]["state"])
        # the review in the timeline, in Spanish words
        what = self.b.evaluate("[...document.querySelectorAll('#item-timeline li[data-action=clasificacion_revisada] "
                               ".what')].map(function(s){return s.textContent;})")
        self.assertEqual(what, ["Se revisaron las sugerencias del clasificador."])
        print("\n  routed item screenshot: %s" % self.shot("routed-reviewed"))
        self.done.add("routed")

    def test_99_no_script_errors_or_csp_violations(self):
        if self.b is None:
            self.fail("no browser")
        b = self.b
        self.assertEqual(b.exceptions, [], "JavaScript exceptions:\n%s" % b.report())
        self.assertEqual(b.csp_violations, [], "CSP violations:\n%s" % b.report())
        self.assertEqual(b.console_errors(), [], "console errors:\n%s" % b.report())
        expected = list(self.expected_failures)
        unexpected = []
        for e in b.http_errors:
            if e["status"] == 401 and e["url"].endswith("/api/v1/session"):
                continue
            path = re.sub(r"^https?://[^/]+", "", e["url"] or "")
            match = [x for x in expected if x[0] == e["status"] and x[2] == path
                     and (not e["method"] or e["method"] == x[1])]
            if match:
                expected.remove(match[0])
            else:
                unexpected.append(e)
        self.assertEqual(unexpected, [], "unexpected failed requests:\n%s" % b.report())
        self.assertEqual(expected, [], "failed requests a step expected but the browser did not see:\n%s"
                         % b.report())
        allowed_logs = [(401, "/api/v1/session")] + [(x[0], x[2]) for x in self.expected_failures]
        bad_logs = [e for e in b.log_entries if e["level"] == "error" and not (
            e["source"] == "network" and any("status of %d" % st in e["text"] and e["url"].endswith(path)
                                             for st, path in allowed_logs))]
        self.assertEqual(bad_logs, [], "browser errors:\n%s" % b.report())
        self.assert_no_crash()
        self.assertEqual(self.auto.crashes, [])


if __name__ == "__main__":
    H.main()
