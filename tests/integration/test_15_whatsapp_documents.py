"""Staff answers with files, to a citizen who filed by WhatsApp: the citizen
gets the answer's text and then each file as a WhatsApp document, the way
the Cloud API sends one (upload to /{phone_number_id}/media, then a document
message naming the media id), in that order and after a failed upload too.

A FakeGraph (fake_graph.py) stands in for Meta's Graph API; the PQRSD is
filed through signed webhook deliveries (wa.py), so the 24-hour window is
open; staff answer through the staff API (docs/staff-api.md).

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 \\
        tests/integration/test_15_whatsapp_documents.py
"""
import base64
import hashlib
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import wa  # noqa: E402
from fake_graph import FakeGraph, human_text  # noqa: E402

AGENT, AGENT_PW = "agente.docs", "Clave-de-prueba-2026!"
DEP = "atencion_ciudadano"
RADICADO_IN_ACK = re.compile(r"Radicado: \*([^*\s]+)\*")
SENT = ("sent", "delivered", "read")

_numbers = set()


def new_number():
    """A distinct WhatsApp number (wa_id) per test: 57301 + 7 digits."""
    while True:
        n = "57301%07d" % (((os.getpid() % 10000) * 1000 + H.unique()) % 10 ** 7)
        if n not in _numbers:
            _numbers.add(n)
            return n


def pdf(label):
    """A PDF whose bytes (and so whose stored file) no other test shares."""
    return H.minimal_pdf("%s %d" % (label, H.unique()))


class WhatsAppDocuments(H.DaemonCase):
    d = None
    graph = None

    @classmethod
    def setUpClass(cls):
        cls.graph = FakeGraph().start()
        cls.graph.hold_seconds = 3  # a "timeout" fault outlasts the daemon's 2 s timeout
        # A template for every kind, so that a test can see it is never used
        # in place of a document.
        cfg = wa.config(cls.graph, templates={"default": {"name": "aviso_radicado", "language": "es"}},
                        outbox={"max_attempts": 5, "backoff_base_ms": 50, "backoff_max_ms": 200})
        cls.d = H.Daemon(config=cfg, name="wa-docs")
        p = H.run_cli("user", "add", "--config", cls.d.cfg_path, "--data-dir", cls.d.data_dir, AGENT,
                      "--role", "agente", "--dependencia", DEP, input=AGENT_PW + "\n", env=cls.d.env)
        if p.returncode != 0:
            raise AssertionError("user add failed (%d): %s %s" % (p.returncode, p.stdout, p.stderr))
        cls.d.start()
        r = cls.d.post_json({"username": AGENT, "password": AGENT_PW}, path="/api/v1/session")
        if r.status != 200:
            raise AssertionError("login failed: %r" % r)
        m = re.search(r"vt_session=([^;]+)", r.header("set-cookie", ""))
        if not m:
            raise AssertionError("no vt_session cookie in %r" % r.headers)
        cls.cookie = "vt_session=" + m.group(1)
        cls.csrf = r.json()["csrf_token"]

    @classmethod
    def tearDownClass(cls):
        H.release(cls.d, cls.graph)

    def tearDown(self):
        self.graph.set_mode(None)
        self.graph.set_upload_mode(None)

    # ------------------------------------------------------------------ helpers

    def say(self, num, msg, want=None, timeout=H.WAIT):
        """Delivers one message from num and waits for the daemon's answer
        (want(doc) when given); returns it."""
        before = len(self.graph.messages(to=num))
        r = wa.post(self.d, wa.delivery([msg]), wa.SECRET)
        self.assertEqual(r.status, 200, "webhook delivery refused: %r" % r)

        def answered():
            new = self.graph.messages(to=num)[before:]
            hits = [m for m in new if want is None or want(m)]
            return hits[-1] if hits else None

        return self.graph.wait_for(answered, timeout=timeout, what="an answer to %s from %s" % (msg["type"], num))

    def file_pqrsd(self):
        """Files an anonymous queja by WhatsApp from a new number; returns
        (number, radicado, item id). The citizen has just written, so the
        24-hour window is open."""
        num = new_number()
        self.say(num, wa.text(num, "Hola, buenas tardes"))
        self.say(num, wa.list_reply(num, "menu.pqrsd", "Radicar una PQRSD"))
        self.say(num, wa.list_reply(num, "type.queja", "Queja"))
        self.say(num, wa.text(num, "No me han respondido la solicitud de poda del árbol, caso %d." % H.unique()))
        self.say(num, wa.button_reply(num, "att.done", "Continuar"))
        self.say(num, wa.button_reply(num, "id.anon", "Anónima"))
        ack = self.say(num, wa.button_reply(num, "consent.no", "No autorizo"),
                       want=lambda m: RADICADO_IN_ACK.search(human_text(m)))
        rad = RADICADO_IN_ACK.search(human_text(ack)).group(1)
        rows = self.d.query("SELECT id, reply_channel FROM items WHERE radicado = ?", (rad,))
        self.assertEqual(len(rows), 1, rad)
        self.assertEqual(rows[0]["reply_channel"], "whatsapp")
        return num, rad, rows[0]["id"]

    def respond(self, rad, text, files):
        """POSTs the respond action as the agent; files: [(filename, bytes)]."""
        doc = {"action": "respond", "text": text,
               "attachments": [{"filename": n, "content_base64": base64.b64encode(b).decode("ascii")}
                               for n, b in files]}
        r = self.d.request("POST", "/api/v1/items/%s/actions" % rad,
                           json.dumps(doc, ensure_ascii=False).encode("utf-8"),
                           {"Content-Type": "application/json", "Cookie": self.cookie,
                            "X-CSRF-Token": self.csrf})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def answer_rows(self, item_id):
        return self.d.query("SELECT * FROM outbox WHERE item_id = ? AND channel = 'whatsapp' AND "
                            "kind = 'respuesta' ORDER BY id", (item_id,))

    def wait_rows(self, item_id, n, statuses=SENT, timeout=H.WAIT):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.answer_rows(item_id)
            if len(rows) == n and all(r["status"] in statuses for r in rows):
                return rows
            if time.monotonic() > deadline:
                self.fail("the %d answer rows of item %s are not %s: %r\n%s"
                          % (n, item_id, "/".join(statuses), rows, self.graph.summary()))
            time.sleep(0.05)

    def since(self, start):
        """The fake's requests from index start on."""
        return self.graph.requests[start:]

    def assert_text_then_documents(self, num, start, text, files):
        """The answer's text reached num, then for each file an upload of its
        bytes and a document message naming that upload, in this order.
        Returns the successful upload records."""
        reqs = self.since(start)
        ok = [(i, r) for i, r in enumerate(reqs) if r["status"] == 200]
        texts = [i for i, r in ok if r["kind"] == "message" and r["json"].get("type") == "text"
                 and r["json"].get("to") == num and text in r["json"]["text"]["body"]]
        self.assertEqual(len(texts), 1, "the answer's text was not sent once:\n%s" % self.graph.summary())
        last = texts[0]
        uploads = {u["id"]: u for u in self.graph.uploads()}
        got = []
        for name, data in files:
            up = [(i, r) for i, r in ok if r["kind"] == "upload" and i > last
                  and uploads.get(r.get("media_id"), {}).get("data") == data]
            self.assertTrue(up, "no upload of %s after the text:\n%s" % (name, self.graph.summary()))
            i_up, r_up = up[0]
            u = uploads[r_up["media_id"]]
            self.assertEqual(u["filename"], name)
            self.assertEqual(u["type"], "application/pdf")
            self.assertEqual(u["part_type"], "application/pdf")
            self.assertEqual(hashlib.sha256(u["data"]).hexdigest(), hashlib.sha256(data).hexdigest())
            self.assertEqual(r_up["headers"].get("authorization"), "Bearer " + self.graph.token)
            docs = [i for i, r in ok if r["kind"] == "message" and i > i_up
                    and r["json"].get("type") == "document" and r["json"].get("to") == num
                    and r["json"]["document"].get("id") == u["id"]]
            self.assertEqual(len(docs), 1, "no single document message with media id %s after its upload:\n%s"
                             % (u["id"], self.graph.summary()))
            msg = reqs[docs[0]]["json"]
            self.assertEqual(msg["document"], {"id": u["id"], "filename": name})
            self.assertEqual(msg["messaging_product"], "whatsapp")
            self.assertEqual(msg["recipient_type"], "individual")
            last = docs[0]
            got.append(u)
        return got

    # ------------------------------------------------------------------ tests

    def test_01_answer_with_a_document(self):
        num, rad, item_id = self.file_pqrsd()
        start = len(self.graph.requests)
        data = pdf("respuesta")
        text = "Buenas tardes. La poda quedó programada para el 12 de marzo; adjuntamos el acta."
        self.respond(rad, text, [("respuesta.pdf", data)])
        rows = self.wait_rows(item_id, 2)
        self.assert_text_then_documents(num, start, text, [("respuesta.pdf", data)])

        # The text says a file follows instead of listing names the citizen
        # cannot open.
        body = json.loads(rows[0]["body"])["text"]["body"]
        self.assertTrue(body.startswith(text), body)
        self.assertIn("siguiente mensaje le enviamos el archivo", body)
        self.assertNotIn("respuesta.pdf", body)
        # The document row names the stored bytes by their SHA-256, never holds them.
        doc = json.loads(rows[1]["body"])
        self.assertEqual(doc["type"], "document")
        self.assertEqual(doc["document"]["filename"], "respuesta.pdf")
        self.assertEqual(doc["document"]["content_type"], "application/pdf")
        self.assertEqual(doc["document"]["sha256"], hashlib.sha256(data).hexdigest(), doc)
        self.assertNotIn("path", doc["document"])
        self.assertEqual(self.d.stored_attachment(doc["document"]["sha256"]), data)
        self.assertEqual(rows[1]["params"], rows[0]["params"])
        self.assertIn("respuesta.pdf", rows[1]["fallback"])
        self.assertIn(rad, rows[1]["fallback"])
        self.assertEqual([r["attempts"] for r in rows], [1, 1])
        # Each row keeps the wamid Meta answered for it.
        sent = self.graph.sent_ids(to=num)
        self.assertTrue(all(r["provider_id"] in sent for r in rows), rows)
        self.assertEqual([m["type"] for m in self.graph.messages(to=num)[-2:]], ["text", "document"])
        # The staff view lists both messages.
        item = self.d.get("/api/v1/items/" + rad, headers={"Cookie": self.cookie}).json()
        msgs = [m for m in item["messages"] if m["kind"] == "respuesta"]
        self.assertEqual([m["status"] for m in msgs], ["sent", "sent"], item["messages"])

    def test_02_upload_fails_once_then_the_document_arrives(self):
        num, rad, item_id = self.file_pqrsd()
        start = len(self.graph.requests)
        self.graph.fail_upload_next("500")
        data = pdf("reintento")
        text = "Le enviamos la resolución que resuelve su queja."
        self.respond(rad, text, [("resolucion.pdf", data)])
        rows = self.wait_rows(item_id, 2)
        (up,) = self.assert_text_then_documents(num, start, text, [("resolucion.pdf", data)])
        uploads = [r for r in self.since(start) if r["kind"] == "upload"]
        self.assertEqual([r["status"] for r in uploads], [500, 200], self.graph.summary())
        self.assertEqual(uploads[1]["media_id"], up["id"])
        # The retry uploaded the whole file again.
        self.assertIn(data, uploads[0]["body"])
        self.assertIn(data, uploads[1]["body"])
        self.assertEqual([r["status"] for r in rows], ["sent", "sent"])
        self.assertEqual(rows[0]["attempts"], 1)
        self.assertEqual(rows[1]["attempts"], 2)
        self.assertIsNone(rows[1]["last_error"])

    def test_03_several_files_in_order(self):
        num, rad, item_id = self.file_pqrsd()
        start = len(self.graph.requests)
        files = [("respuesta final.pdf", pdf("uno")), ("anexo técnico.pdf", pdf("dos")),
                 ("plano.pdf", pdf("tres"))]
        text = "Adjuntamos la respuesta, el anexo técnico y el plano del sector."
        self.respond(rad, text, files)
        rows = self.wait_rows(item_id, 4)
        self.assert_text_then_documents(num, start, text, files)
        self.assertIn("los 3 archivos", json.loads(rows[0]["body"])["text"]["body"])
        self.assertEqual([json.loads(r["body"])["document"]["filename"] for r in rows[1:]],
                         [n for n, _ in files])
        # The email copy's text (if WhatsApp could not carry it) names them.
        for n, _ in files:
            self.assertIn(n, rows[0]["fallback"])

    def test_04_a_missing_file_is_a_dead_letter(self):
        num, rad, item_id = self.file_pqrsd()
        # Hold the text so the file can go away before its turn.
        self.graph.set_mode("timeout")
        start = len(self.graph.requests)
        data = pdf("borrado")
        self.respond(rad, "Le enviamos el oficio de respuesta.", [("oficio.pdf", data)])
        self.graph.wait_for(lambda: self.graph.held, what="the answer's text held")
        sha = json.loads(self.answer_rows(item_id)[1]["body"])["document"]["sha256"]
        if self.d.backend == "postgresql":
            self.d.execute("DELETE FROM attachment_blobs WHERE sha256 = ?", (sha,))
        else:
            os.remove(os.path.join(self.d.data_dir, "attachments", sha[:2], sha))
        self.graph.set_mode(None)
        rows = self.wait_rows(item_id, 2, statuses=SENT + ("dead",))
        self.assertIn(rows[0]["status"], SENT)
        self.assertEqual(rows[1]["status"], "dead")
        self.assertEqual(rows[1]["attempts"], 1, "a missing file is not retried")
        self.assertIn("document missing from the store", rows[1]["last_error"])
        self.assertIn(sha, rows[1]["last_error"])
        self.assertEqual([r for r in self.since(start) if r["kind"] == "upload"], [])
        self.assertEqual(self.graph.documents(to=num), [])

    def test_05_window_closed_at_meta_no_template_for_a_document(self):
        num, rad, item_id = self.file_pqrsd()
        start = len(self.graph.requests)
        self.graph.fail_next("131047", message_type="document")
        self.respond(rad, "Adjuntamos la respuesta.", [("respuesta.pdf", pdf("ventana"))])
        rows = self.wait_rows(item_id, 2, statuses=SENT + ("undeliverable",))
        self.assertIn(rows[0]["status"], SENT)
        self.assertEqual(rows[1]["status"], "undeliverable")
        self.assertIn("131047", rows[1]["last_error"] or "")
        types = [r["json"]["type"] for r in self.since(start) if r["kind"] == "message"]
        self.assertNotIn("template", types, "a template was sent in place of a document")
        self.assertEqual(self.graph.documents(to=num), [])
        ev = self.d.query("SELECT payload FROM audit_events WHERE item_id = ? AND action = "
                          "'whatsapp_sin_ventana'", (item_id,))
        self.assertEqual(len(ev), 1, ev)

    def test_99_no_crash(self):
        self.assert_no_crash()
        log = self.d.log_text()
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.d.stop()  # a clean exit (LeakSanitizer included on a sanitizer build)


if __name__ == "__main__":
    H.main()
