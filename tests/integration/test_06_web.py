"""Web channel: the form, the acknowledgement, field errors, /consulta,
/tablero, /metrics, and no personal data in the logs."""
import datetime
import html
import os
import re
import sys
import unittest
import urllib.parse
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"]
NON_LABELLED = {"hidden", "submit", "button", "reset", "image"}


class Page(HTMLParser):
    """Collects what the tests look at: <html lang>, forms, controls, labels, visible text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.forms = []
        self.controls = []  # dicts of attributes plus "tag"
        self.label_for = set()
        self.ids = set()
        self.text_parts = []
        self.options = {}  # select name -> [(value, selected)]
        self._select = None
        self._option = None  # [value or None, selected, text parts]
        self._skip = 0
        self.feed(text)
        self.close()
        self.text = " ".join(" ".join(self.text_parts).split())

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "form":
            self.forms.append(a)
        elif tag in ("input", "select", "textarea"):
            a["tag"] = tag
            self.controls.append(a)
            if tag == "select":
                self._select = a.get("name")
                self.options.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self._end_option()
            self._option = [a.get("value"), "selected" in a, []]
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif tag in ("script", "style"):
            self._skip += 1

    def _end_option(self):
        if self._option is not None:
            value, selected, text = self._option
            if value is None:
                value = " ".join("".join(text).split())
            self.options[self._select].append((value, selected))
            self._option = None

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag == "option":
            self._end_option()
        elif tag == "select":
            self._end_option()
            self._select = None

    def handle_data(self, data):
        if self._option is not None:
            self._option[2].append(data)
        if not self._skip:
            self.text_parts.append(data)

    def control(self, name):
        found = [c for c in self.controls if c.get("name") == name]
        return found[0] if found else None

    def labellable(self):
        return [c for c in self.controls if not (c["tag"] == "input" and c.get("type", "text").lower() in NON_LABELLED)]


def element_text(raw_html, elem_id):
    m = re.search(r'<(\w+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(elem_id), raw_html, re.S)
    if not m:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.group(2))).split())


def date_forms(d):
    """Ways a page may write a date: ISO, dd/mm/yyyy, '5 de marzo de 2026'."""
    return {d.strftime("%Y-%m-%d"), d.strftime("%d/%m/%Y"), "%d/%02d/%d" % (d.day, d.month, d.year),
            "%d de %s de %d" % (d.day, MESES[d.month - 1], d.year),
            "%02d de %s de %d" % (d.day, MESES[d.month - 1], d.year)}


class Web(H.DaemonCase):
    secrets = []  # personal data and codes sent during the run

    @classmethod
    def setUpClass(cls):
        # find_tracking_code tries the page's tokens one by one, from the one test address.
        cls.d = H.Daemon(name="web", config={"log": {"level": "debug"},
                                             "tracking": {"rate_limit_per_minute": 100000,
                                                          "rate_limit_burst": 100000}})
        cls.d.start()
        cls.secrets = []

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def post_web(self, fields, path="/"):
        for k in ("name", "email", "phone", "id_number"):
            if fields.get(k):
                Web.secrets.append(fields[k])
        body = urllib.parse.urlencode(fields).encode()
        return self.d.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def find_tracking_code(self, radicado, page):
        """The page shows the tracking code somewhere; find which token it is."""
        tokens = []
        for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]{5,}", page.text):
            if t != radicado and t not in tokens and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
                tokens.append(t)
        for t in tokens[:400]:
            if self.d.track(radicado, t).status == 200:
                return t
        return None

    # ------------------------------------------------------------------
    def test_01_form(self):
        r = self.d.get("/")
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("content-type", ""))
        p = Page(r.text)
        self.assertEqual(p.lang, "es-CO")
        self.assertIn("Ley 1581", p.text)
        self.assertTrue(p.forms, "no <form>")
        f = p.forms[0]
        self.assertEqual(f.get("method", "").lower(), "post", "the form must work without JavaScript")
        self.assertIn(f.get("action", "/"), ("/", ""))
        for name in ("subject", "body", "type", "person_type", "name", "email"):
            self.assertIsNotNone(p.control(name), "no control named %r" % name)
        unlabelled = [c for c in p.labellable() if not c.get("id") or c["id"] not in p.label_for]
        self.assertEqual(unlabelled, [], "controls without <label for>")
        self.assertTrue([c for c in p.controls if c.get("type", "").lower() == "submit"]
                        or re.search(r"<button\b", r.text), "no submit button")

    def test_02_post_acknowledgement(self):
        f = H.form_fields(type="peticion", petition_class="general", subject="Horario de atención",
                          body="¿Cuál es el horario de atención al público los sábados?")
        before = self.d.scalar("SELECT count(*) FROM items")
        r = self.post_web(f)
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("content-type", ""))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), before + 1)
        row = self.d.query("SELECT * FROM items ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(row["channel"], "web")
        self.assertEqual(row["subject"], f["subject"])
        rq = self.d.query("SELECT * FROM requesters WHERE item_id = ?", (row["id"],))[0]
        self.assertEqual(rq["name"], f["name"])
        self.assertEqual(rq["data_consent"], 1)

        p = Page(r.text)
        self.assertEqual(p.lang, "es-CO")
        self.assertIn(row["radicado"], p.text)
        received = datetime.datetime.fromtimestamp(row["received_at"] / 1000, H.BOGOTA)
        self.assertTrue(any(s in p.text for s in date_forms(received)), "receipt date not shown")
        h12 = received.hour % 12 or 12
        times = {"%02d:%02d" % (received.hour, received.minute), "%d:%02d" % (h12, received.minute)}
        self.assertTrue(any(t in p.text for t in times), "receipt time not shown (%s)" % times)
        due = datetime.date.fromisoformat(row["due_date"])
        self.assertTrue(any(s in p.text for s in date_forms(due)), "due date %s not shown" % due)
        code = self.find_tracking_code(row["radicado"], p)
        self.assertIsNotNone(code, "no working tracking code on the acknowledgement page")
        Web.secrets.append(code)
        Web.ack = (row["radicado"], code, row)

    def test_03_post_multipart_with_attachment(self):
        f = H.form_fields(type="reclamo")
        for k in ("name", "email", "phone", "id_number"):
            Web.secrets.append(f[k])
        pdf = H.minimal_pdf("factura")
        r = self.d.post_multipart(f, [("attachments", "factura.pdf", "application/pdf", pdf)], path="/")
        self.assertEqual(r.status, 200, r)
        row = self.d.query("SELECT * FROM items ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(row["channel"], "web")
        self.assertIn(row["radicado"], Page(r.text).text)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM attachments WHERE item_id = ?", (row["id"],)), 1)

    def assert_field_error(self, r, name):
        self.assertEqual(r.status, 422, r)
        self.assertIn("text/html", r.header("content-type", ""))
        p = Page(r.text)
        c = p.control(name)
        self.assertIsNotNone(c, "the 422 page does not re-show the form control %r" % name)
        self.assertEqual(c.get("aria-invalid"), "true", "control %r lacks aria-invalid=true: %r" % (name, c))
        ref = c.get("aria-describedby", "")
        self.assertTrue(ref, "control %r lacks aria-describedby" % name)
        msgs = [element_text(r.text, i) for i in ref.split()]
        self.assertTrue(any(m for m in msgs), "aria-describedby %r points at no message" % ref)
        return p

    def test_03b_browser_like_submission(self):
        """Submit the form the way a browser without JavaScript does: every
        control the page has, empty optional fields, the default option of
        each select, an empty file part, as multipart/form-data when the form
        says so."""
        page = self.d.get("/")
        p = Page(page.text)
        form = p.forms[0]
        mine = H.form_fields(type="sugerencia", subject="Sugerencia desde el formulario",
                             body="Podrían ampliar el horario de atención los sábados.")
        mine.pop("kind", None)
        for k in ("name", "email", "phone", "id_number"):
            Web.secrets.append(mine[k])
        pairs, files, used = [], [], set()
        for c in p.controls:
            name = c.get("name")
            if not name or c.get("disabled") is not None:
                continue
            ctype = c.get("type", "text").lower() if c["tag"] == "input" else c["tag"]
            if ctype in ("submit", "button", "reset", "image"):
                continue
            if ctype == "file":
                files.append((name, "", "application/octet-stream", b""))
                continue
            if ctype in ("checkbox", "radio"):
                if name in mine and name not in used and c.get("value", "on") in (mine[name], "on", "si", "true"):
                    pairs.append((name, c.get("value", "on")))
                    used.add(name)
                elif name not in mine and "checked" in c:
                    pairs.append((name, c.get("value", "on")))
                continue
            if name in mine:
                pairs.append((name, mine[name]))
                used.add(name)
            elif c["tag"] == "select":
                opts = p.options.get(name) or [("", False)]
                sel = [v for v, s in opts if s]
                pairs.append((name, sel[0] if sel else opts[0][0]))
            else:
                pairs.append((name, c.get("value", "")))
        missing = [k for k in mine if k not in used and k != "data_consent"]
        self.assertEqual(missing, [], "the form has no control for %s" % missing)
        enctype = form.get("enctype", "application/x-www-form-urlencoded").lower()
        if enctype == "multipart/form-data":
            ctype, body = H.multipart(pairs, files)
        else:
            ctype, body = "application/x-www-form-urlencoded", urllib.parse.urlencode(pairs).encode()
        before = self.d.scalar("SELECT count(*) FROM items")
        r = self.d.request("POST", form.get("action") or "/", body, {"Content-Type": ctype})
        self.assertEqual(r.status, 200, "the daemon refused its own form: %r" % r)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), before + 1)
        row = self.d.query("SELECT * FROM items ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(row["subject"], mine["subject"])
        self.assertEqual(row["type"], "sugerencia")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM attachments WHERE item_id = ?", (row["id"],)), 0)

    def test_04_bad_post_field_errors(self):
        stored = H.stored(self.d)
        before = self.d.scalar("SELECT count(*) FROM items")
        self.assert_field_error(self.post_web(H.form_fields(email="esto-no-es-un-correo")), "email")
        self.assert_field_error(self.post_web(H.form_fields(subject="")), "subject")
        p = self.assert_field_error(self.post_web(H.form_fields(subject="x" * 201)), "subject")
        # the other fields keep what was typed
        self.assertIn("Queja por mala", self.post_web(H.form_fields(email="malo@")).text)
        self.assertEqual(p.lang, "es-CO")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), before)
        H.assert_nothing_stored(self, self.d, stored)

    def test_05_consulta(self):
        radicado, code, row = Web.ack
        r = self.d.get("/consulta")
        self.assertEqual(r.status, 200)
        p = Page(r.text)
        self.assertEqual(p.lang, "es-CO")
        for name in ("radicado", "codigo"):
            c = p.control(name)
            self.assertIsNotNone(c, "no control %r on /consulta" % name)
            self.assertIn(c.get("id"), p.label_for)

        def q(rad, cod):
            return self.d.post_form({"radicado": rad, "codigo": cod}, "/consulta")

        right = q(radicado, code)
        self.assertEqual(right.status, 200, right)
        self.assertIn(radicado, Page(right.text).text)
        wrong_code = code[:-1] + ("7" if code[-1].upper() != "7" else "8")
        wrong = q(radicado, wrong_code)
        unknown_rad = "%s-999999" % radicado[:4]
        unknown = q(unknown_rad, code)
        self.assertEqual(wrong.status, unknown.status)
        self.assertNotEqual(wrong.body, right.body)
        # identical once the echoed input is set aside
        norm_w = wrong.text.replace(radicado, "RAD").replace(wrong_code, "COD")
        norm_u = unknown.text.replace(unknown_rad, "RAD").replace(code, "COD")
        self.assertEqual(norm_w, norm_u, "wrong code and unknown radicado look different")
        self.assertNotIn(row["due_date"], wrong.text)

        # after a miss the radicado typed is kept, the code never is
        self.assertEqual(Page(wrong.text).control("radicado").get("value"), radicado)
        self.assertNotIn(wrong_code, wrong.text)

    def test_06_tablero_and_healthz(self):
        r = self.d.get("/tablero")
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.header("content-type", ""))
        self.assertEqual(self.d.get("/healthz").status, 200)

    def test_07_metrics(self):
        r = self.d.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/plain", r.header("content-type", ""))
        t = r.text
        m = re.search(r'^ventanilla_intakes_total\{[^}]*channel="web"[^}]*\}\s+([0-9.eE+]+)', t, re.M)
        self.assertIsNotNone(m, "no ventanilla_intakes_total{channel=\"web\"}")
        self.assertGreaterEqual(float(m.group(1)), 2)
        for name in ("ventanilla_commit_batch_size_bucket", "ventanilla_commit_batches_total",
                     "ventanilla_commit_latency_seconds_bucket", "ventanilla_websocket_clients"):
            self.assertRegex(t, r"(?m)^%s[{ ]" % name)

    def test_99_no_personal_data_in_logs(self):
        # also exercise the JSON API and the tracking endpoint with personal data
        req = H.item_payload()
        for k in ("name", "email", "phone", "id_number"):
            Web.secrets.append(req["requester"][k])
        doc = H.assert_created(self, self.d.post_json(req))
        Web.secrets.append(doc["tracking_code"])
        self.d.track(doc["radicado"], doc["tracking_code"])
        bad = H.item_payload()
        bad["requester"]["email"] = "correo-invalido-%d" % H.unique()
        Web.secrets.append(bad["requester"]["email"])
        Web.secrets.append(bad["requester"]["name"])
        self.d.post_json(bad)
        self.d.stop()
        self.assert_no_crash()
        logs = self.d.log_text()
        self.assertTrue(logs.strip())
        self.assertGreater(len(self.secrets), 10)
        leaked = [s for s in self.secrets if s and s in logs]
        self.assertEqual(leaked, [], "personal data or tracking codes in the logs")


class MetricsToken(H.DaemonCase):
    """metrics.token protects /metrics; VENTANILLA_METRICS_TOKEN overrides it."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="token", config={"metrics": {"token": "token-del-archivo"}},
                         env={"VENTANILLA_METRICS_TOKEN": "token-del-entorno"})
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_01_token(self):
        self.assertIn(self.d.get("/metrics").status, (401, 403))
        wrong = self.d.get("/metrics", {"Authorization": "Bearer token-del-archivo"})
        self.assertIn(wrong.status, (401, 403), "the environment variable must override metrics.token")
        ok = self.d.get("/metrics", {"Authorization": "Bearer token-del-entorno"})
        self.assertEqual(ok.status, 200, ok)
        self.assertIn("ventanilla_commit_batches_total", ok.text)
        self.assertEqual(self.d.get("/healthz").status, 200)


if __name__ == "__main__":
    H.main()
