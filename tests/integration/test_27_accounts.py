"""Staff accounts under attack, against the real daemon (issue 12, points 7,
9, 10, 11 and 13; docs/staff-api.md, "Sessions"):

- failed logins delay further attempts per username *and* address, growing,
  never a lockout: a stranger cannot keep the real user out from the office,
  and an unknown username is answered exactly like a real one;
- a wrong current password on a password change counts like a failed login;
- a flood of logins from one address does not starve another address;
- `ventanilla user passwd` (another process) ends the account's sessions,
  over HTTP and on the live feed, as `user disable` does;
- the session cookie is Secure whenever entity.public_url is https.

Different client addresses are real ones: the test binds its sockets to
127.0.0.2, 127.0.0.3... (Linux routes all of 127/8 to the loopback), so the
daemon sees them as its peers without trusting any header.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_27_accounts.py
"""
import asyncio
import http.client
import json
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

import websockets  # noqa: E402  (python3-websockets)

TRIAGE = "atencion_ciudadano"
OFFICE = "127.0.0.1"  # the address the real user signs in from
PROTO = "ventanilla-live"
WRONG = "una clave equivocada cualquiera"


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


def request_from(d, ip, method, path, body=None, headers=None, timeout=60):
    """One HTTP request to d on its own connection, from the local address ip."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    hdrs = {"Host": "127.0.0.1:%d" % d.port, "Connection": "close"}
    hdrs.update(headers or {})
    if body is not None:
        hdrs["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in hdrs.items())
    sock = socket.create_connection(("127.0.0.1", d.port), timeout=timeout, source_address=(ip, 0))
    try:
        sock.sendall(head.encode("latin-1") + b"\r\n" + (body or b""))
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        return H.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        sock.close()


def login_from(d, ip, username, password=S.PASSWORD, timeout=60):
    return request_from(d, ip, "POST", "/api/v1/session",
                        json.dumps({"username": username, "password": password}),
                        {"Content-Type": "application/json"}, timeout=timeout)


class Client:
    """A staff session opened from the local address ip; its requests come from there too."""

    def __init__(self, d, ip, username, password=S.PASSWORD):
        self.d, self.ip = d, ip
        r = login_from(d, ip, username, password)
        if r.status != 200:
            raise AssertionError("login %s from %s: %r" % (username, ip, r))
        self.cookie = S.cookie_of(r)
        self.csrf = r.json()["csrf_token"]

    def get(self, path):
        return request_from(self.d, self.ip, "GET", path, headers={"Cookie": self.cookie})

    def post(self, path, obj):
        return request_from(self.d, self.ip, "POST", path, json.dumps(obj),
                            {"Cookie": self.cookie, "Content-Type": "application/json",
                             "X-CSRF-Token": self.csrf})


def retry_after(tc, r):
    ra = r.header("retry-after")
    tc.assertRegex(ra or "", r"^\d+$", r.headers)
    return int(ra)


def events(d, action):
    return [json.loads(e["payload"]) for e in
            d.query("SELECT payload FROM audit_events WHERE action = ? ORDER BY id", (action,))]


def audited(d, payload):
    """Waits for an ingreso_frenado event with that payload (written in the background, so
    that the answer to the login does not wait for it); returns all of them."""
    S.wait(lambda: payload in events(d, "ingreso_frenado"), timeout=30, what="the audit event %r" % payload)
    return events(d, "ingreso_frenado")


# ---------------------------------------------------------------------------
# Points 9 and 11: growing delays by username and address, alike for all names


class Throttle(H.DaemonCase):
    """login_delay_after 3, login_delay_first_seconds 30, login_account_failures 10;
    each test uses its own usernames and addresses. The first delay is long so
    that "the next attempt is delayed" holds however slow the machine is."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000, "login_delay_after": 3,
                                    "login_delay_first_seconds": 30, "login_delay_max_seconds": 120, "login_account_failures": 10}},
                         name="acc-throttle")
        for name, role in [("ana", "agente"), ("jefe", "admin"), ("carlos", "agente"), ("pw", "agente"),
                           ("tesorero", "coordinador")]:
            S.add_user(cls.d, name, role, TRIAGE if role in ("agente", "coordinador") else None)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_unknown_and_real_usernames_answer_alike(self):
        seen = {}
        for name, ip in [("ana", "127.0.0.3"), ("nadie.conocido", "127.0.0.4")]:
            answers = [login_from(self.d, ip, name, WRONG) for _ in range(4)]
            for r in answers[:3]:
                err(self, r, 401, "bad_credentials")
                self.assertIsNone(r.header("set-cookie"))
            e = err(self, answers[3], 429, "throttled")
            ra = retry_after(self, answers[3])
            self.assertTrue(1 <= ra <= 30, ra)
            self.assertIn("%d segundo" % ra, e["message"])
            # The seconds left may differ by one between the two runs on a busy machine;
            # everything else must be byte for byte the same.
            seen[name] = [(r.status, re.sub(rb"\d+", b"N", r.body), sorted(k for k in r.headers if k != "date"),
                           r.header("retry-after") is not None) for r in answers]
        self.assertEqual(seen["ana"], seen["nadie.conocido"],
                         "a real account and an unknown username must get the same answers")
        # Only the real account's throttling is audited; the unknown name is written nowhere.
        audited(self.d, {"username": "ana", "scope": "address", "failures": 3})
        self.assertNotIn("nadie.conocido", json.dumps(self.d.query("SELECT * FROM audit_events")))
        self.assertNotIn("nadie.conocido", self.d.log_text())

    def test_02_a_stranger_cannot_keep_the_office_out(self):
        stranger = "127.0.0.2"
        for _ in range(3):
            err(self, login_from(self.d, stranger, "jefe", WRONG), 401, "bad_credentials")
        for _ in range(5):  # hammering while delayed counts nothing and locks nothing
            err(self, login_from(self.d, stranger, "jefe", WRONG), 429, "throttled")
        # Even the right password waits from the stranger's address...
        err(self, login_from(self.d, stranger, "jefe"), 429, "throttled")
        # ...while the real user signs in from the office at once.
        r = login_from(self.d, OFFICE, "jefe")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"]["username"], "jefe")
        ev = audited(self.d, {"username": "jefe", "scope": "address", "failures": 3})
        self.assertEqual([e for e in ev if e["username"] == "jefe"], [{"username": "jefe", "scope": "address",
                                                                       "failures": 3}], "audited once")

    def test_04_a_wrong_current_password_counts_like_a_failed_login(self):
        ip = "127.0.0.6"
        me = Client(self.d, ip, "pw")
        new = "una clave nueva y bastante larga"
        for _ in range(3):
            err(self, me.post("/api/v1/session/password", {"current_password": WRONG, "new_password": new}),
                403, "wrong_password")
        # From that address, both a login and another change now wait, even with the right password.
        err(self, login_from(self.d, ip, "pw"), 429, "throttled")
        err(self, me.post("/api/v1/session/password", {"current_password": S.PASSWORD, "new_password": new}),
            429, "throttled")
        audited(self.d, {"username": "pw", "scope": "address", "failures": 3})
        # The office is not held back; the session itself still works.
        self.assertEqual(login_from(self.d, OFFICE, "pw").status, 200)
        self.assertEqual(me.get("/api/v1/session").status, 200)

    def test_05_an_attack_spread_over_addresses(self):
        # 10 failures on one username from 5 addresses, never 3 from one: the account-wide ceiling.
        for i in range(5):
            for _ in range(2):
                err(self, login_from(self.d, "127.0.1.%d" % (i + 1), "tesorero", WRONG), 401, "bad_credentials")
        ev = audited(self.d, {"username": "tesorero", "scope": "account", "failures": 10})
        self.assertEqual([e for e in ev if e["username"] == "tesorero"],
                         [{"username": "tesorero", "scope": "account", "failures": 10}])
        # Now a new address is delayed after its first failure, not its third...
        err(self, login_from(self.d, "127.0.1.9", "tesorero", WRONG), 401, "bad_credentials")
        err(self, login_from(self.d, "127.0.1.9", "tesorero"), 429, "throttled")
        # ...while an address that has not failed, the office, signs in.
        self.assertEqual(login_from(self.d, OFFICE, "tesorero").status, 200)

    def test_99_clean(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# Point 7: the password checks are shared fairly between addresses


class ThrottleGrowth(H.DaemonCase):
    """login_delay_after 3, delays from 2 s doubling to a cap of 8 s."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000, "login_delay_after": 3,
                                    "login_delay_first_seconds": 2, "login_delay_max_seconds": 8}},
                         name="acc-growth")
        S.add_user(cls.d, "carlos", "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_delays_grow_to_the_cap_and_end(self):
        ip = "127.0.0.5"
        for _ in range(3):
            err(self, login_from(self.d, ip, "carlos", WRONG), 401, "bad_credentials")
        # Each wrong password admitted once the delay is over makes the next delay
        # longer: 2 s, 4 s, then the cap, 8 s. A slow machine may let an attempt
        # through (it then counts as one more failure), so the waits seen are
        # read, not assumed, and must only grow up to the cap.
        waits = []
        while not waits or waits[-1] < 8:
            r = login_from(self.d, ip, "carlos", WRONG)
            if r.status == 429:
                err(self, r, 429, "throttled")
                waits.append(retry_after(self, r))
                err(self, S.past_throttle(lambda: login_from(self.d, ip, "carlos", WRONG)), 401,
                    "bad_credentials")
            else:
                err(self, r, 401, "bad_credentials")
            self.assertLess(len(waits), 10, waits)
        r = login_from(self.d, ip, "carlos", WRONG)
        err(self, r, 429, "throttled")
        waits.append(retry_after(self, r))
        self.assertEqual(waits, sorted(waits), waits)
        self.assertLess(waits[0], 8, waits)
        self.assertTrue(all(1 <= w <= 8 for w in waits), waits)
        self.assertGreaterEqual(waits[-1], 7, waits)
        # The right password once the delay is over; then the count starts over.
        self.assertEqual(S.past_throttle(lambda: login_from(self.d, ip, "carlos")).status, 200)
        for _ in range(2):
            err(self, login_from(self.d, ip, "carlos", WRONG), 401, "bad_credentials")

    def test_99_clean(self):
        self.assert_no_crash()


class Fairness(H.DaemonCase):
    """The default queue share (4 checks waiting per address) and worker count."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000}}, name="acc-fair")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_workers_sized_to_the_machine(self):
        m = re.search(r"event=login_workers workers=(\d+)", self.d.log_text())
        self.assertTrue(m, "no login_workers line in the log")
        self.assertEqual(int(m.group(1)), min(len(os.sched_getaffinity(0)), 8))

    def test_02_a_flood_from_one_address_does_not_starve_another(self):
        stop = threading.Event()
        answers = []  # (status, code) of the flood's answers
        lock = threading.Lock()

        def flood(n):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = login_from(self.d, OFFICE, "x%d.%d.%d" % (n, i, H.unique()), WRONG, timeout=120)
                    code = (r.json().get("error") or {}).get("code") if r.status != 200 else None
                except (OSError, http.client.HTTPException, ValueError):
                    r, code = None, "connection"
                with lock:
                    answers.append((r.status if r else 0, code))
                if r is None or r.status in (429, 503):
                    time.sleep(0.05)  # a refused client comes back at once, as a script would

        threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(64)]
        for t in threads:
            t.start()
        try:
            # The flood fills what it may of the queue: it starts being refused.
            S.wait(lambda: any(s in (429, 503) for s, _ in list(answers)), timeout=60,
                   what="the flood to be refused")
            # Meanwhile someone else signs in, from another address, again and again.
            for i in range(3):
                r = login_from(self.d, "127.0.0.2", "ana", timeout=120)
                self.assertEqual(r.status, 200, "login %d from another address during the flood: %r" % (i, r))
        finally:
            stop.set()
            for t in threads:
                t.join(180)
        got = list(answers)
        # The flood was refused for its own address (429), never as a daemon overloaded for all
        # (503 busy: the login queue full).
        self.assertIn((429, "rate_limited"), got)
        self.assertNotIn((503, "busy"), got)
        self.assertGreater(len([s for s, _ in got if s == 401]), 0, "the flood's checks were made too")
        # And the office address is served again once the flood stops.
        self.assertEqual(login_from(self.d, OFFICE, "ana").status, 200)

    def test_99_clean(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# Point 10: `ventanilla user passwd` ends the account's sessions, HTTP and live


class SessionsEnd(H.DaemonCase):
    ORIGIN = "http://ventanilla.test"

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000}, "entity": {"public_url": cls.ORIGIN}},
                         name="acc-sessions")
        for name in ("ana", "luis"):
            S.add_user(cls.d, name, "agente", TRIAGE)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    async def live(self, who):
        """A /live connection with who's cookie, subscribed to staff events (in place once the
        metrics snapshot, asked for with it, has arrived)."""
        ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                      extra_headers={"Cookie": who.cookie}, origin=self.ORIGIN,
                                      open_timeout=30, close_timeout=5)
        await ws.send(json.dumps({"subscribe": ["staff", "metrics"]}))
        await self.until(ws, lambda m: m.get("topic") == "metrics")
        return ws

    async def until(self, ws, pred, seconds=30):
        """The messages received until one satisfies pred (last); fails on timeout."""
        got = []
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                self.fail("no matching live message within %ss; got %r" % (seconds, got))
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            m = json.loads(raw)
            got.append(m)
            if pred(m):
                return got

    def new_item(self):
        return S.file_item(self, self.d, requester=S.web_requester())["radicado"]

    def ends_live_feed(self, who, cli):
        """Opens who's live feed, checks it works, runs cli(), and checks that the next
        item is not sent to it but the feed is told the session ended."""
        async def scenario():
            ws = await self.live(who)
            try:
                rad = self.new_item()
                await self.until(ws, lambda m: m.get("topic") == "staff" and m["item"]["radicado"] == rad)
                p = cli()
                self.assertEqual(p.returncode, 0, p.stderr)
                rad2 = self.new_item()
                got = await self.until(ws, lambda m: m.get("topic") in ("error", "staff")
                                       and (m.get("topic") == "error" or m["item"]["radicado"] == rad2))
                self.assertEqual(got[-1].get("topic"), "error", "the ended session still got %r" % got[-1])
                self.assertEqual(got[-1].get("code"), "unauthenticated")
                self.assertNotIn(rad2, json.dumps(got))
            finally:
                await ws.close()
        asyncio.run(asyncio.wait_for(scenario(), 120))

    def test_01_user_passwd_ends_every_session_of_the_account(self):
        a, b = Staff(self.d, "ana"), Staff(self.d, "ana")
        other = Staff(self.d, "luis")
        new = "la clave que puso el administrador"
        self.ends_live_feed(a, lambda: S.user_cli(self.d, "passwd", "ana", new))
        err(self, a.get("/api/v1/session"), 401, "unauthenticated")
        err(self, b.get("/api/v1/items"), 401, "unauthenticated")
        err(self, b.post("/api/v1/session/logout", {}), 401, "unauthenticated")
        self.assertEqual(other.get("/api/v1/items").status, 200, "another account's session goes on")
        err(self, S.login(self.d, "ana"), 401, "bad_credentials")
        c = Staff(self.d, "ana", new)
        self.assertEqual(c.get("/api/v1/items").status, 200)

    def test_02_user_disable_ends_the_live_feed_too(self):
        s = Staff(self.d, "luis")
        self.ends_live_feed(s, lambda: S.user_cli(self.d, "disable", "luis"))
        err(self, s.get("/api/v1/session"), 401, "unauthenticated")

    def test_99_clean(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# Point 13: Secure cookie whenever the public address is https


class SecureCookie(H.DaemonCase):
    def check(self, public_url, secure):
        d = H.Daemon({"staff": {"login_per_minute": 10000}, "entity": {"public_url": public_url}},
                     name="acc-cookie")
        try:
            S.add_user(d, "ana", "agente", TRIAGE)
            d.start()
            s = Staff(d, "ana")  # plain HTTP to the daemon, as behind a TLS proxy
            sc = s.login_response.header("set-cookie")
            self.assertRegex(sc, r"^vt_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict%s$"
                             % ("; Secure" if secure else ""))
            self.assertEqual(s.get("/api/v1/session").status, 200)
            out = s.logout()
            self.assertEqual(out.status, 204, out)
            self.assertEqual("; Secure" in out.header("set-cookie"), secure, out.header("set-cookie"))
            d.stop()
        finally:
            d.cleanup()

    def test_01_https_public_url_makes_the_cookie_secure(self):
        self.check("https://pqrsd.entidad.gov.co", True)

    def test_02_http_public_url_does_not(self):
        self.check("http://pqrsd.entidad.gov.co", False)


if __name__ == "__main__":
    H.main()
