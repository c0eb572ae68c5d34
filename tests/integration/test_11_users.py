"""Staff accounts from the command line: `ventanilla user add/passwd/disable`
with Argon2id hashes, a password read from standard input, refusals that
name the problem, and every change in the audit chain."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


class Users(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="users")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def user(self, *args, password=None):
        return H.run_cli("user", args[0], "--config", self.d.cfg_path, "--data-dir", self.d.data_dir,
                         *args[1:], input=password)

    def row(self, name):
        rows = self.d.query("SELECT * FROM users WHERE username = ?", (name,))
        return rows[0] if rows else None

    def test_01_add_hashes_with_argon2id(self):
        p = self.user("add", "marta.rios", "--role", "agente", "--dependencia", "atencion",
                      password="una clave larga y propia\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.row("marta.rios")
        self.assertEqual((r["role"], r["dependencia"], r["disabled"]), ("agente", "atencion", 0))
        self.assertTrue(r["password_hash"].startswith("$argon2id$"), r["password_hash"])
        self.assertNotIn("una clave", r["password_hash"])
        ev = self.d.query("SELECT actor, payload FROM audit_events WHERE action = 'usuario_creado'")
        self.assertEqual(len(ev), 1)
        self.assertNotIn("clave", ev[0]["payload"])

    def test_02_refusals_store_nothing(self):
        cases = [
            (("add", "x", "--role", "agente"), "clave suficientemente larga\n", "username"),
            (("add", "pedro", "--role", "jefe"), "clave suficientemente larga\n", "role"),
            (("add", "pedro", "--role", "agente"), "corta\n", "password"),
            (("add", "pedro", "--role", "agente"), "", "no password"),
        ]
        for args, pw, word in cases:
            p = self.user(*args, password=pw)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(word, p.stderr, args)
        self.assertIsNone(self.row("pedro"))
        self.assertIsNone(self.row("x"))
        self.user("add", "unico", "--role", "gerente", password="clave suficientemente larga\n")
        p = self.user("add", "unico", "--role", "admin", password="otra clave bastante larga\n")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("taken", p.stderr)
        self.assertEqual(self.row("unico")["role"], "gerente")

    def test_03_passwd_and_disable(self):
        self.user("add", "coord", "--role", "coordinador", password="primera clave larga\n")
        before = self.row("coord")["password_hash"]
        p = self.user("passwd", "coord", password="segunda clave larga\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(self.row("coord")["password_hash"], before)
        # Each moves the account's session epoch on: a running daemon ends its sessions at
        # their next request (test_27_accounts.py checks that against the daemon).
        self.assertEqual(self.row("coord")["session_epoch"], 1)
        self.assertEqual(self.user("disable", "coord").returncode, 0)
        self.assertEqual(self.row("coord")["disabled"], 1)
        self.assertEqual(self.row("coord")["session_epoch"], 2)
        self.assertNotEqual(self.user("passwd", "nadie", password="clave larga de nadie\n").returncode, 0)
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    H.main()
