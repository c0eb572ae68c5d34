"""`ventanilla backup` and `ventanilla restore` (issue 12, point 20).

A backup is taken while the daemon takes intakes from several threads (JSON
and multipart with small files); the backup is restored into a new directory
and every item acknowledged before the backup started must be there, with its
attachment bytes, gap-free radicados and an audit chain that verifies; a
daemon started on the restored directory serves it. Backup and restore refuse
to write over anything. Everything runs under umask 000: the backup and the
restored directory are the owner's alone all the same."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

THREADS = 6
BEFORE = 150  # intakes acknowledged before the backup starts, at least
AFTER = 30  # and after it ends, at least (the daemon kept serving)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(path):
    """{relative path: (size, mtime_ns)} of everything under path."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, path)] = (st.st_size if not stat.S_ISDIR(st.st_mode) else 0,
                                             st.st_mtime_ns)
    return out


class Load:
    """Intakes from THREADS threads until stopped: every answer is recorded
    with the time its 201 was read."""

    def __init__(self, d):
        self.d = d
        self.lock = threading.Lock()
        self.acked = []  # (t_ack, radicado, tracking_code, subject, [(sha, bytes)])
        self.failures = []
        self.stopping = threading.Event()
        self.cond = threading.Condition(self.lock)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(120)

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_for(self, n, timeout=180):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.acked) < n and not self.failures:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 1))
            return len(self.acked)

    def run(self, t):
        i = 0
        while not self.stopping.is_set():
            i += 1
            subject = "Respaldo en caliente, hilo %d, petición %d" % (t, i)
            files = []
            try:
                if i % 3 == 0:
                    if i % 2:
                        data = H.minimal_pdf("Anexo %d-%d" % (t, i))
                        files = [("attachments", "anexo.pdf", "application/pdf", data)]
                    else:
                        data = H.minimal_png(rgb=(t * 30 % 256, i % 256, (i // 256) % 256))
                        files = [("attachments", "foto.png", "image/png", data)]
                    r = self.d.post_multipart(H.form_fields(subject=subject), files)
                else:
                    r = self.d.post_json(H.item_payload(subject=subject))
            except Exception as e:  # noqa: BLE001
                with self.cond:
                    self.failures.append("%s: %r" % (subject, e))
                    self.cond.notify_all()
                return
            t_ack = time.monotonic()
            with self.cond:
                if r.status != 201:
                    self.failures.append("%s: %r" % (subject, r))
                    self.cond.notify_all()
                    return
                doc = r.json()
                self.acked.append((t_ack, doc["radicado"], doc["tracking_code"], subject,
                                   [(hashlib.sha256(f[3]).hexdigest(), f[3]) for f in files]))
                self.cond.notify_all()


@unittest.skipIf(H.BACKEND == "postgresql", "backup and restore copy the SQLite file ventanilla.db")
class Backup(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.old_umask = os.umask(0)
        cls.d = H.Daemon(name="backup")
        cls.d.start()
        cls.backup = os.path.join(cls.d.dir, "backups", "2026-12-01")
        os.makedirs(os.path.dirname(cls.backup))
        cls.restored = None

    @classmethod
    def tearDownClass(cls):
        os.umask(cls.old_umask)
        if cls.restored:
            cls.restored.cleanup()
        cls.d.cleanup()

    def cli(self, *args, **kw):
        return self.d.cli(*args, **kw)

    def test_01_backup_under_load_then_restore(self):
        d = self.d
        load = Load(d)
        load.start()
        try:
            n = load.wait_for(BEFORE)
            self.assertEqual(load.failures, [], "intakes failed before the backup")
            self.assertGreaterEqual(n, BEFORE)
            t_start = time.monotonic()
            p = self.cli("backup", "--config", d.cfg_path, "--data-dir", d.data_dir, self.backup,
                         timeout=240)
            t_end = time.monotonic()
            n_end = load.count()
            load.wait_for(n_end + AFTER)
        finally:
            load.stop()
        self.assertEqual(p.returncode, 0, "backup failed:\n%s%s" % (p.stdout, p.stderr))
        self.assertEqual(load.failures, [], "intakes failed while the backup ran")
        self.assertGreaterEqual(load.count(), n_end + AFTER, "the daemon stopped taking intakes")
        during = [a for a in load.acked if t_start <= a[0] <= t_end]
        print("\n  %d intakes acknowledged before the backup, %d while it ran (%.2f s), %d in all"
              % (len([a for a in load.acked if a[0] < t_start]), len(during), t_end - t_start,
                 len(load.acked)))
        print("  " + p.stdout.replace("\n", "\n  ").rstrip())
        self.assertIn("Backup of", p.stdout)
        self.assertIn(self.backup, p.stdout)
        d.stop()
        self.assert_no_crash()

        # The backup: owner-only, its manifest true to its database.
        self.assertEqual(mode(self.backup), 0o700)
        for root, dirs, files in os.walk(self.backup):
            for n in dirs:
                self.assertEqual(mode(os.path.join(root, n)), 0o700, os.path.join(root, n))
            for n in files:
                self.assertEqual(mode(os.path.join(root, n)), 0o600, os.path.join(root, n))
        with open(os.path.join(self.backup, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["database"]["sha256"],
                         sha256_file(os.path.join(self.backup, "ventanilla.db")))
        self.assertEqual(sorted(os.listdir(self.backup)),
                         ["attachments", "audit.key", "manifest.json", "ventanilla.db"])
        self.assertEqual(manifest["attachments"]["missing"], [])

        # Restore into a new directory, as an operator would on a new machine.
        r = H.Daemon(name="restored", migrate=False)
        type(self).restored = r
        self.assertFalse(os.path.exists(r.data_dir))
        p = r.cli("restore", "--config", r.cfg_path, "--data-dir", r.data_dir, self.backup,
                  timeout=240)
        self.assertEqual(p.returncode, 0, "restore failed:\n%s%s" % (p.stdout, p.stderr))
        print("  " + p.stdout.replace("\n", "\n  ").rstrip())
        self.assertIn("Restored", p.stdout)
        self.assertEqual(mode(r.data_dir), 0o700)
        for root, dirs, files in os.walk(r.data_dir):
            for n in dirs:
                self.assertEqual(mode(os.path.join(root, n)), 0o700, os.path.join(root, n))
            for n in files:
                self.assertEqual(mode(os.path.join(root, n)), 0o600, os.path.join(root, n))
        p = r.cli("audit", "verify", "--config", r.cfg_path, "--data-dir", r.data_dir)
        self.assertEqual(p.returncode, 0, "audit verify of the restore: %s%s" % (p.stdout, p.stderr))

        # Every item acknowledged before the backup started is there, with its files.
        rows = {x["radicado"]: x for x in r.query("SELECT id, radicado, subject FROM items")}
        files = {}
        for x in r.query("SELECT i.radicado, a.sha256, a.size FROM attachments a "
                         "JOIN items i ON i.id = a.item_id"):
            files.setdefault(x["radicado"], []).append((x["sha256"], x["size"]))
        before = [a for a in load.acked if a[0] < t_start]
        missing = [a[1] for a in before if a[1] not in rows]
        self.assertEqual(missing, [], "acknowledged before the backup started, not in the restore")
        n_files = 0
        for t_ack, radicado, code, subject, sent in before:
            self.assertEqual(rows[radicado]["subject"], subject, radicado)
            self.assertEqual(sorted(s for s, _ in files.get(radicado, [])),
                             sorted(s for s, _ in sent), radicado)
            for sha, data in sent:
                path = os.path.join(r.data_dir, "attachments", sha[:2], sha)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), data, "attachment %s of %s" % (sha, radicado))
                n_files += 1
        self.assertGreater(n_files, 0, "no multipart intake before the backup")
        # Whatever else the backup holds was acknowledged (or in flight) by then.
        acked = {a[1] for a in load.acked}
        self.assertEqual(set(rows) - acked - {None}, set(), "items in the backup never acknowledged")
        # Gap-free numbering from 1 in each year.
        by_year = {}
        for x in r.query("SELECT radicado_year, radicado_seq FROM items WHERE radicado IS NOT NULL"):
            by_year.setdefault(x["radicado_year"], []).append(x["radicado_seq"])
        for year, seqs in by_year.items():
            self.assertEqual(sorted(seqs), list(range(1, len(seqs) + 1)), "gap in %s" % year)

        # A daemon on the restored directory serves it and numbers on from it.
        r.start()
        self.assertEqual(r.get("/healthz").status, 200)
        for t_ack, radicado, code, subject, sent in before[:5] + before[-5:]:
            self.assertEqual(r.track(radicado, code).status, 200, radicado)
        doc = H.assert_created(self, r.post_json(H.item_payload()))
        year = int(doc["radicado"][:4])
        self.assertEqual(H.radicado_seq(doc["radicado"]), len(by_year.get(year, [])) + 1)
        r.stop()
        self.assertEqual(r.crashes, [])
        p = r.cli("audit", "verify", "--config", r.cfg_path, "--data-dir", r.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_02_restore_refuses_a_data_dir_in_use(self):
        """Restore never writes over a data directory: not the live one, not
        one with anything in it."""
        d = self.d
        if not d.running():
            d.start()
        before = tree(d.data_dir)
        db_sha = sha256_file(d.db_path)
        p = self.cli("restore", "--config", d.cfg_path, "--data-dir", d.data_dir, self.backup)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not empty", p.stderr)
        self.assertIn(d.data_dir, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(set(tree(d.data_dir)) - set(before), set(), "restore added files")
        self.assertEqual(sha256_file(d.db_path), db_sha)
        self.assertEqual(d.get("/healthz").status, 200)
        other = os.path.join(d.dir, "other")
        os.mkdir(other)
        with open(os.path.join(other, "notas.txt"), "w") as f:
            f.write("no borrar")
        p = self.cli("restore", "--config", d.cfg_path, "--data-dir", other, self.backup)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not empty", p.stderr)
        self.assertEqual(os.listdir(other), ["notas.txt"])

    def test_03_backup_refuses_a_non_empty_destination(self):
        d = self.d
        dest = os.path.join(d.dir, "backups", "ocupado")
        os.mkdir(dest)
        with open(os.path.join(dest, "otro.txt"), "w") as f:
            f.write("de otro")
        p = self.cli("backup", "--config", d.cfg_path, "--data-dir", d.data_dir, dest)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not empty", p.stderr)
        self.assertEqual(os.listdir(dest), ["otro.txt"])
        # The finished backup is a non-empty directory too.
        before = tree(self.backup)
        p = self.cli("backup", "--config", d.cfg_path, "--data-dir", d.data_dir, self.backup)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(tree(self.backup), before)
        # An empty directory is fine (a fresh mount point, say).
        empty = os.path.join(d.dir, "backups", "vacio")
        os.mkdir(empty, 0o755)
        p = self.cli("backup", "--config", d.cfg_path, "--data-dir", d.data_dir, empty)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(mode(empty), 0o700)

    def test_04_restore_refuses_a_damaged_backup(self):
        """A backup whose database, attachments or manifest were changed or
        lost is refused, and the target is left as it was (absent here)."""
        d = self.d
        base = os.path.join(d.dir, "damaged")
        os.mkdir(base)

        def copy(name):
            dst = os.path.join(base, name)
            shutil.copytree(self.backup, dst)
            return dst

        def refused(src, words):
            target = os.path.join(base, "target-" + os.path.basename(src))
            p = self.cli("restore", "--config", d.cfg_path, "--data-dir", target, src)
            self.assertNotEqual(p.returncode, 0, p.stdout)
            self.assertIn(words, p.stderr)
            self.assertFalse(os.path.exists(target), "a refused restore left %s" % target)

        db = copy("db")
        with open(os.path.join(db, "ventanilla.db"), "r+b") as f:
            f.seek(-100, os.SEEK_END)
            b = f.read(1)
            f.seek(-100, os.SEEK_END)
            f.write(bytes([b[0] ^ 0xFF]))
        refused(db, "checksum")

        att = copy("att")
        top = os.path.join(att, "attachments")
        sub = sorted(os.listdir(top))[0]
        name = sorted(os.listdir(os.path.join(top, sub)))[0]
        with open(os.path.join(top, sub, name), "ab") as f:
            f.write(b"x")
        refused(att, "damaged")

        gone = copy("gone")
        top = os.path.join(gone, "attachments")
        sub = sorted(os.listdir(top))[0]
        os.unlink(os.path.join(top, sub, sorted(os.listdir(os.path.join(top, sub)))[0]))
        refused(gone, "removed")

        unfinished = copy("unfinished")
        os.unlink(os.path.join(unfinished, "manifest.json"))
        refused(unfinished, "manifest.json")

    def test_05_damaged_live_attachment(self):
        """A data directory whose attachment file was damaged still gets a
        backup of everything else: written, the file listed as missing and
        damaged in the manifest, a warning and a non-zero exit; restoring it
        says the file was already missing."""
        d = self.d
        if not d.running():
            d.start()
        pdf = H.minimal_pdf("Anexo que se dañará %d" % H.unique())
        doc = H.assert_created(self, d.post_multipart(
            H.form_fields(), [("attachments", "danado.pdf", "application/pdf", pdf)]))
        sha = hashlib.sha256(pdf).hexdigest()
        with open(os.path.join(d.data_dir, "attachments", sha[:2], sha), "r+b") as f:
            f.write(b"X")
        dest = os.path.join(d.dir, "backups", "con-dano")
        p = self.cli("backup", "--config", d.cfg_path, "--data-dir", d.data_dir, dest)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("incomplete", p.stderr)
        self.assertIn(sha, p.stderr)
        with open(os.path.join(dest, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["attachments"]["missing"], [sha])
        self.assertEqual(manifest["attachments"]["damaged"], [sha])
        self.assertFalse(os.path.exists(os.path.join(dest, "attachments", sha[:2], sha)))
        target = os.path.join(d.dir, "restored-con-dano")
        p = self.cli("restore", "--config", d.cfg_path, "--data-dir", target, dest)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("already missing", p.stdout)
        n = H.sqlite_file(os.path.join(target, "ventanilla.db")).scalar(
            "SELECT count(*) FROM items WHERE radicado = ?", (doc["radicado"],))
        self.assertEqual(n, 1, "the item of the damaged file is restored")

    def test_99_clean_stop(self):
        self.assert_no_crash()
        if self.d.running():
            self.d.stop()


if __name__ == "__main__":
    H.main()
