"""The managers' dashboard (issue 6, parts 6 and 8): the "dashboard" topic of
/live for gerente sessions only (refused without a session, to an agente, and
once the session ends), its figures checked against a seeded dataset
recomputed here in Python from the database's own columns (src/domain/dashboard.h
defines them), a fresh snapshot within a second of an intake and at most one
a second under a burst; /tablero showing the public counts or the charts by
session; Debian's Chart.js at /static/vendor/chart.js, and the daemon still
starting without it; and, in a real headless Chromium, a gerente signing in
through /staff, opening /tablero and seeing the volume chart's table and its
canvas change after an intake, without a reload, a JavaScript error or a CSP
violation (a screenshot goes to $VT_ARTIFACTS, default build/test-artifacts/).

The daemon has no clock to move, so the past is written into the database:
filing and due dates (items), answer times (responses.at), the receipt time
of survey answers and the kind of two items that stand for hearing
questions (their intake is not open yet). audit_events is never touched and
`ventanilla audit verify` passes at the end.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_20_dashboard.py
"""
import asyncio
import collections
import datetime
import functools
import json
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
import cdp  # noqa: E402

import websockets  # noqa: E402  (python3-websockets 10.4)

PROTO = "ventanilla-live"
TRIAGE = "atencion_ciudadano"
CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"
DUE_SOON_DAYS = 3
NPS_DETRACTOR_MAX = 6
RUNS = ("radicado", "en_tramite")
REQUIRE_BROWSER = bool(os.environ.get("VT_REQUIRE_BROWSER"))
HAVE_BROWSER = cdp.available()
ARTIFACTS = os.path.abspath(os.environ.get("VT_ARTIFACTS") or os.path.join(H.SOURCE_DIR, "build", "test-artifacts"))
SURVEY = {"title": "Satisfacción con la atención", "questions": [
    {"id": "cal", "type": "rating", "text": "¿Cómo califica la atención recibida?", "required": False},
    {"id": "rec", "type": "nps", "text": "¿Qué tan probable es que nos recomiende?", "required": False}]}


def run(coro, timeout=4 * H.WAIT):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def db_exec(d, sql, args=()):
    d.execute(sql, args)


def set_col(d, rad, col, value):
    assert re.match(r"^[a-z_]+$", col)
    db_exec(d, "UPDATE items SET %s = ? WHERE radicado = ?" % col, (value, rad))


def local_ms(day, hour=10):
    """Unix ms of day at hour:00 in Bogotá."""
    return int(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=H.BOGOTA).timestamp() * 1000)


def local_date(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, H.BOGOTA).date()


def business_days(filed, answered):
    """Definition 5: business days strictly after filed, up to answered."""
    n, d = 0, filed
    while d < answered:
        d += datetime.timedelta(days=1)
        n += S.is_business(d)
    return n


def tenth(x):
    """One decimal, halves away from zero, as dashboard.c's tenth()."""
    return int(x * 10 + (0.5 if x >= 0 else -0.5)) / 10


def month_add(day, k):
    m = day.year * 12 + day.month - 1 + k
    return datetime.date(m // 12, m % 12 + 1, 1)


def expected_figures(d, today):
    """Every figure of src/domain/dashboard.h, recomputed from the raw columns."""
    items = d.query("SELECT id, kind, channel, type, stakeholder_group AS grp, dependencia, status, "
                    "filed_date, due_date FROM items")
    first = {r["item_id"]: r["at"] for r in d.query("SELECT item_id, min(at) AS at FROM responses GROUP BY item_id")}
    soon = S.add_bd(today, DUE_SOON_DAYS)
    vol = {k: collections.Counter() for k in ("by_channel", "by_type", "by_group", "by_dependencia")}
    comp = dict(answered=0, on_time=0, late=0, overdue=0, due_soon=0)
    days = 0
    hear = dict(received=0, answered=0)
    for it in items:
        if it["kind"] == "hearing_question":
            hear["received"] += 1
            hear["answered"] += it["id"] in first
        if it["kind"] != "pqrsd":
            continue
        vol["by_channel"][it["channel"]] += 1
        vol["by_type"][it["type"] or "sin_tipo"] += 1
        vol["by_group"][it["grp"]] += 1
        vol["by_dependencia"][it["dependencia"] or TRIAGE] += 1
        due = datetime.date.fromisoformat(it["due_date"]) if it["due_date"] else None
        if it["status"] in RUNS and due is not None:
            comp["overdue"] += due < today
            comp["due_soon"] += today <= due <= soon
        if it["id"] in first:
            answered = local_date(first[it["id"]])
            comp["answered"] += 1
            if due is None or answered <= due:
                comp["on_time"] += 1
            else:
                comp["late"] += 1
            days += business_days(datetime.date.fromisoformat(it["filed_date"]), answered)
    comp["on_time_pct"] = tenth(comp["on_time"] * 100 / comp["answered"]) if comp["answered"] else None
    comp["avg_response_days"] = tenth(days / comp["answered"]) if comp["answered"] else None

    start, end = month_add(today, -11), month_add(today, 1)
    lo, hi = local_ms(start, 0), local_ms(end, 0)
    answers = d.query("SELECT a.csat, a.nps, i.received_at, i.stakeholder_group AS grp FROM survey_answers a "
                      "JOIN items i ON i.id = a.item_id")
    answers = [a for a in answers if lo <= a["received_at"] < hi]

    def figures(rows):
        cs = [r["csat"] for r in rows if r["csat"] is not None]
        ns = [r["nps"] for r in rows if r["nps"] is not None]
        out = {"answers": len(rows), "csat_n": len(cs), "nps_n": len(ns), "csat": None, "nps": None}
        if cs:
            ok = sum(1 for c in cs if c >= 4)
            out["csat"] = tenth(((ok * 1000 + len(cs) // 2) // len(cs)) / 10)
        if ns:
            prom = sum(1 for n in ns if n >= 9)
            detr = sum(1 for n in ns if n <= NPS_DETRACTOR_MAX)
            out["nps"] = tenth((prom - detr) * 100.0 / len(ns))
        return out

    by_month = []
    for k in range(12):
        m = month_add(start, k)
        key = "%04d-%02d" % (m.year, m.month)
        row = figures([a for a in answers if local_date(a["received_at"]).strftime("%Y-%m") == key])
        row["key"] = key
        by_month.append(row)
    groups = sorted({a["grp"] for a in answers})
    by_group = {g: figures([a for a in answers if a["grp"] == g]) for g in groups}
    sat = figures(answers)
    sat.update({"from": start.isoformat(), "to": (end - datetime.timedelta(days=1)).isoformat(),
                "by_month": by_month, "by_group": by_group})
    return {"volume": vol, "total": sum(vol["by_channel"].values()), "compliance": comp,
            "satisfaction": sat, "hearings": hear, "due_soon_until": soon.isoformat()}


class LiveClient:
    """One /live connection whose messages are collected with their arrival time."""

    def __init__(self, port, cookie=None):
        self.url = "ws://127.0.0.1:%d/live" % port
        self.port = port
        self.cookie = cookie
        self.messages = []  # (monotonic time, doc)
        self.ws = None
        self.task = None

    async def open(self, topics):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        # A browser sends the page's Origin; the daemon uses the cookie only from its own.
        self.ws = await websockets.connect(self.url, subprotocols=[PROTO], extra_headers=headers,
                                           origin="http://127.0.0.1:%d" % self.port,
                                           open_timeout=H.WAIT, close_timeout=5, max_size=2 ** 24)
        self.task = asyncio.ensure_future(self._read())
        await self.ws.send(json.dumps({"subscribe": topics}))
        return self

    async def _read(self):
        try:
            async for raw in self.ws:
                self.messages.append((time.monotonic(), json.loads(raw)))
        except websockets.exceptions.ConnectionClosed:
            pass

    def of(self, topic, since=0.0):
        return [(t, m) for t, m in self.messages if m.get("topic") == topic and t >= since]

    async def wait(self, pred, timeout=H.WAIT, since=0.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, m in self.messages:
                if t >= since and pred(m):
                    return t, m
            await asyncio.sleep(0.01)
        return None

    async def close(self):
        if self.task:
            self.task.cancel()
        if self.ws:
            await self.ws.close()


def stamp(iso):
    """A snapshot's generated_at (the daemon's clock, whole seconds) as a Unix time."""
    return datetime.datetime.fromisoformat(iso).timestamp()


def is_dash(m):
    return m.get("topic") == "dashboard"


class Dashboard(H.DaemonCase):
    """One daemon; staff: ge (gerente), ag (agente), co (coordinador), ad (admin)."""

    @classmethod
    def setUpClass(cls):
        # No due refresh while the tests run (it would send figures of its
        # own): the snapshots counted below come from the tests' commits only.
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000, "due_refresh_seconds": 3600},
                          "live": {"due_soon_days": DUE_SOON_DAYS}}, name="dash")
        for name, role, dep in [("ge", "gerente", None), ("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE),
                                ("ad", "admin", None)]:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: S.Staff(cls.d, n) for n in ("ge", "ag", "co", "ad")}
        r = cls.s["ad"].post("/api/v1/dependencias", {"code": "obras", "name": "Obras públicas", "active": True})
        assert r.status == 200, r
        r = cls.s["ad"].post("/api/v1/surveys", {"code": "tablero_prueba", "purpose": "public", "definition": SURVEY})
        assert r.status in (200, 201), r
        cls.today = S.today()
        cls.seed()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    # ------------------------------------------------------------------ seeding
    @classmethod
    def file(cls, **over):
        over.setdefault("requester", S.web_requester())
        r = cls.d.post_json(H.item_payload(**over))
        assert r.status == 201, r
        return r.json()["radicado"]

    @classmethod
    def respond(cls, rad, answered_on=None, hour=10):
        r = cls.s["co"].act(rad, "respond", text="Respuesta de prueba para el tablero")
        assert r.status == 200, r
        if answered_on is not None:
            db_exec(cls.d, "UPDATE responses SET at = ? WHERE item_id = (SELECT id FROM items WHERE radicado = ?)",
                    (local_ms(answered_on, hour), rad))

    @classmethod
    def dates(cls, rad, filed=None, due=...):
        if filed is not None:
            set_col(cls.d, rad, "filed_date", filed.isoformat())
        if due is not ...:
            set_col(cls.d, rad, "due_date", due.isoformat() if due else None)

    @classmethod
    def seed(cls):
        t, bd = cls.today, S.add_bd
        cls.rad = {}
        # answered on time: 3 business days, its term 15
        f = bd(t, -10)
        cls.rad["on_time"] = r = cls.file(type="peticion", petition_class="general", declared_group="medios")
        cls.dates(r, f, bd(f, 15))
        cls.respond(r, bd(f, 3))
        set_col(cls.d, r, "dependencia", "obras")  # routed there (after the triage office answered)
        # answered late: 17 business days against 15
        f = bd(t, -20)
        cls.rad["late"] = r = cls.file(type="queja")
        cls.dates(r, f, bd(f, 15))
        cls.respond(r, bd(f, 17), hour=16)
        # answered on the filing day: 0 days; and its first answer counts, not a later one
        f = bd(t, -1)
        cls.rad["same_day"] = r = cls.file(type="reclamo", declared_group="organismos_control")
        cls.dates(r, f, bd(f, 15))
        cls.respond(r, f, hour=9)
        cls.respond(r)  # a second answer, today: ignored
        # no legal term (felicitación): answered, counts as on time
        f = bd(t, -5)
        cls.rad["no_term"] = r = cls.file(type="felicitacion")
        cls.dates(r, f)
        cls.respond(r, bd(f, 2))
        # answered late and reopened: late, and overdue now (the queue's rule)
        f = bd(t, -30)
        cls.rad["reopened"] = r = cls.file(type="peticion", petition_class="documentos")
        cls.dates(r, f, bd(f, 10))
        cls.respond(r, bd(f, 12))
        assert cls.s["co"].act(r, "reopen", reason="Falta un anexo").status == 200
        # open: overdue (due yesterday), due today, due at the window's last day, just after it
        cls.rad["overdue"] = r = cls.file(type="sugerencia")
        cls.dates(r, due=bd(t, -1))
        cls.rad["due_today"] = r = cls.file(type="denuncia", declared_group="servidores_publicos")
        cls.dates(r, due=t)
        cls.rad["due_edge"] = r = cls.file(type="queja")
        cls.dates(r, due=bd(t, DUE_SOON_DAYS))
        cls.rad["due_later"] = r = cls.file(type="queja")
        cls.dates(r, due=bd(t, DUE_SOON_DAYS + 1))
        # overdue but paused (pendiente_completar's term does not run): neither
        cls.rad["paused"] = r = cls.file(type="reclamo")
        cls.dates(r, due=bd(t, -2))
        set_col(cls.d, r, "status", "pendiente_completar")
        # other channels
        r = cls.file(type="peticion", petition_class="consulta")
        set_col(cls.d, r, "channel", "email")
        r = cls.file(type="queja")
        set_col(cls.d, r, "channel", "whatsapp")
        a = cls.s["co"].act(r, "assign", dependencia="obras")
        assert a.status == 200, a
        # two hearing questions (filed as PQRSD, then relabelled), one answered
        h1, h2 = cls.file(type="peticion"), cls.file(type="peticion")
        cls.respond(h1)
        for r in (h1, h2):
            set_col(cls.d, r, "kind", "hearing_question")
        # survey answers: this month, two months ago, and thirteen months ago (outside)
        cls.answers = 0
        for cal, rec, grp in [(5, 10, "medios"), (4, 9, "medios"), (2, 3, "ciudadania"), (5, 7, "")]:
            cls.answer(cal, rec, grp)
        two_ago, old = month_add(t, -2), month_add(t, -13)
        for cal, rec, grp, when in [(3, 6, "ciudadania", two_ago), (5, 9, "ciudadania", two_ago),
                                    (1, 0, "medios", old)]:
            cls.answer(cal, rec, grp)
            db_exec(cls.d, "UPDATE items SET received_at = ? WHERE id = (SELECT max(item_id) FROM survey_answers)",
                    (local_ms(when.replace(day=3), 11),))

    @classmethod
    def answer(cls, cal, rec, grp):
        fields = {"q_cal": str(cal), "q_rec": str(rec)}
        if grp:
            fields["grupo"] = grp
        body = urllib.parse.urlencode(fields)
        r = cls.d.request("POST", "/encuesta/p/tablero_prueba", body,
                          {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status in (200, 201), r
        cls.answers += 1

    # ------------------------------------------------------------------ helpers
    def snapshot(self, cookie):
        async def go():
            c = await LiveClient(self.d.port, cookie).open(["dashboard"])
            try:
                got = await c.wait(lambda m: m.get("topic") in ("dashboard", "error"))
                return got[1] if got else None
            finally:
                await c.close()
        return run(go())

    def check_figures(self, snap, exp):
        self.assertEqual(snap["topic"], "dashboard")
        self.assertEqual(snap["today"], self.today.isoformat())
        self.assertEqual(snap["due_soon_until"], exp["due_soon_until"])
        v = snap["volume"]
        self.assertEqual(v["total"], exp["total"])
        for k, counter in exp["volume"].items():
            got = {r["key"]: r["n"] for r in v[k]}
            self.assertEqual(got, dict(counter), k)
            ns = [r["n"] for r in v[k]]
            self.assertEqual(ns, sorted(ns, reverse=True), "%s is not most first" % k)
            self.assertEqual(sum(ns), v["total"], k)
            for r in v[k]:
                self.assertIsInstance(r["label"], str)
                self.assertTrue(r["label"])
        deps = {r["key"]: r["label"] for r in v["by_dependencia"]}
        self.assertEqual(deps["obras"], "Obras públicas")
        self.assertEqual({r["key"]: r["label"] for r in v["by_channel"]}.get("web"), "Página web")
        self.assertEqual({r["key"]: r["label"] for r in v["by_type"]}.get("queja"), "Queja")
        c = snap["compliance"]
        for k, want in exp["compliance"].items():
            if isinstance(want, float):
                self.assertAlmostEqual(c[k], want, places=6, msg=k)
            else:
                self.assertEqual(c[k], want, k)
        s, es = snap["satisfaction"], exp["satisfaction"]
        for k in ("from", "to", "answers", "csat", "csat_n", "nps", "nps_n"):
            self.assertEqual(s[k], es[k], k)
        self.assertEqual([m["key"] for m in s["by_month"]], [m["key"] for m in es["by_month"]])
        for got, want in zip(s["by_month"], es["by_month"]):
            for k in ("answers", "csat", "csat_n", "nps", "nps_n"):
                self.assertEqual(got[k], want[k], "%s %s" % (got["key"], k))
        self.assertEqual({g["key"] for g in s["by_group"]}, set(es["by_group"]))
        for g in s["by_group"]:
            for k in ("answers", "csat", "csat_n", "nps", "nps_n"):
                self.assertEqual(g[k], es["by_group"][g["key"]][k], "%s %s" % (g["key"], k))
            self.assertTrue(g["label"])
        self.assertEqual(snap["hearings"], exp["hearings"])

    # -------------------------------------------------------------------- tests
    def test_01_refused_without_a_gerente_session(self):
        for who, cookie, code in [("no cookie", None, "unauthenticated"),
                                  ("a made-up cookie", "vt_session=" + "ab" * 32, "unauthenticated"),
                                  ("an agente", self.s["ag"].cookie, "forbidden"),
                                  ("a coordinador", self.s["co"].cookie, "forbidden"),
                                  ("an admin", self.s["ad"].cookie, "forbidden")]:
            m = self.snapshot(cookie)
            self.assertIsNotNone(m, who)
            self.assertEqual((m["topic"], m.get("code")), ("error", code), "%s: %r" % (who, m))
            self.assertTrue(m.get("message"), m)
            self.assertNotIn("volume", m)

        # nor does a refused subscriber get the figures later, after an intake:
        # a gerente's connection gets that intake's figures, and a second
        # intake's metrics reach the refused one after anything sent to it
        # before (a positive barrier instead of a pause).
        async def later():
            c = await LiveClient(self.d.port, self.s["ag"].cookie).open(["dashboard", "metrics"])
            keep = await LiveClient(self.d.port, self.s["ge"].cookie).open(["dashboard"])
            try:
                metrics0 = (await c.wait(lambda m: m.get("topic") == "metrics"))[1]["total"]
                dash0 = (await keep.wait(is_dash))[1]["volume"]["total"]
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, self.file)
                self.assertIsNotNone(await keep.wait(lambda m: is_dash(m) and m["volume"]["total"] == dash0 + 1),
                                     "the gerente did not get the intake's figures")
                await loop.run_in_executor(None, self.file)
                barrier = await c.wait(lambda m: m.get("topic") == "metrics" and m["total"] >= metrics0 + 2)
                return c.of("dashboard"), barrier
            finally:
                await c.close()
                await keep.close()
        dash, barrier = run(later())
        self.assertIsNotNone(barrier, "the public topics still flow for that connection")
        self.assertEqual(dash, [])

    def test_02_figures_match_the_dataset(self):
        snap = self.snapshot(self.s["ge"].cookie)
        self.assertIsNotNone(snap)
        exp = expected_figures(self.d, self.today)
        # the seed makes every category occur
        c = exp["compliance"]
        self.assertGreaterEqual(c["on_time"], 3)
        self.assertGreaterEqual(c["late"], 2)
        self.assertEqual(c["overdue"], 2)   # "overdue" and the reopened one; not the paused one
        self.assertEqual(c["due_soon"], 2)  # due today and at the window's last day
        self.assertEqual(exp["hearings"], {"received": 2, "answered": 1})
        self.assertEqual(exp["satisfaction"]["answers"], 6)
        self.check_figures(snap, exp)
        # the figures of the seeded answers, by hand
        sat = snap["satisfaction"]
        this = sat["by_month"][-1]
        self.assertEqual((this["answers"], this["csat"], this["nps"]), (4, 75.0, 25.0))
        self.assertEqual(sat["by_month"][-3]["answers"], 2)
        self.assertEqual(sum(m["answers"] for m in sat["by_month"]), 6)
        # no personal data in the figures
        raw = json.dumps(snap, ensure_ascii=False)
        for row in self.d.query("SELECT name, email, id_number FROM requesters WHERE name IS NOT NULL LIMIT 5"):
            for v in row.values():
                if v:
                    self.assertNotIn(v, raw)
        self.assertNotIn("Respuesta de prueba", raw)

    def test_03_snapshot_after_an_intake(self):
        async def go():
            c = await LiveClient(self.d.port, self.s["ge"].cookie).open(["dashboard"])
            try:
                first = await c.wait(is_dash)
                self.assertIsNotNone(first)
                total0 = first[1]["volume"]["total"]
                await asyncio.sleep(1.2)  # the throttle is idle
                loop = asyncio.get_running_loop()
                r = await loop.run_in_executor(None, self.d.post_json, H.item_payload(type="reclamo"))
                t201 = time.monotonic()
                self.assertEqual(r.status, 201, r)
                got = await c.wait(lambda m: is_dash(m) and m["volume"]["total"] == total0 + 1)
                return got, t201, total0, r.json()
            finally:
                await c.close()
        got, t201, total0, doc = run(go())
        self.assertIsNotNone(got, "no dashboard message with the new item")
        # Reported, not asserted: a latency bound would measure the machine.
        print("\n  dashboard snapshot %.1f ms after the 201" % ((got[0] - t201) * 1000))
        received = self.d.scalar("SELECT received_at FROM items WHERE radicado = ?", (doc["radicado"],))
        self.assertGreaterEqual(stamp(got[1]["generated_at"]) + 1.0, received / 1000.0,
                                "figures computed before the item they count was received")
        self.check_figures(got[1], expected_figures(self.d, self.today))

    def test_04_a_burst_is_coalesced_to_one_snapshot_a_second(self):
        n, threads = 120, 6

        async def go():
            c = await LiveClient(self.d.port, self.s["ge"].cookie).open(["dashboard"])
            try:
                first = await c.wait(is_dash)
                total0 = first[1]["volume"]["total"]
                last_id = self.d.scalar("SELECT max(id) FROM items")
                t0 = time.monotonic()
                loop = asyncio.get_running_loop()

                def burst(k):
                    # about 2.5 s of steady intakes, from several clients at once
                    for _ in range(k):
                        assert self.d.post_json(H.item_payload(type="sugerencia")).status == 201
                        time.sleep(0.12)

                await asyncio.gather(*[loop.run_in_executor(None, burst, n // threads) for _ in range(threads)])
                t_end = time.monotonic()
                done = await c.wait(lambda m: is_dash(m) and m["volume"]["total"] == total0 + n)
                burst_msgs = c.of("dashboard", t0)
                # Nothing more comes once the figures are up to date: the next
                # snapshot is the one for a later marker intake.
                await loop.run_in_executor(None, self.file)
                marker = await c.wait(lambda m: is_dash(m) and m["volume"]["total"] == total0 + n + 1)
                between = [m for t, m in c.of("dashboard", done[0]) if t > done[0] and t < marker[0]]
                return burst_msgs, t0, t_end, done, marker, between, last_id
            finally:
                await c.close()
        msgs, t0, t_end, done, marker, between, last_id = run(go())
        total_n = done[1]["volume"]["total"] if done else None
        self.assertIsNotNone(done, "the last snapshot does not hold every intake")
        self.assertIsNotNone(marker, "no snapshot for the marker intake")
        # The daemon's own stamps: when the burst's first item was received,
        # and when the last snapshot's figures were computed. At most one
        # snapshot a second means no more than one per whole second between
        # them, plus the first (and one for a rounding of the second-precision stamp).
        first_ms = self.d.scalar("SELECT min(received_at) FROM items WHERE id > ?", (last_id,))
        span = stamp(msgs[-1][1]["generated_at"]) + 1.0 - first_ms / 1000.0
        print("\n  %d intakes in %.2f s gave %d snapshots over %.1f s of daemon time (%s)" % (
            n, t_end - t0, len(msgs), span, ", ".join(m["generated_at"][11:19] for _, m in msgs)))
        self.assertGreaterEqual(len(msgs), 2, "the figures did not move during the burst")
        self.assertLess(len(msgs), n / 2, "not coalesced: about one snapshot per intake")
        self.assertLessEqual(len(msgs), int(span) + 2, "more than one snapshot a second")
        self.assertEqual(msgs[-1][1]["volume"]["total"], done[1]["volume"]["total"])
        # One more snapshot may follow the complete one (a commit made while
        # its figures were being computed asks again), with nothing new in it;
        # never a stream of them.
        self.assertLessEqual(len(between), 1, "snapshots sent with nothing new: %r" % between)
        for m in between:
            self.assertEqual(m["volume"]["total"], total_n, "a snapshot between the last and the marker")

    def test_05_session_ended_stops_the_figures(self):
        ge2 = S.Staff(self.d, "ge")

        async def go():
            c = await LiveClient(self.d.port, ge2.cookie).open(["dashboard", "metrics"])
            keep = await LiveClient(self.d.port, self.s["ge"].cookie).open(["dashboard"])
            try:
                self.assertIsNotNone(await c.wait(is_dash))
                metrics0 = (await c.wait(lambda m: m.get("topic") == "metrics"))[1]["total"]
                dash0 = (await keep.wait(is_dash))[1]["volume"]["total"]
                loop = asyncio.get_running_loop()
                lo = await loop.run_in_executor(None, ge2.logout)
                self.assertEqual(lo.status, 204, lo)
                await asyncio.sleep(1.1)  # the throttle is idle: the next commit asks at once
                t0 = time.monotonic()
                await loop.run_in_executor(None, self.file)
                err = await c.wait(lambda m: m.get("topic") == "error", since=t0)
                fresh = await keep.wait(is_dash, since=t0)
                # A positive barrier: another intake's figures reach the other
                # session, and its public metrics reach this connection after
                # anything sent to it before.
                await loop.run_in_executor(None, self.file)
                self.assertIsNotNone(await keep.wait(lambda m: is_dash(m) and m["volume"]["total"] == dash0 + 2,
                                                     since=t0), "the other session's figures stopped")
                self.assertIsNotNone(await c.wait(lambda m: m.get("topic") == "metrics" and m["total"] >= metrics0 + 2,
                                                  since=t0), "the public metrics stopped")
                return err, fresh, c.of("dashboard", t0)
            finally:
                await c.close()
                await keep.close()
        err, fresh, after = run(go())
        self.assertIsNotNone(err, "no error for the ended session")
        self.assertEqual(err[1].get("code"), "unauthenticated")
        self.assertEqual(after, [], "figures sent after the logout")
        self.assertIsNotNone(fresh, "the other gerente session stopped getting figures")

    def test_06_tablero_page_by_session(self):
        public = self.d.get("/tablero")
        self.assertEqual(public.status, 200)
        self.assertIn('href="/staff"', public.text)
        self.assertIn('id="by_channel"', public.text)
        self.assertNotIn("data-view=\"gerencia\"", public.text)
        self.assertNotIn("<canvas", public.text)
        for who in ("ag", "co"):
            p = self.s[who].get("/tablero")
            self.assertEqual(p.status, 200)
            self.assertNotIn("<canvas", p.text, who)
            self.assertIn('href="/staff"', p.text, who)
        g = self.s["ge"].get("/tablero")
        self.assertEqual(g.status, 200)
        t = g.text
        self.assertIn('data-view="gerencia"', t)
        for chart in ("vol-canal", "vol-tipo", "vol-grupo", "vol-dependencia", "terminos", "sat-mes", "sat-grupo",
                      "audiencias"):
            self.assertIn('id="c-%s"' % chart, t)
            self.assertRegex(t, r'<div class="data-table"><table id="t-%s"><caption>' % chart)
        self.assertNotRegex(t, r"<script>|style=")
        have = os.path.isfile(CHARTJS)
        self.assertEqual('<script src="/static/vendor/chart.js"></script>' in t, have)
        js = self.d.get("/static/vendor/chart.js")
        if have:
            self.assertEqual(js.status, 200)
            self.assertIn("javascript", js.header("content-type", ""))
            with open(CHARTJS, "rb") as f:
                self.assertEqual(js.body, f.read())
        else:
            self.assertEqual(js.status, 404)
            self.assertIn("no-charts", t)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class WithoutChartLibrary(H.DaemonCase):
    """The chart library missing: the daemon starts, says so once, and the
    managers' page is tables only."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="dash-nochart", env={"VT_CHARTJS": "/nonexistent/chart.min.js"})
        S.add_user(cls.d, "ge", "gerente")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_starts_and_serves_tables(self):
        self.assertEqual(self.d.get("/healthz").status, 200)
        self.assertEqual(self.d.get("/static/vendor/chart.js").status, 404)
        ge = S.Staff(self.d, "ge")
        t = ge.get("/tablero").text
        self.assertIn("no-charts", t)
        self.assertNotIn("/static/vendor/chart.js", t)
        self.assertIn('id="t-vol-canal"', t)
        self.d.get("/tablero")
        warnings = [ln for ln in self.d.lines if "event=chartjs_missing" in ln]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("level=warn", warnings[0].lower())
        self.assertIn("/nonexistent/chart.min.js", warnings[0])
        self.assertEqual(self.d.post_json(H.item_payload()).status, 201)
        self.assert_no_crash()


def shot_on_failure(fn):
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except BaseException:
            try:
                p = self.shot("fail-%s" % fn.__name__)
                print("\n  failure screenshot: %s\n  browser: %s" % (p, self.b.report()))
            except Exception:  # noqa: BLE001
                pass
            raise
    return wrapper


@unittest.skipIf(not HAVE_BROWSER and not REQUIRE_BROWSER,
                 "no browser at %s (apt-get install chromium); set VT_REQUIRE_BROWSER=1 to fail instead"
                 % cdp.CHROMIUM)
class DashboardBrowser(H.DaemonCase):
    b = None
    done = set()
    PASSWORD = "la clave de la gerente, bastante larga"

    @classmethod
    def setUpClass(cls):
        if not HAVE_BROWSER:
            raise AssertionError("VT_REQUIRE_BROWSER is set but there is no browser at %s" % cdp.CHROMIUM)
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000}}, name="dash-ui")
        S.add_user(cls.d, "gerente.ui", "gerente", password=cls.PASSWORD)
        S.add_user(cls.d, "co", "coordinador", TRIAGE)
        S.add_user(cls.d, "ad", "admin")
        cls.d.start()
        cls.base = "http://127.0.0.1:%d" % cls.d.port
        # something in every section, for the screenshot
        co, ad = S.Staff(cls.d, "co"), S.Staff(cls.d, "ad")
        rads = []
        for ty, grp in (("peticion", "medios"), ("queja", None), ("reclamo", "organismos_control"), ("queja", None)):
            r = cls.d.post_json(H.item_payload(type=ty, declared_group=grp, requester=S.web_requester()))
            assert r.status == 201, r
            rads.append(r.json()["radicado"])
        assert co.act(rads[0], "respond", text="Respuesta de prueba").status == 200
        set_col(cls.d, rads[1], "due_date", S.add_bd(S.today(), -1).isoformat())
        assert ad.post("/api/v1/surveys", {"code": "tablero_ui", "purpose": "public",
                                           "definition": SURVEY}).status in (200, 201)
        for cal, rec, grp in ((5, 10, "medios"), (4, 8, "ciudadania"), (2, 5, "ciudadania")):
            body = urllib.parse.urlencode({"q_cal": cal, "q_rec": rec, "grupo": grp})
            r = cls.d.request("POST", "/encuesta/p/tablero_ui", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 200, r
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.b = cdp.Chrome(width=1280, height=900)

    @classmethod
    def tearDownClass(cls):
        if cls.b is not None:
            cls.b.close()
        if cls.d is not None:
            S.stop_and_cleanup(cls.d)

    def shot(self, name, full_page=True):
        return self.b.screenshot(os.path.join(ARTIFACTS, "dashboard-%s.png" % name), full_page=full_page)

    def full_shot(self, name):
        """The whole page, in a viewport as tall as the page so that the capture
        does not resize the charts halfway through drawing them."""
        height = self.b.evaluate("document.documentElement.scrollHeight")
        self.b.set_viewport(1280, height)
        try:
            time.sleep(0.5)
            return self.shot(name, full_page=False)
        finally:
            self.b.set_viewport(1280, 900)

    def need(self, *steps):
        missing = [s for s in steps if s not in self.done]
        if missing:
            self.fail("an earlier step failed: %s" % ", ".join(missing))

    def table(self, chart):
        return self.b.evaluate("[...document.querySelectorAll('#t-%s tbody tr')].map(function(r){"
                               "return [...r.children].map(function(c){return c.textContent;});})" % chart)

    def web_count(self):
        for row in self.table("vol-canal"):
            if row[0] == "Página web":
                return int(row[1].replace(".", ""))
        return None

    def assert_clean(self):
        b = self.b
        self.assertEqual(b.exceptions, [], "JavaScript exceptions:\n%s" % b.report())
        self.assertEqual(b.csp_violations, [], "CSP violations:\n%s" % b.report())
        self.assertEqual(b.console_errors(), [], "console errors:\n%s" % b.report())
        # (the public pages name no icon, so the browser asks for /favicon.ico)
        failed = [e for e in b.http_errors if not e["url"].endswith("/favicon.ico")]
        self.assertEqual(failed, [], "failed requests:\n%s" % b.report())
        bad = [e for e in b.log_entries if e["level"] == "error" and not (e.get("url") or "").endswith("/favicon.ico")]
        self.assertEqual(bad, [], "browser errors:\n%s" % b.report())

    @shot_on_failure
    def test_01_public_page_without_session(self):
        self.b.navigate(self.base + "/tablero")
        self.b.wait_for("document.getElementById('total').textContent !== '–'", H.WAIT, message="public counts")
        self.assertEqual(self.b.text("#total"), str(self.d.scalar("SELECT count(*) FROM items")))
        self.assertTrue(self.b.exists("a[href='/staff']"))
        self.assertFalse(self.b.exists("canvas"))
        self.assert_clean()
        self.done.add("public")

    @shot_on_failure
    def test_02_gerente_sees_charts_update_live(self):
        self.b.navigate(self.base + "/staff")
        self.b.wait_visible("#login-form")
        self.b.type("#login-user", "gerente.ui")
        self.b.type("#login-pass", self.PASSWORD)
        self.b.click("#login-submit")
        self.b.wait_for("!document.getElementById('whoami').hidden", H.WAIT, message="login")
        self.b.clear_collected()
        self.b.navigate(self.base + "/tablero")
        self.assertEqual(self.b.evaluate("document.documentElement.lang"), "es-CO")
        self.b.wait_for("document.getElementById('tablero').dataset.updates >= '1'", H.WAIT, message="first figures")
        self.assertTrue(self.b.evaluate("typeof Chart === 'function'"), "Chart.js did not load")
        n0 = self.web_count()
        self.assertEqual(n0, self.d.scalar("SELECT count(*) FROM items WHERE channel = 'web' AND kind = 'pqrsd'"))
        self.assertEqual(self.b.text("#vol-total"), str(n0))
        # each chart has its canvas drawn by Chart.js and its table
        for chart in ("vol-canal", "vol-tipo", "vol-grupo", "vol-dependencia", "terminos", "sat-mes", "sat-grupo",
                      "audiencias"):
            self.assertTrue(self.b.evaluate("!!Chart.getChart(document.getElementById('c-%s'))" % chart), chart)
            self.assertTrue(self.table(chart), chart)
        self.assertEqual(len(self.table("sat-mes")), 12)
        # the tables are there for screen readers, out of sight until asked for
        self.assertLessEqual(self.b.evaluate("document.getElementById('t-vol-canal').parentNode.getBoundingClientRect().height"),
                             1)
        before = self.b.evaluate("document.getElementById('c-vol-canal').toDataURL()")
        self.b.evaluate("window.vtSamePage = 1")

        r = self.d.post_json(H.item_payload(type="denuncia", subject="Denuncia para el tablero en vivo"))
        self.assertEqual(r.status, 201, r)
        t0 = time.monotonic()
        self.b.wait_for("[...document.querySelectorAll('#t-vol-canal tbody tr')].some(function(r){"
                        "return r.children[0].textContent==='Página web'&&r.children[1].textContent===%s;})"
                        % cdp.js_str(str(n0 + 1)), H.WAIT, message="the table shows the new item")
        print("\n  table updated %.0f ms after the 201" % ((time.monotonic() - t0) * 1000))
        self.assertEqual(self.b.evaluate("window.vtSamePage"), 1, "the page was reloaded")
        data = self.b.evaluate("Chart.getChart(document.getElementById('c-vol-canal')).data.datasets[0].data")
        self.assertIn(n0 + 1, data)
        self.b.wait_for("document.getElementById('c-vol-canal').toDataURL() !== %s" % cdp.js_str(before), 5,
                        message="the canvas redrawn")
        self.assertEqual(self.b.text("#vol-total"), str(n0 + 1))
        self.assertIn("Denuncia", [row[0] for row in self.table("vol-tipo")])

        # the tables on demand
        self.b.click("#toggle-tables")
        self.assertEqual(self.b.evaluate("document.getElementById('toggle-tables').getAttribute('aria-pressed')"),
                         "true")
        self.assertGreater(self.b.evaluate("document.getElementById('t-vol-canal').parentNode.getBoundingClientRect()"
                                           ".height"), 20)
        self.assertEqual(self.b.text("#toggle-tables"), "Ocultar las tablas de datos")
        print("\n  dashboard screenshot (tables shown): %s" % self.full_shot("tablero-tablas"))
        self.b.click("#toggle-tables")
        self.assertEqual(self.b.evaluate("document.getElementById('toggle-tables').getAttribute('aria-pressed')"),
                         "false")
        print("\n  dashboard screenshot: %s" % self.full_shot("tablero"))
        self.assert_clean()
        self.done.add("live")

    def test_99_clean_stop(self):
        self.assert_no_crash()
        self.d.stop()


if __name__ == "__main__":
    H.main()
