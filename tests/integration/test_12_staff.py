"""The staff backend (docs/staff-api.md) against the real daemon: logins,
sessions and their expiry, CSRF, the throttling of failed logins (growing
delays, never a lockout) and the per-address rate limit, the
first admin's one-time password, the whole role x endpoint matrix, the scope
of each role (dependencia, triage office, gerente reads all), who sees a
denuncia's requester, the queue's filters, pagination, order and accent-free
search, and that hostile text comes back as text and never as markup.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_12_staff.py
"""
import datetime
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
FAST_LOGINS = {"login_per_minute": 10000}


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


# ---------------------------------------------------------------------------
# Logins, sessions, CSRF, throttling, password change, bootstrap


class Auth(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": dict(FAST_LOGINS, login_delay_after=3, login_delay_first_seconds=5,
                                              login_delay_max_seconds=5)},
                         name="staff-auth")
        for name, role in [("ana", "agente"), ("luis", "coordinador"), ("dis", "agente"), ("pw", "agente"),
                           ("lock1", "agente"), ("lock2", "agente"), ("gone", "agente"), ("adm", "admin")]:
            S.add_user(cls.d, name, role, TRIAGE if role in ("agente", "coordinador") else None)
        p = S.user_cli(cls.d, "disable", "dis")
        assert p.returncode == 0, p.stderr
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def events(self, action):
        return self.d.query("SELECT actor, payload FROM audit_events WHERE action = ? ORDER BY id", (action,))

    def test_01_login_sets_cookie_and_session(self):
        t0 = time.time()
        r = S.login(self.d, "ana")
        self.assertEqual(r.status, 200, r)
        sc = r.header("set-cookie")
        self.assertRegex(sc or "", S.COOKIE_RE, "cookie flags: %r" % sc)
        self.assertNotIn("Secure", sc)
        doc = r.json()
        self.assertEqual(doc["user"], {"username": "ana", "role": "agente", "dependencia": TRIAGE})
        self.assertRegex(doc["csrf_token"], S.HEX64)
        self.assertIs(doc.get("password_change_required"), False)
        self.assertNotEqual(doc["csrf_token"], S.COOKIE_RE.match(sc).group(1), "CSRF token is not the cookie")
        exp = datetime.datetime.fromisoformat(doc["expires_at"]).timestamp()
        self.assertAlmostEqual(exp, t0 + 1800, delta=5, msg="expires after the idle time (default 1800 s)")
        self.assertTrue(doc["expires_at"].endswith("-05:00"), doc["expires_at"])
        cookie = S.cookie_of(r)
        g = self.d.get("/api/v1/session", {"Cookie": cookie})
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["user"]["username"], "ana")
        self.assertEqual(g.json()["csrf_token"], doc["csrf_token"])
        # Among other cookies, as browsers send it.
        g = self.d.get("/api/v1/session", {"Cookie": "tema=oscuro; %s; idioma=es" % cookie})
        self.assertEqual(g.status, 200, g)
        # A second login is a second, independent session.
        r2 = S.login(self.d, "ana")
        self.assertNotEqual(S.cookie_of(r2), cookie)
        self.assertNotEqual(r2.json()["csrf_token"], doc["csrf_token"])
        ev = self.events("sesion_iniciada")
        self.assertTrue(any(e["actor"] == "staff:ana" for e in ev), ev)
        # Neither the password nor the token is written anywhere.
        self.assertNotIn(S.PASSWORD, self.d.log_text())
        self.assertNotIn(cookie.split("=")[1], self.d.log_text())
        dump = json.dumps(self.d.query("SELECT * FROM audit_events"))
        self.assertNotIn(S.PASSWORD, dump)
        self.assertNotIn(cookie.split("=")[1], dump)

    def test_02_bad_credentials_look_the_same(self):
        answers = []
        for user, pw in [("nadie", S.PASSWORD), ("ana", "otra clave equivocada"), ("dis", S.PASSWORD)]:
            r = S.login(self.d, user, pw)
            e = err(self, r, 401, "bad_credentials")
            self.assertIsNone(r.header("set-cookie"), "no cookie on a refused login (%s)" % user)
            answers.append((e["message"], e.get("field")))
        self.assertEqual(len(set(answers)), 1, "unknown user, wrong password and disabled account answer alike: %r"
                         % answers)

    def test_03_login_body_refusals(self):
        for raw, field in [(b"no es json", "body"), (b"[]", "body"), (b'{"password":"x123456789012"}', "username"),
                           (b'{"username":"ana"}', "password"), (b'{"username":5,"password":"x"}', "username"),
                           (b'{"username":"ana","password":""}', "password")]:
            r = self.d.request("POST", "/api/v1/session", raw, {"Content-Type": "application/json"})
            err(self, r, 422, "invalid", field)

    def test_04_no_session_is_401(self):
        s = Staff(self.d, "ana")
        rad = S.file_item(self, self.d)["radicado"]
        bogus = "vt_session=" + "ab" * 32
        for cookie in (None, bogus, "vt_session=corto", "otra=" + s.cookie.split("=")[1]):
            h = {"Cookie": cookie} if cookie else {}
            hp = dict(h, **{"X-CSRF-Token": s.csrf, "Content-Type": "application/json"})
            for method, path, body in [("GET", "/api/v1/session", None), ("GET", "/api/v1/items", None),
                                       ("GET", "/api/v1/items/" + rad, None),
                                       ("GET", "/api/v1/items/%s/attachments/%s" % (rad, "0" * 64), None),
                                       ("POST", "/api/v1/items/%s/actions" % rad, {"action": "note", "text": "x"}),
                                       ("GET", "/api/v1/dependencias", None),
                                       ("POST", "/api/v1/dependencias", {"code": "x", "name": "X"}),
                                       ("GET", "/api/v1/users", None),
                                       ("POST", "/api/v1/session/logout", {}),
                                       ("POST", "/api/v1/session/password",
                                        {"current_password": S.PASSWORD, "new_password": "y" * 20})]:
                with self.subTest(cookie=cookie, path=path, method=method):
                    r = self.d.request(method, path, json.dumps(body) if body is not None else None,
                                       hp if method == "POST" else h)
                    err(self, r, 401, "unauthenticated")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE action = 'nota'"), 0)
        self.assertEqual(s.get("/api/v1/session").status, 200)

    def test_05_csrf_missing_or_wrong_is_403(self):
        ana, luis, adm = Staff(self.d, "ana"), Staff(self.d, "luis"), Staff(self.d, "adm")
        rad = S.file_item(self, self.d)["radicado"]
        posts = [(ana, "/api/v1/items/%s/actions" % rad, {"action": "note", "text": "nota sin token"}),
                 (adm, "/api/v1/dependencias", {"code": "sin_token", "name": "Sin token", "active": True}),
                 (ana, "/api/v1/session/password", {"current_password": S.PASSWORD, "new_password": "z" * 20}),
                 (ana, "/api/v1/session/logout", {})]
        def tokens(who, other):
            tok = who.csrf
            return {"missing": None, "empty": "", "wrong": "cd" * 32, "short": tok[:32],
                    "one char off": ("0" if tok[0] != "0" else "1") + tok[1:], "upper": tok.upper(),
                    "other session": other.csrf, "cookie as token": who.cookie.split("=")[1],
                    "another token appended": tok + tok}
        for who, path, body in posts:
            for name, tok in tokens(who, luis).items():
                if name == "upper" and tok == who.csrf:
                    continue
                with self.subTest(path=path, token=name):
                    r = who.post(path, body, csrf=tok)
                    err(self, r, 403, "csrf")
        # Nothing happened: no note, no dependencia, password and sessions intact.
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE action = 'nota'"), 0)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM dependencias WHERE code = 'sin_token'"), 0)
        self.assertEqual(ana.get("/api/v1/session").status, 200, "a refused logout logs nobody out")
        Staff(self.d, "ana")  # the password did not change
        # GETs need no token; the right token works.
        self.assertEqual(ana.get("/api/v1/items").status, 200)
        self.assertEqual(ana.act(rad, "note", text="nota con token").status, 200)

    def test_05b_posts_are_json_only(self):
        ana, adm = Staff(self.d, "ana"), Staff(self.d, "adm")
        rad = S.file_item(self, self.d)["radicado"]
        notes = self.d.scalar("SELECT count(*) FROM audit_events WHERE action = 'nota'")
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            h = {"Content-Type": ctype} if ctype else {}
            with self.subTest(ctype=ctype, path="login"):
                body = json.dumps({"username": "ana", "password": S.PASSWORD})
                err(self, self.d.request("POST", "/api/v1/session", body, h), 415, "unsupported_media_type")
            for path, body in [("/api/v1/items/%s/actions" % rad, {"action": "note", "text": "no json"}),
                               ("/api/v1/session/password", {"current_password": S.PASSWORD,
                                                             "new_password": "q" * 20})]:
                with self.subTest(ctype=ctype, path=path):
                    r = self.d.request("POST", path, json.dumps(body),
                                       ana.headers(dict(h, **{"X-CSRF-Token": ana.csrf})))
                    err(self, r, 415, "unsupported_media_type")
            with self.subTest(ctype=ctype, path="dependencias"):
                r = self.d.request("POST", "/api/v1/dependencias", json.dumps({"code": "ctype", "name": "C"}),
                                   adm.headers(dict(h, **{"X-CSRF-Token": adm.csrf})))
                err(self, r, 415, "unsupported_media_type")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE action = 'nota'"), notes)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM dependencias WHERE code = 'ctype'"), 0)
        r = self.d.request("POST", "/api/v1/session", json.dumps({"username": "ana", "password": S.PASSWORD}),
                           {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 200, "a charset parameter is fine: %r" % r)

    def test_05c_logout_is_json_only_too(self):
        # docs/staff-api.md: "Every POST must be Content-Type: application/json (415 otherwise)".
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
            with self.subTest(ctype=ctype):
                who = Staff(self.d, "ana")
                h = {"Content-Type": ctype} if ctype else {}
                r = self.d.request("POST", "/api/v1/session/logout", "{}",
                                   who.headers(dict(h, **{"X-CSRF-Token": who.csrf})))
                err(self, r, 415, "unsupported_media_type")
                self.assertEqual(who.get("/api/v1/session").status, 200, "a refused logout ends nothing")

    def test_06_logout(self):
        a, b = Staff(self.d, "ana"), Staff(self.d, "ana")
        r = a.logout()
        self.assertEqual(r.status, 204, r)
        sc = r.header("set-cookie") or ""
        self.assertTrue(sc.startswith("vt_session=;"), sc)
        self.assertIn("Max-Age=0", sc)
        self.assertIn("HttpOnly", sc)
        err(self, a.get("/api/v1/session"), 401, "unauthenticated")
        err(self, a.get("/api/v1/items"), 401, "unauthenticated")
        err(self, a.logout(), 401, "unauthenticated")
        self.assertEqual(b.get("/api/v1/session").status, 200, "the other session of the same user stays")

    def test_07_failures_delay_and_never_lock(self):
        for i in range(3):
            err(self, S.login(self.d, "lock1", "equivocada numero %d" % i), 401, "bad_credentials")
        # Three failures from this address: the next attempt waits, even with the right password.
        r = S.login(self.d, "lock1")
        e = err(self, r, 429, "throttled")
        ra = int(r.header("retry-after"))
        self.assertTrue(1 <= ra <= 5, r.headers)
        self.assertIn(str(ra), e["message"])
        self.assertIsNone(r.header("set-cookie"))
        # An unknown username gets exactly the same answers.
        for i in range(3):
            err(self, S.login(self.d, "no.existe.nunca", "equivocada numero %d" % i), 401, "bad_credentials")
        r2 = S.login(self.d, "no.existe.nunca")
        err(self, r2, 429, "throttled")
        self.assertEqual((r2.body, sorted(r2.headers)), (r.body, sorted(r.headers)))
        # The delay is audited (in the background) for the real account only; nothing was locked.
        ev = S.wait(lambda: self.events("ingreso_frenado"), timeout=30, what="the ingreso_frenado event")
        self.assertEqual([json.loads(e["payload"])["username"] for e in ev], ["lock1"], ev)
        self.assertNotIn("no.existe", json.dumps(self.d.query("SELECT * FROM audit_events")))
        # Other accounts are not affected.
        Staff(self.d, "ana")
        # Once the delay is over the right password works, and the count starts over.
        r = S.past_throttle(lambda: S.login(self.d, "lock1"))
        self.assertEqual(r.status, 200, r)
        for i in range(2):
            err(self, S.login(self.d, "lock1", "equivocada otra vez %d" % i), 401, "bad_credentials")

    def test_08_success_resets_the_count(self):
        for i in range(2):
            err(self, S.login(self.d, "lock2", "mala %d clave" % i), 401, "bad_credentials")
        Staff(self.d, "lock2")
        for i in range(2):
            err(self, S.login(self.d, "lock2", "mala %d otra" % i), 401, "bad_credentials")
        Staff(self.d, "lock2")  # 2 + 2 failures, never 3 in a row: no delay

    def test_09_password_change(self):
        s, other = Staff(self.d, "pw"), Staff(self.d, "pw")
        new = "una clave nueva y larga %d" % H.unique()
        for body, status, code, field in [
                ({"current_password": "no es la actual", "new_password": new}, 403, "wrong_password", None),
                ({"current_password": S.PASSWORD, "new_password": "corta"}, 422, "invalid", None),
                ({"current_password": S.PASSWORD}, 422, "invalid", "new_password"),
                ({"new_password": new}, 422, "invalid", "current_password")]:
            with self.subTest(body=body):
                err(self, s.post("/api/v1/session/password", body), status, code, field)
        # Wrong current passwords count like failed logins: with the one above, the third
        # delays the next attempt, a change or a login, from this address.
        for i in range(2):
            err(self, s.post("/api/v1/session/password",
                             {"current_password": "mala %d clave larga" % i, "new_password": new}),
                403, "wrong_password")
        err(self, s.post("/api/v1/session/password", {"current_password": S.PASSWORD, "new_password": new}),
            429, "throttled")
        err(self, S.login(self.d, "pw"), 429, "throttled")
        r = S.past_throttle(lambda: s.post("/api/v1/session/password",
                                           {"current_password": S.PASSWORD, "new_password": new}))
        self.assertEqual(r.status, 204, r)
        err(self, S.login(self.d, "pw"), 401, "bad_credentials")
        Staff(self.d, "pw", new)
        self.assertEqual(s.get("/api/v1/session").status, 200, "the session that changed it continues")
        err(self, other.get("/api/v1/session"), 401, "unauthenticated")  # the user's other sessions end
        ev = self.events("clave_cambiada")
        self.assertTrue(any(e["actor"] == "staff:pw" for e in ev), ev)
        dump = json.dumps(self.d.query("SELECT * FROM audit_events")) + self.d.log_text()
        self.assertNotIn(new, dump)

    def test_10_disabled_account_loses_its_session(self):
        s = Staff(self.d, "gone")
        self.assertEqual(s.get("/api/v1/session").status, 200)
        p = S.user_cli(self.d, "disable", "gone")
        self.assertEqual(p.returncode, 0, p.stderr)
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        err(self, s.get("/api/v1/items"), 401, "unauthenticated")
        err(self, S.login(self.d, "gone"), 401, "bad_credentials")

    def test_11_bootstrap_one_time_password(self):
        p = H.run_cli("user", "bootstrap", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        # An admin ("adm") exists already in this class: nothing to do.
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nothing to do", p.stdout)
        d = H.Daemon({"staff": FAST_LOGINS}, name="staff-boot")
        try:
            p = H.run_cli("user", "bootstrap", "--config", d.cfg_path, "--data-dir", d.data_dir)
            self.assertEqual(p.returncode, 0, p.stderr)
            m = re.search(r'as "([^"]+)" with the one-time password\s+(\S+)', p.stdout)
            self.assertTrue(m, p.stdout)
            user, otp = m.group(1), m.group(2)
            self.assertEqual(user, "admin")
            self.assertGreaterEqual(len(otp), 16)
            row = d.query("SELECT role, must_change FROM users WHERE username = ?", (user,))[0]
            self.assertEqual((row["role"], row["must_change"]), ("admin", 1))
            d.start()
            s = Staff(d, user, otp)
            self.assertIs(s.session["password_change_required"], True)
            self.assertEqual(s.get("/api/v1/session").status, 200)
            for method, path in [("GET", "/api/v1/dependencias"), ("GET", "/api/v1/users"),
                                 ("GET", "/api/v1/items"), ("POST", "/api/v1/dependencias")]:
                with self.subTest(path=path, method=method):
                    r = s.get(path) if method == "GET" else s.post(path, {"code": "x", "name": "X"})
                    err(self, r, 403, "password_change_required")
            self.assertEqual(d.scalar("SELECT count(*) FROM dependencias"), 0)
            new = "clave definitiva del administrador"
            self.assertEqual(s.post("/api/v1/session/password",
                                    {"current_password": otp, "new_password": new}).status, 204)
            self.assertEqual(s.get("/api/v1/dependencias").status, 200, "allowed once the password changed")
            self.assertEqual(s.get("/api/v1/session").json()["password_change_required"], False)
            err(self, S.login(d, user, otp), 401, "bad_credentials")
            Staff(d, user, new)
            self.assertNotIn(otp, d.log_text(), "the one-time password is not logged")
            p = H.run_cli("user", "bootstrap", "--config", d.cfg_path, "--data-dir", d.data_dir)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("nothing to do", p.stdout)
            self.assertEqual(d.scalar("SELECT count(*) FROM users WHERE role = 'admin'"), 1)
            S.audit_verify(self, d)
        finally:
            d.cleanup()

    def test_12_restart_keeps_sessions(self):
        # Issue 14: sessions live in the database now, so a restart (or
        # another instance) keeps them (test_33_sessions has the details).
        s = Staff(self.d, "luis")
        self.assertEqual(s.get("/api/v1/session").status, 200)
        self.d.restart()
        self.assertEqual(s.get("/api/v1/session").status, 200)
        Staff(self.d, "luis")

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class Expiry(H.DaemonCase):
    """staff.session_idle_seconds = 2 (max age long) here, and a second daemon
    with staff.session_max_seconds = 4 (idle time long). Each test reads the
    daemon's own expires_at and waits past it: no request has to arrive
    within a second of another, however busy the machine."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": dict(FAST_LOGINS, session_idle_seconds=2, session_max_seconds=604800)},
                         name="staff-expiry")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    @staticmethod
    def expires(doc):
        return datetime.datetime.fromisoformat(doc["expires_at"]).timestamp()

    @staticmethod
    def sleep_past(t, margin=1.5):
        """Sleeps until margin seconds after the wall-clock instant t (the daemon's stamp)."""
        time.sleep(max(0.0, t + margin - time.time()))

    def test_01_idle_expiry(self):
        t0 = time.time()
        s = Staff(self.d, "ana")
        t1 = time.time()
        exp = self.expires(s.session)
        self.assertTrue(t0 + 2 - 1 <= exp <= t1 + 2 + 1, "expires_at %s: login + idle time" % s.session["expires_at"])
        self.assertEqual(s.session["idle_seconds"], 2)
        self.sleep_past(exp)
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")
        err(self, s.get("/api/v1/items"), 401, "unauthenticated")

    def test_02_max_age_despite_activity(self):
        d = H.Daemon({"staff": dict(FAST_LOGINS, session_idle_seconds=604800, session_max_seconds=4)},
                     name="staff-maxage")
        try:
            S.add_user(d, "ana", "agente", TRIAGE)
            d.start()
            t0 = time.time()
            s = Staff(d, "ana")
            t1 = time.time()
            exp = self.expires(s.session)
            self.assertTrue(t0 + 4 - 1 <= exp <= t1 + 4 + 1, "expires_at %s: login + max age" % s.session["expires_at"])
            # Activity does not move the end: every answer names the same instant.
            for i in range(3):
                r = s.get("/api/v1/items")
                if time.time() < exp - 0.5:
                    self.assertEqual(r.status, 200, "request %d before expires_at: %r" % (i, r))
                g = s.get("/api/v1/session")
                if g.status == 200:
                    self.assertEqual(self.expires(g.json()), exp, "activity moved the maximum age")
                time.sleep(0.5)
            self.sleep_past(exp)
            err(self, s.get("/api/v1/session"), 401, "unauthenticated")
            err(self, s.get("/api/v1/items"), 401, "unauthenticated")
        finally:
            d.cleanup()

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class RateLimit(H.DaemonCase):
    """staff.login_per_minute = 4 from one address, whatever the username."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 4}}, name="staff-rate")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_rate_limited_per_address(self):
        s = Staff(self.d, "ana")
        for i in range(3):
            err(self, S.login(self.d, "desconocido%d" % i, "cualquier clave larga"), 401, "bad_credentials")
        r = S.login(self.d, "ana")
        err(self, r, 429, "rate_limited")
        self.assertGreaterEqual(int(r.header("retry-after")), 1, r.headers)
        self.assertIsNone(r.header("set-cookie"))
        err(self, S.login(self.d, "ana", "equivocada pero limitada"), 429, "rate_limited")
        # The daemon's log reaches the harness through a pipe read on a thread
        # of its own: wait for the three failures' lines, then none more.
        H.wait_until(lambda: self.d.log_text().count("event=login_failed") >= 3,
                     what="the three failed logins in the log")
        self.assertEqual(self.d.log_text().count("event=login_failed"), 3,
                         "a rate-limited attempt never reaches the password check")
        # Only logins are limited: the open session keeps working.
        self.assertEqual(s.get("/api/v1/items").status, 200)
        self.assertEqual(s.get("/api/v1/session").status, 200)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# Roles x endpoints, scope, identity


ROLES = ["agente", "coordinador", "gerente", "moderador", "admin"]
ITEM_READERS = {"agente", "coordinador", "gerente"}
# endpoint: (method, path, body, roles allowed, status when allowed)
ENDPOINTS = {
    "queue": ("GET", "/api/v1/items", None, ITEM_READERS, 200),
    "search": ("POST", "/api/v1/items/search", {"q": "soporte"}, ITEM_READERS, 200),
    "item": ("GET", "/api/v1/items/{rad}", None, ITEM_READERS, 200),
    "attachment": ("GET", "/api/v1/items/{rad}/attachments/{sha}", None, ITEM_READERS, 200),
    "actions": ("POST", "/api/v1/items/{rad}/actions", {"action": "note", "text": "Nota de la matriz"},
                {"agente", "coordinador"}, 200),
    "dependencias": ("GET", "/api/v1/dependencias", None, set(ROLES), 200),
    "dependencias_write": ("POST", "/api/v1/dependencias", {"code": "archivo", "name": "Archivo central",
                                                           "active": True}, {"admin"}, 200),
    "users": ("GET", "/api/v1/users", None, {"agente", "coordinador", "admin"}, 200),
    "session": ("GET", "/api/v1/session", None, set(ROLES), 200),
    "password": ("POST", "/api/v1/session/password", {"current_password": "no es la clave",
                                                     "new_password": "otra clave cualquiera larga"},
                 set(ROLES), 403),  # reachable by all: the wrong current password is what answers
    "logout": ("POST", "/api/v1/session/logout", {}, set(ROLES), 204),
    "page": ("GET", "/staff", None, set(ROLES) | {None}, 200),
}


class Matrix(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="staff-matrix")
        d = cls.d
        for name, role, dep in [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE),
                                ("ag_obras", "agente", "obras"), ("co_obras", "coordinador", "obras"),
                                ("ag_sin", "agente", None), ("ge", "gerente", None), ("mo", "moderador", None),
                                ("ad", "admin", None), ("ex", "agente", TRIAGE)]:
            S.add_user(d, name, role, dep)
        assert S.user_cli(d, "disable", "ex").returncode == 0
        d.start()
        cls.s = {n: Staff(d, n) for n in ("ag", "co", "ag_obras", "co_obras", "ag_sin", "ge", "mo", "ad")}
        cls.by_role = {"agente": cls.s["ag"], "coordinador": cls.s["co"], "gerente": cls.s["ge"],
                       "moderador": cls.s["mo"], "admin": cls.s["ad"]}
        r = cls.s["ad"].post("/api/v1/dependencias", {"code": "obras", "name": "Obras públicas", "active": True})
        assert r.status == 200, r
        # A triage item with an attachment.
        pdf = H.minimal_pdf("matriz")
        r = d.post_multipart(H.form_fields(subject="Solicitud con soporte adjunto"),
                             [("attachments", "soporte.pdf", "application/pdf", pdf)])
        assert r.status == 201, r
        cls.rad = r.json()["radicado"]
        cls.pdf = pdf
        cls.sha = d.query("SELECT a.sha256 FROM attachments a JOIN items i ON i.id = a.item_id "
                          "WHERE i.radicado = ?", (cls.rad,))[0]["sha256"]

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def call(self, who, ep):
        method, path, body, _, _ = ENDPOINTS[ep]
        path = path.format(rad=self.rad, sha=self.sha)
        if who is None:
            if method == "GET":
                return self.d.get(path)
            return S.anonymous_post(self.d, path, body)
        return who.get(path) if method == "GET" else who.post(path, body)

    def test_01_role_endpoint_matrix(self):
        for ep, (method, path, body, allowed, ok_status) in ENDPOINTS.items():
            for role in ROLES + [None]:
                with self.subTest(endpoint=ep, role=role):
                    if ep == "logout" and role is not None:
                        who = Staff(self.d, {"agente": "ag", "coordinador": "co", "gerente": "ge",
                                             "moderador": "mo", "admin": "ad"}[role])
                    else:
                        who = self.by_role.get(role)
                    r = self.call(who, ep)
                    if role in allowed:
                        self.assertEqual(r.status, ok_status, "%s as %s: %r" % (ep, role, r))
                        if ep == "password":
                            err(self, r, 403, "wrong_password")
                    elif role is None:
                        err(self, r, 401, "unauthenticated")
                    else:
                        err(self, r, 403, "forbidden")
        # What the allowed calls returned.
        ag = self.s["ag"]
        f = ag.get("/api/v1/items/%s/attachments/%s" % (self.rad, self.sha))
        self.assertEqual(f.body, self.pdf)
        self.assertEqual(f.header("content-type"), "application/pdf")
        self.assertIn('attachment; filename="soporte.pdf"', f.header("content-disposition", ""))
        page = self.d.get("/staff")
        self.assertIn("text/html", page.header("content-type"))
        self.assertIn("default-src 'none'", page.header("content-security-policy", ""))
        self.assertEqual(page.header("x-frame-options"), "deny")
        self.assertEqual(page.header("x-content-type-options"), "nosniff")
        self.assertEqual(page.header("referrer-policy"), "no-referrer")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM dependencias WHERE code = 'archivo'"), 1)
        notes = self.d.query("SELECT actor FROM audit_events WHERE action = 'nota'")
        self.assertEqual(sorted(n["actor"] for n in notes), ["staff:ag", "staff:co"])

    def test_02_post_endpoints_check_csrf_for_every_role(self):
        for ep in ("actions", "dependencias_write", "password", "logout"):
            for role in ROLES:
                with self.subTest(endpoint=ep, role=role):
                    who = self.by_role[role]
                    method, path, body, _, _ = ENDPOINTS[ep]
                    r = who.post(path.format(rad=self.rad, sha=self.sha), body, csrf=None)
                    err(self, r, 403, "csrf")
        for who in self.by_role.values():
            self.assertEqual(who.get("/api/v1/session").status, 200)

    def test_03_actions_listed_per_role(self):
        r = S.file_item(self, self.d, requester=S.web_requester())["radicado"]
        base = ["assign", "reclassify", "classify", "request_completion", "transfer", "note", "respond", "close"]
        self.assertEqual(self.s["ag"].item(r)["actions"], base)
        self.assertEqual(self.s["co"].item(r)["actions"],
                         ["assign", "reclassify", "classify", "request_completion", "extend", "transfer", "note",
                          "respond", "close"])
        self.assertEqual(self.s["ge"].item(r)["actions"], [], "gerente reads, never acts")

    def test_04_scope_by_dependencia(self):
        s = self.s
        rad = S.file_item(self, self.d, subject="Alcantarilla tapada en la calle 80",
                          requester=S.web_requester())["radicado"]
        def in_q(who, **kw):
            return rad in [i["radicado"] for i in who.queue(per_page=100, **kw).json()["items"]]
        # Not routed yet: the triage office's.
        for name in ("ag", "co", "ge"):
            self.assertEqual(s[name].get("/api/v1/items/" + rad).status, 200, name)
            self.assertTrue(in_q(s[name]), name)
        for name in ("ag_obras", "co_obras", "ag_sin"):
            with self.subTest(who=name):
                err(self, s[name].get("/api/v1/items/" + rad), 404, "not_found")
                err(self, s[name].act(rad, "note", text="no es mía"), 404, "not_found")
                err(self, s[name].get("/api/v1/items/%s/attachments/%s" % (rad, "a" * 64)), 404, "not_found")
                self.assertFalse(in_q(s[name]))
                self.assertFalse(in_q(s[name], dependencia=TRIAGE), "a filter does not widen the scope")
                self.assertFalse(in_q(s[name], q=rad))
        self.assertEqual(s["ag_sin"].queue().json()["total"], 0, "an agente without dependencia sees nothing")
        # Another office's attachment is not downloadable through this item either.
        err(self, s["ag_obras"].get("/api/v1/items/%s/attachments/%s" % (self.rad, self.sha)), 404, "not_found")
        # Routed to obras: now obras' and no longer triage's.
        r = s["co"].act(rad, "assign", dependencia="obras")
        self.assertEqual(r.status, 200, r)
        for name in ("ag_obras", "co_obras", "ge"):
            self.assertEqual(s[name].get("/api/v1/items/" + rad).status, 200, name)
            self.assertTrue(in_q(s[name]), name)
        for name in ("ag", "co"):
            err(self, s[name].get("/api/v1/items/" + rad), 404, "not_found")
            err(self, s[name].act(rad, "note", text="ya no es mía"), 404, "not_found")
            self.assertFalse(in_q(s[name]), name)
        self.assertTrue(in_q(s["ge"], dependencia="obras"))
        self.assertEqual(s["ag_obras"].act(rad, "note", text="recibida en obras").status, 200)
        # gerente reads everything and can do nothing.
        total = self.d.scalar("SELECT count(*) FROM items WHERE kind = 'pqrsd'")
        self.assertEqual(s["ge"].queue(per_page=100).json()["total"], total)
        for action, fields in [("note", {"text": "x"}), ("assign", {"dependencia": TRIAGE}),
                               ("close", {"reason": "x"})]:
            err(self, s["ge"].act(rad, action, **fields), 403, "forbidden")
        # moderador and admin: no items at all, existing or not.
        for name in ("mo", "ad"):
            for path in ("/api/v1/items", "/api/v1/items/" + rad, "/api/v1/items/2099-999999"):
                err(self, s[name].get(path), 403, "forbidden")
            err(self, s[name].act(rad, "note", text="x"), 403, "forbidden")
        # Unknown items: 404 for those who may read items.
        err(self, s["ag"].get("/api/v1/items/2099-999999"), 404, "not_found")
        err(self, s["ag"].act("2099-999999", "note", text="x"), 404, "not_found")
        self.assertEqual(s["ag"].get("/api/v1/items/no%20valido").status, 404)

    def test_05_users_listing(self):
        s = self.s
        names = lambda r: sorted(u["username"] for u in r.json()["users"])  # noqa: E731
        r = s["ag"].get("/api/v1/users")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(names(r), ["ag", "co"], "own office, enabled accounts only")
        self.assertEqual(names(s["co_obras"].get("/api/v1/users")), ["ag_obras", "co_obras"])
        err(self, s["ag"].get("/api/v1/users?dependencia=obras"), 403, "forbidden", "dependencia")
        self.assertEqual(names(s["ag"].get("/api/v1/users?dependencia=" + TRIAGE)), ["ag", "co"])
        self.assertEqual(names(s["ad"].get("/api/v1/users?dependencia=obras")), ["ag_obras", "co_obras"])
        everyone = names(s["ad"].get("/api/v1/users"))
        self.assertNotIn("ex", everyone, "disabled accounts are not listed")
        self.assertTrue({"ag", "co", "ag_obras", "co_obras", "ge", "mo", "ad"} <= set(everyone), everyone)
        u = [x for x in s["ad"].get("/api/v1/users").json()["users"] if x["username"] == "ge"][0]
        self.assertEqual(u, {"username": "ge", "role": "gerente", "dependencia": None})
        for r in s["ad"].get("/api/v1/users").json()["users"]:
            self.assertEqual(set(r), {"username", "role", "dependencia"}, "no hash or other column leaks: %r" % r)

    def test_06_dependencias(self):
        ad = self.s["ad"]
        doc = self.s["ag"].get("/api/v1/dependencias").json()
        codes = {x["code"]: x for x in doc["dependencias"]}
        self.assertEqual(doc.get("triage"), TRIAGE)
        self.assertIn(TRIAGE, codes, "the triage office exists before an admin names it")
        self.assertEqual(codes["obras"], {"code": "obras", "name": "Obras públicas", "active": True})
        for body, field in [({"code": "Obras Públicas", "name": "x"}, "code"), ({"code": "", "name": "x"}, "code"),
                            ({"code": "a" * 64, "name": "x"}, "code"), ({"code": "ok"}, "name"),
                            ({"code": "ok", "name": ""}, "name"), ({"code": "ok", "name": "x" * 201}, "name"),
                            ({"code": "ok", "name": "x", "active": "sí"}, "active"),
                            ({"code": "ok", "name": "   "}, "name"),
                            ({"code": TRIAGE, "name": "Atención", "active": False}, "active")]:
            with self.subTest(body=body):
                err(self, ad.post("/api/v1/dependencias", body), 422, "invalid", field)
        # 200 characters of ñ is 400 bytes: the limit is in characters.
        r = ad.post("/api/v1/dependencias", {"code": "largo", "name": "ñ" * 200})
        self.assertEqual(r.status, 200, r)
        err(self, ad.post("/api/v1/dependencias", raw="no json"), 422, "invalid")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM dependencias WHERE code = 'ok'"), 0)
        # Update: deactivate; routing to it is then refused.
        r = ad.post("/api/v1/dependencias", {"code": "planeacion", "name": "Planeación", "active": True})
        self.assertEqual(r.json(), {"code": "planeacion", "name": "Planeación", "active": True})
        r = ad.post("/api/v1/dependencias", {"code": "planeacion", "name": "Oficina de Planeación", "active": False})
        self.assertEqual(r.status, 200, r)
        codes = {x["code"]: x for x in ad.get("/api/v1/dependencias").json()["dependencias"]}
        self.assertEqual(codes["planeacion"], {"code": "planeacion", "name": "Oficina de Planeación",
                                               "active": False})
        rad = S.file_item(self, self.d, requester=S.web_requester())["radicado"]
        err(self, self.s["co"].act(rad, "assign", dependencia="planeacion"), 422, "invalid", "dependencia")
        err(self, self.s["co"].act(rad, "assign", dependencia="no_existe"), 422, "invalid", "dependencia")
        ev = self.d.query("SELECT actor, payload FROM audit_events WHERE action = 'dependencia_guardada'")
        self.assertTrue(any(e["actor"] == "staff:ad" and "planeacion" in e["payload"] for e in ev), ev)

    def test_07_denuncia_identity(self):
        p = H.person()
        req = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"],
               "email": p["email"], "phone": p["phone"]}
        den = S.file_item(self, self.d, type="denuncia", subject="Denuncia por cobros indebidos",
                          body="Un funcionario pide dinero por agilizar trámites.", requester=req)["radicado"]
        pet = S.file_item(self, self.d, requester=dict(req))["radicado"]
        secrets_ = [p["name"], p["email"], p["phone"], p["id_number"]]
        for name in ("ag", "ge"):
            with self.subTest(who=name):
                r = self.s[name].get("/api/v1/items/" + den)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["requester"], {"restricted": True})
                for sec in secrets_:
                    self.assertNotIn(sec, r.text, "the denunciante's identity leaks to %s" % name)
                q = self.s[name].queue(type="denuncia", per_page=100)
                for sec in secrets_:
                    self.assertNotIn(sec, q.text)
                # A non-denuncia's requester is visible to them.
                self.assertEqual(self.s[name].item(pet)["requester"]["name"], p["name"])
        doc = self.s["co"].item(den)
        self.assertEqual(doc["requester"]["name"], p["name"])
        self.assertEqual(doc["requester"]["email"], p["email"])
        self.assertEqual(doc["requester"]["id_number"], p["id_number"])
        # An item reclassified as a denuncia is restricted from then on.
        r = self.s["co"].act(pet, "reclassify", type="denuncia")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.s["ag"].item(pet)["requester"], {"restricted": True})
        r = self.s["ag"].act(pet, "note", text="vista por el agente")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["requester"], {"restricted": True}, "the action's answer restricts it too")
        for sec in secrets_:
            self.assertNotIn(sec, r.text)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class DenunciaRolesConfigured(H.DaemonCase):
    """staff.denuncia_identity_roles = ["gerente"]: the coordinador no longer sees it."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": dict(FAST_LOGINS, denuncia_identity_roles=["gerente"])}, name="staff-den")
        for name, role, dep in [("co", "coordinador", TRIAGE), ("ge", "gerente", None)]:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_configured_roles(self):
        p = H.person()
        req = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"]}
        rad = S.file_item(self, self.d, type="denuncia", requester=req)["radicado"]
        self.assertEqual(Staff(self.d, "co").item(rad)["requester"], {"restricted": True})
        self.assertEqual(Staff(self.d, "ge").item(rad)["requester"]["name"], p["name"])
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# The queue


class QueueTotals(H.DaemonCase):
    """The queue counts matches exactly up to 10,000 (queue.c's
    QUEUE_COUNT_MAX) and says when it stopped counting: total_exact. The
    10,001 items come in through the real intake, in parallel."""
    CAP = 10000

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="staff-totals")
        S.add_user(cls.d, "ge", "gerente")
        cls.d.start()
        cls.ge = Staff(cls.d, "ge")

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def intakes(self, n, threads=16, **over):
        """n intakes of the same payload over keep-alive connections."""
        import http.client
        import threading
        body = json.dumps(H.item_payload(requester=S.anonymous_requester(), **over), ensure_ascii=False).encode()
        errors = []

        def worker(k):
            c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=H.WAIT)
            try:
                for _ in range(k):
                    c.request("POST", "/api/v1/items", body, {"Content-Type": "application/json"})
                    r = c.getresponse()
                    r.read()
                    if r.status != 201:
                        errors.append(r.status)
            except Exception as e:  # noqa: BLE001
                errors.append(e)
            finally:
                c.close()
        share = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
        ts = [threading.Thread(target=worker, args=(k,)) for k in share if k]
        for t in ts:
            t.start()
        for t in ts:
            t.join(10 * H.WAIT)
        self.assertEqual(errors, [])

    def totals(self, **params):
        r = self.ge.queue(per_page=1, **params)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        return doc["total"], doc["total_exact"]

    def test_01_exact_up_to_the_cap_then_not(self):
        self.intakes(3, type="queja")
        self.assertEqual(self.totals(), (3, True))
        self.intakes(self.CAP - 3)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), self.CAP)
        self.assertEqual(self.totals(), (self.CAP, True), "10,000 matches are counted exactly")
        self.intakes(1)
        self.assertEqual(self.totals(), (self.CAP, False), "over 10,000: the total says it stopped counting")
        self.assertEqual(self.totals(type="queja"), (3, True), "a narrower filter is exact again")
        r = self.ge.post("/api/v1/items/search", {"per_page": 1})
        self.assertEqual((r.json()["total"], r.json()["total_exact"]), (self.CAP, False))


class Queue(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="staff-queue")
        for name, role, dep in [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE),
                                ("ag_obras", "agente", "obras"), ("ge", "gerente", None), ("ad", "admin", None)]:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n in ("ag", "co", "ag_obras", "ge", "ad")}
        r = cls.s["ad"].post("/api/v1/dependencias", {"code": "obras", "name": "Obras", "active": True})
        assert r.status == 200, r
        specs = [
            ("fontibon", dict(type="peticion", subject="Hueco en la vía principal de Fontibón",
                              body="Hay un hueco enorme frente al colegio.")),
            ("docs", dict(type="peticion", petition_class="documentos", subject="Copia del contrato de obra",
                          body="Solicito copia del contrato número 12.")),
            ("consulta", dict(type="peticion", petition_class="consulta", subject="Concepto sobre impuestos",
                              body="¿Cómo se liquida el impuesto predial en Engativá?")),
            ("queja", dict(type="queja", subject="Mala atención en la sede",
                           body="Me trataron mal en Fontibon centro.")),
            ("reclamo", dict(type="reclamo", subject="Cobro doble del recibo", body="Me cobraron dos veces.")),
            ("felicitacion", dict(type="felicitacion", subject="Gracias por la atención",
                                  body="Excelente servicio del funcionario.")),
            ("sugerencia", dict(type="sugerencia", subject="Más bancas en el parque", declared_group="academia",
                                body="Proponemos más bancas en el parque del barrio.")),
            ("denuncia", dict(type="denuncia", subject="Cobros indebidos", body="Piden dinero por trámites.")),
            ("otra", dict(type="queja", subject="Ruido nocturno", body="Ruido de una discoteca.")),
        ]
        cls.rad = {}
        cls.filed = {S.filed_date()}
        for key, over in specs:
            r = cls.d.post_json(H.item_payload(requester=S.web_requester(), **over))
            assert r.status == 201, r
            cls.rad[key] = r.json()["radicado"]
        cls.filed.add(S.filed_date())

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def rads(self, who="ge", **params):
        r = self.s[who].queue(per_page=100, **params)
        self.assertEqual(r.status, 200, r)
        return [i["radicado"] for i in r.json()["items"]]

    def test_01_row_shape_and_order(self):
        r = self.s["ge"].queue(per_page=100)
        doc = r.json()
        self.assertEqual((doc["page"], doc["per_page"], doc["total"]), (1, 100, len(doc["items"])))
        keys = {"radicado", "kind", "type", "petition_class", "channel", "status", "status_label", "subject",
                "group", "dependencia", "assignee", "received_at", "due_date", "overdue", "paused"}
        for row in doc["items"]:
            self.assertTrue(keys <= set(row), "queue row lacks %s" % (keys - set(row)))
            self.assertNotIn("body", row)
            self.assertNotIn("requester", row)
        order = [(i["due_date"] is None, i["due_date"] or "", i["radicado"]) for i in doc["items"]]
        self.assertEqual(order, sorted(order), "sorted by due date (none last), then radicado")
        self.assertEqual(doc["items"][-1]["radicado"], self.rad["felicitacion"], "no due date: last")
        self.assertIsNone(doc["items"][-1]["due_date"])
        # The documentos petición (10 days) comes before the general one (15), before the consulta (30).
        rads = [i["radicado"] for i in doc["items"]]
        self.assertLess(rads.index(self.rad["docs"]), rads.index(self.rad["fontibon"]))
        self.assertLess(rads.index(self.rad["fontibon"]), rads.index(self.rad["consulta"]))
        by = {i["radicado"]: i for i in doc["items"]}
        for key, term in [("docs", 10), ("fontibon", 15), ("consulta", 30), ("queja", 15)]:
            got = by[self.rad[key]]["due_date"]
            self.assertIn(got, {S.iso(S.add_bd(f, term)) for f in self.filed}, "%s due date" % key)
        row = by[self.rad["fontibon"]]
        self.assertEqual((row["status"], row["status_label"], row["channel"], row["kind"]),
                         ("radicado", "Radicada", "web", "pqrsd"))
        self.assertEqual((row["overdue"], row["paused"], row["dependencia"], row["assignee"]),
                         (False, False, None, None))

    def test_02_pagination(self):
        total = self.s["ge"].queue().json()["total"]
        self.assertGreaterEqual(total, 9)
        every = self.rads()
        seen = []
        page = 1
        while True:
            doc = self.s["ge"].queue(per_page=2, page=page).json()
            self.assertEqual((doc["page"], doc["per_page"], doc["total"]), (page, 2, total))
            if not doc["items"]:
                break
            self.assertLessEqual(len(doc["items"]), 2)
            seen += [i["radicado"] for i in doc["items"]]
            page += 1
        self.assertEqual(seen, every, "pages cover the queue once, in order")
        self.assertEqual(page, (total + 1) // 2 + 1)
        self.assertEqual(self.s["ge"].queue().json()["per_page"], 25, "default per_page")
        for params, field in [({"per_page": 0}, "per_page"), ({"per_page": 101}, "per_page"),
                              ({"per_page": "x"}, "per_page"), ({"page": 0}, "page"), ({"page": "-1"}, "page"),
                              ({"due_within": -1}, "due_within"), ({"due_within": "1x"}, "due_within")]:
            with self.subTest(params=params):
                err(self, self.s["ge"].queue(**params), 422, "invalid", field)
        self.assertEqual(len(self.s["ge"].queue(per_page=100).json()["items"]), total)

    def test_03_filters(self):
        R = self.rad
        self.assertEqual(self.rads(type="queja"), sorted([R["queja"], R["otra"]]))
        self.assertEqual(self.rads(**{"class": "documentos"}), [R["docs"]])
        self.assertEqual(self.rads(group="academia"), [R["sugerencia"]])
        self.assertEqual(len(self.rads(channel="web")), self.s["ge"].queue().json()["total"])
        self.assertEqual(self.rads(channel="email"), [])
        self.assertEqual(self.rads(status="tipo_inexistente"), [])
        # Routing and status.
        co = self.s["co"]
        self.assertEqual(co.act(R["reclamo"], "assign", dependencia=TRIAGE, assignee="ag").status, 200)
        self.assertEqual(co.act(R["otra"], "assign", dependencia="obras", assignee="ag_obras").status, 200)
        self.assertEqual(self.rads(status="en_tramite"), sorted([R["reclamo"], R["otra"]]))
        self.assertNotIn(R["reclamo"], self.rads(status="radicado"))
        self.assertEqual(self.rads(assignee="ag"), [R["reclamo"]])
        self.assertEqual(self.rads(assignee="ag_obras"), [R["otra"]])
        self.assertNotIn(R["reclamo"], self.rads(assignee="none"))
        self.assertIn(R["fontibon"], self.rads(assignee="none"))
        self.assertEqual(self.rads(dependencia="obras"), [R["otra"]])
        self.assertNotIn(R["otra"], self.rads(dependencia=TRIAGE))
        self.assertIn(R["fontibon"], self.rads(dependencia=TRIAGE), "unrouted items are the triage office's")
        self.assertEqual(self.rads(type="queja", dependencia="obras"), [R["otra"]], "filters combine")
        self.assertEqual(self.rads("ag", type="queja"), [R["queja"]], "and stay within the agente's scope")
        self.assertEqual(self.rads("ag_obras"), [R["otra"]])
        row = [i for i in self.s["ge"].queue(per_page=100).json()["items"] if i["radicado"] == R["reclamo"]][0]
        self.assertEqual((row["dependencia"], row["assignee"], row["status_label"]), (TRIAGE, "ag", "En trámite"))

    def test_04_due_filters(self):
        R = self.rad
        today = S.today()
        self.assertEqual(self.rads(overdue=1), [], "nothing filed today is overdue")
        rows = {i["radicado"]: i for i in self.s["ge"].queue(per_page=100).json()["items"]}
        due_docs = datetime.date.fromisoformat(rows[R["docs"]]["due_date"])
        n = 0
        while S.add_bd(today, n) < due_docs:
            n += 1
        self.assertIn(R["docs"], self.rads(due_within=n))
        self.assertNotIn(R["docs"], self.rads(due_within=n - 1))
        self.assertNotIn(R["felicitacion"], self.rads(due_within=365))
        # An item whose due date passed (set in the database: the daemon has no clock to move).
        past = S.iso(S.add_bd(today, -2))
        self.d.execute("UPDATE items SET due_date = ? WHERE radicado = ?", (past, R["consulta"]))
        self.assertEqual(self.rads(overdue=1), [R["consulta"]])
        row = [i for i in self.s["ge"].queue(per_page=100).json()["items"] if i["radicado"] == R["consulta"]][0]
        self.assertIs(row["overdue"], True)
        self.assertEqual(self.rads(overdue=1, type="queja"), [])
        self.assertNotIn(R["consulta"], self.rads(due_within=365), "overdue is not due soon")
        # Paused (pendiente_completar): neither overdue nor due soon.
        self.assertEqual(self.s["co"].act(R["consulta"], "request_completion", text="Falta la cédula").status, 200)
        self.assertEqual(self.rads(overdue=1), [])
        row = [i for i in self.s["ge"].queue(per_page=100).json()["items"] if i["radicado"] == R["consulta"]][0]
        self.assertEqual((row["overdue"], row["paused"], row["status"]), (False, True, "pendiente_completar"))

    def test_05_free_text_search(self):
        R = self.rad
        for q in ("fontibon", "FONTIBÓN", "Fontibón", "fonti", "vía fontibon", "VIA", "hueco colegio",
                  "¿fontibón?", '"fontibon"', "fontibon*", "(fontibon)", "fontibon:"):
            with self.subTest(q=q):
                self.assertIn(R["fontibon"], self.rads(q=q))
        self.assertEqual(sorted(self.rads(q="fontibon")), sorted([R["fontibon"], R["queja"]]),
                         "accent-insensitive both ways: Fontibón in a subject, Fontibon in a body")
        self.assertEqual(self.rads(q="engativa"), [R["consulta"]], "the body is searched, accents folded")
        self.assertEqual(self.rads(q="fontibon inexistentisima"), [], "every word must match")
        self.assertEqual(self.rads(q=R["docs"]), [R["docs"]], "a radicado finds its item")
        self.assertEqual(self.rads(q="fontibon", type="queja"), [R["queja"]])
        self.assertEqual(self.rads("ag_obras", q="fontibon"), [], "search stays within scope")
        for q, status in [("!!! ...", 422), ("x" * 201, 422), ("\" OR \"", 200), ("NEAR(", 200), ("a AND", 200),
                          ("-", 422), ("*", 422), ("y" * 80, 200), ("fontibón " + "ñ" * 40, 200)]:
            with self.subTest(q=q):
                r = self.s["ge"].queue(q=q)
                if status == 422:
                    err(self, r, 422, "invalid", "q")
                else:
                    self.assertEqual(r.status, 200, "FTS syntax in q must not reach SQLite: %r" % r)

    def test_05b_search_refuses_unknown_keys(self):
        ge = self.s["ge"]
        r = ge.post("/api/v1/items/search", {"q": "fontibon"})
        self.assertEqual(r.status, 200, r)
        self.assertIn(self.rad["fontibon"], [i["radicado"] for i in r.json()["items"]])
        # A misspelt or made-up filter is named, not silently ignored (the
        # staff member would read an unfiltered list as the filtered one).
        for body, key in [({"q": "fontibon", "ordenar": "fecha"}, "ordenar"),
                          ({"estado": "radicado"}, "estado"),
                          ({"type": "queja", "dependency": "obras"}, "dependency")]:
            with self.subTest(key=key):
                e = err(self, ge.post("/api/v1/items/search", body), 422, "invalid", key)
                self.assertIn(key, e["message"])
        for raw in ("[]", '"fontibon"', "{no es json"):
            with self.subTest(raw=raw):
                err(self, ge.post("/api/v1/items/search", raw=raw), 422, "invalid", "body")

    def test_06_hostile_text_is_text(self):
        subject = "<script>alert('asunto')</script> Usme"
        body = "<script>alert(\"cuerpo\")</script><img src=x onerror=alert(1)> & \"comillas\" 'simples'"
        doc = S.file_item(self, self.d, subject=subject, body=body, requester=S.anonymous_requester())
        rad, code = doc["radicado"], doc["tracking_code"]
        ag = self.s["ag"]
        r = ag.get("/api/v1/items/" + rad)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.json()["subject"], subject)
        self.assertEqual(r.json()["body"], body)
        q = ag.queue(q="usme").json()["items"]
        self.assertEqual([i["subject"] for i in q], [subject])
        answer = "<script>alert('respuesta')</script><b>negrita</b> & fin"
        r = ag.act(rad, "respond", text=answer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["responses"][-1]["text"], answer)
        self.assertIs(r.json()["responses"][-1]["published"], True)
        pages = {"/staff": self.d.get("/staff"), "/respuestas": self.d.get("/respuestas"),
                 "/consulta": self.d.post_form({"radicado": rad, "codigo": code}, "/consulta"),
                 "/": self.d.get("/"), "/tablero": self.d.get("/tablero"),
                 "/consulta (not found)": self.d.post_form(
                     {"radicado": "<script>alert(9)</script>", "codigo": "<b>x</b>"}, "/consulta")}
        for name, p in pages.items():
            with self.subTest(page=name):
                self.assertIn("text/html", p.header("content-type", ""), name)
                t = p.text
                for needle in ("<script>alert", "<img src=x", "onerror=alert", "<b>negrita", "<b>x</b>"):
                    self.assertNotIn(needle, t, "%s has markup from staff or citizen text" % name)
        self.assertIn("&lt;script&gt;alert(", pages["/respuestas"].text, "the published answer is shown, escaped")
        self.assertIn("&lt;script&gt;alert(", pages["/consulta"].text, "the answer is shown on the status page")
        self.assertEqual(pages["/consulta"].status, 200)
        # The web form's own acknowledgement page.
        f = H.form_fields(subject=subject, body=body)
        r = self.d.post_form(f, path="/")
        self.assertIn(r.status, (200, 201), r)
        for needle in ("<script>alert", "<img src=x", "onerror=alert"):
            self.assertNotIn(needle, r.text)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


if __name__ == "__main__":
    H.main()
