"""Private mail servers for Ventanilla's e-mail channel tests.

Dovecot is a real IMAP server (Debian's dovecot-imapd) started in a fresh
temporary directory on 127.0.0.1 and a free port; SmtpSink is an aiosmtpd
server (Debian's python3-aiosmtpd) that captures every message it accepts.
Nothing is installed system-wide and nothing is left behind: stop() (or the
with block, or interpreter exit) kills every process and removes the files.

    with Dovecot() as imap, SmtpSink() as smtp:
        uid = imap.append("atencion", raw_bytes)
        ...  # configure the daemon with imap.url("atencion") and smtp.url,
             # user "atencion", password imap.users["atencion"]
        smtp.wait_for(lambda: smtp.messages(to="ciudadano@example.org"))
        assert "\\Seen" in imap.flags("atencion", uid)
        imap.reset_uidvalidity("atencion")   # the daemon must resync
        imap.pause(); ...; imap.resume()     # server hangs (TCP accepts, no greeting)
        imap.kill_server(); ...; imap.restart()  # unreachable, then back on the same port
        smtp.fail_next(451)                  # next DATA answers 451 (transient)
        smtp.fail_next(554, n=2)             # next two DATA answer 554 (permanent)

Dovecot runs as root (CI) with mail owned by the "dovecot" system user
(Dovecot refuses uid 0 for mail), login processes as "dovenull"; run as an
ordinary user it runs rootless with everything owned by that user.

Only the standard library and python3-aiosmtpd are used. Run this file
directly for a self-test: /usr/bin/python3 tests/integration/mailservers.py
Set VT_KEEP=1 to keep Dovecot's temporary directory (config, log, maildirs).
"""

import asyncio
import atexit
import base64
import email
import email.policy
import email.utils
import grp
import imaplib
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings

__all__ = ["Dovecot", "SmtpSink", "SmtpMessage", "DEFAULT_USERS", "free_port",
           "imap_utf7_encode", "imap_utf7_decode"]

DOVECOT_BIN = os.environ.get("VT_DOVECOT_BIN", "/usr/sbin/dovecot")
DOVEADM_BIN = os.environ.get("VT_DOVEADM_BIN", "/usr/bin/doveadm")
DEFAULT_USERS = {"atencion": "clave-prueba"}
HOST = "127.0.0.1"
IMAP_TIMEOUT = 15.0

_live = set()  # running servers, stopped at interpreter exit


@atexit.register
def _stop_all():
    for s in list(_live):
        try:
            s.stop()
        except Exception:  # noqa: BLE001
            pass


def test_certificate(directory):
    """A fresh self-signed certificate for 127.0.0.1 and localhost, made with
    openssl in directory: returns (cert_path, key_path). The certificate is
    its own CA: give cert_path to a client as the CA bundle to trust."""
    cert, key = os.path.join(directory, "test-cert.pem"), os.path.join(directory, "test-key.pem")
    if not os.path.exists(cert):
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-keyout", key, "-out", cert], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("openssl could not make a test certificate: %s" % p.stderr)
        os.chmod(key, 0o644)  # a private test instance: its login processes read it too
        os.chmod(cert, 0o644)
    return cert, key


def client_tls_context():
    """A client context that does not verify (the tests' helpers talk to their
    own servers; the daemon is the one whose verification is under test)."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def free_port(host=HOST):
    """A TCP port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------------------
# IMAP modified UTF-7 (RFC 3501 section 5.1.3) for mailbox names


def imap_utf7_encode(name):
    out, buf = [], []

    def flush():
        if buf:
            b = base64.b64encode("".join(buf).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + b.decode("ascii").replace("/", ",") + "-")
            buf.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


def imap_utf7_decode(name):
    def dec(m):
        s = m.group(1)
        if not s:
            return "&"
        s = s.replace(",", "/")
        return base64.b64decode(s + "=" * (-len(s) % 4)).decode("utf-16-be")

    return re.sub(r"&([A-Za-z0-9+,]*)-", dec, name)


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mbox(name):
    return _quote(imap_utf7_encode(name))


def _flag_list(flags):
    """"\\Seen \\Flagged", "(\\Seen)" or an iterable of flags -> "(\\Seen \\Flagged)" or ""."""
    if not flags:
        return ""
    if not isinstance(flags, str):
        flags = " ".join(flags)
    flags = flags.strip()
    if not flags:
        return ""
    return flags if flags.startswith("(") else "(" + flags + ")"


_MAILDIR_FLAG_LETTERS = {"\\draft": "D", "\\flagged": "F", "\\answered": "R", "\\seen": "S", "\\deleted": "T"}


# ---------------------------------------------------------------------------
# Process helpers


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) >= 2:
            kids.setdefault(int(rest[1]), []).append(int(d))
    return kids


def _descendants(pid):
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, ()):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def _signal(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------------
# Dovecot


class Dovecot:
    """A private Dovecot IMAP server on 127.0.0.1: plain IMAP (tls=None), or
    with a fresh self-signed certificate (ca_file), TLS required before login:
    tls="starttls" (imap://, STARTTLS) or tls="imaps" (imaps://, implicit TLS).

    users maps user name -> plain password (passwd-file, {PLAIN} scheme);
    every user's mail is a maildir under the temporary directory."""

    def __init__(self, users=DEFAULT_USERS, port=None, start_timeout=15.0, extra_config="", tls=None):
        assert tls in (None, "starttls", "imaps"), tls
        self.tls = tls
        self.ca_file = None  # the certificate to trust, once started with TLS
        self.users = dict(users)
        self.extra_config = extra_config  # appended to dovecot.conf (settings override earlier ones)
        for u, p in self.users.items():
            self._check_user(u, p)
        self.port = port            # None: pick a free one at start()
        self._user_port = port
        self._fixed_port = port is not None
        self.start_timeout = start_timeout
        self.dir = None
        self.proc = None
        self._paused = False
        self._token = secrets.token_hex(6)
        self._root = os.geteuid() == 0
        if self._root:
            try:
                pw = pwd.getpwnam("dovecot")
                self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid
            except KeyError:
                self.mail_uid = pwd.getpwnam("nobody").pw_uid
                self.mail_gid = grp.getgrnam("nogroup").gr_gid
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()

    @staticmethod
    def _check_user(user, password):
        for s in (user, password):
            assert s and not re.search(r"[:\r\n\x00]", s), "user/password must be non-empty, without ':' or newlines"

    # -- paths and configuration
    @property
    def conf_path(self):
        return os.path.join(self.dir, "dovecot.conf")

    @property
    def log_path(self):
        return os.path.join(self.dir, "dovecot.log")

    def log_text(self):
        """Dovecot's log (plus whatever it wrote to stderr)."""
        out = []
        for p in (self.log_path, os.path.join(self.dir or "", "dovecot.stderr")):
            try:
                with open(p, "r", encoding="utf-8", errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        return "".join(out)

    def _write_users(self):
        path = os.path.join(self.dir, "users")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for u, p in self.users.items():
                f.write("%s:{PLAIN}%s\n" % (u, p))
        os.chmod(tmp, 0o644)
        # Dovecot notices a changed passwd-file by mtime (seconds) and size:
        # give every version a distinct mtime.
        self._users_stamp = max(getattr(self, "_users_stamp", 0) + 1, int(time.time()))
        os.utime(tmp, (self._users_stamp, self._users_stamp))
        os.replace(tmp, path)

    def _config(self):
        d = self.dir
        if self._root:
            users = """default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = %d
first_valid_gid = %d
""" % (self.mail_uid, self.mail_gid)
            chroot = ""
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            mygroup = grp.getgrgid(os.getgid()).gr_name
            users = """default_internal_user = %s
default_internal_group = %s
default_login_user = %s
first_valid_uid = %d
first_valid_gid = %d
""" % (me, mygroup, me, self.mail_uid, self.mail_gid)
            chroot = "  chroot =\n"
        if self.tls:
            cert, key = test_certificate(d)
            self.ca_file = cert
            ssl_conf = "ssl = required\nssl_cert = <%s\nssl_key = <%s\ndisable_plaintext_auth = yes" % (cert, key)
        else:
            ssl_conf = "ssl = no\ndisable_plaintext_auth = no"
        return """# Generated by tests/integration/mailservers.py; private test instance.
protocols = imap
listen = %(host)s
base_dir = %(d)s/run
state_dir = %(d)s/state
instance_name = vt-dovecot
log_path = %(d)s/dovecot.log
login_greeting = vt-dovecot %(token)s ready.
%(ssl)s
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_max_userip_connections = 200
%(users)smail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Junk {
    special_use = \\Junk
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(d)s/users
}
userdb {
  driver = static
  args = uid=%(uid)d gid=%(gid)d home=%(d)s/mail/%%u
}
service imap-login {
%(chroot)s  inet_listener imap {
    address = %(host)s
    port = %(imap_port)d
  }
  inet_listener imaps {
    address = %(host)s
    port = %(imaps_port)d
    ssl = yes
  }
}
# No growing per-IP delay after failed logins (auth cannot open this socket,
# which disables the penalty): tests with wrong passwords stay fast.
service anvil {
%(chroot)s  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
%(extra)s
""" % {"extra": self.extra_config, "host": HOST, "d": d, "token": self._token, "users": users, "uid": self.mail_uid,
       "gid": self.mail_gid, "chroot": chroot, "ssl": ssl_conf,
       "imap_port": 0 if self.tls == "imaps" else self.port, "imaps_port": self.port if self.tls == "imaps" else 0}

    def _prepare_dir(self):
        base = None if len(tempfile.gettempdir()) <= 40 else "/tmp"  # unix socket paths < 108
        self.dir = tempfile.mkdtemp(prefix="vt-dovecot-", dir=base)
        os.chmod(self.dir, 0o755)  # the mail user must reach mail/
        for sub in ("run", "state", "mail"):
            os.mkdir(os.path.join(self.dir, sub), 0o755)
        os.chown(os.path.join(self.dir, "mail"), self.mail_uid, self.mail_gid)
        self._write_users()

    # -- lifecycle
    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Starts Dovecot (a fresh directory the first time, the same data and
        port after kill_server()) and waits until the port greets "* OK"."""
        assert not self.running, "already running"
        if self.dir is None:
            self._prepare_dir()
            self.port, self._fixed_port = self._user_port, self._user_port is not None
        _live.add(self)
        attempts = 8 if not self._fixed_port else 1
        last = ""
        for _ in range(attempts):
            if self.port is None or (not self._fixed_port and last == "in use"):
                self.port = free_port()
            last = self._launch()
            if last == "ok":
                self._fixed_port = True  # restart() reuses it
                return self
            if last != "in use":
                break
        log = self.log_text()
        self.stop()
        raise AssertionError("Dovecot did not start (%s); log:\n%s" % (last, log[-3000:]))

    def _launch(self, timeout=None):
        timeout = self.start_timeout if timeout is None else timeout
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(self._config())
        try:
            os.unlink(os.path.join(self.dir, "run", "master.pid"))
        except FileNotFoundError:
            pass
        log_start = len(self.log_text())
        with open(os.path.join(self.dir, "dovecot.stderr"), "ab") as err:
            self.proc = subprocess.Popen([DOVECOT_BIN, "-F", "-c", self.conf_path], stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, start_new_session=True, close_fds=True)
        self._paused = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                tail = self.log_text()[log_start:]
                return "in use" if "Address already in use" in tail else "exited: " + tail.strip()[-500:]
            if self._greets():
                return "ok"
            time.sleep(0.05)
        self._kill_tree()
        return "no greeting within %ss" % timeout

    def _greets(self, timeout=2.0):
        try:
            with socket.create_connection((HOST, self.port), timeout) as raw, \
                    (client_tls_context().wrap_socket(raw) if self.tls == "imaps" else raw) as s:
                s.settimeout(timeout)
                data = b""
                while b"\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data.startswith(b"* OK") and self._token.encode() in data
        except OSError:
            return False

    def _kill_tree(self, graceful=False, timeout=5.0):
        proc = self.proc
        if proc is None:
            return
        pids = _descendants(proc.pid)
        if self._paused:
            _signal([proc.pid] + pids, signal.SIGCONT)
            self._paused = False
        if graceful and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pids = set(pids + _descendants(proc.pid))
        _signal([proc.pid] + sorted(pids), signal.SIGKILL)
        proc.wait()
        self.proc = None
        _wait_until(lambda: not [p for p in pids if _alive(p)], 5)

    def stop(self):
        """Kills Dovecot and every process it started, and removes its directory. Idempotent."""
        self._kill_tree(graceful=False)  # its data is thrown away: no need for the ~1 s clean shutdown
        _live.discard(self)
        if self.dir and os.path.isdir(self.dir):
            if os.environ.get("VT_KEEP"):
                print("keeping %s" % self.dir, file=sys.stderr)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def kill_server(self):
        """SIGKILLs Dovecot and all its processes (a crash): the port refuses
        connections; data and port are kept for restart()."""
        self._kill_tree(graceful=False)

    def restart(self, graceful=True):
        """Starts Dovecot again on the same port with the same mail, stopping it
        first if it is running (SIGTERM, ~1 s; graceful=False: SIGKILL)."""
        if self.dir is None:
            return self.start()
        if self.running:
            self._kill_tree(graceful=graceful)
        deadline = time.monotonic() + 10
        while True:
            r = self._launch()
            if r == "ok":
                return self
            if r != "in use" or time.monotonic() >= deadline:
                raise AssertionError("Dovecot did not restart on port %s (%s); log:\n%s"
                                     % (self.port, r, self.log_text()[-3000:]))
            time.sleep(0.2)

    def pause(self):
        """SIGSTOPs every Dovecot process: connections are accepted by the
        kernel but nothing ever answers (established sessions hang too)."""
        assert self.running, "not running"
        if not self._paused:
            _signal([self.proc.pid], signal.SIGSTOP)  # the master first: it spawns no one now
            _signal(_descendants(self.proc.pid), signal.SIGSTOP)
            self._paused = True

    def resume(self):
        assert self.running, "not running"
        if self._paused:
            _signal(_descendants(self.proc.pid), signal.SIGCONT)
            _signal([self.proc.pid], signal.SIGCONT)
            self._paused = False

    @property
    def paused(self):
        return self._paused

    def __enter__(self):
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- users and URLs
    def add_user(self, user, password):
        """Adds a user or changes a password (Dovecot re-reads its passwd-file);
        returns once the new credentials work."""
        self._check_user(user, password)
        self.users[user] = password
        self._write_users()
        if self.running and not self._paused:
            # Dovecot stats the file at most once a second: wait until it logs in.
            def ok():
                try:
                    self.connect(user, timeout=5).logout()
                    return True
                except imaplib.IMAP4.error:
                    return False
            if not _wait_until(ok, 5, 0.1):
                raise AssertionError("Dovecot did not pick up user %s" % user)

    def url(self, user=None, mailbox="INBOX"):
        """imap://127.0.0.1:PORT/MAILBOX (RFC 5092: the modified UTF-7 name,
        percent-encoded); user is accepted for symmetry, not put in the URL."""
        scheme = "imaps" if self.tls == "imaps" else "imap"
        return "%s://%s:%d/%s" % (scheme, HOST, self.port,
                                  urllib.parse.quote(imap_utf7_encode(mailbox), safe="/&,+-"))

    # -- IMAP helpers (each opens its own connection)
    def connect(self, user, timeout=IMAP_TIMEOUT):
        """An imaplib.IMAP4 logged in as user; the caller logs out."""
        assert self.running and not self._paused, "Dovecot is not serving (stopped or paused)"
        if self.tls == "imaps":
            m = imaplib.IMAP4_SSL(HOST, self.port, ssl_context=client_tls_context(), timeout=timeout)
        else:
            m = imaplib.IMAP4(HOST, self.port, timeout=timeout)
        try:
            if self.tls == "starttls":
                m.starttls(ssl_context=client_tls_context())
            m.login(user, self.users[user])
        except BaseException:
            m.shutdown()
            raise
        return m

    class _Session:
        def __init__(self, server, user, mailbox, readonly):
            self.server, self.user, self.mailbox, self.readonly = server, user, mailbox, readonly

        def __enter__(self):
            self.m = self.server.connect(self.user)
            if self.mailbox is not None:
                typ, data = self.m.select(_mbox(self.mailbox), readonly=self.readonly)
                if typ != "OK":
                    self.m.logout()
                    raise AssertionError("SELECT %s failed: %r" % (self.mailbox, data))
            return self.m

        def __exit__(self, *exc):
            try:
                self.m.logout()
            except Exception:  # noqa: BLE001
                self.m.shutdown()
            return False

    def session(self, user, mailbox=None, readonly=False):
        """with imap.session(user, "INBOX") as m: ... (selected, logged out afterwards)."""
        return Dovecot._Session(self, user, mailbox, readonly)

    @staticmethod
    def _ok(res, what):
        typ, data = res
        if typ != "OK":
            raise AssertionError("%s failed: %s %r" % (what, typ, data))
        return data

    def _status(self, user, mailbox, item):
        with self.session(user) as m:
            data = self._ok(m.status(_mbox(mailbox), "(%s)" % item), "STATUS %s" % mailbox)
        mm = re.search(rb"\b%s (\d+)" % item.encode(), data[0])
        return int(mm.group(1))

    def append(self, user, raw, mailbox="INBOX", flags="", date=None):
        """APPENDs raw (bytes or str) to mailbox and returns its UID.
        flags: "\\Seen", "(\\Seen \\Flagged)" or a list; date: internal date
        (datetime, epoch seconds or None for now)."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        dt = None if date is None else imaplib.Time2Internaldate(date.timestamp() if hasattr(date, "timestamp") else date)
        with self.session(user) as m:
            data = self._ok(m.append(_mbox(mailbox), _flag_list(flags) or None, dt, raw), "APPEND")
        mm = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
        assert mm, "no APPENDUID in %r" % data
        return int(mm.group(1))

    def append_many(self, user, raws, mailbox="INBOX", flags="", method="maildir"):
        """Stores many messages quickly and returns their UIDs, in order.
        method "maildir" writes the files straight into the maildir (tmp/ then
        new/, or cur/ with flags) and lets Dovecot index them: about 1 s for
        5,000. "imap" APPENDs them one by one over a single connection: about
        1 ms each into an empty mailbox, slower as it grows (27 s for 5,000
        into a mailbox of 10,000)."""
        raws = [r.encode("utf-8") if isinstance(r, str) else r for r in raws]
        if not raws:
            return []
        if method == "imap":
            fl = _flag_list(flags) or None
            uids = []
            with self.session(user) as m:
                for raw in raws:
                    data = self._ok(m.append(_mbox(mailbox), fl, None, raw), "APPEND")
                    uids.append(int(re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0]).group(1)))
            return uids
        assert method == "maildir", method
        uidnext = self._status(user, mailbox, "UIDNEXT")  # also makes Dovecot create the maildir
        path = self.mailbox_path(user, mailbox)
        wanted = _flag_list(flags).strip("()").split()
        unknown = [f for f in wanted if f.lower() not in _MAILDIR_FLAG_LETTERS]
        assert not unknown, "append_many(method='maildir') takes system flags only, not %s" % unknown
        letters = "".join(sorted(_MAILDIR_FLAG_LETTERS[f.lower()] for f in wanted))
        sub, suffix = ("cur", ":2," + letters) if letters else ("new", "")
        base, pid = int(time.time()), os.getpid()
        tag = secrets.token_hex(3)
        for i, raw in enumerate(raws):
            # sec.MusecPpidQn.host: Dovecot assigns UIDs to new files in this (time) order
            name = "%d.M%06dP%dQ%d.vt%s" % (base + i // 1000000, i % 1000000, pid, i, tag)
            tmp = os.path.join(path, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw.replace(b"\r\n", b"\n"))
            if self._root:
                os.chown(tmp, self.mail_uid, self.mail_gid)
            os.rename(tmp, os.path.join(path, sub, name + suffix))
        with self.session(user, mailbox, readonly=True) as m:
            data = self._ok(m.uid("SEARCH", None, "UID %d:*" % uidnext), "UID SEARCH")
        uids = sorted(int(x) for x in data[0].split() if int(x) >= uidnext)
        if len(uids) != len(raws):
            raise AssertionError("append_many: Dovecot indexed %d of %d messages" % (len(uids), len(raws)))
        return uids

    def uids(self, user, mailbox="INBOX"):
        with self.session(user, mailbox, readonly=True) as m:
            data = self._ok(m.uid("SEARCH", None, "ALL"), "UID SEARCH")
        return sorted(int(x) for x in data[0].split())

    def _fetch_item(self, user, uid, item, mailbox, readonly=True):
        with self.session(user, mailbox, readonly=readonly) as m:
            data = self._ok(m.uid("FETCH", str(uid), item), "UID FETCH")
        return [d for d in data if d is not None]

    def flags(self, user, uid, mailbox="INBOX"):
        """The message's flags as a set of str ({"\\Seen", ...}; \\Recent is left
        out, it depends on the session). KeyError if there is no such UID."""
        for d in self._fetch_item(user, uid, "(FLAGS)", mailbox):
            line = d[0] if isinstance(d, tuple) else d
            if re.search(rb"\bUID %d\b" % int(uid), line):
                return {f.decode() for f in imaplib.ParseFlags(line)} - {"\\Recent"}
        raise KeyError("no UID %s in %s" % (uid, mailbox))

    def fetch(self, user, uid, mailbox="INBOX"):
        """The message's raw bytes (BODY.PEEK[]: does not set \\Seen). KeyError if missing."""
        for d in self._fetch_item(user, uid, "(BODY.PEEK[])", mailbox):
            if isinstance(d, tuple) and re.search(rb"\bUID %d\b" % int(uid), d[0]):
                return d[1]
        raise KeyError("no UID %s in %s" % (uid, mailbox))

    def set_flags(self, user, uid, flags, mailbox="INBOX", mode="+"):
        """UID STORE uid {+,-,}FLAGS.SILENT flags (mode "+", "-" or "" to replace)."""
        with self.session(user, mailbox) as m:
            self._ok(m.uid("STORE", str(uid), mode + "FLAGS.SILENT", _flag_list(flags) or "()"), "UID STORE")

    def mark_seen(self, user, uid, mailbox="INBOX"):
        """Another mail client reads the message: sets \\Seen."""
        self.set_flags(user, uid, "\\Seen", mailbox)

    def delete_message(self, user, uid, mailbox="INBOX"):
        """Another client deletes the message (\\Deleted + UID EXPUNGE)."""
        with self.session(user, mailbox) as m:
            self._ok(m.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), "UID STORE")
            self._ok(m.uid("EXPUNGE", str(uid)), "UID EXPUNGE")

    def count(self, user, mailbox="INBOX"):
        return self._status(user, mailbox, "MESSAGES")

    def uidvalidity(self, user, mailbox="INBOX"):
        return self._status(user, mailbox, "UIDVALIDITY")

    def uidnext(self, user, mailbox="INBOX"):
        return self._status(user, mailbox, "UIDNEXT")

    def create_mailbox(self, user, name):
        """Creates a mailbox (non-ASCII names allowed); no error if it exists."""
        with self.session(user) as m:
            typ, data = m.create(_mbox(name))
        if typ != "OK" and b"ALREADYEXISTS" not in (data[0] or b""):
            raise AssertionError("CREATE %s failed: %r" % (name, data))

    def mailboxes(self, user):
        with self.session(user) as m:
            data = self._ok(m.list(), "LIST")
        out = []
        for line in data:
            mm = re.match(rb'\([^)]*\) (?:"[^"]*"|NIL) (.*)$', line)
            if mm:
                n = mm.group(1).decode()
                out.append(imap_utf7_decode(n[1:-1].replace('\\"', '"').replace("\\\\", "\\") if n.startswith('"') else n))
        return out

    def doveadm(self, *args, check=True):
        """Runs doveadm against this instance; returns its stdout (str)."""
        r = subprocess.run([DOVEADM_BIN, "-c", self.conf_path] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("doveadm %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                r.stderr.decode("utf-8", "replace")))
        return r.stdout.decode("utf-8", "replace")

    def mailbox_path(self, user, mailbox="INBOX"):
        """The maildir directory of a mailbox."""
        return self.doveadm("mailbox", "path", "-u", user, imap_utf7_encode(mailbox)).strip()

    def reset_uidvalidity(self, user, mailbox="INBOX", renumber=False):
        """Gives mailbox a new UIDVALIDITY, keeping its messages (and their
        flags); returns the new value. Sessions that have it selected are
        disconnected by Dovecot ("IMAP session state is inconsistent").
        renumber=True also gives every message a new UID (expunged and
        appended again with its flags and internal date)."""
        old = self.uidvalidity(user, mailbox)
        new = max(old + 1, int(time.time())) & 0xFFFFFFFF or 1
        if new == old:
            new = old - 1 or 2
        if renumber:
            with self.session(user, mailbox) as m:
                data = self._ok(m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])"), "UID FETCH")
                msgs = []
                for d in data:
                    if isinstance(d, tuple):
                        fl = [f.decode() for f in imaplib.ParseFlags(d[0])]
                        fl = [f for f in fl if f != "\\Recent"]
                        idate = imaplib.Internaldate2tuple(d[0])
                        msgs.append((fl, time.mktime(idate) if idate else None, d[1]))
                if msgs:
                    self._ok(m.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)"), "UID STORE")
                    self._ok(m.expunge(), "EXPUNGE")
        self.doveadm("mailbox", "update", "--uid-validity", str(new), "-u", user, imap_utf7_encode(mailbox))
        if renumber:
            with self.session(user) as m:
                for fl, idate, raw in msgs:
                    dt = None if idate is None else imaplib.Time2Internaldate(idate)
                    self._ok(m.append(_mbox(mailbox), _flag_list(fl) or None, dt, raw), "APPEND")
        got = self.uidvalidity(user, mailbox)
        if got == old:
            raise AssertionError("UIDVALIDITY of %s did not change (%d)" % (mailbox, old))
        return got


# ---------------------------------------------------------------------------
# SMTP sink

warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


class SmtpMessage:
    """One message the sink accepted (or, in SmtpSink.attempts, was offered)."""

    __slots__ = ("mail_from", "rcpt_tos", "raw", "msg", "auth_user", "peer", "at", "mail_options",
                 "status", "tls")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    @property
    def subject(self):
        return self.msg.get("Subject") if self.msg is not None else None

    @property
    def message_id(self):
        return self.msg.get("Message-ID") if self.msg is not None else None

    def __repr__(self):
        return "<SmtpMessage from=%r to=%r subject=%r status=%r>" % (self.mail_from, self.rcpt_tos,
                                                                     self.subject, self.status)


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self.sink._gate()
        r = self.sink._take_fault("MAIL")
        if r:
            return r
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.sink._take_fault("RCPT")
        if r:
            return r
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        status = self.sink._take_fault("DATA") or "250 OK: queued as vt-%s" % secrets.token_hex(4)
        hang = None
        if status.startswith("hang "):
            hang = float(status.split()[1])
            status = "451 4.4.2 Timeout (injected)"
        login = getattr(session, "auth_data", None)
        login = getattr(login, "login", login)
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
        except Exception:  # noqa: BLE001
            msg = None
        rec = SmtpMessage(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), raw=raw, msg=msg,
                          auth_user=login, peer=session.peer, at=time.time(),
                          mail_options=list(envelope.mail_options), status=status,
                          tls=bool(session.ssl) or server.transport.get_extra_info("ssl_object") is not None)
        self.sink._record(rec)
        if hang:
            await asyncio.sleep(hang)
        return status


class SmtpSink:
    """An SMTP server on 127.0.0.1 capturing every message it accepts.

    users: {login: password} enables AUTH PLAIN/LOGIN without TLS and, unless
    require_auth=False, requires it before MAIL (530 otherwise).
    tls="starttls" (smtp://, STARTTLS required before MAIL) or "smtps"
    (smtps://, implicit TLS) serve a fresh self-signed certificate (ca_file);
    each message records whether it came over TLS (SmtpMessage.tls)."""

    def __init__(self, users=None, require_auth=None, server_hostname="smtp.ventanilla.test", tls=None):
        assert tls in (None, "starttls", "smtps"), tls
        self.tls = tls
        self.ca_file = None
        self._tls_dir = None
        self.users = dict(users or {})
        self.require_auth = bool(self.users) if require_auth is None else require_auth
        self.server_hostname = server_hostname
        self.port = None
        self.url = None
        self._controller = None
        self._lock = threading.Lock()
        self._messages = []
        self._attempts = []
        self._faults = {"MAIL": [], "RCPT": [], "DATA": []}
        self.auth_failures = 0
        self._holding = False
        self._held = 0

    # -- lifecycle
    def start(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        assert self._controller is None, "already started"

        def authenticator(server, session, envelope, mechanism, auth_data):
            login = getattr(auth_data, "login", b"") or b""
            password = getattr(auth_data, "password", b"") or b""
            login = login.decode("utf-8", "replace") if isinstance(login, bytes) else str(login)
            password = password.decode("utf-8", "replace") if isinstance(password, bytes) else str(password)
            if login in self.users and self.users[login] == password:
                return AuthResult(success=True, auth_data=login)
            with self._lock:
                self.auth_failures += 1
            return AuthResult(success=False, handled=False)

        kw = {}
        if self.users:
            kw = dict(authenticator=authenticator, auth_require_tls=False, auth_required=self.require_auth)
        if self.tls:
            import ssl
            self._tls_dir = tempfile.mkdtemp(prefix="vt-smtp-tls-")
            cert, key = test_certificate(self._tls_dir)
            self.ca_file = cert
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            if self.tls == "starttls":
                kw.update(tls_context=ctx, require_starttls=True)
            else:
                kw.update(ssl_context=ctx)
        last = None
        for _ in range(8):
            port = free_port()
            c = Controller(_Handler(self), hostname=HOST, port=port, server_hostname=self.server_hostname,
                           ready_timeout=10, **kw)
            try:
                c.start()
            except OSError as e:  # the port was taken meanwhile
                last = e
                try:
                    c.stop(no_assert=True)
                except Exception:  # noqa: BLE001
                    pass
                continue
            self._controller = c
            self.port = port
            self.url = "%s://%s:%d" % ("smtps" if self.tls == "smtps" else "smtp", HOST, port)
            _live.add(self)
            return self
        raise AssertionError("SmtpSink could not start: %s" % last)

    def stop(self):
        """Stops serving (open sessions are cut). Idempotent."""
        c, self._controller = self._controller, None
        _live.discard(self)
        if c is not None:
            c.stop()
        if self._tls_dir:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    def __enter__(self):
        if self._controller is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- failure injection
    def fail_next(self, code=451, n=1, message=None, stage="DATA"):
        """The next n commands of stage ("DATA", "RCPT" or "MAIL") answer code
        (4xx transient, 5xx permanent). Rejected DATA still shows in attempts."""
        stage = stage.upper()
        assert stage in self._faults, stage
        code = int(code)
        assert 400 <= code <= 599, code
        if message is None:
            message = ("%d.3.0 Temporary failure (injected)" % (code // 100) if code < 500
                       else "5.7.1 Rejected (injected)")
        with self._lock:
            self._faults[stage].extend(["%d %s" % (code, message)] * n)

    def hang_next(self, seconds=30, n=1):
        """The next n DATA commands get no answer for seconds (then 451):
        for the daemon's SMTP timeout. stop() cuts them short."""
        with self._lock:
            self._faults["DATA"].extend(["hang %s" % float(seconds)] * n)

    def hold(self):
        """From now on each MAIL command waits, unanswered, until release(): a
        provider that stopped answering for a while. Nothing of a held message
        has been sent yet, so a client that dies while held sent nothing (its
        session ends, cancelled, and is never recorded)."""
        with self._lock:
            self._holding = True

    def release(self):
        with self._lock:
            self._holding = False

    @property
    def held(self):
        """How many MAIL commands are waiting for release() now."""
        with self._lock:
            return self._held

    async def _gate(self):
        with self._lock:
            if not self._holding:
                return
            self._held += 1
        try:
            while True:
                await asyncio.sleep(0.02)
                with self._lock:
                    if not self._holding:
                        return
        finally:
            with self._lock:
                self._held -= 1

    def _take_fault(self, stage):
        with self._lock:
            q = self._faults[stage]
            return q.pop(0) if q else None

    def reset(self):
        """Forgets captured messages and pending failures."""
        with self._lock:
            self._messages.clear()
            self._attempts.clear()
            for q in self._faults.values():
                q.clear()
            self.auth_failures = 0

    # -- inspection
    def _record(self, rec):
        with self._lock:
            self._attempts.append(rec)
            if rec.status.startswith("2"):
                self._messages.append(rec)

    @property
    def attempts(self):
        """Every DATA the sink received, accepted or refused (see .status)."""
        with self._lock:
            return list(self._attempts)

    def messages(self, to=None):
        """Accepted messages, oldest first; to filters by envelope recipient (case-insensitive)."""
        with self._lock:
            msgs = list(self._messages)
        if to is None:
            return msgs
        to = to.lower()
        return [m for m in msgs if to in (r.lower() for r in m.rcpt_tos)]

    def summary(self, limit=40):
        a = self.attempts
        lines = ["%d DATA attempt(s) recorded:" % len(a)]
        for r in a[-limit:]:
            lines.append("  %s -> %s  %r  [%s]" % (r.mail_from, ",".join(r.rcpt_tos), r.subject, r.status))
        return "\n".join(lines)

    def wait_for(self, pred, timeout=60, interval=0.05, what=None):
        """Polls pred() until it returns something truthy and returns that;
        raises AssertionError with a summary of the attempts on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() >= deadline:
                raise AssertionError("SmtpSink.wait_for: %s not true within %ss\n%s"
                                     % (what or getattr(pred, "__name__", "condition"), timeout, self.summary()))
            time.sleep(interval)


# ---------------------------------------------------------------------------
# Self-test


def _sample(n=0, subject="Petición de información", to="atencionalciudadano@entidad.gov.co"):
    m = email.message.EmailMessage()
    m["From"] = "María Pérez <maria.perez@example.org>"
    m["To"] = to
    m["Subject"] = "%s %d" % (subject, n)
    m["Date"] = email.utils.formatdate(localtime=True)
    m["Message-ID"] = "<sample-%d-%s@example.org>" % (n, secrets.token_hex(4))
    m.set_content("Buenos días, solicito información sobre el trámite número %d. ¿Cuándo?\n" % n)
    return m.as_bytes(policy=email.policy.SMTP)


def _self_test():
    import smtplib

    groups = set()  # process groups of the Dovecots started here (others may run their own)

    def started(server):
        groups.add(server.proc.pid)
        return server

    def dovecot_procs():
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit() and _alive(int(p)):
                try:
                    with open("/proc/%s/stat" % p, "rb") as f:
                        st = f.read()
                except OSError:
                    continue
                if int(st[st.rfind(b")") + 2:].split()[2]) in groups:
                    out.append((int(p), st[:st.rfind(b")") + 1].decode(errors="replace")))
        return out

    timings = {}
    t0 = time.monotonic()
    d = Dovecot()
    started(d.start())
    timings["dovecot start"] = time.monotonic() - t0
    ddir = d.dir
    try:
        assert d.url("atencion") == "imap://127.0.0.1:%d/INBOX" % d.port
        assert d.url("atencion", "Quejas").endswith("/Quejas")
        assert d.url("atencion", "Archivo/Peticiones atendidas ñ").endswith("/Archivo/Peticiones%20atendidas%20&APE-")
        raw = _sample(1)
        uid = d.append("atencion", raw)
        assert uid == 1, uid
        assert d.uids("atencion") == [1]
        assert d.count("atencion") == 1
        assert d.flags("atencion", uid) == set(), d.flags("atencion", uid)
        got = d.fetch("atencion", uid)
        assert email.message_from_bytes(got, policy=email.policy.default)["Subject"] == "Petición de información 1"
        assert d.flags("atencion", uid) == set(), "fetch must not set \\Seen"
        d.mark_seen("atencion", uid)
        assert d.flags("atencion", uid) == {"\\Seen"}
        uid2 = d.append("atencion", _sample(2), flags="\\Flagged")
        assert uid2 == 2 and d.flags("atencion", uid2) == {"\\Flagged"}
        try:
            d.flags("atencion", 99)
            raise AssertionError("flags of a missing UID")
        except KeyError:
            pass
        d.delete_message("atencion", uid2)
        assert d.uids("atencion") == [1]
        # mailboxes with non-ASCII names
        d.create_mailbox("atencion", "Archivo/Peticiones atendidas ñ")
        d.create_mailbox("atencion", "Archivo/Peticiones atendidas ñ")  # exists: no error
        assert "Archivo/Peticiones atendidas ñ" in d.mailboxes("atencion"), d.mailboxes("atencion")
        u3 = d.append("atencion", _sample(3), mailbox="Archivo/Peticiones atendidas ñ")
        assert d.uids("atencion", "Archivo/Peticiones atendidas ñ") == [u3]
        # UIDVALIDITY reset, with a session holding INBOX selected
        v0 = d.uidvalidity("atencion")
        held = d.connect("atencion")
        held.select("INBOX")
        v1 = d.reset_uidvalidity("atencion")
        assert v1 != v0 and d.uidvalidity("atencion") == v1
        assert d.uids("atencion") == [1] and d.flags("atencion", 1) == {"\\Seen"}
        try:
            held.noop()
            held.noop()
            raise AssertionError("the selected session survived the UIDVALIDITY change")
        except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
            pass
        held.shutdown()
        v2 = d.reset_uidvalidity("atencion", renumber=True)
        assert v2 not in (v0, v1)
        assert d.count("atencion") == 1 and d.uids("atencion") != [1], d.uids("atencion")
        nu = d.uids("atencion")[0]
        assert d.flags("atencion", nu) == {"\\Seen"}, d.flags("atencion", nu)
        assert d.fetch("atencion", nu).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
        # wrong password, new user
        try:
            m = imaplib.IMAP4(HOST, d.port, timeout=5)
            m.login("atencion", "mala")
            raise AssertionError("bad password accepted")
        except imaplib.IMAP4.error:
            m.shutdown()
        t = time.monotonic()
        d.add_user("radicacion", "otra-clave")
        assert d.count("radicacion") == 0
        d.add_user("radicacion", "otra-clavf")  # same length, same second
        assert d.count("radicacion") == 0
        timings["add_user x2"] = time.monotonic() - t
        m = imaplib.IMAP4(HOST, d.port, timeout=5)
        try:
            m.login("radicacion", "otra-clave")
            raise AssertionError("old password accepted")
        except imaplib.IMAP4.error:
            m.shutdown()
        t = time.monotonic()
        d.count("atencion")
        assert time.monotonic() - t < 1, "auth penalty after failed logins"

        # bulk load
        raws = [(b"From: =?utf-8?q?Mar=C3=ADa_P=C3=A9rez?= <maria.perez@example.org>\r\n"
                 b"To: atencionalciudadano@entidad.gov.co\r\nSubject: Carga masiva %d\r\n"
                 b"Date: Mon, 02 Feb 2026 10:00:00 -0500\r\nMessage-ID: <bulk-%d@example.org>\r\n"
                 b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                 b"Solicito informaci\xc3\xb3n sobre el tr\xc3\xa1mite %d.\r\n") % (i, i, i) for i in range(5000)]
        t = time.monotonic()
        bulk = d.append_many("atencion", raws)
        timings["append_many 5000 (maildir)"] = time.monotonic() - t
        assert len(bulk) == 5000 and bulk == sorted(bulk) and d.count("atencion") == 5001
        for i in (0, 1, 2500, 4999):
            s = email.message_from_bytes(d.fetch("atencion", bulk[i]), policy=email.policy.default)["Subject"]
            assert s == "Carga masiva %d" % i, (i, s)
        with d.session("atencion", "INBOX", readonly=True) as m:
            data = m.uid("FETCH", "%d:*" % bulk[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1]
        subs = [x[1].decode().split(" ")[-1].strip() for x in data if isinstance(x, tuple)]
        assert subs == [str(i) for i in range(5000)], "bulk order"
        d.create_mailbox("atencion", "Bulk")
        t = time.monotonic()
        b2 = d.append_many("atencion", raws[:500], mailbox="Bulk", method="imap")
        timings["append_many 500 (imap)"] = time.monotonic() - t
        assert len(b2) == 500 and d.count("atencion", "Bulk") == 500
        b3 = d.append_many("atencion", raws[:3], mailbox="Bulk", flags="\\Seen")
        assert d.flags("atencion", b3[0], "Bulk") == {"\\Seen"}
        t = time.monotonic()
        d.uids("atencion")
        timings["uids() of 5001"] = time.monotonic() - t

        # pause / resume
        d.pause()
        s = socket.create_connection((HOST, d.port), 2)  # the kernel accepts ...
        s.settimeout(0.5)
        try:
            s.recv(10)
            raise AssertionError("paused server answered")
        except socket.timeout:
            pass  # ... but nobody greets
        d.resume()
        s.settimeout(5)
        assert s.recv(100).startswith(b"* OK")  # the queued connection is served after resume
        s.close()
        assert d.count("atencion") == 5001

        # kill / restart on the same port, data kept
        port = d.port
        d.kill_server()
        assert not d.running
        try:
            socket.create_connection((HOST, port), 1).close()
            raise AssertionError("killed server still accepts")
        except ConnectionRefusedError:
            pass
        assert dovecot_procs() == [], dovecot_procs()
        t = time.monotonic()
        started(d.restart())
        timings["restart"] = time.monotonic() - t
        assert d.port == port and d.count("atencion") == 5001
        started(d.restart())  # while running
        assert d.port == port and d.uids("atencion")[-1] == bulk[-1]

        # second instance side by side
        with Dovecot({"otro": "x"}) as d2:
            started(d2)
            assert d2.port != d.port and d2.append("otro", raw) == 1
    finally:
        t = time.monotonic()
        d.stop()
        timings["dovecot stop"] = time.monotonic() - t
    assert not os.path.exists(ddir)
    assert dovecot_procs() == [], dovecot_procs()
    d.stop()  # idempotent
    started(d.start())  # a stopped server starts afresh: new directory, empty mailboxes
    assert d.count("atencion") == 0 and d.dir != ddir
    d.stop()
    assert dovecot_procs() == [], dovecot_procs()

    # SMTP sink
    with SmtpSink() as sink:
        assert sink.url == "smtp://127.0.0.1:%d" % sink.port
        with smtplib.SMTP(HOST, sink.port, timeout=5) as c:
            c.ehlo("ventanilla.test")
            assert not c.has_extn("auth")
            c.sendmail("atencionalciudadano@entidad.gov.co", ["ciudadano@example.org", "copia@example.net"],
                       _sample(10, "Radicado 2026-000001", to="ciudadano@example.org"))
            m = sink.wait_for(lambda: sink.messages(to="CIUDADANO@example.org"), 5)[0]
            assert m.mail_from == "atencionalciudadano@entidad.gov.co"
            assert m.rcpt_tos == ["ciudadano@example.org", "copia@example.net"]
            assert m.msg["Subject"] == "Radicado 2026-000001 10" and m.subject == m.msg["Subject"]
            assert "trámite número 10" in m.msg.get_body().get_content()
            assert m.raw.startswith(b"From: ") and m.auth_user is None
            assert sink.messages(to="nadie@example.org") == []
            # failure injection
            sink.fail_next(451)
            try:
                c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(11))
                raise AssertionError("451 not injected")
            except smtplib.SMTPDataError as e:
                assert e.smtp_code == 451, e
            sink.fail_next(554, n=2)
            for _ in range(2):
                try:
                    c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(12))
                    raise AssertionError("554 not injected")
                except smtplib.SMTPDataError as e:
                    assert e.smtp_code == 554, e
            c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(13))
            sink.fail_next(550, stage="RCPT")
            try:
                c.sendmail("a@entidad.gov.co", ["y@example.org"], _sample(14))
                raise AssertionError("RCPT 550 not injected")
            except smtplib.SMTPRecipientsRefused:
                c.rset()
            assert len(sink.messages(to="x@example.org")) == 1
            assert [a.status[:3] for a in sink.attempts] == ["250", "451", "554", "554", "250"]
            # SMTPUTF8 / 8-bit
            c.sendmail("a@entidad.gov.co", ["josé@example.org"], _sample(15, to="josé@example.org"),
                       mail_options=["SMTPUTF8"])
            assert sink.messages(to="josé@example.org")
        try:
            sink.wait_for(lambda: False, timeout=0.2, what="never")
            raise AssertionError("wait_for did not time out")
        except AssertionError as e:
            assert "never" in str(e) and "DATA attempt(s)" in str(e)
        # a hung DATA does not block stop()
        sink.hang_next(30)
        errs = []

        def hung():
            try:
                with smtplib.SMTP(HOST, sink.port, timeout=20) as c2:
                    c2.sendmail("a@entidad.gov.co", ["z@example.org"], _sample(16))
            except Exception as e:  # noqa: BLE001
                errs.append(e)

        th = threading.Thread(target=hung)
        th.start()
        sink.wait_for(lambda: len(sink.attempts) == 7, 5)
        t = time.monotonic()
        sink.stop()
        assert time.monotonic() - t < 3
        th.join(10)
        assert not th.is_alive() and errs, errs
        sink.reset()
        assert sink.messages() == [] and sink.attempts == []

    # SMTP AUTH
    with SmtpSink(users={"ventanilla": "s3creta"}) as sink:
        with smtplib.SMTP(HOST, sink.port, timeout=5) as c:
            c.ehlo()
            assert c.has_extn("auth") and "PLAIN" in c.esmtp_features["auth"] and "LOGIN" in c.esmtp_features["auth"]
            try:
                c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(20))
                raise AssertionError("unauthenticated MAIL accepted")
            except smtplib.SMTPSenderRefused as e:
                assert e.smtp_code == 530, e
            try:
                c.login("ventanilla", "mala")
                raise AssertionError("bad password accepted")
            except smtplib.SMTPAuthenticationError:
                pass
            assert sink.auth_failures >= 1  # smtplib tries PLAIN, then LOGIN
            c.login("ventanilla", "s3creta")
            c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(21))
        with smtplib.SMTP(HOST, sink.port, timeout=5) as c:
            c.ehlo()
            c.user, c.password = "ventanilla", "s3creta"
            c.auth("LOGIN", c.auth_login)
            c.sendmail("a@entidad.gov.co", ["x@example.org"], _sample(22))
        msgs = sink.messages()
        assert [m.auth_user for m in msgs] == ["ventanilla", "ventanilla"], msgs

    for k, v in timings.items():
        print("  %-28s %.3f s" % (k, v))
    print("mailservers self-test ok")


if __name__ == "__main__":
    _self_test()
    sys.exit(0)
