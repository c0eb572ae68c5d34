"""A survey page in a real headless Chromium, at 375 px and 1280 px (issue 12,
point 17): every radio sits beside its own number or text, left of it on the
same line, never stretched above it; the rating (1-5) and NPS (0-10) scales
are rows of options that do not overlap and fit the screen, with the meaning
of both ends written out ("1 = Muy insatisfecho" ... "10 = Muy probable");
clicking a number chooses it and the answers sent are the ones chosen.
Screenshots go to $VT_ARTIFACTS (default build/test-artifacts/).

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_29_survey_browser.py
"""
import functools
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
import cdp  # noqa: E402

REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))
CODE = "satisfaccion_web"
SURVEY = {"title": "Encuesta de satisfacción", "intro": "Cuatro preguntas cortas.",
          "questions": [{"id": "satisfaccion", "type": "rating", "required": True,
                         "text": "¿Qué tan satisfecho quedó con la respuesta?"},
                        {"id": "recomendacion", "type": "nps", "required": True,
                         "text": "¿Qué tan probable es que recomiende la entidad a un amigo?"},
                        {"id": "resuelto", "type": "yes_no", "required": False,
                         "text": "¿Resolvimos su solicitud?"},
                        {"id": "canal", "type": "single", "required": False, "text": "¿Cómo nos contactó?",
                         "options": ["Por la página web", "Por WhatsApp", "Por correo electrónico"]}]}
ENDS = {"q_satisfaccion": ("1 = Muy insatisfecho", "5 = Muy satisfecho"),
        "q_recomendacion": ("0 = Nada probable", "10 = Muy probable")}
VALUES = {"q_satisfaccion": [str(v) for v in range(1, 6)], "q_recomendacion": [str(v) for v in range(0, 11)]}

# The geometry of one question as the page lays it out: each option's box, its
# radio and its text, the question's box, and the end labels.
GEOMETRY_JS = """(function (name) {
  function box(e) { var r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; }
  var fs = document.getElementById(name);
  var opts = [...fs.querySelectorAll('label')].map(function (l) {
    var i = l.querySelector('input');
    var t = document.createRange(); t.selectNodeContents(l.querySelector('span') || l);
    var tr = t.getBoundingClientRect();
    return {value: i.value, label: box(l), radio: box(i), text: {left: tr.left, right: tr.right, top: tr.top,
            bottom: tr.bottom, width: tr.width, height: tr.height}, words: l.textContent.trim()};
  });
  var ends = [...fs.querySelectorAll('.scale-ends span')].map(function (s) {
    return {text: s.textContent.trim(), box: box(s), visible: getComputedStyle(s).visibility !== 'hidden'}; });
  return {fieldset: box(fs), options: opts, ends: ends,
          viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth};
})(%s)"""


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


def overlap(a, b, tol=0.5):
    """True when boxes a and b share more than a hairline."""
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > tol and
            min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tol)


def rows(options):
    """The options grouped by the line they sit on (top within 2 px)."""
    out = []
    for o in options:
        if out and abs(out[-1][0]["label"]["top"] - o["label"]["top"]) <= 2:
            out[-1].append(o)
        else:
            out.append([o])
    return out


@unittest.skipIf(not HAVE_BROWSER and not REQUIRE_BROWSER,
                 "no browser at %s (apt-get install chromium); set VT_REQUIRE_BROWSER=1 to fail instead"
                 % cdp.CHROMIUM)
class SurveyBrowser(H.DaemonCase):
    b = None
    d = None

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        cls.d = H.Daemon(name="survey-ui")
        S.add_user(cls.d, "ad", "admin", None)
        cls.d.start()
        r = S.Staff(cls.d, "ad").post("/api/v1/surveys", {"code": CODE, "purpose": "public", "definition": SURVEY})
        assert r.status == 201, r
        cls.url = "http://127.0.0.1:%d/encuesta/p/%s" % (cls.d.port, CODE)
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        if cls.b is not None:
            cls.b.close()
        if cls.d is not None:
            S.stop_and_cleanup(cls.d)

    def shot(self, name):
        return self.b.screenshot(os.path.join(ARTIFACTS, "survey-%s.png" % name), full_page=True)

    def open(self, width):
        self.b.set_viewport(width, 900, mobile=width < 600)
        self.b.navigate(self.url)
        self.b.wait_visible("#q_recomendacion")

    def geometry(self, name):
        return self.b.evaluate(GEOMETRY_JS % json.dumps(name))

    def assert_beside(self, name, g):
        """Each radio is left of its own text, on the same line, not stretched."""
        for o in g["options"]:
            r, t = o["radio"], o["text"]
            where = "%s=%s (radio %r, text %r)" % (name, o["value"], r, t)
            self.assertLess(r["width"], 40, "the radio is stretched: " + where)
            self.assertLessEqual(r["right"], t["left"] + 1, "the radio is not left of its text: " + where)
            centre = (r["top"] + r["bottom"]) / 2
            self.assertTrue(t["top"] <= centre <= t["bottom"], "the radio is not on its text's line: " + where)
            # Both sit inside the option's own box: nothing spills into a neighbour.
            for part, b in (("radio", r), ("text", t)):
                self.assertGreaterEqual(b["left"], o["label"]["left"] - 0.5, "%s out of its box: %s" % (part, where))
                self.assertLessEqual(b["right"], o["label"]["right"] + 0.5, "%s out of its box: %s" % (part, where))

    def assert_scale(self, name, g, max_rows):
        opts = g["options"]
        self.assertEqual([o["value"] for o in opts], VALUES[name])
        self.assertEqual([o["words"] for o in opts], VALUES[name], "each option shows its number")
        self.assertLessEqual(g["scroll"], g["viewport"], "the page scrolls sideways")
        for i, a in enumerate(opts):
            self.assertGreaterEqual(a["label"]["left"], g["fieldset"]["left"], name)
            self.assertLessEqual(a["label"]["right"], g["fieldset"]["right"], name)
            self.assertGreaterEqual(a["label"]["height"], 32, "%s=%s is too small to tap" % (name, a["value"]))
            for b in opts[i + 1:]:
                self.assertFalse(overlap(a["label"], b["label"]), "%s: %s and %s overlap" % (name, a["value"], b["value"]))
        lines = rows(opts)
        self.assertLessEqual(len(lines), max_rows, "%s takes %d rows" % (name, len(lines)))
        for line in lines:
            lefts = [o["label"]["left"] for o in line]
            self.assertEqual(lefts, sorted(lefts), "%s: a row is not in order" % name)
        # The meaning of both ends, written out, the low one left of the high one, below the options.
        low, high = ENDS[name]
        self.assertEqual([e["text"] for e in g["ends"]], [low, high])
        lo, hi = g["ends"][0]["box"], g["ends"][1]["box"]
        for e in g["ends"]:
            self.assertTrue(e["visible"] and e["box"]["width"] > 0 and e["box"]["height"] > 0, e)
            self.assertGreaterEqual(e["box"]["top"], max(o["label"]["bottom"] for o in opts) - 1, e)
        self.assertLessEqual(lo["right"], hi["left"], "the end labels overlap")
        self.assertLess(abs(lo["left"] - opts[0]["label"]["left"]), 2, "the low end is not at the row's start")
        self.assertLess(abs(hi["right"] - max(o["label"]["right"] for o in opts)), 2,
                        "the high end is not at the row's end")

    @shot_on_failure
    def test_01_phone_375(self):
        self.open(375)
        for name in ("q_satisfaccion", "q_recomendacion"):
            g = self.geometry(name)
            self.assert_beside(name, g)
            self.assert_scale(name, g, max_rows=1 if name == "q_satisfaccion" else 2)
        for name in ("q_resuelto", "q_canal"):
            self.assert_beside(name, self.geometry(name))
        print("\n  survey at 375 px: %s" % self.shot("375"))

    @shot_on_failure
    def test_02_desktop_1280(self):
        self.open(1280)
        for name in ("q_satisfaccion", "q_recomendacion"):
            g = self.geometry(name)
            self.assert_beside(name, g)
            self.assert_scale(name, g, max_rows=1)
        for name in ("q_resuelto", "q_canal"):
            self.assert_beside(name, self.geometry(name))
        print("\n  survey at 1280 px: %s" % self.shot("1280"))

    def click_text(self, name, value):
        """Clicks the middle of the words of the option name=value, as a finger would."""
        p = self.b.evaluate("""(function () {
          var i = document.querySelector('input[name=%s][value=%s]'), l = i.closest('label');
          l.scrollIntoView({block: 'center'});
          var r = document.createRange(); r.setStartAfter(i); r.setEnd(l, l.childNodes.length);
          var b = r.getBoundingClientRect();
          return {x: b.left + b.width / 2, y: b.top + b.height / 2};
        })()""" % (json.dumps(name), json.dumps(value)))
        for t, buttons in (("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)):
            ev = {"type": t, "x": p["x"], "y": p["y"]}
            if t != "mouseMoved":
                ev.update(button="left", buttons=buttons, clickCount=1)
            self.b.send("Input.dispatchMouseEvent", ev)

    @shot_on_failure
    def test_03_clicking_a_number_chooses_it(self):
        self.open(375)
        self.click_text("q_satisfaccion", "4")
        self.click_text("q_recomendacion", "7")
        self.click_text("q_resuelto", "si")
        checked = self.b.evaluate("[...document.querySelectorAll('input:checked')].map(i => i.name + '=' + i.value)")
        self.assertEqual(checked, ["q_satisfaccion=4", "q_recomendacion=7", "q_resuelto=si"])
        self.shot("375-chosen")
        self.b.click("button[type=submit]")
        self.b.wait_for("document.querySelector('h1') && document.querySelector('h1').textContent.indexOf('Gracias') >= 0",
                        20, message="the thanks page")
        row = self.d.query("SELECT a.answers FROM survey_answers a JOIN surveys s ON s.id = a.survey_id "
                           "WHERE s.code = ?", (CODE,))
        self.assertEqual(len(row), 1, row)
        answers = json.loads(row[0]["answers"])
        self.assertEqual((answers["satisfaccion"], answers["recomendacion"]), (4, 7), answers)

    def test_04_no_script_errors(self):
        b = self.b
        self.assertEqual(b.exceptions, [], b.report())
        self.assertEqual(b.csp_violations, [], b.report())
        self.assertEqual(b.console_errors(), [], b.report())

    def test_99_no_crash(self):
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
