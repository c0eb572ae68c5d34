"""The legal reports (src/domain/report.h) against the real daemon: the quarterly
PQRSD report and the access-to-information report of Decreto 1081 de 2015
art. 2.1.1.6.2, as JSON, CSV and printable HTML over
GET /api/v1/reports/{pqrsd,acceso} and from `ventanilla report`.

About forty PQRSD are filed through the public API and worked through the
staff API (routed to dependencias an admin created, answered, some documents
petitions with access denied or partial, one extended, some transferred, one
paused for completion, some closed). The daemon has no clock to move, so,
like test_14_casework.py, the test writes a few columns of items in the
database between requests to place an item in the past: filed_date,
due_date and received_at before acting on it (and channel, which the public
API always sets to web), and responses.at after answering. The audit chain
is never touched and `ventanilla audit verify` passes at the end.

The expected figures are computed here, in Python, from the seed list alone
(business days from `ventanilla calendar holidays YEAR`), never by reading
the daemon's answer back.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_17_reports.py
"""
import collections
import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
HOSTILE = 'Control <script>alert("x")</script>, "Interno"'
FORMULA = "=SUMA(A1) Oficina Jurídica"
DEPS = {"obras": "Obras públicas", "planeacion": "Planeación", "control": HOSTILE, "juridica": FORMULA}
TERMS = {("peticion", "general"): 15, ("peticion", "documentos"): 10, ("peticion", "consulta"): 30,
         ("queja", None): 15, ("reclamo", None): 15, ("sugerencia", None): 15, ("denuncia", None): 15,
         ("felicitacion", None): None}
TYPE_ROWS = ["peticion/general", "peticion/documentos", "peticion/consulta", "queja", "reclamo", "sugerencia",
             "denuncia", "felicitacion"]
OUTCOMES = ["a_tiempo", "tarde", "pendiente_en_termino", "pendiente_vencida", "suspendida", "desistida",
            "trasladada", "cerrada_sin_respuesta"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre"]
# The stopwords of report.c (the definition of a "meaningful" word).
STOP = set("""a acerca ademas al algo algun alguna algunas alguno algunos alla alli ante antes aqui asi asunto
atentamente aun aunque bajo bien buen buena buenas bueno buenos cada casi como con contra cordial cordialmente
consulta consultas cual cuales cuando cuanto de del denuncia denuncias desde dias donde dos durante e el ella ellas ello ellos en
entre era eran es esa esas ese eso esos esta estaba estan estar estas este esto estos estoy favor felicitacion
felicitaciones fue fueron gracias ha hace hacer hacia han hasta hay la las le les lo los mas me mi mis mucho muy
nada ni no noches nos nosotros nuestra nuestro o otra otras otro otros para pero peticion peticiones poco por
porque pues que queja quejas quien quienes reclamo reclamos referencia respetado respetados saludo saludos se
sea segun senor senora senores ser si sido sin sobre solicita solicitamos solicito solicitud solicitudes solo
son su sugerencia sugerencias sus tambien tan tanto tardes te tiene tienen todo todos tu u un una unas uno unos
usted ustedes y ya yo""".split())

# The seed: (type, class, channel, dependencia or None (triage), filed n business days before the
# last business day up to today, plan, subject). Plans: ("pending",), ("respond", k[, access]) answers
# k business days after filing, ("respond_close", k), ("close",), ("transfer",), ("pause",),
# ("transfer_reopen_respond", k), ("extend_respond",), ("respond_twice", k1, k2[, access1, access2]).
SEED = [
    ("peticion", "general", "web", None, 60, ("respond", 10), "Alumbrado público del barrio La Esperanza"),
    ("peticion", "general", "email", "obras", 58, ("respond", 20), "Contrato de alumbrado y mantenimiento"),
    ("peticion", "general", "whatsapp", "obras", 55, ("pending",), "Huecos en la vía principal"),
    ("peticion", "general", "web", "planeacion", 50, ("respond_close", 15), "Plan de ordenamiento del barrio"),
    ("peticion", "general", "web", None, 45, ("close",), "Solicitud duplicada de alumbrado"),
    ("peticion", "general", "email", "control", 40, ("respond", 16), "Contratación de la vía nueva"),
    ("peticion", "general", "web", None, 3, ("transfer",), "Pasaporte vencido"),
    ("peticion", "general", "web", "obras", 2, ("pending",), "Andén dañado frente al colegio"),
    ("peticion", "general", "web", None, 1, ("pause",), "Subsidio de vivienda"),
    ("peticion", "documentos", "web", None, 57, ("respond", 5, "negado"), "Copia del contrato de alumbrado"),
    ("peticion", "documentos", "email", "juridica", 52, ("respond", 12, "parcial"), "Copia de actas del concejo"),
    ("peticion", "documentos", "web", "juridica", 48, ("respond", 8), "Copia de la resolución de tarifas"),
    ("peticion", "documentos", "whatsapp", None, 44, ("respond", 10, "concedido"), "Información del presupuesto"),
    ("peticion", "documentos", "web", None, 4, ("transfer",), "Información del catastro"),
    ("peticion", "documentos", "web", "obras", 30, ("pending",), "Copia de planos de la vía"),
    ("peticion", "documentos", "web", None, 2, ("pending",), "Información de contratos de 2024"),
    ("peticion", "documentos", "email", "control", 25, ("respond", 3, "negado"), "Copia de informes de auditoría"),
    ("peticion", "documentos", "web", None, 12, ("transfer",), "Información del registro civil"),
    ("peticion", "consulta", "web", "planeacion", 47, ("respond", 25), "Consulta sobre uso del suelo"),
    ("peticion", "consulta", "email", "planeacion", 40, ("pending",), "Consulta sobre licencias de construcción"),
    ("peticion", "consulta", "web", None, 20, ("pending",), "Consulta sobre impuesto predial"),
    ("queja", None, "web", None, 59, ("respond", 14), "Mala atención en la ventanilla"),
    ("queja", None, "whatsapp", "obras", 54, ("respond", 18), "Basuras en el parque central"),
    ("queja", None, "web", "control", 35, ("transfer_reopen_respond", 5), "Funcionario no contesta el teléfono"),
    ("queja", None, "email", None, 28, ("close",), "Mala atención telefónica"),
    ("queja", None, "web", None, 10, ("pending",), "Ruido en el parque de noche"),
    ("reclamo", None, "web", "obras", 56, ("respond", 15), "Cobro del alumbrado en la factura"),
    ("reclamo", None, "email", "obras", 42, ("respond", 30), "Cobro doble del acueducto"),
    ("reclamo", None, "whatsapp", None, 33, ("pending",), "Acueducto sin agua tres días"),
    ("reclamo", None, "web", "planeacion", 5, ("transfer",), "Servicio de gas domiciliario"),
    ("sugerencia", None, "web", None, 46, ("respond", 7), "Horario de atención los sábados"),
    ("sugerencia", None, "web", "control", 15, ("pending",), "Más bancas en el parque"),
    ("sugerencia", None, "whatsapp", None, 38, ("close",), "Ciclovía los domingos"),
    ("denuncia", None, "web", "control", 53, ("respond", 9), "Irregularidades en el contrato del parque"),
    ("denuncia", None, "email", None, 24, ("pending",), "Cobros indebidos en la ventanilla"),
    ("denuncia", None, "web", None, 30, ("extend_respond",), "Obras sin licencia en la vía"),
    ("felicitacion", None, "web", None, 43, ("respond", 2), "Excelente atención en la ventanilla"),
    ("felicitacion", None, "whatsapp", "obras", 22, ("pending",), "Felicitaciones por el parque"),
    ("felicitacion", None, "web", None, 6, ("pending",), "Buen servicio del alumbrado"),
    ("peticion", "general", "web", None, 36, ("respond", 4), "Alumbrado <script>alert(1)</script> del parque"),
    # Answered twice: the first answer times the item, the latest decides access.
    ("reclamo", None, "web", None, 34, ("respond_twice", 10, 20), "Cobro del impuesto predial"),
    ("peticion", "documentos", "web", None, 26, ("respond_twice", 4, 9, "negado", "concedido"),
     "Copia de la licencia del parque"),
]
# Filed before the range: must not count anywhere.
OUTSIDE = [
    ("queja", None, "web", None, "before", ("respond", 3), "Alumbrado apagado"),
    ("peticion", "documentos", "web", None, "before", ("respond", 2, "negado"), "Copia vieja de alumbrado"),
]


def db_exec(d, sql, args=()):
    d.execute(sql, args)


def fold(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn").lower()


WORD_RE = re.compile(r"[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f]+")


def business_days(a, b):
    n = 0
    while a < b:
        a += datetime.timedelta(days=1)
        n += S.is_business(a)
    return n


def at_ms(day, hour=10):
    return int(datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=H.BOGOTA).timestamp() * 1000)


def avg(total_days, n):
    """The exact average; the daemon's is rounded to 2 decimals (compared within AVG_DELTA)."""
    return total_days / n if n else None


AVG_DELTA = 0.0051


class Reports(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"staff": {"login_per_minute": 10000}}, name="reports")
        users = [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE), ("ge", "gerente", None),
                 ("ad", "admin", None), ("mo", "moderador", None)]
        users += [("co_" + code, "coordinador", code) for code in DEPS]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {name: Staff(cls.d, name) for name, _, _ in users}
        for code, name in DEPS.items():
            r = cls.s["ad"].post("/api/v1/dependencias", {"code": code, "name": name, "active": True})
            assert r.status == 200, r
        cls.today = S.today()
        anchor = cls.today
        while not S.is_business(anchor):
            anchor -= datetime.timedelta(days=1)
        cls.anchor = anchor
        earliest = S.add_bd(anchor, -max(s[4] for s in SEED))
        cls.frm = earliest.replace(day=1)
        cls.to = cls.today
        cls.items = []
        for spec in SEED + OUTSIDE:
            cls.items.append(cls.seed(spec))

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    # -- seeding

    @classmethod
    def act(cls, who, rad, action, **fields):
        r = cls.s[who].act(rad, action, **fields)
        assert r.status == 200, "%s %s %s: %r" % (who, action, rad, r)
        return r.json()

    @classmethod
    def set_cols(cls, rad, **cols):
        for col, value in cols.items():
            assert re.match(r"^[a-z_]+$", col)
            db_exec(cls.d, "UPDATE items SET %s = ? WHERE radicado = ?" % col, (value, rad))

    @classmethod
    def set_answer_day(cls, rad, day):
        db_exec(cls.d, "UPDATE responses SET at = ? WHERE item_id = (SELECT id FROM items WHERE radicado = ?)",
                (at_ms(day, 11), rad))

    @classmethod
    def seed(cls, spec):
        type_, cls_, channel, dep, n, plan, subject = spec
        over = {"type": type_, "subject": subject, "requester": S.web_requester()}
        if cls_:
            over["petition_class"] = cls_
        r = cls.d.post_json(H.item_payload(**over))
        assert r.status == 201, r
        rad = r.json()["radicado"]
        filed = S.add_bd(cls.frm, -2) if n == "before" else S.add_bd(cls.anchor, -n)
        term = TERMS[(type_, cls_)]
        due = S.add_bd(filed, term) if term is not None else None
        it = {"radicado": rad, "type": type_, "class": cls_, "channel": channel, "dep": dep or TRIAGE,
              "filed": filed, "due": due, "answered": None, "access": None, "transferred": False,
              "in_5": False, "status": "radicado", "subject": subject, "inside": n != "before"}
        cls.set_cols(rad, received_at=at_ms(filed), filed_date=filed.isoformat(),
                     due_date=due.isoformat() if due else None, channel=channel)
        who = "co"
        if dep:
            cls.act("co", rad, "assign", dependencia=dep)
            who = "co_" + dep
            it["status"] = "en_tramite"
        kind = plan[0]
        if kind in ("respond", "respond_close"):
            fields = {"text": "Respuesta de fondo."}
            if len(plan) > 2:
                fields["access"] = plan[2]
            cls.act(who, rad, "respond", **fields)
            it["answered"] = S.add_bd(filed, plan[1])
            assert it["answered"] <= cls.today
            cls.set_answer_day(rad, it["answered"])
            it["status"] = "respondido"
            if cls_ == "documentos":
                it["access"] = plan[2] if len(plan) > 2 else "concedido"
            if kind == "respond_close":
                cls.act(who, rad, "close")
                it["status"] = "cerrado"
        elif kind == "respond_twice":
            for i, k in enumerate(plan[1:3]):
                fields = {"text": "Respuesta %d." % (i + 1)}
                if len(plan) > 3:
                    fields["access"] = plan[3 + i]
                cls.act(who, rad, "respond", **fields)
            ids = [r["id"] for r in cls.d.query("SELECT r.id FROM responses r JOIN items i ON i.id = r.item_id "
                                                "WHERE i.radicado = ? ORDER BY r.id", (rad,))]
            assert len(ids) == 2, ids
            for rid, k in zip(ids, plan[1:3]):
                db_exec(cls.d, "UPDATE responses SET at = ? WHERE id = ?", (at_ms(S.add_bd(filed, k), 11), rid))
            it["answered"] = S.add_bd(filed, plan[1])
            it["access"] = plan[4] if len(plan) > 3 else None
            it["status"] = "respondido"
        elif kind == "close":
            cls.act(who, rad, "close", reason="Duplicada")
            it["status"] = "cerrado"
        elif kind in ("transfer", "transfer_reopen_respond"):
            cls.act(who, rad, "transfer", entity="Ministerio de Transporte", reason="No es de nuestra competencia")
            it["transferred"] = True
            it["in_5"] = cls.today <= S.add_bd(filed, 5)
            it["status"] = "trasladado"
            if kind == "transfer_reopen_respond":
                cls.act(who, rad, "reopen", reason="La entidad la devolvió")
                cls.act(who, rad, "respond", text="Respuesta de fondo.")
                it["answered"] = S.add_bd(filed, plan[1])
                cls.set_answer_day(rad, it["answered"])
                it["status"] = "respondido"
        elif kind == "pause":
            cls.act(who, rad, "request_completion", text="Falta el certificado")
            it["status"] = "pendiente_completar"
        elif kind == "extend_respond":
            # Extended while its natural term ran, then answered; then placed in
            # the past: answered after the initial term, within the extended one.
            natural = S.add_bd(cls.today, term)
            cls.set_cols(rad, due_date=natural.isoformat())
            cls.act(who, rad, "extend", reason="Hay que pedir un concepto", due_date=S.add_bd(natural, 3).isoformat())
            cls.act(who, rad, "respond", text="Respuesta de fondo.")
            due = S.add_bd(filed, term + 3)
            it["due"] = due
            it["answered"] = S.add_bd(filed, term + 2)
            cls.set_cols(rad, filed_date=filed.isoformat(), due_date=due.isoformat())
            cls.set_answer_day(rad, it["answered"])
            it["status"] = "respondido"
            it["extended"] = True
        return it

    # -- the expected figures, from the seed alone

    def outcome(self, it, as_of):
        if it["answered"]:
            return "a_tiempo" if it["due"] is None or it["answered"] <= it["due"] else "tarde"
        st = it["status"]
        special = {"pendiente_completar": "suspendida", "desistido": "desistida", "trasladado": "trasladada",
                   "cerrado": "cerrada_sin_respuesta"}
        if st in special:
            return special[st]
        return "pendiente_vencida" if it["due"] is not None and it["due"] < as_of else "pendiente_en_termino"

    def population(self, frm, to, documents=False):
        out = [it for it in self.items if frm <= it["filed"] <= to]
        if documents:
            out = [it for it in out if it["type"] == "peticion" and it["class"] == "documentos"]
        return sorted(out, key=lambda it: (it["filed"], it["radicado"]))

    @staticmethod
    def row(key, label, items, outcome):
        on = sum(1 for it in items if outcome(it) == "a_tiempo")
        late = sum(1 for it in items if outcome(it) == "tarde")
        days = sum(business_days(it["filed"], it["answered"]) for it in items if it["answered"])
        return {"key": key, "label": label, "received": len(items), "answered_on_time": on,
                "answered_late": late, "unanswered": len(items) - on - late,
                "average_business_days": avg(days, on + late)}

    def expected_pqrsd(self, frm, to):
        as_of = min(to, self.today)
        items = self.population(frm, to)
        out = lambda it: self.outcome(it, as_of)  # noqa: E731
        exp = {"report": "pqrsd", "from": frm.isoformat(), "to": to.isoformat(), "as_of": as_of.isoformat(),
               "total": self.row("total", "Total", items, out),
               "outcomes": {k: sum(1 for it in items if out(it) == k) for k in OUTCOMES}}

        def key_of(it):
            return "peticion/%s" % it["class"] if it["type"] == "peticion" else it["type"]

        exp["by_type"] = [self.row(k, None, [it for it in items if key_of(it) == k], out) for k in TYPE_ROWS]
        exp["by_channel"] = [self.row(k, None, [it for it in items if it["channel"] == k], out)
                             for k in ("web", "email", "whatsapp")]
        labels = dict(DEPS, **{TRIAGE: "Atención al ciudadano"})
        deps = sorted({it["dep"] for it in items}, key=lambda c: (labels[c].encode(), c.encode()))
        exp["by_dependencia"] = [self.row(c, labels[c], [it for it in items if it["dep"] == c], out) for c in deps]
        months, m = [], frm.replace(day=1)
        while m <= to:
            months.append(m)
            m = (m + datetime.timedelta(days=32)).replace(day=1)
        exp["by_month"] = [self.row(m.strftime("%Y-%m"), "%s de %d" % (MONTHS[m.month - 1].capitalize(), m.year),
                                    [it for it in items if it["filed"].strftime("%Y-%m") == m.strftime("%Y-%m")],
                                    out) for m in months]
        tr = [it for it in items if it["transferred"]]
        exp["transfers"] = {"total": len(tr), "within_5_days": sum(it["in_5"] for it in tr),
                            "after_5_days": sum(not it["in_5"] for it in tr)}
        counts, label = collections.Counter(), {}
        for it in items:
            seen = set()
            for w in WORD_RE.findall(it["subject"]):
                lw = w.lower()
                k = fold(lw)
                if len(k) < 3 or k.isdigit() or k in STOP or k in seen:
                    continue
                seen.add(k)
                counts[k] += 1
                label.setdefault(k, lw)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        exp["topics"] = [{"word": k, "label": label[k], "count": c} for k, c in top]
        return exp

    def expected_access(self, frm, to):
        as_of = min(to, self.today)
        items = self.population(frm, to, documents=True)
        answered = [it for it in items if it["answered"]]
        on = sum(1 for it in answered if self.outcome(it, as_of) == "a_tiempo")
        days = sum(business_days(it["filed"], it["answered"]) for it in answered)
        return {"report": "acceso", "from": frm.isoformat(), "to": to.isoformat(), "as_of": as_of.isoformat(),
                "received": len(items), "transferred": sum(it["transferred"] for it in items),
                "answered": len(answered), "answered_on_time": on, "answered_late": len(answered) - on,
                "unanswered": len(items) - len(answered), "average_business_days": avg(days, len(answered)),
                "access": {k: sum(1 for it in answered if it["access"] == k)
                           for k in ("concedido", "parcial", "negado")} | {"sin_decision": 0},
                "requests": [{"radicado": it["radicado"], "filed_date": it["filed"].isoformat(),
                              "due_date": it["due"].isoformat(),
                              "answered_on": it["answered"].isoformat() if it["answered"] else None,
                              "business_days": business_days(it["filed"], it["answered"]) if it["answered"]
                              else None,
                              "outcome": self.outcome(it, as_of), "access": it["access"],
                              "transferred": it["transferred"]} for it in items]}

    # -- requests

    def report(self, name, who="ge", **params):
        q = urllib.parse.urlencode(params)
        return self.s[who].get("/api/v1/reports/%s?%s" % (name, q)) if who else \
            self.d.get("/api/v1/reports/%s?%s" % (name, q))

    def rng(self, frm=None, to=None):
        return {"from": (frm or self.frm).isoformat(), "to": (to or self.to).isoformat()}

    def assert_rows(self, got, want, what):
        self.assertEqual([r["key"] for r in got], [r["key"] for r in want], what)
        for g, w in zip(got, want):
            for k, v in w.items():
                if k == "label" and v is None:
                    continue
                if k == "average_business_days" and v is not None:
                    self.assertIsNotNone(g[k], "%s %s %s" % (what, w["key"], k))
                    self.assertAlmostEqual(g[k], v, delta=AVG_DELTA, msg="%s %s %s" % (what, w["key"], k))
                else:
                    self.assertEqual(g[k], v, "%s %s %s" % (what, w["key"], k))

    def check_pqrsd(self, doc, exp):
        for k in ("report", "from", "to", "as_of", "outcomes", "transfers", "topics"):
            self.assertEqual(doc[k], exp[k], k)
        self.assert_rows([doc["total"]], [exp["total"]], "total")
        for k in ("by_type", "by_channel", "by_dependencia", "by_month"):
            self.assert_rows(doc[k], exp[k], k)

    # -- the tests

    def test_01_seed_is_what_it_claims(self):
        """The seed did what the expected figures assume."""
        inside = [it for it in self.items if it["inside"]]
        self.assertGreaterEqual(len(inside), 40)
        for it in self.items:
            row = self.d.query("SELECT status, filed_date, due_date, channel, COALESCE(dependencia, ?) AS dep, "
                               "original_due_date FROM items WHERE radicado = ?", (TRIAGE, it["radicado"]))[0]
            self.assertEqual(row["status"], it["status"], it["radicado"])
            self.assertEqual(row["filed_date"], it["filed"].isoformat())
            self.assertEqual(row["due_date"], it["due"].isoformat() if it["due"] else None)
            self.assertEqual((row["channel"], row["dep"]), (it["channel"], it["dep"]))
            if it.get("extended"):
                self.assertIsNotNone(row["original_due_date"], "the extension did not happen")
        flags = self.d.query("SELECT i.radicado, e.payload FROM audit_events e JOIN items i ON i.id = e.item_id "
                             "WHERE e.action = 'trasladado'")
        self.assertEqual({r["radicado"]: json.loads(r["payload"])["within_5_days"] for r in flags},
                         {it["radicado"]: it["in_5"] for it in self.items if it["transferred"]})
        exp = self.expected_pqrsd(self.frm, self.to)
        # The seed covers every line that can be reached without waiting.
        for k in OUTCOMES:
            if k != "desistida":
                self.assertGreater(exp["outcomes"][k], 0, k)
        self.assertGreater(exp["transfers"]["within_5_days"], 0)
        self.assertGreater(exp["transfers"]["after_5_days"], 0)
        self.assertGreaterEqual(len(exp["by_month"]), 3)

    def test_02_pqrsd_json(self):
        r = self.report("pqrsd", **self.rng())
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("application/json"), r.headers)
        self.check_pqrsd(r.json(), self.expected_pqrsd(self.frm, self.to))
        # json is the default format
        r2 = self.report("pqrsd", format="json", **self.rng())
        self.assertEqual(r2.json(), r.json())

    def test_03_pqrsd_narrower_and_future_ranges(self):
        # One day holding several items, both ends inclusive.
        days = collections.Counter(it["filed"] for it in self.items if it["inside"])
        day = max(sorted(days), key=lambda d: days[d])
        self.assertGreaterEqual(days[day], 2)
        doc = self.report("pqrsd", **self.rng(day, day)).json()
        self.check_pqrsd(doc, self.expected_pqrsd(day, day))
        # A middle slice.
        a, b = S.add_bd(self.anchor, -50), S.add_bd(self.anchor, -20)
        self.check_pqrsd(self.report("pqrsd", **self.rng(a, b)).json(), self.expected_pqrsd(a, b))
        # A range that ends in the future: the cut-off is today.
        future = self.today + datetime.timedelta(days=45)
        doc = self.report("pqrsd", **self.rng(self.frm, future)).json()
        self.assertEqual(doc["as_of"], self.today.isoformat())
        self.check_pqrsd(doc, self.expected_pqrsd(self.frm, future))
        # Nothing filed: zeros, every type and month still listed.
        old = datetime.date(2001, 1, 1)
        doc = self.report("pqrsd", **self.rng(old, datetime.date(2001, 3, 31))).json()
        self.assertEqual(doc["total"]["received"], 0)
        self.assertIsNone(doc["total"]["average_business_days"])
        self.assertEqual([r["key"] for r in doc["by_type"]], TYPE_ROWS)
        self.assertEqual([r["key"] for r in doc["by_month"]], ["2001-01", "2001-02", "2001-03"])
        self.assertEqual((doc["by_dependencia"], doc["topics"]), ([], []))

    def test_04_access_json(self):
        r = self.report("acceso", **self.rng())
        self.assertEqual(r.status, 200, r)
        doc, exp = r.json(), self.expected_access(self.frm, self.to)
        self.assertGreater(exp["access"]["negado"], 1)
        self.assertGreater(exp["access"]["parcial"], 0)
        self.assertGreater(exp["transferred"], 1)
        avg_got, avg_want = doc.pop("average_business_days"), exp.pop("average_business_days")
        self.assertAlmostEqual(avg_got, avg_want, delta=AVG_DELTA)
        self.assertEqual(doc, exp)

    def parse_csv(self, body):
        text = body.decode("utf-8")
        self.assertTrue(text.endswith("\r\n"))
        self.assertNotIn("\n", text.replace("\r\n", ""), "a bare LF outside quotes")
        return list(csv.reader(io.StringIO(text, newline="")))

    def test_05_pqrsd_csv(self):
        r = self.report("pqrsd", format="csv", **self.rng())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "text/csv; charset=utf-8")
        self.assertEqual(r.header("content-disposition"), 'attachment; filename="informe-pqrsd-%s-%s.csv"'
                         % (self.frm.isoformat(), self.to.isoformat()))
        rows = self.parse_csv(r.body)
        self.assertEqual(rows[0], ["seccion", "clave", "descripcion", "cantidad", "a_tiempo", "tarde",
                                   "sin_respuesta", "promedio_dias_habiles"])
        self.assertTrue(all(len(x) == 8 for x in rows), rows)
        exp = self.expected_pqrsd(self.frm, self.to)
        by = collections.defaultdict(list)
        for x in rows[1:]:
            by[x[0]].append(x)
        self.assertEqual([x[1:3] for x in by["periodo"]],
                         [["desde", exp["from"]], ["hasta", exp["to"]], ["corte", exp["as_of"]]])
        self.assertEqual({x[1]: int(x[3]) for x in by["estado"]}, exp["outcomes"])
        self.assertEqual({x[1]: int(x[3]) for x in by["traslados"]},
                         {"total": exp["transfers"]["total"], "en_5_dias": exp["transfers"]["within_5_days"],
                          "despues_de_5_dias": exp["transfers"]["after_5_days"]})
        self.assertEqual([(x[1], x[2], int(x[3])) for x in by["temas"]],
                         [(t["word"], t["label"], t["count"]) for t in exp["topics"]])

        def as_rows(xs):
            # a label a spreadsheet would run as a formula has an apostrophe in front
            return [{"key": x[1], "label": x[2][1:] if re.match(r"^'[=+\-@]", x[2]) else x[2], "received": int(x[3]), "answered_on_time": int(x[4]),
                     "answered_late": int(x[5]), "unanswered": int(x[6]),
                     "average_business_days": float(x[7]) if x[7] else None} for x in xs]

        self.assert_rows(as_rows(by["total"]), [exp["total"]], "csv total")
        for section, k in (("por_tipo", "by_type"), ("por_canal", "by_channel"),
                           ("por_dependencia", "by_dependencia"), ("por_mes", "by_month")):
            self.assert_rows(as_rows(by[section]), exp[k], "csv " + section)
        # Hostile names come back whole; a formula stays text.
        labels = {x[1]: x[2] for x in by["por_dependencia"]}
        self.assertEqual(labels["control"], HOSTILE)
        self.assertEqual(labels["juridica"], "'" + FORMULA)
        self.assertIn(b'"Control <script>alert(""x"")</script>, ""Interno"""', r.body)
        # No thousands separators, decimals with a point.
        for x in rows[1:]:
            for cell in x[3:]:
                self.assertRegex(cell, r"^(\d+(\.\d\d)?)?$", x)

    def test_06_access_csv(self):
        r = self.report("acceso", format="csv", **self.rng())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-disposition"), 'attachment; filename="informe-acceso-%s-%s.csv"'
                         % (self.frm.isoformat(), self.to.isoformat()))
        rows = self.parse_csv(r.body)
        self.assertEqual(rows[0][:4], ["seccion", "clave", "descripcion", "cantidad"])
        exp = self.expected_access(self.frm, self.to)
        summary = {x[1]: x[3] for x in rows if x[0] == "resumen"}
        self.assertEqual({k: int(v) for k, v in summary.items() if k != "promedio_dias_habiles"}, {
            "recibidas": exp["received"], "trasladadas": exp["transferred"], "respondidas": exp["answered"],
            "respondidas_a_tiempo": exp["answered_on_time"], "respondidas_tarde": exp["answered_late"],
            "sin_respuesta": exp["unanswered"], "acceso_concedido": exp["access"]["concedido"],
            "acceso_parcial": exp["access"]["parcial"], "acceso_negado": exp["access"]["negado"],
            "sin_decision": 0})
        self.assertAlmostEqual(float(summary["promedio_dias_habiles"]), exp["average_business_days"],
                               delta=AVG_DELTA)
        got = [x for x in rows if x[0] == "solicitud"]
        want = [[q["radicado"], q["filed_date"], q["due_date"], q["answered_on"] or "",
                 "" if q["business_days"] is None else str(q["business_days"]), q["outcome"], q["access"] or "",
                 "si" if q["transferred"] else "no"] for q in exp["requests"]]
        self.assertEqual([[x[1]] + x[4:] for x in got], want)

    def test_07_html(self):
        r = self.report("pqrsd", format="html", **self.rng())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        html = r.text
        self.assertIn('<html lang="es-CO">', html)
        self.assertIn('<link rel="stylesheet" href="/static/style.css">', html)
        self.assertNotIn("<script", html.lower())
        self.assertNotIn("style=", html)
        self.assertIsNone(re.search(r"<[^>]*\son[a-z]+\s*=", html, re.I), "an inline event handler")
        self.assertIn("Control &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, &quot;Interno&quot;", html)
        self.assertEqual(html.count("<table>"), html.count("<caption>"))
        self.assertGreaterEqual(html.count("<caption>"), 7)
        self.assertIn('<th scope="col">', html)
        self.assertIn('<th scope="row">', html)
        exp = self.expected_pqrsd(self.frm, self.to)
        # The topic words of the hostile subject are plain words.
        self.assertIn("alumbrado", html)
        self.assertIn(">%d<" % exp["total"]["received"], html)
        r = self.report("acceso", format="html", **self.rng())
        self.assertEqual(r.status, 200, r)
        html = r.text
        self.assertNotIn("<script", html.lower())
        for q in self.expected_access(self.frm, self.to)["requests"]:
            self.assertIn(">%s<" % q["radicado"], html)
        self.assertIn("Decreto 1081 de 2015", html)
        # The stylesheet the page links has the report's classes.
        css = self.d.get("/static/style.css")
        self.assertEqual(css.status, 200)
        self.assertIn(b".report", css.body)

    def test_08_roles(self):
        for name in ("pqrsd", "acceso"):
            for who in ("ag", "co", "mo", "ad", "co_obras"):
                with self.subTest(report=name, who=who):
                    H.assert_error(self, self.report(name, who, **self.rng()), 403, "forbidden")
            H.assert_error(self, self.report(name, None, **self.rng()), 401)
            self.assertEqual(self.report(name, "ge", **self.rng()).status, 200)
            H.assert_error(self, self.report(name, None, format="csv", **self.rng()), 401)
        H.assert_error(self, self.report("trimestral", "ge", **self.rng()), 404, "not_found")

    def test_09_bad_ranges(self):
        t = self.today
        five = datetime.date(t.year - 5, t.month, 28 if (t.month, t.day) == (2, 29) else t.day)
        cases = [
            ({"to": t.isoformat()}, "from"),
            ({"from": t.isoformat()}, "to"),
            ({"from": "2025-13-01", "to": t.isoformat()}, "from"),
            ({"from": "ayer", "to": t.isoformat()}, "from"),
            ({"from": "2025-01-01", "to": "2025-02-30"}, "to"),
            ({"from": "2025-01-01", "to": "2025-01-01T00:00"}, "to"),
            ({"from": "2025-03-01", "to": "2025-02-28"}, "to"),
            ({"from": five.isoformat(), "to": t.isoformat()}, "to"),
            ({"from": "2019-01-01", "to": "2024-01-01"}, "to"),
            ({"from": "2025-01-01", "to": "2025-03-31", "format": "pdf"}, "format"),
        ]
        for name in ("pqrsd", "acceso"):
            for params, field in cases:
                with self.subTest(report=name, params=params):
                    H.assert_error(self, self.report(name, **params), 422, "invalid", field=field)
        self.assertEqual(self.report("pqrsd", **{"from": "2019-01-01", "to": "2023-12-31"}).status, 200)

    def test_10_cli_equals_api(self):
        for name in ("pqrsd", "acceso"):
            for frm, to in ((self.frm, self.to), (S.add_bd(self.anchor, -40), S.add_bd(self.anchor, -10))):
                with self.subTest(report=name, frm=frm):
                    api = self.report(name, format="csv", **self.rng(frm, to))
                    self.assertEqual(api.status, 200)
                    # bytes, not text: CRLF must survive
                    p = subprocess.run([H.BIN, "report", name, "--config", self.d.cfg_path, "--data-dir",
                                        self.d.data_dir, "--from", frm.isoformat(), "--to", to.isoformat()],
                                       capture_output=True, timeout=30, env=self.d.env)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertGreater(p.stdout.count(b"\r\n"), 5)
                    self.assertEqual(p.stdout, api.body)
        p = H.run_cli("report", "pqrsd", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir, "--from",
                      self.frm.isoformat(), "--to", self.to.isoformat(), "--format", "html", env=self.d.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("<caption>", p.stdout)
        self.assertNotIn("<script", p.stdout.lower())
        bad = H.run_cli("report", "pqrsd", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir,
                        "--from", "2025-04-01", "--to", "2025-03-01", env=self.d.env)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--to", bad.stderr)
        bad = H.run_cli("report", "anual", "--config", self.d.cfg_path, "--from", "2025-01-01", "--to",
                        "2025-03-01", env=self.d.env)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("ventanilla report", bad.stderr)

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


if __name__ == "__main__":
    H.main()
