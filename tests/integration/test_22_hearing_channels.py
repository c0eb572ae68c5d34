"""Hearing questions from the other channels (issue 7 point 2): WhatsApp (the
menu's hearing option while a question window is open), email (a subject tag
[AUDIENCIA:code] or the configured channels.email.hearing_address) and the
JSON API (kind "hearing_question"). Each question gets a radicado, reaches the
moderators' list and the citizen gets the acknowledgement on that channel;
outside the window WhatsApp says so, email files a PQRSD and the API answers
422 naming "hearing".

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 \\
        tests/integration/test_22_hearing_channels.py
"""
import datetime
import email.utils
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_graph  # noqa: E402
import harness as H  # noqa: E402
import mailservers  # noqa: E402
import staffkit as S  # noqa: E402
import wa  # noqa: E402
from fake_graph import human_text  # noqa: E402
from staffkit import Staff  # noqa: E402

ENTITY = "atencionalciudadano@entidad.gov.co"
HEARING_ADDR = "audiencia@entidad.gov.co"
MAILUSER, MAILPASS = "atencion", "clave-prueba"
RADICADO_IN_ACK = re.compile(r"Radicado: \*([^*\s]+)\*")
RADICADO_IN_MAIL = re.compile(r"Radicado: (\S+)")


def now_ms():
    return int(time.time() * 1000)


def wa_number():
    return "57311%07d" % ((os.getpid() * 31 + H.unique() * 7919) % 10 ** 7)


def citizen_email():
    return "ciudadano%d.%d@correo-prueba.example.com" % (os.getpid(), H.unique())


def mail(frm, subject, body, to=ENTITY):
    msgid = "<h%d.%d@correo-prueba.example.com>" % (os.getpid(), H.unique())
    lines = ["From: Zenaida Quintero Prueba <%s>" % frm, "To: %s" % to, "Subject: %s" % subject,
             "Message-ID: %s" % msgid, "Date: %s" % email.utils.formatdate(localtime=True),
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit"]
    return msgid, ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class HearingChannels(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.graph = fake_graph.FakeGraph().start()
        cls.imap = mailservers.Dovecot(users={MAILUSER: MAILPASS}).start()
        cls.smtp = mailservers.SmtpSink().start()
        mb = {"name": "atencion", "imap_url": cls.imap.url(MAILUSER), "username": MAILUSER,
              "password": MAILPASS, "poll_seconds": 1}
        cfg = H.deep_merge(wa.config(cls.graph), {
            "channels": {"email": {"enabled": True, "mailboxes": [mb], "smtp_url": cls.smtp.url,
                                   "from": ENTITY, "allow_plaintext_loopback": True,
                                   "hearing_address": HEARING_ADDR}},
            "outbox": {"timeout_ms": 3000},
            "staff": {"login_per_minute": 10000}})
        cls.d = H.Daemon(config=cfg, name="hearing-channels")
        S.add_user(cls.d, "mo", "moderador", None)
        cls.d.start()
        cls.mo = Staff(cls.d, "mo")
        # A hearing whose window already closed; the open one comes later
        # (open_hearing), after the tests of "no window open".
        cls.hearing("cerrada", now_ms() - 7200 * 1000, now_ms() - 3600 * 1000)
        cls.opened = False

    @classmethod
    def tearDownClass(cls):
        try:
            S.stop_and_cleanup(cls.d)
        finally:
            cls.smtp.stop()
            cls.imap.stop()
            cls.graph.stop()

    @classmethod
    def hearing(cls, code, open_at, close_at):
        today = datetime.date.today()
        r = cls.mo.post("/api/v1/hearings", {
            "code": code, "name": "Rendición de cuentas %s" % code,
            "date": (today + datetime.timedelta(days=30)).isoformat(), "place": "Auditorio",
            "convoked_on": today.isoformat(), "questions_open_at": open_at,
            "questions_close_at": close_at})
        assert r.status == 201, r

    def open_hearing(self):
        if not type(self).opened:
            self.hearing("rc2026", now_ms() - 60000, now_ms() + 3600 * 1000)
            type(self).opened = True

    def questions(self, code="rc2026"):
        r = self.mo.get("/api/v1/hearings/%s/questions" % code)
        self.assertEqual(r.status, 200, r)
        return {q["radicado"]: q for q in r.json()["questions"]}

    def item(self, radicado):
        rows = self.d.query("SELECT i.*, r.phone, r.email, r.name FROM items i "
                            "JOIN requesters r ON r.item_id = i.id WHERE radicado = ?", (radicado,))
        self.assertEqual(len(rows), 1, radicado)
        return rows[0]

    # -- WhatsApp
    def wa_send(self, num, msg, replies=1):
        before = len(self.graph.messages(to=num))
        r = wa.post(self.d, wa.delivery([msg]), wa.SECRET)
        self.assertEqual(r.status, 200, r)

        def ready():
            new = self.graph.messages(to=num)[before:]
            return (new,) if len(new) >= replies else None
        return self.graph.wait_for(ready, timeout=H.WAIT, what="replies to %s" % num)[0]

    def wa_text(self, num, body):
        return human_text(self.wa_send(num, wa.text(num, body))[-1])

    def wa_tap(self, num, id_, title):
        return human_text(self.wa_send(num, wa.button_reply(num, id_, title[:20]))[-1])

    def wa_menu_hearing(self, num):
        self.wa_send(num, wa.text(num, "Hola"))
        return human_text(self.wa_send(num, wa.list_reply(num, "menu.hearing", "Audiencia pública"))[-1])

    # -- email
    def take_mail(self, subject, body, to=ENTITY):
        frm = citizen_email()
        msgid, raw = mail(frm, subject, body, to)
        self.imap.append(MAILUSER, raw)
        row = S.wait(lambda: self.d.query("SELECT * FROM email_messages WHERE dedup_key = ?",
                                          ("mid:" + msgid.strip("<>"),)), timeout=H.WAIT,
                     what="the email taken in")[0]
        rad = self.d.scalar("SELECT radicado FROM items WHERE id = ?", (row["item_id"],))

        def ack():
            got = [m for m in self.smtp.messages(to=frm) if rad in (m.msg["Subject"] or "")]
            return got or None
        got = self.smtp.wait_for(ack, timeout=H.WAIT, what="the acknowledgement to %s" % frm)[0]
        return frm, rad, got

    # ---- no window open (the open hearing does not exist yet)
    def test_01_closed_window(self):
        num = wa_number()
        reply = self.wa_menu_hearing(num)
        self.assertIn("no hay una audiencia pública abierta", reply)
        self.assertEqual(self.d.scalar("SELECT state FROM wa_conversations WHERE wa_id = ?", (num,)), "idle")

        frm, rad, ack = self.take_mail("[AUDIENCIA:cerrada] Pregunta sobre vías", "¿Cuándo arreglan la vía?")
        it = self.item(rad)
        self.assertEqual(it["kind"], "pqrsd")
        self.assertIn("no hay una audiencia", text_of(ack.msg))
        frm, rad, ack = self.take_mail("Pregunta", "¿Y el presupuesto?", to=HEARING_ADDR)
        self.assertEqual(self.item(rad)["kind"], "pqrsd")
        self.assertEqual(self.questions("cerrada"), {})

        for code in ("cerrada", "noexiste"):
            r = self.d.post_json({"kind": "hearing_question", "hearing": code, "body": "¿Pregunta?"})
            H.assert_error(self, r, 422, "invalid", field="hearing")

    # ---- the window open
    def test_02_whatsapp(self):
        self.open_hearing()
        num = wa_number()
        reply = self.wa_menu_hearing(num)
        self.assertIn("Rendición de cuentas rc2026", reply)
        reply = human_text(self.wa_send(num, wa.text(num, "¿Cuánto se invirtió en el acueducto rural?"))[-1])
        self.assertIn("nombre", reply)
        reply = self.wa_tap(num, "hq.name", "Sí, con mi nombre")
        self.assertIn("Recibimos su pregunta para la audiencia", reply)
        rad = RADICADO_IN_ACK.search(reply).group(1)
        self.assertIn("Fecha límite de respuesta", reply)
        q = self.questions()[rad]
        self.assertEqual(q["source"], "whatsapp")
        it = self.item(rad)
        self.assertEqual((it["kind"], it["channel"], it["phone"], it["reply_channel"]),
                         ("hearing_question", "whatsapp", "+" + num, "whatsapp"))
        self.assertEqual(it["name"], wa.DEFAULT_NAME)

        # Without the name, and "cancelar" leaves nothing behind.
        num2 = wa_number()
        self.wa_menu_hearing(num2)
        self.wa_text(num2, "¿Qué pasó con el parque?")
        reply = self.wa_tap(num2, "hq.anon", "Sin nombre")
        rad2 = RADICADO_IN_ACK.search(reply).group(1)
        self.assertIn("no aparecerá", reply)
        self.assertIsNone(self.item(rad2)["name"])
        n = len(self.questions())
        num3 = wa_number()
        self.wa_menu_hearing(num3)
        reply = self.wa_text(num3, "cancelar")
        self.assertIn("cancelamos", reply)
        self.wa_text(num3, "menú")
        self.assertEqual(len(self.questions()), n)

    def test_03_email_tag_and_address(self):
        self.open_hearing()
        frm, rad, ack = self.take_mail("Pregunta [audiencia:RC2026]", "¿Cuándo termina la obra del puente?")
        q = self.questions()[rad]
        self.assertEqual(q["source"], "email")
        it = self.item(rad)
        self.assertEqual((it["kind"], it["channel"], it["email"]), ("hearing_question", "email", frm))
        text = text_of(ack.msg)
        self.assertIn("pregunta para la audiencia", text)
        self.assertIn("Radicado: %s" % rad, text)

        frm, rad, ack = self.take_mail("Mi pregunta", "¿Cuántos empleos generó el plan?", to=HEARING_ADDR)
        self.assertEqual(self.questions()[rad]["source"], "email")
        self.assertIn("pregunta para la audiencia", text_of(ack.msg))

    def test_04_json_api(self):
        self.open_hearing()
        r = self.d.post_json({"kind": "hearing_question", "hearing": "rc2026",
                              "body": "¿Cuál fue la ejecución del presupuesto?",
                              "requester": {"name": "Ana Prueba", "email": "ana@correo-prueba.example.com"}})
        self.assertEqual(r.status, 201, r)
        o = r.json()
        for k in ("radicado", "tracking_code", "due_date"):
            self.assertTrue(o.get(k), o)
        self.assertIn(o["radicado"], self.questions())
        self.assertEqual(self.item(o["radicado"])["kind"], "hearing_question")
        r = self.d.post_json({"kind": "hearing_question", "body": "sin audiencia"})
        H.assert_error(self, r, 422, "missing", field="hearing")
        r = self.d.post_json({"kind": "hearing_question", "hearing": "rc2026", "body": " "})
        H.assert_error(self, r, 422, field="body")

    def test_99_no_crash(self):
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
