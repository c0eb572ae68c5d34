"""Shared harness for Ventanilla's integration tests.

Each test script builds one or more Daemon objects (one fresh temporary
directory per test class), talks real HTTP / WebSocket to them and inspects
its database through Daemon.query / scalar / execute. Run a script directly:

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_02_intake.py

The store is SQLite by default. VT_TEST_BACKEND=postgresql runs the same tests
on PostgreSQL: each Daemon then creates its own database (vt_...) as the role
`ventanilla` through the Unix socket directory VT_TEST_PG_HOST, names it in its
config (store.backend, store.postgresql_conninfo) and drops it at cleanup; the
data directory stays in use on both. With a private cluster (what ctest's
integration-pg/* tests do):

    scripts/pg-cluster start /tmp/vt-pg
    VT_TEST_BACKEND=postgresql VT_TEST_PG_HOST=/tmp/vt-pg VENTANILLA_BIN=... /usr/bin/python3 test_02_intake.py
    scripts/pg-cluster stop /tmp/vt-pg

Tests write their SQL so that SQLite and PostgreSQL both take it (? placeholders,
no SQLite-only functions, ORDER BY where the order matters) and never open the
database themselves; a test about the SQLite file itself is skipped on
PostgreSQL (unittest.skipIf(H.BACKEND == "postgresql", why)).

Only the Python standard library (plus python3-websockets for test_05, and
python3-psycopg2 on PostgreSQL) is used.

Set VT_KEEP=1 to keep the temporary directories for post-mortem inspection,
VT_KEEP_FAILED=1 to keep only those of daemons that crashed or did not stop
cleanly.

Every daemon ends with a clean stop: Daemon.cleanup() sends SIGTERM, asserts
exit 0 and fails on any crash recorded or sanitizer report in its log; a
DaemonCase test during which a daemon died fails (revive() restarts it for
the next test). Waits for something that must happen are bounded by WAIT;
"nothing more happened" is checked after a positive barrier (outbox_settled,
a later message), never after a pause.
"""

import atexit
import contextlib
import copy
import datetime
import decimal
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import zlib

BIN = os.environ.get("VENTANILLA_BIN", "")
SOURCE_DIR = os.environ.get("VT_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
HTTP_TIMEOUT = 60.0
# How long a test waits for something that must happen (an event, a message,
# a row): generous, because the suite runs on 2 shared cores and under ASan.
# Waits end as soon as the thing happens; only a failing test waits this long.
WAIT = 60.0
BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))



def wait_until(pred, timeout=WAIT, what="condition", detail=lambda: "", interval=0.1):
    """Polls pred() until it returns something truthy, and returns that; past
    timeout seconds, fails naming what was awaited (and detail(), e.g. a log
    tail). The one way a test waits for something that must happen."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s%s" % (timeout, what, detail()))
        time.sleep(interval)


RADICADO_RE = re.compile(r"^(\d{4})-(\d{6})$")
RECEIVED_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?-05:00$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---------------------------------------------------------------------------
# Small utilities


TASKS = ("type", "petition_class", "group", "dependencia")


def stored_suggestion(raw):
    """items.classifier as the dict staff see (domain/classifier.h's stored
    form: "s1" TAB version, then per task its index, label, confidence and
    reasons' texts and weights, numbers in thousandths, TAB-separated)."""
    if raw is None:
        return None
    lines = raw.split("\n")
    head = lines[0].split("\t")
    assert head[0] == "s1" and len(head) == 2, raw
    out = {"model": head[1]}
    for line in lines[1:]:
        f = line.split("\t")
        assert len(f) % 2 == 1 and len(f) >= 3, raw
        out[TASKS[int(f[0])]] = {
            "label": f[1], "confidence": int(f[2]) / 1000,
            "reasons": [{"feature": f[i], "weight": int(f[i + 1]) / 1000} for i in range(3, len(f), 2)]}
    return out


def deep_merge(base, over):
    """Returns base updated recursively with over (dicts merged, rest replaced)."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_logfmt(line):
    """Parses one logfmt line into a dict (values unquoted)."""
    out = {}
    for m in re.finditer(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|\S*)', line):
        v = m.group(2)
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[m.group(1)] = v
    return out


def bogota_now():
    return datetime.datetime.now(BOGOTA)


# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print when
# they find something (a sanitizer build aborts on the first one; a leak report
# comes at exit).
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer)"
                          r"|runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


def sanitizer_reports(lines):
    """The lines of a process's stderr that open a sanitizer report, each with
    the few lines after it (the first frames)."""
    out = []
    for i, line in enumerate(lines):
        if SANITIZER_RE.search(line):
            out.append("\n".join(lines[i:i + 12]))
    return out


def run_cli(*args, timeout=30, env=None, input=None):
    """Runs $VENTANILLA_BIN with args; returns CompletedProcess (text mode).
    Raises AssertionError if the command printed a sanitizer report, whatever
    its exit status (a test that expects a failure must not mistake a crash
    for the failure it wanted)."""
    if not BIN:
        raise RuntimeError("VENTANILLA_BIN is not set")
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([BIN] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e, input=input)
    reports = sanitizer_reports((p.stderr or "").splitlines())
    if reports:
        raise AssertionError("`ventanilla %s` printed a sanitizer report (exit status %d):\n%s"
                             % (" ".join(str(a) for a in args[:2]), p.returncode, reports[0]))
    if p.returncode < 0:
        raise AssertionError("`ventanilla %s` died of signal %d:\n%s"
                             % (" ".join(str(a) for a in args[:2]), -p.returncode, p.stderr[-2000:]))
    return p


def cli_due_date(received_at, type_="peticion", petition_class=None):
    """Asks `ventanilla calendar due` for the due date of an item received at
    received_at (ISO 8601); returns the last YYYY-MM-DD printed. Only for
    testing that command itself against literal dates (test_01): expected
    due dates come from legal_calendar.py, never from the code under test."""
    args = ["calendar", "due", "--type", type_]
    if petition_class:
        args += ["--class", petition_class]
    args += ["--received", received_at]
    p = run_cli(*args)
    if p.returncode != 0:
        raise AssertionError("calendar due %r failed (%d): %s %s" % (args, p.returncode, p.stdout, p.stderr))
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", p.stdout)
    if not dates:
        raise AssertionError("calendar due printed no date: %r" % p.stdout)
    return dates[-1]


# ---------------------------------------------------------------------------
# Test data builders

_counter = [0]
_counter_lock = threading.Lock()


def unique():
    with _counter_lock:
        _counter[0] += 1
        return _counter[0]


def person(n=None):
    """Distinctive personal data, easy to grep for in logs."""
    if n is None:
        n = unique()
    tag = "%d%04d" % (os.getpid() % 1000, n)
    return {
        "name": "Zenaida Quintero Prueba%s" % tag,
        "email": "zenaida.q%s@correo-prueba.example.com" % tag,
        "phone": "3%09d" % (int(tag) % 10 ** 9),
        "id_number": "7%09d" % (int(tag) % 10 ** 9),
    }


def item_payload(**over):
    """A valid JSON intake; keyword arguments override top-level keys
    (requester=... replaces the requester object)."""
    p = person()
    body = {
        "kind": "pqrsd",
        "type": "peticion",
        "subject": "Solicitud de información sobre el alumbrado público",
        "body": "Solicito información sobre el contrato de alumbrado del barrio La Esperanza.",
        "requester": {
            "person_type": "natural",
            "name": p["name"],
            "id_type": "CC",
            "id_number": p["id_number"],
            "email": p["email"],
            "phone": p["phone"],
        },
    }
    for k, v in over.items():
        if v is None and k in body:
            del body[k]
        else:
            body[k] = v
    return body


def form_fields(**over):
    """Valid flat form fields (web form / urlencoded / multipart)."""
    p = person()
    f = {
        "kind": "pqrsd",
        "type": "queja",
        "subject": "Queja por mala atención en la ventanilla",
        "body": "El funcionario de turno no me atendió el día de ayer.",
        "person_type": "natural",
        "name": p["name"],
        "id_type": "CC",
        "id_number": p["id_number"],
        "email": p["email"],
        "phone": p["phone"],
        "data_consent": "on",
    }
    for k, v in over.items():
        if v is None:
            f.pop(k, None)
        else:
            f[k] = v
    return f


def minimal_pdf(text="Ventanilla"):
    """A small but structurally valid one-page PDF."""
    content = ("BT /F1 12 Tf 20 100 Td (%s) Tj ET" % text).encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n" % (len(objs) + 1))
    out.write(b"0000000000 65535 f \n")
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def minimal_png(w=2, h=2, rgb=(200, 30, 30)):
    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def minimal_pe():
    """A tiny Windows PE (MZ + PE header) executable."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", 0x8664, 1, 0, 0, 0, 240, 0x22)
    opt = bytearray(240)
    struct.pack_into("<H", opt, 0, 0x20B)  # PE32+
    section = struct.pack("<8sIIIIIIHHI", b".text\0\0\0", 16, 0x1000, 512, 512, 0, 0, 0, 0, 0x60000020)
    body = bytes(dos) + coff + bytes(opt) + section
    body += b"\0" * (512 - len(body))
    body += b"\xc3" + b"\0" * 511
    return body


def elf_executable():
    """A real ELF executable from the system."""
    for p in ("/bin/true", "/usr/bin/true"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                return f.read()
    raise RuntimeError("no /bin/true")


def multipart(fields, files=()):
    """Encodes fields (dict or list of pairs) and files (list of
    (fieldname, filename, content_type, bytes)) as multipart/form-data.
    Returns (content_type, body)."""
    boundary = "----vtboundary%d%d" % (os.getpid(), unique())
    out = io.BytesIO()
    items = fields.items() if isinstance(fields, dict) else fields
    for k, v in items:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, k)).encode())
        out.write(v.encode() if isinstance(v, str) else v)
        out.write(b"\r\n")
    for name, filename, ctype, data in files:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=%s" % boundary, out.getvalue()


# ---------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        b = self.body[:600]
        return "<HTTP %s %r>" % (self.status, b)


def http_request(port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """One request on its own connection, written on a raw socket so that
    invalid bytes can be sent and an early answer (413) can still be read."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port, "Connection: close"]
    hdrs = dict(headers or {})
    if body is not None and not any(k.lower() == "content-length" for k in hdrs):
        hdrs["Content-Length"] = str(len(body))
    for k, v in hdrs.items():
        lines.append("%s: %s" % (k, v))
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer before reading everything (413)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, headers, data)
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# The database the tests read and write: SQLite or PostgreSQL

BACKEND = os.environ.get("VT_TEST_BACKEND") or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise SystemExit("VT_TEST_BACKEND must be sqlite or postgresql, not %r" % BACKEND)
# The Unix socket directory of the cluster (scripts/pg-cluster env DIR).
PG_HOST = os.environ.get("VT_TEST_PG_HOST", "")
PG_ROLE = "ventanilla"
psycopg2 = None
if BACKEND == "postgresql":
    try:
        import psycopg2  # noqa: F811
        import psycopg2.errors  # noqa: F401
    except ImportError:
        raise SystemExit("VT_TEST_BACKEND=postgresql needs python3-psycopg2 (scripts/install-deps.sh)")
    if not PG_HOST:
        raise SystemExit("VT_TEST_BACKEND=postgresql needs VT_TEST_PG_HOST (scripts/pg-cluster env DIR)")


def conninfo_value(v):
    """v quoted for a libpq connection string when it must be."""
    if v and not re.search(r"[\s'\\]", v):
        return v
    return "'%s'" % v.replace("\\", "\\\\").replace("'", "\\'")


def pg_sql(sql, with_args):
    """The tests' SQL, written with SQLite's ? placeholders, for psycopg2: each
    ? outside a quoted string, a quoted name or a comment becomes %s and, when
    arguments are passed (psycopg2 formats the text only then), every % is
    doubled so that it reaches the server as written."""
    pct = "%%" if with_args else "%"
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = sql.find(c, i + 1)  # a doubled quote is two literals in a row: same output
            j = n if j < 0 else j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == "?":
            if i + 1 < n and (sql[i + 1].isdigit() or sql[i + 1] in ":@$"):
                raise ValueError("only plain ? placeholders are translated: %r" % sql)
            out.append("%s")
            i += 1
            continue
        else:
            j = i + 1
            while j < n and sql[j] not in "'\"-/?":
                j += 1
            j = max(j, i + 1)
        out.append(sql[i:j].replace("%", pct))
        i = j
    return "".join(out)


def pg_value(v):
    """A value read from PostgreSQL as the same query gives it on SQLite: bytes
    for a blob, int for an integer (count, sum and the like come as numeric),
    0/1 for a comparison."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v.as_tuple().exponent >= 0 else float(v)
    return v


def pg_arg(v):
    return int(v) if isinstance(v, bool) else v


class SqliteStore:
    """A SQLite database file: reads on a read-only connection, each write
    committed on its own."""
    backend = "sqlite"

    def __init__(self, path):
        self.path = path

    def connect(self):
        """A read-only connection (sqlite3.Row rows); the caller closes it."""
        uri = "file:%s?mode=ro" % urllib.parse.quote(self.path)
        con = sqlite3.connect(uri, uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def query(self, sql, args=()):
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(sql, args).fetchall()]
        finally:
            con.close()

    def scalar(self, sql, args=()):
        con = self.connect()
        try:
            return con.execute(sql, args).fetchone()[0]
        finally:
            con.close()

    def execute(self, sql, args=()):
        """Runs one writing statement and commits it; returns the rows changed."""
        con = sqlite3.connect(self.path, timeout=10)
        try:
            n = con.execute(sql, args).rowcount
            con.commit()
            return n
        finally:
            con.close()

    def tables(self):
        return {r["name"] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def columns(self, table):
        """PRAGMA table_info's rows: (cid, name, type, notnull, default, pk)."""
        con = self.connect()
        try:
            return [tuple(r) for r in con.execute("PRAGMA table_info(%s)" % table).fetchall()]
        finally:
            con.close()

    def close(self):
        pass


class PgStore:
    """One PostgreSQL database of the test cluster, owned by the role
    ventanilla. Statements run in autocommit on a few pooled connections."""
    backend = "postgresql"
    IDLE = 4  # connections kept open between statements

    def __init__(self, dbname, host=None):
        self.dbname = dbname
        self.host = host or PG_HOST
        self._lock = threading.Lock()
        self._idle = []

    @property
    def conninfo(self):
        """The libpq connection string the daemon's config names."""
        return "host=%s dbname=%s user=%s" % (conninfo_value(self.host), self.dbname, PG_ROLE)

    def _connect(self, dbname=None):
        # lock_timeout: a test's UPDATE waits for the daemon's transaction, not forever.
        con = psycopg2.connect(host=self.host, dbname=dbname or self.dbname, user=PG_ROLE,
                               connect_timeout=30, application_name="vt-tests",
                               options="-c lock_timeout=%d" % int(WAIT * 1000))
        con.autocommit = True
        return con

    @contextlib.contextmanager
    def _cursor(self):
        with self._lock:
            con = self._idle.pop() if self._idle else None
        if con is None or con.closed:
            con = self._connect()
        try:
            with con.cursor() as cur:
                yield cur
        finally:
            with self._lock:
                if not con.closed and len(self._idle) < self.IDLE:
                    self._idle.append(con)
                    con = None
            if con is not None:
                con.close()

    def _run(self, cur, sql, args):
        args = tuple(pg_arg(a) for a in args)
        cur.execute(pg_sql(sql, bool(args)), args or None)

    def query(self, sql, args=()):
        with self._cursor() as cur:
            self._run(cur, sql, args)
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [{k: pg_value(v) for k, v in zip(names, row)} for row in cur.fetchall()]

    def scalar(self, sql, args=()):
        with self._cursor() as cur:
            self._run(cur, sql, args)
            return pg_value(cur.fetchone()[0])

    def execute(self, sql, args=()):
        """Runs one writing statement (committed: autocommit); returns the rows changed."""
        with self._cursor() as cur:
            self._run(cur, sql, args)
            return cur.rowcount

    def tables(self):
        return {r["name"] for r in self.query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = ANY (current_schemas(false))")}

    def columns(self, table):
        """The rows SQLite's PRAGMA table_info gives: (cid, name, type, notnull,
        default, pk); an identity column has a default ('identity'), as a
        rowid has one on SQLite."""
        rows = self.query(
            "SELECT a.attnum - 1 AS cid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, "
            "a.attnotnull AS notnull, "
            "CASE WHEN a.attidentity <> '' THEN 'identity' ELSE pg_get_expr(d.adbin, d.adrelid) END AS dflt, "
            "COALESCE((SELECT k.n FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n) "
            "          WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), 0) AS pk "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (table,))
        return [(r["cid"], r["name"], r["type"], r["notnull"], r["dflt"], r["pk"]) for r in rows]

    def close(self):
        """Closes the pooled connections (before a DROP or a copy of the database)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()

    def _admin(self, sql):
        con = self._connect("postgres")
        try:
            with con.cursor() as cur:
                cur.execute(sql)
        finally:
            con.close()

    def create(self, template=None):
        """CREATE DATABASE, owned by ventanilla (the role that creates it)."""
        self._admin('CREATE DATABASE "%s"%s' % (self.dbname, ' TEMPLATE "%s"' % template if template else ""))
        return self

    def drop(self):
        """DROP DATABASE, ending the connections left to it. An autovacuum
        worker on it (a superuser's process, which FORCE may not end) goes
        away on its own within moments: try again for a while."""
        self.close()
        deadline = time.monotonic() + WAIT
        while True:
            try:
                self._admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.dbname)
                return
            except (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ObjectInUse):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def pg_dbname(name):
    """A database name no other test process or earlier run uses: vt_<name>_<pid>_<n>_<random>."""
    return "vt_%s_%d_%d_%s" % (re.sub(r"[^a-z0-9]", "_", name.lower())[:20], os.getpid(), unique(),
                               secrets.token_hex(3))


def sqlite_file(path):
    """The SQLite database at path (a restored or backed-up ventanilla.db), for a
    test about the SQLite file itself."""
    return SqliteStore(path)


class StoreCopy:
    """A copy of a stopped daemon's store (Daemon.copy_store): data_dir and
    cfg_path name it to the CLI; query, scalar and execute reach its database."""

    def __init__(self, data_dir, cfg_path, store):
        self.data_dir = data_dir
        self.cfg_path = cfg_path
        self.store = store

    def query(self, sql, args=()):
        return self.store.query(sql, args)

    def scalar(self, sql, args=()):
        return self.store.scalar(sql, args)

    def execute(self, sql, args=()):
        return self.store.execute(sql, args)


# ---------------------------------------------------------------------------
# The daemon


_daemons = []


@atexit.register
def _cleanup_all():
    """Kills and removes whatever a failed setUpClass left behind."""
    for d in _daemons:
        try:
            d.cleanup()
        except Exception:  # noqa: BLE001
            pass


def check_all_daemons():
    """Stops and checks every daemon not cleaned up yet (a test class that
    forgot to, or a daemon a test made for itself); returns the problems found.
    main() calls it after the tests so that no crash goes unreported."""
    problems = []
    for d in _daemons:
        if d.cleaned:
            continue
        try:
            d.cleanup()
        except AssertionError as e:
            problems.append(str(e))
    return problems


class Daemon:
    """One daemon in its own temporary directory."""

    def __init__(self, config=None, name="vt", env=None, migrate=True, backend=None, share=None,
                 no_data_dir=False):
        """backend: "sqlite" or "postgresql" for this daemon whatever
        VT_TEST_BACKEND says (test_32 moves a SQLite store into PostgreSQL).
        share: another Daemon (PostgreSQL only) whose database this one
        uses too, as a second instance: its own data directory with a copy of
        share's audit.key; the database is neither migrated nor dropped here.
        no_data_dir (PostgreSQL only): no data directory at all; the config
        names the audit key's file (made by `audit new-key`, or share's) and
        server.instance_name, and no command is given --data-dir."""
        if not BIN or not os.path.exists(BIN):
            raise RuntimeError("VENTANILLA_BIN (%r) does not exist" % BIN)
        self.dir = tempfile.mkdtemp(prefix="vt-it-%s-" % name)
        self.name = name
        self.data_dir = None if no_data_dir else os.path.join(self.dir, "data")
        self.key_path = (os.path.join(self.dir, "audit.key") if no_data_dir
                         else os.path.join(self.data_dir, "audit.key"))
        self.cfg_path = os.path.join(self.dir, "ventanilla.json")
        server = {"listen": "127.0.0.1", "port": 0}
        if no_data_dir:
            server["instance_name"] = "%s-%s" % (name, os.path.basename(self.dir))
        else:
            server["data_dir"] = self.data_dir
        base = {
            "//": "integration test configuration; comment keys are ignored",
            "server": server,
            "intake": {"rate_limit_per_minute": 100000, "rate_limit_burst": 100000},
            "log": {"level": "info"},
            # The learned classifier suggests on every daemon, but routes only
            # where a test asks for it (test_37, test_38): the casework tests
            # start from items waiting in triage and route them by hand.
            "classify": {"route_confidence": 101},
        }
        self._copies = []  # stores made by copy_store, removed with this one
        self.backend = backend or BACKEND
        self.shared = share is not None
        if no_data_dir:
            assert self.backend == "postgresql", "only PostgreSQL runs without a data directory"
        if self.shared:
            assert self.backend == "postgresql", "a second instance needs the PostgreSQL backend"
            if self.data_dir:
                os.makedirs(self.data_dir, 0o700)
            shutil.copyfile(share.key_path, self.key_path)
            os.chmod(self.key_path, 0o600)
            self.store, migrate = share.store, False
            base["store"] = {"backend": "postgresql", "postgresql_conninfo": self.store.conninfo}
        elif self.backend == "postgresql":
            self.store = PgStore(pg_dbname(name))
            base["store"] = {"backend": "postgresql", "postgresql_conninfo": self.store.conninfo}
        else:
            self.store = SqliteStore(self.db_path)
        if no_data_dir:
            base["store"]["audit_key_file"] = self.key_path
        self.config = deep_merge(base, config or {})
        with open(self.cfg_path, "w", encoding="utf-8") as f:
            json.dump(self.config, f, ensure_ascii=False, indent=2)
        self.env = dict(os.environ)
        # The config names this daemon's database; an operator's variable must not win.
        self.env.pop("VENTANILLA_PG_CONNINFO", None)
        self.env.update(env or {})
        self.proc = None
        self.port = None
        self._run_first = 0
        self._checked_lines = 0
        self._died = False
        self.crashes = []  # (exit status, last log lines) of unexpected deaths
        self.cleaned = False
        self.lines = []  # every stderr line of every run
        self.stdout_lines = []
        self._cond = threading.Condition()
        self._threads = []
        if self.backend == "postgresql" and not self.shared:
            self.store.create()
        _daemons.append(self)
        if no_data_dir and not self.shared:
            p = self.cli("audit", "new-key", self.key_path)
            if p.returncode != 0:
                raise AssertionError("audit new-key failed: %s %s" % (p.stdout, p.stderr))
        if migrate:
            self.migrate()

    # -- CLI helpers
    def cli(self, *args, timeout=30):
        return run_cli(*args, timeout=timeout, env=self.env)

    def data_dir_args(self):
        """--data-dir DIR for a command, or nothing when there is none."""
        return ["--data-dir", self.data_dir] if self.data_dir else []

    def stored_attachment(self, sha):
        """The bytes the store holds under sha (in attachment_blobs on
        PostgreSQL, a file under data/attachments on SQLite), or None."""
        if self.backend == "postgresql":
            rows = self.query("SELECT bytes FROM attachment_blobs WHERE sha256 = ?", (sha,))
            return rows[0]["bytes"] if rows else None
        path = os.path.join(self.data_dir, "attachments", sha[:2], sha)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def migrate(self):
        p = self.cli("migrate", "--config", self.cfg_path, *self.data_dir_args())
        if p.returncode != 0:
            raise AssertionError("migrate failed (%d): %s %s" % (p.returncode, p.stdout, p.stderr))
        return p

    # -- process control
    def _drain(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._cond:
                sink.append(line)
                self._cond.notify_all()
        stream.close()

    def start(self, timeout=60):
        assert self.proc is None, "already running"
        first = len(self.lines)
        self._run_first = first
        self._died = False
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.cfg_path, *self.data_dir_args(), "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.lines), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout_lines), daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[first:]:
                    if "event=listening" in line:
                        kv = parse_logfmt(line)
                        m = re.search(r"\bport=(\d+)", line)
                        if m:
                            self.port = int(m.group(1))
                        elif "port" in kv:
                            self.port = int(kv["port"])
                        if self.port:
                            return self
                if self.proc.poll() is not None:
                    rc = self.proc.returncode
                    self.proc = None
                    raise AssertionError("daemon exited with %d before listening:\n%s"
                                         % (rc, "\n".join(self.lines[first:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise AssertionError("no event=listening line within %ss:\n%s"
                                         % (timeout, "\n".join(self.lines[first:])))
                self._cond.wait(min(left, 0.2))

    def reap(self):
        """If the daemon died on its own (nobody stopped or killed it), records
        it in self.crashes and returns the record; else None. Every crash
        recorded fails the class at cleanup()."""
        if self.proc is None or self.proc.poll() is None:
            return None
        rc = self.proc.returncode
        for t in self._threads:
            t.join(5)
        crash = (rc, "\n".join(self.lines[-10:]))
        self.crashes.append(crash)
        self._died = True
        if os.environ.get("VT_DUMP_CRASH"):
            print("\n".join(self.lines[-80:]), file=sys.stderr)
        self.proc = None
        self.port = None
        return crash

    def revive(self):
        """If the daemon died on its own, records it in self.crashes (the class
        fails at cleanup) and starts it again so that later tests still say
        something."""
        self.reap()
        if not self._died:
            return False
        print("\n  !! daemon had died with status %s; restarting it" % self.crashes[-1][0], file=sys.stderr)
        self.start()
        return True

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM; asserts a clean exit (0) within timeout seconds and no
        sanitizer report (LeakSanitizer reports at exit) in that run's log."""
        assert self.proc is not None, "not running"
        proc = self.proc
        first = self._run_first
        if proc.poll() is not None:
            crash = self.reap()
            raise AssertionError("daemon had already died (exit status %s) when asked to stop; "
                                 "last log lines:\n%s" % crash)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            for t in self._threads:
                t.join(5)
            self.proc = None
            self.port = None
            raise AssertionError("daemon did not exit within %ss of SIGTERM; last log lines:\n%s"
                                 % (timeout, "\n".join(self.lines[-20:])))
        for t in self._threads:
            t.join(5)
        self.proc = None
        self.port = None
        reports = sanitizer_reports(self.lines[first:])
        self._checked_lines = len(self.lines)  # reported here, not again by the test's check
        if reports:
            raise AssertionError("sanitizer report in the daemon's log:\n%s" % reports[0])
        if rc != 0:
            raise AssertionError("daemon exited with %d after SIGTERM; last log lines:\n%s"
                                 % (rc, "\n".join(self.lines[-20:])))
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def kill(self):
        """SIGKILL, for a test that simulates a crash on purpose. A daemon that
        had already died on its own is recorded as a crash, not hidden."""
        if self.proc is not None:
            if self.reap() is not None:
                return
            self.proc.kill()
            self.proc.wait()
            for t in self._threads:
                t.join(5)
            self.proc = None
            self.port = None

    def problems(self):
        """Every crash recorded and every sanitizer report in any run's log."""
        out = ["the daemon died on its own (exit status %s); last log lines:\n%s" % c for c in self.crashes]
        out += ["sanitizer report in the daemon's log:\n%s" % r for r in sanitizer_reports(self.lines)]
        return out

    def cleanup(self):
        """Ends the daemon with SIGTERM (a clean exit, so a sanitizer's leak
        report reaches the log), removes its files, and raises AssertionError
        if it ever crashed, did not stop cleanly or printed a sanitizer
        report. Called from tearDownClass, that fails the class. Idempotent."""
        if self.cleaned:
            return
        self.cleaned = True
        errors = []
        try:
            if self.proc is not None:
                if self.reap() is None:
                    self.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            self.kill()  # only if stop() gave up
        for p in self.problems():
            if p not in errors:
                errors.append(p)
        keep = os.environ.get("VT_KEEP") or (errors and os.environ.get("VT_KEEP_FAILED"))
        if os.path.isdir(self.dir):
            if keep:
                print("keeping %s" % self.dir, file=sys.stderr)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        for store in ([] if self.shared else [self.store]) + self._copies:
            if keep and store.backend == "postgresql":
                print("keeping database %s" % store.dbname, file=sys.stderr)
                store.close()
                continue
            try:
                store.drop() if store.backend == "postgresql" else store.close()
            except Exception as e:  # noqa: BLE001
                errors.append("could not drop its database: %s" % e)
        if errors:
            raise AssertionError("daemon %s: %s" % (os.path.basename(self.dir), "\n---\n".join(errors)))

    def log_text(self):
        with self._cond:
            return "\n".join(self.lines + self.stdout_lines)

    # -- HTTP helpers
    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        assert self.port, "daemon not running"
        try:
            return http_request(self.port, method, path, body, headers, timeout)
        except (ConnectionError, http.client.HTTPException, socket.timeout) as e:
            if self.proc is not None:
                try:
                    self.proc.wait(0.5)
                except subprocess.TimeoutExpired:
                    pass
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("the daemon died (exit status %s) before/while answering %s %s: %s; "
                                     "last log lines:\n%s" % (self.proc.returncode, method, path, e,
                                                              "\n".join(self.lines[-15:])))
            raise

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post_json(self, obj, path="/api/v1/items", raw=None):
        body = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def post_form(self, fields, path="/api/v1/items"):
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, fields, files=(), path="/api/v1/items"):
        ctype, body = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": ctype})

    def track(self, radicado, code):
        """POST /api/v1/track: the code travels in the body, never in a URL."""
        return self.post_json({"radicado": radicado, "code": code}, "/api/v1/track")

    # -- database (self.store: a SqliteStore or a PgStore)
    @property
    def db_path(self):
        """The SQLite file (SQLite backend only)."""
        return os.path.join(self.data_dir, "ventanilla.db")

    def db(self):
        """A read-only sqlite3 connection to the daemon's database (SQLite only:
        tests use query, scalar and execute, which work on both backends)."""
        if self.backend != "sqlite":
            raise RuntimeError("Daemon.db() is SQLite's; use query/scalar/execute")
        return self.store.connect()

    def query(self, sql, args=()):
        """Rows (dicts) of one statement written as SQLite and PostgreSQL both take it."""
        return self.store.query(sql, args)

    def scalar(self, sql, args=()):
        """The first column of the first row."""
        return self.store.scalar(sql, args)

    def execute(self, sql, args=()):
        """Writes one statement into the daemon's database, committed at once
        (running or not: on SQLite it waits for the daemon's writer like a
        reader would); returns the number of rows changed."""
        return self.store.execute(sql, args)

    def tables(self):
        """The names of the database's tables, as a set."""
        return self.store.tables()

    def columns(self, table):
        """table's columns as SQLite's PRAGMA table_info gives them:
        (cid, name, type, notnull, default, pk) tuples."""
        return self.store.columns(table)

    def copy_store(self, name):
        """A copy of this stopped daemon's store for a test to damage: the data
        directory copied to DIR/name and, on PostgreSQL, the database copied
        (CREATE DATABASE ... TEMPLATE) with a config file naming the copy.
        Returns a StoreCopy; the copy goes with this daemon's cleanup."""
        assert not self.running(), "copy_store needs the daemon stopped"
        dst = os.path.join(self.dir, name)
        shutil.copytree(self.data_dir, dst)
        if self.backend == "postgresql":
            self.store.close()  # a template database must have no session
            store = PgStore(pg_dbname(name)).create(template=self.store.dbname)
            self._copies.append(store)
            cfg_path = os.path.join(self.dir, name + ".json")
            with open(cfg_path, "w", encoding="utf-8") as f:
                json.dump(deep_merge(self.config, {"store": {"postgresql_conninfo": store.conninfo}}), f,
                          ensure_ascii=False, indent=2)
            return StoreCopy(dst, cfg_path, store)
        return StoreCopy(dst, self.cfg_path, SqliteStore(os.path.join(dst, "ventanilla.db")))


def release(*things):
    """Ends each of things, all of them even when one fails: a Daemon with
    cleanup(), a browser with close(), a fake or real server with stop()
    (None is skipped). Then raises the first error, so that a crash found
    while cleaning up a daemon fails the class without leaving Dovecot or a
    browser running."""
    first = None
    for t in things:
        if t is None:
            continue
        try:
            if isinstance(t, Daemon):
                t.cleanup()
            elif hasattr(t, "close") and not hasattr(t, "stop"):
                t.close()
            else:
                t.stop()
        except Exception as e:  # noqa: BLE001
            if first is None:
                first = e
    if first is not None:
        raise first


def check_daemons_after_test():
    """Raises AssertionError if a daemon of this process died on its own or
    printed a sanitizer report since the last check (deliberate stop() and
    kill() calls leave proc None and are not deaths)."""
    found = []
    for d in _daemons:
        if d.cleaned:
            continue
        crash = d.reap()
        if crash is not None:
            found.append("daemon %s died on its own (exit status %s); last log lines:\n%s"
                         % ((os.path.basename(d.dir),) + crash))
        reports = sanitizer_reports(d.lines[d._checked_lines:])
        d._checked_lines = len(d.lines)
        if reports:
            found.append("daemon %s printed a sanitizer report:\n%s" % (os.path.basename(d.dir), reports[0]))
    if found:
        raise AssertionError("\n---\n".join(found))


class DaemonCase(unittest.TestCase):
    """Base for test classes sharing one daemon in cls.d. A daemon that died
    (or printed a sanitizer report) during a test fails that test; setUp then
    restarts it (revive) so that later tests still say something; and the
    class's cleanup() fails the class again for every crash recorded."""
    d = None

    def run(self, result=None):
        # A cleanup, not tearDown: subclasses override tearDown without super().
        self.addCleanup(check_daemons_after_test)
        return super().run(result)

    def setUp(self):
        if self.d is not None:
            self.d.revive()

    def assert_no_crash(self):
        if self.d.crashes:
            self.fail("the daemon crashed %d time(s) during this class's tests: %s" % (
                len(self.d.crashes), "; ".join("exit status %s after:\n%s" % c for c in self.d.crashes)))


# What a refused request must not leave behind: rows of these tables (those
# the schema has) and files under data/attachments.
STORED_TABLES = ("items", "requesters", "attachments", "attachment_blobs", "responses",
                 "audit_events", "outbox", "hearing_questions", "survey_answers")


def stored(daemon):
    """Counts of everything a request could have stored, as a dict."""
    have = daemon.tables()
    out = {t: daemon.scalar("SELECT count(*) FROM %s" % t) for t in STORED_TABLES if t in have}
    n = 0
    for _root, _dirs, files in os.walk(os.path.join(daemon.data_dir or "/nonexistent", "attachments")):
        n += len(files)
    out["attachment files"] = n
    return out


def assert_nothing_stored(tc, daemon, before, what=""):
    """Fails unless stored(daemon) still equals before (outbox rows included)."""
    after = stored(daemon)
    diff = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    tc.assertEqual(diff, {}, "%sa refused request stored something (before, after): %r"
                   % (what + ": " if what else "", diff))


def outbox_settled(daemon, recipient, timeout=None):
    """Waits until none of recipient's outbox rows (any channel) is pending or
    sending and returns them all (dicts, oldest first). A positive barrier for
    "nothing more was sent": whatever an intake, a webhook delivery or a
    mail causes is committed to the outbox in the same transaction, and one
    recipient's messages go in order, so once the rows settle no further
    message for what came before can arrive."""
    timeout = timeout or WAIT
    deadline = time.monotonic() + timeout
    while True:
        rows = daemon.query("SELECT id, kind, status, channel FROM outbox WHERE recipient = ? ORDER BY id",
                            (recipient,))
        if not any(r["status"] in ("pending", "sending") for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError("outbox rows for %s still unsent after %ss: %r" % (recipient, timeout, rows))
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# Assertions shared by several scripts


def assert_error(tc, resp, status, code=None, field=None, codes=None, fields=None):
    """Checks the JSON error envelope {"error":{"code","field","message"}}."""
    tc.assertEqual(resp.status, status, "expected HTTP %d, got %r" % (status, resp))
    try:
        doc = resp.json()
    except Exception as e:  # noqa: BLE001
        tc.fail("error body is not JSON (%s): %r" % (e, resp.body[:300]))
    tc.assertIsInstance(doc, dict, resp)
    tc.assertIn("error", doc, resp)
    err = doc["error"]
    tc.assertIsInstance(err, dict, resp)
    if code is not None:
        tc.assertEqual(err.get("code"), code, "error code in %r" % err)
    if codes is not None:
        tc.assertIn(err.get("code"), codes, "error code in %r" % err)
    if field is not None:
        tc.assertEqual(err.get("field"), field, "error field in %r" % err)
    if fields is not None:
        tc.assertIn(err.get("field"), fields, "error field in %r" % err)
    msg = err.get("message")
    tc.assertIsInstance(msg, str, err)
    tc.assertTrue(msg.strip(), "empty error message: %r" % err)
    return err


def assert_created(tc, resp):
    tc.assertEqual(resp.status, 201, "expected 201, got %r" % resp)
    doc = resp.json()
    tc.assertRegex(doc.get("radicado", ""), RADICADO_RE, doc)
    tc.assertIsInstance(doc.get("tracking_code"), str, doc)
    tc.assertGreaterEqual(len(doc["tracking_code"]), 6, doc)
    tc.assertRegex(doc.get("received_at", ""), RECEIVED_AT_RE, doc)
    tc.assertEqual(doc.get("status"), "radicado", doc)
    tc.assertIn("due_date", doc)
    tc.assertIsInstance(doc.get("stakeholder_group"), str, doc)
    tc.assertIsInstance(doc.get("classified_by"), str, doc)
    return doc


def radicado_seq(radicado):
    m = RADICADO_RE.match(radicado)
    assert m, radicado
    return int(m.group(2))


# ---------------------------------------------------------------------------
# Runner


class _Result(unittest.TextTestResult):
    pass


# ctest reports a test whose command exits with this code as skipped, not
# passed (SKIP_RETURN_CODE in CMakeLists.txt).
SKIP_EXIT = 77


def main():
    """Runs the calling module's tests; prints 'N passed, M failed, K skipped'
    last and exits 1 on any failure, SKIP_EXIT when every test was skipped
    (no browser, no libfaketime...), else 0."""
    mod = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=_Result)
    t0 = time.monotonic()
    result = runner.run(suite)
    leftovers = check_all_daemons()
    for p in leftovers:
        print("\nERROR: a daemon left running after its tests:\n%s" % p)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses) + len(leftovers)
    skipped = len(result.skipped)  # a class skipped in setUpClass counts once
    # setUpClass errors count as errors but not as tests run
    passed = max(0, result.testsRun - len(result.failures) - len(result.errors)
                 - len(result.skipped) - len(result.unexpectedSuccesses))
    sys.stdout.flush()
    print("(%.1f s)" % (time.monotonic() - t0))
    if skipped:
        print("SKIPPED %d: %s" % (skipped, "; ".join(
            "%s (%s)" % (getattr(t, "id", lambda: str(t))().split(".", 1)[-1], why) for t, why in result.skipped)))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.stdout.flush()
    if failed:
        sys.exit(1)
    if passed == 0:
        sys.exit(SKIP_EXIT if skipped else 1)
    sys.exit(0)
