"""Intake over the API (JSON, urlencoded, multipart with attachments),
tracking, persistence across restarts and the audit chain."""
import datetime
import hashlib
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import legal_calendar as LC  # noqa: E402


class Intake(H.DaemonCase):
    d = None
    created = []  # (doc, request) of every successful intake, in order

    @classmethod
    def setUpClass(cls):
        # Every item filed here is looked up again, from the one test address.
        cls.d = H.Daemon(name="intake", config={"tracking": {"rate_limit_per_minute": 100000, "rate_limit_burst": 100000}})
        cls.d.start()
        cls.created = []

    @classmethod
    def tearDownClass(cls):
        if cls.d:
            cls.d.cleanup()

    def remember(self, doc, req=None):
        Intake.created.append((doc, req))

    def item_row(self, radicado):
        rows = self.d.query("SELECT * FROM items WHERE radicado = ?", (radicado,))
        self.assertEqual(len(rows), 1, "no single items row for %s" % radicado)
        return rows[0]

    def requester_row(self, item_id):
        rows = self.d.query("SELECT * FROM requesters WHERE item_id = ?", (item_id,))
        self.assertEqual(len(rows), 1)
        return rows[0]

    # ------------------------------------------------------------------
    def test_01_json_every_field(self):
        p = H.person()
        req = {
            "kind": "pqrsd",
            "type": "peticion",
            "petition_class": "general",
            "subject": "Información sobre el contrato de alumbrado público",
            "body": "Solicito copia del contrato 123 de 2025 y sus adiciones.\nGracias.",
            "requester": {
                "person_type": "natural",
                "name": p["name"],
                "id_type": "CC",
                "id_number": p["id_number"],
                "email": p["email"],
                "phone": p["phone"],
                "address": "Calle 10 # 5-20, barrio La Esperanza",
                "municipality": "Villavicencio",
                "characterization": {
                    "age_range": "29-59",
                    "gender": "mujer",
                    "ethnic_group": "ninguno",
                    "disability": False,
                    "conflict_victim": True,
                    "migrant": False,
                    "zone": "urbana",
                },
            },
            "reply_channel": "email",
            "declared_group": "ciudadania",
            "data_consent": True,
        }
        before = datetime.datetime.now(datetime.timezone.utc)
        r = self.d.post_json(req)
        after = datetime.datetime.now(datetime.timezone.utc)
        doc = H.assert_created(self, r)
        self.assertTrue(r.header("content-type", "").startswith("application/json"), r.headers)
        self.remember(doc, req)

        # radicado: current Bogotá year, 6 digits, first one is 1
        year, seq = H.RADICADO_RE.match(doc["radicado"]).groups()
        received = datetime.datetime.fromisoformat(doc["received_at"])
        self.assertEqual(received.utcoffset(), datetime.timedelta(hours=-5))
        self.assertLessEqual(before - datetime.timedelta(seconds=2), received)
        self.assertLessEqual(received, after + datetime.timedelta(seconds=2))
        self.assertEqual(int(year), received.year)
        self.assertEqual(int(seq), 1, "first radicado of a fresh database")
        self.assertEqual(doc["stakeholder_group"], "ciudadania")
        self.assertEqual(doc["classified_by"], "declared")
        self.assertRegex(doc["due_date"], H.DATE_RE)
        self.assertEqual(doc["due_date"], LC.due_date(doc["received_at"], "peticion", "general"))

        row = self.item_row(doc["radicado"])
        self.assertEqual(row["kind"], "pqrsd")
        self.assertEqual(row["type"], "peticion")
        self.assertEqual(row["petition_class"], "general")
        self.assertEqual(row["subject"], req["subject"])
        self.assertEqual(row["body"], req["body"])
        self.assertEqual(row["status"], "radicado")
        self.assertEqual(row["due_date"], doc["due_date"])
        self.assertEqual(row["term_days"], 15)
        self.assertEqual(row["radicado_year"], int(year))
        self.assertEqual(row["radicado_seq"], int(seq))
        self.assertEqual(row["reply_channel"], "email")
        self.assertEqual(row["stakeholder_group"], "ciudadania")
        self.assertEqual(row["classified_by"], "declared")
        self.assertAlmostEqual(row["received_at"] / 1000.0, received.timestamp(), delta=1.0)
        # the tracking code is not stored in clear
        th = row["tracking_hash"]
        self.assertIsNotNone(th)
        self.assertNotIn(doc["tracking_code"].encode(), th if isinstance(th, bytes) else str(th).encode())

        rq = self.requester_row(row["id"])
        rr = req["requester"]
        for k in ("person_type", "name", "id_type", "id_number", "email", "phone", "address", "municipality"):
            self.assertEqual(rq[k], rr[k], k)
        self.assertEqual(rq["data_consent"], 1)
        self.assertEqual(json.loads(rq["characterization"]), rr["characterization"])

    def test_02_urlencoded(self):
        f = H.form_fields(type="reclamo", reply_channel="email")
        r = self.d.post_form(f)
        doc = H.assert_created(self, r)
        self.remember(doc, f)
        self.assertEqual(doc["due_date"], LC.due_date(doc["received_at"], "reclamo"))
        row = self.item_row(doc["radicado"])
        self.assertEqual(row["type"], "reclamo")
        self.assertEqual(row["subject"], f["subject"])
        self.assertEqual(row["body"], f["body"])
        rq = self.requester_row(row["id"])
        self.assertEqual(rq["name"], f["name"])
        self.assertEqual(rq["email"], f["email"])
        self.assertEqual(rq["id_number"], f["id_number"])
        self.assertEqual(rq["data_consent"], 1)

    def check_attachment(self, doc, data, filename, ctype):
        atts = doc.get("attachments")
        self.assertIsInstance(atts, list, doc)
        sha = hashlib.sha256(data).hexdigest()
        mine = [a for a in atts if a.get("sha256") == sha]
        self.assertEqual(len(mine), 1, "attachment %s not in %r" % (filename, atts))
        a = mine[0]
        self.assertEqual(a["filename"], filename)
        self.assertEqual(a["size"], len(data))
        self.assertEqual(a["content_type"], ctype)
        self.assertEqual(self.d.stored_attachment(sha), data, "attachment %s not stored" % sha)
        row = self.item_row(doc["radicado"])
        rows = self.d.query("SELECT * FROM attachments WHERE item_id = ? AND sha256 = ?", (row["id"], sha))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["size"], len(data))
        self.assertEqual(rows[0]["content_type"], ctype)
        self.assertEqual(rows[0]["filename"], filename)

    def test_03_multipart_pdf(self):
        pdf = H.minimal_pdf("Derecho de peticion")
        f = H.form_fields(type="peticion", petition_class="documentos")
        r = self.d.post_multipart(f, [("attachments", "soporte.pdf", "application/pdf", pdf)])
        doc = H.assert_created(self, r)
        self.remember(doc, f)
        self.check_attachment(doc, pdf, "soporte.pdf", "application/pdf")
        Intake.pdf = pdf

    def test_04_multipart_png_and_pdf(self):
        png = H.minimal_png()
        pdf = H.minimal_pdf("otro")
        f = H.form_fields(type="denuncia")
        r = self.d.post_multipart(f, [("attachments", "foto.png", "image/png", png),
                                      ("attachments", "acta.pdf", "application/pdf", pdf)])
        doc = H.assert_created(self, r)
        self.remember(doc, f)
        self.assertEqual(len(doc["attachments"]), 2, doc)
        self.check_attachment(doc, png, "foto.png", "image/png")
        self.check_attachment(doc, pdf, "acta.pdf", "application/pdf")

    def test_05_felicitacion_has_no_due_date(self):
        r = self.d.post_json(H.item_payload(type="felicitacion", subject="Felicitaciones",
                                            body="Excelente atención en la sede principal."))
        doc = H.assert_created(self, r)
        self.remember(doc)
        self.assertIsNone(doc["due_date"])
        row = self.item_row(doc["radicado"])
        self.assertIsNone(row["due_date"])

    def test_06_documentos_shorter_than_consulta(self):
        docs = {}
        for cls in ("documentos", "general", "consulta"):
            r = self.d.post_json(H.item_payload(type="peticion", petition_class=cls))
            doc = H.assert_created(self, r)
            self.remember(doc)
            self.assertEqual(doc["due_date"], LC.due_date(doc["received_at"], "peticion", cls), cls)
            docs[cls] = doc
        self.assertLess(docs["documentos"]["due_date"], docs["general"]["due_date"])
        self.assertLess(docs["general"]["due_date"], docs["consulta"]["due_date"])
        terms = {c: self.item_row(docs[c]["radicado"])["term_days"] for c in docs}
        self.assertEqual(terms, {"documentos": 10, "general": 15, "consulta": 30})

    def test_07_anonymous_denuncia(self):
        r = self.d.post_json(H.item_payload(type="denuncia", requester={"person_type": "anonimo"}))
        doc = H.assert_created(self, r)
        self.remember(doc)
        self.assertEqual(doc["due_date"], LC.due_date(doc["received_at"], "denuncia"))
        row = self.item_row(doc["radicado"])
        self.assertEqual(row["reply_channel"], "web", "default reply channel without an email")

    def test_08_radicados_consecutive(self):
        seqs = [H.radicado_seq(doc["radicado"]) for doc, _ in self.created]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), seqs)

    def test_09_track(self):
        self.assertTrue(self.created)
        for doc, _ in self.created:
            r = self.d.track(doc["radicado"], doc["tracking_code"])
            self.assertEqual(r.status, 200, r)
            t = r.json()
            self.assertEqual(t["radicado"], doc["radicado"])
            self.assertEqual(t["status"], "radicado")
            self.assertIn(t["type"], ("peticion", "queja", "reclamo", "sugerencia", "denuncia", "felicitacion"))
            self.assertEqual(t["received_at"], doc["received_at"])
            self.assertEqual(t["due_date"], doc["due_date"])
            self.assertIsInstance(t["history"], list)
            self.assertGreaterEqual(len(t["history"]), 1)
            for ev in t["history"]:
                for k in ("at", "action", "description"):
                    self.assertIn(k, ev)

    def test_10_track_wrong_code_equals_unknown(self):
        doc = self.created[0][0]
        code = doc["tracking_code"]
        wrong = code[:-1] + ("7" if code[-1].upper() != "7" else "8")
        year = doc["radicado"][:4]
        r_wrong = self.d.track(doc["radicado"], wrong)
        r_unknown = self.d.track("%s-999999" % year, code)
        r_both = self.d.track("1999-000001", wrong)
        for r in (r_wrong, r_unknown, r_both):
            self.assertEqual(r.status, 404, r)
        self.assertEqual(r_wrong.body, r_unknown.body)
        self.assertEqual(r_wrong.body, r_both.body)

    def test_11_content_type_parameters(self):
        body = json.dumps(H.item_payload()).encode()
        for ct in ("application/json; charset=utf-8", "application/json;charset=UTF-8"):
            r = self.d.request("POST", "/api/v1/items", body, {"Content-Type": ct})
            self.remember(H.assert_created(self, r))

    def test_12_empty_file_part(self):
        """A browser sends an empty part with filename="" when no file is chosen."""
        r = self.d.post_multipart(H.form_fields(), [("attachments", "", "application/octet-stream", b"")])
        doc = H.assert_created(self, r)
        self.remember(doc)
        self.assertEqual(doc.get("attachments", []), [])
        row = self.item_row(doc["radicado"])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM attachments WHERE item_id = ?", (row["id"],)), 0)

    def test_20_restart_keeps_everything(self):
        n_items = self.d.scalar("SELECT count(*) FROM items")
        n_att = self.d.scalar("SELECT count(*) FROM attachments")
        self.assertEqual(n_items, len(self.created))
        self.d.restart()
        self.assertEqual(self.d.get("/healthz").status, 200)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), n_items)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM attachments"), n_att)
        for doc, _ in self.created:
            r = self.d.track(doc["radicado"], doc["tracking_code"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["received_at"], doc["received_at"])
        sha = hashlib.sha256(Intake.pdf).hexdigest()
        self.assertEqual(self.d.stored_attachment(sha), Intake.pdf)
        # numbering continues after the restart
        r = self.d.post_json(H.item_payload(type="sugerencia"))
        doc = H.assert_created(self, r)
        self.remember(doc)
        self.assertEqual(H.radicado_seq(doc["radicado"]), len(self.created))

    # ------------------------------------------------------------------
    # audit chain: the daemon is stopped from here on

    def verify(self, data_dir, cfg_path=None):
        p = self.d.cli("audit", "verify", "--config", cfg_path or self.d.cfg_path, "--data-dir", data_dir)
        return p.returncode, p.stdout + p.stderr

    def tampered_copy(self, name):
        """The stopped daemon's data directory and database, copied (H.StoreCopy)."""
        return self.d.copy_store(name)

    def assert_names_event(self, out, ids):
        pat = r"(?i)(event[ _-]?(id)?\s*[=:#]?\s*|id\s*[=:]\s*)(%s)\b" % "|".join(str(i) for i in ids)
        self.assertRegex(out, pat, "audit verify output does not name event %s" % ids)

    def test_30_audit_verify_intact(self):
        self.assert_no_crash()
        if self.d.running():
            self.d.stop()
        n = self.d.scalar("SELECT count(*) FROM audit_events")
        self.assertGreaterEqual(n, len(self.created), "one audit event per intake at least")
        rc, out = self.verify(self.d.data_dir)
        self.assertEqual(rc, 0, out)
        copy = self.tampered_copy("copy-intact")
        rc, out = self.verify(copy.data_dir, copy.cfg_path)
        self.assertEqual(rc, 0, "an untouched copy must verify: " + out)

    def middle_event(self, copy):
        ids = [r["id"] for r in copy.query("SELECT id FROM audit_events ORDER BY id")]
        self.assertGreaterEqual(len(ids), 3)
        return ids, ids[len(ids) // 2]

    def test_31_audit_update_payload(self):
        if self.d.running():
            self.d.stop()
        copy = self.tampered_copy("copy-update")
        ids, k = self.middle_event(copy)
        copy.execute("UPDATE audit_events SET payload = ? WHERE id = ?", ('{"status":"respondido"}', k))
        rc, out = self.verify(copy.data_dir, copy.cfg_path)
        self.assertNotEqual(rc, 0, "tampered payload verified: " + out)
        self.assert_names_event(out, [k])

    def test_32_audit_delete_middle(self):
        if self.d.running():
            self.d.stop()
        copy = self.tampered_copy("copy-delete")
        ids, k = self.middle_event(copy)
        nxt = ids[ids.index(k) + 1]
        copy.execute("DELETE FROM audit_events WHERE id = ?", (k,))
        rc, out = self.verify(copy.data_dir, copy.cfg_path)
        self.assertNotEqual(rc, 0, "deleted event verified: " + out)
        self.assert_names_event(out, [k, nxt])

    def test_33_audit_insert_forged(self):
        if self.d.running():
            self.d.stop()
        copy = self.tampered_copy("copy-insert")
        last = copy.query("SELECT id, hash, item_id FROM audit_events ORDER BY id DESC LIMIT 1")[0]
        last_id, last_hash, item_id = last["id"], last["hash"], last["item_id"]
        forged = last_id + 1
        copy.execute("INSERT INTO audit_events (id, item_id, at, actor, action, payload, public, prev_hash, hash) "
                     "VALUES (?, ?, ?, 'funcionario', 'answered', '{}', 1, ?, ?)",
                     (forged, item_id, 1_900_000_000_000, last_hash, "ab" * 32))
        rc, out = self.verify(copy.data_dir, copy.cfg_path)
        self.assertNotEqual(rc, 0, "forged event verified: " + out)
        self.assert_names_event(out, [forged])


class ConfiguredIntake(H.DaemonCase):
    """The entity's settings change what the citizen gets."""

    @classmethod
    def setUpClass(cls):
        now = H.bogota_now().isoformat(timespec="seconds")
        cls.default_due = LC.due_date(now, "peticion", "general")
        cls.d = H.Daemon(name="configured", config={
            "radicado": {"prefix": "ABC", "digits": 8},
            "office": {"non_working_days": [cls.default_due]},
            "terms": {"queja": 20},
            "intake": {"max_subject_chars": 50},
        })
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_01_prefix_and_digits(self):
        r = self.d.post_json(H.item_payload(subject="Solicitud corta"))
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        year = doc["received_at"][:4]
        self.assertEqual(doc["radicado"], "ABC-%s-00000001" % year)
        r = self.d.post_json(H.item_payload(subject="Solicitud corta"))
        self.assertEqual(r.json()["radicado"], "ABC-%s-00000002" % year)
        t = self.d.track(doc["radicado"], doc["tracking_code"])
        self.assertEqual(t.status, 200, t)

    def test_02_extra_non_working_day_moves_due_date(self):
        r = self.d.post_json(H.item_payload(type="peticion", subject="Solicitud corta"))
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        expected = LC.due_date(doc["received_at"], "peticion", "general", extra=[self.default_due])
        self.assertEqual(doc["due_date"], expected,
                         "%s is configured as a non-working day" % self.default_due)
        if LC.due_date(doc["received_at"], "peticion", "general") == self.default_due:
            # the extra day fell inside the term (unless the day changed meanwhile)
            self.assertGreater(doc["due_date"], self.default_due)

    def test_03_configured_term(self):
        r = self.d.post_json(H.item_payload(type="queja", subject="Queja corta"))
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        row = self.d.query("SELECT term_days FROM items WHERE radicado = ?", (doc["radicado"],))[0]
        self.assertEqual(row["term_days"], 20)
        self.assertEqual(doc["due_date"], LC.due_date(doc["received_at"], days=20, extra=[self.default_due]))

    def test_04_configured_subject_limit(self):
        H.assert_error(self, self.d.post_json(H.item_payload(subject="s" * 51)), 422, "too_long", "subject")
        r = self.d.post_json(H.item_payload(subject="s" * 50))
        self.assertEqual(r.status, 201, r)


if __name__ == "__main__":
    H.main()
