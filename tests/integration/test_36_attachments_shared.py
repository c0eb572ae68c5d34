"""Attachments and the audit key when several instances share one PostgreSQL
database (issue 14, point 2 last sentence and point 3 "attachments are
readable from any instance"): the bytes live in the database, so an instance
serves a file another one received; an instance needs no data directory at
all (its audit key is a file the config names).

PostgreSQL only (a second instance and a missing data directory need it).
"""
import hashlib
import os
import shutil
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402

PG_ONLY = "several instances and no data directory need the PostgreSQL backend"
TRIAGE = "atencion_ciudadano"
ENTITY = "pqrsd@entidad.gov.co"


def closed_port():
    """A local TCP port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def file_with(d, name, data, ctype="application/pdf"):
    """Files a web intake with one attachment; returns (radicado, sha256)."""
    r = d.post_multipart(H.form_fields(subject="Solicitud con soporte %s" % name),
                         [("attachments", name, ctype, data)])
    assert r.status == 201, r
    return r.json()["radicado"], hashlib.sha256(data).hexdigest()


@unittest.skipIf(H.BACKEND != "postgresql", PG_ONLY)
class TwoInstances(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = H.Daemon(name="blobs-a")
        S.add_user(cls.a, "gerente1", "gerente")
        cls.a.start()
        cls.b = H.Daemon(name="blobs-b", share=cls.a)
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        cls.b.cleanup()
        cls.a.cleanup()

    def test_01_a_file_received_by_one_instance_downloads_from_the_other(self):
        data = H.minimal_pdf("recibido en A")
        rad, sha = file_with(self.a, "soporte.pdf", data)
        g = S.Staff(self.b, "gerente1")
        f = g.get("/api/v1/items/%s/attachments/%s" % (rad, sha))
        self.assertEqual(f.status, 200, f)
        self.assertEqual(f.body, data)
        self.assertEqual(f.header("content-type"), "application/pdf")
        self.assertIn('filename="soporte.pdf"', f.header("content-disposition", ""))
        # Neither data directory holds it: the bytes are in the database.
        self.assertFalse(os.path.exists(os.path.join(self.b.data_dir, "attachments")))
        self.assertFalse(os.path.exists(os.path.join(self.a.data_dir, "attachments")))
        self.assertEqual(self.a.stored_attachment(sha), data)
        # And the other way round.
        data2 = H.minimal_png(3, 3)
        rad2, sha2 = file_with(self.b, "foto.png", data2, "image/png")
        f = S.Staff(self.a, "gerente1").get("/api/v1/items/%s/attachments/%s" % (rad2, sha2))
        self.assertEqual((f.status, f.body), (200, data2))

    def test_02_the_same_file_twice_is_stored_once(self):
        data = H.minimal_pdf("dos veces")
        _, sha = file_with(self.a, "uno.pdf", data)
        _, sha_b = file_with(self.b, "otro.pdf", data)
        self.assertEqual(sha, sha_b)
        self.assertEqual(self.a.scalar("SELECT count(*) FROM attachment_blobs WHERE sha256 = ?", (sha,)), 1)
        self.assertEqual(self.a.scalar("SELECT count(*) FROM attachments WHERE sha256 = ?", (sha,)), 2)


@unittest.skipIf(H.BACKEND != "postgresql", PG_ONLY)
class AnswerSentByTheOtherInstance(unittest.TestCase):
    """Staff answer on B with a file; B cannot reach the SMTP server (its
    config names a closed port), so only A can send the email: the file it
    attaches is the one B stored. A is stopped while B takes the answer, and
    B's data directory loses whatever it wrote (as if B ran on another
    machine) before A starts again."""

    @classmethod
    def setUpClass(cls):
        import mailservers
        cls.smtp = mailservers.SmtpSink().start()
        email = {"enabled": True, "smtp_url": cls.smtp.url, "from": ENTITY, "allow_plaintext_loopback": True}
        cfg = {"channels": {"email": email},
               "outbox": {"timeout_ms": 3000, "backoff_base_ms": 100, "backoff_max_ms": 1000, "max_attempts": 100},
               "staff": {"login_per_minute": 10000}}
        cls.a = H.Daemon(cfg, name="blobs-mail-a")
        S.add_user(cls.a, "co1", "coordinador", TRIAGE)
        cls.a.start()
        broken = H.deep_merge(cfg, {"channels": {"email": {"smtp_url": "smtp://127.0.0.1:%d" % closed_port()}}})
        cls.b = H.Daemon(broken, name="blobs-mail-b", share=cls.a)
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.b.cleanup()
            cls.a.cleanup()
        finally:
            cls.smtp.stop()

    def test_01_the_answer_file_goes_out_from_the_instance_that_did_not_store_it(self):
        req = S.web_requester(email=True)
        rad = S.file_item(self, self.a, requester=req)["radicado"]
        self.a.stop()
        pdf = H.minimal_pdf("Respuesta con anexo %d" % H.unique())
        r = S.Staff(self.b, "co1").act(rad, "respond", text="Le enviamos el acta.",
                                       attachments=[{"filename": "acta.pdf", "content_base64": S.b64(pdf)}])
        self.assertEqual(r.status, 200, r)
        shutil.rmtree(os.path.join(self.b.data_dir, "attachments"), ignore_errors=True)
        self.a.start()

        def arrived():
            got = [m for m in self.smtp.messages(to=req["email"])
                   if "Respuesta a su solicitud" in (m.msg["Subject"] or "")]
            return got or None
        m = self.smtp.wait_for(arrived, timeout=H.WAIT * 2, what="the answer by email")[0].msg
        atts = list(m.iter_attachments())
        self.assertEqual([(a.get_filename(), a.get_content()) for a in atts], [("acta.pdf", pdf)])


@unittest.skipIf(H.BACKEND != "postgresql", PG_ONLY)
class NoDataDirectory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="blobs-nodir", no_data_dir=True)
        S.add_user(cls.d, "gerente1", "gerente")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        for d in getattr(cls, "others", []):
            d.cleanup()
        cls.d.cleanup()

    def test_01_serves_intakes_with_attachments_and_the_chain_verifies(self):
        self.assertIsNone(self.d.data_dir)
        self.assertNotIn("data_dir", self.d.config["server"])
        data = H.minimal_pdf("sin directorio")
        rad, sha = file_with(self.d, "anexo.pdf", data)
        f = S.Staff(self.d, "gerente1").get("/api/v1/items/%s/attachments/%s" % (rad, sha))
        self.assertEqual((f.status, f.body), (200, data))
        # Nothing but the key and the config in the daemon's directory.
        self.assertEqual(sorted(os.listdir(self.d.dir)), ["audit.key", "ventanilla.json"])
        p = S.audit_verify(self, self.d)
        self.assertIn("ok", p.stdout.lower())

    def test_02_a_second_instance_without_data_directory_shares_key_and_files(self):
        other = H.Daemon(name="blobs-nodir-2", share=self.d, no_data_dir=True)
        self.__class__.others = [other]
        other.start()
        data = H.minimal_pdf("segunda instancia")
        rad, sha = file_with(other, "segundo.pdf", data)
        f = S.Staff(self.d, "gerente1").get("/api/v1/items/%s/attachments/%s" % (rad, sha))
        self.assertEqual((f.status, f.body), (200, data))
        S.audit_verify(self, self.d)

    def test_03_a_missing_key_file_says_how_to_make_one(self):
        d = H.Daemon(name="blobs-nokey", share=self.d, no_data_dir=True)
        self.__class__.others = getattr(self.__class__, "others", []) + [d]
        os.remove(d.key_path)
        p = d.cli("audit", "verify", "--config", d.cfg_path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ventanilla audit new-key", p.stderr + p.stdout)
        # serve refuses to start without its key, and says so.
        p = d.cli("serve", "--config", d.cfg_path, "--port", "0", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("audit new-key", p.stderr)

    def test_04_new_key_never_overwrites(self):
        with open(self.d.key_path, "rb") as f:
            before = f.read()
        p = self.d.cli("audit", "new-key", self.d.key_path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("exists already", p.stderr)
        with open(self.d.key_path, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(len(before), 32)


@unittest.skipIf(H.BACKEND != "postgresql", PG_ONLY)
class StoreCopyWithoutDataDirectory(unittest.TestCase):
    """`store copy` into a PostgreSQL config without a data directory: the
    attachments go into the database and the key into store.audit_key_file,
    and an instance without a data directory serves the copy."""

    def test_01_copy_then_serve(self):
        src = H.Daemon({"staff": {"login_per_minute": 10000}}, name="blobs-copy-src", backend="sqlite")
        dst = None
        try:
            S.add_user(src, "gerente1", "gerente")
            src.start()
            data = H.minimal_pdf("copiado %d" % H.unique())
            rad, sha = file_with(src, "copiado.pdf", data)
            src.stop()
            dst = H.Daemon(name="blobs-copy-dst", no_data_dir=True, migrate=False)
            os.remove(dst.key_path)  # the copy brings the source's key
            p = dst.cli("store", "copy", "--config", src.cfg_path, "--to-config", dst.cfg_path, timeout=240)
            self.assertEqual(p.returncode, 0, "store copy failed:\n%s%s" % (p.stdout, p.stderr))
            self.assertIn("attachments: 1 files copied into the database", p.stdout)
            with open(os.path.join(src.data_dir, "audit.key"), "rb") as a, open(dst.key_path, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(os.stat(dst.key_path).st_mode & 0o777, 0o600)
            dst.start()
            f = S.Staff(dst, "gerente1").get("/api/v1/items/%s/attachments/%s" % (rad, sha))
            self.assertEqual((f.status, f.body), (200, data))
            S.audit_verify(self, dst)
        finally:
            if dst:
                dst.cleanup()
            src.cleanup()


if __name__ == "__main__":
    unittest.main()
