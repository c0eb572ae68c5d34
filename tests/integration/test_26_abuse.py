"""Availability and trust under abuse (issue 12, points 5, 6, 8, 14 and 16),
against the real daemon:

- Methods405: every 405 is valid JSON with the Spanish message and an Allow
  header, and a wrong method on a known path is 405, never 404.
- BodyGate: a staff POST without a session is answered 401 (403 without its
  CSRF token) from its headers, before its body is read; 30 connections each
  sending 25 MiB that way leave the daemon's memory where it was; a declared
  length over the route's limit is 413 at once.
- BodyBudget: bodies in flight are capped by server.body_budget_bytes; the
  request that would pass it gets 503 with Retry-After (JSON under /api, a
  page elsewhere), whether its declared length or its bytes pass it, and
  the others still work.
- Slowloris: 1,100 connections from one address holding half a request line
  leave /healthz and the intake answering another address; the connections
  over server.max_connections_per_ip are closed at once; a client that sends
  its headers a byte at a time is cut off after server.header_timeout_seconds.
- LiveOrigin: a staff or gerente cookie on a /live handshake from another
  site's page (or without Origin) gets what a visitor without a session gets;
  from our own origins (entity.public_url, live.allowed_origins, the Host the
  browser addressed) it works.
- LongCookies: a Cookie header of about 7.5 KB (other applications' cookies
  on the same domain) carries the session on HTTP and on the WebSocket
  handshake.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_26_abuse.py
"""
import asyncio
import json
import os
import re
import resource
import select
import socket
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

import websockets  # noqa: E402  (python3-websockets 10.4)

TRIAGE = "atencion_ciudadano"
FAST_LOGINS = {"login_per_minute": 10000}
PROTO = "ventanilla-live"
MIB = 1024 * 1024
OTHER = "127.0.0.2"  # another client: Linux routes all of 127.0.0.0/8 to lo


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect(port, source="127.0.0.1", timeout=H.HTTP_TIMEOUT):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
    except Exception:
        s.close()
        raise
    return s


def head(port, method, path, headers):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port, "Connection: close"]
    lines += ["%s: %s" % (k, v) for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_response(raw):
    """A complete response in raw bytes -> harness Response, else None."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = raw[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = raw[end + 4:]
    n = int(headers.get("content-length", "0"))
    if len(body) < n:
        return None
    return H.Response(status, headers, body[:n])


def read_response(s, timeout=H.HTTP_TIMEOUT):
    """Reads one response from s (until complete, EOF or reset)."""
    s.settimeout(timeout)
    raw = b""
    while True:
        r = parse_response(raw)
        if r is not None:
            return r
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            r = parse_response(raw)
            if r is None:
                raise AssertionError("the connection ended without a whole answer: %r" % raw[:300])
            return r
        raw += data


def request_from(source, port, method, path, body=None, headers=None, timeout=H.HTTP_TIMEOUT):
    """One request on its own connection from the source address."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    h = dict(headers or {})
    if body is not None:
        h["Content-Length"] = str(len(body))
    s = connect(port, source, timeout)
    try:
        s.sendall(head(port, method, path, h) + (body or b""))
        return read_response(s, timeout)
    finally:
        s.close()


def send_streaming(port, method, path, headers, length, timeout=120):
    """Declares length bytes and sends them while watching for an early
    answer; returns (response, bytes sent). The body is JSON-looking bytes."""
    h = dict(headers)
    h["Content-Length"] = str(length)
    s = connect(port, timeout=timeout)
    try:
        s.sendall(head(port, method, path, h))
        s.setblocking(False)
        chunk = b"a" * (256 * 1024)
        sent, raw, writing = 0, b"", True
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no answer within %ss (sent %d of %d bytes)" % (timeout, sent, length))
            r, w, _ = select.select([s], [s] if writing and sent < length else [], [], left)
            if r:
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if data:
                    raw += data
                    resp = parse_response(raw)
                    if resp is not None:
                        return resp, sent
                    continue
                resp = parse_response(raw)
                if resp is None:
                    raise AssertionError("connection ended without a whole answer after %d bytes: %r"
                                         % (sent, raw[:300]))
                return resp, sent
            if w:
                try:
                    sent += s.send(chunk[:min(len(chunk), length - sent)])
                except (BrokenPipeError, ConnectionResetError):
                    writing = False  # the server stopped reading: its answer is on the way
                except BlockingIOError:
                    pass
    finally:
        s.close()


def metric(d, name, source="127.0.0.1"):
    r = request_from(source, d.port, "GET", "/metrics")
    m = re.search(r"^%s(?:\{[^}]*\})?\s+([0-9.eE+]+)$" % re.escape(name), r.text, re.M)
    if not m:
        raise AssertionError("no %s in /metrics" % name)
    return float(m.group(1))


def wait_metric(d, name, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        v = metric(d, name)
        if pred(v):
            return v
        if time.monotonic() > deadline:
            raise AssertionError("%s stayed at %s for %ss" % (name, v, timeout))
        time.sleep(0.05)


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (key, pid))


def long_cookie(session):
    """About 7.5 KB of other applications' cookies with the session in the middle."""
    parts = ["_ga=GA1.3.%d.%d" % (1234567890, 987654321), "pref_tema=oscuro", session]
    i = 0
    while len("; ".join(parts)) < 7500:
        parts.insert(i % len(parts), "otra_app_%02d=%s" % (i, ("v%02d" % i) * 30))
        i += 1
    c = "; ".join(parts)
    assert 7500 <= len(c) <= 7700 and session in c, len(c)
    return c


# ---------------------------------------------------------------------------
# 405


class Methods405(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="m405")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def check_405(self, method, path, allow, body=None):
        r = self.d.request(method, path, body)
        self.assertEqual(r.status, 405, "%s %s: %r" % (method, path, r))
        self.assertEqual(r.header("content-type"), "application/json", r)
        self.assertEqual(int(r.header("content-length")), len(r.body), r)
        doc = json.loads(r.body.decode("utf-8"))  # the whole body parses
        self.assertEqual(doc, {"error": {"code": "method_not_allowed", "field": None,
                                         "message": "Método no permitido."}})
        self.assertEqual(r.header("allow"), allow, r)

    def test_01_put_and_delete_on_items(self):
        self.check_405("PUT", "/api/v1/items", "GET, POST", b"{}")
        self.check_405("DELETE", "/api/v1/items", "GET, POST")
        self.check_405("PATCH", "/api/v1/items/2026-000001", "GET, POST", b"{}")

    def test_02_wrong_method_on_a_known_route_is_405_not_404(self):
        self.check_405("POST", "/healthz", "GET", b"")
        self.check_405("POST", "/metrics", "GET", b"{}")
        self.check_405("GET", "/api/v1/session/password", "POST")
        self.check_405("GET", "/api/v1/session/logout", "POST")
        # and an unknown path stays 404
        err(self, self.d.request("PUT", "/api/v1/nada", b"{}"), 404, "not_found")
        err(self, self.d.request("POST", "/api/v1/nada", b"{}"), 404, "not_found")

    def test_03_still_serves(self):
        self.assertEqual(self.d.get("/healthz").status, 200)
        H.assert_created(self, self.d.post_json(H.item_payload()))
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# Staff POSTs are checked before their bodies are read


class BodyGate(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="gate")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()
        cls.rad = S.file_item(unittest.TestCase(), cls.d)["radicado"]

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_unauthenticated_flood_answered_from_the_headers(self):
        """30 connections each declaring and sending 25 MiB to the actions
        route without a session: each is answered 401, and the daemon's peak
        memory stays far below the 750 MiB it would take to hold them."""
        pid = self.d.proc.pid
        try:
            with open("/proc/%d/clear_refs" % pid, "w") as f:
                f.write("5")  # resets VmHWM, the peak resident size
        except OSError:
            pass
        base = proc_status_kib(pid, "VmRSS")
        length = 25 * MIB  # server.max_body_bytes: not refused for its size
        path = "/api/v1/items/%s/actions" % self.rad
        results = [None] * 30

        def worker(i):
            try:
                results[i] = send_streaming(self.d.port, "POST", path,
                                            {"Content-Type": "application/json"}, length)
            except Exception as e:  # noqa: BLE001
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for res in results:
            self.assertIsInstance(res, tuple, res)
            err(self, res[0], 401, "unauthenticated")
        peak = proc_status_kib(pid, "VmHWM")
        grew = (peak - base) / 1024.0
        print("\n  30 x 25 MiB unauthenticated: RSS %.0f MiB before, peak %.0f MiB (+%.0f MiB); "
              "sent %.1f MiB per connection on average"
              % (base / 1024.0, peak / 1024.0, grew, sum(r[1] for r in results) / 30.0 / MIB))
        self.assertLess(grew, 200, "the daemon held the bodies: +%.0f MiB" % grew)
        self.assertEqual(metric(self.d, "ventanilla_http_body_bytes"), 0)

    def test_02_answered_without_waiting_for_the_body(self):
        """Headers only, no body byte: the answer comes anyway (the old code
        waited for the body it would then refuse)."""
        ana = Staff(self.d, "ana")
        path = "/api/v1/items/%s/actions" % self.rad
        cases = [
            ({}, 401, "unauthenticated"),
            ({"Cookie": ana.cookie}, 403, "csrf"),
            ({"Cookie": ana.cookie, "X-CSRF-Token": "0" * 64}, 403, "csrf"),
        ]
        for extra, status, code in cases:
            s = connect(self.d.port)
            try:
                h = {"Content-Type": "application/json", "Content-Length": str(20 * MIB)}
                h.update(extra)
                s.sendall(head(self.d.port, "POST", path, h))
                r = read_response(s, timeout=30)
            finally:
                s.close()
            err(self, r, status, code)
        # other staff routes too
        for route in ("/api/v1/items/search", "/api/v1/dependencias", "/api/v1/surveys",
                      "/api/v1/hearings", "/api/v1/followups/1/close", "/api/v1/commitments/1/progress"):
            s = connect(self.d.port)
            try:
                s.sendall(head(self.d.port, "POST", route,
                               {"Content-Type": "application/json", "Content-Length": "4000"}))
                err(self, read_response(s, timeout=30), 401, "unauthenticated")
            finally:
                s.close()

    def test_03_declared_length_over_the_route_limit_is_413_at_once(self):
        ana = Staff(self.d, "ana")
        s = connect(self.d.port)
        try:
            s.sendall(head(self.d.port, "POST", "/api/v1/items/search",
                           ana.headers({"Content-Type": "application/json", "X-CSRF-Token": ana.csrf,
                                        "Content-Length": str(MIB)})))
            err(self, read_response(s, timeout=30), 413, "too_large")
        finally:
            s.close()

    def test_04_a_signed_in_request_still_works(self):
        ana = Staff(self.d, "ana")
        r = ana.act(self.rad, "note", text="Nota después de la avalancha")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.d.get("/healthz").status, 200)
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# The budget for bodies in flight


class BodyBudget(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS,
                          "server": {"max_body_bytes": 4 * MIB, "body_budget_bytes": 6 * MIB}},
                         name="budget")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()
        cls.rad = S.file_item(unittest.TestCase(), cls.d)["radicado"]

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def held(self):
        return metric(self.d, "ventanilla_http_body_bytes")

    def open_action(self, ana, length):
        """A signed-in action whose body is declared as length bytes; returns the socket."""
        s = connect(self.d.port, timeout=120)
        s.sendall(head(self.d.port, "POST", "/api/v1/items/%s/actions" % self.rad,
                       ana.headers({"Content-Type": "application/json", "X-CSRF-Token": ana.csrf,
                                    "Content-Length": str(length)})))
        return s

    def assert_busy_json(self, r):
        err(self, r, 503, "busy")
        self.assertRegex(r.header("retry-after") or "", r"^[1-9][0-9]*$", r)
        self.assertIn("Intente de nuevo", r.json()["error"]["message"])

    def test_01_over_the_budget_is_503_with_retry_after(self):
        ana = Staff(self.d, "ana")
        items_before = self.d.scalar("SELECT count(*) FROM items")
        timeline_before = len(ana.item(self.rad)["timeline"])
        prefix = b'{"action":"note","text":"'
        a_len = 4 * MIB
        a = self.open_action(ana, a_len)
        e = None
        try:
            # A holds 2 MiB of its 4.
            a.sendall(prefix + b"x" * (2 * MIB - len(prefix)))
            wait_metric(self.d, "ventanilla_http_body_bytes", lambda v: v >= 2 * MIB)

            # E declares 4 MiB (2 + 4 fits) and sends 1.
            e = self.open_action(ana, 4 * MIB)
            e.sendall(prefix + b"y" * (MIB - len(prefix)))
            wait_metric(self.d, "ventanilla_http_body_bytes", lambda v: v >= 3 * MIB)
            # A sends 1.5 more: 4.5 MiB held.
            a.sendall(b"x" * (3 * MIB // 2))
            wait_metric(self.d, "ventanilla_http_body_bytes", lambda v: v >= 4.5 * MIB)

            # Now a declared 4 MiB cannot fit (JSON under /api, a page elsewhere).
            r, _ = send_streaming(self.d.port, "POST", "/api/v1/items/%s/actions" % self.rad,
                                  ana.headers({"Content-Type": "application/json", "X-CSRF-Token": ana.csrf}),
                                  4 * MIB)
            self.assert_busy_json(r)
            r, _ = send_streaming(self.d.port, "POST", "/",
                                  {"Content-Type": "application/x-www-form-urlencoded"}, 3 * MIB)
            self.assertEqual(r.status, 503, r)
            self.assertTrue(r.header("content-type", "").startswith("text/html"), r)
            self.assertRegex(r.header("retry-after") or "", r"^[1-9][0-9]*$", r)
            self.assertIn("Servicio ocupado", r.text)

            # E's bytes pass the budget on the way: dropped, and 503 at its end.
            e.sendall(b"y" * (3 * MIB - 2) + b'"}')
            self.assert_busy_json(read_response(e, timeout=120))
            e.close()
            e = None
            self.assertGreaterEqual(metric(self.d, "ventanilla_http_busy_total"), 3)

            # A, within the budget all along, gets its own answer (text too long: 422).
            a.sendall(b"x" * (a_len - 2 * MIB - 3 * MIB // 2 - 2) + b'"}')
            r = read_response(a, timeout=120)
            err(self, r, 422, "invalid", "text")
        finally:
            a.close()
            if e is not None:
                e.close()
        wait_metric(self.d, "ventanilla_http_body_bytes", lambda v: v == 0)
        # Nothing was stored by the refused ones; a normal action works again.
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), items_before)
        self.assertEqual(len(ana.item(self.rad)["timeline"]), timeline_before)
        r = ana.act(self.rad, "note", text="Cabe de nuevo")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(ana.item(self.rad)["timeline"]), timeline_before + 1)

    def test_02_bounds_in_config(self):
        p = self.d.cli("check-config", "--config", self.write_config(
            {"server": {"max_body_bytes": 8 * MIB, "body_budget_bytes": 4 * MIB}}))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("server.body_budget_bytes", p.stdout + p.stderr)

    def write_config(self, cfg):
        path = os.path.join(self.d.dir, "bad.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def test_03_clean(self):
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# Slowloris


class Slowloris(H.DaemonCase):
    N = 1100

    @classmethod
    def setUpClass(cls):
        # The held connections keep their header slot until the timeout:
        # long here, so that only the per-IP cap can free them.
        cls.d = H.Daemon({"server": {"header_timeout_seconds": 300}}, name="slow")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_one_address_cannot_starve_the_others(self):
        limit = raise_fd_limit(self.N + 512)
        if limit < self.N + 128:
            self.skipTest("needs %d open files, the hard limit allows %d" % (self.N + 128, limit))
        cap = 256  # server.max_connections_per_ip's default
        socks, failed = [], 0
        try:
            for _ in range(self.N):
                try:
                    s = connect(self.d.port, timeout=30)
                    s.sendall(b"GET /heal")  # half a request line, then nothing
                    socks.append(s)
                except OSError:
                    failed += 1
            # The daemon closes those over the cap at once: wait for that.
            deadline = time.monotonic() + 120
            open_ = {s.fileno(): s for s in socks}
            poll = select.poll()
            for fd in open_:
                poll.register(fd, select.POLLIN)
            while len(open_) > cap and time.monotonic() < deadline:
                for fd, _ in poll.poll(1000):
                    s = open_[fd]
                    try:
                        data = s.recv(1)
                    except OSError:
                        data = b""
                    if data:
                        self.fail("an answer to half a request line: %r" % data)
                    poll.unregister(fd)
                    del open_[fd]
            print("\n  %d slow connections from 127.0.0.1: %d still open, %d closed by the daemon, %d failed"
                  % (self.N, len(open_), len(socks) - len(open_), failed))
            self.assertLessEqual(len(open_), cap, "one address holds more than its share")
            self.assertGreaterEqual(metric(self.d, "ventanilla_connections_refused_total", OTHER),
                                    self.N - cap - failed)

            # Another address is served: health and an intake, several times.
            for i in range(5):
                r = request_from(OTHER, self.d.port, "GET", "/healthz")
                self.assertEqual(r.status, 200, r)
                body = json.dumps(H.item_payload(subject="Durante el ataque %d" % i), ensure_ascii=False)
                r = request_from(OTHER, self.d.port, "POST", "/api/v1/items", body,
                                 {"Content-Type": "application/json"})
                H.assert_created(self, r)
            # The held ones are still held (the timeout is long): not a timing fluke.
            self.assertEqual(poll.poll(0), [], "held connections were answered or closed")
        finally:
            for s in socks:
                s.close()
        # Once they are gone, the address is welcome again.
        deadline = time.monotonic() + 60
        while True:
            try:
                r = request_from("127.0.0.1", self.d.port, "GET", "/healthz", timeout=10)
                if r.status == 200:
                    break
            except (OSError, AssertionError):
                pass
            self.assertLess(time.monotonic(), deadline, "127.0.0.1 refused after its connections closed")
            time.sleep(0.2)
        self.assert_no_crash()


class HeaderTimeout(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"server": {"header_timeout_seconds": 2}}, name="hdrto")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_dripping_headers_are_cut_off(self):
        """A byte every half second never finishes its headers; the daemon
        closes the connection (the timeout counts from the first byte, it is
        not pushed back by each byte)."""
        s = connect(self.d.port, timeout=5)
        line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Relleno: " + b"a" * 1000
        closed = False
        start = time.monotonic()
        try:
            for ch in line:
                try:
                    s.sendall(bytes([ch]))
                except OSError:
                    closed = True
                    break
                r, _, _ = select.select([s], [], [], 0.5)
                if r:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        closed = True
                        break
                    self.fail("an answer to unfinished headers: %r" % data)
                if time.monotonic() - start > 120:
                    break
        finally:
            s.close()
        self.assertTrue(closed, "a client still sending its headers after %.0f s" % (time.monotonic() - start))
        self.assertEqual(self.d.get("/healthz").status, 200)
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# /live: the cookie only from our own origins


class LiveOrigin(H.DaemonCase):
    PUBLIC = "https://pqrsd.example.gov.co"
    INTRANET = "https://intranet.example.gov.co:8443"

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS, "entity": {"public_url": cls.PUBLIC + "/"},
                          "live": {"allowed_origins": [cls.INTRANET]}}, name="origin")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        S.add_user(cls.d, "gina", "gerente")
        cls.d.start()
        cls.ana = Staff(cls.d, "ana")
        cls.gina = Staff(cls.d, "gina")

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    async def open(self, cookie, origin, topics):
        kw = {"origin": origin} if origin else {}
        ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                      extra_headers={"Cookie": cookie} if cookie else {},
                                      open_timeout=10, close_timeout=2, max_size=2 ** 24, **kw)
        await ws.send(json.dumps({"subscribe": topics}))
        return ws

    async def until(self, ws, pred, timeout=30):
        """Messages up to and including the first one pred accepts."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("not received within %ss; got %r" % (timeout, got))
            m = json.loads(await asyncio.wait_for(ws.recv(), left))
            got.append(m)
            if pred(m):
                return got

    async def staff_feed(self, cookie, origin):
        """Subscribes to staff + metrics, files an item and returns every
        message up to the metrics snapshot that counts it (sent after the
        item's staff event, so a staff event would be among them)."""
        ws = await self.open(cookie, origin, ["staff", "metrics"])
        try:
            first = await self.until(ws, lambda m: m.get("topic") == "metrics")
            total = [m for m in first if m.get("topic") == "metrics"][-1]["total"]
            p = H.person()
            payload = H.item_payload(subject="Asunto privado %s" % p["id_number"])
            doc = await asyncio.get_running_loop().run_in_executor(None, self.d.post_json, payload)
            self.assertEqual(doc.status, 201, doc)
            rest = await self.until(ws, lambda m: m.get("topic") == "metrics" and m["total"] > total)
            return first + rest, doc.json()["radicado"], payload
        finally:
            await ws.close()

    def assert_nothing_private(self, msgs, rad, payload):
        errors = [m for m in msgs if m.get("topic") == "error"]
        self.assertEqual([m.get("code") for m in errors], ["unauthenticated"], msgs)
        self.assertFalse([m for m in msgs if m.get("topic") == "staff"], msgs)
        text = json.dumps(msgs, ensure_ascii=False)
        for secret in (payload["subject"], payload["requester"]["name"], payload["requester"]["email"]):
            self.assertNotIn(secret, text)

    def assert_staff_event(self, msgs, rad):
        ev = [m for m in msgs if m.get("topic") == "staff"]
        self.assertTrue(ev, msgs)
        self.assertEqual(ev[-1]["item"]["radicado"], rad, ev)

    def test_01_another_sites_page_gets_nothing_private(self):
        for origin in ("https://evil.example", "https://otra.example.gov.co", "http://pqrsd.example.gov.co",
                       "https://pqrsd.example.gov.co.evil.example", "null", None):
            msgs, rad, payload = run(self.staff_feed(self.ana.cookie, origin))
            self.assert_nothing_private(msgs, rad, payload)
        # Exactly what a visitor without a cookie gets.
        msgs, rad, payload = run(self.staff_feed(None, None))
        self.assert_nothing_private(msgs, rad, payload)
        self.assertIn("live_origin_refused", self.d.log_text())

    def test_02_our_origins_work(self):
        for origin in (self.PUBLIC, self.PUBLIC.upper().replace("HTTPS", "https") + ":443", self.INTRANET,
                       "http://127.0.0.1:%d" % self.d.port):
            msgs, rad, _ = run(self.staff_feed(self.ana.cookie, origin))
            self.assertFalse([m for m in msgs if m.get("topic") == "error"], (origin, msgs))
            self.assert_staff_event(msgs, rad)

    def test_03_dashboard_needs_our_origin_too(self):
        async def scenario(origin):
            ws = await self.open(self.gina.cookie, origin, ["dashboard"])
            try:
                return (await self.until(ws, lambda m: m.get("topic") in ("dashboard", "error")))[-1]
            finally:
                await ws.close()

        m = run(scenario("https://evil.example"))
        self.assertEqual((m.get("topic"), m.get("code")), ("error", "unauthenticated"), m)
        m = run(scenario(self.PUBLIC))
        self.assertEqual(m.get("topic"), "dashboard", m)

    def test_04_public_topics_need_no_origin(self):
        async def scenario():
            ws = await self.open(None, "https://evil.example", ["metrics"])
            try:
                return (await self.until(ws, lambda m: m.get("topic") == "metrics"))[-1]
            finally:
                await ws.close()

        self.assertIn("total", run(scenario()))
        self.assert_no_crash()


# ---------------------------------------------------------------------------
# Cookie headers of about 8 KB


class LongCookies(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": FAST_LOGINS}, name="cookies")
        S.add_user(cls.d, "ana", "agente", TRIAGE)
        cls.d.start()
        cls.ana = Staff(cls.d, "ana")
        cls.big = long_cookie(cls.ana.cookie)

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    def test_01_http(self):
        r = self.d.get("/api/v1/session", {"Cookie": self.big})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"]["username"], "ana")
        rad = S.file_item(self, self.d)["radicado"]
        r = self.d.request("POST", "/api/v1/items/%s/actions" % rad,
                           json.dumps({"action": "note", "text": "con cookies largas"}),
                           {"Cookie": self.big, "X-CSRF-Token": self.ana.csrf,
                            "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        # the session cookie first or last among them works too
        others = self.big.replace(self.ana.cookie + "; ", "")
        for c in (self.ana.cookie + "; " + others, others + "; " + self.ana.cookie):
            self.assertEqual(self.d.get("/api/v1/session", {"Cookie": c}).status, 200)

    def test_02_cookie_in_a_second_cookie_header(self):
        """Two Cookie header lines (a proxy may split them): the session in
        the second one is found."""
        s = connect(self.d.port)
        try:
            s.sendall(("GET /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                       "Cookie: _ga=GA1.3.1; pref_tema=oscuro\r\nCookie: %s\r\n\r\n"
                       % (self.d.port, self.ana.cookie)).encode("latin-1"))
            r = read_response(s)
        finally:
            s.close()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"]["username"], "ana")

    def test_03_websocket_handshake(self):
        async def scenario():
            ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                          extra_headers={"Cookie": self.big},
                                          origin="http://127.0.0.1:%d" % self.d.port,
                                          open_timeout=10, close_timeout=2)
            try:
                await ws.send(json.dumps({"subscribe": ["staff"]}))
                doc = await asyncio.get_running_loop().run_in_executor(
                    None, self.d.post_json, H.item_payload())
                self.assertEqual(doc.status, 201, doc)
                rad = doc.json()["radicado"]
                deadline = time.monotonic() + 30
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
                    self.assertNotEqual(m.get("topic"), "error", m)
                    if m.get("topic") == "staff" and m["item"]["radicado"] == rad:
                        return m
            finally:
                await ws.close()

        m = run(scenario())
        self.assertEqual(m["event"], "created", m)
        self.assert_no_crash()


if __name__ == "__main__":
    H.main()
