"""The public pages a stranger can reach (issue 12, points 3, 4 and 12).

3. A hearing question is published on the answers report
   (/audiencia/{code}/respuestas, its .csv, the staff JSON of the same report)
   and on the room's wall only once moderation let it through: approved,
   selected, answered, or merged into one of those. Pending and rejected
   questions are counted, never shown.
4. Field names and values a sender made up never come back as markup: a
   hostile name or value, urlencoded or multipart, on the citizen form, a
   survey page, the hearing question page and /consulta, is shown escaped.
12. Tracking by radicado and code: POST only (JSON or form) on /api/v1/track
   and /consulta; a code in a URL is refused without a lookup and never logged;
   one per-address limit for both, answered 429 with Retry-After and a Spanish
   message; the acknowledgements never put the code in a link.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_28_public.py
"""
import asyncio
import csv
import datetime
import io
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

import websockets  # noqa: E402  (python3-websockets 10.4)

RADICADO_RE = re.compile(r'id="radicado">([^<]+)<')
CODIGO_RE = re.compile(r'id="codigo">([^<]+)<')
TRIAGE = "atencion_ciudadano"
HOSTILE = ['"><script>alert(1)</script>', "<img src=x onerror=alert(2)>"]
# What must never appear raw in a page once a hostile string went in.
RAW = ["<script>alert(", "<img src=x", '"><script', '"><img']


def now_ms():
    return int(time.time() * 1000)


def hearing_body(code, name):
    today = datetime.date.today()
    return {"code": code, "name": name, "date": (today + datetime.timedelta(days=20)).isoformat(),
            "place": "Auditorio", "convoked_on": today.isoformat(),
            "questions_open_at": now_ms() - 60000, "questions_close_at": now_ms() + 3600 * 1000}


def quoted(s):
    """A quoted-string for a multipart header parameter (RFC 7578 / 2616)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def multipart(pairs):
    """multipart/form-data of (name, value) pairs, names quoted properly."""
    boundary = "----vt28boundary%d" % H.unique()
    out = io.BytesIO()
    for k, v in pairs:
        out.write(("--%s\r\nContent-Disposition: form-data; name=%s\r\n\r\n" % (boundary, quoted(k))).encode())
        out.write(v.encode())
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=%s" % boundary, out.getvalue()


# ---------------------------------------------------------------------------
# 3. The answers report and the wall show only what moderation let through


class HearingReport(H.DaemonCase):
    CODE = "rc_publica"

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="public-hearing")
        users = [("co", "coordinador", TRIAGE), ("mo", "moderador", None)]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n, _, _ in users}
        r = cls.s["mo"].post("/api/v1/hearings", hearing_body(cls.CODE, "Rendición de cuentas pública"))
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def ask(self, text, name=""):
        """A citizen's question from the public page, as the issue's reproduction did."""
        r = self.d.post_form({"text": text, "name": name}, "/audiencia/%s" % self.CODE)
        self.assertEqual(r.status, 201, r)
        return RADICADO_RE.search(r.text).group(1)

    def moderate(self, radicado, action, **fields):
        body = {"action": action}
        body.update(fields)
        r = self.s["mo"].post("/api/v1/hearings/%s/questions/%s/moderate" % (self.CODE, radicado), body)
        self.assertEqual(r.status, 200, r)

    def outputs(self):
        """Every published form of the report: the page, the CSV, the staff JSON."""
        page = self.d.get("/audiencia/%s/respuestas" % self.CODE)
        self.assertEqual(page.status, 200, page)
        c = self.d.get("/audiencia/%s/respuestas.csv" % self.CODE)
        self.assertEqual(c.status, 200, c)
        rep = self.s["mo"].get("/api/v1/hearings/%s/report" % self.CODE)
        self.assertEqual(rep.status, 200, rep)
        return page.text, c.text, rep.json()

    def wall(self):
        async def once():
            async with websockets.connect("ws://127.0.0.1:%d/live" % self.d.port,
                                          subprotocols=["ventanilla-live"], open_timeout=10,
                                          close_timeout=2) as ws:
                await ws.send(json.dumps({"subscribe": ["wall:%s" % self.CODE]}))
                m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                self.assertEqual(m["topic"], "wall", m)
                return m
        return asyncio.run(once())

    def assert_hidden(self, radicado, text):
        page, csv_text, rep = self.outputs()
        for where, body in (("page", page), ("csv", csv_text)):
            self.assertNotIn(text, body, "%s shows an unmoderated question" % where)
            self.assertNotIn(radicado, body, "%s lists an unmoderated question" % where)
        self.assertNotIn(radicado, [q["radicado"] for q in rep["questions"]])
        wall = self.wall()
        self.assertNotIn(text, json.dumps(wall, ensure_ascii=False))
        return page, csv_text, rep

    def assert_shown(self, radicado, text):
        page, csv_text, rep = self.outputs()
        self.assertEqual(page.count('id="q-%s"' % radicado), 1, page)
        self.assertIn(text, page)
        rows = {r[0]: r for r in csv.reader(io.StringIO(csv_text))}
        self.assertIn(radicado, rows)
        self.assertIn(radicado, [q["radicado"] for q in rep["questions"]])
        return page, csv_text, rep

    def test_01_a_pending_question_is_counted_not_shown(self):
        text = "¿Cuánto costó el parque del barrio Las Flores? %d" % H.unique()
        rad = self.ask(text, name="Marta Preguntona")
        page, _, rep = self.assert_hidden(rad, text)
        self.assertNotIn("Marta Preguntona", page)
        self.assertRegex(page, r"\d+ preguntas? (está|están) en revisión")
        self.assertGreaterEqual(rep["in_review"], 1)
        # Approved, it is published.
        self.moderate(rad, "approve")
        self.assert_shown(rad, text)

    def test_02_a_rejected_question_is_counted_with_its_reason_only(self):
        text = "Texto que la moderación no admite %d" % H.unique()
        rad = self.ask(text)
        self.moderate(rad, "reject", reason="Fuera del tema de la audiencia")
        page, _, rep = self.assert_hidden(rad, text)
        self.assertIn("Fuera del tema de la audiencia", page)
        self.assertRegex(page, r"\d+ preguntas? no admitidas?")
        self.assertGreaterEqual(rep["not_admitted"], 1)

    def test_03_a_merged_question_follows_the_one_it_joined(self):
        u = H.unique()
        parent_text, child_text = "¿Cuándo arreglan la vía? %d" % u, "¿Para cuándo la vía arreglada? %d" % u
        parent, child = self.ask(parent_text), self.ask(child_text)
        self.moderate(child, "merge", into=parent)
        self.assert_hidden(parent, parent_text)
        self.assert_hidden(child, child_text)
        self.moderate(parent, "approve")
        page, _, _ = self.assert_shown(child, child_text)
        self.assertIn(parent_text, page)
        self.assertLess(page.index('id="q-%s"' % parent), page.index('id="q-%s"' % child))

    def test_04_an_answered_question_is_published_with_its_answer(self):
        text = "¿Habrá jornada de vacunación? %d" % H.unique()
        rad = self.ask(text)
        answer = "Sí, el sábado en el parque principal %d." % H.unique()
        r = self.s["co"].act(rad, "respond", text=answer)
        self.assertEqual(r.status, 200, r)
        page, _, _ = self.assert_shown(rad, text)
        self.assertIn(answer, page)

    def test_05_selected_and_answered_live_are_published(self):
        text = "¿Qué pasó con el acueducto veredal? %d" % H.unique()
        rad = self.ask(text)
        self.moderate(rad, "approve")
        self.moderate(rad, "select")
        self.assert_shown(rad, text)
        self.moderate(rad, "answered_live")
        page, _, _ = self.assert_shown(rad, text)
        self.assertIn("Respondida en la audiencia", page)

    def test_99_no_crash(self):
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# 4. Field names and values never come back as markup


class HostileFields(H.DaemonCase):
    CODE = "rc_hostil"
    SURVEY = "encuesta_hostil"

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="public-hostile")
        users = [("mo", "moderador", None), ("ad", "admin", None)]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n, _, _ in users}
        r = cls.s["mo"].post("/api/v1/hearings", hearing_body(cls.CODE, "Audiencia con campos hostiles"))
        assert r.status == 201, r
        survey = {"title": "Encuesta de prueba", "intro": "Preguntas cortas.",
                  "questions": [{"id": "satisfaccion", "type": "rating", "text": "¿Qué tan satisfecho está?",
                                 "required": True},
                                {"id": "recomendacion", "type": "nps", "text": "¿Nos recomendaría?",
                                 "required": False},
                                {"id": "comentario", "type": "text", "text": "Comentarios", "required": False}]}
        r = cls.s["ad"].post("/api/v1/surveys", {"code": cls.SURVEY, "purpose": "public", "definition": survey})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def send(self, path, pairs, encoding):
        if encoding == "urlencoded":
            body = urllib.parse.urlencode(pairs).encode("ascii")
            ctype = "application/x-www-form-urlencoded"
        else:
            ctype, body = multipart(pairs)
        return self.d.request("POST", path, body, {"Content-Type": ctype})

    def assert_no_markup(self, r, where):
        self.assertIn("text/html", r.header("content-type", ""), (where, r))
        for raw in RAW:
            self.assertNotIn(raw, r.text, "%s: raw markup %r in the page" % (where, raw))
        self.assertNotIn("<img", r.text, where)
        self.assertNotRegex(r.text, r"<script(?![^>]*\bsrc=)", where)

    def cases(self, known):
        """(label, pairs): a hostile name, and a hostile value in a known field."""
        for h in HOSTILE:
            yield "name %r" % h, known + [(h, "valor")]
            yield "name and value %r" % h, known + [(h, h)]

    def test_01_citizen_form(self):
        for enc in ("urlencoded", "multipart"):
            for label, pairs in self.cases(list(H.form_fields().items())):
                with self.subTest(enc=enc, case=label):
                    r = self.send("/", pairs, enc)
                    self.assertEqual(r.status, 422, r)
                    self.assert_no_markup(r, "/ (%s, %s)" % (enc, label))
                    self.assertIn("no existe", r.text)
            for h in HOSTILE:
                with self.subTest(enc=enc, value=h):
                    # Hostile values in every text field, with an error so the form comes back.
                    f = H.form_fields(subject=h, body=h + " cuerpo", name=h, email="malo@" + h,
                                      municipality=h, address=h)
                    r = self.send("/", list(f.items()), enc)
                    self.assertEqual(r.status, 422, r)
                    self.assert_no_markup(r, "/ values (%s)" % enc)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items WHERE kind = 'pqrsd'"), 0)

    def test_01b_a_made_up_field_name_cannot_forge_a_log_line(self):
        forged = "x\nts=2026-01-01T00:00:00.000Z level=error event=forged_line"
        r = self.send("/", list(H.form_fields().items()) + [(forged, "valor")], "urlencoded")
        self.assertEqual(r.status, 422, r)
        r = self.send("/", list(H.form_fields().items()) + [("<b>zz</b>", "valor")], "urlencoded")
        self.assertEqual(r.status, 422, r)
        r = self.d.post_json(None, raw=b'{"kind":"pqrsd","x\\nevent=forged_line":1}')
        self.assertEqual(r.status, 422, r)
        # A positive barrier: the three rejections are logged; none forged a line.
        deadline = time.monotonic() + 30
        while self.d.log_text().count("event=intake_rejected") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(self.d.log_text().count("event=intake_rejected"), 3, self.d.log_text())
        for line in self.d.log_text().splitlines():
            self.assertNotIn("forged_line", line)
            self.assertFalse(line.startswith("ts=2026-01-01"), line)
        self.assertNotIn("<b>zz</b>", self.d.log_text())

    def test_02_survey_page(self):
        path = "/encuesta/p/%s" % self.SURVEY
        for enc in ("urlencoded", "multipart"):
            for h in HOSTILE:
                for label, pairs in (("name", [("q_satisfaccion", "9"), (h, h)]),
                                     ("values", [("q_satisfaccion", h), ("q_recomendacion", h),
                                                 ("q_comentario", h)])):
                    with self.subTest(enc=enc, case=label, hostile=h):
                        r = self.send(path, pairs, enc)
                        self.assertEqual(r.status, 422, r)
                        self.assert_no_markup(r, "%s (%s, %s)" % (path, enc, label))

    def test_03_hearing_question_page(self):
        path = "/audiencia/%s" % self.CODE
        for enc in ("urlencoded", "multipart"):
            for h in HOSTILE:
                with self.subTest(enc=enc, hostile=h):
                    # No question text: the form comes back with what was typed.
                    r = self.send(path, [("text", ""), ("name", h), (h, h)], enc)
                    self.assertEqual(r.status, 422, r)
                    self.assert_no_markup(r, "%s (%s)" % (path, enc))
                    r = self.send(path, [("text", h + " " * 3), ("name", "x" * 300 + h)], enc)
                    self.assertEqual(r.status, 422, r)
                    self.assert_no_markup(r, "%s long name (%s)" % (path, enc))

    def test_04_consulta(self):
        for enc in ("urlencoded", "multipart"):
            for h in HOSTILE:
                with self.subTest(enc=enc, hostile=h):
                    r = self.send("/consulta", [("radicado", h), ("codigo", h), (h, h)], enc)
                    self.assertEqual(r.status, 404, r)
                    self.assert_no_markup(r, "/consulta (%s)" % enc)

    def test_99_no_crash(self):
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# 12. Tracking: POST only, never a code in a URL, one limit per address


class Tracking(H.DaemonCase):
    BURST = 4

    @classmethod
    def setUpClass(cls):
        # One token a minute after a burst of BURST: a test's few requests
        # never see a refill, however slow the machine. X-Forwarded-For stands
        # for the client's address, so each test is its own client.
        cls.d = H.Daemon(name="public-track", config={
            "server": {"trust_forwarded_for": True},
            "tracking": {"rate_limit_per_minute": 1, "rate_limit_burst": cls.BURST}})
        cls.d.start()
        ip = cls.client()
        r = cls.d.request("POST", "/", urllib.parse.urlencode(H.form_fields(
            subject="Solicitud para seguimiento", body="Quiero saber cómo va mi trámite.")).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip})
        assert r.status == 200, r
        cls.ack_page = r.text
        cls.rad = RADICADO_RE.search(r.text).group(1)
        cls.code = CODIGO_RE.search(r.text).group(1)

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    @staticmethod
    def client():
        return "198.51.100.%d" % (H.unique() % 250 + 1)

    def req(self, method, path, body=None, ctype=None, ip=None):
        headers = {"X-Forwarded-For": ip or self.client()}
        if ctype:
            headers["Content-Type"] = ctype
        return self.d.request(method, path, body, headers)

    def api(self, obj, ip=None):
        return self.req("POST", "/api/v1/track", json.dumps(obj).encode(), "application/json", ip)

    def consulta(self, fields, ip=None):
        return self.req("POST", "/consulta", urllib.parse.urlencode(fields).encode(),
                        "application/x-www-form-urlencoded", ip)

    def assert_reveals_nothing(self, r):
        for secret in (self.d.scalar("SELECT due_date FROM items WHERE radicado = ?", (self.rad,)),
                       "Historial", "history", "radicado\":", "Fecha límite"):
            self.assertNotIn(secret, r.text, r)

    def test_01_get_with_the_code_in_the_url_is_refused(self):
        q = urllib.parse.urlencode({"radicado": self.rad, "code": self.code})
        r = self.req("GET", "/api/v1/track?" + q)
        err = H.assert_error(self, r, 405, "method_not_allowed")
        self.assertIn("POST", err["message"])
        self.assertIn("código", err["message"])
        self.assertIn("POST", r.header("allow", ""))
        self.assert_reveals_nothing(r)
        q = urllib.parse.urlencode({"radicado": self.rad, "codigo": self.code})
        r = self.req("GET", "/consulta?" + q)
        self.assertEqual(r.status, 400, r)
        self.assertIn("text/html", r.header("content-type", ""))
        self.assertIn("formulario", r.text)
        self.assertIn('method="post"', r.text)
        self.assert_reveals_nothing(r)
        self.assertNotIn(self.code, r.text)
        r = self.req("GET", "/consulta")
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.text, r'<form method="post" action="/consulta">')

    def test_02_post_json_and_form(self):
        r = self.api({"radicado": self.rad, "code": self.code})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["radicado"], self.rad)
        self.assertEqual(r.json()["status"], "radicado")
        for fields in ({"radicado": self.rad, "code": self.code}, {"radicado": self.rad, "codigo": self.code}):
            r = self.req("POST", "/api/v1/track", urllib.parse.urlencode(fields).encode(),
                         "application/x-www-form-urlencoded")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["radicado"], self.rad)
        wrong = self.code[:-1] + ("7" if self.code[-1] != "7" else "8")
        a, b = self.api({"radicado": self.rad, "code": wrong}), self.api({"radicado": "1999-000001", "code": self.code})
        H.assert_error(self, a, 404, "not_found")
        self.assertEqual(a.body, b.body)

    def test_03_bad_tracking_bodies(self):
        H.assert_error(self, self.api({"radicado": self.rad}), 422, "missing", field="code")
        H.assert_error(self, self.api({"code": self.code}), 422, "missing", field="radicado")
        H.assert_error(self, self.api({"radicado": self.rad, "code": self.code, "x": 1}), 422, "unknown_field")
        H.assert_error(self, self.api({"radicado": self.rad, "code": 7}), 422, "wrong_type", field="code")
        H.assert_error(self, self.req("POST", "/api/v1/track", b"{no", "application/json"), 400)
        H.assert_error(self, self.req("POST", "/api/v1/track", b"x", "text/plain"), 415)

    def test_04_consulta_by_post_keeps_the_radicado_not_the_code(self):
        ok = self.consulta({"radicado": self.rad, "codigo": self.code})
        self.assertEqual(ok.status, 200, ok)
        self.assertIn("Historial", ok.text)
        wrong = self.code[:-1] + ("7" if self.code[-1] != "7" else "8")
        r = self.consulta({"radicado": self.rad, "codigo": wrong})
        self.assertEqual(r.status, 404, r)
        self.assertRegex(r.text, r'id="radicado" name="radicado"[^>]*value="%s"' % re.escape(self.rad))
        self.assertNotIn(wrong, r.text)
        r = self.consulta({"radicado": self.rad})
        self.assertEqual(r.status, 422, r)
        self.assertIn("Escriba el número de radicado y el código", r.text)

    def test_05_one_limit_per_address_for_both(self):
        ip = self.client()
        good = {"radicado": self.rad, "code": self.code}
        for i in range(self.BURST):
            r = self.api(good, ip) if i % 2 else self.consulta({"radicado": self.rad, "codigo": self.code}, ip)
            self.assertEqual(r.status, 200, (i, r))
        r = self.api(good, ip)
        err = H.assert_error(self, r, 429, "rate_limited")
        self.assertIn("Espere", err["message"])
        self.assertGreater(int(r.header("retry-after", "0")), 0)
        self.assert_reveals_nothing(r)
        r = self.consulta({"radicado": self.rad, "codigo": self.code}, ip)
        self.assertEqual(r.status, 429, r)
        self.assertIn("text/html", r.header("content-type", ""))
        self.assertIn("Espere", r.text)
        self.assertGreater(int(r.header("retry-after", "0")), 0)
        self.assertNotIn("Historial", r.text)
        self.assertRegex(r.text, r'id="radicado" name="radicado"[^>]*value="%s"' % re.escape(self.rad))
        # Another address is not held back.
        self.assertEqual(self.api(good).status, 200)

    def test_06_acknowledgements_never_link_the_code(self):
        links = re.findall(r'(?:href|src|action)="([^"]*)"', self.ack_page)
        self.assertTrue(links)
        self.assertEqual([u for u in links if self.code in u], [], "a link carries the tracking code")
        self.assertIn(self.code, self.ack_page, "the page shows the code as text")
        r = self.d.post_json(H.item_payload())
        doc = H.assert_created(self, r)
        self.assertNotIn(doc["tracking_code"], r.header("location", ""))

    def test_98_no_code_in_the_logs(self):
        self.d.stop()
        self.assertNotIn(self.code, self.d.log_text())
        self.d.start()

    def test_99_no_crash(self):
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
