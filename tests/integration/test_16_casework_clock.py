"""Casework that needs the calendar to move: an incomplete petition whose
requester never answers is archived by desistimiento tácito (Ley 1755 art.
17) once its deadline passes, and staff are told live when an item enters the
due-soon window on a later day.

The real daemon runs under libfaketime (Debian's faketime package): its
clock is moved forward by writing an offset to FAKETIME_TIMESTAMP_FILE, which
the daemon re-reads on every clock call. Nothing in the daemon knows."""
import asyncio
import datetime
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import legal_calendar as LC  # noqa: E402

import websockets  # noqa: E402  (python3-websockets 10.4)

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))
PASSWORD = "una clave de prueba bastante larga"


def holidays(year):
    """ISO dates of year's holidays, from the tests' own table (not the daemon's)."""
    return {d.isoformat() for d in LC.holidays(year)}


def business(d, hol):
    return d.weekday() < 5 and d.isoformat() not in hol


def add_business(d, n, hol):
    while n > 0:
        d += datetime.timedelta(days=1)
        if business(d, hol):
            n -= 1
    return d


@unittest.skipUnless(os.path.exists(LIBFAKETIME) or os.environ.get("VT_REQUIRE_FAKETIME"),
                     "libfaketime is not installed (apt-get install faketime)")
class CaseworkClock(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="clock", config={
            "staff": {"due_refresh_seconds": 1, "session_idle_seconds": 604800,
                      "session_max_seconds": 604800, "completion_wait_days": 30},
            "live": {"due_soon_days": 3},
        })
        cls.clock = os.path.join(cls.d.dir, "faketime")
        cls.set_offset(0)
        cls.d.env.update({
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME_TIMESTAMP_FILE": cls.clock,
            "FAKETIME_NO_CACHE": "1",
            # Only the wall clock moves, as it does when days pass; the loop's
            # timers run on the monotonic clock, which never jumps.
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # ASan wants to be the first library; libfaketime must be.
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
        })
        p = subprocess.run([H.BIN, "user", "add", "--config", cls.d.cfg_path, "--data-dir",
                            cls.d.data_dir, "coord", "--role", "coordinador", "--dependencia",
                            "atencion_ciudadano"], input=PASSWORD + "\n", capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    @classmethod
    def set_offset(cls, seconds):
        with open(cls.clock + ".tmp", "w") as f:
            f.write("%+ds\n" % int(seconds))
        os.replace(cls.clock + ".tmp", cls.clock)

    def offset_to(self, day, hour=11):
        """Seconds from the real now to day at hour:00 Bogotá time."""
        target = datetime.datetime.combine(day, datetime.time(hour), BOGOTA)
        return (target - datetime.datetime.now(BOGOTA)).total_seconds()

    def login(self):
        r = self.d.request("POST", "/api/v1/session",
                           json.dumps({"username": "coord", "password": PASSWORD}).encode(),
                           {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.text)
        cookie = r.header("Set-Cookie").split(";")[0]
        return cookie, r.json()["csrf_token"]

    def act(self, session, radicado, **action):
        cookie, csrf = session
        return self.d.request("POST", "/api/v1/items/%s/actions" % radicado,
                              json.dumps(action).encode(),
                              {"Content-Type": "application/json", "Cookie": cookie,
                               "X-CSRF-Token": csrf})

    def file_item(self, **over):
        r = self.d.post_json(H.item_payload(reply_channel="email", **over))
        self.assertEqual(r.status, 201, r.text)
        return r.json()

    def wait_for(self, what, fn, timeout=H.WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.2)
        self.fail("timed out waiting for " + what)

    def test_01_desistimiento_after_the_deadline(self):
        # A control item asked to complete a day earlier: its deadline is the
        # day before the main item's, so its archiving shows that a sweep ran
        # on the main item's deadline day (a positive barrier, no sleep).
        self.set_offset(-86400)
        control = self.file_item()["radicado"]
        r = self.act(self.login(), control, action="request_completion", text="Adjunte el plano.")
        self.assertEqual(r.status, 200, r.text)
        self.set_offset(0)
        session = self.login()
        item = self.file_item()
        rad = item["radicado"]
        r = self.act(session, rad, action="request_completion",
                     text="Adjunte la copia de la factura del servicio.")
        self.assertEqual(r.status, 200, r.text)
        got = r.json()
        self.assertEqual(got["status"], "pendiente_completar")
        today = datetime.datetime.now(BOGOTA).date()
        deadline = today + datetime.timedelta(days=30)
        self.assertEqual(got["completion_deadline"], deadline.isoformat())
        # No channel runs in this daemon: nothing was sent, and the record
        # says so; the citizen reads it on the status page (test_14 follows
        # the same notice over SMTP).
        ev = self.d.query("SELECT e.payload FROM audit_events e JOIN items i ON i.id = e.item_id "
                          "WHERE i.radicado = ? AND e.action = 'completar_solicitado'", (rad,))
        self.assertEqual(json.loads(ev[0]["payload"])["notified_by"], "no_enviado")
        self.assertEqual((got["result"]["outcome"], got["result"]["outbox_ids"]), ("not_sent", []))
        t = self.d.track(rad, item["tracking_code"]).json()
        self.assertIn("completar", json.dumps(t["history"], ensure_ascii=False))

        # On the deadline itself nothing happens yet: the sweep that archives
        # the control item (whose deadline was the day before) left this one.
        self.assertEqual(self.d.scalar("SELECT completion_deadline FROM items WHERE radicado = ?", (control,)),
                         (deadline - datetime.timedelta(days=1)).isoformat())
        self.set_offset(self.offset_to(deadline, 16))
        self.wait_for("the control item archived", lambda: self.d.scalar(
            "SELECT status FROM items WHERE radicado = ?", (control,)) == "desistido")
        self.assertEqual(self.d.scalar("SELECT status FROM items WHERE radicado = ?", (rad,)),
                         "pendiente_completar")
        # The day after, the sweep archives it, says so on the record and
        # tells the citizen.
        self.set_offset(self.offset_to(deadline + datetime.timedelta(days=1), 9))
        self.wait_for("desistido", lambda: self.d.scalar(
            "SELECT status FROM items WHERE radicado = ?", (rad,)) == "desistido")
        ev = self.d.query("SELECT e.actor, e.public FROM audit_events e JOIN items i "
                          "ON i.id = e.item_id WHERE i.radicado = ? AND e.action = 'desistido'",
                          (rad,))
        self.assertEqual([(e["actor"], e["public"]) for e in ev], [("sistema", 1)])
        # The citizen's status page says it in plain words.
        t = self.d.track(rad, item["tracking_code"])
        self.assertEqual(t.json()["status"], "desistido")
        self.assertIn("no recibimos lo que faltaba", json.dumps(t.json(), ensure_ascii=False))
        # A coordinador may reopen it (the citizen brought the papers late).
        session = self.login()
        r = self.act(session, rad, action="reopen", reason="El ciudadano trajo la factura.")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json()["status"], "en_tramite")
        self.set_offset(0)

    def test_02_staff_hear_when_an_item_becomes_due_soon(self):
        self.set_offset(0)
        item = self.file_item(type="queja")
        due = datetime.date.fromisoformat(item["due_date"])
        hol = holidays(due.year) | holidays(due.year - 1)
        # The window is 3 business days: it reaches the due date on the
        # business day three business days before it.
        enter = due
        for _ in range(3):
            enter -= datetime.timedelta(days=1)
            while not business(enter, hol):
                enter -= datetime.timedelta(days=1)
        self.assertEqual(add_business(enter, 3, hol), due)
        before = enter - datetime.timedelta(days=1)
        while not business(before, hol):
            before -= datetime.timedelta(days=1)

        # The day before, the window has not reached the item, and a due
        # refresh must run on that day (it takes that day's window as the one
        # to compare with; refreshes come every second, none is visible). So:
        # a control item waiting for completion whose deadline is long past
        # (written while the daemon is stopped) is archived by the sweep of
        # the first refresh after the restart, on that day: a positive signal.
        control = self.file_item()["radicado"]
        r = self.act(self.login(), control, action="request_completion", text="Adjunte el recibo.")
        self.assertEqual(r.status, 200, r.text)
        self.set_offset(self.offset_to(before))
        self.d.stop()
        self.d.execute("UPDATE items SET completion_deadline = '2000-01-03' WHERE radicado = ?", (control,))
        self.d.start()
        self.wait_for("a due refresh on the day before", lambda: self.d.scalar(
            "SELECT status FROM items WHERE radicado = ?", (control,)) == "desistido")
        cookie, _ = self.login()

        async def listen():
            async with websockets.connect(
                    "ws://127.0.0.1:%d/live" % self.d.port, subprotocols=["ventanilla-live"],
                    extra_headers={"Cookie": cookie}, origin="http://127.0.0.1:%d" % self.d.port,
                    open_timeout=H.WAIT) as ws:
                await ws.send(json.dumps({"subscribe": ["staff", "metrics"]}))
                # The metrics snapshot answers the subscription: it is in place.
                while json.loads(await asyncio.wait_for(ws.recv(), H.WAIT)).get("topic") != "metrics":
                    pass
                self.set_offset(self.offset_to(enter))
                end = time.monotonic() + H.WAIT
                while time.monotonic() < end:
                    try:
                        m = json.loads(await asyncio.wait_for(ws.recv(), 1))
                    except asyncio.TimeoutError:
                        continue
                    # Other open items may enter the window the same day.
                    if m.get("event") == "due_soon" and \
                            m["item"]["radicado"] == item["radicado"]:
                        return m
                return None

        m = asyncio.run(listen())
        self.assertIsNotNone(m, "no due_soon event after the window reached the due date")
        self.assertEqual(m["item"]["radicado"], item["radicado"])
        self.assertEqual(m["item"]["due_date"], item["due_date"])
        self.set_offset(0)

    def test_99_audit_chain_verifies(self):
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir",
                       self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


@unittest.skipUnless(H.BACKEND == "postgresql", "two instances share a database only on PostgreSQL")
class TwoInstances(H.DaemonCase):
    """Two instances on one database run the desistimiento sweep (and the
    staff sessions' sweep) once per period between them, not once each: each
    run claims its period in scheduled_runs first."""
    PERIOD = 2  # staff.due_refresh_seconds

    @classmethod
    def setUpClass(cls):
        cls.b = None
        cls.conf = {"staff": {"due_refresh_seconds": cls.PERIOD, "completion_wait_days": 30},
                    "log": {"level": "debug"}}
        cls.a = H.Daemon(name="sweep-a", config=cls.conf)
        p = subprocess.run([H.BIN, "user", "add", "--config", cls.a.cfg_path, "--data-dir",
                            cls.a.data_dir, "coord", "--role", "coordinador", "--dependencia",
                            "atencion_ciudadano"], input=PASSWORD + "\n", capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        cls.a.start()
        cls.b = H.Daemon(name="sweep-b", config=cls.conf, share=cls.a)
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        H.release(cls.b, cls.a)

    def wait_for(self, what, fn, timeout=H.WAIT):
        return H.wait_until(fn, timeout, what, interval=0.2)

    def runs(self, name):
        """(at, instance) of every run of job name that either instance's log records."""
        out = []
        for who, d in (("a", self.a), ("b", self.b)):
            for line in list(d.lines):
                if "event=scheduled_run " in line:
                    ev = H.parse_logfmt(line)
                    if ev.get("name") == name:
                        out.append((int(ev["at"]), who))
        return sorted(out)

    def test_01_the_sweep_runs_once_per_period_across_instances(self):
        a, b = self.a, self.b
        # A staff member on B asks for completion of an item filed on A.
        item = a.post_json(H.item_payload(reply_channel="email"))
        self.assertEqual(item.status, 201, item.text)
        rad = item.json()["radicado"]
        r = b.request("POST", "/api/v1/session",
                      json.dumps({"username": "coord", "password": PASSWORD}).encode(),
                      {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.text)
        cookie, csrf = r.header("Set-Cookie").split(";")[0], r.json()["csrf_token"]
        r = b.request("POST", "/api/v1/items/%s/actions" % rad,
                      json.dumps({"action": "request_completion", "text": "Adjunte el recibo."}).encode(),
                      {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
        self.assertEqual(r.status, 200, r.text)
        # Its time to complete runs out.
        a.execute("UPDATE items SET completion_deadline = '2000-01-03' WHERE radicado = ?", (rad,))
        self.wait_for("desistido", lambda: a.scalar(
            "SELECT status FROM items WHERE radicado = ?", (rad,)) == "desistido")
        # Archived once: one event on the record, one sweep that found it.
        ev = a.query("SELECT e.actor FROM audit_events e JOIN items i ON i.id = e.item_id "
                     "WHERE i.radicado = ? AND e.action = 'desistido'", (rad,))
        self.assertEqual([e["actor"] for e in ev], ["sistema"])
        found = [l for d in (a, b) for l in list(d.lines) if "event=desistimiento " in l]
        self.assertEqual(len(found), 1, found)
        # Every refresh of either instance either ran the sweep or saw that the
        # other had run it within the period: a few periods' worth of runs...
        self.wait_for("six sweeps", lambda: len(self.runs("desistimiento")) >= 6)
        self.wait_for("a sweep left to the other instance", lambda: any(
            "event=scheduled_skipped" in l and "name=desistimiento" in l for d in (a, b) for l in list(d.lines)))
        # ... never two within one period: a run by the other instance than the
        # last one's comes only once a whole period passed without a run.
        runs = self.runs("desistimiento")
        for (t0, w0), (t1, w1) in zip(runs, runs[1:]):
            if w0 != w1:
                self.assertGreaterEqual(t1 - t0, self.PERIOD * 1000, runs)
        # The table names the instance that ran the last period, for each job.
        rows = {r["name"]: r for r in a.query("SELECT name, last_run_at, run_by FROM scheduled_runs")}
        self.assertEqual(set(rows), {"desistimiento", "staff_sessions"})
        row = rows["desistimiento"]
        who = self.wait_for("the log line of the run on record", lambda: [
            w for t, w in self.runs("desistimiento") if t == row["last_run_at"]])
        self.assertEqual(len(who), 1, who)
        self.assertIn(os.path.basename((a if who[0] == "a" else b).dir), row["run_by"])
        self.assertTrue(any(os.path.basename(d.dir) in rows["staff_sessions"]["run_by"] for d in (a, b)))
        p = a.cli("audit", "verify", "--config", a.cfg_path, "--data-dir", a.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    H.main()
