"""The hearing's question wall in a real headless Chromium (issue 7): a
moderador creates a hearing, /audiencia/{code}/pantalla is opened, questions
are filed (one from the web page with a name the asker agreed to show, one
with a name not to be shown, one from staff entry carrying a <script> text)
and moderated through the API; after each moderation the wall in the page
changes without a reload: approved and selected questions visible, the
selected one first, rejected and answered ones gone, a name only when agreed,
markup shown as text. No JavaScript error, console error or CSP violation;
a screenshot of the wall goes to $VT_ARTIFACTS (default build/test-artifacts/).

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_24_wall_browser.py
"""
import datetime
import functools
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
import cdp  # noqa: E402

REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))
RADICADO_RE = re.compile(r'id="radicado">([^<]+)<')
CODE = "muro2026"

# The wall as the page shows it: [{status, text, name|None, topic|None}].
WALL_JS = """[...document.querySelectorAll('#preguntas > li')].map(function (li) {
  var t = li.querySelector('.texto'), n = li.querySelector('.nombre'), p = li.querySelector('.tema');
  return {cls: li.className, text: t ? t.textContent : null, name: n ? n.textContent : null,
          topic: p ? p.textContent : null, html: li.innerHTML};
})"""


def now_ms():
    return int(time.time() * 1000)


def shot_on_failure(fn):
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except BaseException:
            try:
                p = self.shot("fail-%s" % fn.__name__)
                print("\n  failure screenshot: %s\n  browser: %s" % (p, self.b.report()))
            except Exception:  # noqa: BLE001
                pass
            raise
    return wrapper


@unittest.skipIf(not HAVE_BROWSER and not REQUIRE_BROWSER,
                 "no browser at %s (apt-get install chromium); set VT_REQUIRE_BROWSER=1 to fail instead"
                 % cdp.CHROMIUM)
class WallBrowser(H.DaemonCase):
    b = None
    d = None
    done = set()

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        cls.d = H.Daemon(name="wall-ui")
        for name, role in (("ag", "agente"), ("mo", "moderador")):
            S.add_user(cls.d, name, role, None)
        cls.d.start()
        cls.base = "http://127.0.0.1:%d" % cls.d.port
        cls.s = {n: S.Staff(cls.d, n) for n in ("ag", "mo")}
        today = datetime.date.today()
        r = cls.s["mo"].post("/api/v1/hearings", {
            "code": CODE, "name": "Rendición de cuentas: muro de preguntas",
            "date": (today + datetime.timedelta(days=30)).isoformat(), "place": "Auditorio principal",
            "convoked_on": today.isoformat(), "questions_open_at": now_ms() - 60000,
            "questions_close_at": now_ms() + 3600 * 1000})
        assert r.status == 201, r
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        if cls.b is not None:
            cls.b.close()
        if cls.d is not None:
            S.stop_and_cleanup(cls.d)

    # -- helpers
    def shot(self, name, full_page=True):
        return self.b.screenshot(os.path.join(ARTIFACTS, "wall-%s.png" % name), full_page=full_page)

    def need(self, *steps):
        missing = [s for s in steps if s not in self.done]
        if missing:
            self.fail("an earlier step failed: %s" % ", ".join(missing))

    def web_question(self, text, name="", show=False):
        fields = {"text": text, "name": name}
        if show:
            fields["show_name"] = "si"
        r = self.d.post_form(fields, "/audiencia/%s" % CODE)
        self.assertEqual(r.status, 201, r)
        return RADICADO_RE.search(r.text).group(1)

    def staff_question(self, text, **over):
        body = {"text": text, "source": "buzon"}
        body.update(over)
        r = self.s["ag"].post("/api/v1/hearings/%s/questions" % CODE, body)
        self.assertEqual(r.status, 201, r)
        return r.json()["radicado"]

    def moderate(self, radicado, action, **fields):
        body = {"action": action}
        body.update(fields)
        r = self.s["mo"].post("/api/v1/hearings/%s/questions/%s/moderate" % (CODE, radicado), body)
        self.assertEqual(r.status, 200, r)

    def wall(self):
        return self.b.evaluate(WALL_JS)

    def wait_wall(self, pred_js, message):
        self.b.wait_for("(function (w) { return %s; })(%s)" % (pred_js, WALL_JS), H.WAIT, message=message)
        return self.wall()

    def marker(self):
        """Sets a property on window: gone if the page reloads."""
        self.b.evaluate("window.__vtNoReload = 1")

    def assert_no_reload(self):
        self.assertEqual(self.b.evaluate("window.__vtNoReload === 1"), True, "the page was reloaded")

    def assert_clean(self):
        b = self.b
        self.assertEqual(b.exceptions, [], "JavaScript exceptions:\n%s" % b.report())
        self.assertEqual(b.csp_violations, [], "CSP violations:\n%s" % b.report())
        self.assertEqual(b.console_errors(), [], "console errors:\n%s" % b.report())
        failed = [e for e in b.http_errors if not e["url"].endswith("/favicon.ico")]
        self.assertEqual(failed, [], "failed requests:\n%s" % b.report())
        bad = [e for e in b.log_entries if e["level"] == "error" and not (e.get("url") or "").endswith("/favicon.ico")]
        self.assertEqual(bad, [], "browser errors:\n%s" % b.report())

    # -- tests
    @shot_on_failure
    def test_01_wall_opens_empty_and_connected(self):
        self.b.navigate(self.base + "/audiencia/%s/pantalla" % CODE)
        self.b.wait_for("document.getElementById('estado').textContent === ''", 10,
                        message="wall.js connected to /live")
        self.assertEqual(self.wall(), [])
        self.assertIn("Rendición de cuentas", self.b.text("h1"))
        self.marker()
        self.assert_clean()
        self.done.add("open")

    @shot_on_failure
    def test_02_moderation_moves_the_wall_live(self):
        self.need("open")
        u = H.unique()
        shown = "Ana Visible %d" % u
        secret = "Luis Secreto %d" % u
        ta = "¿Cuánto se invirtió en vías rurales? %d" % u
        tb = "¿Cuándo abre el nuevo hospital? %d" % u
        tx = "<script>alert('x')</script><b>negrita</b> %d" % u
        te = "Pregunta ofensiva %d" % u
        a = self.web_question(ta, shown, show=True)
        b = self.web_question(tb, secret, show=False)
        x = self.staff_question(tx, name=secret, show_name=False)
        e = self.staff_question(te)
        self.assertEqual(self.wall(), [], "pending questions are not on the wall")

        # approve A: visible with the name its asker agreed to show; the wall
        # that brings A (sent after the four pending ones were stored) is the
        # barrier: none of them is on it.
        self.moderate(a, "approve")
        w = self.wait_wall("w.some(function (q) { return q.text.indexOf(%s) >= 0; })" % json.dumps(ta),
                           "A approved on the wall")
        self.assertEqual([q["text"] for q in w], [ta], "pending questions are not on the wall")
        self.assertEqual(w[0]["name"], shown)
        self.assertIn("aprobada", w[0]["cls"])
        self.assert_no_reload()

        # approve B: visible, without the name it did not agree to show
        self.moderate(b, "approve")
        w = self.wait_wall("w.length === 2", "B approved on the wall")
        wb = [q for q in w if q["text"] == tb]
        self.assertEqual(len(wb), 1, w)
        self.assertIsNone(wb[0]["name"], w)

        # approve X: the markup is shown as text, not run or rendered
        self.moderate(x, "approve")
        w = self.wait_wall("w.length === 3", "X approved on the wall")
        wx = [q for q in w if q["text"] == tx]
        self.assertEqual(len(wx), 1, w)
        self.assertIsNone(wx[0]["name"], w)
        self.assertIn("&lt;script&gt;", wx[0]["html"])
        self.assertEqual(self.b.evaluate("document.querySelectorAll('#preguntas script, #preguntas b').length"), 0)
        self.assertEqual(self.b.evaluate("document.scripts.length"), 1)

        # reject E (pending): never on the wall. The wall after the next step
        # (sent after the rejection) is the barrier.
        self.moderate(e, "reject", reason="Lenguaje ofensivo")

        # select B: first on the wall, as seleccionada
        self.moderate(b, "select")
        w = self.wait_wall("w.length >= 1 && w[0].cls.indexOf('seleccionada') >= 0", "B selected first")
        self.assertEqual(len(w), 3, w)
        self.assertNotIn(te, [q["text"] for q in w])
        self.assertEqual(w[0]["text"], tb)
        self.assertIsNone(w[0]["name"])

        # answered live: B leaves the wall
        self.moderate(b, "answered_live")
        w = self.wait_wall("w.length === 2", "B answered and gone")
        self.assertNotIn(tb, [q["text"] for q in w])
        self.assertEqual(sorted(q["text"] for q in w), sorted([ta, tx]))

        # the secret name never reached the page
        self.assertNotIn(secret, self.b.evaluate("document.documentElement.outerHTML"))
        self.assertIn(shown, self.b.evaluate("document.documentElement.outerHTML"))
        self.assert_no_reload()
        self.assert_clean()
        print("\n  wall screenshot: %s" % self.shot("pantalla"))
        self.done.add("moderated")

    def test_99_no_crash(self):
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
