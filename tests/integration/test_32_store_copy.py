"""`ventanilla store copy` (issue 14, point 4): an entity's SQLite store moved
into an empty PostgreSQL database.

A SQLite daemon takes real traffic through its API and pages (a web intake
with a PDF, PQRSD by the JSON API, staff who assign and answer with a file,
a public survey answered, a hearing question asked and moderated, a
dependencia, contacts, acknowledgements and answers sent by email to a real
SMTP server) and is stopped. `store copy` then fills a fresh PostgreSQL
database (made by the harness, never migrated): every row of every table
arrives with its ids, and a daemon on the PostgreSQL config serves the same
data: each tracking code shows what it showed before, the files download
with the same bytes, the staff log in, a search finds a copied item, the
audit chain verifies, a new intake takes the next radicado (no collision on
any id) and nothing the outbox had sent is sent again. Refused: a source on
PostgreSQL, a target on SQLite, a source whose schema is older, a source a
daemon is using, and a target that holds data (which it leaves as it was);
a copy that fails halfway leaves no row behind.

PostgreSQL only: it runs under integration-pg/ (VT_TEST_BACKEND=postgresql,
VT_TEST_PG_HOST); the source is a SQLite daemon whatever the backend.

    scripts/pg-cluster start /tmp/vt-pg
    VT_TEST_BACKEND=postgresql VT_TEST_PG_HOST=/tmp/vt-pg VENTANILLA_BIN=build/ventanilla \\
        VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_32_store_copy.py
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
import wa  # noqa: E402
from staffkit import Staff  # noqa: E402

ENTITY = "atencionalciudadano@entidad.gov.co"
PUBLIC_URL = "https://pqrsd.entidad-prueba.gov.co"
WA_FROM = "573001112233"
TRIAGE = "atencion_ciudadano"
SEARCH_WORD = "aguamarinas"
CONTACTS = """email,phone,id_number,group,name
control@contraloria-prueba.example.org,,,organismos_control,Contraloría Departamental
,3109876543,,medios,Emisora Comunitaria
"""


def now_ms():
    return int(time.time() * 1000)


def page_value(html, ident):
    """The text of the acknowledgement page's <dd id="ident">."""
    m = re.search(r'id="%s">([^<]*)<' % ident, html)
    assert m, "no #%s on the page:\n%s" % (ident, html[:2000])
    return m.group(1).strip()


def rows_of(d, table):
    """Every row of table as sorted (column, value) tuples, the rows sorted:
    the same on SQLite and PostgreSQL when the data is the same."""
    rows = d.query("SELECT * FROM %s" % table)
    return sorted((tuple(sorted(r.items())) for r in rows), key=repr)


def snapshot(d):
    """Everything a refused copy must leave as it was: each table's row count
    and largest id, the audit key, the attachment files."""
    out = {}
    for t in sorted(d.tables()):
        out[t] = d.scalar("SELECT count(*) FROM %s" % t)
        if "id" in [c[1] for c in d.columns(t)]:
            out[t + ".max_id"] = d.scalar("SELECT max(id) FROM %s" % t)
    with open(os.path.join(d.data_dir, "audit.key"), "rb") as f:
        out["audit.key"] = hashlib.sha256(f.read()).hexdigest()
    files = []
    for root, _dirs, names in os.walk(os.path.join(d.data_dir, "attachments")):
        files += [os.path.join(root, n) for n in names]
    out["attachment files"] = sorted(files)
    return out


@unittest.skipIf(H.BACKEND != "postgresql",
                 "store copy moves a SQLite store into PostgreSQL: run it with VT_TEST_BACKEND=postgresql "
                 "and VT_TEST_PG_HOST (ctest's integration-pg/test_32_store_copy)")
class StoreCopy(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        import fake_graph
        import mailservers
        cls.src = cls.dst = cls.smtp = cls.graph = None
        cls.d = None
        try:
            cls.smtp = mailservers.SmtpSink().start()
            cls.graph = fake_graph.FakeGraph().start()
            cfg = H.deep_merge(wa.config(cls.graph), {
                "staff": {"login_per_minute": 10000}, "entity": {"public_url": PUBLIC_URL},
                "channels": {"email": {"enabled": True, "smtp_url": cls.smtp.url, "from": ENTITY,
                                       "allow_plaintext_loopback": True}},
                "outbox": {"timeout_ms": 3000}, "surveys": {"invite_delay_minutes": 0}})
            cls.src = H.Daemon(cfg, name="copy-src", backend="sqlite")
            for name, role, dep in [("co", "coordinador", TRIAGE), ("ag", "agente", TRIAGE),
                                    ("mo", "moderador", None), ("ad", "admin", None)]:
                S.add_user(cls.src, name, role, dep)
            csv_path = os.path.join(cls.src.dir, "partes_interesadas.csv")
            with open(csv_path, "w", encoding="utf-8") as f:
                f.write(CONTACTS)
            p = cls.src.cli("contacts", "import", "--config", cls.src.cfg_path, "--data-dir",
                            cls.src.data_dir, csv_path)
            assert p.returncode == 0, p.stderr
            cls.src.start()
            cls.traffic()
            cls.src.stop()
            # The target: a fresh, empty PostgreSQL database (never migrated).
            cls.dst = H.Daemon(cfg, name="copy-dst", migrate=False)
        except BaseException:
            H.release(cls.dst, cls.src, cls.smtp, cls.graph)
            raise

    @classmethod
    def tearDownClass(cls):
        H.release(cls.dst, cls.src, cls.smtp, cls.graph)

    @classmethod
    def traffic(cls):
        """Real traffic on the SQLite daemon; remembers what a citizen and the
        staff hold afterwards (codes, files, what the tracking page showed)."""
        d = cls.src
        cls.codes = {}  # radicado -> tracking code
        co, mo, ad = Staff(d, "co"), Staff(d, "mo"), Staff(d, "ad")
        # A web intake (the form, multipart) with a PDF.
        cls.pdf = H.minimal_pdf("Acta de la junta de acción comunal")
        cls.pdf_sha = hashlib.sha256(cls.pdf).hexdigest()
        f = H.form_fields(type="queja", subject="Filtración en el salón comunal %s" % SEARCH_WORD.capitalize(),
                          body="El techo del salón comunal deja pasar el agua desde hace un mes.")
        r = d.post_multipart(f, [("attachments", "acta.pdf", "application/pdf", cls.pdf)], path="/")
        assert r.status == 200, r
        cls.web_rad = page_value(r.text, "radicado")
        cls.codes[cls.web_rad] = page_value(r.text, "codigo")
        # PQRSD by the JSON API (each requester has an email: acknowledgements go out).
        docs = [H.assert_created(unittest.TestCase(), d.post_json(H.item_payload(subject="Solicitud %d" % i)))
                for i in range(3)]
        for doc in docs:
            cls.codes[doc["radicado"]] = doc["tracking_code"]
        cls.emails = [x["email"] for x in d.query("SELECT r.email FROM requesters r WHERE r.email IS NOT NULL")]
        # Staff: a dependencia, an assignment, a note, an answer with a file.
        assert ad.post("/api/v1/dependencias", {"code": "obras", "name": "Obras públicas", "active": True}).status == 200
        rad = docs[0]["radicado"]
        assert co.act(rad, "assign", dependencia=TRIAGE, assignee="ag").status == 200
        assert co.act(docs[1]["radicado"], "note", text="Se llamó al ciudadano").status == 200
        cls.answer_pdf = H.minimal_pdf("Respuesta de fondo")
        r = co.act(rad, "respond", text="Le enviamos la información solicitada.",
                   attachments=[{"filename": "respuesta.pdf", "content_base64": S.b64(cls.answer_pdf)}])
        assert r.status == 200, r
        cls.answer_url = r.json()["responses"][-1]["attachments"][0]["url"]
        cls.answered = rad
        # Closed once answered: the requester is invited to the satisfaction survey.
        assert co.act(rad, "close").status == 200
        addr = d.scalar("SELECT r.email FROM requesters r JOIN items i ON i.id = r.item_id WHERE i.radicado = ?",
                        (rad,))
        mails = cls.smtp.wait_for(lambda: [m for m in cls.smtp.messages(to=addr)
                                           if "atendimos" in (m.msg["Subject"] or "")],
                                  timeout=H.WAIT, what="the survey invitation")
        body = mails[0].msg.get_body(preferencelist=("plain",)).get_content()
        token = re.search(re.escape(PUBLIC_URL) + r"/encuesta/([0-9a-f]{64})", body).group(1)
        # ... and answers it as a detractor: a follow-up opens for the office.
        r = d.post_form({"q_satisfaccion": "1", "q_a_tiempo": "no"}, "/encuesta/" + token)
        assert r.status == 200, r
        # A public survey, answered.
        definition = {"title": "Encuesta de percepción", "intro": "Dos preguntas.",
                      "questions": [{"id": "satisfaccion", "type": "rating", "text": "¿Qué tan satisfecho está?",
                                     "required": True},
                                    {"id": "recomendacion", "type": "nps", "text": "¿Nos recomendaría?"}]}
        r = ad.post("/api/v1/surveys", {"code": "percepcion", "purpose": "public", "definition": definition})
        assert r.status == 201, r
        r = d.post_form({"q_satisfaccion": "4", "q_recomendacion": "9"}, "/encuesta/p/percepcion")
        assert r.status == 200, r
        # A hearing, a citizen's question on its page, moderated.
        today = datetime.date.today()
        r = mo.post("/api/v1/hearings", {
            "code": "rc2026", "name": "Rendición de cuentas 2026",
            "date": (today + datetime.timedelta(days=30)).isoformat(), "place": "Auditorio principal",
            "convoked_on": today.isoformat(), "questions_open_at": now_ms() - 60000,
            "questions_close_at": now_ms() + 3600 * 1000})
        assert r.status == 201, r
        r = d.post_form({"text": "¿Cuándo arreglan la vía?", "name": "Ana"}, "/audiencia/rc2026")
        assert r.status == 201, r
        cls.question_rad = page_value(r.text, "radicado")
        cls.codes[cls.question_rad] = page_value(r.text, "codigo")
        r = mo.post("/api/v1/hearings/rc2026/questions/%s/moderate" % cls.question_rad, {"action": "approve"})
        assert r.status == 200, r
        # A commitment made at the hearing, and its progress.
        r = mo.post("/api/v1/hearings/rc2026/commitments",
                    {"text": "Publicar el cronograma de la vía", "dependencia": TRIAGE, "due_date": "2027-03-31"})
        assert r.status == 201, r
        r = co.post("/api/v1/commitments/%d/progress" % r.json()["id"], {"text": "Cronograma en revisión", "percent": 40})
        assert r.status == 201, r
        # A WhatsApp conversation: the message, its reply, the reply's delivery status.
        r = wa.post(d, wa.delivery([wa.text(WA_FROM, "Hola, quiero radicar una queja")]), secret=wa.SECRET)
        assert r.status == 200, r
        rows = cls.graph.wait_for(lambda: H.outbox_settled(d, WA_FROM), timeout=H.WAIT,
                                  what="the WhatsApp reply sent")
        wamid = d.scalar("SELECT provider_id FROM outbox WHERE recipient = ? AND status = 'sent' ORDER BY id",
                         (WA_FROM,))
        assert wamid, rows
        r = wa.post(d, wa.delivery(statuses=[wa.status(wamid, "delivered", WA_FROM)]), secret=wa.SECRET)
        assert r.status == 200, r
        S.wait(lambda: d.scalar("SELECT count(*) FROM outbox_statuses"), what="the delivery status stored")
        # Everything the outbox holds is sent before the daemon stops.
        for addr in cls.emails:
            H.outbox_settled(d, addr)
        cls.sent = {a: len(cls.smtp.messages(to=a)) for a in cls.emails}
        assert sum(cls.sent.values()) >= 1 and d.scalar("SELECT count(*) FROM outbox") >= 1, cls.sent
        # What each citizen's tracking page shows.
        cls.tracked = {}
        for rad, code in cls.codes.items():
            r = d.track(rad, code)
            assert r.status == 200, r
            cls.tracked[rad] = r.json()
        p = d.cli("audit", "verify", "--config", d.cfg_path, "--data-dir", d.data_dir)
        assert p.returncode == 0, p.stdout + p.stderr
        cls.events = int(re.search(r"(\d+) events", p.stdout).group(1))

    # -- helpers
    def copy(self, frm=None, to=None, data_dir=None, timeout=240):
        args = ["store", "copy", "--config", frm or self.src.cfg_path]
        if data_dir:
            args += ["--data-dir", data_dir]
        args += ["--to-config", to or self.dst.cfg_path]
        return self.dst.cli(*args, timeout=timeout)

    def refused(self, p, *phrases):
        self.assertEqual(p.returncode, 1, "expected a refusal:\n%s%s" % (p.stdout, p.stderr))
        for phrase in phrases:
            self.assertIn(phrase, p.stderr)

    def src_copy(self, name):
        """A copy of the source's data directory and a config naming it."""
        path = os.path.join(self.src.dir, name)
        shutil.copytree(self.src.data_dir, path)
        cfg = os.path.join(self.src.dir, name + ".json")
        with open(cfg, "w", encoding="utf-8") as f:
            json.dump(H.deep_merge(self.src.config, {"server": {"data_dir": path}}), f)
        return path, cfg

    def data_rows(self, d):
        """Rows of the target that its migrations did not write (the default survey)."""
        return {t: d.scalar("SELECT count(*) FROM %s" % t) for t in sorted(d.tables())
                if t not in ("schema_migrations", "surveys", "survey_versions")
                and d.scalar("SELECT count(*) FROM %s" % t)}

    # -- 1. refusals before anything is written
    def test_01_refuses_what_it_cannot_copy(self):
        # The source must be SQLite, the target PostgreSQL.
        self.refused(self.copy(frm=self.dst.cfg_path), 'store.backend "postgresql"', "reads a SQLite store")
        self.refused(self.copy(to=self.src.cfg_path), 'must have store.backend "postgresql"')
        # A source whose schema is older than this program's: migrate it first.
        old_dir, old_cfg = self.src_copy("older")
        H.sqlite_file(os.path.join(old_dir, "ventanilla.db")).execute(
            "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
        self.refused(self.copy(frm=old_cfg), "older than this ventanilla's", "ventanilla migrate --config %s" % old_cfg)
        # A source a daemon is using (what it took after the copy began would be lost).
        self.src.start()
        try:
            self.refused(self.copy(), "a ventanilla daemon is using %s" % self.src.data_dir, "stop it first")
        finally:
            self.src.stop()
        self.assertEqual(self.dst.tables(), set(), "a refusal wrote into the target database")
        self.assertFalse(os.path.exists(self.dst.data_dir), "a refusal made the target's data directory")

    # -- 2. a copy that fails halfway leaves no row
    def test_02_a_copy_failing_halfway_leaves_no_row(self):
        bad_dir, bad_cfg = self.src_copy("damaged")
        bad = H.sqlite_file(os.path.join(bad_dir, "ventanilla.db"))
        # The outbox is filled after items, requesters and attachments: a value
        # PostgreSQL refuses in its last row fails the copy when they are in.
        last = bad.scalar("SELECT max(id) FROM outbox")
        bad.execute("UPDATE outbox SET created_at = 'no-es-un-numero-secreto' WHERE id = ?", (last,))
        p = self.copy(frm=bad_cfg)
        self.refused(p, "PostgreSQL refused row", "of table outbox")
        self.assertNotIn("no-es-un-numero-secreto", p.stdout + p.stderr, "a refused value reached the output")
        self.assertIn("items", p.stdout, "the items were copied before the outbox:\n" + p.stdout)
        self.assertIn("schema_migrations", self.dst.tables(), "the target was migrated")
        self.assertEqual(self.data_rows(self.dst), {}, "rows left behind by a failed copy")

    # -- 3. the copy
    def test_03_copy(self):
        t0 = time.monotonic()
        p = self.copy()
        secs = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, "store copy failed:\n%s%s" % (p.stdout, p.stderr))
        print("\n  store copy took %.2f s:\n  %s" % (secs, p.stdout.replace("\n", "\n  ").rstrip()))
        out = p.stdout
        n_items = self.src.scalar("SELECT count(*) FROM items")
        last = self.src.scalar("SELECT radicado FROM items WHERE radicado IS NOT NULL "
                               "ORDER BY radicado_year DESC, radicado_seq DESC LIMIT 1")
        self.assertIn("items:       %d (last radicado %s)" % (n_items, last), out)
        self.assertIn("audit chain: verified, %d events" % self.events, out)
        self.assertRegex(out, r"attachments: 2 files copied")
        self.assertIn("audit key:   copied (it replaces the one migrate made)", out)
        self.assertEqual(p.stderr.strip(), "", "warnings: " + p.stderr)
        with open(os.path.join(self.src.data_dir, "audit.key"), "rb") as a, \
                open(os.path.join(self.dst.data_dir, "audit.key"), "rb") as b:
            self.assertEqual(a.read(), b.read(), "the chain's key travels with it")
        mode = os.stat(os.path.join(self.dst.data_dir, "audit.key")).st_mode & 0o777
        self.assertEqual(mode, 0o600)

    # -- 4. every row of every table, ids kept
    def test_04_every_row_of_every_table(self):
        src_tables = {t for t in self.src.tables()
                      if not t.startswith("sqlite_") and not t.startswith("items_fts_")}
        self.assertEqual(src_tables, self.dst.tables(), "the same tables on both sides")
        self.assertGreater(len(src_tables), 25)
        empty = []
        # attachment_blobs: empty on SQLite (files), filled by the copy (below).
        for t in sorted(src_tables - {"schema_migrations", "items_fts", "attachment_blobs"}):
            with self.subTest(table=t):
                want = rows_of(self.src, t)
                self.assertEqual(rows_of(self.dst, t), want, "table %s" % t)
                if not want:
                    empty.append(t)
        print("\n  tables with no row to compare: %s" % ", ".join(empty))
        # Every attachment's bytes are in the target's database.
        shas = {n for _r, _d, names in os.walk(os.path.join(self.src.data_dir, "attachments"))
                for n in names}
        self.assertEqual(len(shas), 2)  # the web intake's file and the answer's
        for sha in shas:
            self.assertEqual(self.dst.stored_attachment(sha), self.src.stored_attachment(sha), sha)
        self.assertEqual(self.dst.scalar("SELECT count(*) FROM attachment_blobs"), 2)
        for t in ("items", "requesters", "attachments", "audit_events", "audit_head", "radicado_counters",
                  "outbox", "users", "dependencias", "surveys", "survey_answers", "hearings",
                  "hearing_questions", "responses", "response_files", "contacts", "survey_invitations",
                  "commitments", "commitment_progress", "followups", "wa_conversations", "wa_messages",
                  "inbound_seen", "outbox_statuses"):
            self.assertNotIn(t, empty, "the traffic left %s empty: the test proves less than it says" % t)
        self.assertEqual(
            [(r["version"], r["name"]) for r in self.dst.query("SELECT version, name FROM schema_migrations ORDER BY version")],
            [(r["version"], r["name"]) for r in self.src.query("SELECT version, name FROM schema_migrations ORDER BY version")])
        # The full-text index was filled by PostgreSQL's triggers, one row per item.
        self.assertEqual(self.dst.scalar("SELECT count(*) FROM items_fts"), self.src.scalar("SELECT count(*) FROM items"))
        # Blobs arrived as bytea, byte for byte.
        self.assertEqual(self.dst.query("SELECT radicado, tracking_hash FROM items WHERE radicado = ?", (self.web_rad,)),
                         self.src.query("SELECT radicado, tracking_hash FROM items WHERE radicado = ?", (self.web_rad,)))

    # -- 5. a daemon on the PostgreSQL config serves the same data
    def test_05_the_copy_is_served(self):
        d = self.dst
        d.start()
        type(self).d = d  # DaemonCase: a death during a later test fails it
        # Every tracking code shows what it showed on SQLite.
        for rad, code in self.codes.items():
            r = d.track(rad, code)
            self.assertEqual(r.status, 200, "tracking %s: %r" % (rad, r))
            self.assertEqual(r.json(), self.tracked[rad], rad)
        # The staff log in; the files download with the same bytes.
        co = Staff(d, "co")
        r = co.get("/api/v1/items/%s/attachments/%s" % (self.web_rad, self.pdf_sha))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.pdf)
        r = co.get(self.answer_url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.answer_pdf)
        item = co.item(self.answered)
        self.assertEqual(item["assignee"], "ag", item)
        # A word of a copied item finds it (PostgreSQL's full-text index).
        r = co.queue(q=SEARCH_WORD, per_page=100)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["radicado"] for i in r.json()["items"]], [self.web_rad])
        # The hearing's question and the survey's answer are there for the staff.
        r = Staff(d, "mo").get("/api/v1/hearings/rc2026/questions")
        self.assertEqual(r.status, 200, r)
        self.assertIn(self.question_rad, r.text)

    # -- 6. new work numbers on from the copy
    def test_06_new_intake_takes_the_next_radicado(self):
        d = self.dst
        self.assertTrue(d.running(), "test_05 starts the daemon")
        before = {y: d.scalar("SELECT max(radicado_seq) FROM items WHERE radicado_year = ?", (y,))
                  for y in [r["radicado_year"] for r in d.query("SELECT DISTINCT radicado_year FROM items "
                                                                "WHERE radicado_year IS NOT NULL")]}
        doc = H.assert_created(self, d.post_json(H.item_payload(subject="Primera solicitud en PostgreSQL")))
        year, seq = int(doc["radicado"][:4]), H.radicado_seq(doc["radicado"])
        self.assertEqual(seq, before.get(year, 0) + 1, "the next radicado after the copied ones")
        for y in before:
            seqs = [r["radicado_seq"] for r in d.query(
                "SELECT radicado_seq FROM items WHERE radicado_year = ? ORDER BY radicado_seq", (y,))]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "gap-free in %d" % y)
        self.assertEqual(d.track(doc["radicado"], doc["tracking_code"]).status, 200)
        # Rows of other tables with identities: a note, an answer (responses,
        # response_files, outbox), an audit event each.
        co = Staff(d, "co")
        self.assertEqual(co.act(doc["radicado"], "assign", dependencia=TRIAGE, assignee="co").status, 200)
        r = co.act(doc["radicado"], "respond", text="Respuesta desde PostgreSQL.",
                   attachments=[{"filename": "r.pdf", "content_base64": S.b64(H.minimal_pdf("nueva"))}])
        self.assertEqual(r.status, 200, r)
        new_email = d.scalar("SELECT r.email FROM requesters r JOIN items i ON i.id = r.item_id "
                             "WHERE i.radicado = ?", (doc["radicado"],))
        rows = H.outbox_settled(d, new_email)
        self.assertEqual([(x["kind"], x["status"]) for x in rows], [("respuesta", "sent")], rows)
        self.assertGreater(rows[0]["id"], self.src.scalar("SELECT max(id) FROM outbox"))
        # Positive barrier passed: nothing the copied outbox had sent went out again.
        self.assertEqual({a: len(self.smtp.messages(to=a)) for a in self.emails}, self.sent)
        p = d.cli("audit", "verify", "--config", d.cfg_path, "--data-dir", d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertGreater(int(re.search(r"(\d+) events", p.stdout).group(1)), self.events)

    # -- 7. a target that holds data is refused and left as it was
    def test_07_refuses_a_target_with_data(self):
        d = self.dst
        if d.running():
            d.stop()
        before = snapshot(d)
        items = d.scalar("SELECT count(*) FROM items")
        p = self.copy()
        self.refused(p, "has %d items; store copy only fills an empty database" % items)
        self.assertEqual(snapshot(d), before, "a refused copy changed the target")

    # -- 8. a damaged attachment file is not copied, and said so
    def test_08_damaged_attachment_file(self):
        bad_dir, bad_cfg = self.src_copy("damaged-file")
        path = os.path.join(bad_dir, "attachments", self.pdf_sha[:2], self.pdf_sha)
        with open(path, "r+b") as f:
            f.write(b"%PDF-9.9 alterado")
        cfg = {k: v for k, v in self.src.config.items() if k not in ("server", "store")}
        other = H.Daemon(cfg, name="copy-dst2", migrate=False)
        try:
            p = self.copy(frm=bad_cfg, to=other.cfg_path)
            self.assertEqual(p.returncode, 1, "an incomplete copy exits non-zero:\n%s%s" % (p.stdout, p.stderr))
            self.assertIn("%s does not match its name" % path, p.stderr)
            self.assertIn("the copy is incomplete: its rows name 1 attachment file(s)", p.stderr)
            self.assertIn("first: %s" % self.pdf_sha, p.stderr)
            self.assertIn("audit chain: verified", p.stdout, "the rest is copied and verified")
            self.assertEqual(other.scalar("SELECT count(*) FROM items"), self.src.scalar("SELECT count(*) FROM items"))
            self.assertIsNone(other.stored_attachment(self.pdf_sha), "a damaged file was copied")
            leftovers = [n for _r, _d, names in os.walk(os.path.join(other.data_dir, "attachments"))
                         for n in names if n.startswith(".tmp")]
            self.assertEqual(leftovers, [], "temporary files left behind")
        finally:
            other.cleanup()


if __name__ == "__main__":
    H.main()
