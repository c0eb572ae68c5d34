"""The satisfaction survey on WhatsApp, as a citizen on the chat and staff on
the database would notice it: a PQRSD filed by WhatsApp is answered and
closed by a coordinador, the invitation arrives with its web link and the
buttons "Responder ahora" / "Ahora no", and the citizen answers the default
survey ("satisfaccion": rating, NPS, yes/no, text) question by question with
buttons, lists and typed answers. The answer is saved once (the invitation is
single use, on the web too), a bad answer is asked again, "omitir" skips an
optional question, "cancelar" saves nothing, a detractor opens a follow-up,
an invitation that arrives while the citizen files another PQRSD waits for
that flow to end, and outside the 24-hour window the invitation goes as the
configured "encuesta" template, whose quick reply starts the survey.

A FakeGraph (fake_graph.py) stands in for Meta's Graph API; webhook
deliveries are signed with wa.SECRET and built with wa.py; staff act through
the staff API (docs/staff-api.md) as a coordinador made with `ventanilla user
add`.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 \\
        tests/integration/test_19_whatsapp_survey.py
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit  # noqa: E402
import wa  # noqa: E402
from fake_graph import FakeGraph, human_text  # noqa: E402
from test_09_whatsapp_conversation import Chat, button_ids, describe, kind_of, row_ids  # noqa: E402

TRIAGE = "atencion_ciudadano"
RADICADO_IN_ACK = re.compile(r"Radicado: \*([^*\s]+)\*")
LINK = re.compile(r"/encuesta/([0-9a-f]{64})\b")
RATING_IDS = ["survey.q.satisfaccion.%d" % v for v in range(1, 6)]
NPS_HALF_IDS = ["survey.q.recomendacion.bajo", "survey.q.recomendacion.alto", "survey.q.recomendacion.omitir"]
YES_NO_IDS = ["survey.q.a_tiempo.si", "survey.q.a_tiempo.no", "survey.q.a_tiempo.omitir"]
TEXT_IDS = ["survey.q.mejorar.omitir"]

_numbers = set()


def new_number():
    """A distinct WhatsApp number (wa_id) per conversation: 57302 + 7 digits."""
    while True:
        n = "57302%07d" % (((os.getpid() % 10000) * 1000 + H.unique()) % 10 ** 7)
        if n not in _numbers:
            _numbers.add(n)
            return n


class WhatsAppSurvey(H.DaemonCase):
    d = None
    graph = None

    @classmethod
    def setUpClass(cls):
        cls.graph = FakeGraph().start()
        templates = {"default": {"name": "aviso_ventanilla", "language": "es"},
                     "encuesta": {"name": "encuesta_satisfaccion", "language": "es_CO"}}
        cfg = H.deep_merge(wa.config(cls.graph, templates=templates),
                           {"entity": {"name": "Alcaldía de Prueba"},
                            "surveys": {"invite_delay_minutes": 0}})
        cls.d = H.Daemon(config=cfg, name="wa-survey")
        staffkit.add_user(cls.d, "coord.encuestas", "coordinador", TRIAGE)
        cls.d.start()
        cls.staff = staffkit.Staff(cls.d, "coord.encuestas")

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def tearDown(self):
        # Every body the daemon sent was valid for the Cloud API (3 buttons,
        # 10 rows, 1,024-character bodies...) and nothing died in the outbox.
        bad = [r for r in self.graph.requests if r["kind"] in ("message", "read") and r["status"] not in (200, None)]
        self.assertEqual(bad, [], "the fake Graph API refused message bodies:\n%s" % self.graph.summary())
        dead = self.d.query("SELECT id, kind, last_error FROM outbox WHERE status IN ('dead', 'failed')")
        self.assertEqual(dead, [], "outbox rows dead or failed")

    # ------------------------------------------------------------------ helpers

    def chat(self):
        return Chat(self, new_number())

    def file_pqrsd(self, chat, start="Hola"):
        """Files an anonymous queja by WhatsApp; returns (radicado, item id)."""
        chat.text(start)
        chat.pick("menu.pqrsd", "Radicar una PQRSD")
        chat.pick("type.queja", "Queja")
        chat.text("El alumbrado de la calle 12 lleva un mes apagado, caso %d." % H.unique())
        chat.tap("att.done", "Continuar")
        chat.tap("id.anon", "Anónima")
        m = chat.tap("consent.no", "No autorizo")
        rad = RADICADO_IN_ACK.search(human_text(m))
        self.assertTrue(rad, describe([m]))
        return rad.group(1), self.d.scalar("SELECT id FROM items WHERE radicado = ?", (rad.group(1),))

    def answer_and_close(self, rad):
        r = self.staff.act(rad, "respond", text="Ya programamos el cambio de las luminarias de la calle 12.")
        self.assertEqual(r.status, 200, r)
        r = self.staff.act(rad, "close")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cerrado")

    def invitation(self, chat, item_id, timeout=H.WAIT):
        """Waits for the survey invitation to chat's number; returns the message sent."""
        want = ["survey.start.%d" % item_id, "survey.later.%d" % item_id]

        def arrived():
            hits = [m for m in chat.sent() if button_ids(m) == want]
            return hits[-1] if hits else None

        return self.graph.wait_for(arrived, timeout=timeout, what="the survey invitation to %s" % chat.num)

    def conv(self, chat):
        rows = self.d.query("SELECT state, draft FROM wa_conversations WHERE wa_id = ?", (chat.num,))
        self.assertEqual(len(rows), 1)
        return rows[0]["state"], json.loads(rows[0]["draft"])

    def invitation_row(self, item_id):
        rows = self.d.query("SELECT * FROM survey_invitations WHERE item_id = ?", (item_id,))
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def answers_of(self, invitation_id):
        return self.d.query("SELECT a.*, i.channel, i.kind FROM survey_answers a JOIN items i ON i.id = a.item_id "
                            "WHERE a.invitation_id = ?", (invitation_id,))

    def invited(self, chat):
        """A PQRSD filed by chat, answered and closed; (radicado, item id, invitation message)."""
        rad, item_id = self.file_pqrsd(chat)
        self.answer_and_close(rad)
        return rad, item_id, self.invitation(chat, item_id)

    def start(self, chat, msg):
        """Starts the survey with msg: the intro, then question 1 (a list of 1-5)."""
        new = chat.send(msg, replies=2)
        intro, q1 = new[-2], new[-1]
        self.assertEqual(kind_of(intro), "text", describe(new))
        self.assertIn("cuatro preguntas", human_text(intro))
        self.assertIn("*cancelar*", human_text(intro))
        self.assertEqual(row_ids(q1), RATING_IDS, describe(new))
        self.assertIn("Pregunta 1 de 4", human_text(q1))
        return q1

    # ------------------------------------------------------------------ tests

    def test_01_answer_by_buttons_lists_and_typing(self):
        chat = self.chat()
        rad, item_id, inv_msg = self.invited(chat)
        # the invitation: the web link (its token substituted at send time),
        # the buttons, kind encuesta
        text = human_text(inv_msg)
        self.assertIn(rad, text)
        link = LINK.search(text)
        self.assertTrue(link, text)
        token = link.group(1)
        self.assertIn("Responder ahora", text)
        titles = [b["reply"]["title"] for b in inv_msg["interactive"]["action"]["buttons"]]
        self.assertEqual(titles, ["Responder ahora", "Ahora no"])
        (ob,) = self.d.query("SELECT * FROM outbox WHERE item_id = ? AND kind = 'encuesta'", (item_id,))
        self.assertEqual(ob["channel"], "whatsapp")
        self.assertIsNone(ob["via_template"], "inside the window the invitation is free-form")
        self.assertNotIn(token, ob["body"] + (ob["params"] or "") + (ob["fallback"] or ""))
        inv = self.invitation_row(item_id)
        self.assertEqual(inv["channel"], "whatsapp")
        self.assertIsNone(inv["used_at"])
        # the conversation notes the pending survey by item, never the token
        state, draft = self.conv(chat)
        self.assertEqual(state, "idle")
        self.assertEqual(draft.get("survey", {}).get("item"), item_id, draft)
        self.assertNotIn(token, json.dumps(draft))

        q1 = self.start(chat, wa.button_reply(chat.num, "survey.start.%d" % item_id, "Responder ahora"))
        self.assertNotIn("omitir", button_ids(q1) + row_ids(q1), "question 1 is required")
        state, draft = self.conv(chat)
        self.assertEqual(state, "survey")
        self.assertEqual(draft["survey"]["inv"], inv["id"], "the invitation is kept by its id")
        self.assertNotIn(token, json.dumps(draft))

        # a bad answer is asked again, saying why
        m = chat.text("7")
        self.assertEqual(row_ids(m), RATING_IDS, describe([m]))
        self.assertIn("Elija un número del 1 al 5", human_text(m))
        m = chat.pick("survey.q.satisfaccion.4", "4")
        self.assertEqual(button_ids(m), NPS_HALF_IDS, describe([m]))
        self.assertIn("Pregunta 2 de 4", human_text(m))
        # NPS: the half, then the number (a list holds 10 rows, NPS has 11 values)
        m = chat.tap("survey.q.recomendacion.alto", "De 6 a 10")
        self.assertEqual(row_ids(m), ["survey.q.recomendacion.%d" % v for v in range(6, 11)]
                         + ["survey.q.recomendacion.omitir"], describe([m]))
        self.assertIn("Pregunta 2 de 4", human_text(m))
        m = chat.pick("survey.q.recomendacion.9", "9")
        self.assertEqual(button_ids(m), YES_NO_IDS, describe([m]))
        m = chat.text("Sí")
        self.assertEqual(button_ids(m), TEXT_IDS, describe([m]))
        self.assertIn("Pregunta 4 de 4", human_text(m))
        suggestion = "Que contesten por este chat un poco más rápido, caso %d." % H.unique()
        m = chat.text(suggestion)
        self.assertEqual(kind_of(m), "text")
        self.assertIn("Gracias por responder", human_text(m))
        self.assertNotIn("Lamentamos", human_text(m))

        (a,) = self.answers_of(inv["id"])
        self.assertEqual((a["csat"], a["nps"], a["version"], a["detractor"]), (4, 9, 1, 0))
        self.assertEqual(a["source_item_id"], item_id)
        self.assertEqual(json.loads(a["answers"]), {"satisfaccion": 4, "recomendacion": 9, "a_tiempo": True,
                                                    "mejorar": suggestion})
        self.assertEqual((a["channel"], a["kind"]), ("whatsapp", "survey_response"))
        self.assertIsNotNone(self.invitation_row(item_id)["used_at"], "the invitation is used")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM followups WHERE answer_item_id = ?", (a["item_id"],)), 0)
        ev = self.d.query("SELECT actor FROM audit_events WHERE item_id = ? AND action = 'encuesta_respondida'",
                          (a["item_id"],))
        self.assertEqual(len(ev), 1, ev)
        state, draft = self.conv(chat)
        self.assertEqual(state, "idle")
        self.assertNotIn("survey", draft)

        # a second attempt is refused, on WhatsApp and on the web link
        m = chat.tap("survey.start.%d" % item_id, "Responder ahora")
        self.assertEqual(kind_of(m), "text")
        self.assertIn("ya fue respondida", human_text(m))
        r = self.d.get("/encuesta/" + token)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(len(self.answers_of(inv["id"])), 1)
        self.assertEqual(self.conv(chat)[0], "idle")

    def test_02_typed_skipped_and_a_detractor(self):
        chat = self.chat()
        rad, item_id, _ = self.invited(chat)
        inv = self.invitation_row(item_id)
        # typed instead of tapped
        self.start(chat, wa.text(chat.num, "Encuesta"))
        m = chat.text("omitir")
        self.assertEqual(row_ids(m), RATING_IDS, describe([m]))
        self.assertIn("obligatoria", human_text(m))
        m = chat.text("2")
        self.assertEqual(button_ids(m), NPS_HALF_IDS, describe([m]))
        # an optional question skipped with "omitir" typed...
        m = chat.text("Omitir")
        self.assertEqual(button_ids(m), YES_NO_IDS, describe([m]))
        m = chat.tap("survey.q.a_tiempo.no", "No")
        self.assertEqual(button_ids(m), TEXT_IDS, describe([m]))
        # ... and one with its button
        m = chat.tap("survey.q.mejorar.omitir", "Omitir")
        self.assertIn("Gracias por responder", human_text(m))
        self.assertIn("Lamentamos", human_text(m), "a detractor hears the same as on the web")

        (a,) = self.answers_of(inv["id"])
        self.assertEqual((a["csat"], a["nps"], a["detractor"]), (2, None, 1))
        self.assertEqual(json.loads(a["answers"]), {"satisfaccion": 2, "a_tiempo": False})
        fu = self.d.query("SELECT * FROM followups WHERE answer_item_id = ?", (a["item_id"],))
        self.assertEqual(len(fu), 1, fu)
        self.assertEqual((fu[0]["source_item_id"], fu[0]["status"]), (item_id, "abierto"))
        self.assertEqual(fu[0]["dependencia"], TRIAGE)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE item_id = ? AND "
                                       "action = 'seguimiento_detractor'", (item_id,)), 1)
        # the coordinador sees it among the follow-ups, like a web detractor's
        r = self.staff.get("/api/v1/followups")
        self.assertEqual(r.status, 200, r)
        mine = [f for f in r.json()["followups"] if f["radicado"] == rad]
        self.assertEqual(len(mine), 1, r.json())
        self.assertEqual((mine[0]["csat"], mine[0]["nps"], mine[0]["status"]), (2, None, "abierto"))

    def test_03_nps_typed_ten_at_the_first_step(self):
        chat = self.chat()
        _, item_id, _ = self.invited(chat)
        inv = self.invitation_row(item_id)
        self.start(chat, wa.button_reply(chat.num, "survey.start.%d" % item_id, "Responder ahora"))
        m = chat.text("5")
        self.assertEqual(button_ids(m), NPS_HALF_IDS)
        m = chat.text("10")  # the top score needs no more effort than any other
        self.assertEqual(button_ids(m), YES_NO_IDS, describe([m]))
        m = chat.text("quizás")
        self.assertEqual(button_ids(m), YES_NO_IDS, describe([m]))
        self.assertIn("Responda sí o no", human_text(m))
        m = chat.text("no")
        m = chat.text("omitir")
        self.assertIn("Gracias por responder", human_text(m))
        (a,) = self.answers_of(inv["id"])
        self.assertEqual((a["csat"], a["nps"], a["detractor"]), (5, 10, 0))
        self.assertEqual(json.loads(a["answers"]), {"satisfaccion": 5, "recomendacion": 10, "a_tiempo": False})

    def test_04_later_and_cancel_save_nothing(self):
        chat = self.chat()
        _, item_id, _ = self.invited(chat)
        inv = self.invitation_row(item_id)
        m = chat.tap("survey.later.%d" % item_id, "Ahora no")
        self.assertEqual(kind_of(m), "text")
        self.assertIn("*encuesta*", human_text(m))
        state, draft = self.conv(chat)
        self.assertEqual(state, "idle")
        self.assertEqual(draft["survey"]["item"], item_id, "still pending after Ahora no")

        # from the menu's Encuesta option
        chat.text("menú")
        self.start(chat, wa.list_reply(chat.num, "menu.survey", "Encuesta"))
        m = chat.pick("survey.q.satisfaccion.5", "5")
        m = chat.tap("survey.q.recomendacion.bajo", "De 0 a 5")
        self.assertEqual(row_ids(m), ["survey.q.recomendacion.%d" % v for v in range(0, 6)]
                         + ["survey.q.recomendacion.omitir"], describe([m]))
        m = chat.pick("survey.q.recomendacion.3", "3")
        self.assertEqual(button_ids(m), YES_NO_IDS)
        m = chat.text("cancelar")
        self.assertIn("no guardamos", human_text(m))
        self.assertEqual(self.answers_of(inv["id"]), [], "a cancelled survey saved answers")
        self.assertIsNone(self.invitation_row(item_id)["used_at"])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items WHERE kind = 'survey_response' AND id IN "
                                       "(SELECT item_id FROM survey_answers WHERE invitation_id = ?)", (inv["id"],)), 0)
        state, draft = self.conv(chat)
        self.assertEqual(state, "idle")
        self.assertEqual(draft["survey"]["item"], item_id, "a cancelled survey can be answered later")
        # started again, it begins at question 1 (nothing of before was kept)
        self.start(chat, wa.text(chat.num, "encuesta"))
        m = chat.tap("flow.cancel", "Cancelar")
        self.assertIn("no guardamos", human_text(m))
        self.assertEqual(self.answers_of(inv["id"]), [])

    def test_05_waits_for_a_pqrsd_being_filed(self):
        chat = self.chat()
        rad1, item1 = self.file_pqrsd(chat)
        # the citizen starts another PQRSD; meanwhile staff close the first
        chat.text("menú")
        chat.pick("menu.pqrsd", "Radicar una PQRSD")
        chat.pick("type.reclamo", "Reclamo")
        self.answer_and_close(rad1)
        self.invitation(chat, item1)
        state, draft = self.conv(chat)
        self.assertEqual(state, "pqrsd.description", "the invitation does not move a flow in progress")
        self.assertEqual(draft.get("type"), "reclamo", "the draft is intact")
        self.assertEqual(draft["survey"]["item"], item1)
        # tapping it now: the flow goes on, the survey waits
        new = chat.send(wa.button_reply(chat.num, "survey.start.%d" % item1, "Responder ahora"), replies=2)
        self.assertIn("Primero terminemos", human_text(new[-2]), describe(new))
        self.assertIn("Escriba su reclamo", human_text(new[-1]), describe(new))
        self.assertEqual(self.conv(chat)[0], "pqrsd.description")
        chat.text("Me cobraron dos veces el recibo del agua de marzo, caso %d." % H.unique())
        chat.tap("att.done", "Continuar")
        chat.tap("id.anon", "Anónima")
        # the acknowledgement, then the survey offered once more
        new = chat.send(wa.button_reply(chat.num, "consent.no", "No autorizo"), replies=2)
        self.assertTrue(RADICADO_IN_ACK.search(human_text(new[-2])), describe(new))
        self.assertEqual(button_ids(new[-1]), ["survey.start.%d" % item1, "survey.later.%d" % item1],
                         describe(new))
        self.assertIn(rad1, human_text(new[-1]))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items i JOIN requesters r ON r.item_id = i.id "
                                       "WHERE r.phone = ? AND i.kind = 'pqrsd'", ("+" + chat.num,)), 2)
        self.start(chat, wa.button_reply(chat.num, "survey.start.%d" % item1, "Responder ahora"))
        m = chat.text("3")
        self.assertEqual(button_ids(m), NPS_HALF_IDS)
        m = chat.text("cancelar")
        self.assertIn("no guardamos", human_text(m))
        self.assertEqual(self.answers_of(self.invitation_row(item1)["id"]), [])

    def test_06_outside_the_window_a_template(self):
        # Filed on the web with WhatsApp as the reply channel: the number never
        # wrote, so the window is closed and the templates carry the messages.
        phone = "3%09d" % (H.unique() % 10 ** 9)
        num = "57" + phone
        doc = staffkit.file_item(self, self.d, type="queja", reply_channel="whatsapp",
                                 requester={"person_type": "natural", "name": "Persona de Prueba Web",
                                            "id_type": "CC", "id_number": "1%09d" % (H.unique() % 10 ** 9),
                                            "phone": phone})
        rad = doc["radicado"]
        item_id = self.d.scalar("SELECT id FROM items WHERE radicado = ?", (rad,))
        self.answer_and_close(rad)

        def template():
            t = [m for m in self.graph.messages(to=num) if m.get("type") == "template"
                 and m["template"]["name"] == "encuesta_satisfaccion"]
            return t[-1] if t else None

        tpl = self.graph.wait_for(template, what="the encuesta template")
        self.assertEqual(tpl["template"]["language"]["code"], "es_CO")
        params = [p["text"] for p in tpl["template"]["components"][0]["parameters"]]
        self.assertEqual(len(params), 2, params)
        self.assertEqual(params[0], rad)
        self.assertTrue(LINK.search(params[1]), params)
        self.assertNotIn("\n", params[1])
        # the provider saw the message before the sender recorded its result:
        # wait for the outbox row to be marked sent, then read how it went
        ob = staffkit.wait(lambda: self.d.query("SELECT status, via_template FROM outbox WHERE item_id = ? "
                                                "AND kind = 'encuesta' AND status = 'sent'", (item_id,)),
                           what="the encuesta outbox row marked sent")[0]
        self.assertEqual(ob["via_template"], "encuesta_satisfaccion")
        inv = self.invitation_row(item_id)

        # the template's quick reply comes back as its text
        chat = Chat(self, num, name="Persona de Prueba Web")
        self.start(chat, wa.button(num, "Responder ahora", "Responder ahora"))
        chat.text("1")
        chat.text("0")
        chat.text("no")
        m = chat.text("Que alguien me llame.")
        self.assertIn("Lamentamos", human_text(m))
        (a,) = self.answers_of(inv["id"])
        self.assertEqual((a["csat"], a["nps"], a["detractor"], a["channel"]), (1, 0, 1, "whatsapp"))

    def test_07_someone_elses_invitation(self):
        owner, intruder = self.chat(), self.chat()
        _, item_id, _ = self.invited(owner)
        intruder.text("Hola")
        m = intruder.tap("survey.start.%d" % item_id, "Responder ahora")
        self.assertIn("No encontramos esa encuesta", human_text(m))
        self.assertNotEqual(self.conv(intruder)[0], "survey")
        self.assertNotIn("survey", self.conv(intruder)[1])

    def test_98_no_personal_data_in_logs(self):
        secrets = set()
        for r in self.d.query("SELECT wa_id, summary FROM wa_messages"):
            secrets.add(r["wa_id"])
            text = json.loads(r["summary"]).get("text", "")
            if len(text) >= 12:
                secrets.add(text)
        for r in self.d.query("SELECT name, id_number, email, phone FROM requesters"):
            secrets.update(v for v in r.values() if v and len(v) >= 6)
        for r in self.d.query("SELECT answers FROM survey_answers"):
            secrets.update(v for v in json.loads(r["answers"]).values() if isinstance(v, str) and len(v) >= 12)
        for r in self.graph.messages():
            secrets.update(LINK.findall(json.dumps(r)))  # the survey links' tokens
        self.assertGreater(len(secrets), 15)
        log = "\n".join(self.d.lines)
        leaked = sorted(x for x in secrets if x in log)
        self.assertEqual(leaked, [], "personal data in the log")

    def test_99_no_crash(self):
        self.assert_no_crash()
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox WHERE status IN ('dead', 'failed', "
                                       "'undeliverable')"), 0)
        self.d.stop()


if __name__ == "__main__":
    H.main()
