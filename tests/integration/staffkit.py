"""Helpers shared by the staff backend tests (test_12_staff.py,
test_14_casework.py): staff accounts made with the CLI, logged-in sessions
that carry their cookie and CSRF token, and the business-day calendar
recomputed in Python from the tests' own holiday table (legal_calendar.py),
so that no expected date comes from the daemon's calendar.

    s = staffkit.Staff(daemon, "ana")              # logs in (password PASSWORD)
    r = s.get("/api/v1/items?status=radicado")
    r = s.act("2026-000012", "note", text="Llamé al ciudadano")
"""
import base64
import datetime
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import legal_calendar as LC  # noqa: E402

PASSWORD = "clave de prueba bastante larga"
COOKIE_RE = re.compile(r"^vt_session=([0-9a-f]{64}); Path=/; HttpOnly; SameSite=Strict$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")

# ---------------------------------------------------------------------------
# Accounts


def add_user(d, username, role, dependencia=None, password=PASSWORD):
    """`ventanilla user add` (works whether or not the daemon runs)."""
    args = ["user", "add", "--config", d.cfg_path, *d.data_dir_args(), username, "--role", role]
    if dependencia:
        args += ["--dependencia", dependencia]
    p = H.run_cli(*args, input=password + "\n", env=d.env)
    if p.returncode != 0:
        raise AssertionError("user add %s failed: %s %s" % (username, p.stdout, p.stderr))


def user_cli(d, verb, username, password=None):
    return H.run_cli("user", verb, "--config", d.cfg_path, *d.data_dir_args(), username,
                     input=(password + "\n") if password is not None else "", env=d.env)


def stop_and_cleanup(d):
    """Stops the daemon with SIGTERM (a clean exit is asserted, so a
    sanitizer's leak report at exit fails the class) and removes its files:
    what Daemon.cleanup() does, crashes and sanitizer reports included."""
    d.cleanup()


def audit_verify(tc, d):
    p = d.cli("audit", "verify", "--config", d.cfg_path, *d.data_dir_args())
    tc.assertEqual(p.returncode, 0, "audit verify failed: %s %s" % (p.stdout, p.stderr))
    return p


# ---------------------------------------------------------------------------
# Sessions


def login(d, username, password=PASSWORD):
    """POST /api/v1/session; returns the harness Response."""
    return d.request("POST", "/api/v1/session", json.dumps({"username": username, "password": password}),
                     {"Content-Type": "application/json"})


def past_throttle(attempt, timeout=60):
    """Calls attempt() until its answer is not `429 throttled` (failed logins
    delay the next attempt: docs/staff-api.md), sleeping what Retry-After says
    (at most a second at a time); returns that answer."""
    deadline = time.monotonic() + timeout
    while True:
        r = attempt()
        if r.status != 429 or (r.json().get("error") or {}).get("code") != "throttled":
            return r
        if time.monotonic() > deadline:
            raise AssertionError("still throttled after %ss: %r" % (timeout, r))
        time.sleep(min(1.0, max(0.1, int(r.header("retry-after", "1")) / 2)))


def cookie_of(resp):
    """The vt_session=TOKEN pair of a login answer's Set-Cookie, or None."""
    sc = resp.header("set-cookie") or ""
    m = re.match(r"^(vt_session=[^;]*)", sc)
    return m.group(1) if m else None


class Staff:
    """One logged-in staff member: requests carry the cookie, and POSTs the
    X-CSRF-Token header (csrf=None leaves it out, csrf="..." sends that)."""

    def __init__(self, d, username, password=PASSWORD, expect=200):
        self.d = d
        self.username = username
        r = login(d, username, password)
        if r.status != expect:
            raise AssertionError("login %s: expected %d, got %r" % (username, expect, r))
        self.login_response = r
        self.cookie = cookie_of(r)
        doc = r.json()
        self.csrf = doc["csrf_token"]
        self.user = doc["user"]
        self.session = doc

    def headers(self, extra=None):
        h = {"Cookie": self.cookie}
        h.update(extra or {})
        return h

    def get(self, path):
        return self.d.get(path, self.headers())

    def post(self, path, obj=None, csrf=..., raw=None):
        h = {"Content-Type": "application/json"}
        if csrf is ...:
            h["X-CSRF-Token"] = self.csrf
        elif csrf is not None:
            h["X-CSRF-Token"] = csrf
        body = raw if raw is not None else json.dumps(obj if obj is not None else {}, ensure_ascii=False)
        return self.d.request("POST", path, body, self.headers(h))

    def act(self, radicado, action, csrf=..., **fields):
        body = {"action": action}
        body.update(fields)
        return self.post("/api/v1/items/%s/actions" % radicado, body, csrf=csrf)

    def item(self, radicado):
        r = self.get("/api/v1/items/%s" % radicado)
        if r.status != 200:
            raise AssertionError("GET item %s as %s: %r" % (radicado, self.username, r))
        return r.json()

    def queue(self, **params):
        q = urllib.parse.urlencode(params)
        return self.get("/api/v1/items" + ("?" + q if q else ""))

    def logout(self):
        return self.post("/api/v1/session/logout", {})


def anonymous_post(d, path, obj):
    return d.request("POST", path, json.dumps(obj), {"Content-Type": "application/json"})


# ---------------------------------------------------------------------------
# Items


def file_item(tc, d, **over):
    """Files a PQRSD over the API; returns the 201 document."""
    r = d.post_json(H.item_payload(**over))
    return H.assert_created(tc, r)


def web_requester(email=False, phone=None):
    """A named requester without email (so the reply channel is the web)
    unless email=True."""
    p = H.person()
    req = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"]}
    if email:
        req["email"] = p["email"]
    if phone:
        req["phone"] = phone
    return req


def anonymous_requester():
    return {"person_type": "anonimo"}


def b64(data):
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------------------
# The calendar, recomputed


def holidays(year):
    """year's holidays from the tests' own table (legal_calendar), never the daemon's."""
    return LC.holidays(year)


def is_business(d):
    return d.weekday() < 5 and d not in holidays(d.year)


def add_bd(d, n):
    """The n-th business day strictly after d (n < 0: before; 0: d)."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += datetime.timedelta(days=step)
        if is_business(d):
            left -= 1
    return d


def today():
    return H.bogota_now().date()


def filed_date(moment=None, closing=(17, 0)):
    """The business day a receipt at moment (aware datetime, default now)
    counts on: that day if business and before closing, else the next."""
    t = (moment or H.bogota_now()).astimezone(H.BOGOTA)
    d = t.date()
    if is_business(d) and (t.hour, t.minute) < closing:
        return d
    return add_bd(d, 1)


def iso(d):
    return d.isoformat()


def date_es(d):
    if isinstance(d, str):
        d = datetime.date.fromisoformat(d)
    return d.strftime("%d/%m/%Y")


def wait(pred, timeout=H.WAIT, what="condition", interval=0.05):
    return H.wait_until(pred, timeout, what, interval=interval)
