"""Public hearings after the event (issue 7, points 5 and 6): questions not
answered live are answered in writing through the staff queue within
terms.hearing_question; the public answers report (printable HTML and CSV)
lists every question moderation let through once (those in review and those
not admitted only counted, issue 12), counts by channel and group; commitments with progress
by the responsible dependencia; the evaluation survey and its figures."""
import csv
import datetime
import io
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
OBRAS = "obras"
CODE = "rc2026b"


def now_ms():
    return int(time.time() * 1000)


class HearingAfter(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="hearing_after")
        users = [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE), ("co_obras", "coordinador", OBRAS),
                 ("mo", "moderador", None), ("ad", "admin", None)]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n, _, _ in users}
        survey = {"title": "Evaluación de la audiencia", "intro": "Dos preguntas.",
                  "questions": [{"id": "satisfaccion", "type": "rating", "text": "¿Qué tan satisfecho está?",
                                 "required": True},
                                {"id": "recomendacion", "type": "nps", "text": "¿Nos recomendaría?",
                                 "required": False}]}
        r = cls.s["ad"].post("/api/v1/surveys", {"code": "eval_rc", "purpose": "event", "definition": survey})
        assert r.status == 201, r
        r = cls.s["ad"].post("/api/v1/surveys", {"code": "publica", "purpose": "public", "definition": survey})
        assert r.status == 201, r
        today = datetime.date.today()
        base = {"name": "Rendición de cuentas 2026", "date": (today + datetime.timedelta(days=20)).isoformat(),
                "place": "Auditorio", "convoked_on": today.isoformat(),
                "questions_open_at": now_ms() - 60000, "questions_close_at": now_ms() + 3600 * 1000}
        cls.bad_survey = cls.s["mo"].post("/api/v1/hearings", dict(base, code="otra", survey_code="publica"))
        r = cls.s["mo"].post("/api/v1/hearings", dict(base, code=CODE, survey_code="eval_rc"))
        assert r.status == 201, r
        q = {}

        def ask(key, text, who="ag", **over):
            body = {"text": text, "source": "buzon"}
            body.update(over)
            r = cls.s[who].post("/api/v1/hearings/%s/questions" % CODE, body)
            assert r.status == 201, r
            q[key] = r.json()

        ask("live", "¿Cuándo empieza la obra del puente?", source="tarjeta")
        ask("parent", "¿Cuánto costó la vía?", source="redes")
        ask("merged", "¿Cuál fue el valor del contrato de la vía?", source="redes")
        ask("rejected", "Texto ofensivo que no se publica XYZZY", source="buzon")
        ask("written", "=HYPERLINK(\"http://mal\") ¿Y el <script>alerta</script> parque?", source="buzon",
            name="Ana Pérez", show_name=True)
        ask("pending", "¿Habrá más becas?", source="buzon", name="Carlos Oculto", show_name=False)
        cls.q = q

        def mod(key, action, **f):
            body = {"action": action}
            body.update(f)
            r = cls.s["mo"].post("/api/v1/hearings/%s/questions/%s/moderate" % (CODE, q[key]["radicado"]), body)
            assert r.status == 200, r

        mod("live", "approve")
        mod("live", "select")
        mod("live", "answered_live")
        mod("rejected", "reject", reason="Lenguaje ofensivo")
        mod("parent", "approve")
        mod("merged", "merge", into=q["parent"]["radicado"])
        mod("written", "approve")

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def rad(self, key):
        return self.q[key]["radicado"]

    def page(self):
        r = self.d.get("/audiencia/%s/respuestas" % CODE)
        self.assertEqual(r.status, 200, r)
        return r.text

    def test_01_survey_code_must_be_an_event_survey(self):
        self.assertEqual(self.bad_survey.status, 422, self.bad_survey)
        self.assertEqual(self.bad_survey.json()["error"]["field"], "survey_code")

    def test_02_questions_in_the_queue_with_due_date(self):
        r = self.s["co"].queue(kind="hearing_question")
        self.assertEqual(r.status, 200, r)
        items = {it["radicado"]: it for it in r.json()["items"]}
        due = S.iso(S.add_bd(S.filed_date(), 15))
        for key in ("pending", "written"):
            self.assertIn(self.rad(key), items)
            self.assertEqual(items[self.rad(key)]["due_date"], due)
            self.assertEqual(self.q[key]["due_date"], due)
        # The default queue stays PQRSD.
        default = {it["radicado"] for it in self.s["co"].queue().json()["items"]}
        self.assertNotIn(self.rad("pending"), default)

    def test_03_casework_gate(self):
        co = self.s["co"]
        for key in ("live", "rejected", "merged"):
            r = co.act(self.rad(key), "respond", text="Respuesta")
            self.assertEqual(r.status, 409, (key, r))
            self.assertIn("Esta función es para PQRSD", r.json()["error"]["message"])
        r = co.act(self.rad("pending"), "reclassify", type="peticion", petition_class="general")
        self.assertEqual(r.status, 409, r)
        self.assertIn("Esta función es para PQRSD", r.json()["error"]["message"])
        r = co.act(self.rad("pending"), "note", note="Pedimos datos a la oficina de becas.", text="x")
        self.assertEqual(r.status, 200, r)

    def test_04_written_answer_on_the_public_report(self):
        r = self.s["co"].act(self.rad("written"), "respond", text="El parque se entrega en <b>junio</b>.")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "respondido")
        page = self.page()
        self.assertIn("El parque se entrega en &lt;b&gt;junio&lt;/b&gt;.", page)
        self.assertIn("Respondida por escrito", page)

    def test_05_every_published_question_once(self):
        self.s["co"].act(self.rad("written"), "respond", text="El parque se entrega en <b>junio</b>.")
        page = self.page()
        shown = ("live", "parent", "merged", "written")
        for key in self.q:
            self.assertEqual(page.count('id="q-%s"' % self.rad(key)), 1 if key in shown else 0, key)
        # Pending and rejected questions are counted, not shown (issue 12).
        self.assertNotIn(self.rad("pending"), page)
        self.assertNotIn("¿Habrá más becas?", page)
        self.assertIn("1 pregunta está en revisión", page)
        self.assertNotIn(self.rad("rejected"), page)
        self.assertNotIn("XYZZY", page)
        self.assertRegex(page, r"1 pregunta no admitida.*<th scope=\"row\">Lenguaje ofensivo</th><td>1</td>")
        self.assertNotIn("<script>alerta", page)
        self.assertIn("&lt;script&gt;alerta", page)
        self.assertIn("Ana Pérez", page)
        self.assertNotIn("Carlos Oculto", page)
        self.assertIn("Respondida en la audiencia", page)
        self.assertIn("Unida a otra pregunta", page)
        # The merged question comes right after the one it was merged into.
        self.assertLess(page.index('id="q-%s"' % self.rad("parent")), page.index('id="q-%s"' % self.rad("merged")))
        # The counts by channel are of every question received.
        self.assertIn("6 preguntas recibidas", page)
        self.assertRegex(page, r"<th scope=\"row\">buzon</th><td>3</td>")
        self.assertRegex(page, r"<th scope=\"row\">redes</th><td>2</td>")
        r = self.d.get("/audiencia/%s/respuestas.csv" % CODE)
        self.assertEqual(r.status, 200, r)
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(len(rows), 1 + len(shown))
        self.assertEqual(sorted(x[0] for x in rows[1:]), sorted(self.rad(k) for k in shown))
        by = {x[0]: x for x in rows[1:]}
        self.assertTrue(by[self.rad("written")][6].startswith("'=HYPERLINK"), by[self.rad("written")])
        self.assertNotIn("Carlos Oculto", r.text)
        self.assertNotIn("XYZZY", r.text)
        self.assertNotIn("becas", r.text)

    def test_06_commitments_with_progress(self):
        body = {"text": "Publicar el cronograma del puente", "dependencia": OBRAS, "due_date": "2027-03-31"}
        self.assertEqual(self.s["ag"].post("/api/v1/hearings/%s/commitments" % CODE, body).status, 403)
        self.assertEqual(self.d.get("/api/v1/hearings/%s/commitments" % CODE).status, 401)
        r = self.s["mo"].post("/api/v1/hearings/%s/commitments" % CODE, body)
        self.assertEqual(r.status, 201, r)
        cid = r.json()["id"]
        bad = self.s["mo"].post("/api/v1/hearings/%s/commitments" % CODE, dict(body, due_date="31/03/2027"))
        self.assertEqual(bad.status, 422, bad)
        path = "/api/v1/commitments/%d/progress" % cid
        self.assertEqual(self.s["co"].post(path, {"text": "Avance", "percent": 10}).status, 403)
        self.assertEqual(self.s["mo"].post(path, {"text": "Avance", "percent": 10}).status, 403)
        self.assertEqual(self.s["co_obras"].post(path, {"text": "Avance", "percent": 101}).status, 422)
        r = self.s["co_obras"].post(path, {"text": "Cronograma en revisión", "percent": 40})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "abierto")
        r = self.s["co_obras"].post(path, {"text": "Publicado en la web", "percent": 100})
        self.assertEqual(r.json()["status"], "cumplido")
        r = self.s["ag"].get("/api/v1/hearings/%s/commitments" % CODE)
        self.assertEqual(r.status, 200, r)
        c = r.json()["commitments"][0]
        self.assertEqual((c["percent"], c["status"], len(c["progress"])), (100, "cumplido", 2))
        page = self.page()
        self.assertIn("Publicar el cronograma del puente", page)
        self.assertIn("Cronograma en revisión", page)
        events = [e["action"] for e in self.d.query("SELECT action FROM audit_events")]
        self.assertIn("compromiso_creado", events)
        self.assertEqual(events.count("compromiso_avance"), 2)

    def test_07_survey_figures(self):
        page = self.page()
        self.assertIn('href="/encuesta/p/eval_rc"', page)
        self.assertIn('src="/encuesta/p/eval_rc/qr.svg"', page)
        r = self.d.post_form({"q_satisfaccion": "5", "q_recomendacion": "10"}, "/encuesta/p/eval_rc")
        self.assertEqual(r.status, 200, r)
        page = self.page()
        self.assertIn('<dd id="csat">100.0 %</dd>', page)
        self.assertIn('<dd id="nps">100.0</dd>', page)

    def test_08_report_json_roles(self):
        self.assertEqual(self.d.get("/api/v1/hearings/%s/report" % CODE).status, 401)
        r = self.s["ag"].get("/api/v1/hearings/%s/report" % CODE)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(len(doc["questions"]), 4)
        self.assertEqual((doc["received"], doc["in_review"], doc["not_admitted"]), (6, 1, 1))
        self.assertEqual(doc["not_admitted_by_reason"], {"Lenguaje ofensivo": 1})
        self.assertEqual(self.s["ag"].get("/api/v1/hearings/nada/report").status, 404)
        self.assertEqual(self.d.get("/audiencia/nada/respuestas").status, 404)
        for q in doc["questions"]:
            self.assertNotIn("email", q)
            self.assertNotIn("phone", q)

    def test_99_audit_verify(self):
        S.audit_verify(self, self.d)


if __name__ == "__main__":
    H.main()
