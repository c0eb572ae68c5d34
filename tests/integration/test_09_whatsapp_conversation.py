"""The WhatsApp conversation end to end, as a citizen on the chat and staff on
the database would notice it: the main menu, filing a PQRSD (named and
anonymous, every type of petición), menú / cancelar at any step, checking the
status of an item, adding a message to an open item, every inbound message
type, media becoming attachments, a restart mid-flow and the stakeholder
classification of WhatsApp items.

A FakeGraph (fake_graph.py) stands in for Meta's Graph API; webhook
deliveries are signed with wa.SECRET and built with wa.py.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 \\
        tests/integration/test_09_whatsapp_conversation.py
"""
import datetime
import hashlib
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import legal_calendar as LC  # noqa: E402
import wa  # noqa: E402
from fake_graph import FakeGraph, human_text  # noqa: E402

MAIN_MENU_IDS = ["menu.pqrsd", "menu.status", "menu.hearing", "menu.survey"]
TYPE_IDS = ["type.peticion", "type.peticion.documentos", "type.peticion.consulta", "type.queja",
            "type.reclamo", "type.sugerencia", "type.denuncia", "type.felicitacion"]

RADICADO_IN_ACK = re.compile(r"Radicado: \*([^*\s]+)\*")
CODE_IN_ACK = re.compile(r"C\u00f3digo de seguimiento: \*([23456789A-HJKMNP-Z]{10})\*")
DUE_IN_ACK = re.compile(r"Fecha l\u00edmite de respuesta: (\d{2}/\d{2}/\d{4})")

_numbers = set()


def new_number():
    """A distinct WhatsApp number (wa_id) per conversation: 57300 + 7 digits."""
    while True:
        n = "57300%07d" % (((os.getpid() % 10000) * 1000 + H.unique()) % 10 ** 7)
        if n not in _numbers:
            _numbers.add(n)
            return n


def es_date(iso):
    """"2026-01-31" -> "31/01/2026"."""
    return "%s/%s/%s" % (iso[8:10], iso[5:7], iso[0:4])


def iso_received(ms):
    """items.received_at (Unix ms) as the ISO 8601 Bogotá time the API prints."""
    t = datetime.datetime.fromtimestamp(ms // 1000, H.BOGOTA)
    return t.strftime("%Y-%m-%dT%H:%M:%S-05:00")


def kind_of(doc):
    """'text', 'buttons', 'list' or the message type."""
    if doc.get("type") == "interactive":
        return {"button": "buttons", "list": "list"}.get(doc["interactive"].get("type"), "interactive")
    return doc.get("type", "text")


def button_ids(doc):
    if kind_of(doc) != "buttons":
        return []
    return [b["reply"]["id"] for b in doc["interactive"]["action"]["buttons"]]


def row_ids(doc):
    if kind_of(doc) != "list":
        return []
    return [r["id"] for s in doc["interactive"]["action"]["sections"] for r in s["rows"]]


def describe(docs):
    return json.dumps([{"kind": kind_of(d), "text": human_text(d)[:160],
                        "ids": button_ids(d) or row_ids(d)} for d in docs], ensure_ascii=False, indent=1)


class Chat:
    """One citizen's WhatsApp number talking to the daemon."""

    def __init__(self, tc, number=None, name=wa.DEFAULT_NAME):
        self.tc = tc
        self.num = number or new_number()
        self.name = name
        self.wamids = []  # inbound messages that must be marked as read

    @property
    def d(self):
        return self.tc.d

    @property
    def g(self):
        return self.tc.graph

    def sent(self):
        """Every message the daemon sent to this number, in order."""
        return self.g.messages(to=self.num)

    def post(self, *msgs):
        r = wa.post(self.d, wa.delivery(list(msgs), name=self.name), wa.SECRET)
        self.tc.assertEqual(r.status, 200, "webhook delivery refused: %r" % r)
        return r

    def send(self, msg, replies=1, want=None, timeout=H.WAIT):
        """Delivers msg and waits for `replies` new messages to this number
        (and want(new) when given) and for msg's mark-as-read; returns the new
        messages."""
        before = len(self.sent())
        self.post(msg)
        if msg["type"] != "reaction":
            self.wamids.append(msg["id"])

        def ready():
            new = self.sent()[before:]
            if len(new) < replies:
                return None
            if want is not None and not want(new):
                return None
            if msg["type"] != "reaction" and msg["id"] not in self.g.reads():
                return None
            return (new,)

        return self.g.wait_for(ready, timeout=timeout,
                               what="%d repl(y/ies) to %s %r from %s" % (replies, msg["type"],
                                                                       msg.get(msg["type"]), self.num))[0]

    def last(self, msg, **kw):
        new = self.send(msg, **kw)
        return new[-1]

    # shorthands, each returning the last reply
    def text(self, body, **kw):
        return self.last(wa.text(self.num, body), **kw)

    def tap(self, id_, title=None, **kw):
        return self.last(wa.button_reply(self.num, id_, (title or id_)[:20]), **kw)

    def pick(self, id_, title=None, **kw):
        return self.last(wa.list_reply(self.num, id_, (title or id_)[:24]), **kw)


class WhatsAppConversation(H.DaemonCase):
    d = None
    graph = None

    @classmethod
    def setUpClass(cls):
        cls.graph = FakeGraph().start()
        cls.graph.hold_seconds = 3  # a "timeout" fault outlasts the daemon's 2 s timeout
        cls.d = H.Daemon(config=H.deep_merge(wa.config(cls.graph), {"entity": {"name": "Alcaldía de Prueba"}}),
                         name="wa-conv")
        # The registry knows test 10's number (as a national number: the
        # daemon normalizes +57...).
        cls.org_number = new_number()
        path = os.path.join(cls.d.dir, "partes_interesadas.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("email,phone,id_number,group,name\n,%s,,organizaciones_sociales,Junta de Acción Comunal\n"
                    % cls.org_number[2:])
        cls.import_result = cls.d.cli("contacts", "import", "--config", cls.d.cfg_path,
                                      "--data-dir", cls.d.data_dir, path)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def tearDown(self):
        # Whatever a test did, every body the daemon sent was valid for the
        # Cloud API and nothing died in the outbox.
        bad = [r for r in self.graph.requests if r["kind"] in ("message", "read") and r["status"] not in (200, None)]
        self.assertEqual(bad, [], "the fake Graph API refused message bodies:\n%s" % self.graph.summary())
        dead = self.d.query("SELECT id, kind, recipient, last_error FROM outbox WHERE status IN ('dead', 'failed')")
        self.assertEqual(dead, [], "outbox rows dead or failed")

    # ------------------------------------------------------------------ helpers

    def item(self, radicado):
        rows = self.d.query("SELECT * FROM items WHERE radicado = ?", (radicado,))
        self.assertEqual(len(rows), 1, "no single items row for %s" % radicado)
        return rows[0]

    def requester(self, item_id):
        rows = self.d.query("SELECT * FROM requesters WHERE item_id = ?", (item_id,))
        self.assertEqual(len(rows), 1)
        return rows[0]

    def start_menu(self, chat, first=True):
        m = chat.text("Hola, buenos días" if first else "menú")
        self.assertEqual(kind_of(m), "list", describe([m]))
        self.assertEqual(row_ids(m), MAIN_MENU_IDS)
        return m

    def to_description(self, chat, type_id="type.queja"):
        self.start_menu(chat)
        m = chat.pick("menu.pqrsd", "Radicar una PQRSD")
        self.assertEqual(kind_of(m), "list", describe([m]))
        self.assertEqual(row_ids(m), TYPE_IDS)
        m = chat.pick(type_id)
        self.assertEqual(kind_of(m), "text", describe([m]))
        self.assertIn("Escriba su", human_text(m))
        return m

    def to_attachments(self, chat, description, type_id="type.queja"):
        self.to_description(chat, type_id)
        m = chat.text(description)
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"], describe([m]))
        return m

    def ack_of(self, m):
        """(radicado, code, due dd/mm/yyyy or None, text) of an acknowledgement."""
        t = human_text(m)
        rad = RADICADO_IN_ACK.search(t)
        code = CODE_IN_ACK.search(t)
        self.assertTrue(rad and code, "not an acknowledgement with radicado and code: %r" % t)
        self.assertRegex(rad.group(1), H.RADICADO_RE)
        due = DUE_IN_ACK.search(t)
        return rad.group(1), code.group(1), due.group(1) if due else None, t

    def finish_anonymous(self, chat, consent=False):
        m = chat.tap("att.done", "Continuar")
        self.assertEqual(button_ids(m), ["id.named", "id.anon", "flow.cancel"], describe([m]))
        m = chat.tap("id.anon", "Anónima")
        self.assertEqual(button_ids(m), ["consent.yes", "consent.no", "flow.cancel"], describe([m]))
        self.assertIn("Ley 1581", human_text(m))
        m = chat.tap("consent.yes" if consent else "consent.no")
        return self.ack_of(m)

    def file_anonymous(self, chat, description, type_id="type.queja", consent=False):
        self.to_attachments(chat, description, type_id)
        return self.finish_anonymous(chat, consent)

    def wait_outbox_sent(self, item_id, kind="ack", timeout=H.WAIT):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.d.query("SELECT * FROM outbox WHERE item_id = ? AND kind = ?", (item_id, kind))
            if rows and all(r["status"] in ("sent", "delivered", "read") for r in rows):
                return rows
            if time.monotonic() > deadline:
                self.fail("outbox %s rows of item %s not sent: %r" % (kind, item_id, rows))
            time.sleep(0.05)

    def assert_all_read(self, chat):
        want = set(chat.wamids)
        self.graph.wait_for(lambda: want <= set(self.graph.reads()), timeout=H.WAIT,
                            what="mark-as-read of every inbound message of %s" % chat.num)

    # ------------------------------------------------------------------ tests

    def test_01_full_named_conversation(self):
        chat = Chat(self)
        first = self.start_menu(chat)
        self.assertIn("Alcaldía de Prueba", human_text(first), "the welcome names the entity")
        m = chat.pick("menu.pqrsd", "Radicar una PQRSD")
        self.assertEqual(row_ids(m), TYPE_IDS, describe([m]))
        m = chat.pick("type.queja", "Queja")
        self.assertIn("queja", human_text(m))
        desc = "El funcionario de la ventanilla 3 no me atendió el martes %d en la mañana." % H.unique()
        m = chat.text(desc)
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"], describe([m]))
        m = chat.tap("att.done", "Continuar")
        self.assertEqual(button_ids(m), ["id.named", "id.anon", "flow.cancel"], describe([m]))
        m = chat.tap("id.named", "Con mis datos")
        self.assertIn("nombre", human_text(m).lower())
        p = H.person()
        m = chat.text(p["name"])
        self.assertIn("CC 1020304050", human_text(m))
        m = chat.text("CC 1020304050")
        self.assertEqual(button_ids(m), ["email.skip"], describe([m]))
        m = chat.text(p["email"])
        self.assertEqual(button_ids(m), ["consent.yes", "consent.no", "flow.cancel"], describe([m]))
        notice = human_text(m)
        self.assertIn("Ley 1581", notice)
        self.assertIn("Alcaldía de Prueba", notice)
        m = chat.tap("consent.yes", "Sí, autorizo")
        self.assertEqual(kind_of(m), "text")
        rad, code, due_es, text = self.ack_of(m)
        self.assertNotIn("{codigo}", text)

        row = self.item(rad)
        self.assertEqual(row["kind"], "pqrsd")
        self.assertEqual(row["channel"], "whatsapp")
        self.assertEqual(row["type"], "queja")
        self.assertIsNone(row["petition_class"])
        self.assertEqual(row["reply_channel"], "whatsapp")
        self.assertEqual(row["status"], "radicado")
        self.assertEqual(row["body"], desc)
        self.assertTrue(row["subject"].strip(), row)
        self.assertEqual(row["term_days"], 15)
        self.assertEqual(row["due_date"], LC.due_date(iso_received(row["received_at"]), "queja"))
        self.assertEqual(due_es, es_date(row["due_date"]), text)
        rq = self.requester(row["id"])
        self.assertEqual(rq["person_type"], "natural")
        self.assertEqual(rq["phone"], "+" + chat.num)
        self.assertEqual(rq["name"], p["name"])
        self.assertEqual(rq["id_type"], "CC")
        self.assertEqual(rq["id_number"], "1020304050")
        self.assertEqual(rq["email"], p["email"])
        self.assertEqual(rq["data_consent"], 1)

        # the code in the chat is the item's tracking code
        r = self.d.track(rad, code)
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual((t["radicado"], t["status"], t["type"], t["due_date"]),
                         (rad, "radicado", "queja", row["due_date"]))
        self.assertEqual(self.d.track(rad, "ZZZZZZZZZZ").status, 404)

        # the ack's outbox row: sent, with Meta's id; the code is kept beside the
        # text (never in it) until Meta says the phone has the message
        (ob,) = self.wait_outbox_sent(row["id"])
        self.assertEqual(ob["channel"], "whatsapp")
        self.assertEqual(ob["recipient"], chat.num)
        self.assertTrue(ob["provider_id"], ob)
        self.assertIn(ob["provider_id"], self.graph.sent_ids(to=chat.num))
        self.assertNotIn(code, ob["body"] + (ob["params"] or "") + (ob["fallback"] or ""),
                         "the code is stored in clear in the outbox")
        self.assertEqual(ob["secret"], code)
        r = wa.post(self.d, wa.delivery(statuses=[wa.status(ob["provider_id"], "delivered", chat.num)]),
                    wa.SECRET)
        self.assertEqual(r.status, 200)
        ob = self.d.query("SELECT status, secret FROM outbox WHERE id = ?", (ob["id"],))[0]
        self.assertEqual((ob["status"], ob["secret"]), ("delivered", None),
                         "the tracking code must be erased once delivered")

        # every inbound message was recorded and marked as read
        self.assert_all_read(chat)
        n = self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (chat.num,))
        self.assertEqual(n, len(chat.wamids))
        conv = self.d.query("SELECT state, draft FROM wa_conversations WHERE wa_id = ?", (chat.num,))
        self.assertEqual(conv[0]["state"], "idle")
        self.assertNotIn(desc, conv[0]["draft"], "the draft is cleared once filed")

    def test_02_anonymous_without_consent(self):
        chat = Chat(self)
        desc = "Denuncio cobros irregulares en el trámite de licencias, caso %d." % H.unique()
        rad, code, due_es, _ = self.file_anonymous(chat, desc, "type.denuncia", consent=False)
        row = self.item(rad)
        self.assertEqual(row["type"], "denuncia")
        self.assertEqual(row["body"], desc)
        self.assertEqual(row["channel"], "whatsapp")
        self.assertEqual(due_es, es_date(row["due_date"]))
        rq = self.requester(row["id"])
        self.assertEqual(rq["person_type"], "anonimo")
        self.assertIsNone(rq["name"])
        self.assertIsNone(rq["id_type"])
        self.assertIsNone(rq["id_number"])
        self.assertIsNone(rq["email"])
        self.assertEqual(rq["data_consent"], 0)
        self.assertEqual(self.d.track(rad, code).status, 200)
        self.wait_outbox_sent(row["id"])
        self.assert_all_read(chat)

    def test_03_peticion_classes(self):
        for type_id, klass, term in (("type.peticion.documentos", "documentos", 10),
                                     ("type.peticion", "general", 15),
                                     ("type.peticion.consulta", "consulta", 30)):
            chat = Chat(self)
            desc = "Solicito copia del contrato de obra %d y sus adiciones." % H.unique()
            rad, _, due_es, text = self.file_anonymous(chat, desc, type_id, consent=True)
            row = self.item(rad)
            self.assertEqual(row["type"], "peticion", type_id)
            self.assertEqual(row["petition_class"], klass, type_id)
            self.assertEqual(row["term_days"], term, type_id)
            self.assertEqual(row["due_date"],
                             LC.due_date(iso_received(row["received_at"]), "peticion", klass), type_id)
            self.assertEqual(due_es, es_date(row["due_date"]), text)
            self.assertIn("%d días hábiles" % term, text)

    def test_04_menu_and_cancel_anywhere(self):
        chat = Chat(self)
        old = "DESCRIPCION-VIEJA-%d el alumbrado del parque no funciona" % H.unique()
        self.to_description(chat, "type.reclamo")
        # "menú" in any case, with or without the accent, at any step
        m = chat.text("MENÚ")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS, describe([m]))
        chat.pick("menu.pqrsd")
        chat.pick("type.reclamo")
        m = chat.text(old)
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"])
        m = chat.text("Menu.")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS, describe([m]))
        chat.pick("menu.pqrsd")
        chat.pick("type.reclamo")
        chat.text(old)
        m = chat.tap("att.done")
        self.assertEqual(button_ids(m), ["id.named", "id.anon", "flow.cancel"])
        m = chat.text("  menú  ")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS, describe([m]))

        # "cancelar" drops the draft mid-flow
        chat.pick("menu.pqrsd")
        chat.pick("type.reclamo")
        chat.text(old)
        chat.tap("att.done")
        m = chat.tap("id.named")
        m = chat.text("Cancelar")
        self.assertIn("cancelamos", human_text(m).lower(), describe([m]))
        conv = self.d.query("SELECT state, draft FROM wa_conversations WHERE wa_id = ?", (chat.num,))[0]
        self.assertNotIn("DESCRIPCION-VIEJA", conv["draft"], "cancelar must drop the draft")
        # an old button tapped after cancelling does not revive the draft
        m = chat.tap("consent.yes")
        self.assertNotRegex(human_text(m), RADICADO_IN_ACK)
        # the flow.cancel button works the same way
        chat.text("menú")
        chat.pick("menu.pqrsd")
        chat.pick("type.reclamo")
        chat.text(old)
        # with a photo already sent: it is dropped with the draft
        png = H.minimal_png(5, 5, (90, 90, 0))
        mid = "84%08d1" % H.unique()
        self.graph.add_media(mid, png, "image/png")
        img = wa.image(chat.num, mid, "image/png", sha256=hashlib.sha256(png).hexdigest())
        chat.send(img)
        m = chat.tap("flow.cancel", "Cancelar")
        self.assertIn("cancelamos", human_text(m).lower(), describe([m]))
        self.assertEqual(self.wait_media(img["id"], ("discarded", "stored", "rejected", "failed"))["status"],
                         "discarded")

        # starting again files only the new description
        new = "DESCRIPCION-NUEVA-%d el semáforo de la calle 5 está dañado" % H.unique()
        self.start_menu(chat, first=False)
        m = chat.pick("menu.pqrsd")
        m = chat.pick("type.reclamo")
        m = chat.text(new)
        rad, _, _, _ = self.finish_anonymous(chat)
        row = self.item(rad)
        self.assertEqual(row["body"], new)
        self.assertNotIn("VIEJA", row["body"] + row["subject"])
        items = self.d.query("SELECT i.body FROM items i JOIN requesters r ON r.item_id = i.id WHERE r.phone = ?",
                             ("+" + chat.num,))
        self.assertEqual([i["body"] for i in items], [new], "a cancelled draft was filed")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items WHERE body LIKE '%DESCRIPCION-VIEJA%'"), 0)
        # The photo's download settles first (a positive barrier), then it must not be the new item's.
        self.assertIsNone(self.wait_media(img["id"], ("discarded", "stored"))["item_id"])
        self.assertEqual(self.d.query("SELECT sha256 FROM attachments WHERE item_id = ?", (row["id"],)), [],
                         "a photo of the cancelled draft became an attachment of the new item")
        self.assert_all_read(chat)

    def test_05_check_status(self):
        chat = Chat(self)
        rad, code, due_es, _ = self.file_anonymous(chat, "Reclamo por el cobro doble del impuesto predial %d."
                                                   % H.unique(), "type.reclamo")
        # an item of someone else, filed on the API
        other = H.assert_created(self, self.d.post_json(H.item_payload(type="peticion")))
        other_due = es_date(other["due_date"])

        m = chat.pick("menu.status", "Consultar un trámite")
        self.assertEqual(kind_of(m), "list", describe([m]))
        self.assertEqual(row_ids(m), ["status.item." + rad], "only the sender's own open items are listed")
        m = chat.pick("status.item." + rad, rad)
        t = human_text(m)
        self.assertIn(rad, t)
        self.assertIn("Radicada", t)
        self.assertIn(due_es, t)

        # any item by radicado and code
        chat.pick("menu.status")
        m = chat.text("%s %s" % (other["radicado"], other["tracking_code"]))
        t = human_text(m)
        self.assertIn(other["radicado"], t)
        self.assertIn("Radicada", t)
        self.assertIn(other_due, t)

        # a wrong code reveals nothing
        chat.pick("menu.status")
        wrong = "".join("2" if c != "2" else "3" for c in other["tracking_code"])
        m = chat.text("%s %s" % (other["radicado"], wrong))
        t = human_text(m)
        self.assertIn("No encontramos", t)
        self.assertNotIn(other["radicado"], t)
        self.assertNotIn("Radicada", t)
        self.assertNotIn(other_due, t)
        self.assertNotIn("Petición", t)
        self.assert_all_read(chat)

    def test_06_open_item_offer(self):
        chat = Chat(self)
        rad, _, _, _ = self.file_anonymous(chat, "Queja por el trato recibido en la oficina de catastro %d."
                                           % H.unique())
        extra = "Quiero agregar que hoy %d volvió a pasar lo mismo." % H.unique()
        m = chat.text(extra)
        self.assertEqual(button_ids(m), ["item.add", "menu.open"], describe([m]))
        self.assertIn(rad, human_text(m))
        m = chat.tap("item.add", "Sí, agregarlo")
        self.assertIn("Agregamos su mensaje", human_text(m))
        self.assertIn(rad, human_text(m))
        row = self.item(rad)
        evs = self.d.query("SELECT * FROM audit_events WHERE item_id = ? AND action = 'mensaje_ciudadano'",
                           (row["id"],))
        self.assertEqual(len(evs), 1, evs)
        payload = json.loads(evs[0]["payload"])
        self.assertEqual(payload.get("text"), extra, payload)
        # declining shows the menu and adds nothing
        m = chat.text("Otra cosa %d" % H.unique())
        self.assertEqual(button_ids(m), ["item.add", "menu.open"])
        m = chat.tap("menu.open", "Ver el menú")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS, describe([m]))
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE item_id = ? AND "
                                       "action = 'mensaje_ciudadano'", (row["id"],)), 1)
        self.assert_all_read(chat)

    def test_07_every_message_type(self):
        chat = Chat(self)
        n = chat.num
        uid = H.unique()
        msgs = [
            ("text", wa.text(n, "hola")),
            ("interactive", wa.button_reply(n, "boton.viejo", "Un botón viejo")),
            ("interactive", wa.list_reply(n, "menu.survey", "Encuesta")),
            ("button", wa.button(n, "Consultar", "Consultar")),
            ("image", wa.image(n, "77%08d1" % uid)),
            ("document", wa.document(n, "77%08d2" % uid, "application/pdf", "carta.pdf")),
            ("audio", wa.audio(n, "77%08d3" % uid)),
            ("video", wa.video(n, "77%08d4" % uid)),
            ("sticker", wa.sticker(n, "77%08d5" % uid)),
            ("location", wa.location(n, 4.142, -73.626, "Parque Principal", "Calle 38 # 30-15")),
        ]
        for _, m in msgs:
            new = chat.send(m)
            self.assertEqual(len(new), 1, "%s: %s" % (m["type"], describe(new)))
        # a reaction gets no reply; the next message gets exactly its own
        before = len(chat.sent())
        react = wa.reaction(n, self.graph.sent_ids(to=n)[-1], "\U0001F44D")
        msgs.append(("reaction", react))
        chat.send(react, replies=0)
        unsup = wa.unsupported(n)
        msgs.append(("unsupported", unsup))
        chat.send(unsup)
        # One number's messages go in order: with the reply to the later
        # message sent and nothing left in the outbox, the reaction's reply
        # (if any) would already be here.
        H.outbox_settled(self.d, n)
        new = chat.sent()[before:]
        self.assertEqual(len(new), 1, "a reaction must get no reply: %s" % describe(new))
        self.assertIn("No podemos leer", human_text(new[0]))
        for typ, m in msgs:
            rows = self.d.query("SELECT type, summary FROM wa_messages WHERE wamid = ?", (m["id"],))
            self.assertEqual(len(rows), 1, "%s not recorded" % typ)
            self.assertEqual(rows[0]["type"], typ, m)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM wa_messages WHERE wa_id = ?", (n,)), len(msgs))
        before = len(chat.sent())
        # the conversation still works
        m = chat.text("menú")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS)
        self.assertEqual(len(chat.sent()), before + 1, "one reply to menú")
        m = chat.pick("menu.pqrsd")
        self.assertEqual(row_ids(m), TYPE_IDS)
        m = chat.pick("type.sugerencia")
        self.assertIn("sugerencia", human_text(m))
        m = chat.text("cancelar")
        self.assertIn("cancelamos", human_text(m).lower())
        self.assert_all_read(chat)

    def wait_media(self, wamid, statuses=("stored", "rejected", "failed"), timeout=H.WAIT):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.d.query("SELECT * FROM wa_media WHERE wamid = ?", (wamid,))
            if rows and rows[0]["status"] in statuses:
                return rows[0]
            if time.monotonic() > deadline:
                self.fail("wa_media of %s not in %s: %r\n%s" % (wamid, statuses, rows, self.graph.summary()))
            time.sleep(0.05)

    def wait_attachments(self, item_id, n, timeout=H.WAIT):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.d.query("SELECT * FROM attachments WHERE item_id = ? ORDER BY id", (item_id,))
            if len(rows) >= n:
                return rows
            if time.monotonic() > deadline:
                self.fail("item %s has %d attachments, want %d: %r" % (item_id, len(rows), n, rows))
            time.sleep(0.05)

    def assert_stored_file(self, sha, data):
        self.assertEqual(self.d.stored_attachment(sha), data, "attachment %s not stored" % sha)

    def test_08_media_become_attachments(self):
        png, pdf, elf = H.minimal_png(), H.minimal_pdf("Soporte WhatsApp %d" % H.unique()), H.elf_executable()
        uid = H.unique()
        ids = {"png": "81%08d1" % uid, "pdf": "81%08d2" % uid, "elf": "81%08d3" % uid}
        self.graph.add_media(ids["png"], png, "image/png")
        self.graph.add_media(ids["pdf"], pdf, "application/pdf")
        self.graph.add_media(ids["elf"], elf, "application/pdf")  # lies about its type

        chat = Chat(self)
        self.to_attachments(chat, "Adjunto la foto del hueco en la vía y el radicado anterior %d." % uid,
                            "type.reclamo")
        img = wa.image(chat.num, ids["png"], "image/png", caption="El hueco",
                       sha256=hashlib.sha256(png).hexdigest())
        m = chat.last(img)
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"], describe([m]))
        doc = wa.document(chat.num, ids["pdf"], "application/pdf", "radicado_anterior.pdf",
                          sha256=hashlib.sha256(pdf).hexdigest())
        m = chat.last(doc)
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"], describe([m]))
        bad = wa.document(chat.num, ids["elf"], "application/pdf", "factura.pdf",
                          sha256=hashlib.sha256(elf).hexdigest())
        chat.send(bad, replies=2, want=lambda new: any("no se puede recibir" in human_text(x) for x in new))
        self.assertEqual(self.wait_media(bad["id"])["status"], "rejected")
        self.assertEqual(self.wait_media(img["id"])["status"], "stored")
        self.assertEqual(self.wait_media(doc["id"])["status"], "stored")
        rad, _, _, _ = self.finish_anonymous(chat, consent=True)
        row = self.item(rad)
        self.wait_attachments(row["id"], 2)
        # Every download had settled (stored or rejected) before the filing, so the set is final.
        atts = self.d.query("SELECT * FROM attachments WHERE item_id = ? ORDER BY id", (row["id"],))
        by_sha = {a["sha256"]: a for a in atts}
        self.assertEqual(len(atts), 2, atts)
        for data, ctype in ((png, "image/png"), (pdf, "application/pdf")):
            sha = hashlib.sha256(data).hexdigest()
            self.assertIn(sha, by_sha, atts)
            self.assertEqual(by_sha[sha]["content_type"], ctype)
            self.assertEqual(by_sha[sha]["size"], len(data))
            self.assert_stored_file(sha, data)
        self.assertEqual(by_sha[hashlib.sha256(pdf).hexdigest()]["filename"], "radicado_anterior.pdf")
        self.assertNotIn(hashlib.sha256(elf).hexdigest(), by_sha)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, "attachments",
                                                     hashlib.sha256(elf).hexdigest()[:2],
                                                     hashlib.sha256(elf).hexdigest())),
                         "the rejected executable was written to disk")
        elf_row = self.wait_media(bad["id"])
        self.assertIsNone(elf_row["item_id"])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE item_id = ? AND "
                                       "action = 'adjunto_agregado'", (row["id"],)), 2)

        # media still on its way when the item is filed ends up attached
        chat2 = Chat(self)
        late = H.minimal_png(3, 3, (10, 200, 10))
        late_id = "82%08d1" % uid
        self.graph.add_media(late_id, late, "image/png")
        self.to_attachments(chat2, "Foto del andén roto frente al colegio %d." % uid, "type.queja")
        self.graph.fail_media_next("timeout")  # the first download hangs past the daemon's timeout
        img2 = wa.image(chat2.num, late_id, "image/png", sha256=hashlib.sha256(late).hexdigest())
        chat2.send(img2)
        rad2, _, _, _ = self.finish_anonymous(chat2)
        row2 = self.item(rad2)
        was = self.d.query("SELECT status, item_id FROM wa_media WHERE wamid = ?", (img2["id"],))[0]
        if was["status"] != "pending":
            print("\n  note: the late media was already %s when the item was filed" % was["status"])
        atts2 = self.wait_attachments(row2["id"], 1)
        self.assertEqual(len(atts2), 1, atts2)
        self.assertEqual(atts2[0]["sha256"], hashlib.sha256(late).hexdigest())
        self.assertEqual(atts2[0]["content_type"], "image/png")
        self.assert_stored_file(atts2[0]["sha256"], late)
        self.assertEqual(self.wait_media(img2["id"])["item_id"], row2["id"])
        self.assert_all_read(chat)
        self.assert_all_read(chat2)

    def test_08b_media_errors(self):
        """The Graph API's media failures: 5xx and an expired token (401) are
        retried until the file comes; an expired URL (404) is given up at once
        and the citizen is asked to send the file again."""
        chat = Chat(self)
        uid = H.unique()
        self.to_attachments(chat, "Fotos del parque deteriorado %d." % uid, "type.reclamo")
        cases = [("5xx", ["500", "503"], "stored"), ("401", ["401"], "stored"), ("404", ["404"], "failed")]
        for n, (label, faults, want) in enumerate(cases):
            with self.subTest(fault=label):
                png = H.minimal_png(2, 2, (n * 40, 90, 200))
                mid = "83%08d%d" % (uid, n)
                self.graph.add_media(mid, png, "image/png")
                for kind in faults:
                    self.graph.fail_media_next(kind)
                img = wa.image(chat.num, mid, "image/png", sha256=hashlib.sha256(png).hexdigest())
                new = chat.send(img, replies=2 if want == "failed" else 1,
                                want=(lambda new: any("No pudimos descargar" in human_text(x) for x in new))
                                if want == "failed" else None)
                row = self.wait_media(img["id"])
                self.assertEqual(row["status"], want, row)
                asked = [r for r in self.graph.requests if mid in r.get("path", "")]
                if want == "stored":
                    self.assertEqual(row["attempts"], len(faults) + 1, row)
                    self.assertEqual(row["sha256"], hashlib.sha256(png).hexdigest())
                    self.assert_stored_file(row["sha256"], png)
                    self.assertFalse(any("No pudimos descargar" in human_text(x) for x in new), describe(new))
                else:
                    self.assertEqual(row["attempts"], 1, "a 404 is not retried: %r" % row)
                    self.assertIn("404", row["error"] or "")
                self.assertGreaterEqual(len(asked), len(faults) + (1 if want == "stored" else 0), asked)

    def test_09_state_survives_restart(self):
        chat = Chat(self)
        desc = "DESCRIPCION-ANTES-DEL-REINICIO-%d la quebrada se desbordó en el barrio." % H.unique()
        self.to_attachments(chat, desc, "type.denuncia")
        self.d.restart()
        m = chat.tap("att.done", "Continuar")
        self.assertEqual(button_ids(m), ["id.named", "id.anon", "flow.cancel"],
                         "the conversation lost its step across the restart: %s" % describe([m]))
        m = chat.tap("id.anon")
        self.assertIn("Ley 1581", human_text(m))
        rad, _, _, _ = self.ack_of(chat.tap("consent.yes"))
        row = self.item(rad)
        self.assertEqual(row["type"], "denuncia")
        self.assertEqual(row["body"], desc)
        self.wait_outbox_sent(row["id"])
        self.assert_all_read(chat)

    def test_10_classified_by_phone_registry(self):
        p = self.import_result
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        chat = Chat(self, self.org_number, name="JAC Barrio La Esperanza")
        rad, _, _, _ = self.file_anonymous(chat, "La junta solicita mantenimiento del salón comunal %d." % H.unique(),
                                           "type.peticion")
        row = self.item(rad)
        self.assertEqual(row["stakeholder_group"], "organizaciones_sociales")
        self.assertEqual(row["classified_by"], "contacts:phone")
        # someone not in the registry is citizenry by default
        other = Chat(self)
        rad2, _, _, _ = self.file_anonymous(other, "Solicito poda del árbol frente a mi casa %d." % H.unique(),
                                            "type.peticion")
        self.assertEqual(self.item(rad2)["stakeholder_group"], "ciudadania")

    def test_11_typed_answers(self):
        # README: "1"-"4" in the main menu, a type's name, si/no at the notice,
        # omitir, anónima work typed as well as tapped.
        chat = Chat(self)
        self.start_menu(chat)
        m = chat.text("1")
        self.assertEqual(row_ids(m), TYPE_IDS, describe([m]))
        m = chat.text("Petición")
        self.assertIn("petición", human_text(m), describe([m]))
        desc = "Solicito información sobre el plan de vacunación escolar %d." % H.unique()
        chat.text(desc)
        chat.tap("att.done")
        m = chat.text("anónima")
        self.assertEqual(button_ids(m), ["consent.yes", "consent.no", "flow.cancel"], describe([m]))
        rad, _, _, _ = self.ack_of(chat.text("Sí"))
        row = self.item(rad)
        self.assertEqual((row["type"], row["petition_class"], row["body"]), ("peticion", "general", desc))
        rq = self.requester(row["id"])
        self.assertEqual((rq["person_type"], rq["data_consent"]), ("anonimo", 1))

        m = chat.text("menú")
        m = chat.text("2")
        self.assertEqual(row_ids(m), ["status.item." + rad], describe([m]))
        chat.text("menú")
        m = chat.text("3")
        self.assertIn("audiencia", human_text(m).lower(), describe([m]))
        chat.text("menú")
        m = chat.text("4")
        self.assertIn("encuesta", human_text(m).lower(), describe([m]))

        chat.text("menú")
        chat.text("1")
        chat.text("reclamo")
        desc2 = "Reclamo porque no recogieron las basuras esta semana %d." % H.unique()
        chat.text(desc2)
        chat.tap("att.done")
        chat.tap("id.named")
        chat.text("Aurelio Prueba Mancipe")
        m = chat.text("ce 4455667")
        self.assertEqual(button_ids(m), ["email.skip"], describe([m]))
        m = chat.text("omitir")
        self.assertEqual(button_ids(m), ["consent.yes", "consent.no", "flow.cancel"], describe([m]))
        rad2, _, _, _ = self.ack_of(chat.text("no"))
        row2 = self.item(rad2)
        self.assertEqual((row2["type"], row2["body"]), ("reclamo", desc2))
        rq2 = self.requester(row2["id"])
        self.assertEqual((rq2["person_type"], rq2["name"], rq2["id_type"], rq2["id_number"], rq2["email"],
                          rq2["data_consent"]), ("natural", "Aurelio Prueba Mancipe", "CE", "4455667", None, 0))
        self.assert_all_read(chat)

    def test_12_media_added_to_open_item(self):
        # README: a message to an open item outside any flow is offered to that
        # item; "media sent with it become attachments".
        chat = Chat(self)
        rad, _, _, _ = self.file_anonymous(chat, "Queja por el ruido de la obra nocturna %d." % H.unique())
        row = self.item(rad)
        png = H.minimal_png(4, 2, (30, 30, 200))
        mid = "83%08d1" % H.unique()
        self.graph.add_media(mid, png, "image/png")
        img = wa.image(chat.num, mid, "image/png", sha256=hashlib.sha256(png).hexdigest())
        m = chat.last(img)
        self.assertEqual(button_ids(m), ["item.add", "menu.open"], describe([m]))
        self.assertIn(rad, human_text(m))
        m = chat.tap("item.add")
        self.assertIn("Agregamos su mensaje", human_text(m))
        atts = self.wait_attachments(row["id"], 1)
        self.assertEqual([(a["sha256"], a["content_type"]) for a in atts],
                         [(hashlib.sha256(png).hexdigest(), "image/png")])
        self.assert_stored_file(atts[0]["sha256"], png)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE item_id = ? AND "
                                       "action = 'mensaje_ciudadano'", (row["id"],)), 1)
        self.assert_all_read(chat)

    def test_98_no_personal_data_in_logs(self):
        # Everything citizens typed or are: numbers, names, ID numbers,
        # emails and message texts never reach the daemon's log.
        secrets = set()
        for r in self.d.query("SELECT wa_id, summary FROM wa_messages"):
            secrets.add(r["wa_id"])
            text = json.loads(r["summary"]).get("text", "")
            if len(text) >= 12:
                secrets.add(text)
        for r in self.d.query("SELECT name, id_number, email, phone FROM requesters"):
            secrets.update(v for v in r.values() if v and len(v) >= 6)
        self.assertGreater(len(secrets), 20)
        log = "\n".join(self.d.lines)
        leaked = sorted(x for x in secrets if x in log)
        self.assertEqual(leaked, [], "personal data in the log")

    def test_99_no_crash(self):
        self.assert_no_crash()
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox WHERE status IN ('dead', 'failed', "
                                       "'undeliverable')"), 0)
        self.d.stop()


class ConfiguredEntity(H.DaemonCase):
    """An entity whose settings push the limits: a 200-character accented
    name, a 20-character radicado prefix, a 100-character description limit."""
    NAME = "Secretaría Distrital de Planeación y Gestión Pública " + "ñ" * 146
    PREFIX = "SECRETARIADEHACIENDA"

    @classmethod
    def setUpClass(cls):
        cls.graph = FakeGraph().start()
        cfg = H.deep_merge(wa.config(cls.graph), {"entity": {"name": cls.NAME},
                                                  "radicado": {"prefix": cls.PREFIX},
                                                  "intake": {"max_body_chars": 100}})
        cls.d = H.Daemon(config=cfg, name="wa-limits")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def tearDown(self):
        bad = [r for r in self.graph.requests if r["kind"] in ("message", "read") and r["status"] not in (200, None)]
        self.assertEqual(bad, [], "the fake Graph API refused message bodies:\n%s" % self.graph.summary())

    def test_01_limits(self):
        chat = Chat(self)
        m = chat.text("Hola")
        self.assertEqual(row_ids(m), MAIN_MENU_IDS)
        self.assertIn("Secretaría Distrital", human_text(m))
        chat.pick("menu.pqrsd")
        chat.pick("type.reclamo")
        m = chat.text("El alumbrado de la calle 45 no funciona. " * 4)  # 164 characters
        self.assertIn("pasa de 100 caracteres", human_text(m))
        m = chat.text("No funciona el alumbrado de la calle 45 con carrera 12.")
        self.assertEqual(button_ids(m), ["att.done", "flow.cancel"], describe([m]))
        chat.tap("att.done")
        chat.tap("id.named")
        chat.text("Zenaida Quintero Prueba")
        chat.text("C.C. 1.020.304.050")
        chat.tap("email.skip")
        m = chat.tap("consent.yes")
        rad = RADICADO_IN_ACK.search(human_text(m)).group(1)
        self.assertTrue(rad.startswith(self.PREFIX + "-"), rad)
        row = self.d.query("SELECT r.id_type, r.id_number, i.body FROM items i JOIN requesters r "
                           "ON r.item_id = i.id WHERE i.radicado = ?", (rad,))[0]
        self.assertEqual((row["id_type"], row["id_number"]), ("CC", "1020304050"))
        self.assertIn("calle 45 con carrera 12", row["body"])
        m = chat.text("menú")
        m = chat.pick("menu.status")
        rows = [r for sec in m["interactive"]["action"]["sections"] for r in sec["rows"]]
        self.assertEqual(len(rows), 1)
        self.assertLessEqual(len(rows[0]["title"]), 24)
        self.assertTrue(rad.endswith(rows[0]["title"]), (rad, rows[0]["title"]))
        self.assertIn(rad, rows[0].get("description", ""))
        self.assertIn(self.PREFIX + "-2026-000123", human_text(m), "the example follows the entity's format")


if __name__ == "__main__":
    H.main()
