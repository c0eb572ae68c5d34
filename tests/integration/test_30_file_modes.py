"""The data directory is the daemon user's alone, whatever the umask (issue 12,
point 15): ventanilla.db, its -wal and -shm, audit.key, the lock and every
attachment are 0600, the directories ventanilla makes are 0700. The CLI and the
daemon run here under umask 000, the worst an operator's shell or a service
manager can hand them."""
import hashlib
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class FileModes(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        # Every process started from here (migrate, serve) inherits it.
        cls.old_umask = os.umask(0)
        cls.d = H.Daemon(name="modes")  # migrates under umask 000
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        os.umask(cls.old_umask)
        cls.d.cleanup()

    def assert_owner_only(self, path, want):
        self.assertEqual(mode(path), want, "%s is %04o, expected %04o" % (path, mode(path), want))

    @unittest.skipIf(H.BACKEND == "postgresql", "about the modes of the SQLite file ventanilla.db and its -wal, -shm")
    def test_01_new_data_dir(self):
        """migrate and serve under umask 000: the directory is 0700, the
        database, its -wal and -shm, the key and the lock are 0600."""
        d = self.d
        r = d.post_json(H.item_payload(subject="Una petición para abrir el WAL"))
        H.assert_created(self, r)
        for name in ("ventanilla.db", "ventanilla.db-wal", "ventanilla.db-shm", "audit.key",
                     "ventanilla.lock"):
            path = os.path.join(d.data_dir, name)
            self.assertTrue(os.path.exists(path), "%s does not exist while the daemon runs" % path)
            self.assert_owner_only(path, 0o600)
        self.assert_owner_only(d.data_dir, 0o700)

    @unittest.skipIf(H.BACKEND == "postgresql",
                     "on PostgreSQL attachments are in the database (attachment_blobs), not files")
    def test_02_attachments(self):
        """An attachment and the directories holding it are the owner's alone."""
        d = self.d
        pdf = H.minimal_pdf("Documento de prueba de permisos %d" % H.unique())
        r = d.post_multipart(H.form_fields(), [("attachments", "soporte.pdf", "application/pdf", pdf)])
        H.assert_created(self, r)
        sha = hashlib.sha256(pdf).hexdigest()
        top = os.path.join(d.data_dir, "attachments")
        sub = os.path.join(top, sha[:2])
        path = os.path.join(sub, sha)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), pdf)
        self.assert_owner_only(top, 0o700)
        self.assert_owner_only(sub, 0o700)
        self.assert_owner_only(path, 0o600)
        # no temporary file left readable either
        self.assertEqual([n for n in os.listdir(sub) if n.startswith(".tmp")], [])

    @unittest.skipIf(H.BACKEND == "postgresql", "about the modes of the SQLite file ventanilla.db and its -wal, -shm")
    def test_03_loose_files_are_tightened(self):
        """A database and key that an older version (or a copy) left readable
        to others are brought to 0600 when the daemon starts, and migrate
        does the same."""
        d = self.d
        d.stop()
        db = os.path.join(d.data_dir, "ventanilla.db")
        key = os.path.join(d.data_dir, "audit.key")
        os.chmod(db, 0o644)
        os.chmod(key, 0o644)
        d.start()
        self.assert_owner_only(db, 0o600)
        self.assert_owner_only(key, 0o600)
        for name in ("ventanilla.db-wal", "ventanilla.db-shm"):
            self.assert_owner_only(os.path.join(d.data_dir, name), 0o600)
        d.stop()
        os.chmod(db, 0o664)
        os.chmod(key, 0o640)
        d.migrate()
        self.assert_owner_only(db, 0o600)
        self.assert_owner_only(key, 0o600)
        d.start()
        H.assert_created(self, d.post_json(H.item_payload()))

    def test_99_clean_stop(self):
        self.assert_no_crash()
        if self.d.running():
            self.d.stop()


if __name__ == "__main__":
    H.main()
