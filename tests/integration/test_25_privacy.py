"""Privacy and truthfulness of answers (issue 12, points 1 and 2), against the
real daemon:

- An identified citizen's answer is never published: with the email channel
  off, answering a citizen who asked for email neither publishes it on
  /respuestas nor says it was sent; GET /api/v1/items/R/delivery tells staff
  beforehand how it can reach them (the channel is off; a printed letter)
  and the respond action refuses a way their data or the running channels
  do not allow (publication included). The letter is printable (HTML, for
  those who may see the requester only) and its hand delivery is recorded
  and audited. An anonymous answer is still published.
- "En cola" only when an outbox row was committed: the action's "result"
  names the rows, and they are in the database.
- A denunciante stays protected: once an item was a denuncia, or its
  requester asked for reserve (JSON or the web form's checkbox), the
  requester is shown only to staff.denuncia_identity_roles whatever it is
  reclassified to: in the action's answer, the item, the queue, the search,
  the live feed, the delivery options and the letter. A coordinador still
  sees it. The migration marks items that were denuncias before it existed.
- The staff UI (headless Chromium) shows how the answer will travel before it
  is sent, and afterwards says only what happened.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_25_privacy.py
"""
import asyncio
import functools
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import cdp  # noqa: E402
import mailservers  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
FAST_LOGINS = {"login_per_minute": 10000}
ENTITY_MAIL = "atencion@entidad-prueba.example.gov.co"
PROTO = "ventanilla-live"


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


def named(p=None, **extra):
    """A requester who gave name and ID (and whatever extra says)."""
    p = p or H.person()
    req = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"]}
    req.update(extra)
    return req


def consulta(d, rad, code):
    """POST /consulta (the tracking code never in a URL)."""
    body = urllib.parse.urlencode({"radicado": rad, "codigo": code})
    return d.request("POST", "/consulta", body, {"Content-Type": "application/x-www-form-urlencoded"})


class Base(H.DaemonCase):
    """One daemon; ag (agente) and co (coordinador) of the triage office, ge (gerente)."""
    name = "privacy"
    extra_cfg = {}

    @classmethod
    def config(cls):
        return H.deep_merge({"staff": dict(FAST_LOGINS)}, cls.extra_cfg)

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(cls.config(), name=cls.name)
        for name, role, dep in [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE), ("ge", "gerente", None)]:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n in ("ag", "co", "ge")}

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def file(self, **over):
        return S.file_item(self, self.d, **over)

    def ok(self, resp, what=""):
        self.assertEqual(resp.status, 200, "%s: %r" % (what, resp))
        return resp.json()

    def outbox_rows(self, rad=None):
        if rad is None:
            return self.d.query("SELECT * FROM outbox ORDER BY id")
        return self.d.query("SELECT o.* FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? "
                            "ORDER BY o.id", (rad,))

    def responses(self, rad):
        return self.d.query("SELECT r.* FROM responses r JOIN items i ON i.id = r.item_id WHERE i.radicado = ? "
                            "ORDER BY r.id", (rad,))

    def events(self, rad, action):
        return [dict(e, payload=json.loads(e["payload"])) for e in self.d.query(
            "SELECT e.* FROM audit_events e JOIN items i ON i.id = e.item_id WHERE i.radicado = ? AND e.action = ? "
            "ORDER BY e.id", (rad, action))]

    def delivery(self, who, rad):
        r = self.s[who].get("/api/v1/items/%s/delivery" % rad)
        self.assertEqual(r.status, 200, "GET delivery as %s: %r" % (who, r))
        doc = r.json()
        return doc, {o["delivery"]: o for o in doc["options"]}


class AuditAtEnd:
    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class NoChannels(AuditAtEnd, Base):
    """Neither email nor WhatsApp runs here (the reported setup)."""
    name = "privacy-off"

    def test_01_identified_answer_with_email_off_is_not_published(self):
        p = H.person()
        doc = self.file(requester=named(p, email=p["email"]), subject="Copia del contrato de alumbrado")
        rad, code = doc["radicado"], doc["tracking_code"]
        co = self.s["co"]
        self.assertEqual(co.item(rad)["reply_channel"], "email")
        outbox_before = len(self.outbox_rows())
        text = "Respuesta de fondo %d: el contrato de alumbrado es el 45 de 2026." % H.unique()
        r = co.act(rad, "respond", text=text)
        # The answer is recorded, but not published and not said to be sent.
        doc = self.ok(r, "respond")
        page = self.d.get("/respuestas")
        self.assertEqual(page.status, 200)
        self.assertNotIn(rad, page.text, "a named citizen's answer is on the public answers page")
        self.assertNotIn(text, page.text)
        self.assertIs(doc["responses"][-1]["published"], False)
        self.assertIn("result", doc, "the action does not say what happened to the answer")
        res = doc["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("letter_pending", "carta", []),
                         "email is off: the answer waits as a letter, it is neither published nor queued")
        self.assertNotIn("cola", res["message"])
        self.assertEqual(doc["responses"][-1]["delivery"]["status"], "pendiente_entrega")
        self.assertEqual([(x["channel"], x["published"], x["outbox_id"]) for x in self.responses(rad)],
                         [("carta", 0, None)])
        self.assertEqual(len(self.outbox_rows()), outbox_before, "nothing queued")
        stranger = consulta(self.d, rad, "ZZZZZZZZZZ")
        self.assertNotIn(text, stranger.text, "the status page shows the answer without the tracking code")
        own = consulta(self.d, rad, code)
        self.assertEqual(own.status, 200)
        self.assertIn(text, own.text, "the citizen reads their own answer with their code")
        ev = self.events(rad, "respondido")[-1]
        self.assertEqual((ev["payload"]["channel"], ev["payload"]["requested"], ev["payload"]["published"],
                          ev["payload"]["outbox_ids"]), ("carta", "email", False, []))
        self.assertNotIn(p["email"], json.dumps(ev["payload"]), "no address in the audit trail")

    def test_02_delivery_options_before_sending(self):
        p = H.person()
        rad = self.file(requester=named(p, email=p["email"], phone=p["phone"], address="Calle 13 # 4-56",
                                        municipality="Fontibón"))["radicado"]
        doc, opts = self.delivery("co", rad)
        self.assertEqual((doc["requested"], doc["default"], doc["identity_visible"]), ("email", "carta", True))
        self.assertIs(opts["email"]["available"], False)
        self.assertIs(opts["email"]["requested"], True)
        self.assertIn("no está activo", opts["email"]["explanation"])
        self.assertIs(opts["whatsapp"]["available"], False)
        self.assertIn("no está activo", opts["whatsapp"]["explanation"])
        self.assertIs(opts["carta"]["available"], True)
        self.assertEqual(opts["carta"]["address"], "Calle 13 # 4-56, Fontibón")
        self.assertIs(opts["publicacion"]["available"], False)
        self.assertIn("se identificó", opts["publicacion"]["explanation"])
        self.assertIn("no está activo", doc["summary"])
        for o in doc["options"]:
            self.assertNotIn(p["email"], o["explanation"], "explanations carry no personal data")
            self.assertTrue(o["label"] and o["explanation"], o)
        # The respond action refuses what those options refuse, storing nothing.
        co = self.s["co"]
        for way in ("email", "whatsapp", "publicacion", "consulta", "paloma"):
            with self.subTest(delivery=way):
                e = err(self, co.act(rad, "respond", text="Respuesta", delivery=way), 422, "invalid", "delivery")
                self.assertTrue(e["message"])
        self.assertEqual(self.responses(rad), [])
        self.assertEqual(co.item(rad)["status"], "radicado")
        self.assertEqual(self.events(rad, "respondido"), [])
        # Unknown item, or a type error: the usual answers.
        err(self, co.get("/api/v1/items/2099-999999/delivery"), 404, "not_found")
        err(self, co.act(rad, "respond", text="Respuesta", delivery=7), 422, "invalid", "delivery")

    def test_03_named_requester_never_published_even_if_asked(self):
        """A citizen who gave only a name (no address) reads the answer on
        their status page; it is not published, even when staff ask."""
        doc = self.file(requester=named())
        rad, code = doc["radicado"], doc["tracking_code"]
        d, opts = self.delivery("ag", rad)
        self.assertEqual((d["requested"], d["default"]), ("consulta", "consulta"))
        self.assertIs(opts["publicacion"]["available"], False)
        ag = self.s["ag"]
        err(self, ag.act(rad, "respond", text="Respuesta", delivery="publicacion"), 422, "invalid", "delivery")
        text = "Respuesta %d para quien dio su nombre." % H.unique()
        res = self.ok(ag.act(rad, "respond", text=text))["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("status_page", "consulta", []))
        self.assertNotIn(text, self.d.get("/respuestas").text)
        self.assertIn(text, consulta(self.d, rad, code).text)
        self.assertEqual([(x["channel"], x["published"]) for x in self.responses(rad)], [("consulta", 0)])

    def test_04_older_published_answers_of_named_requesters_leave_the_public_page(self):
        """Answers published by the old rule (a named requester whose channel
        was off) no longer show on /respuestas."""
        rad = self.file(requester=named())["radicado"]
        text = "Respuesta antigua publicada %d" % H.unique()
        self.ok(self.s["co"].act(rad, "respond", text=text))
        self.d.execute("UPDATE responses SET channel = 'publicacion', published = 1 WHERE item_id = "
                       "(SELECT id FROM items WHERE radicado = ?)", (rad,))
        self.assertNotIn(text, self.d.get("/respuestas").text)

    def test_05_anonymous_answer_is_still_published(self):
        doc = self.file(requester=S.anonymous_requester(), type="denuncia", subject="Basuras en el caño")
        rad, code = doc["radicado"], doc["tracking_code"]
        d, opts = self.delivery("co", rad)
        self.assertEqual((d["requested"], d["default"]), ("publicacion", "publicacion"))
        self.assertIs(opts["carta"]["available"], False)
        before = len(self.outbox_rows())
        text = "Respuesta publicada %d: se programó la limpieza del caño." % H.unique()
        res = self.ok(self.s["co"].act(rad, "respond", text=text))["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("published", "publicacion", []))
        self.assertEqual([(x["channel"], x["published"]) for x in self.responses(rad)], [("publicacion", 1)])
        self.assertEqual(len(self.outbox_rows()), before)
        page = self.d.get("/respuestas").text
        self.assertIn(rad, page)
        self.assertIn(text, page)
        self.assertIn(text, consulta(self.d, rad, code).text)

    def test_06_letter_printed_and_its_hand_delivery_audited(self):
        p = H.person()
        rad = self.file(requester=named(p, address="Carrera 7 # 12-34", municipality="Usme",
                                        phone=p["phone"]), reply_channel="postal")["radicado"]
        co, ag = self.s["co"], self.s["ag"]
        d, opts = self.delivery("ag", rad)
        self.assertEqual((d["requested"], d["default"]), ("carta", "carta"))
        text = "Le informamos <b>que</b> el trámite terminó. %d" % H.unique()
        doc = self.ok(ag.act(rad, "respond", text=text,
                             attachments=[{"filename": "oficio.pdf", "content_base64": S.b64(H.minimal_pdf("x"))}]))
        res = doc["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("letter_pending", "carta", []))
        rid = res["response_id"]
        self.assertEqual(res["letter_url"], "/api/v1/items/%s/responses/%d/carta" % (rad, rid))
        self.assertIn("deliver_letter", doc["actions"])
        # The letter: the answer addressed to the requester, escaped, never cached.
        letter = co.get(res["letter_url"])
        self.assertEqual(letter.status, 200, letter)
        self.assertTrue(letter.header("content-type", "").startswith("text/html"), letter.headers)
        self.assertEqual(letter.header("cache-control"), "no-store")
        for needle in (p["name"], "Carrera 7 # 12-34", "Usme", rad, "Le informamos &lt;b&gt;que&lt;/b&gt;",
                       "oficio.pdf"):
            self.assertIn(needle, letter.text)
        self.assertNotIn("<b>que</b>", letter.text)
        # Other answers and items do not lend their letter.
        other = self.file(requester=named())["radicado"]
        err(self, co.get("/api/v1/items/%s/responses/%d/carta" % (other, rid)), 404, "not_found")
        err(self, co.get("/api/v1/items/%s/responses/%d/carta" % (rad, rid + 1000)), 404, "not_found")
        err(self, co.get("/api/v1/items/%s/responses/x/carta" % rad), 404, "not_found")
        self.assertEqual(self.d.get(res["letter_url"]).status, 401, "no session, no letter")
        # Delivered by post: recorded on the answer and in the audit trail.
        err(self, ag.act(rad, "deliver_letter", method="paloma"), 422, "invalid", "method")
        note = "Guía 4455 de la empresa de correo"
        doc = self.ok(ag.act(rad, "deliver_letter", method="correo_postal", note=note))
        self.assertEqual(doc["result"]["outcome"], "letter_delivered")
        row = self.responses(rad)[-1]
        self.assertIsNotNone(row["delivered_at"])
        self.assertEqual((row["delivery_method"], row["delivery_note"]), ("correo_postal", note))
        self.assertEqual(row["delivered_by"], self.d.scalar("SELECT id FROM users WHERE username = 'ag'"))
        ev = self.events(rad, "respuesta_entregada")
        self.assertEqual([(e["actor"], e["public"], e["payload"]) for e in ev],
                         [("staff:ag", 1, {"response_id": rid, "method": "correo_postal"})])
        r = doc["responses"][-1]["delivery"]
        self.assertEqual((r["status"], r["method"], r["delivered_by"], r["note"]),
                         ("entregada", "correo_postal", "ag", note))
        self.assertNotIn("deliver_letter", doc["actions"])
        err(self, ag.act(rad, "deliver_letter"), 409, "invalid_transition")
        self.assertIn("respuesta_entregada", [h["action"] for h in
                                              json.loads(json.dumps(co.item(rad)["timeline"]))])

    def test_07_notices_say_what_happened(self):
        """Other actions that tell the citizen something report it truthfully too."""
        p = H.person()
        co = self.s["co"]
        rad = self.file(requester=named(p, email=p["email"]))["radicado"]
        res = self.ok(co.act(rad, "request_completion", text="Falta la copia de la cédula"))["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("not_sent", "no_enviado", []))
        self.assertEqual(self.events(rad, "completar_solicitado")[-1]["payload"]["notified_by"], "no_enviado")
        rad = self.file(requester=named())["radicado"]
        res = self.ok(co.act(rad, "request_completion", text="Falta la copia de la cédula"))["result"]
        self.assertEqual((res["outcome"], res["delivery"]), ("status_page", "consulta"))
        res = self.ok(co.act(rad, "note", text="Sin aviso"))["result"]
        self.assertEqual((res["outcome"], res["delivery"], res["outbox_ids"]), ("none", None, []))


class EmailOn(AuditAtEnd, Base):
    """The email channel runs (a real SMTP server); WhatsApp does not."""
    name = "privacy-mail"

    @classmethod
    def config(cls):
        cls.smtp = mailservers.SmtpSink().start()
        return H.deep_merge(super().config(), {"channels": {"email": {
            "enabled": True, "mailboxes": [], "smtp_url": cls.smtp.url, "from": ENTITY_MAIL,
            "allow_plaintext_loopback": True}}})

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.smtp.stop()

    def test_10_en_cola_only_with_an_outbox_row(self):
        p = H.person()
        rad = self.file(requester=named(p, email=p["email"]))["radicado"]
        d, opts = self.delivery("co", rad)
        self.assertEqual((d["requested"], d["default"]), ("email", "email"))
        self.assertEqual(opts["email"]["address"], p["email"])
        text = "Respuesta por correo %d" % H.unique()
        doc = self.ok(self.s["co"].act(rad, "respond", text=text))
        res = doc["result"]
        self.assertEqual((res["outcome"], res["delivery"]), ("queued", "email"))
        self.assertTrue(res["outbox_ids"], res)
        self.assertIn("cola", res["message"])
        rows = {o["id"]: o for o in self.outbox_rows(rad)}
        for i in res["outbox_ids"]:
            self.assertIn(i, rows, "the result names an outbox row that is not in the database")
            self.assertEqual((rows[i]["channel"], rows[i]["kind"], rows[i]["recipient"]),
                             ("email", "respuesta", p["email"]))
        self.assertEqual(self.responses(rad)[-1]["outbox_id"], res["outbox_ids"][0])
        self.assertEqual(doc["responses"][-1]["delivery"]["outbox_id"], res["outbox_ids"][0])
        self.smtp.wait_for(lambda: self.smtp.messages(to=p["email"]), what="the answer by email")

    def test_11_another_channel_the_requester_gave(self):
        """Asked for WhatsApp (off here) but gave an email too: staff are
        offered the email, and it goes there when they choose it."""
        p = H.person()
        rad = self.file(requester=named(p, email=p["email"], phone=p["phone"]), reply_channel="whatsapp")["radicado"]
        d, opts = self.delivery("ag", rad)
        self.assertEqual((d["requested"], d["default"]), ("whatsapp", "carta"))
        self.assertIs(opts["whatsapp"]["available"], False)
        self.assertIs(opts["email"]["available"], True)
        self.assertIn("WhatsApp", d["summary"])
        res = self.ok(self.s["ag"].act(rad, "respond", text="Respuesta", delivery="email"))["result"]
        self.assertEqual((res["outcome"], res["delivery"]), ("queued", "email"))
        self.assertEqual([o["channel"] for o in self.outbox_rows(rad) if o["kind"] == "respuesta"], ["email"])

    def test_12_notice_queued_names_its_rows(self):
        p = H.person()
        rad = self.file(requester=named(p, email=p["email"]))["radicado"]
        res = self.ok(self.s["co"].act(rad, "request_completion", text="Falta la firma"))["result"]
        self.assertEqual((res["outcome"], res["delivery"]), ("queued", "email"))
        ids = {o["id"] for o in self.outbox_rows(rad) if o["kind"] == "completar"}
        self.assertEqual(set(res["outbox_ids"]), ids)
        self.assertTrue(ids)


class Identity(AuditAtEnd, Base):
    """staff.denuncia_identity_roles is the default, ["coordinador"]."""
    name = "privacy-id"

    def secrets_of(self, p, *extra):
        return [p["name"], p["id_number"], p["email"], p["phone"]] + list(extra)

    def assert_hidden(self, text, secrets, where):
        for sec in secrets:
            self.assertNotIn(sec, text, "%s shows the reserved requester (%s)" % (where, sec))

    def test_20_a_denuncia_reclassified_stays_reserved(self):
        p = H.person()
        addr = "Diagonal 45 sur # 9-87 %d" % H.unique()
        rad = self.file(type="denuncia", subject="Cobros indebidos en la ventanilla",
                        body="Un funcionario cobra por agilizar trámites.",
                        requester=named(p, email=p["email"], phone=p["phone"], address=addr))["radicado"]
        secrets = self.secrets_of(p, addr)
        ag, co, ge = self.s["ag"], self.s["co"], self.s["ge"]

        async def scenario():
            import websockets
            ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                          extra_headers={"Cookie": ag.cookie}, open_timeout=10, close_timeout=2,
                                          origin="http://127.0.0.1:%d" % self.d.port)
            try:
                await ws.send(json.dumps({"subscribe": ["staff", "metrics"]}))
                while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("topic") != "metrics":
                    pass
                r = ag.act(rad, "reclassify", type="queja")
                while True:
                    raw = await asyncio.wait_for(ws.recv(), 15)
                    doc = json.loads(raw)
                    if doc.get("topic") == "staff" and doc.get("item", {}).get("radicado") == rad:
                        return r, raw, doc
            finally:
                await ws.close()
        r, raw, ev = asyncio.run(scenario())
        # The action's own answer.
        doc = self.ok(r, "reclassify")
        self.assertEqual(doc["type"], "queja")
        self.assertEqual(doc["requester"], {"restricted": True}, "reclassified to queja, the agente sees the denunciante")
        self.assertIs(doc["identity_reserved"], True)
        self.assert_hidden(r.text, secrets, "the reclassify answer")
        self.assertEqual(ev["action"], "reclassify")
        self.assert_hidden(raw, secrets, "the live event")
        # The item view, the queue and its search, for the agente and the gerente.
        for who in ("ag", "ge"):
            with self.subTest(who=who):
                g = self.s[who].get("/api/v1/items/" + rad)
                self.assertEqual(g.json()["requester"], {"restricted": True})
                self.assert_hidden(g.text, secrets, "the item view")
                q = self.s[who].queue(per_page=100)
                self.assertIn(rad, q.text)
                self.assert_hidden(q.text, secrets, "the queue")
                sr = self.s[who].post("/api/v1/items/search", {"q": rad})
                self.assertEqual([i["radicado"] for i in sr.json()["items"]], [rad])
                self.assert_hidden(sr.text, secrets, "the search")
                dv = self.s[who].get("/api/v1/items/%s/delivery" % rad)
                self.assertIs(dv.json()["identity_visible"], False)
                self.assert_hidden(dv.text, secrets, "the delivery options")
        # Every other action's answer too, even after another reclassification.
        for action, fields in [("note", {"text": "Revisado"}), ("reclassify", {"type": "peticion"}),
                               ("assign", {"dependencia": TRIAGE})]:
            with self.subTest(action=action):
                a = ag.act(rad, action, **fields)
                self.assertEqual(a.status, 200, a)
                self.assertEqual(a.json()["requester"], {"restricted": True})
                self.assert_hidden(a.text, secrets, "the %s answer" % action)
        # The coordinador (in denuncia_identity_roles) still sees who it is.
        seen = co.item(rad)
        self.assertEqual((seen["requester"]["name"], seen["requester"]["address"]), (p["name"], addr))
        self.assertEqual(self.d.scalar("SELECT identity_reserved FROM items WHERE radicado = ?", (rad,)), 1)
        # Answered by letter: the agente gets no letter and no address.
        res = self.ok(ag.act(rad, "respond", text="Respuesta", delivery="carta"))
        self.assertNotIn("letter_url", res["result"])
        self.assertIsNone(res["responses"][-1]["delivery"]["letter_url"])
        self.assert_hidden(json.dumps(res, ensure_ascii=False), secrets, "the respond answer")
        letter = "/api/v1/items/%s/responses/%d/carta" % (rad, res["result"]["response_id"])
        err(self, ag.get(letter), 403, "forbidden")
        err(self, ge.get(letter), 403, "forbidden")
        got = co.get(letter)
        self.assertEqual(got.status, 200, got)
        self.assertIn(p["name"], got.text)
        # The note of the delivery may name who received it: not for the agente.
        self.ok(co.act(rad, "deliver_letter", note="Recibió %s en persona" % p["name"]))
        view = ag.get("/api/v1/items/" + rad)
        self.assertIsNone(view.json()["responses"][-1]["delivery"]["note"])
        self.assert_hidden(view.text, secrets, "the item view after delivery")

    def test_21_reserve_asked_at_filing_json(self):
        p = H.person()
        doc = self.file(type="peticion", requester=named(p, email=p["email"], identity_reserved=True))
        rad = doc["radicado"]
        for who in ("ag", "ge"):
            g = self.s[who].get("/api/v1/items/" + rad)
            self.assertEqual(g.json()["requester"], {"restricted": True}, who)
            self.assert_hidden(g.text, self.secrets_of(p), "the item view for %s" % who)
        seen = self.s["co"].item(rad)
        self.assertEqual(seen["requester"]["name"], p["name"])
        self.assertEqual((seen["identity_reserved"], seen["reserve_requested"]), (True, True))
        ev = self.events(rad, "radicado")[0]
        self.assertIs(ev["payload"].get("reserve_requested"), True)
        # Reclassified to anything, still reserved.
        a = self.s["ag"].act(rad, "reclassify", type="sugerencia")
        self.assertEqual(a.json()["requester"], {"restricted": True})
        # A requester who did not ask is not reserved; a wrong type is refused.
        rad2 = self.file(requester=named(identity_reserved=False))["radicado"]
        self.assertIn("name", self.s["ag"].item(rad2)["requester"])
        r = self.d.post_json(H.item_payload(requester=named(identity_reserved="si")))
        H.assert_error(self, r, 422, "wrong_type", field="requester.identity_reserved")

    def test_22_reserve_asked_on_the_web_form(self):
        page = self.d.get("/")
        self.assertIn('name="identity_reserved"', page.text)
        self.assertIn('<label for="identity_reserved">Solicito que mi identidad sea reservada</label>', page.text)
        p = H.person()
        f = H.form_fields(subject="Solicitud con reserva de identidad %d" % H.unique(), name=p["name"],
                          id_number=p["id_number"], email=p["email"], identity_reserved="si")
        r = self.d.post_form(f, path="/")
        self.assertIn(r.status, (200, 201), r)
        rad = self.d.scalar("SELECT i.radicado FROM items i JOIN requesters q ON q.item_id = i.id WHERE q.name = ?",
                            (p["name"],))
        self.assertIsNotNone(rad, "the form's item was not stored")
        self.assertEqual(self.d.scalar("SELECT reserve_requested FROM items WHERE radicado = ?", (rad,)), 1)
        g = self.s["ag"].get("/api/v1/items/" + rad)
        self.assertEqual(g.json()["requester"], {"restricted": True})
        self.assertNotIn(p["name"], g.text)

    def test_23_search_by_the_denunciante_reveals_nothing(self):
        """The queue's free text covers subject, body and radicado, never the
        requester: searching a denunciante's name or ID number finds nothing,
        for the agente as for the coordinador, so a result cannot tell whose
        item it is."""
        p = H.person()
        rad = self.file(type="denuncia", subject="Contrato amañado en obras",
                        body="El contrato de la vía se adjudicó sin licitación.",
                        requester=named(p, email=p["email"]))["radicado"]
        for who in ("ag", "co", "ge"):
            for q in (p["name"], p["id_number"], p["email"]):
                with self.subTest(who=who, q=q):
                    r = self.s[who].post("/api/v1/items/search", {"q": q})
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual((r.json()["items"], r.json()["total"]), ([], 0))
        r = self.s["ag"].post("/api/v1/items/search", {"q": "licitacion"})
        self.assertIn(rad, [i["radicado"] for i in r.json()["items"]])


class Backfill(H.DaemonCase):
    """Migration 0013 marks every item that ever was a denuncia: by its type,
    its original type, or only by the audit trail (peticion -> denuncia ->
    queja, where original_type says peticion)."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": dict(FAST_LOGINS)}, name="privacy-mig")
        S.add_user(cls.d, "co", "coordinador", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_30_backfill(self):
        co = Staff(self.d, "co")
        f = lambda **o: S.file_item(self, self.d, requester=named(), **o)["radicado"]  # noqa: E731
        den, was, via_trail, plain = f(type="denuncia"), f(type="denuncia"), f(), f()
        self.assertEqual(co.act(was, "reclassify", type="queja").status, 200)
        for t in ("denuncia", "queja"):
            self.assertEqual(co.act(via_trail, "reclassify", type=t).status, 200)
        self.d.stop()
        # Back to the schema before 0013, then migrate again.
        for col in ("identity_reserved", "reserve_requested"):
            self.d.execute("ALTER TABLE items DROP COLUMN %s" % col)
        for col in ("outbox_id", "delivered_at", "delivered_by", "delivery_method", "delivery_note"):
            self.d.execute("ALTER TABLE responses DROP COLUMN %s" % col)
        # ... and before every later one (the runner applies what is newer than
        # the newest recorded): 0014 made staff_sessions, 0015 the outbox's lease,
        # 0016 live_relay, 0017 attachment_blobs (empty: no item of this test has a
        # file), 0018 scheduled_runs, 0019 the classifier's column and tables.
        self.d.execute("DROP TABLE classifier_labels")
        self.d.execute("DROP TABLE classifier_models")
        self.d.execute("ALTER TABLE items DROP COLUMN classifier")
        self.d.execute("DROP TABLE staff_sessions")
        self.d.execute("DROP TABLE live_relay")
        self.d.execute("DROP TABLE scheduled_runs")
        for col in ("lease_until", "claimed_by"):
            self.d.execute("ALTER TABLE outbox DROP COLUMN %s" % col)
        self.d.execute("DROP TABLE attachment_blobs")
        self.d.execute("DELETE FROM schema_migrations WHERE version >= 13")
        self.d.migrate()
        got = {r["radicado"]: r["identity_reserved"] for r in self.d.query(
            "SELECT radicado, identity_reserved FROM items WHERE radicado IN (?, ?, ?, ?)", (den, was, via_trail, plain))}
        self.assertEqual(got, {den: 1, was: 1, via_trail: 1, plain: 0})
        self.assertEqual(self.d.scalar("SELECT original_type FROM items WHERE radicado = ?", (via_trail,)), "peticion")
        self.d.start()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# The staff UI

REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))


def js(s):
    return cdp.js_str(s)


def shot_on_failure(fn):
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except BaseException:
            try:
                path = os.path.join(ARTIFACTS, "privacy-fail-%s.png" % fn.__name__)
                self.b.screenshot(path)
                print("\n  failure screenshot: %s\n  browser: %s" % (path, self.b.report()))
            except Exception:  # noqa: BLE001 - the browser may be what failed
                pass
            raise
    return wrapper


@unittest.skipIf(not HAVE_BROWSER and not REQUIRE_BROWSER,
                 "no browser at %s (apt-get install chromium); set VT_REQUIRE_BROWSER=1 to fail instead"
                 % cdp.CHROMIUM)
class AnswerFormBrowser(AuditAtEnd, Base):
    """The answer form in headless Chromium, email off: before sending it
    says the citizen's email cannot be used and a letter is prepared; after,
    it says no message was sent (never "en cola"). (test_13 answers by email
    with the channel on, where "en cola de envío" names the queued message.)"""
    name = "privacy-ui"
    b = None

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        super().setUpClass()
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.b is not None:
                cls.b.close()
        finally:
            super().tearDownClass()

    def login(self):
        self.b.navigate("http://127.0.0.1:%d/staff" % self.d.port)
        self.b.wait_visible("#login-form", 15)
        self.b.type("#login-user", "co")
        self.b.type("#login-pass", S.PASSWORD)
        self.b.click("#login-submit")
        self.b.wait_for("!document.getElementById('whoami').hidden", 20, message="login")

    def open_respond(self, rad):
        self.b.evaluate("location.hash = %s" % js("#/solicitud/" + rad))
        self.b.wait_for("(function(){var v=document.getElementById('item-view');return !v.hidden&&"
                        "v.dataset.radicado===%s&&!!document.getElementById('action-respond');})()" % js(rad),
                        20, message="item %s" % rad)
        self.b.click("#action-respond > summary")
        self.b.wait_for("(document.getElementById('action-respond-delivery')||{dataset:{}}).dataset.loaded==='1'",
                        20, message="the delivery options")

    @shot_on_failure
    def test_40_answer_form_tells_the_truth(self):
        p = H.person()
        rad = self.file(requester=named(p, email=p["email"]), subject="Respuesta por la interfaz")["radicado"]
        self.login()
        self.open_respond(rad)
        # Before sending: the citizen's channel is off, the letter is chosen.
        summary = self.b.text("#action-respond-delivery-summary")
        self.assertIn("Correo electrónico", summary)
        self.assertIn("no está activo", summary)
        self.assertIs(self.b.evaluate("document.getElementById('action-respond-delivery-email').disabled"), True)
        self.assertIs(self.b.evaluate("document.getElementById('action-respond-delivery-publicacion').disabled"), True)
        self.assertIs(self.b.evaluate("document.getElementById('action-respond-delivery-carta').checked"), True)
        how = self.b.text("#action-respond-how")
        self.assertIn("Carta impresa", how)
        self.assertIn("pendiente", how)
        self.assertNotIn("cola", self.b.text("#action-respond-submit").lower())
        self.b.type("#action-respond-text", "Buenos días. Le respondemos por carta.")
        print("\n  answer form screenshot: %s" % self.b.screenshot(os.path.join(ARTIFACTS, "privacy-answer-form.png")))
        self.b.click("#action-respond-submit")
        self.b.wait_for("!!document.getElementById('action-result') || "
                        "!!(document.getElementById('action-respond-error')||{}).textContent", 20,
                        message="the answer recorded")
        self.assertEqual(self.b.evaluate("(document.getElementById('action-respond-error')||{}).textContent||''"), "")
        result = self.b.text("#action-result")
        self.assertNotIn("cola", result, "the UI says the answer is queued although nothing was")
        self.assertIn("No se envió ningún mensaje", result)
        self.assertEqual(self.b.evaluate("document.getElementById('action-result').dataset.outcome"), "letter_pending")
        self.assertTrue(self.b.exists("#action-result-letter"))
        self.assertTrue(self.b.exists("#item-responses li[data-delivery=carta] a.letter-link"))
        print("  answered screenshot: %s" % self.b.screenshot(os.path.join(ARTIFACTS, "privacy-answered.png")))
        self.assertEqual(self.outbox_rows(rad), [])
        self.assertNotIn(rad, self.d.get("/respuestas").text)
        # The letter is marked delivered through its own form.
        self.b.click("#action-deliver_letter > summary")
        self.b.select("#action-deliver_letter-method", "entrega_personal")
        self.b.click("#action-deliver_letter-submit")
        self.b.wait_for("(document.querySelector('#item-responses li[data-delivery=carta]')||{dataset:{}})"
                        ".dataset.deliveryStatus==='entregada'", 20, message="the letter delivered")
        self.assertEqual(len(self.events(rad, "respuesta_entregada")), 1)
        # An anonymous citizen's answer says it is published, not sent.
        anon = self.file(requester=S.anonymous_requester())["radicado"]
        self.open_respond(anon)
        self.assertIs(self.b.evaluate("document.getElementById('action-respond-delivery-publicacion').checked"), True)
        self.b.type("#action-respond-text", "Respuesta publicada desde la interfaz.")
        self.b.click("#action-respond-submit")
        self.b.wait_for("(document.getElementById('action-result')||{dataset:{}}).dataset.outcome==='published'", 20,
                        message="the anonymous answer published")
        self.assertIn("publicada", self.b.text("#action-result"))
        self.assertNotIn("cola", self.b.text("#action-result"))
        self.assertEqual(self.b.exceptions, [], self.b.report())
        self.assertEqual(self.b.csp_violations, [], self.b.report())
        self.assertEqual(self.b.console_errors(), [], self.b.report())


if __name__ == "__main__":
    H.main()
