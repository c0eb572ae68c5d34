"""Public accountability hearings (issue 7, first slice): events, questions
from the web page and staff entry (each a radicado), moderation by the
moderador, and the live question wall over /live."""
import asyncio
import datetime
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

import websockets  # noqa: E402  (python3-websockets 10.4)

PROTO = "ventanilla-live"
RADICADO_RE = re.compile(r'id="radicado">([^<]+)<')


def now_ms():
    return int(time.time() * 1000)


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Hearings(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="hearings")
        users = [("ag", "agente", None), ("mo", "moderador", None), ("ad", "admin", None)]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n, _, _ in users}
        today = datetime.date.today()
        r = cls.s["mo"].post("/api/v1/hearings", {
            "code": "rc2026", "name": "Rendición de cuentas 2026", "date": (today + datetime.timedelta(days=30)).isoformat(),
            "place": "Auditorio principal", "convoked_on": today.isoformat(),
            "questions_open_at": now_ms() - 60000, "questions_close_at": now_ms() + 3600 * 1000})
        assert r.status == 201, r
        cls.created = r.json()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    # -- helpers
    def web_question(self, text, name="", show=False, code="rc2026"):
        fields = {"text": text, "name": name}
        if show:
            fields["show_name"] = "si"
        return self.d.post_form(fields, "/audiencia/%s" % code)

    def staff_question(self, text, who="ag", **over):
        body = {"text": text, "source": "buzon"}
        body.update(over)
        return self.s[who].post("/api/v1/hearings/rc2026/questions", body)

    def moderate(self, radicado, action, who="mo", **fields):
        body = {"action": action}
        body.update(fields)
        return self.s[who].post("/api/v1/hearings/rc2026/questions/%s/moderate" % radicado, body)

    async def wall(self):
        ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                      open_timeout=H.WAIT, close_timeout=5)
        await ws.send(json.dumps({"subscribe": ["wall"], "hearing": "rc2026"}))
        m = json.loads(await asyncio.wait_for(ws.recv(), H.WAIT))
        self.assertEqual(m["topic"], "wall", m)
        return ws, m

    async def next_wall(self, ws):
        m = json.loads(await asyncio.wait_for(ws.recv(), H.WAIT))
        self.assertEqual(m["topic"], "wall", m)
        return m

    # -- tests
    def test_01_create_and_warnings(self):
        self.assertEqual(self.created["code"], "rc2026")
        self.assertEqual(len(self.created["warnings"]), 0, self.created)
        today = datetime.date.today()
        r = self.s["ad"].post("/api/v1/hearings", {
            "code": "tarde", "name": "Convocada tarde", "date": (today + datetime.timedelta(days=10)).isoformat(),
            "convoked_on": today.isoformat(), "questions_open_at": now_ms() - 7200 * 1000,
            "questions_close_at": now_ms() - 3600 * 1000})
        self.assertEqual(r.status, 201, r)
        w = r.json()["warnings"]
        self.assertEqual(len(w), 1, w)
        self.assertIn("15 días", w[0])
        r = self.s["ag"].post("/api/v1/hearings", {"code": "x"})
        H.assert_error(self, r, 403, "forbidden")
        r = self.s["mo"].post("/api/v1/hearings", {"code": "Mal Código", "name": "x"})
        H.assert_error(self, r, 422, "invalid", field="code")
        r = self.s["ag"].get("/api/v1/hearings")
        self.assertEqual(r.status, 200, r)
        self.assertIn("rc2026", [h["code"] for h in r.json()["hearings"]])

    def test_02_questions_get_radicados_and_reach_the_queue(self):
        r = self.d.get("/audiencia/rc2026")
        self.assertEqual(r.status, 200, r)
        self.assertIn("Mostrar mi nombre en la pantalla", r.text)
        self.assertIn("Ley 1581", r.text)
        self.assertNotIn("<script", r.text)
        r = self.web_question("¿Cuánto se invirtió en vías rurales?", "Ana Pérez", show=True)
        self.assertEqual(r.status, 201, r)
        rad_web = RADICADO_RE.search(r.text).group(1)
        r = self.staff_question("Pregunta del buzón físico sobre el hospital", name="Luis Gómez")
        self.assertEqual(r.status, 201, r)
        rad_staff = r.json()["radicado"]
        self.assertNotEqual(rad_web, rad_staff)
        rows = {x["radicado"]: x for x in self.d.query(
            "SELECT i.radicado, i.kind, i.channel, i.due_date, q.source, q.status FROM items i "
            "JOIN hearing_questions q ON q.item_id = i.id")}
        self.assertEqual(rows[rad_web]["kind"], "hearing_question")
        self.assertEqual(rows[rad_web]["source"], "web")
        self.assertEqual(rows[rad_staff]["source"], "buzon")
        self.assertTrue(rows[rad_staff]["due_date"])
        r = self.s["mo"].get("/api/v1/hearings/rc2026/questions?status=pendiente")
        self.assertEqual(r.status, 200, r)
        pend = [q["radicado"] for q in r.json()["questions"]]
        self.assertIn(rad_web, pend)
        self.assertIn(rad_staff, pend)

    def test_03_outside_the_window(self):
        r = self.d.post_form({"text": "tarde"}, "/audiencia/tarde")
        self.assertEqual(r.status, 422, r)
        r = self.s["ag"].post("/api/v1/hearings/tarde/questions", {"text": "tarde", "source": "tarjeta"})
        H.assert_error(self, r, 422, "invalid", field="hearing")
        r = self.d.post_form({"text": ""}, "/audiencia/rc2026")
        self.assertEqual(r.status, 422, r)
        r = self.staff_question("sin origen", source="paloma")
        H.assert_error(self, r, 422, "unknown_value", field="source")

    def test_04_roles(self):
        r = self.staff_question("admin no entra preguntas", who="ad")
        H.assert_error(self, r, 403, "forbidden")
        r = self.staff_question("q para roles")
        rad = r.json()["radicado"]
        H.assert_error(self, self.moderate(rad, "approve", who="ag"), 403, "forbidden")
        H.assert_error(self, self.s["ag"].get("/api/v1/hearings/rc2026/questions"), 403, "forbidden")
        r = S.anonymous_post(self.d, "/api/v1/hearings/rc2026/questions/%s/moderate" % rad, {"action": "approve"})
        self.assertEqual(r.status, 401, r)
        r = self.s["mo"].post("/api/v1/hearings/rc2026/questions/%s/moderate" % rad, {"action": "approve"},
                              csrf="0" * 64)
        self.assertEqual(r.status, 403, r)
        r = self.s["mo"].post("/api/v1/hearings/rc2026/questions/%s/moderate" % rad, {"action": "approve"},
                              csrf=None)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.d.scalar(
            "SELECT q.status FROM hearing_questions q JOIN items i ON i.id = q.item_id WHERE i.radicado = ?",
            (rad,)), "pendiente")

    def test_05_moderation_moves_the_wall(self):
        secret = "Nombre Secreto %d" % H.unique()
        shown = "Marta Visible %d" % H.unique()
        a = RADICADO_RE.search(self.web_question("Pregunta A sobre agua", shown, show=True).text).group(1)
        b = RADICADO_RE.search(self.web_question("Pregunta B sobre vías", secret, show=False).text).group(1)
        c = self.staff_question("Pregunta C repetida", name=secret, show_name=False).json()["radicado"]
        e = self.staff_question("Pregunta E ofensiva").json()["radicado"]

        async def scenario():
            ws, m = await self.wall()
            try:
                seen = [m]
                self.assertEqual(self.moderate(a, "approve").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertIn(a, [q["radicado"] for q in m["questions"]])
                qa = [q for q in m["questions"] if q["radicado"] == a][0]
                self.assertEqual(qa["name"], shown)
                self.assertEqual(qa["status"], "aprobada")

                self.assertEqual(self.moderate(b, "approve").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                qb = [q for q in m["questions"] if q["radicado"] == b][0]
                self.assertNotIn("name", qb)

                r = self.moderate(e, "reject")
                H.assert_error(self, r, 422, "missing", field="reason")
                self.assertEqual(self.moderate(e, "reject", reason="Lenguaje ofensivo").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertNotIn(e, [q["radicado"] for q in m["questions"]])

                self.assertEqual(self.moderate(c, "merge", into=b).status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertNotIn(c, [q["radicado"] for q in m["questions"]])

                H.assert_error(self, self.moderate(b, "answered_live"), 409, "conflict")
                self.assertEqual(self.moderate(b, "select").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertEqual(m["questions"][0]["radicado"], b)
                self.assertEqual(m["questions"][0]["status"], "seleccionada")

                self.assertEqual(self.moderate(b, "topic", topic="Infraestructura").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertEqual(m["questions"][0]["topic"], "Infraestructura")

                self.assertEqual(self.moderate(b, "answered_live").status, 200)
                m = await self.next_wall(ws); seen.append(m)
                self.assertNotIn(b, [q["radicado"] for q in m["questions"]])
                for doc in seen:
                    self.assertNotIn(secret, json.dumps(doc, ensure_ascii=False))
            finally:
                await ws.close()

        run(scenario())
        rows = self.d.query("SELECT q.status, q.reason, q.moderated_by FROM hearing_questions q JOIN items i "
                            "ON i.id = q.item_id WHERE i.radicado = ?", (e,))
        self.assertEqual(rows[0]["status"], "rechazada")
        self.assertEqual(rows[0]["reason"], "Lenguaje ofensivo")
        self.assertEqual(rows[0]["moderated_by"], "staff:mo")
        n = self.d.scalar("SELECT count(*) FROM audit_events WHERE action = 'pregunta_moderada' AND actor = 'staff:mo'")
        self.assertGreaterEqual(n, 7)

    def test_06_wall_page(self):
        r = self.d.get("/audiencia/rc2026/pantalla")
        self.assertEqual(r.status, 200, r)
        self.assertIn('src="/static/wall.js"', r.text)
        self.assertNotIn("<script>", r.text)
        self.assertNotIn("style=", r.text)
        r = self.d.get("/static/wall.js")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.get("/audiencia/nada").status, 404)

    def test_07_moderators_group_questions_by_topic(self):
        rads = []
        for text in ("¿Cuándo arreglan la vía a La Vega?", "¿Qué pasó con el puente de La Vega?",
                     "¿Cuántos docentes nuevos habrá?"):
            r = self.staff_question(text)
            self.assertEqual(r.status, 201, r)
            rads.append(r.json()["radicado"])
        for rad, topic in zip(rads, ("Vías", "Vías", "Educación")):
            self.assertEqual(self.moderate(rad, "topic", topic=topic).status, 200)
        self.assertEqual(self.moderate(rads[0], "approve").status, 200)
        r = self.s["mo"].get("/api/v1/hearings/rc2026/questions?topic=V%C3%ADas")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(q["radicado"] for q in r.json()["questions"]), sorted(rads[:2]))
        topics = {t["topic"]: t for t in r.json()["topics"]}
        self.assertEqual(topics["Vías"]["questions"], 2)
        self.assertEqual(topics["Vías"]["by_status"], {"aprobada": 1, "pendiente": 1})
        self.assertEqual(topics["Educación"]["questions"], 1)
        # Questions with no topic yet are their own group, so none is lost.
        total = sum(t["questions"] for t in topics.values())
        everything = self.s["mo"].get("/api/v1/hearings/rc2026/questions").json()["questions"]
        self.assertEqual(total, len(everything))

    def test_08_citizen_form_offers_the_open_hearing(self):
        r = self.d.get("/")
        self.assertEqual(r.status, 200, r)
        self.assertIn('href="/audiencia/rc2026"', r.text)
        self.assertIn("está recibiendo preguntas", r.text)
        # A hearing whose window is closed is not offered.
        closed = [h for h in self.s["mo"].get("/api/v1/hearings").json()["hearings"]
                  if h["questions_close_at"] < now_ms()]
        for h in closed:
            self.assertNotIn('href="/audiencia/%s"' % h["code"], r.text)

    def test_99_audit_verify(self):
        S.audit_verify(self, self.d)
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
