"""bench/hearing_run.py - the driver of bench/hearing (see that script).

Starts a daemon (tests/integration/harness.py's Daemon: its own temporary
directory, intake rate limit high), adds an agente and a moderador, creates
an open hearing, starts bench/live_client.c (wall mode) with VIEWERS wall viewers and
waits for each one's first wall, then files QUESTIONS questions paced evenly
over SECONDS (open loop): the even ones through the web page POST
/audiencia/{code} (urlencoded text/name/show_name), the odd ones as WhatsApp
conversations of signed webhook deliveries against a FakeGraph (--whatsapp 1,
the default: the radicado is read from the ack) or, with --whatsapp 0,
through the staff entry API POST /api/v1/hearings/{code}/questions (the
agente). Every question goes to the moderador,
who approves it (POST .../questions/{radicado}/moderate, MODS connections in
parallel) as it arrives. Every stamp is time.monotonic() (CLOCK_MONOTONIC,
the clients' clock). Then it tells the viewers to stop (SIGUSR1), they read
until QUIET seconds without a frame (or CAP seconds), and the client's
analyzer gives the delay from each approve's 200 to each viewer's first
sighting of that question on the wall.
"""
import argparse
import datetime
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
import fake_graph  # noqa: E402
import wa  # noqa: E402

RADICADO_IN_ACK = re.compile(r"Radicado: \*([^*\s]+)\*")


class Replies:
    """The fake Graph's message POSTs by recipient, read incrementally by one
    thread (scanning the whole request list per wait would eat the GIL)."""

    def __init__(self, graph):
        self.g = graph
        self.seen = 0
        self.by = {}
        self.cv = threading.Condition()
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        # A request is recorded before it is answered (status None until
        # then): the cursor stops at the first one not answered yet.
        while not self.stop:
            with self.g._lock:
                new = self.g._requests[self.seen:]
            done = []
            for r in new:
                if r["status"] is None:
                    break
                done.append(r)
            self.seen += len(done)
            if done:
                with self.cv:
                    for r in done:
                        if r["kind"] == "message" and 200 <= r["status"] < 300:
                            to = str((r["json"] or {}).get("to", "")).lstrip("+")
                            self.by.setdefault(to, []).append(r["json"])
                    self.cv.notify_all()
            time.sleep(0.005)

    def count(self, num):
        with self.cv:
            return len(self.by.get(num, []))

    def wait(self, num, n, timeout=30):
        end = time.monotonic() + timeout
        with self.cv:
            while len(self.by.get(num, [])) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no reply %d to %s" % (n, num))
                self.cv.wait(left)
            return self.by[num][n - 1]

RADICADO_RE = re.compile(r'id="radicado">([^<]+)<')
CODE = "bench_muro"


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


class Conn:
    def __init__(self, port):
        self.port = port
        self.c = None

    def req(self, method, path, body, headers):
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.c.request(method, path, body, headers)
                r = self.c.getresponse()
                data = r.read()
                if (r.getheader("connection") or "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (ConnectionError, http.client.HTTPException, OSError):
                if self.c is not None:
                    self.c.close()
                self.c = None
                if attempt:
                    raise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--viewers", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--client", required=True)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--filers", type=int, default=32)
    ap.add_argument("--mods", type=int, default=4)
    ap.add_argument("--quiet", type=float, default=5)
    ap.add_argument("--cap", type=float, default=120)
    ap.add_argument("--out", required=True)
    ap.add_argument("--whatsapp", type=int, default=1)
    a = ap.parse_args()

    # Every viewer comes from 127.0.0.1: no per-address connection cap.
    cfg = {"store": {"batch_max": 4096}, "staff": {"login_per_minute": 10000},
           "server": {"max_connections_per_ip": 0}}
    graph = replies = None
    if a.whatsapp:
        graph = fake_graph.FakeGraph().start()
        cfg = H.deep_merge(wa.config(graph), cfg)
    d = H.Daemon(cfg, name="bench-hearing")
    S.add_user(d, "ag", "agente")
    S.add_user(d, "mo", "moderador")
    d.start()
    if graph is not None:
        replies = Replies(graph)
    cpid = None
    try:
        ag, mo = S.Staff(d, "ag"), S.Staff(d, "mo")
        now = int(time.time() * 1000)
        today = datetime.date.today()
        r = mo.post("/api/v1/hearings", {
            "code": CODE, "name": "Rendición de cuentas (bench)", "date": (today + datetime.timedelta(days=30)).isoformat(),
            "place": "Auditorio", "convoked_on": today.isoformat(),
            "questions_open_at": now - 60000, "questions_close_at": now + 6 * 3600 * 1000})
        assert r.status == 201, r
        outdir = os.path.join(a.out, "clients")
        os.makedirs(outdir, exist_ok=True)
        cout = open(os.path.join(a.out, "clients.out"), "w")
        cerr = open(os.path.join(a.out, "clients.err"), "w")
        cp = subprocess.Popen([a.client, "run", "127.0.0.1", str(d.port), str(a.viewers), str(a.procs),
                               str(a.questions + 1000), str(a.quiet), outdir, CODE, str(a.cap)],
                              stdout=cout, stderr=cerr)
        cpid = cp.pid
        t_ready = time.monotonic() + 120
        while time.monotonic() < t_ready:
            with open(os.path.join(a.out, "clients.out")) as f:
                txt = f.read()
            if "READY" in txt or cp.poll() is not None:
                break
            time.sleep(0.05)
        print("viewers:            %s" % (txt.strip() or "(not ready)"), flush=True)
        if "READY" not in txt:
            raise SystemExit("viewers did not connect")

        mq = queue.Queue()
        intake = []  # (i, channel, t_sent, t_ans, status, radicado)
        approves = []  # (i, radicado, t_201, t_sent, t_ans, status)
        lock = threading.Lock()
        t0 = time.monotonic() + 0.5
        step = a.seconds / a.questions
        nxt = [0]

        def filer():
            c = Conn(d.port)
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= a.questions:
                    return
                due = t0 + i * step
                dt = due - time.monotonic()
                if dt > 0:
                    time.sleep(dt)
                ts = time.monotonic()
                rad, status = None, 0
                try:
                    if i % 2 == 0:
                        f = {"text": "Pregunta web %d: ¿cuánto se invirtió en la vereda %d?" % (i, i % 97),
                             "name": "Ciudadana %d" % i}
                        if i % 4 == 0:
                            f["show_name"] = "si"
                        status, body = c.req("POST", "/audiencia/%s" % CODE, urllib.parse.urlencode(f),
                                             {"Content-Type": "application/x-www-form-urlencoded"})
                        m = RADICADO_RE.search(body.decode("utf-8", "replace"))
                        rad = m.group(1) if m and status == 201 else None
                    elif a.whatsapp:
                        num = "57310%07d" % i
                        n0 = replies.count(num)
                        steps = [wa.text(num, "Hola"), wa.list_reply(num, "menu.hearing", "Audiencia pública"),
                                 wa.text(num, "Pregunta por WhatsApp %d: ¿qué pasó con el parque %d?" % (i, i % 89)),
                                 wa.button_reply(num, "hq.name", "Sí, con mi nombre") if i % 4 == 1
                                 else wa.button_reply(num, "hq.anon", "Sin nombre")]
                        for k, m in enumerate(steps):
                            body = wa.serialize(wa.delivery([m]))
                            status, _ = c.req("POST", wa.WEBHOOK_PATH, body,
                                              {"Content-Type": "application/json",
                                               "X-Hub-Signature-256": wa.sign(wa.SECRET, body)})
                            if status != 200:
                                break
                            doc = replies.wait(num, n0 + k + 1)
                        if status == 200:
                            mm = RADICADO_IN_ACK.search(json.dumps(doc, ensure_ascii=False))
                            rad = mm.group(1) if mm else None
                            status = 201 if rad else 599
                    else:
                        body = json.dumps({"text": "Pregunta del buzón %d sobre el hospital" % i, "source": "buzon"})
                        status, data = c.req("POST", "/api/v1/hearings/%s/questions" % CODE, body,
                                             ag.headers({"Content-Type": "application/json",
                                                         "X-CSRF-Token": ag.csrf}))
                        rad = json.loads(data)["radicado"] if status == 201 else None
                except Exception as e:  # noqa: BLE001
                    print("intake %d failed: %r" % (i, e), file=sys.stderr)
                ta = time.monotonic()
                with lock:
                    intake.append((i, "web" if i % 2 == 0 else ("whatsapp" if a.whatsapp else "staff"), ts, ta, status, rad))
                if rad:
                    mq.put((i, rad, ta))

        def moderator():
            c = Conn(d.port)
            while True:
                job = mq.get()
                if job is None:
                    return
                i, rad, t201 = job
                ts = time.monotonic()
                try:
                    status, _ = c.req("POST", "/api/v1/hearings/%s/questions/%s/moderate" % (CODE, rad),
                                      json.dumps({"action": "approve"}),
                                      mo.headers({"Content-Type": "application/json", "X-CSRF-Token": mo.csrf}))
                except Exception as e:  # noqa: BLE001
                    print("approve %s failed: %r" % (rad, e), file=sys.stderr)
                    status = 0
                ta = time.monotonic()
                with lock:
                    approves.append((i, rad, t201, ts, ta, status))

        fs = [threading.Thread(target=filer) for _ in range(a.filers)]
        ms = [threading.Thread(target=moderator) for _ in range(a.mods)]
        for t in fs + ms:
            t.start()
        for t in fs:
            t.join()
        t_intake_end = time.monotonic()
        for _ in ms:
            mq.put(None)
        for t in ms:
            t.join()
        t_mod_end = time.monotonic()
        cp.send_signal(signal.SIGUSR1)
        cp.wait()
        cpid = None
        t_viewers_end = time.monotonic()

        ok = [x for x in intake if x[4] == 201]
        lat = [(x[3] - x[2]) * 1000 for x in ok]
        span = max(x[3] for x in ok) - min(x[2] for x in ok) if ok else float("nan")
        bych = {ch: sum(1 for x in ok if x[1] == ch) for ch in ("web", "staff", "whatsapp")}
        other = {}
        for x in intake:
            if x[4] != 201:
                other[x[4]] = other.get(x[4], 0) + 1
        print("intake:             %d asked over %.0f s, %d 201 (web page %d, staff entry %d, WhatsApp %d), other %s"
              % (a.questions, a.seconds, len(ok), bych["web"], bych["staff"], bych["whatsapp"], other or "none"))
        print("intake rate:        %.1f questions/s achieved (first send to last 201: %.2f s); "
              "201 latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (len(ok) / span, span, pct(lat, 50), pct(lat, 99), max(lat) if lat else float("nan")))
        aok = [x for x in approves if x[5] == 200]
        alat = [(x[4] - x[3]) * 1000 for x in aok]
        awaitq = [(x[3] - x[2]) * 1000 for x in aok]
        print("approvals:          %d 200 of %d (other %s); approve latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
              "201-to-approve-sent p50 %.1f ms p99 %.1f ms; last approve %.2f s after the last intake"
              % (len(aok), len(approves), sorted(set(x[5] for x in approves) - {200}) or "none",
                 pct(alat, 50), pct(alat, 99), max(alat) if alat else float("nan"),
                 pct(awaitq, 50), pct(awaitq, 99), t_mod_end - t_intake_end))
        print("viewers drained:    %.2f s after the last approve" % (t_viewers_end - t_mod_end))
        # The analyzer's load file: t_ans is the approve's 200.
        with open(os.path.join(a.out, "approves.txt"), "w") as f:
            for (i, rad, t201, ts, ta, st) in approves:
                f.write("%d %s %.6f %.6f %.6f %d\n" % (i, rad, t201, ts, ta, st))
        with open(os.path.join(a.out, "intake.txt"), "w") as f:
            for x in intake:
                f.write("%d %s %.6f %.6f %d %s\n" % x)
        n_db = d.scalar("SELECT count(*) FROM hearing_questions q WHERE q.status = 'aprobada'")
        print("store:              %d questions aprobada" % n_db)
        lines = [ln for ln in d.lines if "level=warn" in ln.lower() or "level=error" in ln.lower()]
        print("daemon warn/error:  %d lines%s" % (len(lines), (": " + lines[-1][:200]) if lines else ""))
    finally:
        if cpid:
            try:
                os.kill(cpid, signal.SIGTERM)
            except OSError:
                pass
        S.stop_and_cleanup(d)
        if replies is not None:
            replies.stop = True
        if graph is not None:
            graph.stop()


if __name__ == "__main__":
    main()
