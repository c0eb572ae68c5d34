"""bench/email_run.py - the body of bench/email (run that, it builds first).

Loads COUNT distinct Spanish citizen e-mails into the INBOX of a private
Dovecot (tests/integration/mailservers.py), starts `ventanilla serve` on a
fresh data directory with the email channel polling it and sending its
acknowledgements to a private SmtpSink, and measures:

  taken in:      daemon start -> email_messages holds COUNT rows
  acknowledged:  daemon start -> the sink accepted COUNT acknowledgements

Then it checks the result: COUNT items with channel 'email', every
Message-ID taken in exactly once as 'filed' with the type its subject
selects, every attachment linked, and exactly one acknowledgement per
sender, addressed to that sender, with its item's radicado in the Subject
and In-Reply-To naming the citizen's message.

Only the standard library and the mailservers module (python3-aiosmtpd).

    /usr/bin/python3 bench/email_run.py --bin build/ventanilla [--count 5000]
        [--timeout 900] [--stall 30] [--perf SECONDS] [--keep]
"""

import argparse
import datetime
import email
import email.header
import email.headerregistry
import email.message
import email.policy
import email.utils
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402  (minimal_pdf)
import mailservers  # noqa: E402

ENTITY = "atencionalciudadano@entidad.gov.co"
USER, PASSWORD = "atencion", "clave-bench"
BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))

# ---------------------------------------------------------------------------
# The messages: distinct senders and Message-IDs, subjects that select types.

NOMBRES = ["María", "José", "Luis", "Ana", "Carlos", "Diana", "Jorge", "Paola", "Andrés", "Luz Marina",
           "Juan Camilo", "Sandra", "Óscar", "Natalia", "Hernán", "Yolanda", "Fabián", "Ángela", "Wilson",
           "Catalina", "Édgar", "Marleny", "Julián", "Claudia", "Sebastián", "Gloria", "Mauricio", "Leidy",
           "Iván", "Rocío", "Nelson", "Esperanza", "Camilo", "Yaneth", "Álvaro", "Ximena", "Germán", "Nubia"]
APELLIDOS = ["Rodríguez", "Gómez", "González", "Martínez", "García", "López", "Hernández", "Sánchez",
             "Ramírez", "Pérez", "Díaz", "Muñoz", "Rojas", "Moreno", "Jiménez", "Vargas", "Castro", "Ortiz",
             "Quintero", "Cárdenas", "Ospina", "Zapata", "Restrepo", "Peña", "Salazar", "Arango", "Mejía",
             "Cifuentes", "Londoño", "Betancur", "Ibáñez", "Montoya", "Suárez", "Velásquez", "Chaparro"]
DOMINIOS = ["gmail.com", "hotmail.com", "outlook.com", "yahoo.es", "yahoo.com", "une.net.co",
            "outlook.es", "live.com", "etb.net.co", "correo.unal.edu.co"]
BARRIOS = ["Chapinero", "Kennedy", "Suba", "Bosa", "Usaquén", "Engativá", "Fontibón", "Ciudad Bolívar",
           "La Candelaria", "Teusaquillo", "San Cristóbal", "Tunjuelito", "Los Mártires", "Puente Aranda"]
TEMAS = ["el subsidio de vivienda", "la convocatoria de becas", "el programa de adulto mayor",
         "los horarios de atención", "el estado de mi trámite de licencia", "el impuesto predial",
         "la inscripción al SISBÉN", "el certificado de residencia", "la jornada de vacunación",
         "el comedor comunitario", "la tarifa del servicio de aseo", "el plan de ordenamiento territorial"]
DOCS = ["el contrato de alumbrado público", "el acta de la audiencia pública", "mi historia laboral",
        "la resolución de mi pensión", "el plano del predio", "el informe de gestión del último año"]
PROBLEMAS = ["la mala atención en la ventanilla", "la demora en la respuesta", "el trato de un funcionario",
             "el cierre sin aviso de la oficina", "las filas en la sede principal",
             "la falta de información en la página web"]
COBROS = ["un cobro doble en el impuesto predial", "una multa que ya pagué", "el cobro de la valorización",
          "la factura del acueducto", "un embargo sin notificación"]
LUGARES = ["el parque del barrio", "la biblioteca pública", "la sede de atención", "la ruta del transporte escolar",
           "la página web de la entidad", "el centro de salud"]
HECHOS = ["obras abandonadas en el colegio", "invasión del espacio público", "una construcción sin licencia",
          "basuras en la quebrada", "ruido nocturno de un establecimiento"]

# (weight, expected type, subject templates); {x} is filled from the list named.
KINDS = [
    (38, "peticion", [("Solicitud de información sobre {x}", TEMAS), ("Consulta sobre {x}", TEMAS),
                      ("Solicitud de copia de {x}", DOCS), ("Pregunta sobre {x}", TEMAS)]),
    (10, "peticion", [("Derecho de petición - {x}", TEMAS), ("DERECHO DE PETICION sobre {x}", DOCS)]),
    (15, "queja", [("Queja por {x}", PROBLEMAS), ("Presento una queja: {x}", PROBLEMAS)]),
    (12, "reclamo", [("Reclamo por {x}", COBROS), ("Reclamo - {x}", COBROS)]),
    (9, "sugerencia", [("Sugerencia para {x}", LUGARES), ("Una sugerencia sobre {x}", LUGARES)]),
    (9, "denuncia", [("Denuncia: {x}", HECHOS), ("Posible corrupción: {x}", HECHOS)]),
    (7, "felicitacion", [("Felicitación por la atención en {x}", LUGARES),
                         ("Felicito al equipo de {x}", LUGARES)]),
]


def fold(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def make_messages(count, seed=2026):
    """[(raw bytes, sender, message_id without <>, expected type, attachments)]."""
    rnd = random.Random(seed)
    weights = [k[0] for k in KINDS]
    base = int(time.time()) - 3 * 86400
    out = []
    for i in range(count):
        nombre, ap1, ap2 = rnd.choice(NOMBRES), rnd.choice(APELLIDOS), rnd.choice(APELLIDOS)
        name = "%s %s %s" % (nombre, ap1, ap2)
        local = "%s.%s%d" % (fold(nombre.split()[0]).lower(), fold(ap1).lower(), i)
        sender = "%s@%s" % (local, DOMINIOS[i % len(DOMINIOS)])
        _, want, subjects = rnd.choices(KINDS, weights)[0]
        tmpl, pool = rnd.choice(subjects)
        subject = tmpl.format(x=rnd.choice(pool))
        barrio = rnd.choice(BARRIOS)
        body = ("Buenos días.\n\nMi nombre es %s, vivo en el barrio %s. Me dirijo a ustedes con respecto "
                "al asunto del título: %s.\n\n"
                "Les agradezco la atención y quedo pendiente de su respuesta por este medio.\n\n"
                "Cordialmente,\n%s\nC.C. %d\nCelular %d\n" % (
                    name, barrio, subject[0].lower() + subject[1:], name, rnd.randint(10000000, 1099999999),
                    rnd.randint(3000000000, 3509999999)))
        if rnd.random() < 0.4:
            body += "\n" + " ".join(["Hace varias semanas hice la misma solicitud en la sede de %s y todavía "
                                     "no tengo noticias." % barrio] * rnd.randint(1, 3)) + "\n"
        mid = "%s.%d.%06d@mail.%s" % ("%x" % rnd.getrandbits(48), base + i, i, DOMINIOS[i % len(DOMINIOS)])
        date = email.utils.format_datetime(datetime.datetime.fromtimestamp(base + i * 37, BOGOTA))
        r = rnd.random()
        atts = 0
        if r < 0.80:
            # Plain text, 8bit UTF-8, as most webmail sends a short message.
            hdr = ["From: %s <%s>" % ("\"%s\"" % name if rnd.random() < 0.5 else
                                      email.header.Header(name, "utf-8").encode(), sender),
                   "To: Atención al Ciudadano <%s>" % ENTITY,
                   "Subject: %s" % (subject if rnd.random() < 0.5 else email.header.Header(subject, "utf-8").encode()),
                   "Message-ID: <%s>" % mid, "Date: %s" % date, "MIME-Version: 1.0",
                   "Content-Type: text/plain; charset=UTF-8; format=flowed", "Content-Transfer-Encoding: 8bit"]
            raw = ("\r\n".join(hdr) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")
        else:
            m = email.message.EmailMessage()
            m["From"] = email.headerregistry.Address(name, addr_spec=sender)
            m["To"] = email.headerregistry.Address("Atención al Ciudadano", addr_spec=ENTITY)
            m["Subject"] = subject
            m["Message-ID"] = "<%s>" % mid
            m["Date"] = date
            m.set_content(body)  # quoted-printable or base64, as the library picks
            if r < 0.97:
                html = "<div dir=\"ltr\">%s</div>" % "<br>".join(
                    line.replace("&", "&amp;").replace("<", "&lt;") for line in body.split("\n"))
                m.add_alternative(html, subtype="html")
            else:
                m.add_attachment(harness.minimal_pdf("Anexo %d" % i), maintype="application", subtype="pdf",
                                 filename="anexo_solicitud_%d.pdf" % i)
                atts = 1
            raw = m.as_bytes(policy=email.policy.SMTP)
        out.append((raw, sender, mid, want, atts))
    return out


# ---------------------------------------------------------------------------


def db_ro(path):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    c.row_factory = sqlite3.Row
    return c


def scalar(path, sql, args=()):
    for _ in range(50):
        try:
            c = db_ro(path)
            try:
                return c.execute(sql, args).fetchone()[0]
            finally:
                c.close()
        except sqlite3.OperationalError:  # not created yet, or busy for a moment
            time.sleep(0.05)
    raise RuntimeError("cannot read %s" % path)


def cpu_seconds(pids):
    """utime + stime of the live processes in pids (their own, not reaped children's)."""
    tick = os.sysconf("SC_CLK_TCK")
    tot = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(b")") + 2:].split()
        tot += int(rest[11]) + int(rest[12])
    return tot / tick


def dovecot_pids(imap):
    return [imap.proc.pid] + mailservers._descendants(imap.proc.pid) if imap.proc else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run")
    ap.add_argument("--perf", type=float, default=0, help="perf record -g the daemon for this many seconds")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--stall", type=float, default=30.0, help="give up after this many seconds without progress")
    a = ap.parse_args()
    n = a.count

    t = time.monotonic()
    msgs = make_messages(n)
    gen_s = time.monotonic() - t
    senders = {s.lower() for _, s, _, _, _ in msgs}
    assert len(senders) == n and len({m for _, _, m, _, _ in msgs}) == n, "generator made duplicates"

    work = tempfile.mkdtemp(prefix="vt-bench-email-")
    imap = mailservers.Dovecot(users={USER: PASSWORD}).start()
    sink = mailservers.SmtpSink().start()
    proc = None
    fail = []
    try:
        t = time.monotonic()
        uids = imap.append_many(USER, [m[0] for m in msgs])
        load_s = time.monotonic() - t
        assert len(uids) == n and imap.count(USER) == n
        size = sum(len(m[0]) for m in msgs)
        print("messages:           %d in INBOX (%.1f KB each on average, %d plain 8bit, %d with a PDF attachment; "
              "made in %.1f s, loaded in %.1f s)" % (
                  n, size / n / 1024, sum(1 for m in msgs if b"Content-Transfer-Encoding: 8bit" in m[0][:2000]),
                  sum(m[4] for m in msgs), gen_s, load_s))

        data = os.path.join(work, "data")
        cfg = os.path.join(work, "bench.json")
        with open(cfg, "w", encoding="utf-8") as f:
            json.dump({"intake": {"rate_limit_per_minute": 0}, "log": {"level": "info"},
                       "channels": {"email": {
                           "enabled": True, "smtp_url": sink.url, "from": ENTITY, "allow_plaintext_loopback": True,
                           "tracking_url": "https://entidad.gov.co/consulta",
                           "mailboxes": [{"name": "atencion", "imap_url": imap.url(USER), "username": USER,
                                          "password": PASSWORD, "poll_seconds": 1}]}}}, f)
        subprocess.run([a.bin, "migrate", "--config", cfg, "--data-dir", data], check=True,
                       stdout=subprocess.DEVNULL)
        db = os.path.join(data, "ventanilla.db")
        log_path = os.path.join(work, "log")
        log = open(log_path, "wb")
        t0 = time.monotonic()
        proc = subprocess.Popen([a.bin, "serve", "--config", cfg, "--data-dir", data, "--port", "0"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        port = None
        while port is None:
            with open(log_path, "rb") as f:
                mm = re.search(rb"event=listening port=(\d+)", f.read())
            if mm:
                port = int(mm.group(1))
            elif proc.poll() is not None or time.monotonic() - t0 > 15:
                raise SystemExit("daemon did not start:\n" + open(log_path, errors="replace").read())
            else:
                time.sleep(0.02)

        perf = None
        if a.perf:
            perf_data = os.path.join(work, "perf.data")
            perf = subprocess.Popen(["perf", "record", "-g", "-o", perf_data, "-p", str(proc.pid), "--",
                                     "sleep", str(a.perf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        cpu0 = (cpu_seconds(dovecot_pids(imap)), sum(os.times()[:2]))
        deadline = t0 + a.timeout
        t_first = t_taken = t_acked = None
        taken = acked = 0
        progress = (0, 0, t0)  # (taken, acked, when either last moved)
        while t_taken is None or t_acked is None:
            now = time.monotonic()
            if now > deadline or proc.poll() is not None:
                break
            if now - progress[2] > a.stall:
                break
            if t_taken is None:
                taken = scalar(db, "SELECT count(*) FROM email_messages") if os.path.exists(db) else 0
                if taken and t_first is None:
                    t_first = now
                if taken >= n:
                    t_taken = now
            if t_acked is None:
                acked = len(sink.messages())
                if acked >= n:
                    t_acked = now
            if (taken, acked) != progress[:2]:
                progress = (taken, acked, now)
            time.sleep(0.05)
        if t_taken is None or t_acked is None:
            why = ("no progress for %.0f s" % a.stall if time.monotonic() - progress[2] > a.stall else
                   "daemon exited (%s)" % proc.poll() if proc.poll() is not None else "timeout")
            fail.append("%s after %.0f s: %d taken in, %d acknowledged of %d"
                        % (why, time.monotonic() - t0, taken, acked, n))
            pos = db_ro(db).execute("SELECT last_uid FROM email_mailboxes").fetchall()
            if pos and pos[0][0] >= uids[-1] and taken < n:
                fail.append("the mailbox position is at UID %d (the last in the INBOX) but only %d of %d were taken "
                            "in: %d messages were skipped and will never be fetched" % (pos[0][0], taken, n, n - taken))
        # The sender records 'sent' after the sink's 250: give the last rows a moment.
        sent = 0
        for _ in range(100):
            sent = scalar(db, "SELECT count(*) FROM outbox WHERE channel = 'email' AND status = 'sent'")
            if sent >= n or fail:
                break
            time.sleep(0.05)
        try:
            metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
        except OSError as e:
            metrics = ""
            fail.append("no /metrics: %s" % e)
        if perf is not None:
            perf.wait()
        t_end = time.monotonic()
        cpu = (cpu_seconds([proc.pid]), cpu_seconds(dovecot_pids(imap)) - cpu0[0], sum(os.times()[:2]) - cpu0[1])
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            fail.append("daemon did not stop within 30 s of SIGTERM")
        proc = None
        log.close()
        if rc != 0:
            fail.append("daemon exited with %d" % rc)

        # ---- figures
        def metric(name):
            mm = re.search(r"^%s (\S+)$" % re.escape(name), metrics, re.M)
            return float(mm.group(1)) if mm else 0.0

        jobs, batches = metric("ventanilla_commit_batch_size_sum"), metric("ventanilla_commit_batches_total")
        lat = metric("ventanilla_commit_latency_seconds_sum")
        if t_taken is not None:
            s = t_taken - t0
            print("taken in:           %d messages %.1f s after daemon start (first at %.2f s)" % (n, s, t_first - t0))
            print("taken in/min:       %.0f (%.0f/s)" % (n / s * 60, n / s))
        if t_acked is not None:
            s = t_acked - t0
            print("acknowledged:       %d at the SMTP sink %.1f s after daemon start" % (n, s))
            print("acknowledged/min:   %.0f (%.0f/s)" % (n / s * 60, n / s))
        if batches:
            print("mean batch size:    %.2f jobs per commit (%d commits, mean commit %.2f ms)"
                  % (jobs / batches, batches, lat / batches * 1000))
        print("outbox:             %d acknowledgements recorded sent" % sent)
        print("cpu:                daemon %.1f s, Dovecot %.1f s, this script and its SMTP sink %.1f s over %.1f s "
              "(2 cores: %.0f%% busy)" % (cpu[0], cpu[1], cpu[2], t_end - t0,
                                          100 * sum(cpu) / (t_end - t0) / (os.cpu_count() or 1)))

        # ---- check
        c = db_ro(db)
        items = c.execute("SELECT count(*) FROM items WHERE channel = 'email'").fetchone()[0]
        all_items = c.execute("SELECT count(*) FROM items").fetchone()[0]
        rows = c.execute("SELECT m.dedup_key, m.outcome, i.type, i.radicado, lower(r.email) AS email, "
                         "(SELECT count(*) FROM attachments a WHERE a.item_id = i.id) AS atts "
                         "FROM email_messages m LEFT JOIN items i ON i.id = m.item_id "
                         "LEFT JOIN requesters r ON r.item_id = i.id").fetchall()
        c.close()
        by_key = {}
        for r in rows:
            by_key.setdefault(r["dedup_key"], []).append(r)
        if items != n or all_items != n:
            fail.append("%d items with channel 'email' (%d items in all), want %d" % (items, all_items, n))
        twice = [k for k, v in by_key.items() if len(v) != 1]
        if twice:
            fail.append("%d Message-IDs taken in more than once, e.g. %s" % (len(twice), twice[:3]))
        radicado_of, wrong = {}, []
        for raw, snd, mid, want, atts in msgs:
            rs = by_key.get("mid:" + mid[:75])
            if not rs:
                wrong.append("%s not taken in" % mid)
                continue
            r = rs[0]
            if r["outcome"] != "filed" or r["type"] != want or r["email"] != snd.lower() or r["atts"] != atts:
                wrong.append("%s: outcome=%s type=%s (want %s) requester=%s attachments=%s (want %d)"
                             % (mid, r["outcome"], r["type"], want, r["email"], r["atts"], atts))
            radicado_of[snd.lower()] = (r["radicado"], mid)
        if wrong:
            fail.append("%d messages not filed as sent: %s" % (len(wrong), "; ".join(wrong[:3])))
        if len(by_key) != n:
            fail.append("%d distinct messages taken in, want %d" % (len(by_key), n))
        got = sink.messages()
        per = {}
        bad_ack = []
        for m in got:
            rc_ = [x.lower() for x in m.rcpt_tos]
            if len(rc_) != 1:
                bad_ack.append("acknowledgement to %s" % m.rcpt_tos)
                continue
            per[rc_[0]] = per.get(rc_[0], 0) + 1
            rad, mid = radicado_of.get(rc_[0], (None, None))
            if rad is None:
                bad_ack.append("acknowledgement to a stranger %s" % rc_[0])
            elif rad not in (m.subject or "") or (m.msg["In-Reply-To"] or "").strip() != "<%s>" % mid:
                bad_ack.append("to %s: Subject %r In-Reply-To %r (radicado %s, <%s>)"
                               % (rc_[0], m.subject, m.msg["In-Reply-To"], rad, mid))
            if m.mail_from != ENTITY:
                bad_ack.append("MAIL FROM %s" % m.mail_from)
        missing = [s for s in senders if per.get(s, 0) == 0]
        dup = [s for s, k in per.items() if k > 1]
        if len(got) != n or missing or dup or bad_ack:
            fail.append("%d acknowledgements at the sink for %d senders: %d senders without, %d with several, "
                        "%d wrong: %s" % (len(got), n, len(missing), len(dup), len(bad_ack), "; ".join(bad_ack[:3])))
        if sent != n:
            fail.append("%d outbox rows 'sent', want %d" % (sent, n))
        with open(log_path, "r", errors="replace") as f:
            loglines = f.read().splitlines()
        stamps = []
        for l in loglines:
            if "event=email_taken" in l:
                mm = re.match(r"ts=(\S+)Z ", l)
                if mm:
                    stamps.append(datetime.datetime.fromisoformat(mm.group(1)).timestamp())
        if len(stamps) > 1:
            pauses = [b - a_ for a_, b in zip(stamps, stamps[1:]) if b - a_ > 0.5]
            span = stamps[-1] - stamps[0]
            print("daemon's log:       first to last email_taken %.1f s (%.0f/min)%s" % (
                span, (len(stamps) - 1) / span * 60 if span else 0,
                "; %d pause(s) over 0.5 s between two messages, %.1f s in all (poll_seconds waits), "
                "%.0f/min without them" % (len(pauses), sum(pauses), (len(stamps) - 1) / (span - sum(pauses)) * 60)
                if pauses else ""))
        warns = [l for l in loglines if " level=warn" in l or " level=error" in l]
        if warns:
            print("log warnings:       %d, first: %s" % (len(warns), warns[0][:200]))
        types = {}
        for _, _, _, w, _ in msgs:
            types[w] = types.get(w, 0) + 1
        print("types:              %s" % ", ".join("%s %d" % kv for kv in sorted(types.items())))
        if perf is not None:
            # Flat (the libraries have no frame pointers, so -g stacks stop at them), then by thread.
            rep = subprocess.run("perf report -i %s --stdio --no-children -g none --percent-limit 1 -s dso,sym "
                                 "2>/dev/null | grep -v '^#' | grep -v '^$' | head -30; echo 'by thread:'; "
                                 "perf report -i %s --stdio --no-children -g none -s pid 2>/dev/null | "
                                 "grep -v '^#' | grep -v '^$' | head -10" % (perf_data, perf_data),
                                 shell=True, capture_output=True, text=True)
            print("perf (the daemon, %g s from its start):\n%s" % (a.perf, rep.stdout.rstrip()))
        if fail:
            for f_ in fail:
                print("MISMATCH: " + f_)
            return 1
        print("check:              %d items (channel email), every Message-ID taken in once as filed with its "
              "type and attachments, %d acknowledgements each to its sender with its radicado" % (n, n))
        return 0
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        sink.stop()
        imap.stop()
        if a.keep:
            print("kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
