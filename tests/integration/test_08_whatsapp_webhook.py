"""The WhatsApp webhook and the durable outbox against a fake Graph API:
verification, signatures, idempotent re-deliveries, bad payloads, delivery
statuses, retries and dead letters, the 24-hour window and templates, the
email fallback, and a SIGKILL between commit and send."""
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import fake_graph  # noqa: E402
import wa  # noqa: E402


def sender():
    return "57310%07d" % (H.unique() * 7919 % 10 ** 7)


def ok(tc, resp):
    tc.assertEqual(resp.status, 200, resp.body[:300])


def file_pqrsd(tc, d, frm, ts=None, email=None, type_id="type.reclamo",
               desc="No llega el agua al barrio desde hace tres días."):
    """Drives a whole conversation that files a PQRSD; returns its radicado."""
    kw = {"timestamp": str(ts)} if ts else {}
    steps = [
        wa.text(frm, "Buenos días", **kw),
        wa.list_reply(frm, "menu.pqrsd", "Radicar una PQRSD", **kw),
        wa.list_reply(frm, type_id, "Tipo", **kw),
        wa.text(frm, desc, **kw),
        wa.button_reply(frm, "att.done", "Continuar", **kw),
        wa.button_reply(frm, "id.named", "Con mis datos", **kw),
        wa.text(frm, "Zenaida Quintero Prueba", **kw),
        wa.text(frm, "CC 52123456", **kw),
        wa.text(frm, email, **kw) if email else wa.button_reply(frm, "email.skip", "Omitir", **kw),
        wa.button_reply(frm, "consent.yes", "Sí, autorizo", **kw),
    ]
    for m in steps:
        ok(tc, wa.post(d, wa.delivery([m]), wa.SECRET))
    rows = d.query("SELECT i.radicado FROM items i JOIN requesters r ON r.item_id = i.id "
                   "WHERE r.phone = ? ORDER BY i.id DESC", ("+" + frm,))
    tc.assertTrue(rows, "no item filed for %s" % frm)
    return rows[0]["radicado"]


def ack_of(graph, frm, radicado):
    for doc in graph.messages(to=frm):
        if radicado in json.dumps(doc, ensure_ascii=False):
            return doc
    return None


class Webhook(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.graph = fake_graph.FakeGraph().start()
        cls.d = H.Daemon(wa.config(cls.graph), name="wa-webhook")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def counts(self):
        # the outbox, items, audit events, attachments... (H.stored) too
        return (self.d.scalar("SELECT count(*) FROM wa_messages"),
                self.d.scalar("SELECT count(*) FROM inbound_seen"),
                H.stored(self.d))

    # -- verification
    def test_01_verify_subscription(self):
        r = wa.verify(self.d, "subscribe", wa.VERIFY_TOKEN, "1158201444")
        self.assertEqual((r.status, r.text), (200, "1158201444"))

    def test_02_verify_refused(self):
        for mode, token, challenge in [("subscribe", "otro", "1"), ("unsubscribe", wa.VERIFY_TOKEN, "1"),
                                       ("subscribe", None, "1"), ("subscribe", wa.VERIFY_TOKEN, None),
                                       (None, wa.VERIFY_TOKEN, "1"),
                                       ("subscribe", wa.VERIFY_TOKEN + "x", "1")]:
            r = wa.verify(self.d, mode, token, challenge)
            self.assertEqual(r.status, 403, (mode, token, challenge))
            self.assertEqual(r.json()["error"]["code"], "forbidden")

    # -- signatures
    def test_10_missing_forged_stale_signatures(self):
        frm = sender()
        payload = wa.delivery([wa.text(frm, "hola")])
        body = wa.serialize(payload)
        before = self.counts()
        cases = {
            "missing": None,
            "forged": "sha256=" + "ab" * 32,
            "stale secret": wa.sign("old-rotated-secret", body),
            "other body": wa.sign(wa.SECRET, body + b" "),
            "sha1": "sha1=" + "ab" * 20,
            "uppercase": wa.sign(wa.SECRET, body).upper().replace("SHA256=", "sha256="),
            "truncated": wa.sign(wa.SECRET, body)[:-2],
        }
        for name, sig in cases.items():
            r = wa.post(self.d, payload, wa.SECRET, signature=sig, raw=body)
            self.assertEqual(r.status, 401, name)
            self.assertEqual(r.json()["error"]["field"], "X-Hub-Signature-256", name)
        # A valid signature over a changed body (a replayed header) is refused too.
        changed = wa.serialize(wa.delivery([wa.text(frm, "hola, cambiado")]))
        r = wa.post(self.d, None, wa.SECRET, signature=wa.sign(wa.SECRET, body), raw=changed)
        self.assertEqual(r.status, 401)
        self.assertEqual(self.counts(), before, "a refused delivery stored something")
        self.assertEqual(self.graph.messages(to=frm), [])

    # -- idempotency
    def test_20_same_payload_twice(self):
        frm = sender()
        payload = wa.delivery([wa.text(frm, "Quiero poner una queja")])
        ok(self, wa.post(self.d, payload, wa.SECRET))
        ok(self, wa.post(self.d, payload, wa.SECRET))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (frm,)), 1)
        self.graph.wait_for(lambda: self.graph.messages(to=frm), what="menu for " + frm)
        rows = H.outbox_settled(self.d, frm)  # everything both deliveries caused has gone
        self.assertEqual([r["kind"] for r in rows if r["kind"] != "read"], ["prompt"], rows)
        self.assertEqual(len(self.graph.messages(to=frm)), 1, "the re-delivery was answered again")
        self.assertEqual(self.graph.reads().count(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]), 1)

    def test_21_filing_delivered_twice_gives_one_item_one_ack(self):
        frm = sender()
        rad = file_pqrsd(self, self.d, frm)
        last = wa.button_reply(frm, "consent.yes", "Sí, autorizo")
        # Meta re-delivers the final message of an earlier filing: same wamid.
        rows = self.d.query("SELECT wamid FROM wa_messages WHERE wa_id = ? ORDER BY id DESC LIMIT 1", (frm,))
        last["id"] = rows[0]["wamid"]
        ok(self, wa.post(self.d, wa.delivery([last]), wa.SECRET))
        ok(self, wa.post(self.d, wa.delivery([last]), wa.SECRET))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items i JOIN requesters r ON r.item_id = i.id "
                                       "WHERE r.phone = ?", ("+" + frm,)), 1)
        self.graph.wait_for(lambda: ack_of(self.graph, frm, rad), what="ack")
        H.outbox_settled(self.d, frm)  # everything the re-deliveries caused has gone
        acks = [m for m in self.graph.messages(to=frm) if rad in json.dumps(m, ensure_ascii=False)]
        self.assertEqual(len(acks), 1)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox WHERE kind = 'ack' AND recipient = ?",
                                       (frm,)), 1)

    def test_22_batch_of_entries_and_senders(self):
        a, b, c = sender(), sender(), sender()
        payload = wa.several(wa.delivery([wa.text(a, "uno"), wa.text(b, "dos")]),
                             wa.delivery([wa.text(c, "tres")], name="Otra Persona"))
        ok(self, wa.post(self.d, payload, wa.SECRET))
        for frm in (a, b, c):
            self.assertEqual(self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (frm,)), 1)
            self.graph.wait_for(lambda: self.graph.messages(to=frm), what="menu for " + frm)

    # -- bad input
    def test_30_malformed_json(self):
        before = self.counts()
        for raw in [b"{", b"no es json", b'{"object":"whatsapp_business_account","entry":[]} basura',
                    b'{"object":"page","entry":[]}', b'{"object":"whatsapp_business_account","entry":{}}',
                    b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":{}}}]}]}',
                    b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":'
                    b'{"messages":[{"type":"text","text":{"body":"sin id"}}]}}]}]}',
                    "\xff\xfe".encode("latin-1")]:
            r = wa.post(self.d, None, wa.SECRET, raw=raw)
            self.assertEqual(r.status, 400, raw)
            err = r.json()["error"]
            self.assertEqual(err["code"], "malformed_payload")
            self.assertTrue(err["message"].startswith("La notificación no es válida"), err)
        self.assertEqual(self.counts(), before)
        self.assert_no_crash()

    def test_31_unknown_fields_are_ignored(self):
        frm = sender()
        payload = wa.delivery([wa.text(frm, "hola")])
        payload["entry"][0]["nuevo_campo"] = {"x": [1, 2]}
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["campo_futuro"] = "valor"
        payload["entry"][0]["changes"][0]["value"]["otra_cosa"] = []
        ok(self, wa.post(self.d, payload, wa.SECRET))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (frm,)), 1)

    def test_32_oversized_body(self):
        before = self.counts()
        frm = sender()
        payload = wa.delivery([wa.text(frm, "x" * (300 * 1024))])
        r = wa.post(self.d, payload, wa.SECRET)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["error"]["code"], "too_large")
        self.assertEqual(self.counts(), before)
        many = wa.delivery([wa.reaction(frm, "wamid.X", "👍") for _ in range(1001)])
        r = wa.post(self.d, many, wa.SECRET)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["error"]["code"], "too_many_events")
        self.assertEqual(self.counts(), before)
        self.assert_no_crash()

    def test_33_other_business_number_ignored(self):
        frm = sender()
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")], pnid="999999"), wa.SECRET))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (frm,)), 0)

    # -- statuses
    def test_40_statuses_update_the_message(self):
        frm = sender()
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        self.graph.wait_for(lambda: self.d.query(
            "SELECT provider_id FROM outbox WHERE recipient = ? AND kind = 'prompt' AND status = 'sent'", (frm,)),
            what="menu sent")
        pid = self.d.query("SELECT id, provider_id FROM outbox WHERE recipient = ? AND kind = 'prompt'", (frm,))[0]
        for st in ("delivered", "read", "delivered", "sent"):
            ok(self, wa.post(self.d, wa.delivery(statuses=[wa.status(pid["provider_id"], st, frm)]), wa.SECRET))
        row = self.d.query("SELECT status FROM outbox WHERE id = ?", (pid["id"],))[0]
        self.assertEqual(row["status"], "read", "statuses must only move forward")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox_statuses WHERE provider_id = ?",
                                       (pid["provider_id"],)), 3, "a repeated status is applied once")

    def test_41_failed_status(self):
        frm = sender()
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        self.graph.wait_for(lambda: self.d.query(
            "SELECT 1 FROM outbox WHERE recipient = ? AND kind = 'prompt' AND status = 'sent'", (frm,)))
        pid = self.d.query("SELECT id, provider_id FROM outbox WHERE recipient = ? AND kind = 'prompt'", (frm,))[0]
        ok(self, wa.post(self.d, wa.delivery(statuses=[wa.status(pid["provider_id"], "failed", frm,
                                                                 errors=[131026])]), wa.SECRET))
        row = self.d.query("SELECT status, last_error FROM outbox WHERE id = ?", (pid["id"],))[0]
        self.assertEqual(row["status"], "failed")
        self.assertIn("131026", row["last_error"])

    def test_42_status_for_unknown_message_is_kept(self):
        ok(self, wa.post(self.d, wa.delivery(statuses=[wa.status("wamid.DESCONOCIDO", "delivered", "573000000000")]),
                         wa.SECRET))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox_statuses WHERE provider_id = 'wamid.DESCONOCIDO'"), 1)

    def test_99_audit_chain_verifies(self):
        # Items, sends, failures and citizen messages all went into one chain.
        actions = {r["action"] for r in self.d.query("SELECT DISTINCT action FROM audit_events")}
        self.assertTrue({"radicado", "mensaje_enviado"} <= actions, actions)
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class Outbox(H.DaemonCase):
    """Delivery failures: retries with backoff, dead letters, staff retry."""

    @classmethod
    def setUpClass(cls):
        cls.graph = fake_graph.FakeGraph(hold_seconds=4).start()
        cls.d = H.Daemon(wa.config(cls.graph, outbox={"max_attempts": 4, "backoff_base_ms": 100,
                                                      "backoff_max_ms": 400, "timeout_ms": 1000}),
                         name="wa-outbox")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def setUp(self):
        super().setUp()
        self.graph.set_mode(None)

    def menu_row(self, frm):
        return self.d.query("SELECT * FROM outbox WHERE recipient = ? AND kind = 'prompt' ORDER BY id", (frm,))[0]

    def wait_status(self, frm, status, timeout=H.WAIT):
        return self.graph.wait_for(lambda: self.menu_row(frm)["status"] == status and self.menu_row(frm),
                                   timeout=timeout, what="menu of %s %s" % (frm, status))

    def test_01_retries_5xx_429_timeout_then_sends(self):
        for kind in ("500", "503", "429", "timeout", "reset"):
            frm = sender()
            self.graph.fail_next(kind, n=2)
            ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
            row = self.wait_status(frm, "sent")
            # curl itself retries a request once when a reused connection was reset.
            self.assertIn(row["attempts"], (2, 3) if kind == "reset" else (3,), kind)
            self.assertTrue(row["provider_id"].startswith("wamid."), kind)
            self.assertEqual(len(self.graph.messages(to=frm)), 1, kind)

    def test_02_refused_is_dead_at_once_and_staff_can_retry(self):
        frm = sender()
        self.graph.fail_next("400", n=1)
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        row = self.wait_status(frm, "dead")
        self.assertEqual(row["attempts"], 1)
        self.assertIn("HTTP 400", row["last_error"])
        p = self.d.cli("outbox", "list", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^%d\tdead\twhatsapp\tprompt\t" % row["id"])
        self.assertNotIn(frm, p.stdout, "the list must not show phone numbers")
        p = self.d.cli("outbox", "retry", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir, str(row["id"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_status(frm, "sent")
        p = self.d.cli("outbox", "retry", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir, str(row["id"]))
        self.assertNotEqual(p.returncode, 0, "a sent message cannot be retried")

    def test_03_dead_after_max_attempts(self):
        frm = sender()
        self.graph.set_mode("503")
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        row = self.wait_status(frm, "dead")
        self.graph.set_mode(None)
        self.assertEqual(row["attempts"], 4)
        posts = [r for r in self.graph.requests if r["kind"] == "message" and r["json"]
                 and r["json"].get("to") == frm]
        self.assertEqual(len(posts), 4)
        gaps = [b["at"] - a["at"] for a, b in zip(posts, posts[1:])]
        self.assertTrue(all(g >= 0.04 for g in gaps), "retries must back off: %r" % gaps)
        m = re.search(r'(?m)^ventanilla_outbox_messages\{status="dead"\} (\d+)$', self.d.get("/metrics").text)
        self.assertTrue(m and int(m.group(1)) >= 1, "dead letters are visible in /metrics")

    def test_05_a_retry_is_not_overtaken(self):
        frm = sender()
        self.graph.fail_next("500", n=1)
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        ok(self, wa.post(self.d, wa.delivery([wa.list_reply(frm, "menu.status", "Consultar")]), wa.SECRET))
        sent = self.graph.wait_for(lambda: len(self.graph.messages(to=frm)) >= 2 and self.graph.messages(to=frm),
                                   what="both prompts")
        texts = self.graph.texts(to=frm)
        self.assertIn("¿Qué quiere hacer?", texts[0], "the menu, retried, still goes first: %r" % texts)
        self.assertIn("radicado", texts[1])
        self.assertEqual(len(sent), 2)

    def test_04_bad_token_is_retried_until_fixed(self):
        # An expired token is the operator's to renew: the queue waits for it
        # instead of turning every message into a dead letter.
        frm = sender()
        self.graph.fail_next("401", n=2)
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        row = self.wait_status(frm, "sent")
        self.assertEqual(row["attempts"], 3)

    def test_05_retry_after_is_honoured(self):
        # Meta's 429 says how long to wait; the backoff here is 100-400 ms,
        # so a retry 3 s later can only come from the Retry-After header.
        frm = sender()
        self.graph.retry_after = 3
        try:
            self.graph.fail_next("429", n=1)
            ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
            row = self.wait_status(frm, "sent")
        finally:
            self.graph.retry_after = fake_graph._RETRY_AFTER_DEFAULT
        self.assertEqual(row["attempts"], 2)
        posts = [r for r in self.graph.requests if r["kind"] == "message"
                 and (r.get("json") or {}).get("to") == frm]
        self.assertEqual([p["status"] for p in posts], [429, 200], self.graph.summary())
        waited = posts[1]["at"] - posts[0]["at"]
        print("\n  retried %.2f s after a 429 with Retry-After: 3" % waited)
        self.assertGreaterEqual(waited, 2.9, "the retry came before Retry-After")


class Window(H.DaemonCase):
    """The 24-hour customer-service window and approved templates."""

    @classmethod
    def setUpClass(cls):
        cls.graph = fake_graph.FakeGraph().start()
        cls.d = H.Daemon(wa.config(cls.graph, templates={"ack": {"name": "acuse_radicado", "language": "es_CO"}}),
                         name="wa-window")
        cls.d.start()
        cls.graph_plain = fake_graph.FakeGraph().start()
        cls.plain = H.Daemon(wa.config(cls.graph_plain), name="wa-notemplate")
        cls.plain.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.plain, cls.graph, cls.graph_plain)

    def test_01_outside_window_ack_is_a_template(self):
        frm = sender()
        old = int(time.time()) - 25 * 3600  # Meta re-delivers a conversation from yesterday
        rad = file_pqrsd(self, self.d, frm, ts=old)
        tpl = self.graph.wait_for(lambda: [m for m in self.graph.messages(to=frm) if m.get("type") == "template"],
                                  what="template ack")
        t = tpl[0]["template"]
        self.assertEqual((t["name"], t["language"]["code"]), ("acuse_radicado", "es_CO"))
        params = [p["text"] for p in t["components"][0]["parameters"]]
        self.assertEqual(params[0], rad)
        self.assertRegex(params[1], r"^\d\d/\d\d/\d{4}$")
        self.assertRegex(params[2], r"^[A-Z2-9]{10}$")
        self.assertEqual(self.d.track(rad, params[2]).status, 200, "the code in the template works")
        row = self.graph.wait_for(lambda: [r for r in self.d.query(
            "SELECT status, via_template, secret FROM outbox WHERE kind = 'ack' AND recipient = ?", (frm,))
            if r["status"] != "sending"], what="ack recorded")[0]
        self.assertEqual((row["status"], row["via_template"]), ("sent", "acuse_radicado"))
        self.assertEqual(row["secret"], params[2], "kept until Meta reports the message delivered")
        # No free-form message went out: menu prompts cannot be templated.
        self.assertEqual([m for m in self.graph.messages(to=frm) if m.get("type") != "template"], [])
        self.assertGreater(self.d.scalar("SELECT count(*) FROM outbox WHERE recipient = ? AND kind = 'prompt' "
                                         "AND status = 'undeliverable'", (frm,)), 0)

    def test_02_inside_window_is_free_form(self):
        frm = sender()
        rad = file_pqrsd(self, self.d, frm)
        doc = self.graph.wait_for(lambda: ack_of(self.graph, frm, rad), what="free-form ack")
        self.assertEqual(doc["type"], "text")

    def test_03_no_template_falls_back_to_email(self):
        frm = sender()
        old = int(time.time()) - 30 * 3600
        rad = file_pqrsd(self, self.plain, frm, ts=old, email="zenaida.q@correo-prueba.example.com")
        row = self.graph_plain.wait_for(lambda: self.plain.query(
            "SELECT o.* FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? AND o.kind = 'ack' "
            "AND o.channel = 'whatsapp' AND o.status = 'undeliverable'", (rad,)), what="undeliverable ack")[0]
        self.assertIn("24-hour", row["last_error"])
        mail = self.plain.query("SELECT o.* FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? "
                                "AND o.channel = 'email'", (rad,))
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail[0]["recipient"], "zenaida.q@correo-prueba.example.com")
        self.assertIn(rad, json.loads(mail[0]["body"])["text"])
        self.assertEqual(self.graph_plain.messages(to=frm), [])
        ev = self.plain.query("SELECT e.action FROM audit_events e JOIN items i ON i.id = e.item_id "
                              "WHERE i.radicado = ? AND e.action = 'whatsapp_sin_ventana'", (rad,))
        self.assertEqual(len(ev), 1)

    def test_04_meta_says_window_closed_131047(self):
        frm = sender()
        self.graph.fail_next("131047", n=1)
        rad = file_pqrsd(self, self.d, frm)  # the first send (the menu) meets 131047
        row = self.graph.wait_for(lambda: self.d.query(
            "SELECT status, last_error FROM outbox WHERE recipient = ? AND kind = 'prompt' ORDER BY id LIMIT 1",
            (frm,))[0]["status"] == "undeliverable" and True, what="menu undeliverable")
        self.assertTrue(row)
        self.graph.wait_for(lambda: ack_of(self.graph, frm, rad), what="later ack")

    def test_05_undeliverable_131026(self):
        frm = sender()
        self.graph.fail_next("131026", n=1)
        ok(self, wa.post(self.d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
        self.graph.wait_for(lambda: self.d.query(
            "SELECT 1 FROM outbox WHERE recipient = ? AND kind = 'prompt' AND status = 'undeliverable' "
            "AND last_error LIKE '%131026%'", (frm,)), what="131026 undeliverable")

    def test_06_failed_131047_after_sent_goes_again_as_template(self):
        frm = sender()
        rad = file_pqrsd(self, self.d, frm)
        doc = self.graph.wait_for(lambda: ack_of(self.graph, frm, rad), what="free-form ack")
        code = re.search(r"seguimiento: \*([A-Z2-9]{10})\*", doc["text"]["body"]).group(1)
        row = self.graph.wait_for(lambda: [r for r in self.d.query(
            "SELECT id, provider_id FROM outbox WHERE kind = 'ack' AND recipient = ? AND status = 'sent'",
            (frm,))], what="ack recorded")[0]
        # Meta accepted the text, then reports it failed: the window had closed.
        ok(self, wa.post(self.d, wa.delivery(statuses=[wa.status(row["provider_id"], "failed", frm,
                                                                 errors=[131047])]), wa.SECRET))
        tpl = self.graph.wait_for(lambda: [m for m in self.graph.messages(to=frm) if m.get("type") == "template"],
                                  what="template copy")
        params = [p["text"] for p in tpl[0]["template"]["components"][0]["parameters"]]
        self.assertEqual(params, [rad, params[1], code], "the copy carries the same tracking code")
        first = self.d.query("SELECT status, secret FROM outbox WHERE id = ?", (row["id"],))[0]
        self.assertEqual((first["status"], first["secret"]), ("superseded", None))
        p = self.d.cli("outbox", "list", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertNotRegex(p.stdout, r"(?m)^%d\t" % row["id"], "a superseded message needs no staff")


class Crash(H.DaemonCase):
    """SIGKILL between the commit and the send: the acknowledgement still goes."""

    def test_01_sigkill_between_commit_and_send(self):
        graph = fake_graph.FakeGraph(hold_seconds=60).start()
        d = H.Daemon(wa.config(graph, outbox={"timeout_ms": 30000}), name="wa-crash")
        try:
            d.start()
            frm = sender()
            graph.set_mode("timeout")  # from now on Meta holds every send without answering
            rad = file_pqrsd(self, d, frm)
            graph.wait_for(lambda: graph.held > 0, what="a send in flight")
            row = d.query("SELECT status FROM outbox WHERE kind = 'ack' AND recipient = ?", (frm,))[0]
            self.assertIn(row["status"], ("pending", "sending"))
            d.kill()  # SIGKILL: committed, not sent
            self.assertEqual(ack_of(graph, frm, rad), None)
            graph.set_mode(None)
            d.start()
            doc = graph.wait_for(lambda: ack_of(graph, frm, rad), timeout=30, what="ack after restart")
            self.assertIn(rad, doc["text"]["body"])
            code = re.search(r"seguimiento: \*([A-Z2-9]{10})\*", doc["text"]["body"]).group(1)
            self.assertEqual(d.track(rad, code).status, 200)
            self.assertTrue(any("outbox_recovered" in l for l in d.lines))
            H.outbox_settled(d, frm)  # the recovered row was sent once, nothing else is left
            acks = [m for m in graph.messages(to=frm) if rad in json.dumps(m, ensure_ascii=False)]
            self.assertEqual(len(acks), 1)
        finally:
            d.cleanup()
            graph.stop()

    def test_02_sigterm_while_the_provider_hangs(self):
        # The send would hang for 300 s (the longest outbox.timeout_ms); a stop
        # within H.WAIT (60 s) shows the daemon does not wait it out, without
        # measuring how fast this machine is.
        graph = fake_graph.FakeGraph(hold_seconds=600).start()
        d = H.Daemon(wa.config(graph, outbox={"timeout_ms": 300000}), name="wa-term")
        try:
            d.start()
            frm = sender()
            graph.set_mode("timeout")
            ok(self, wa.post(d, wa.delivery([wa.text(frm, "hola")]), wa.SECRET))
            graph.wait_for(lambda: graph.held > 0, what="a send in flight")
            d.stop(timeout=H.WAIT)  # exits cleanly without waiting out the send
            graph.set_mode(None)
            d.start()
            graph.wait_for(lambda: graph.messages(to=frm), what="menu after restart")
        finally:
            d.cleanup()
            graph.stop()

    @unittest.skipUnless(H.BACKEND == "postgresql", "two instances share a database only on PostgreSQL")
    def test_03_another_instance_sends_what_a_dead_one_claimed(self):
        # Instance A claims a message and dies while Meta holds the send;
        # instance B, on the same database, sends it once A's lease
        # (2 x batch x timeout_ms: 16 s here) has run out, and then the rest.
        graph = fake_graph.FakeGraph(hold_seconds=60).start()
        conf = wa.config(graph, outbox={"timeout_ms": 8000, "batch": 1})
        a = H.Daemon(conf, name="wa-lease-a")
        b = None
        try:
            a.start()
            frm = sender()
            graph.set_mode("timeout")
            rad = file_pqrsd(self, a, frm)
            graph.wait_for(lambda: graph.held > 0, what="a send in flight")
            (held,) = a.query("SELECT id, claimed_by FROM outbox WHERE recipient = ? AND status = 'sending'",
                              (frm,))
            self.assertIn(os.path.basename(a.dir), held["claimed_by"])
            a.kill()  # the claim stays, its lease running
            graph.set_mode(None)
            b = H.Daemon(conf, name="wa-lease-b", share=a)  # a second instance on a's database
            b.start()
            doc = graph.wait_for(lambda: ack_of(graph, frm, rad), timeout=H.WAIT, what="ack sent by B")
            self.assertIn(rad, doc["text"]["body"])
            (row,) = b.query("SELECT status, claimed_by FROM outbox WHERE id = ?", (held["id"],))
            self.assertEqual(row["status"], "sent")
            self.assertIn(os.path.basename(b.dir), row["claimed_by"])
            self.assertTrue(any("outbox_recovered" in l and "stopped answering" in l for l in b.lines))
            H.outbox_settled(b, frm)
            acks = [m for m in graph.messages(to=frm) if rad in json.dumps(m, ensure_ascii=False)]
            self.assertEqual(len(acks), 1)
        finally:
            H.release(b, a, graph)

if __name__ == "__main__":
    H.main()
