#!/usr/bin/python3
"""bench/live_load.py - open-loop paced intake generator for bench/live.

POSTs distinct JSON PQRSD to /api/v1/items at a fixed rate over keep-alive
HTTP/1.1 connections (Python standard library, asyncio). Request i is due at
t0 + i/RATE whatever happened to the earlier ones (open loop): it goes out on
an idle connection at its due time, so a slow answer does not slow the rate as
long as there are idle connections (each connection carries one request at a
time; --conns of them). Requests that found no idle connection at their due
time are counted (`late`).

Writes one line per request to --out:
    index radicado t_due t_sent t_answer status
times in seconds of CLOCK_MONOTONIC (time.monotonic), the clock bench/live's
clients stamp their events with; radicado is '-' when the answer was not a
201. Prints one summary line, `LOAD key=value ...`.

    live_load.py --port PORT --rate 1000 --seconds 20 --out FILE [--conns 64]
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time


def body(i, tag):
    return json.dumps({
        "kind": "pqrsd",
        "type": ("peticion", "queja", "reclamo", "sugerencia", "denuncia")[i % 5],
        "subject": "Solicitud de prueba en vivo %s-%d" % (tag, i),
        "body": "Solicito copia del contrato de obra número %d del municipio (%s)." % (i, tag),
        "requester": {"person_type": "natural", "name": "Persona Prueba %d" % i,
                      "email": "p%d.%s@correo.example.com" % (i, tag)},
        "data_consent": True,
    }, ensure_ascii=False).encode()


class Conn:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer


async def request(conn, host, port, payload):
    head = ("POST /api/v1/items HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (host, port, len(payload))).encode()
    conn.writer.write(head + payload)
    t_sent = time.monotonic()
    raw = await conn.reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, close = 0, False
    for h in lines[1:]:
        k, _, v = h.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v)
        elif k == "connection" and "close" in v.lower():
            close = True
        elif k == "transfer-encoding":
            raise RuntimeError("chunked answer not expected")
    data = await conn.reader.readexactly(length) if length else b""
    return t_sent, time.monotonic(), status, data, close


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tag = "%x" % (int(time.time() * 1000) ^ os.getpid())
    total = int(a.rate * a.seconds)
    payloads = [body(i, tag) for i in range(total)]

    idle = asyncio.Queue()
    for _ in range(a.conns):
        r, w = await asyncio.open_connection(a.host, a.port)
        idle.put_nowait(Conn(r, w))
    rows = [None] * total
    late = errors = 0
    tasks = set()

    async def one(i, t_due, conn):
        nonlocal errors
        try:
            t_sent, t_ans, status, data, close = await request(conn, a.host, a.port, payloads[i])
        except (OSError, asyncio.IncompleteReadError, ValueError, RuntimeError) as e:
            errors += 1
            rows[i] = (t_due, time.monotonic(), 0.0, 0, "-")
            print("live_load: request %d failed: %r" % (i, e), file=sys.stderr)
            conn.writer.close()
            try:
                r, w = await asyncio.open_connection(a.host, a.port)
                idle.put_nowait(Conn(r, w))
            except OSError:
                pass
            return
        rad = "-"
        if status == 201:
            rad = json.loads(data)["radicado"]
        rows[i] = (t_due, t_sent, t_ans, status, rad)
        if close:
            conn.writer.close()
            r, w = await asyncio.open_connection(a.host, a.port)
            conn = Conn(r, w)
        idle.put_nowait(conn)

    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    t0 = time.monotonic() + 0.05
    i = 0
    while i < total:
        now = time.monotonic()
        # Every request already due goes out now (catch-up after a late wake-up).
        while i < total and t0 + i / a.rate <= now:
            t_due = t0 + i / a.rate
            if idle.empty():
                late += 1
            conn = await idle.get()
            t = asyncio.ensure_future(one(i, t_due, conn))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
            i += 1
            now = time.monotonic()
        if i < total:
            await asyncio.sleep(max(0.0, t0 + i / a.rate - time.monotonic()))
    if tasks:
        await asyncio.wait(tasks)
    cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0
    while not idle.empty():
        idle.get_nowait().writer.close()

    with open(a.out, "w") as f:
        for n, (t_due, t_sent, t_ans, status, rad) in enumerate(rows):
            f.write("%d %s %.6f %.6f %.6f %d\n" % (n, rad, t_due, t_sent, t_ans, status))
    sent = [r[1] for r in rows]
    created = sum(1 for r in rows if r[3] == 201)
    other = sum(1 for r in rows if r[3] not in (0, 201))
    span = max(sent) - min(sent)
    achieved = (total - 1) / span if span > 0 else 0.0
    lat = sorted(r[2] - r[0] for r in rows if r[3] == 201)
    sendlag = sorted(r[1] - r[0] for r in rows)

    def pct(v, p):
        return v[min(len(v) - 1, int(len(v) * p / 100))] * 1000 if v else 0.0

    print("LOAD requests=%d created=%d other=%d errors=%d late=%d achieved=%.1f span=%.3f "
          "t_first=%.6f t_last=%.6f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f sendlag_p99_ms=%.2f "
          "sendlag_max_ms=%.2f cpu=%.2f wall=%.3f"
          % (total, created, other, errors, late, achieved, span, min(sent), max(sent),
             pct(lat, 50), pct(lat, 99), (lat[-1] * 1000 if lat else 0), pct(sendlag, 99),
             sendlag[-1] * 1000, cpu, max(r[2] for r in rows) - t0))
    return 0 if errors == 0 and other == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
