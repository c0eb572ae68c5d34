"""The email channel against real servers started by the test: Dovecot (IMAP)
holding the entity's mailbox and an aiosmtpd SMTP server capturing what the
daemon sends. Every message is filed exactly once with an acknowledgement in
the sender's inbox; replies thread; crashes, another client reading the
mailbox, a UIDVALIDITY reset and an unreachable server lose nothing and file
nothing twice."""
import email
import email.policy
import glob
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import mailservers  # noqa: E402
import staffkit as S  # noqa: E402

ENTITY = "atencionalciudadano@entidad.gov.co"
USER, PASSWORD = "atencion", "clave-prueba"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_email")


def mail(frm, subject, body, msgid=None, headers=None, name="Zenaida Quintero Prueba"):
    """A small UTF-8 message as bytes."""
    msgid = msgid or "<t%d.%d@correo-prueba.example.com>" % (os.getpid(), H.unique())
    lines = ["From: %s <%s>" % (name, frm), "To: %s" % ENTITY, "Subject: %s" % subject,
             "Message-ID: %s" % msgid, "Date: Tue, 01 Dec 2026 10:00:00 -0500", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def sender():
    return "ciudadano%d.%d@correo-prueba.example.com" % (os.getpid(), H.unique())


class EmailCase(H.DaemonCase):
    poll = 1

    @classmethod
    def setUpClass(cls):
        cls.imap = mailservers.Dovecot(users={USER: PASSWORD}).start()
        cls.smtp = mailservers.SmtpSink().start()
        cls.d = H.Daemon(cls.config(), name="email")
        cls.d.start()

    @classmethod
    def config(cls, **over):
        mb = {"name": "atencion", "imap_url": cls.imap.url(USER), "username": USER,
              "password": PASSWORD, "poll_seconds": cls.poll}
        mb.update(over)
        return {"channels": {"email": {"enabled": True, "mailboxes": [mb], "smtp_url": cls.smtp.url,
                                       "from": ENTITY, "allow_plaintext_loopback": True,
                                       "tracking_url": "https://entidad.gov.co/consulta"}},
                "outbox": {"backoff_base_ms": 100, "backoff_max_ms": 1000, "timeout_ms": 3000}}

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.smtp, cls.imap)

    def wait(self, pred, timeout=H.WAIT, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; log tail:\n%s"
                                     % (what, "\n".join(self.d.lines[-15:])))
            time.sleep(0.1)

    def taken(self, msgid):
        return self.d.query("SELECT * FROM email_messages WHERE dedup_key = ?", ("mid:" + msgid.strip("<>"),))

    def barrier(self):
        """Appends an unrelated message and waits until it is taken in."""
        raw = mail(sender(), "Mensaje de control", "Control.")
        self.imap.append(USER, raw)
        return self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())

    def wait_taken(self, msgid, timeout=H.WAIT):
        return self.wait(lambda: self.taken(msgid), timeout, "message %s taken in" % msgid)[0]

    def acks_to(self, addr):
        return self.smtp.messages(to=addr)

    def item_of(self, row):
        return self.d.query("SELECT * FROM items WHERE id = ?", (row["item_id"],))[0]


class Intake(EmailCase):
    def test_01_filed_once_with_an_acknowledgement(self):
        frm = sender()
        raw = mail(frm, "Solicitud de copia del contrato de alumbrado",
                   "Buenos días. Solicito copia del contrato 45 de 2026.\nGracias, Zenaida.")
        self.imap.append(USER, raw)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        self.assertEqual(row["outcome"], "filed")
        it = self.item_of(row)
        # No tag or keyword: the learned classifier's type and class, and no
        # triage when it is sure (classify.type_confidence, 70 %).
        self.assertEqual((it["channel"], it["type"], it["petition_class"], it["reply_channel"]),
                         ("email", "peticion", "documentos", "email"))
        sug = H.stored_suggestion(it["classifier"])
        self.assertEqual((sug["type"]["label"], sug["petition_class"]["label"]), ("peticion", "documentos"))
        self.assertGreaterEqual(sug["type"]["confidence"], 0.70, sug)
        self.assertEqual(it["needs_triage"], 0, "the classifier is sure: no triage")
        self.assertIn("contrato 45", it["body"])
        req = self.d.query("SELECT * FROM requesters WHERE item_id = ?", (it["id"],))[0]
        self.assertEqual((req["email"], req["name"]), (frm, "Zenaida Quintero Prueba"))
        msg = self.wait(lambda: self.acks_to(frm), what="acknowledgement")[0].msg
        self.assertIn(it["radicado"], msg["Subject"])
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        self.assertEqual(msg["In-Reply-To"], re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        text = msg.get_content()
        self.assertIn(it["radicado"], text)
        self.assertIn("https://entidad.gov.co/consulta", text)
        m = re.search(r"Código de seguimiento: ([A-Z2-9]{10})", text)
        self.assertTrue(m, text)
        code = m.group(1)
        self.assertEqual(self.d.track(it["radicado"], code).status, 200)
        # After the commit the message is flagged seen on the server.
        self.wait(lambda: "\\Seen" in self.imap.flags(USER, row["uid"]), what="\\Seen")
        # A positive barrier: a later message taken in means the poller went
        # round again after this one was taken.
        self.barrier()
        H.outbox_settled(self.d, frm)
        self.assertEqual(len(self.taken(row["dedup_key"][4:])), 1, "taken in once")
        self.assertEqual(len(self.acks_to(frm)), 1, "acknowledged once")

    def test_01b_a_complaint_without_a_keyword_is_a_queja(self):
        frm = sender()
        raw = mail(frm, "Lo que pasó el martes en la ventanilla",
                   "Buenas tardes. El martes fui a la ventanilla del primer piso y el funcionario que atiende "
                   "me gritó, me trató de ignorante delante de todos y se negó a recibirme los papeles. "
                   "Exijo un trato respetuoso.\nAtentamente, Zenaida.")
        self.imap.append(USER, raw)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        it = self.item_of(row)
        sug = H.stored_suggestion(it["classifier"])
        self.assertEqual((it["type"], it["petition_class"]), ("queja", None), sug)
        self.assertEqual(it["needs_triage"], int(sug["type"]["confidence"] * 100 < 70), sug)
        text = self.wait(lambda: self.acks_to(frm), what="acknowledgement")[0].msg.get_content()
        self.assertIn("lo radicó como Queja", text)
        self.assertEqual("Un funcionario revisará el tipo de solicitud" in text, bool(it["needs_triage"]))

    def test_02_reply_threads(self):
        frm = sender()
        raw = mail(frm, "Queja por mala atención", "No me atendieron en la ventanilla 3.")
        self.imap.append(USER, raw)
        ack = self.wait(lambda: self.acks_to(frm), what="acknowledgement")[0].msg
        first = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        self.assertEqual(self.item_of(first)["type"], "queja", "the subject keyword sets the type")
        # An Outlook reply to the acknowledgement.
        reply = mail(frm, "RE: " + ack["Subject"], "Adjunto más detalles: fue el lunes.",
                     headers={"In-Reply-To": ack["Message-ID"], "References": ack["Message-ID"]})
        self.imap.append(USER, reply)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", reply).group(1).decode())
        self.assertEqual((row["outcome"], row["item_id"]), ("threaded", first["item_id"]))
        ev = self.d.query("SELECT payload FROM audit_events WHERE item_id = ? AND action = 'mensaje_ciudadano'",
                          (first["item_id"],))
        self.assertEqual(len(ev), 1)
        self.assertIn("fue el lunes", ev[0]["payload"])
        # A client that dropped References and edited the subject, radicado kept.
        rad = self.item_of(first)["radicado"]
        bare = mail(frm, "Sobre mi solicitud %s (otra vez)" % rad, "¿Ya hay respuesta?")
        self.imap.append(USER, bare)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", bare).group(1).decode())
        self.assertEqual((row["outcome"], row["item_id"]), ("threaded", first["item_id"]))
        H.outbox_settled(self.d, frm)  # what taking the replies caused has gone
        self.assertEqual(len(self.acks_to(frm)), 1, "replies get no new acknowledgement")

    def test_03_robots_get_no_acknowledgement(self):
        frm = sender()
        cases = [
            mail(frm, "Respuesta automática: fuera de la oficina", "Estoy de vacaciones.",
                 headers={"Auto-Submitted": "auto-replied"}),
            mail(frm, "Boletín de noticias", "Novedades del mes.", headers={"Precedence": "bulk",
                                                                              "List-Unsubscribe": "<mailto:x@y>"}),
            mail(ENTITY, "Copia de nuestro propio envío", "Esto lo enviamos nosotros."),
        ]
        for raw in cases:
            self.imap.append(USER, raw)
        outcomes = [self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", r).group(1).decode())["outcome"]
                    for r in cases]
        self.assertEqual(outcomes, ["ignored_auto", "ignored_bulk", "ignored_own"])
        self.assertEqual(H.outbox_settled(self.d, frm), [], "nothing was queued for a robot")
        self.assertEqual(self.acks_to(frm), [])

    def test_04_seen_by_another_client_is_still_filed(self):
        frm = sender()
        self.d.stop()
        raw = mail(frm, "Petición de información", "¿Cuándo abren la convocatoria?")
        uid = self.imap.append(USER, raw)
        self.imap.mark_seen(USER, uid)  # a colleague opened it in Thunderbird
        self.d.start()
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        self.assertEqual(row["outcome"], "filed")
        self.wait(lambda: self.acks_to(frm), what="acknowledgement")

    def test_05_bounce_marks_our_message_failed(self):
        frm = sender()
        raw = mail(frm, "Reclamo por cobro", "Me cobraron dos veces.")
        self.imap.append(USER, raw)
        ack = self.wait(lambda: self.acks_to(frm), what="acknowledgement")[0].msg
        ob = self.wait(lambda: self.d.query("SELECT * FROM outbox WHERE channel = 'email' AND provider_id = ?",
                                            (ack["Message-ID"].strip("<>"),)), what="ack recorded")[0]
        dsn = ("From: Mail Delivery System <MAILER-DAEMON@correo-prueba.example.com>\r\n"
               "To: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n"
               "Message-ID: <dsn%d@correo-prueba.example.com>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
               "--b1\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver.\r\n"
               "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
               "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
               "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: %s\r\nTo: %s\r\n"
               "--b1--\r\n" % (ENTITY, H.unique(), frm, ack["Message-ID"], frm)).encode()
        self.imap.append(USER, dsn)
        self.wait(lambda: self.d.query("SELECT 1 FROM outbox WHERE id = ? AND status = 'failed'", (ob["id"],)),
                  what="ack marked failed")
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", dsn).group(1).decode())
        self.assertEqual(row["outcome"], "bounce")
        self.assertEqual(len(self.acks_to(frm)), 1)

    def test_06_smtp_transient_failure_is_retried(self):
        frm = sender()
        self.smtp.fail_next(451, n=2)
        raw = mail(frm, "Sugerencia para el parque", "Pongan más bancas.")
        self.imap.append(USER, raw)
        self.wait(lambda: self.acks_to(frm), timeout=30, what="acknowledgement after retries")
        # the sink has the message before the sender records its result:
        # wait for the row to leave 'sending', then check how it ended
        ob = self.wait(lambda: self.d.query("SELECT attempts, status FROM outbox WHERE recipient = ? "
                                            "AND status <> 'sending'", (frm,)), what="the result recorded")[0]
        self.assertEqual((ob["status"], ob["attempts"]), ("sent", 3))

    def test_06b_smtp_refusal_is_a_dead_letter_staff_can_see(self):
        frm = sender()
        self.smtp.fail_next(554)
        raw = mail(frm, "Petición que el servidor de correo rechaza", "Texto de la petición.")
        self.imap.append(USER, raw)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        ob = self.wait(lambda: self.d.query("SELECT * FROM outbox WHERE item_id = ? AND kind = 'ack' "
                                            "AND status = 'dead'", (row["item_id"],)),
                       what="the refused acknowledgement dead")[0]
        self.assertEqual(ob["attempts"], 1, "a 5xx is not retried")
        self.assertIn("554", ob["last_error"] or "")
        self.assertEqual(self.acks_to(frm), [])
        # Staff see it on the item...
        S.add_user(self.d, "ge_correo", "gerente")
        rad = self.item_of(row)["radicado"]
        msgs = S.Staff(self.d, "ge_correo").item(rad)["messages"]
        dead = [m for m in msgs if m["kind"] == "ack"]
        self.assertEqual([(m["channel"], m["status"]) for m in dead], [("email", "dead")], msgs)
        self.assertIn("554", json.dumps(dead, ensure_ascii=False))
        # ...and in the dead letters, without the address, and can send it again.
        p = self.d.cli("outbox", "list", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir, "dead")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^%d\tdead\temail\tack\t" % ob["id"])
        self.assertNotIn(frm, p.stdout)
        p = self.d.cli("outbox", "retry", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir, str(ob["id"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        ack = self.wait(lambda: self.acks_to(frm), what="the acknowledgement sent on retry")[0]
        self.assertIn(rad, ack.msg["Subject"])

    def test_07_corpus_each_message_once(self):
        files = sorted(glob.glob(os.path.join(CORPUS, "*.eml")))
        self.assertGreaterEqual(len(files), 25)
        before = self.d.scalar("SELECT count(*) FROM email_messages")
        for f in files:
            with open(f, "rb") as fh:
                self.imap.append(USER, fh.read())
        self.wait(lambda: self.d.scalar("SELECT count(*) FROM email_messages") >= before + len(files),
                  timeout=60, what="the whole corpus taken in")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM email_messages"), before + len(files))
        # Every filed item has valid text and exactly one acknowledgement queued.
        rows = self.d.query("SELECT m.outcome, i.id, i.body, i.subject FROM email_messages m "
                            "LEFT JOIN items i ON i.id = m.item_id WHERE m.id > ?", (before,))
        filed = [r for r in rows if r["outcome"] == "filed"]
        self.assertGreater(len(filed), 10)
        for r in filed:
            self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox WHERE item_id = ? AND kind = 'ack'",
                                           (r["id"],)), 1)
        outcomes = {r["outcome"] for r in rows}
        self.assertTrue({"filed", "ignored_auto", "bounce"} <= outcomes, outcomes)
        self.assert_no_crash()


class Corpus(EmailCase):
    """Every corpus message, on a fresh mailbox, becomes what its README line says."""

    def expected(self):
        rows = {}
        with open(os.path.join(CORPUS, "README.md"), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"\| (\d\d-[\w-]+\.eml) \| .* \| (.*) \|$", line.strip())
                if m:
                    rows[m.group(1)] = m.group(2)
        return rows

    def append_file(self, name, subst=(), wait=True):
        with open(os.path.join(CORPUS, name), "rb") as f:
            raw = f.read()
        for a, b in subst:
            raw = raw.replace(a, b)
        self.imap.append(USER, raw)
        mid = re.search(rb"(?im)^Message-ID:\s*(<[^>]+>)", raw).group(1).decode()
        return self.wait_taken(mid, timeout=30) if wait else mid

    def test_01_each_file_as_documented(self):
        exp = self.expected()
        files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(CORPUS, "*.eml")))
        self.assertGreaterEqual(len(files), 25)
        self.assertEqual(sorted(exp), files, "every corpus file has a README line")
        # 01 and 08 go first: the replies and bounces name their acknowledgements.
        first = self.append_file("01-peticion-utf8.eml")
        ack01 = self.wait(lambda: self.acks_to("laura.gomez@example.org"), what="ack of 01")[0].msg
        rad01 = self.item_of(first)["radicado"]
        second = self.append_file("08-multipart-alternative.eml")
        to08 = self.d.query("SELECT email FROM requesters WHERE item_id = ?", (second["item_id"],))[0]["email"]
        ack08 = self.wait(lambda: self.acks_to(to08), what="ack of 08")[0].msg
        subst = [(b"<ack-PLACEHOLDER@ventanilla.test>", ack01["Message-ID"].encode()),
                 (b"<ack-PLACEHOLDER2@ventanilla.test>", ack08["Message-ID"].encode()),
                 (b"<ack-BOUNCED@ventanilla.test>", ack01["Message-ID"].encode()),
                 (b"<ack-BOUNCED2@ventanilla.test>", ack08["Message-ID"].encode()),
                 (b"2026-000001", rad01.encode())]
        got = {"01-peticion-utf8.eml": first, "08-multipart-alternative.eml": second}
        mids = {name: self.append_file(name, subst, wait=False) for name in files if name not in got}
        for name, mid in mids.items():
            got[name] = self.wait_taken(mid, timeout=60)
        problems = []
        for name in files:
            row, want = got[name], exp[name]
            outcome = re.match(r"\w+", want).group(0)
            if row["outcome"] != outcome:
                problems.append("%s: %s, README says %r" % (name, row["outcome"], want))
                continue
            if outcome == "threaded" and row["item_id"] != first["item_id"]:
                problems.append("%s threaded into item %s, not 01's" % (name, row["item_id"]))
            if outcome != "filed":
                continue
            it = self.item_of(row)
            m = re.match(r"filed: (?:type )?(peticion|queja|reclamo|sugerencia|denuncia|felicitacion)\b", want)
            if m and it["type"] != m.group(1):
                problems.append("%s: type %s, README says %s" % (name, it["type"], m.group(1)))
            m = re.search(r"group (\w+)", want)
            if m and it["stakeholder_group"] != m.group(1):
                problems.append("%s: group %s, README says %s" % (name, it["stakeholder_group"], m.group(1)))
            m = re.search(r"with (\d+) attachments?", want)
            n_att = self.d.scalar("SELECT count(*) FROM attachments WHERE item_id = ?", (it["id"],))
            if m and n_att != int(m.group(1)):
                problems.append("%s: %d attachments, README says %s" % (name, n_att, m.group(1)))
            if self.d.scalar("SELECT count(*) FROM outbox WHERE item_id = ? AND kind = 'ack'", (it["id"],)) != 1:
                problems.append("%s: not exactly one acknowledgement queued" % name)
        self.assertEqual(problems, [])
        # The bounces marked our acknowledgements failed; robots got nothing.
        for ack in (ack01, ack08):
            st = self.d.query("SELECT status FROM outbox WHERE channel = 'email' AND provider_id = ?",
                              (ack["Message-ID"].strip("<>"),))[0]["status"]
            self.assertEqual(st, "failed")
        self.assertEqual(len(self.acks_to("laura.gomez@example.org")), 1, "replies and robots got no ack")
        self.assert_no_crash()


class Crashes(EmailCase):
    def test_01_killed_mid_poll_loses_nothing_files_nothing_twice(self):
        frms = [sender() for _ in range(40)]
        self.d.kill()
        raws = [mail(f, "Petición número %d" % i, "Texto de la petición %d." % i) for i, f in enumerate(frms)]
        for r in raws:
            self.imap.append(USER, r)
        self.d.start()
        self.wait(lambda: self.d.scalar("SELECT count(*) FROM email_messages") >= 5, what="some taken")
        self.d.kill()  # SIGKILL in the middle of the mailbox
        self.d.start()
        self.wait(lambda: self.d.scalar("SELECT count(*) FROM email_messages") >= 40, timeout=60,
                  what="all taken after restart")
        for r in raws:
            mid = re.search(rb"Message-ID: <([^>]+)>", r).group(1).decode()
            self.assertEqual(len(self.taken(mid)), 1, mid)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items WHERE channel = 'email'"), 40)
        self.wait(lambda: all(self.acks_to(f) for f in frms), timeout=60, what="every acknowledgement")

    def test_07_a_thousand_waiting_messages(self):
        # More new UIDs than one IMAP response line holds: all taken, once.
        self.d.stop()
        base = self.d.scalar("SELECT count(*) FROM email_messages")
        raws = [mail("lote%d.%d@correo-prueba.example.com" % (H.unique(), i), "Petición del lote %d" % i,
                     "Texto %d." % i) for i in range(1000)]
        self.imap.append_many(USER, raws)
        self.d.start()
        self.wait(lambda: self.d.scalar("SELECT count(*) FROM email_messages") >= base + 1000, timeout=120,
                  what="1000 messages taken in")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM email_messages"), base + 1000)
        self.assertEqual(self.d.scalar("SELECT count(DISTINCT dedup_key) FROM email_messages"), base + 1000)

    def test_02_uidvalidity_reset_refiles_nothing(self):
        frm = sender()
        raw = mail(frm, "Denuncia por obras inconclusas", "La obra del colegio está abandonada.")
        self.imap.append(USER, raw)
        mid = re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode()
        self.wait_taken(mid)
        items = self.d.scalar("SELECT count(*) FROM items")
        old = self.imap.uidvalidity(USER)
        self.imap.reset_uidvalidity(USER)
        self.assertNotEqual(self.imap.uidvalidity(USER), old)
        new = mail(sender(), "Petición nueva después del cambio", "Una petición más.")
        self.imap.append(USER, new)
        self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", new).group(1).decode())
        self.assertTrue(any("email_uidvalidity_changed" in l for l in self.d.lines))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), items + 1, "only the new one is filed")
        self.assertEqual(len(self.taken(mid)), 1)

    def test_03_unreachable_mailbox_backs_off_and_recovers(self):
        frm = sender()
        self.imap.kill_server()
        try:
            raw = mail(frm, "Petición durante la caída", "Hola.")
            self.wait(lambda: sum("event=email_unreachable" in l for l in self.d.lines) >= 3,
                      timeout=H.WAIT, what="retries logged")
            attempts = [int(re.search(r"attempt=(\d+)", l).group(1)) for l in self.d.lines
                        if "event=email_unreachable" in l]
            self.assertEqual(attempts[-3:], sorted(attempts[-3:]), "consecutive failures are counted")
            self.assertTrue(self.d.running(), "the daemon survives an unreachable server")
        finally:
            self.imap.restart()
        self.imap.append(USER, raw)
        self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode(), timeout=40)

    def test_05_plain_imap_refused_unless_allowed_for_loopback(self):
        # The same server, but the config does not allow plain text: the
        # poller insists on STARTTLS (which this Dovecot lacks) and takes nothing.
        cfg = self.config()
        cfg["channels"]["email"]["allow_plaintext_loopback"] = False
        d = H.Daemon(cfg, name="email-tls")
        try:
            d.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("email_unreachable" in l for l in d.lines):
                time.sleep(0.1)
            self.assertTrue(any("email_unreachable" in l for l in d.lines), "\n".join(d.lines[-10:]))
            self.assertEqual(d.scalar("SELECT count(*) FROM email_messages"), 0)
        finally:
            d.cleanup()

    def test_06_move_to_folder(self):
        self.imap.create_mailbox(USER, "Radicados")
        cfg = self.config(move_to="Radicados")
        self.d.stop()
        d = H.Daemon(cfg, name="email-move")
        try:
            raw = mail(sender(), "Petición que se archiva", "Texto.")
            self.imap.append(USER, raw)
            d.start()
            mid = re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode()
            self.wait(lambda: d.query("SELECT 1 FROM email_messages WHERE dedup_key = ?", ("mid:" + mid[1:-1],)),
                      what="taken in")
            def moved():
                for uid in self.imap.uids(USER, "Radicados"):
                    if mid.encode() in self.imap.fetch(USER, uid, "Radicados"):
                        return True
                return False
            self.wait(moved, what="moved to Radicados")
        finally:
            try:
                d.cleanup()
            finally:
                self.d.start()

    def test_04_malformed_mime_is_filed_with_what_can_be_read(self):
        frm = sender()
        raw = ("From: <%s>\r\nTo: %s\r\nSubject: Adjunto roto\r\nMessage-ID: <roto%d@x.example>\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
               "--zz\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nPetici\xf3n sin cierre\r\n"
               "--zz\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               "%%%%no es base64%%%%\r\n" % (frm, ENTITY, H.unique())).encode("latin-1")
        self.imap.append(USER, raw)
        row = self.wait_taken(re.search(rb"Message-ID: (<[^>]+>)", raw).group(1).decode())
        self.assertEqual(row["outcome"], "filed")
        self.assertIn("Petición sin cierre", self.item_of(row)["body"])
        self.assert_no_crash()


class OverTls(H.DaemonCase):
    """IMAP and SMTP over TLS, with servers that present a fresh self-signed
    certificate (made with openssl at test time): trusted through
    channels.email.ca_file, the mail is taken in and the acknowledgement goes
    out encrypted; a server whose certificate is not trusted is refused, and
    nothing is taken or sent in clear. allow_plaintext_loopback is off."""

    def run_daemon(self, imap, smtp, trust):
        """A daemon for imap and smtp that trusts the certificates in trust."""
        bundle = os.path.join(self.tmp, "ca-%d.pem" % H.unique())
        with open(bundle, "w", encoding="ascii") as out:
            for path in trust:
                with open(path, encoding="ascii") as f:
                    out.write(f.read())
        mb = {"name": "atencion", "imap_url": imap.url(USER), "username": USER, "password": PASSWORD,
              "poll_seconds": 1}
        d = H.Daemon({"channels": {"email": {"enabled": True, "mailboxes": [mb], "smtp_url": smtp.url,
                                             "from": ENTITY, "allow_plaintext_loopback": False,
                                             "ca_file": bundle}},
                      "outbox": {"backoff_base_ms": 100, "backoff_max_ms": 1000, "timeout_ms": 10000}},
                     name="email-tls")
        self.daemons.append(d)
        d.start()
        return d

    def setUp(self):
        import tempfile
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="vt-it-tls-")
        self.daemons, self.servers = [], []

    def tearDown(self):
        import shutil
        try:
            H.release(*(self.daemons + self.servers))
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def servers_for(self, imap_tls, smtp_tls):
        imap = mailservers.Dovecot(users={USER: PASSWORD}, tls=imap_tls)
        self.servers.append(imap)
        imap.start()
        smtp = mailservers.SmtpSink(tls=smtp_tls)
        self.servers.append(smtp)
        smtp.start()
        return imap, smtp

    def taken(self, d, raw):
        mid = re.search(rb"Message-ID: <([^>]+)>", raw).group(1).decode()
        return d.query("SELECT * FROM email_messages WHERE dedup_key = ?", ("mid:" + mid,))

    def check_round_trip(self, imap_tls, smtp_tls):
        imap, smtp = self.servers_for(imap_tls, smtp_tls)
        self.assertTrue(imap.url(USER).startswith("imaps://" if imap_tls == "imaps" else "imap://"))
        self.assertTrue(smtp.url.startswith("smtps://" if smtp_tls == "smtps" else "smtp://"))
        d = self.run_daemon(imap, smtp, [imap.ca_file, smtp.ca_file])
        frm = sender()
        raw = mail(frm, "Petición por el canal cifrado", "Solicito información sobre el PAE.")
        uid = imap.append(USER, raw)
        row = S.wait(lambda: self.taken(d, raw), what="the message taken in over TLS")[0]
        self.assertEqual(row["outcome"], "filed")
        ack = smtp.wait_for(lambda: smtp.messages(to=frm), what="the acknowledgement over TLS")[0]
        self.assertTrue(ack.tls, "the acknowledgement went in clear")
        rad = d.query("SELECT radicado FROM items WHERE id = ?", (row["item_id"],))[0]["radicado"]
        self.assertIn(rad, ack.subject)
        S.wait(lambda: "\\Seen" in imap.flags(USER, uid), what="\\Seen set over TLS")

    def test_01_imaps_and_smtp_starttls(self):
        self.check_round_trip("imaps", "starttls")

    def test_02_imap_starttls_and_smtps(self):
        self.check_round_trip("starttls", "smtps")

    def test_03_untrusted_imap_certificate_is_refused(self):
        imap, smtp = self.servers_for("imaps", "starttls")
        d = self.run_daemon(imap, smtp, [smtp.ca_file])  # not Dovecot's
        raw = mail(sender(), "Petición que no debe entrar", "Texto.")
        imap.append(USER, raw)
        line = S.wait(lambda: [ln for ln in d.lines if "event=email_unreachable" in ln],
                      what="the mailbox refused as unverifiable")[0]
        self.assertRegex(line.lower(), r"certificate|ssl|tls", line)
        self.assertEqual(d.scalar("SELECT count(*) FROM email_messages"), 0)
        self.assertEqual(d.scalar("SELECT count(*) FROM items"), 0)

    def test_04_untrusted_smtp_certificate_is_refused(self):
        imap, smtp = self.servers_for("starttls", "smtps")
        d = self.run_daemon(imap, smtp, [imap.ca_file])  # not the SMTP server's
        frm = sender()
        raw = mail(frm, "Petición con acuse pendiente", "Texto.")
        imap.append(USER, raw)
        row = S.wait(lambda: self.taken(d, raw), what="the message taken in")[0]
        ob = S.wait(lambda: [o for o in d.query("SELECT * FROM outbox WHERE item_id = ? AND kind = 'ack'",
                                                (row["item_id"],)) if o["attempts"] >= 2],
                    what="the acknowledgement tried and refused")[0]
        self.assertIn(ob["status"], ("pending", "sending", "dead"), ob)
        self.assertRegex((ob["last_error"] or "").lower(), r"certificate|ssl|tls", ob)
        self.assertEqual(smtp.messages(), [], "a message reached an unverified server")


class WhatsAppFallback(EmailCase):
    """A WhatsApp acknowledgement that cannot go (window closed, no template)
    reaches the requester by email instead, code and all."""

    @classmethod
    def setUpClass(cls):
        import fake_graph
        import wa
        cls.wa = wa
        cls.graph = fake_graph.FakeGraph().start()
        cls.imap = mailservers.Dovecot(users={USER: PASSWORD}).start()
        cls.smtp = mailservers.SmtpSink().start()
        cls.d = H.Daemon(H.deep_merge(cls.config(), wa.config(cls.graph)), name="email-wa")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.graph.stop()

    def test_01_email_copy_of_an_undeliverable_whatsapp_ack(self):
        import test_08_whatsapp_webhook as t08
        frm_wa = "57310%07d" % (H.unique() * 7 % 10 ** 7)
        addr = sender()
        rad = t08.file_pqrsd(self, self.d, frm_wa, ts=int(time.time()) - 26 * 3600, email=addr)
        msg = self.wait(lambda: self.acks_to(addr), timeout=30, what="email copy")[0].msg
        text = msg.get_content()
        self.assertIn(rad, msg["Subject"])
        self.assertIn(rad, text)
        code = re.search(r"Código de seguimiento: ([A-Z2-9]{10})", text)
        self.assertTrue(code, text)
        self.assertEqual(self.d.track(rad, code.group(1)).status, 200)
        self.assertNotIn("menú", text, "the email copy has no chat instructions")
        self.assertEqual([m for m in self.graph.messages(to=frm_wa) if rad in str(m)], [])


@unittest.skipUnless(H.BACKEND == "postgresql", "two instances share a database only on PostgreSQL")
class Instances(EmailCase):
    """Two instances on one database and one mailbox: one polls it at a time,
    every message is filed once, and when the polling one is SIGKILLed the
    other takes the mailbox over (within a minute) and files what came after."""

    @classmethod
    def setUpClass(cls):
        cls.imap = mailservers.Dovecot(users={USER: PASSWORD}).start()
        cls.smtp = mailservers.SmtpSink().start()
        cls.b = None
        cls.a = H.Daemon(cls.config(), name="email-a")  # poll_seconds 1

    @classmethod
    def tearDownClass(cls):
        H.release(cls.b, cls.a, cls.smtp, cls.imap)

    def wait(self, pred, timeout=H.WAIT, what="condition"):
        return H.wait_until(pred, timeout, what, lambda: "; logs:\nA: %s\nB: %s" % (
            "\n".join(self.a.lines[-10:]), "\n".join(self.b.lines[-10:] if self.b else [])))

    @staticmethod
    def owner_events(d):
        return [H.parse_logfmt(l) for l in list(d.lines) if "event=email_mailbox_owner" in l]

    def polling(self, d):
        """Whether d's log says it polls the mailbox now."""
        ev = self.owner_events(d)
        return bool(ev) and ev[-1].get("polling") == "1"

    def standby(self, d):
        return any("event=email_mailbox_standby" in l and "another instance" in l for l in list(d.lines))

    def deliver(self, n, tag):
        frms = [sender() for _ in range(n)]
        raws = [mail(f, "Petición %s %d" % (tag, i), "Texto %s %d." % (tag, i)) for i, f in enumerate(frms)]
        for r in raws:
            self.imap.append(USER, r)
        return frms, [re.search(rb"Message-ID: <([^>]+)>", r).group(1).decode() for r in raws]

    def taken_once(self, mids):
        rows = self.a.query("SELECT dedup_key, count(*) AS n FROM email_messages GROUP BY dedup_key")
        got = {r["dedup_key"]: r["n"] for r in rows}
        return all(("mid:" + m) in got for m in mids), {m: got.get("mid:" + m, 0) for m in mids}

    def test_01_one_poller_and_a_takeover_after_sigkill(self):
        a = self.a
        a.start()
        self.wait(lambda: self.polling(a), what="A polling the mailbox")
        # A second instance on A's database, with the same mailbox.
        b = type(self).b = H.Daemon(self.config(), name="email-b", share=a)
        b.start()
        # B sees the mailbox taken: a positive signal, not a wait for silence.
        self.wait(lambda: self.standby(b), what="B on standby")
        frms, mids = self.deliver(12, "uno")
        self.wait(lambda: self.taken_once(mids)[0], what="the first messages filed")
        self.assertEqual(set(self.taken_once(mids)[1].values()), {1}, "each filed once")
        self.assertEqual(a.scalar("SELECT count(*) FROM items WHERE channel = 'email'"), 12)
        self.wait(lambda: all(self.smtp.messages(to=f) for f in frms), what="every acknowledgement")
        for f in frms:
            H.outbox_settled(a, f)
            self.assertEqual(len(self.smtp.messages(to=f)), 1, f)
        # Only A polled: B never said it polls, nor fetched a message.
        self.assertFalse([e for e in self.owner_events(b) if e.get("polling") == "1"])
        self.assertFalse([l for l in list(b.lines) if "event=email_taken" in l])
        self.assertEqual(len([l for l in list(a.lines) if "event=email_taken" in l]), 12)

        # A dies without letting go; PostgreSQL ends its session and its
        # lock with it, and B, trying every min(poll_seconds, 20 s), takes over.
        a.kill()
        t0 = time.monotonic()
        frms2, mids2 = self.deliver(8, "dos")
        self.wait(lambda: self.polling(b), timeout=90, what="B polling after A died")
        ev = self.owner_events(b)[-1]
        self.assertEqual(ev["reason"], "lock_taken")
        self.assertIn(os.path.basename(b.dir), ev["instance"])
        took = time.monotonic() - t0
        self.wait(lambda: self.taken_once(mids2)[0], timeout=90, what="the later messages filed by B")
        self.assertLess(time.monotonic() - t0, 90)
        print("B took the mailbox over %.1f s after A was killed" % took, file=sys.stderr)
        self.assertEqual(set(self.taken_once(mids + mids2)[1].values()), {1}, "each filed once")
        self.assertEqual(b.scalar("SELECT count(*) FROM items WHERE channel = 'email'"), 20)
        self.assertEqual(len([l for l in list(b.lines) if "event=email_taken" in l]), 8)
        self.wait(lambda: all(self.smtp.messages(to=f) for f in frms2), what="acknowledgements by B")
        for f in frms2:
            H.outbox_settled(b, f)
            self.assertEqual(len(self.smtp.messages(to=f)), 1, f)
        # B's lock connection is cut (the database restarted it, a network
        # blip): B notices before its next round, takes the lock again on a
        # new connection, and goes on filing.
        key = 8531290862938105196  # driver_pg.c's write lock, which stays
        cut = b.scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND granted AND NOT (classid::bigint = %d AND objid::bigint = %d)" % (key >> 32, key & 0xffffffff))
        self.assertEqual(cut, 1)
        n = len(self.owner_events(b))
        self.wait(lambda: [e.get("polling") for e in self.owner_events(b)[n:]][:2] == ["0", "1"],
                  what="B losing and taking the lock again")
        self.assertEqual(self.owner_events(b)[n]["reason"], "lock_lost")
        frms3, mids3 = self.deliver(3, "tres")
        self.wait(lambda: self.taken_once(mids3)[0], what="messages filed after the cut")
        self.assertEqual(set(self.taken_once(mids + mids2 + mids3)[1].values()), {1}, "each filed once")
        # A clean stop lets go of the mailbox, and says so.
        b.stop()
        self.assertEqual(self.owner_events(b)[-1].get("reason"), "stopping")


if __name__ == "__main__":
    H.main()
