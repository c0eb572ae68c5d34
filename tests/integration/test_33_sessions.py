"""Staff sessions in the database (issue 14, point 3: "a staff session and its
CSRF token work on any instance"; docs/staff-api.md, "Sessions"), on both
backends:

- a session and its CSRF token survive a daemon restart;
- a logout ends the session for good (a restart does not bring it back);
- a password change by its owner ends the account's other sessions and keeps
  the one that made it, `ventanilla user passwd` and `user disable` end them
  all (the account's session epoch), restarts notwithstanding;
- the database holds only the BLAKE2b-256 hash of a cookie's token: neither
  the token nor the CSRF token is in any column of any table;
- a session's last use is written back (at most once per touch interval),
  and expired rows are deleted by the daemon's periodic sweep without any
  request coming;
- on PostgreSQL only, two daemons on one database (each its own data
  directory with the first one's audit.key): a session opened on A works on
  B with its CSRF token, a logout on B ends it on A, and a password change on
  A ends the account's other sessions on B.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_33_sessions.py
"""
import datetime
import hashlib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
FAST_LOGINS = {"login_per_minute": 10000}
NEW_PASSWORD = "otra clave de prueba bastante larga"


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


def token_of(s):
    """The token in a Staff session's cookie (vt_session=TOKEN)."""
    return s.cookie.split("=", 1)[1]


def key_of(s):
    """What the database may hold of s's cookie: BLAKE2b-256 of its token."""
    return hashlib.blake2b(token_of(s).encode("ascii"), digest_size=32).digest()


def session_rows(d, s):
    """The staff_sessions rows of s's cookie (0 or 1)."""
    return d.scalar("SELECT count(*) FROM staff_sessions WHERE token_hash = ?", (key_of(s),))


def wait_for(what, check, timeout=H.WAIT):
    return H.wait_until(check, timeout, what)


class Sessions(H.DaemonCase):
    """One daemon, restarted by the tests."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="sessions")
        for name, role in (("ana", "agente"), ("luis", "coordinador"), ("eva", "agente"),
                           ("rosa", "agente")):
            S.add_user(cls.d, name, role, TRIAGE)
        cls.d.start()
        cls.rad = S.file_item(unittest.TestCase(), cls.d)["radicado"]

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_session_and_csrf_survive_a_restart(self):
        s = Staff(self.d, "ana")
        self.assertEqual(s.act(self.rad, "note", text="antes de reiniciar").status, 200)
        self.d.restart()
        r = s.get("/api/v1/session")
        self.assertEqual(r.status, 200, "the session did not survive the restart: %r" % r)
        self.assertEqual(r.json()["csrf_token"], s.csrf, "the CSRF token changed with the restart")
        self.assertEqual(r.json()["user"]["username"], "ana")
        self.assertEqual(s.act(self.rad, "note", text="después de reiniciar").status, 200)
        err(self, s.act(self.rad, "note", text="x", csrf="0" * 64), 403, "csrf")
        err(self, s.act(self.rad, "note", text="x", csrf=None), 403, "csrf")

    def test_02_logout_is_for_good(self):
        s = Staff(self.d, "ana")
        other = Staff(self.d, "ana")
        self.assertEqual(session_rows(self.d, s), 1)
        r = s.logout()
        self.assertEqual(r.status, 204, r)
        self.assertIn("Max-Age=0", r.header("set-cookie") or "")
        self.assertEqual(session_rows(self.d, s), 0, "the logout left the session's row")
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        self.d.restart()
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        err(self, s.act(self.rad, "note", text="x"), 401, "unauthenticated")
        # Only that session ended.
        self.assertEqual(other.get("/api/v1/session").status, 200)

    def test_03_password_change_ends_the_others(self):
        me, other = Staff(self.d, "eva"), Staff(self.d, "eva")
        r = me.post("/api/v1/session/password",
                    {"current_password": S.PASSWORD, "new_password": NEW_PASSWORD})
        self.assertEqual(r.status, 204, r)
        err(self, other.get("/api/v1/session"), 401, "unauthenticated")
        self.assertEqual(session_rows(self.d, other), 0, "the other session's row is still there")
        self.assertEqual(me.get("/api/v1/session").status, 200)
        self.d.restart()
        err(self, other.get("/api/v1/session"), 401, "unauthenticated")
        r = me.get("/api/v1/session")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["csrf_token"], me.csrf)
        self.assertEqual(me.act(self.rad, "note", text="con la clave nueva").status, 200)
        # An administrator's `user passwd` (another process) ends it too.
        p = S.user_cli(self.d, "passwd", "eva", S.PASSWORD)
        self.assertEqual(p.returncode, 0, p.stderr)
        err(self, me.get("/api/v1/session"), 401, "unauthenticated")
        self.d.restart()
        err(self, me.get("/api/v1/session"), 401, "unauthenticated")
        wait_for("deleted", lambda: session_rows(self.d, me) == 0)
        self.assertEqual(Staff(self.d, "eva").get("/api/v1/session").status, 200)

    def test_04_disable_ends_it(self):
        s = Staff(self.d, "luis")
        self.assertEqual(s.get("/api/v1/items").status, 200)
        p = S.user_cli(self.d, "disable", "luis")
        self.assertEqual(p.returncode, 0, p.stderr)
        err(self, s.get("/api/v1/items"), 401, "unauthenticated")
        self.d.restart()
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")

    def test_05_the_database_holds_only_hashes(self):
        sessions = [Staff(self.d, "ana"), Staff(self.d, "rosa")]
        self.assertEqual(sessions[1].act(self.rad, "note", text="una nota").status, 200)
        secrets_ = []
        for s in sessions:
            self.assertEqual(session_rows(self.d, s), 1, "no row keyed by BLAKE2b-256 of the token")
            secrets_ += [("cookie token", token_of(s)), ("CSRF token", s.csrf)]
        found = []
        for table in sorted(self.d.tables()):
            for row in self.d.query('SELECT * FROM "%s"' % table):
                for col, v in row.items():
                    for what, secret in secrets_:
                        raw = bytes.fromhex(secret)
                        if isinstance(v, str) and secret in v.lower():
                            found.append("%s in %s.%s" % (what, table, col))
                        elif isinstance(v, (bytes, bytearray)) and (
                                raw in v or secret.encode() in v.lower()):
                            found.append("%s in %s.%s" % (what, table, col))
        self.assertEqual(found, [], "secrets stored in the database")

    def test_06_last_use_written_back(self):
        # staff.session_idle_seconds is 1800 here: the last use is written
        # when the one on record is a minute old. Make it so, then use it.
        s = Staff(self.d, "rosa")
        old = int(time.time() * 1000) - 5 * 60 * 1000
        self.d.execute("UPDATE staff_sessions SET last_used_at = ?, created_at = ? WHERE token_hash = ?",
                       (old, old, key_of(s)))
        t = int(time.time() * 1000)
        r = s.get("/api/v1/session")
        self.assertEqual(r.status, 200, r)
        exp = datetime.datetime.fromisoformat(r.json()["expires_at"]).timestamp() * 1000
        self.assertGreaterEqual(exp, t + 1800 * 1000 - 1000, "expires_at counts from this request")
        wait_for("written back", lambda: self.d.scalar(
            "SELECT last_used_at FROM staff_sessions WHERE token_hash = ?", (key_of(s),)) >= t - 1000)

    def test_07_at_most_10000_sessions(self):
        # The table full of live sessions (ana's, all within the idle time):
        # a login ends the least recently used one and no other.
        ana = self.d.scalar("SELECT id FROM users WHERE username = 'ana'")
        epoch = self.d.scalar("SELECT session_epoch FROM users WHERE id = ?", (ana,))
        now = int(time.time() * 1000)
        self.d.execute("DELETE FROM staff_sessions")
        for first in range(0, 10000, 1000):
            rows = [(i.to_bytes(32, "big"), ana, epoch, now - 60000, now - 20000 + i)
                    for i in range(first, first + 1000)]
            self.d.execute("INSERT INTO staff_sessions (token_hash, user_id, epoch, created_at, last_used_at) "
                           "VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows)),
                           tuple(v for row in rows for v in row))
        s = Staff(self.d, "rosa")
        self.assertEqual(s.get("/api/v1/session").status, 200)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM staff_sessions"), 10000)
        self.assertEqual(session_rows(self.d, s), 1)
        gone = [i for i in (0, 1) if not self.d.scalar(
            "SELECT count(*) FROM staff_sessions WHERE token_hash = ?", (i.to_bytes(32, "big"),))]
        self.assertEqual(gone, [0], "not (only) the least recently used session went")
        self.d.execute("DELETE FROM staff_sessions WHERE user_id = ?", (ana,))

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class Sweep(H.DaemonCase):
    """staff.session_idle_seconds = 2 and the minute tick every second: an
    expired session's row goes without a request asking for it."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": dict(FAST_LOGINS, session_idle_seconds=2, due_refresh_seconds=1)},
                         name="sessions-sweep")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_expired_rows_are_swept(self):
        s = Staff(self.d, "ana")
        self.assertEqual(session_rows(self.d, s), 1)
        wait_for("swept", lambda: session_rows(self.d, s) == 0)
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        self.assertIn("event=sessions_swept", self.d.log_text())

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


@unittest.skipIf(H.BACKEND != "postgresql", "two instances share a database only on PostgreSQL")
class TwoInstances(H.DaemonCase):
    """Daemons A and B on one PostgreSQL database."""

    @classmethod
    def setUpClass(cls):
        cls.d = cls.a = H.Daemon({"staff": FAST_LOGINS}, name="sessions-a")
        for name in ("ana", "eva"):
            S.add_user(cls.a, name, "agente", TRIAGE)
        cls.b = H.Daemon({"staff": FAST_LOGINS}, name="sessions-b", share=cls.a)
        cls.a.start()
        cls.b.start()
        cls.rad = S.file_item(unittest.TestCase(), cls.a)["radicado"]

    @classmethod
    def tearDownClass(cls):
        # B first: A's cleanup drops the database they share.
        try:
            S.stop_and_cleanup(cls.b)
        finally:
            S.stop_and_cleanup(cls.a)

    def setUp(self):
        super().setUp()
        self.b.revive()

    def test_01_login_on_a_write_and_logout_on_b(self):
        s = Staff(self.a, "ana")
        s.d = self.b
        r = s.get("/api/v1/session")
        self.assertEqual(r.status, 200, "B does not know A's session: %r" % r)
        self.assertEqual(r.json()["csrf_token"], s.csrf)
        self.assertEqual(s.act(self.rad, "note", text="escrita en B").status, 200)
        err(self, s.act(self.rad, "note", text="x", csrf="f" * 64), 403, "csrf")
        r = s.logout()
        self.assertEqual(r.status, 204, r)
        s.d = self.a
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        err(self, s.act(self.rad, "note", text="x"), 401, "unauthenticated")
        notes = self.a.scalar("SELECT count(*) FROM audit_events a JOIN items i ON i.id = a.item_id "
                              "WHERE i.radicado = ? AND a.actor = 'staff:ana'", (self.rad,))
        self.assertGreaterEqual(notes, 1)

    def test_02_password_change_on_a_ends_sessions_on_b(self):
        me = Staff(self.a, "eva")
        other = Staff(self.b, "eva")
        self.assertEqual(other.get("/api/v1/session").status, 200)
        r = me.post("/api/v1/session/password",
                    {"current_password": S.PASSWORD, "new_password": NEW_PASSWORD})
        self.assertEqual(r.status, 204, r)
        err(self, other.get("/api/v1/session"), 401, "unauthenticated")
        me.d = self.b
        self.assertEqual(me.get("/api/v1/session").status, 200)
        self.assertEqual(me.act(self.rad, "note", text="clave nueva, desde B").status, 200)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        self.assertEqual(self.b.crashes, [])
        S.audit_verify(self, self.a)


if __name__ == "__main__":
    H.main()
