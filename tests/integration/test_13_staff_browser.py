"""The staff UI at /staff in a real headless Chromium (tests/integration/cdp.py):
a wrong password shows the API's Spanish message, login, the queue searched
without accents, an item opened, assigned and answered through its forms, a
body holding <script> shown as text, live notices over /live, logout, the
admin's view of the dependencias (create, rename, deactivate, a refused code
with the API's message next to its field; audited in the database) that no
other role sees, the admin's surveys (a public one made with the question
editor, listed with its QR code, answered on its plain public page, edited into
a version 2 while the answer keeps version 1, exported as a file, imported
under another code, an invalid definition refused with the API's message,
deactivated), and all of it without a JavaScript exception or a
Content-Security-Policy violation.

Needs /usr/bin/chromium (Debian's chromium package). Without it the test is
skipped, unless VT_REQUIRE_BROWSER=1, which makes a missing browser a failure.
Screenshots go to $VT_ARTIFACTS (default build/test-artifacts/ in the source
tree); their paths are printed.
"""
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import cdp  # noqa: E402
import mailservers  # noqa: E402
import staffkit  # noqa: E402

ENTITY_MAIL = "atencion@entidad-prueba.example.gov.co"

REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))
DEP = "atencion_ciudadano"
PASSWORDS = {
    "coord.ui": ("coordinador", "una clave de coordinación bastante larga"),
    "agente.ui": ("agente", "una clave de agente igual de larga"),
    "admin.ui": ("admin", "la clave del administrador, también larga"),
}
SPANISH_DELIVERY = {"En cola", "Enviando", "Enviado", "Entregado", "Leído", "No se pudo entregar",
                    "Fuera de la ventana de WhatsApp", "Reemplazado"}
SCRIPT_BODY = "Primera línea de la queja.\n\n<script>window.pwned=1</script>\nÚltima línea."
IMG_SUBJECT = "Asunto con <img src=x onerror=\"window.pwned2=1\"> incrustado"
FONTIBON_SUBJECT = "Daño del alcantarillado en Fontibón"
NEW_DEP = "obras_publicas"
NEW_DEP_NAME = "Obras Públicas"
NEW_DEP_RENAMED = "Secretaría de Obras Públicas e Infraestructura"
BAD_DEP_CODE = "Obras Públicas!"
SURVEY = "percepcion_2026"
SURVEY_TITLE = "Percepción 2026"
SURVEY_COPY = "percepcion_2026_copia"


def js(s):
    return cdp.js_str(s)


def shot_on_failure(fn):
    """Saves a screenshot named after the test when it fails, then re-raises."""
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
class StaffBrowser(H.DaemonCase):
    b = None
    done = set()  # the steps that passed, so that later ones say what they miss
    # failed requests a step provoked on purpose: (status, method, path), one
    # entry per request; test_99 accepts exactly these besides the session 401s
    expected_failures = []

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        # The answer goes out by email to a real SMTP server (aiosmtpd).
        cls.smtp = mailservers.SmtpSink().start()
        cls.d = H.Daemon(name="staffui", config={"channels": {"email": {
            "enabled": True, "mailboxes": [], "smtp_url": cls.smtp.url, "from": ENTITY_MAIL,
            "allow_plaintext_loopback": True}}})
        for name, (role, pw) in PASSWORDS.items():
            args = ["user", "add", "--config", cls.d.cfg_path, "--data-dir", cls.d.data_dir, name, "--role", role]
            if role != "admin":
                args += ["--dependencia", DEP]
            p = H.run_cli(*args, input=pw + "\n")
            if p.returncode != 0:
                raise AssertionError("user add %s failed (%d): %s %s" % (name, p.returncode, p.stdout, p.stderr))
        cls.d.start()
        cls.base = "http://127.0.0.1:%d" % cls.d.port
        cls.ensure_dependencia()
        cls.items = {}
        for key, payload in (
            ("script", H.item_payload(type="queja", subject=IMG_SUBJECT, body=SCRIPT_BODY)),
            ("fontibon", H.item_payload(type="reclamo", subject=FONTIBON_SUBJECT, reply_channel="email",
                                        body="El alcantarillado en Fontibón está tapado desde hace una semana.\n"
                                             "Calle 17 con carrera 100.")),
            ("plain", H.item_payload(type="peticion", petition_class="general")),
        ):
            r = cls.d.post_json(payload)
            if r.status != 201:
                raise AssertionError("intake of %s failed: %r" % (key, r))
            cls.items[key] = r.json()["radicado"]
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="vt-staffui-files-")
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)
        H.release(cls.b, cls.d, getattr(cls, "smtp", None))

    # ------------------------------------------------------------------ helpers
    @classmethod
    def api_login(cls, username, password):
        r = cls.d.post_json({"username": username, "password": password}, path="/api/v1/session")
        return r

    @classmethod
    def ensure_dependencia(cls):
        """The triage dependencia must exist for assign to name it: the admin
        creates it through POST /api/v1/dependencias when it is not there."""
        r = cls.api_login("admin.ui", PASSWORDS["admin.ui"][1])
        if r.status != 200:
            raise AssertionError("admin login failed: %r" % r)
        m = re.search(r"vt_session=([^;]+)", r.header("set-cookie", ""))
        if not m:
            raise AssertionError("no vt_session cookie in %r" % r.headers)
        cookie = "vt_session=" + m.group(1)
        csrf = r.json()["csrf_token"]
        g = cls.d.get("/api/v1/dependencias", headers={"Cookie": cookie})
        if g.status != 200:
            raise AssertionError("GET /api/v1/dependencias: %r" % g)
        if DEP not in [x.get("code") for x in g.json().get("dependencias", [])]:
            body = json.dumps({"code": DEP, "name": "Atención al ciudadano", "active": True}).encode()
            p = cls.d.request("POST", "/api/v1/dependencias", body, {
                "Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
            if p.status not in (200, 201):
                raise AssertionError("POST /api/v1/dependencias: %r" % p)
        lo = cls.d.request("POST", "/api/v1/session/logout", b"{}", {
            "Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
        if lo.status != 204:
            raise AssertionError("admin logout: %r" % lo)

    def need(self, *steps):
        missing = [s for s in steps if s not in self.done]
        if missing:
            self.fail("an earlier step failed: %s" % ", ".join(missing))

    def shot(self, name):
        path = os.path.join(ARTIFACTS, "staff-%s.png" % name)
        self.b.screenshot(path)
        return path

    def rows(self):
        return self.b.evaluate("[...document.querySelectorAll('#queue tbody tr[data-radicado]')]"
                               ".map(function(t){return t.dataset.radicado;})")

    def wait_queue(self, q=""):
        """Waits until the queue shows the answer for search text q."""
        self.b.wait_for("(function(){var t=document.getElementById('queue');return t&&!document.getElementById("
                        "'queue-view').hidden&&t.dataset.loaded==='1'&&t.getAttribute('aria-busy')==='false'&&"
                        "t.dataset.q===%s;})()" % js(q), H.WAIT, message="queue for %r" % q)

    def ui_logout(self):
        """Leaves the page at the login form, whoever was logged in."""
        if not self.b.evaluate("(function(){var w=document.getElementById('whoami');return !!w&&!w.hidden;})()"):
            self.b.navigate(self.base + "/staff")
            self.b.wait_for("!document.getElementById('login-view').hidden || "
                            "!document.getElementById('whoami').hidden", H.WAIT, message="session checked")
        if not self.b.evaluate("document.getElementById('whoami').hidden"):
            self.b.click("#logout")
        self.b.wait_visible("#login-form")

    def ui_login(self, username):
        self.b.type("#login-user", username)
        self.b.type("#login-pass", PASSWORDS[username][1])
        self.b.click("#login-submit")
        self.b.wait_for("!document.getElementById('whoami').hidden", H.WAIT, message="login of %s" % username)

    def wait_deps(self):
        self.b.wait_for("(function(){var t=document.getElementById('dep-list');return !document.getElementById("
                        "'admin-view').hidden&&t.dataset.loaded==='1'&&t.getAttribute('aria-busy')==='false';})()",
                        10, message="list of dependencias")

    def dep_row(self, code):
        """What the admin view shows for one dependencia (None when not listed)."""
        return self.b.evaluate(
            "(function(){var r=document.querySelector('#dep-list tbody tr[data-code=' + JSON.stringify(%s) + ']');"
            "if(!r)return null;var t=document.getElementById('dep-toggle-'+r.dataset.code);"
            "return {active: r.dataset.active, triage: r.dataset.triage || null,"
            " name: (r.querySelector('.dep-name-text')||{}).textContent || null,"
            " code: r.querySelector('.dep-code').textContent, state: r.querySelector('.dep-state').textContent,"
            " toggle: t ? t.textContent : null, toggle_disabled: t ? t.disabled : null,"
            " toggle_help: t && t.getAttribute('aria-describedby') ? (document.getElementById("
            "t.getAttribute('aria-describedby').split(' ')[0])||{}).textContent || null : null,"
            " editing: !!r.querySelector('form.dep-rename-form')};})()" % js(code))

    def clear_notices(self):
        """Empties the notices (fixed at the bottom, 10 s each) so that a
        screenshot shows what they would cover."""
        self.b.evaluate("document.getElementById('notices').replaceChildren()")

    def focused(self):
        return self.b.evaluate("document.activeElement ? document.activeElement.id : ''")

    def wait_surveys(self):
        self.b.wait_for("(function(){var t=document.getElementById('sv-list');return !document.getElementById("
                        "'admin-view').hidden&&t.dataset.loaded==='1'&&t.getAttribute('aria-busy')==='false';})()",
                        10, message="list of surveys")

    def survey_row(self, code):
        """What the admin view lists for one survey (None when not listed)."""
        return self.b.evaluate(
            "(function(){var r=document.querySelector('#sv-list tbody tr[data-code=' + JSON.stringify(%s) + ']');"
            "if(!r)return null;var q=r.querySelector('img.sv-qr'),a=r.querySelector('a.sv-link');"
            "return {active: r.dataset.active, version: r.dataset.version, answers: r.dataset.answers,"
            " title: r.querySelector('.sv-title-text').textContent, purpose: r.querySelector('.sv-purpose').textContent,"
            " state: r.querySelector('.dep-state').textContent, link: a ? a.getAttribute('href') : null,"
            " qr_src: q ? q.getAttribute('src') : null, qr_alt: q ? q.alt : null,"
            " qr_loaded: q ? (q.complete && q.naturalWidth > 0) : null,"
            " toggle: document.getElementById('sv-toggle-' + r.dataset.code).textContent};})()" % js(code))

    def wait_survey(self, code, cond, message):
        self.b.wait_for("(function(){var r=document.querySelector('#sv-list tbody tr[data-code=' + JSON.stringify(%s) + ']');"
                        "return !!r && (%s);})() || !document.getElementById('sv-error').hidden || "
                        "!document.getElementById('sv-import-error').hidden" % (js(code), cond), H.WAIT, message=message)
        self.wait_surveys()

    def wait_for_page(self, cond, message):
        """After a plain form's submit: waits for the next page (evaluations
        may fail while it loads)."""
        self.b.wait_for("document.readyState === 'complete' && (%s)" % cond, H.WAIT, message=message)

    def open_item(self, radicado):
        self.b.evaluate("location.hash = %s" % js("#/solicitud/" + radicado))
        self.b.wait_for("(function(){var v=document.getElementById('item-view');return !v.hidden&&"
                        "v.dataset.radicado===%s&&document.getElementById('item-status')!==null;})()"
                        % js(radicado), H.WAIT, message="item %s" % radicado)

    # -------------------------------------------------------------------- steps
    @shot_on_failure
    def test_01_wrong_password_shows_spanish_error(self):
        self.b.navigate(self.base + "/staff")
        self.b.wait_visible("#login-form")
        self.assertEqual(self.b.evaluate("document.documentElement.lang"), "es-CO")
        # the API's message for bad credentials (an unknown user gets the same)
        probe = self.api_login("nadie.existe", "una clave cualquiera y larga")
        err = H.assert_error(self, probe, 401, "bad_credentials")
        self.b.type("#login-user", "coord.ui")
        self.b.type("#login-pass", "esta no es la clave")
        self.b.click("#login-submit")
        self.b.wait_for("!document.getElementById('login-error').hidden", H.WAIT, message="login error shown")
        shown = self.b.text("#login-error").strip()
        self.assertEqual(shown, err["message"])
        self.assertNotIn("bad_credentials", shown)
        self.assertTrue(self.b.evaluate("document.getElementById('login-pass').getAttribute('aria-invalid')==='true'"))
        self.assertIn("login-error", self.b.evaluate("document.getElementById('login-pass').getAttribute('aria-describedby')"))
        self.assertTrue(self.b.evaluate("document.getElementById('queue-view').hidden"))
        print("\n  login screenshot: %s" % self.shot("login"))
        self.done.add("login_page")

    @shot_on_failure
    def test_02_login_shows_queue(self):
        self.need("login_page")
        self.b.type("#login-user", "coord.ui")
        self.b.type("#login-pass", PASSWORDS["coord.ui"][1])
        self.b.click("#login-submit")
        self.wait_queue("")
        self.assertIn("coord.ui", self.b.text("#whoami-name"))
        rows = self.rows()
        for key, rad in self.items.items():
            self.assertIn(rad, rows, "%s item missing from the queue" % key)
        # the session cookie is HttpOnly: the page's script cannot read it
        self.assertNotIn("vt_session", self.b.evaluate("document.cookie"))
        self.assertTrue(any(c["name"] == "vt_session" and c["httpOnly"] for c in self.b.cookies()))
        # a subject holding markup is text in the queue
        cell = self.b.text("#queue tbody tr[data-radicado=%s]" % js(self.items["script"]))
        self.assertIn('<img src=x onerror="window.pwned2=1">', cell)
        self.assertFalse(self.b.evaluate("document.querySelector('#queue img') !== null"))
        self.assertRegex(self.b.text("#page-info"), r"^Página 1 de 1$")
        # the admin's view is not for a coordinador
        self.assertTrue(self.b.evaluate("document.getElementById('admin-view').hidden"))
        self.done.add("logged_in")

    @shot_on_failure
    def test_03_live_notice_for_a_new_item(self):
        self.need("logged_in")
        self.b.wait_for("document.getElementById('live-status').dataset.state==='on'", 10,
                        message="live connection")
        r = self.d.post_json(H.item_payload(type="sugerencia", subject="Sugerencia en vivo para la bandeja"))
        self.assertEqual(r.status, 201, r)
        rad = r.json()["radicado"]
        self.b.wait_for("document.getElementById('notices').textContent.indexOf(%s) >= 0"
                        % js("Nueva solicitud " + rad), H.WAIT, message="live notice")
        self.b.wait_for("document.querySelector(%s) !== null" % js('#queue tbody tr[data-radicado="%s"]' % rad), 5,
                        message="queue refreshed by the live event")
        self.items["live"] = rad

    @shot_on_failure
    def test_04_search_without_accent(self):
        self.need("logged_in")
        self.b.type("#filter-q", "fontibon")
        self.b.click("#filter-submit")
        self.wait_queue("fontibon")
        self.assertEqual(self.rows(), [self.items["fontibon"]])
        print("\n  queue screenshot: %s" % self.shot("queue-filtered"))
        self.done.add("searched")

    @shot_on_failure
    def test_05_open_assign_and_respond(self):
        self.need("searched")
        rad = self.items["fontibon"]
        self.b.click("#queue tbody tr[data-radicado=%s] a.item-link" % js(rad))
        self.b.wait_for("(function(){var v=document.getElementById('item-view');return !v.hidden&&"
                        "v.dataset.radicado===%s;})()" % js(rad), H.WAIT, message="item view")
        self.assertEqual(self.b.text("#item-subject"), FONTIBON_SUBJECT)
        self.assertIn("Fontibón está tapado", self.b.text("#item-body"))
        self.assertEqual(self.b.evaluate("getComputedStyle(document.getElementById('item-body')).whiteSpace"),
                         "pre-wrap")
        self.assertIn("Zenaida", self.b.text("#item-requester"))
        messages_before = self.b.evaluate("document.querySelectorAll('#item-messages tbody tr').length")

        # assign to the agente of the triage dependencia
        self.b.click("#action-assign > summary")
        self.b.select("#action-assign-dependencia", DEP)
        self.b.wait_for("document.querySelector('#action-assign-assignee option[value=\"agente.ui\"]') !== null", 10,
                        message="the agente among the assignees")
        self.b.select("#action-assign-assignee", "agente.ui")
        self.b.click("#action-assign-submit")
        self.b.wait_for("(function(){var s=document.getElementById('item-status');return s&&s.dataset.status==="
                        "'en_tramite';})() || !!(document.getElementById('action-assign-error')||{}).textContent",
                        10, message="assign answered")
        err = self.b.evaluate("(document.getElementById('action-assign-error')||{}).textContent || ''")
        self.assertEqual(err, "", "assign refused: %s" % err)
        self.assertEqual(self.b.evaluate("document.getElementById('item-status').dataset.status"), "en_tramite")
        self.assertIn("agente.ui", self.b.text("#item-labels"))

        # answer it, with a PDF
        pdf = os.path.join(self.tmp, "respuesta.pdf")
        with open(pdf, "wb") as f:
            f.write(H.minimal_pdf("Respuesta"))
        self.b.click("#action-respond > summary")
        # Before sending, the form says how the answer will travel: by email,
        # the way the citizen asked for (the email channel runs here).
        self.b.wait_for("(document.getElementById('action-respond-delivery')||{dataset:{}}).dataset.loaded==='1'",
                        15, message="the delivery options")
        self.assertIs(self.b.evaluate("document.getElementById('action-respond-delivery-email').checked"), True)
        self.assertIn("Correo electrónico", self.b.text("#action-respond-how"))
        self.assertIn("cola de envío", self.b.text("#action-respond-how"))
        self.b.type("#action-respond-text", "Buenos días.\nLa cuadrilla destapó el alcantarillado el día de hoy.")
        self.b.set_files("#action-respond-files", [pdf])
        self.b.click("#action-respond-submit")
        self.b.wait_for("(function(){var s=document.getElementById('item-status');return s&&s.dataset.status==="
                        "'respondido';})() || !!(document.getElementById('action-respond-error')||{}).textContent",
                        15, message="respond answered")
        err = self.b.evaluate("(document.getElementById('action-respond-error')||{}).textContent || ''")
        self.assertEqual(err, "", "respond refused: %s" % err)
        self.assertEqual(self.b.evaluate("document.getElementById('item-status').dataset.status"), "respondido")
        self.assertRegex(self.b.text("#item-status"), re.compile(r"respondid", re.I))
        self.assertEqual(self.d.scalar("SELECT status FROM items WHERE radicado = ?", (rad,)), "respondido")
        # "En cola de envío" only because outbox rows were committed; it names them.
        self.b.wait_for("!!document.getElementById('action-result')", 10, message="the action's result")
        result = self.b.text("#action-result")
        self.assertIn("en cola de envío", result)
        queued = [r["id"] for r in self.d.query(
            "SELECT o.id FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? AND o.kind = 'respuesta'",
            (rad,))]
        self.assertTrue(queued)
        self.assertIn("n.º %d" % queued[0], result)

        msgs = self.b.evaluate("[...document.querySelectorAll('#item-messages tbody tr')].map(function(t){"
                               "return {status: t.dataset.status, text: t.textContent,"
                               " label: t.querySelector('.delivery').textContent};})")
        self.assertGreater(len(msgs), messages_before, "no new outbound message listed: %r" % msgs)
        for m in msgs:
            self.assertIn(m["label"], SPANISH_DELIVERY, m)
        # The citizen receives it: a real SMTP server got the answer and its file.
        got = self.smtp.wait_for(lambda: [m for m in self.smtp.messages()
                                          if rad in (m.subject or "") and "Respuesta" in m.subject],
                                 what="the answer by email")
        mail = got[-1].msg
        texts = [p.get_payload(decode=True).decode("utf-8") for p in mail.walk()
                 if p.get_content_type() == "text/plain"]
        self.assertTrue(any("La cuadrilla destapó" in t for t in texts), texts)
        self.assertIn("respuesta.pdf", [p.get_filename() for p in mail.walk()])
        # the answer itself with its file, when the API lists the responses
        if self.b.exists("#item-responses li"):
            self.assertIn("La cuadrilla destapó", self.b.text("#item-responses"))
            self.assertIn("respuesta.pdf", self.b.text("#item-responses"))
        self.assertIn("respond", self.b.evaluate("[...document.querySelectorAll('#item-timeline li')]"
                                                 ".map(function(l){return l.dataset.action;}).join(' ')"))
        print("\n  item screenshot: %s" % self.shot("item-answered"))
        self.done.add("answered")

    @shot_on_failure
    def test_06_script_body_is_text(self):
        self.need("logged_in")
        rad = self.items["script"]
        self.open_item(rad)
        body = self.b.text("#item-body")
        self.assertIn("<script>window.pwned=1</script>", body)
        self.assertEqual(body.replace("\r\n", "\n"), SCRIPT_BODY)
        self.assertFalse(self.b.evaluate("document.querySelector('#item-body *') !== null"))
        self.assertEqual(self.b.text("#item-subject"), IMG_SUBJECT)
        self.assertEqual(self.b.evaluate("typeof window.pwned"), "undefined")
        self.assertEqual(self.b.evaluate("typeof window.pwned2"), "undefined")
        # the forms offered are exactly the actions the API lists
        api_actions = self.b.evaluate("fetch('/api/v1/items/' + %s, {credentials: 'same-origin'})"
                                      ".then(function (r) { return r.json(); })"
                                      ".then(function (j) { return j.actions; })" % js(rad))
        self.assertIsInstance(api_actions, list)
        shown = self.b.evaluate("[...document.querySelectorAll('#item-actions details.action')]"
                                ".map(function (d) { return d.id.replace('action-', ''); })")
        known = ("assign", "reclassify", "request_completion", "complete", "extend", "transfer", "note",
                 "respond", "close", "reopen")
        self.assertEqual(sorted(shown), sorted(a for a in api_actions if a in known))

    @shot_on_failure
    def test_07_narrow_screen(self):
        self.need("logged_in")
        self.b.set_viewport(375, 740, mobile=True)
        try:
            self.b.evaluate("location.hash = '#/'")
            self.b.click("#filter-clear")
            self.wait_queue("")
            width = self.b.evaluate("document.documentElement.scrollWidth")
            self.assertLessEqual(width, 380, "the queue overflows a 375 px screen")
        finally:
            self.b.set_viewport(1280, 900)

    @shot_on_failure
    def test_08_logout(self):
        self.need("logged_in")
        self.b.click("#logout")
        self.b.wait_visible("#login-form")
        status = self.b.evaluate("fetch('/api/v1/session',{credentials:'same-origin'}).then(function(r){return r.status;})")
        self.assertEqual(status, 401)

    @shot_on_failure
    def test_09_admin_manages_dependencias(self):
        self.need("login_page")
        admin = "admin.ui"
        self.ui_logout()
        self.ui_login(admin)
        self.wait_deps()
        # the admin's only view: no queue, no live connection for items
        self.assertTrue(self.b.evaluate("document.getElementById('queue-view').hidden"))
        self.assertTrue(self.b.evaluate("document.getElementById('item-view').hidden"))
        self.assertEqual(self.b.text("#admin-title"), "Dependencias")
        self.assertIn("Administración", self.b.text("#whoami-name"))
        self.assertTrue(self.b.evaluate("document.getElementById('live-status').hidden"))
        self.assertEqual(self.b.evaluate("document.title"), "Dependencias · Ventanilla")
        # every input of the form has its label
        unlabelled = self.b.evaluate("[...document.querySelectorAll('#admin-view input')].filter(function(i){"
                                     "return !document.querySelector('label[for=\"'+i.id+'\"]');}).map(function(i){"
                                     "return i.id;})")
        self.assertEqual(unlabelled, [])

        # the triage dependencia is marked, and cannot be deactivated here
        triage = self.dep_row(DEP)
        self.assertIsNotNone(triage, "triage dependencia not listed")
        self.assertEqual(triage["triage"], "1")
        self.assertEqual(triage["active"], "1")
        self.assertTrue(triage["toggle_disabled"])
        self.assertIn("no se puede desactivar", triage["toggle_help"] or "")
        self.assertIn("Reparto", self.b.text("#dep-list tbody tr[data-triage='1'] .dep-name"))

        # create one, from the keyboard (Enter in the last field)
        self.assertIsNone(self.dep_row(NEW_DEP))
        self.b.type("#dep-new-name", NEW_DEP_NAME)
        self.b.type("#dep-new-code", NEW_DEP)
        self.assertTrue(self.b.evaluate("document.getElementById('dep-new-active').checked"))
        self.b.press_enter("#dep-new-code")
        self.b.wait_for("document.querySelector('#dep-list tbody tr[data-code=%s]') !== null || "
                        "!document.getElementById('dep-new-error').hidden || "
                        "!document.getElementById('dep-new-code-error').hidden" % NEW_DEP, 10,
                        message="dependencia created")
        self.wait_deps()
        row = self.dep_row(NEW_DEP)
        self.assertIsNotNone(row, "not listed after creating it: %s" % self.b.text("#admin-view"))
        self.assertEqual((row["name"], row["code"], row["active"], row["state"], row["toggle"]),
                         (NEW_DEP_NAME, NEW_DEP, "1", "Activa", "Desactivar"))
        self.assertFalse(row["toggle_disabled"])
        self.assertIsNone(row["triage"])
        self.b.wait_for("document.getElementById('notices').textContent.indexOf(%s) >= 0"
                        % js("Se creó la dependencia «%s»." % NEW_DEP_NAME), H.WAIT, message="notice of creation")
        self.assertEqual(self.b.evaluate("document.getElementById('dep-new-name').value"), "")
        self.assertEqual(self.b.evaluate("document.getElementById('dep-new-code').value"), "")
        self.assertEqual(self.d.query("SELECT name, active FROM dependencias WHERE code = ?", (NEW_DEP,)),
                         [{"name": NEW_DEP_NAME, "active": 1}])

        # rename it: the form opens on the row, Esc closes it, Enter saves
        self.b.click("#dep-rename-%s" % NEW_DEP)
        self.b.wait_for("document.activeElement && document.activeElement.id === %s" % js("dep-name-" + NEW_DEP),
                        5, message="rename field focused")
        self.assertEqual(self.b.evaluate("document.activeElement.value"), NEW_DEP_NAME)
        for t in ("keyDown", "keyUp"):
            self.b.send("Input.dispatchKeyEvent", {"type": t, "key": "Escape", "code": "Escape",
                                                   "windowsVirtualKeyCode": 27})
        self.b.wait_for("document.querySelector('#dep-list form.dep-rename-form') === null", 5,
                        message="Esc closes the rename form")
        self.assertEqual(self.focused(), "dep-rename-" + NEW_DEP)
        self.b.press_enter("#dep-rename-%s" % NEW_DEP)  # a button, from the keyboard
        self.b.wait_for("document.activeElement && document.activeElement.id === %s" % js("dep-name-" + NEW_DEP),
                        5, message="rename field focused again")
        self.b.type("#dep-name-%s" % NEW_DEP, NEW_DEP_RENAMED)
        self.b.press_enter("#dep-name-%s" % NEW_DEP)
        self.b.wait_for("(function(){var r=document.querySelector('#dep-list tbody tr[data-code=%s] .dep-name-text');"
                        "return r && r.textContent === %s;})() || !!(document.getElementById(%s)||{}).textContent"
                        % (NEW_DEP, js(NEW_DEP_RENAMED), js("dep-name-%s-error" % NEW_DEP)), 10,
                        message="renamed")
        self.wait_deps()
        row = self.dep_row(NEW_DEP)
        self.assertEqual((row["name"], row["active"], row["editing"]), (NEW_DEP_RENAMED, "1", False))
        self.assertEqual(self.focused(), "dep-rename-" + NEW_DEP)
        self.assertEqual(self.d.query("SELECT name, active FROM dependencias WHERE code = ?", (NEW_DEP,)),
                         [{"name": NEW_DEP_RENAMED, "active": 1}])

        # deactivate it
        self.b.click("#dep-toggle-%s" % NEW_DEP)
        self.b.wait_for("(function(){var r=document.querySelector('#dep-list tbody tr[data-code=%s]');"
                        "return r && r.dataset.active === '0';})() || "
                        "!!(document.getElementById(%s)||{}).textContent" % (NEW_DEP, js("dep-toggle-%s-error" % NEW_DEP)),
                        10, message="deactivated")
        self.wait_deps()
        row = self.dep_row(NEW_DEP)
        self.assertEqual((row["name"], row["active"], row["state"], row["toggle"], row["toggle_disabled"]),
                         (NEW_DEP_RENAMED, "0", "Inactiva", "Activar", False))
        self.assertEqual(self.focused(), "dep-toggle-" + NEW_DEP)
        self.assertEqual(self.d.query("SELECT name, active FROM dependencias WHERE code = ?", (NEW_DEP,)),
                         [{"name": NEW_DEP_RENAMED, "active": 0}])
        self.assertIn("1 inactiva", self.b.text("#dep-summary"))

        # a code already taken is caught before it would overwrite that one
        self.b.type("#dep-new-name", "Otra cosa")
        self.b.type("#dep-new-code", NEW_DEP)
        self.b.click("#dep-new-submit")
        self.b.wait_for("!document.getElementById('dep-new-code-error').hidden", H.WAIT, message="duplicate code")
        self.assertIn("Ya existe", self.b.text("#dep-new-code-error"))
        self.assertEqual(self.d.query("SELECT name FROM dependencias WHERE code = ?", (NEW_DEP,)),
                         [{"name": NEW_DEP_RENAMED}])

        # an invalid code: the API's Spanish message, next to the code field
        with_api = staffkit.Staff(self.d, admin, PASSWORDS[admin][1])
        try:
            probe = with_api.post("/api/v1/dependencias", {"code": BAD_DEP_CODE, "name": NEW_DEP_NAME, "active": True})
            err = H.assert_error(self, probe, 422, "invalid", field="code")
        finally:
            with_api.logout()
        self.b.type("#dep-new-name", NEW_DEP_NAME)
        self.b.type("#dep-new-code", BAD_DEP_CODE)
        self.expected_failures.append((422, "POST", "/api/v1/dependencias"))
        self.b.click("#dep-new-submit")
        self.b.wait_for("document.getElementById('dep-new-code-error').textContent === %s" % js(err["message"]), 10,
                        message="the API's message next to the code")
        self.assertFalse(self.b.evaluate("document.getElementById('dep-new-code-error').hidden"))
        self.assertNotIn("invalid", self.b.text("#dep-new-code-error"))
        self.assertEqual(self.b.evaluate("document.getElementById('dep-new-code').getAttribute('aria-invalid')"), "true")
        described = self.b.evaluate("document.getElementById('dep-new-code').getAttribute('aria-describedby')").split()
        self.assertIn("dep-new-code-error", described)
        self.assertIn("dep-new-code-help", described)
        # "next to": in the code field's own box, right after its input and help
        self.assertTrue(self.b.evaluate("document.getElementById('dep-new-code-error').parentNode === "
                                        "document.getElementById('dep-new-code').parentNode"))
        self.assertIsNone(self.b.evaluate("document.getElementById('dep-new-name').getAttribute('aria-invalid')"))
        self.assertTrue(self.b.evaluate("document.getElementById('dep-new-error').hidden"))
        self.assertEqual(self.focused(), "dep-new-code")
        self.assertEqual(self.b.evaluate("document.getElementById('dep-new-code').value"), BAD_DEP_CODE)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM dependencias WHERE code = ?", (BAD_DEP_CODE,)), 0)
        self.clear_notices()
        print("\n  admin screenshot: %s" % self.shot("admin-dependencias"))

        # fixing the code clears the error
        self.b.type("#dep-new-code", "")
        self.b.type("#dep-new-name", "")
        self.b.click("#dep-new-submit")
        self.b.wait_for("document.getElementById('dep-new-code-error').textContent === "
                        "'Escriba el código de la dependencia.'", H.WAIT, message="empty code caught")
        self.assertEqual(self.b.text("#dep-new-name-error"), "Escriba el nombre de la dependencia.")
        self.assertEqual(self.focused(), "dep-new-name")

        # the audit trail: each save, by this admin
        saved = self.d.query("SELECT actor, payload FROM audit_events WHERE action = 'dependencia_guardada' "
                             "ORDER BY id")  # the payload's code compared here, on both backends
        events = [e for e in saved if json.loads(e["payload"]).get("code") == NEW_DEP]
        self.assertEqual([e["actor"] for e in events], ["staff:" + admin] * 3, events)
        self.assertEqual([json.loads(e["payload"]) for e in events], [
            {"code": NEW_DEP, "name": NEW_DEP_NAME, "active": True},
            {"code": NEW_DEP, "name": NEW_DEP_RENAMED, "active": True},
            {"code": NEW_DEP, "name": NEW_DEP_RENAMED, "active": False}])
        self.assertEqual(len([e for e in saved if json.loads(e["payload"]).get("code") == BAD_DEP_CODE]), 0)

        # a 375 px phone: no sideways scrolling, the buttons still reachable
        self.b.set_viewport(375, 740, mobile=True)
        try:
            self.b.wait_for("document.documentElement.clientWidth <= 380", H.WAIT, message="narrow viewport")
            width = self.b.evaluate("document.documentElement.scrollWidth")
            self.assertLessEqual(width, 380, "the admin view overflows a 375 px screen")
            self.b.click("#dep-toggle-%s" % NEW_DEP)  # activates it again, from the card
            self.b.wait_for("(function(){var r=document.querySelector('#dep-list tbody tr[data-code=%s]');"
                            "return r && r.dataset.active === '1';})()" % NEW_DEP, 10, message="reactivated")
            self.wait_deps()
            self.assertEqual(self.d.scalar("SELECT active FROM dependencias WHERE code = ?", (NEW_DEP,)), 1)
            self.clear_notices()
            print("\n  admin screenshot (375 px): %s" % self.shot("admin-dependencias-narrow"))
        finally:
            self.b.set_viewport(1280, 900)
        self.done.add("admin")

    @shot_on_failure
    def test_10_other_roles_do_not_see_the_admin_view(self):
        self.need("login_page")
        self.ui_logout()
        # nothing of the admin's page stays for the next user
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#dep-list tbody tr').length"), 0)
        self.b.evaluate("history.replaceState(null, '', '/staff#/dependencias')")
        self.ui_login("agente.ui")
        self.wait_queue("")
        self.assertTrue(self.b.evaluate("document.getElementById('admin-view').hidden"))
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#dep-list tbody tr').length"), 0)
        self.assertFalse(self.b.evaluate("document.getElementById('live-status').hidden"))
        self.assertIn(self.items["plain"], self.rows())
        # what the admin saved reaches the others' lists: the queue filter names it
        self.need("admin")
        self.assertEqual(self.b.evaluate("(document.querySelector('#filter-dependencia option[value=%s]')||{}).textContent"
                                         % js(NEW_DEP)), NEW_DEP_RENAMED)
        self.ui_logout()

    @shot_on_failure
    def test_11_admin_manages_surveys(self):
        self.need("login_page")
        admin = "admin.ui"
        self.ui_logout()
        self.ui_login(admin)
        self.wait_deps()
        self.wait_surveys()
        self.assertIsNone(self.survey_row(SURVEY))
        self.assertEqual(self.b.text("#sv-title-main"), "Encuestas")

        # create a public survey with the editor: a rating, a single choice, a free text
        self.b.type("#sv-code", SURVEY)
        self.b.select("#sv-purpose", "public")
        self.b.type("#sv-title", SURVEY_TITLE)
        self.b.type("#sv-intro", "Queremos saber cómo le parece la atención de la entidad. Son tres preguntas cortas.")
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#sv-questions fieldset.sv-q').length"), 1)
        self.b.select("#sv-q-0-type", "rating")
        self.b.type("#sv-q-0-text", "¿Qué tan satisfecho está con la atención?")
        self.assertTrue(self.b.evaluate("document.getElementById('sv-q-0-options-box').hidden"))
        self.b.click("#sv-add-question")
        self.b.wait_for("document.activeElement && document.activeElement.id === 'sv-q-1-type'", 5,
                        message="the new question's type focused")
        self.b.select("#sv-q-1-type", "single")
        self.assertFalse(self.b.evaluate("document.getElementById('sv-q-1-options-box').hidden"))
        self.b.type("#sv-q-1-text", "¿Por cuál canal nos contactó?")
        self.b.type("#sv-q-1-options", "Página web\nCorreo electrónico\nVentanilla presencial\n")
        self.b.click("#sv-add-question")
        self.b.select("#sv-q-2-type", "text")
        self.b.type("#sv-q-2-text", "¿Qué podemos mejorar?")
        self.b.type("#sv-q-2-required", False)
        # reorder: the text one up and back down, from the keyboard
        self.b.press_enter("#sv-q-2-up")
        self.b.wait_for("document.getElementById('sv-q-1-text').value === '¿Qué podemos mejorar?'", 5,
                        message="moved up")
        self.assertEqual(self.focused(), "sv-q-1-up")
        self.b.press_enter("#sv-q-1-down")
        self.b.wait_for("document.getElementById('sv-q-2-text').value === '¿Qué podemos mejorar?'", 5,
                        message="moved down")
        self.assertEqual(self.focused(), "sv-q-2-text")  # its Bajar is disabled now: the text field
        # add one and remove it again
        self.b.click("#sv-add-question")
        self.b.click("#sv-q-3-remove")
        self.b.wait_for("document.querySelectorAll('#sv-questions fieldset.sv-q').length === 3", H.WAIT, message="removed")
        unlabelled = self.b.evaluate("[...document.querySelectorAll('#surveys input, #surveys select, #surveys textarea')]"
                                     ".filter(function(i){return !document.querySelector('label[for=\"'+i.id+'\"]');})"
                                     ".map(function(i){return i.id;})")
        self.assertEqual(unlabelled, [])
        self.b.click("#sv-submit")
        self.wait_survey(SURVEY, "true", "survey created")
        self.assertTrue(self.b.evaluate("document.getElementById('sv-error').hidden"), self.b.text("#sv-error"))
        self.b.wait_for("(function(){var q=document.getElementById('sv-qr-%s');return q&&q.complete&&q.naturalWidth>0;})()"
                        % SURVEY, 10, message="QR image loaded")
        row = self.survey_row(SURVEY)
        self.assertEqual((row["title"], row["purpose"], row["state"], row["active"], row["version"], row["answers"],
                          row["toggle"]), (SURVEY_TITLE, "Pública", "Activa", "1", "1", "0", "Desactivar"))
        self.assertEqual(row["qr_src"], "/encuesta/p/%s/qr.svg" % SURVEY)
        self.assertEqual(row["qr_alt"], "Código QR de la encuesta " + SURVEY_TITLE)
        self.assertTrue(row["qr_loaded"])
        self.assertTrue(row["link"].endswith("/encuesta/p/" + SURVEY), row["link"])
        self.assertEqual(self.focused(), "sv-edit-" + SURVEY)
        defn = json.loads(self.d.scalar("SELECT v.definition FROM survey_versions v JOIN surveys s ON s.id = v.survey_id "
                                        "WHERE s.code = ? AND v.version = 1", (SURVEY,)))
        self.assertEqual([(q["id"], q["type"], q["required"], q.get("options")) for q in defn["questions"]], [
            ("p1", "rating", True, None),
            ("p2", "single", True, ["Página web", "Correo electrónico", "Ventanilla presencial"]),
            ("p3", "text", False, None)])
        self.assertEqual(defn["title"], SURVEY_TITLE)
        self.clear_notices()
        print("\n  surveys screenshot: %s" % self.shot("admin-encuestas"))

        # the public link, answered in the browser: a plain form
        path = re.sub(r"^https?://[^/]+", "", row["link"])
        self.b.navigate(self.base + path)
        self.assertEqual(self.b.text("h1"), SURVEY_TITLE)
        self.assertEqual(self.b.evaluate("document.scripts.length"), 0)
        self.b.click("input[name=q_p1][value='4']")
        self.b.click("input[name=q_p2][value='2']")
        self.b.type("textarea[name=q_p3]", "Que respondan más rápido.")
        self.b.click("form button[type=submit]")
        self.wait_for_page("(document.querySelector('h1')||{}).textContent === '¡Gracias por responder!'", "answer saved")
        answers = self.d.query("SELECT a.version, a.answers, a.csat FROM survey_answers a JOIN surveys s ON "
                               "s.id = a.survey_id WHERE s.code = ?", (SURVEY,))
        self.assertEqual(len(answers), 1, answers)
        self.assertEqual((answers[0]["version"], answers[0]["csat"]), (1, 4))

        # back in the admin view: a new version with an NPS question
        self.b.navigate(self.base + "/staff")
        self.wait_surveys()
        self.assertEqual(self.survey_row(SURVEY)["answers"], "1")
        self.b.click("#sv-edit-" + SURVEY)
        self.b.wait_for("!document.getElementById('sv-version-note').hidden", H.WAIT, message="editor open")
        note = self.b.text("#sv-version-note")
        self.assertIn("versión 2", note)
        self.assertIn("conservan la versión con la que se respondieron", note)
        self.assertEqual(self.focused(), "sv-form-title")
        self.assertTrue(self.b.evaluate("document.getElementById('sv-code').disabled"))
        self.assertEqual(self.b.evaluate("document.getElementById('sv-title').value"), SURVEY_TITLE)
        self.assertEqual(self.b.evaluate("document.getElementById('sv-q-1-options').value"),
                         "Página web\nCorreo electrónico\nVentanilla presencial")
        self.assertFalse(self.b.evaluate("document.getElementById('sv-q-2-required').checked"))
        self.assertEqual(self.b.text("#sv-submit"), "Guardar la versión 2")
        self.b.click("#sv-add-question")
        self.b.select("#sv-q-3-type", "nps")
        self.b.type("#sv-q-3-text", "¿Qué tan probable es que recomiende la entidad a un amigo?")
        self.b.click("#sv-submit")
        self.wait_survey(SURVEY, "r.dataset.version === '2'", "version 2 saved")
        self.assertTrue(self.b.evaluate("document.getElementById('sv-error').hidden"), self.b.text("#sv-error"))
        self.assertEqual(self.survey_row(SURVEY)["answers"], "1")
        self.assertEqual(self.d.query("SELECT a.version FROM survey_answers a JOIN surveys s ON s.id = a.survey_id "
                                      "WHERE s.code = ?", (SURVEY,)), [{"version": 1}])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM survey_versions v JOIN surveys s ON s.id = v.survey_id "
                                       "WHERE s.code = ?", (SURVEY,)), 2)
        self.assertEqual(self.d.scalar("SELECT current_version FROM surveys WHERE code = ?", (SURVEY,)), 2)
        # the editor is back to creating one
        self.assertEqual(self.b.text("#sv-form-title"), "Crear una encuesta")
        self.assertFalse(self.b.evaluate("document.getElementById('sv-code').disabled"))

        # export: a file through a blob: link, and the same text to copy
        downloads = os.path.join(self.tmp, "downloads")
        os.makedirs(downloads, exist_ok=True)
        self.b._call(self.b._send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads},
                                  session=False))
        self.b.click("#sv-export-" + SURVEY)
        self.b.wait_for("!document.getElementById('sv-export').hidden && "
                        "document.getElementById('sv-export-text').value.length > 0", H.WAIT, message="export shown")
        self.assertEqual(self.focused(), "sv-export-title")
        exported = json.loads(self.b.evaluate("document.getElementById('sv-export-text').value"))
        self.assertEqual((exported["code"], exported["purpose"], exported["current_version"]), (SURVEY, "public", 2))
        self.assertEqual([v["version"] for v in exported["versions"]], [1, 2])
        self.assertEqual(len(exported["definition"]["questions"]), 4)
        self.assertTrue(self.b.evaluate("document.getElementById('sv-export-text').readOnly"))
        href = self.b.evaluate("document.getElementById('sv-export-link').getAttribute('href')")
        self.assertTrue(href.startswith("blob:" + self.base + "/"), href)
        self.assertEqual(self.b.evaluate("document.getElementById('sv-export-link').getAttribute('download')"),
                         "encuesta-%s.json" % SURVEY)
        self.b.click("#sv-export-link")
        target = os.path.join(downloads, "encuesta-%s.json" % SURVEY)
        deadline = time.monotonic() + H.WAIT
        while not os.path.exists(target) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(os.path.exists(target), "the download did not arrive: %s %s" % (os.listdir(downloads),
                                                                                       self.b.report()))
        with open(target, encoding="utf-8") as f:
            self.assertEqual(json.load(f), exported)

        # import it under a new code: the file read in the browser, then posted
        self.b.set_files("#sv-import-file", [target])
        self.b.wait_for("document.getElementById('sv-import-text').value.length > 0", H.WAIT, message="file read")
        self.assertEqual(json.loads(self.b.evaluate("document.getElementById('sv-import-text').value")), exported)
        self.b.type("#sv-import-code", SURVEY_COPY)
        self.b.click("#sv-import-submit")
        self.wait_survey(SURVEY_COPY, "true", "imported")
        self.assertTrue(self.b.evaluate("document.getElementById('sv-import-error').hidden"),
                        self.b.text("#sv-import-error"))
        copy = self.survey_row(SURVEY_COPY)
        self.assertEqual((copy["title"], copy["purpose"], copy["version"], copy["answers"], copy["active"]),
                         (SURVEY_TITLE, "Pública", "1", "0", "1"))
        self.assertEqual(json.loads(self.d.scalar(
            "SELECT v.definition FROM survey_versions v JOIN surveys s ON s.id = v.survey_id WHERE s.code = ?",
            (SURVEY_COPY,))), exported["definition"])
        self.assertEqual(self.survey_row(SURVEY)["version"], "2")
        self.b.click("#sv-export-close")

        # an invalid definition: a single choice with one option; the API's message
        with_api = staffkit.Staff(self.d, admin, PASSWORDS[admin][1])
        try:
            bad = dict(exported["definition"])
            bad["questions"] = [dict(q) for q in bad["questions"]]
            bad["questions"][1]["options"] = ["Solo una"]
            probe = with_api.post("/api/v1/surveys", {"code": SURVEY, "purpose": "public", "definition": bad})
            err = H.assert_error(self, probe, 422, "invalid", field="definition")
        finally:
            with_api.logout()
        self.assertIn("p2", err["message"])
        self.b.click("#sv-edit-" + SURVEY)
        self.b.wait_for("!document.getElementById('sv-version-note').hidden", H.WAIT, message="editor open")
        self.b.type("#sv-q-1-options", "Solo una")
        self.expected_failures.append((422, "POST", "/api/v1/surveys"))
        self.b.click("#sv-submit")
        self.b.wait_for("document.getElementById('sv-error').textContent === %s" % js(err["message"]), 10,
                        message="the API's message")
        self.assertFalse(self.b.evaluate("document.getElementById('sv-error').hidden"))
        self.assertEqual(self.b.text("#sv-q-1-error"), err["message"])
        self.assertEqual(self.b.evaluate("document.getElementById('sv-q-1-options').getAttribute('aria-invalid')"), "true")
        self.assertIn("sv-q-1-error", self.b.evaluate(
            "document.getElementById('sv-q-1-options').getAttribute('aria-describedby')").split())
        self.assertIn("sv-error", self.b.evaluate("document.getElementById('sv-submit').getAttribute('aria-describedby')").split())
        self.assertEqual(self.focused(), "sv-q-1-options")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM survey_versions v JOIN surveys s ON s.id = v.survey_id "
                                       "WHERE s.code = ?", (SURVEY,)), 2)
        self.clear_notices()
        print("\n  survey error screenshot: %s" % self.shot("admin-encuesta-error"))

        # a 375 px phone: no sideways scrolling
        self.b.set_viewport(375, 740, mobile=True)
        try:
            self.b.wait_for("document.documentElement.clientWidth <= 380", H.WAIT, message="narrow viewport")
            width = self.b.evaluate("document.documentElement.scrollWidth")
            self.assertLessEqual(width, 380, "the surveys overflow a 375 px screen")
            print("\n  surveys screenshot (375 px): %s" % self.shot("admin-encuestas-narrow"))
        finally:
            self.b.set_viewport(1280, 900)
        self.b.click("#sv-cancel")
        self.b.wait_for("document.getElementById('sv-form-title').textContent === 'Crear una encuesta'", 5,
                        message="editor closed")
        self.assertEqual(self.focused(), "sv-edit-" + SURVEY)

        # deactivate it: its public page answers 404
        self.b.click("#sv-toggle-" + SURVEY)
        self.wait_survey(SURVEY, "r.dataset.active === '0'", "deactivated")
        row = self.survey_row(SURVEY)
        self.assertEqual((row["active"], row["state"], row["toggle"], row["qr_src"]), ("0", "Inactiva", "Activar", None))
        self.assertEqual(self.focused(), "sv-toggle-" + SURVEY)
        self.assertEqual(self.d.scalar("SELECT active FROM surveys WHERE code = ?", (SURVEY,)), 0)
        self.expected_failures.append((404, "GET", path))
        self.b.navigate(self.base + path)
        self.assertEqual(self.b.text("h1"), "Encuesta no encontrada")
        self.assertEqual(self.d.get(path).status, 404)
        self.b.navigate(self.base + "/staff")
        self.wait_surveys()
        self.ui_logout()

    def test_99_no_script_errors_or_csp_violations(self):
        if self.b is None:
            self.fail("no browser")
        b = self.b
        self.assertEqual(b.exceptions, [], "JavaScript exceptions:\n%s" % b.report())
        self.assertEqual(b.csp_violations, [], "CSP violations:\n%s" % b.report())
        self.assertEqual(b.console_errors(), [], "console errors:\n%s" % b.report())
        # the only failed requests are the expected 401s of the session API
        # and the ones a step provoked on purpose (each once)
        expected = list(self.expected_failures)
        unexpected = []
        for e in b.http_errors:
            if e["status"] == 401 and e["url"].endswith("/api/v1/session"):
                continue
            path = re.sub(r"^https?://[^/]+", "", e["url"] or "")
            # the public survey pages name no icon, so the browser asks for one
            if e["status"] == 404 and path == "/favicon.ico":
                continue
            # (Chrome names the method only when it reports the request headers)
            match = [x for x in expected if x[0] == e["status"] and x[2] == path
                     and (not e["method"] or e["method"] == x[1])]
            if match:
                expected.remove(match[0])
            else:
                unexpected.append(e)
        self.assertEqual(unexpected, [], "unexpected failed requests:\n%s" % b.report())
        self.assertEqual(expected, [], "failed requests a step expected but the browser did not see:\n%s"
                         % b.report())
        allowed_logs = [(401, "/api/v1/session"), (404, "/favicon.ico")] + [(x[0], x[2]) for x in self.expected_failures]
        bad_logs = [e for e in b.log_entries if e["level"] == "error" and not (
            e["source"] == "network" and any("status of %d" % st in e["text"] and e["url"].endswith(path)
                                             for st, path in allowed_logs))]
        self.assertEqual(bad_logs, [], "browser errors:\n%s" % b.report())
        self.assert_no_crash()
        self.d.stop()


if __name__ == "__main__":
    H.main()
