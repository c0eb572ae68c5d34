"""Casework (src/domain/casework.h) through the staff API against the real daemon:
every action from every status, allowed or refused as the rules table says;
the legal arithmetic of Ley 1755 on business days (the extension's limits,
the 10-day window to ask for completion, the pause and the term counted
anew, the tacit withdrawal, the 5-day transfer flag); the citizen's notices
reaching the fake WhatsApp Graph API and a real SMTP server (with the
answer's PDF as a MIME attachment), an anonymous answer published instead;
a citizen's email or WhatsApp reply resuming a paused item; and the staff
live feed, scoped to each subscriber's office.

The daemon has no clock to move, so a test that needs a filing day in the
past or a due date already gone writes that one column in the database
(between requests; the daemon reads rows afresh for every action). The
audit chain is never touched and `ventanilla audit verify` passes at the end.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_14_casework.py
"""
import asyncio
import datetime
import email
import email.policy
import email.utils
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import staffkit as S  # noqa: E402
from staffkit import Staff  # noqa: E402

TRIAGE = "atencion_ciudadano"
FAST_LOGINS = {"login_per_minute": 10000}
STATUSES = ["radicado", "en_tramite", "pendiente_completar", "respondido", "cerrado", "desistido", "trasladado"]
AG, CO = "agente", "coordinador"
# casework.c rules[]: action, roles, from, to (None: unchanged)
RULES = [
    ("assign", {AG, CO}, {"radicado", "en_tramite"}, "en_tramite"),
    ("reclassify", {AG, CO}, {"radicado", "en_tramite", "pendiente_completar"}, None),
    ("classify", {AG, CO}, {"radicado", "en_tramite", "pendiente_completar"}, None),
    ("request_completion", {AG, CO}, {"radicado", "en_tramite"}, "pendiente_completar"),
    ("complete", {AG, CO}, {"pendiente_completar"}, "en_tramite"),
    ("extend", {CO}, {"radicado", "en_tramite"}, None),
    ("transfer", {AG, CO}, {"radicado", "en_tramite"}, "trasladado"),
    ("note", {AG, CO}, set(STATUSES), None),
    ("respond", {AG, CO}, {"radicado", "en_tramite", "respondido"}, "respondido"),
    ("close", {AG, CO}, {"radicado", "en_tramite", "respondido"}, "cerrado"),
    ("reopen", {CO}, {"respondido", "cerrado", "desistido", "trasladado"}, "en_tramite"),
]
EVENT_OF = {"assign": "asignado", "reclassify": "reclasificado", "classify": "clasificacion_revisada",
            "request_completion": "completar_solicitado",
            "complete": "completada", "extend": "prorrogado", "transfer": "trasladado", "note": "nota",
            "respond": "respondido", "close": "cerrado", "reopen": "reabierto"}


def err(tc, resp, status, code, field=None):
    return H.assert_error(tc, resp, status, code, field=field)


def allowed_actions(role, status):
    return [a for a, roles, frm, _ in RULES if role in roles and status in frm]


def db_exec(d, sql, args=()):
    """Writes one statement into the running daemon's database (see the module docstring)."""
    d.execute(sql, args)


def d8(s):
    return datetime.date.fromisoformat(s)


class CaseBase(H.DaemonCase):
    """One daemon; staff: ag, ag2 (agentes of the triage office), co
    (its coordinador), ag_obras (agente of obras), ge (gerente), ad (admin)."""
    staff_cfg = {}
    extra_cfg = {}
    name = "case"

    @classmethod
    def config(cls):
        return H.deep_merge({"staff": dict(FAST_LOGINS, **cls.staff_cfg)}, cls.extra_cfg)

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(cls.config(), name=cls.name)
        for name, role, dep in [("ag", AG, TRIAGE), ("ag2", AG, TRIAGE), ("co", CO, TRIAGE),
                                ("ag_obras", AG, "obras"), ("co_obras", CO, "obras"), ("ge", "gerente", None),
                                ("ad", "admin", None)]:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n in ("ag", "ag2", "co", "ag_obras", "co_obras", "ge", "ad")}
        r = cls.s["ad"].post("/api/v1/dependencias", {"code": "obras", "name": "Obras públicas", "active": True})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    # -- helpers
    def new_item(self, **over):
        over.setdefault("requester", S.web_requester())
        return S.file_item(self, self.d, **over)["radicado"]

    def item(self, rad, who="co"):
        return self.s[who].item(rad)

    def ok(self, resp, what=""):
        self.assertEqual(resp.status, 200, "%s: %r" % (what, resp))
        return resp.json()

    def events(self, rad, action=None):
        rows = self.d.query("SELECT e.* FROM audit_events e JOIN items i ON i.id = e.item_id WHERE i.radicado = ? "
                            "ORDER BY e.id", (rad,))
        return [r for r in rows if action is None or r["action"] == action]

    def last_event(self, rad, action):
        ev = self.events(rad, action)
        self.assertTrue(ev, "no %s event for %s" % (action, rad))
        return ev[-1], json.loads(ev[-1]["payload"])

    def set_col(self, rad, col, value):
        assert re.match(r"^[a-z_]+$", col)
        db_exec(self.d, "UPDATE items SET %s = ? WHERE radicado = ?" % col, (value, rad))



class AuditAtEnd:
    """Mixed into each class: the audit chain still verifies after its tests."""

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


# ---------------------------------------------------------------------------
# Every action from every status


class Transitions(AuditAtEnd, CaseBase):
    staff_cfg = {"due_refresh_seconds": 1}
    name = "case-transitions"
    POOL = 8

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # desistido items: asked to complete, deadline gone (set in the DB), swept.
        cls.pool = []
        co = cls.s["co"]
        for _ in range(cls.POOL):
            r = cls.d.post_json(H.item_payload(requester=S.web_requester()))
            assert r.status == 201, r
            rad = r.json()["radicado"]
            r = co.act(rad, "request_completion", text="Falta copia de la cédula")
            assert r.status == 200, r
            cls.pool.append(rad)
        yesterday = S.iso(S.today() - datetime.timedelta(days=1))
        for rad in cls.pool:
            db_exec(cls.d, "UPDATE items SET completion_deadline = ? WHERE radicado = ?", (yesterday, rad))
        S.wait(lambda: cls.d.scalar("SELECT count(*) FROM items WHERE status = 'desistido'") == cls.POOL,
               timeout=H.WAIT, what="the sweep to archive the lapsed items")

    def make(self, status):
        """A fresh item of the triage office in status."""
        co = self.s["co"]
        if status == "desistido":
            self.assertTrue(self.pool, "the desistido pool ran out")
            return self.pool.pop()
        rad = self.new_item()
        step = {"radicado": None, "en_tramite": ("assign", {"dependencia": TRIAGE}),
                "pendiente_completar": ("request_completion", {"text": "Falta el número de matrícula"}),
                "respondido": ("respond", {"text": "Le respondemos de fondo."}),
                "cerrado": ("close", {"reason": "Duplicada"}),
                "trasladado": ("transfer", {"entity": "Superintendencia de Servicios Públicos",
                                            "reason": "El asunto es de su competencia"})}[status]
        if step:
            doc = self.ok(co.act(rad, step[0], **step[1]), "making a %s item" % status)
            self.assertEqual(doc["status"], status)
        return rad

    def fields(self, action, doc):
        due = doc.get("due_date")
        return {"assign": {"dependencia": TRIAGE},
                "reclassify": {"type": "queja"},
                "classify": {"group": "academia"},
                "request_completion": {"text": "Falta la dirección del predio"},
                "complete": {"note": "Trajo los documentos a la ventanilla"},
                "extend": {"reason": "Hay que pedir un concepto técnico",
                           "due_date": S.iso(S.add_bd(d8(due), 1)) if due else "2030-01-02"},
                "transfer": {"entity": "Ministerio de Transporte", "reason": "No es de nuestra competencia"},
                "note": {"text": "Llamé al ciudadano"},
                "respond": {"text": "Respuesta de fondo a su solicitud."},
                "close": {"reason": "Resuelta por teléfono"},
                "reopen": {"reason": "El ciudadano aportó un hecho nuevo"}}[action]

    def run_matrix(self, who):
        role = who.user["role"]
        refused_item = {}
        for status in STATUSES:
            for action, roles, frm, to in RULES:
                with self.subTest(role=role, status=status, action=action):
                    ok_role, ok_state = role in roles, status in frm
                    if ok_role and ok_state:
                        rad = self.make(status)
                    else:
                        if status not in refused_item:
                            refused_item[status] = self.make(status)
                        rad = refused_item[status]
                    before = self.item(rad)
                    self.assertEqual(before["status"], status)
                    self.assertEqual(self.item(rad, who.username)["actions"], allowed_actions(role, status))
                    r = who.act(rad, action, **self.fields(action, before))
                    if ok_role and ok_state:
                        doc = self.ok(r, "%s %s from %s" % (role, action, status))
                        want = to or status
                        self.assertEqual(doc["status"], want)
                        want_actions = allowed_actions(role, want)
                        if action == "extend":  # the law allows one extension
                            want_actions = [a for a in want_actions if a != "extend"]
                        self.assertEqual(doc["actions"], want_actions)
                        last = doc["timeline"][-1]
                        self.assertEqual((last["action"], last["actor"]), (EVENT_OF[action], who.username))
                        ev, _ = self.last_event(rad, EVENT_OF[action])
                        self.assertEqual(ev["actor"], "staff:" + who.username)
                        self.assertEqual(self.d.scalar("SELECT status FROM items WHERE radicado = ?", (rad,)), want)
                    else:
                        if not ok_role:
                            err(self, r, 403, "forbidden")
                        else:
                            err(self, r, 409, "invalid_transition")
                        after = self.item(rad)
                        self.assertEqual(after["status"], status, "a refused action changed the status")
                        self.assertEqual(len(after["timeline"]), len(before["timeline"]),
                                         "a refused action left an audit event")
                        for k in ("due_date", "dependencia", "type", "original_due_date", "completion_deadline"):
                            self.assertEqual(after[k], before[k], k)

    def test_01_every_transition_as_coordinador(self):
        self.run_matrix(self.s["co"])

    def test_02_every_transition_as_agente(self):
        self.run_matrix(self.s["ag"])

    def test_03_no_action_for_other_roles(self):
        rad = self.new_item()
        for name in ("ge", "ad"):
            for action, _, _, _ in RULES:
                with self.subTest(who=name, action=action):
                    err(self, self.s[name].act(rad, action, **self.fields(action, self.item(rad))), 403, "forbidden")
        self.assertEqual(self.item(rad)["status"], "radicado")
        self.assertEqual(len(self.events(rad)), 1)

    def test_04_field_validation(self):
        co = self.s["co"]
        rad = self.new_item()
        resp = self.make("respondido")
        cases = [
            (rad, {"action": "assign"}, "dependencia"),
            (rad, {"action": "assign", "dependencia": "  "}, "dependencia"),
            (rad, {"action": "assign", "dependencia": "no_existe"}, "dependencia"),
            (rad, {"action": "assign", "dependencia": "obras", "assignee": "ag"}, "assignee"),
            (rad, {"action": "assign", "dependencia": TRIAGE, "assignee": "ge"}, "assignee"),
            (rad, {"action": "assign", "dependencia": TRIAGE, "assignee": "ad"}, "assignee"),
            (rad, {"action": "assign", "dependencia": TRIAGE, "assignee": "nadie"}, "assignee"),
            (rad, {"action": "reclassify"}, "type"),
            (rad, {"action": "reclassify", "type": "chisme"}, "type"),
            (rad, {"action": "reclassify", "type": "queja", "petition_class": "documentos"}, "petition_class"),
            (rad, {"action": "reclassify", "petition_class": "inventada"}, "petition_class"),
            (rad, {"action": "reclassify", "group": "marcianos"}, "group"),
            (rad, {"action": "request_completion"}, "text"),
            (rad, {"action": "request_completion", "text": " \n "}, "text"),
            (rad, {"action": "extend", "due_date": "2030-01-02"}, "reason"),
            (rad, {"action": "extend", "reason": "motivo"}, "due_date"),
            (rad, {"action": "extend", "reason": "motivo", "due_date": "mañana"}, "due_date"),
            (rad, {"action": "extend", "reason": "motivo", "due_date": "2030-02-30"}, "due_date"),
            (rad, {"action": "transfer", "reason": "motivo"}, "entity"),
            (rad, {"action": "transfer", "entity": "x" * 201, "reason": "motivo"}, "entity"),
            (rad, {"action": "transfer", "entity": "Mintransporte"}, "reason"),
            (rad, {"action": "transfer", "entity": "Mintransporte", "reason": "m", "entity_email": "no-es-correo"},
             "entity_email"),
            (rad, {"action": "transfer", "entity": "Mintransporte", "reason": "m",
                   "entity_email": "a@b.co>\r\nBcc: x@y.co"}, "entity_email"),
            (rad, {"action": "note"}, "text"),
            (rad, {"action": "note", "text": ""}, "text"),
            (rad, {"action": "respond"}, "text"),
            (rad, {"action": "close"}, "reason"),
            (resp, {"action": "reopen"}, "reason"),
            (rad, {"action": "volar"}, "action"),
            (rad, {"action": 5}, "action"),
            (rad, {"text": "sin acción"}, "action"),
            (rad, {"action": "note", "text": 5}, "text"),
            (rad, {"action": "note", "text": ["a"]}, "text"),
            (rad, {"action": "note", "text": "x" * 20001}, "text"),
            (rad, {"action": "respond", "text": "r", "attachments": "no"}, "attachments"),
            (rad, {"action": "respond", "text": "r", "attachments": [{"filename": "a.pdf"}]}, "attachments"),
            (rad, {"action": "respond", "text": "r", "attachments": [{"filename": "a.pdf",
                                                                       "content_base64": "%%%no-base64%%%"}]},
             "attachments"),
            (rad, {"action": "respond", "text": "r", "attachments": [{"filename": "a.pdf", "content_base64": ""}]},
             "attachments"),
            (rad, {"action": "respond", "text": "r", "attachments": [
                {"filename": "programa.pdf", "content_base64": S.b64(H.elf_executable())}]}, "attachments"),
            (rad, {"action": "respond", "text": "r", "attachments": [
                {"filename": "f%d.pdf" % i, "content_base64": S.b64(H.minimal_pdf())} for i in range(6)]},
             "attachments"),
        ]
        for target, body, field in cases:
            with self.subTest(body=str(body)[:120]):
                before = len(self.events(target))
                stored = H.stored(self.d)
                r = co.post("/api/v1/items/%s/actions" % target, body)
                err(self, r, 422, "invalid", field)
                self.assertEqual(len(self.events(target)), before)
                H.assert_nothing_stored(self, self.d, stored)
        for raw in (b"no es json", b"[]", b""):
            err(self, co.post("/api/v1/items/%s/actions" % rad, raw=raw), 422, "invalid", "action")
        self.assertEqual(self.item(rad)["status"], "radicado")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM responses r JOIN items i ON i.id = r.item_id "
                                       "WHERE i.radicado = ?", (rad,)), 0)
        # close needs no reason once answered.
        doc = self.ok(co.act(resp, "close"))
        self.assertEqual(doc["status"], "cerrado")
        _, p = self.last_event(resp, "cerrado")
        self.assertIs(p["answered"], True)

    def test_05_assign_and_assignee(self):
        ag, ag2, co = self.s["ag"], self.s["ag2"], self.s["co"]
        rad = self.new_item()
        doc = self.ok(ag.act(rad, "assign", dependencia=TRIAGE, assignee="ag"), "agente takes an unheld item")
        self.assertEqual((doc["status"], doc["dependencia"], doc["assignee"]), ("en_tramite", TRIAGE, "ag"))
        _, p = self.last_event(rad, "asignado")
        self.assertEqual(p, {"dependencia": TRIAGE, "assignee": "ag"})
        err(self, ag2.act(rad, "assign", dependencia=TRIAGE, assignee="ag2"), 403, "forbidden")
        self.assertEqual(self.item(rad)["assignee"], "ag")
        self.ok(ag.act(rad, "assign", dependencia=TRIAGE, assignee="ag2"), "the holder hands it on")
        err(self, ag.act(rad, "assign", dependencia=TRIAGE, assignee="ag"), 403, "forbidden")
        doc = self.ok(co.act(rad, "assign", dependencia=TRIAGE, assignee="ag"), "a coordinador reassigns")
        self.assertEqual((doc["status"], doc["assignee"]), ("en_tramite", "ag"))
        doc = self.ok(co.act(rad, "assign", dependencia="obras", assignee="ag_obras"))
        self.assertEqual(doc.pop("result")["outcome"], "none", "assigning tells the citizen nothing")
        self.assertEqual(doc, {"radicado": rad, "status": "en_tramite", "dependencia": "obras", "out_of_scope": True},
                         "routed out of the coordinador's scope: the short answer")
        err(self, co.get("/api/v1/items/" + rad), 404, "not_found")
        doc = self.s["ag_obras"].item(rad)
        self.assertEqual((doc["status"], doc["dependencia"], doc["assignee"]), ("en_tramite", "obras", "ag_obras"))
        # Assigning without assignee clears it.
        doc = self.ok(self.s["co_obras"].act(rad, "assign", dependencia="obras"))
        self.assertIsNone(doc["assignee"])

    def test_06_reclassify(self):
        co = self.s["co"]
        rad = self.new_item()
        doc0 = self.item(rad)
        filed = d8(doc0["filed_date"])
        self.assertEqual(doc0["due_date"], S.iso(S.add_bd(filed, 15)))
        doc = self.ok(co.act(rad, "reclassify", type="peticion", petition_class="documentos"))
        self.assertEqual((doc["type"], doc["petition_class"], doc["term_days"]), ("peticion", "documentos", 10))
        self.assertEqual(doc["due_date"], S.iso(S.add_bd(filed, 10)), "the new term, counted from the filing day")
        filed_group = doc0["group"]  # the classifier's, from the text
        self.assertEqual(doc["original"], {"type": "peticion", "petition_class": "general", "group": filed_group})
        self.assertEqual(doc["classified_by"], "staff")
        doc = self.ok(co.act(rad, "reclassify", type="queja", group="academia"))
        self.assertEqual((doc["type"], doc["petition_class"], doc["group"]), ("queja", None, "academia"))
        self.assertEqual(doc["original"], {"type": "peticion", "petition_class": "general", "group": filed_group},
                         "the labels before the first reclassification are kept")
        self.assertEqual(doc["due_date"], S.iso(S.add_bd(filed, 15)))
        _, p = self.last_event(rad, "reclasificado")
        self.assertEqual(p["from"]["type"], "peticion")
        self.assertEqual(p["to"], {"type": "queja", "petition_class": "", "group": "academia",
                                   "due_date": S.iso(S.add_bd(filed, 15))})
        doc = self.ok(co.act(rad, "reclassify", type="peticion", petition_class="consulta"))
        self.assertEqual(doc["due_date"], S.iso(S.add_bd(filed, 30)))
        # A felicitación has no term: nothing to extend or pause.
        doc = self.ok(co.act(rad, "reclassify", type="felicitacion"))
        self.assertIsNone(doc["due_date"])
        self.assertIsNone(doc["term_days"])
        err(self, co.act(rad, "extend", reason="r", due_date="2030-01-02"), 409, "invalid_transition")
        err(self, co.act(rad, "request_completion", text="t"), 409, "invalid_transition")
        # While paused, or once extended, a reclassification keeps the dates.
        rad2 = self.new_item()
        self.ok(co.act(rad2, "request_completion", text="Falta un documento"))
        before = self.item(rad2)
        doc = self.ok(co.act(rad2, "reclassify", type="peticion", petition_class="documentos"))
        self.assertEqual((doc["status"], doc["due_date"]), ("pendiente_completar", before["due_date"]))
        rad3 = self.new_item()
        due = d8(self.item(rad3)["due_date"])
        self.ok(co.act(rad3, "extend", reason="Concepto técnico", due_date=S.iso(S.add_bd(due, 3))))
        doc = self.ok(co.act(rad3, "reclassify", type="queja"))
        self.assertEqual((doc["due_date"], doc["original_due_date"]), (S.iso(S.add_bd(due, 3)), S.iso(due)))

    def test_07_listed_actions_respect_the_legal_limits(self):
        """docs/staff-api.md: `actions` are "the actions the user may take now";
        an action the daemon is sure to refuse (409) is not one of them."""
        co = self.s["co"]
        today = S.today()
        cases = []
        rad = self.new_item()
        due = d8(self.item(rad)["due_date"])
        self.ok(co.act(rad, "extend", reason="Concepto", due_date=S.iso(S.add_bd(due, 2))))
        cases.append((rad, "already extended", "extend"))
        rad = self.new_item(type="felicitacion")
        cases += [(rad, "no term (felicitación)", "extend"), (rad, "no term (felicitación)", "request_completion")]
        rad = self.new_item()
        self.set_col(rad, "due_date", S.iso(S.add_bd(today, -1)))
        cases.append((rad, "past its due date", "extend"))
        rad = self.new_item()
        self.set_col(rad, "filed_date", S.iso(S.add_bd(today, -15)))
        cases.append((rad, "filed 15 business days ago", "request_completion"))
        for rad, why, action in cases:
            with self.subTest(why=why, action=action):
                fields = {"extend": {"reason": "r", "due_date": S.iso(S.add_bd(today, 20))},
                          "request_completion": {"text": "t"}}[action]
                err(self, co.act(rad, action, **fields), 409, "invalid_transition")
                self.assertNotIn(action, self.item(rad)["actions"],
                                 "%s is listed although it is refused (%s)" % (action, why))

    def test_08_answer_to_a_channel_that_is_off_waits_as_a_letter(self):
        """This daemon runs neither the email nor the WhatsApp channel. An
        answer for a named citizen who chose one of them cannot be sent; it
        is never published either (issue 12): it waits as a printed letter
        (delivery.h) and nothing goes to an outbox with no transport."""
        co = self.s["co"]
        p = H.person()
        for label, req, extra in [("email", dict(S.web_requester(), email=p["email"]), {}),
                                  ("whatsapp", dict(S.web_requester(), phone=p["phone"]),
                                   {"reply_channel": "whatsapp"})]:
            with self.subTest(reply_channel=label):
                rad = self.new_item(requester=req, **extra)
                self.assertEqual(self.item(rad)["reply_channel"], label)
                doc = self.ok(co.act(rad, "respond", text="Respuesta sin canal activo"))
                # Outbox rows commit with the action: the 200 means they are final.
                rows = [(o["channel"], o["status"]) for o in self.d.query(
                    "SELECT o.channel, o.status FROM outbox o JOIN items i ON i.id = o.item_id "
                    "WHERE i.radicado = ? AND o.kind = 'respuesta'", (rad,))]
                self.assertEqual((doc["responses"][-1]["channel"], doc["responses"][-1]["published"], rows,
                                  doc["result"]["outcome"]), ("carta", False, [], "letter_pending"),
                                 "the %s channel is not running: neither queued for ever nor published" % label)

    def test_09_answer_file_names_cannot_inject_headers(self):
        rad = self.new_item()
        pdf = H.minimal_pdf("inyección")
        name = 'acta"\r\nSet-Cookie: vt_session=x;\r\n.pdf'
        doc = self.ok(self.s["co"].act(rad, "respond", text="Con archivo",
                                       attachments=[{"filename": name, "content_base64": S.b64(pdf)}]))
        f = doc["responses"][-1]["attachments"][0]
        self.assertEqual((f["filename"], f["size"]), (name, len(pdf)))
        g = self.s["co"].get(f["url"])
        self.assertEqual(g.body, pdf)
        self.assertIsNone(g.header("set-cookie"))
        cd = g.header("content-disposition")
        self.assertTrue(cd.startswith('attachment; filename="') and cd.count('"') == 2, cd)
        self.assertNotIn("\r", cd)

    # -- the arithmetic

    def test_10_extension_limits(self):
        co = self.s["co"]
        rad = self.new_item()  # petición general: 15 business days
        doc = self.item(rad)
        due, term = d8(doc["due_date"]), doc["term_days"]
        self.assertEqual(term, 15)
        limit = S.add_bd(due, term)
        off = next(x for x in (due + datetime.timedelta(days=i) for i in range(1, 40))
                   if not S.is_business(x) and x < limit)
        for wanted, why in [(due, "the current due date"), (due - datetime.timedelta(days=1), "before it"),
                            (S.add_bd(due, term + 1), "beyond twice the term"),
                            (limit + datetime.timedelta(days=1), "the day after the limit"),
                            (off, "a non-business day (%s)" % off.strftime("%A"))]:
            with self.subTest(due_date=S.iso(wanted), why=why):
                e = err(self, co.act(rad, "extend", reason="Concepto técnico", due_date=S.iso(wanted)),
                        422, "invalid", "due_date")
                if "beyond" in why:
                    self.assertIn(S.date_es(limit), e["message"], "the refusal names the latest date")
        self.assertEqual(self.item(rad)["due_date"], S.iso(due))
        # Within limits: exactly twice the term.
        doc = self.ok(co.act(rad, "extend", reason="Se requiere visita técnica", due_date=S.iso(limit)))
        self.assertEqual((doc["due_date"], doc["original_due_date"], doc["extended"], doc["status"]),
                         (S.iso(limit), S.iso(due), True, "radicado"))
        ev, p = self.last_event(rad, "prorrogado")
        self.assertEqual(ev["public"], 1)
        self.assertEqual((p["from"], p["to"], p["limit"], p["reason"]),
                         (S.iso(due), S.iso(limit), S.iso(limit), "Se requiere visita técnica"))
        self.assertEqual(p["notified_by"], "consulta", "no email or phone: the citizen reads it on the status page")
        # Only once.
        err(self, co.act(rad, "extend", reason="Otra vez", due_date=S.iso(S.add_bd(limit, 1))),
            409, "invalid_transition")
        # A shorter term: documentos (10) extends by 10 at most; an intermediate date is fine.
        rad = self.new_item(petition_class="documentos")
        due = d8(self.item(rad)["due_date"])
        err(self, co.act(rad, "extend", reason="r", due_date=S.iso(S.add_bd(due, 11))), 422, "invalid", "due_date")
        doc = self.ok(co.act(rad, "extend", reason="r", due_date=S.iso(S.add_bd(due, 4))))
        self.assertEqual(doc["due_date"], S.iso(S.add_bd(due, 4)))
        # The queue shows it extended.
        rows = {i["radicado"]: i for i in co.queue(per_page=100, q=rad).json()["items"]}
        self.assertIs(rows[rad]["extended"], True)

    def test_11_extension_after_the_due_date(self):
        co = self.s["co"]
        today = S.today()
        rad = self.new_item()
        passed = S.add_bd(today, -1)
        self.set_col(rad, "due_date", S.iso(passed))
        e = err(self, co.act(rad, "extend", reason="tarde", due_date=S.iso(S.add_bd(today, 3))),
                409, "invalid_transition")
        self.assertIn(S.date_es(passed), e["message"])
        self.assertIsNone(self.item(rad)["original_due_date"])
        # Due today: still in time.
        rad = self.new_item()
        self.set_col(rad, "due_date", S.iso(today))
        target = S.add_bd(today, 2)
        doc = self.ok(co.act(rad, "extend", reason="a tiempo", due_date=S.iso(target)))
        self.assertEqual((doc["due_date"], doc["original_due_date"]), (S.iso(target), S.iso(today)))

    def test_12_completion_only_within_10_business_days(self):
        co = self.s["co"]
        today = S.today()
        # The earliest filing day from which completion may still be asked today, and the one before it.
        f = today
        while S.add_bd(S.add_bd(f, -1), 10) >= today:
            f = S.add_bd(f, -1)
        while not S.is_business(f):
            f += datetime.timedelta(days=1)
        late = S.add_bd(f, -1)
        self.assertGreaterEqual(S.add_bd(f, 10), today)
        self.assertLess(S.add_bd(late, 10), today)
        rad = self.new_item()
        self.set_col(rad, "filed_date", S.iso(late))
        e = err(self, co.act(rad, "request_completion", text="Falta un anexo"), 409, "invalid_transition")
        self.assertIn("10 días hábiles", e["message"])
        self.assertIn(S.date_es(S.add_bd(late, 10)), e["message"])
        self.assertEqual(self.item(rad)["status"], "radicado")
        rad = self.new_item()
        self.set_col(rad, "filed_date", S.iso(f))
        doc = self.ok(co.act(rad, "request_completion", text="Falta un anexo"), "on the 10th business day")
        self.assertEqual(doc["status"], "pendiente_completar")

    def test_13_pause_and_resume(self):
        co = self.s["co"]
        rad = self.new_item(petition_class="documentos")
        before = self.item(rad)
        due0, term = before["due_date"], before["term_days"]
        doc = self.ok(co.act(rad, "request_completion", text="Adjunte el certificado de tradición"))
        wait_days = self.staff_cfg.get("completion_wait_days", 30)
        deadline = S.iso(S.today() + datetime.timedelta(days=wait_days))
        self.assertEqual((doc["status"], doc["paused"], doc["overdue"]), ("pendiente_completar", True, False))
        self.assertEqual(doc["completion_deadline"], deadline, "asked + completion_wait_days calendar days")
        self.assertEqual(doc["due_date"], due0, "the due date is kept while paused")
        ev, p = self.last_event(rad, "completar_solicitado")
        self.assertEqual((p["deadline"], p["paused_due_date"], p["text"]),
                         (deadline, due0, "Adjunte el certificado de tradición"))
        self.assertEqual(ev["public"], 1)
        # Paused: never overdue, never due soon, even once its old due date is gone.
        self.set_col(rad, "due_date", S.iso(S.add_bd(S.today(), -3)))
        self.assertNotIn(rad, [i["radicado"] for i in co.queue(overdue=1, per_page=100).json()["items"]])
        self.assertNotIn(rad, [i["radicado"] for i in co.queue(due_within=365, per_page=100).json()["items"]])
        self.assertIs(self.item(rad)["overdue"], False)
        # Completed in person: the whole term counted anew from the business day it counts on.
        t0 = H.bogota_now()
        doc = self.ok(co.act(rad, "complete", note="Trajo el certificado a la ventanilla"))
        t1 = H.bogota_now()
        expect = {S.iso(S.add_bd(S.filed_date(t), term)) for t in (t0, t1)}
        self.assertIn(doc["due_date"], expect)
        self.assertEqual((doc["status"], doc["paused"], doc["completion_deadline"]), ("en_tramite", False, None))
        ev, p = self.last_event(rad, "completada")
        self.assertEqual((p["due_date"], p["previous_due_date"], p["by"]),
                         (doc["due_date"], S.iso(S.add_bd(S.today(), -3)), "staff"))
        self.assertEqual(ev["actor"], "staff:co")
        # Once resumed it can be paused again within the window (the law counts from filing).
        self.ok(co.act(rad, "request_completion", text="Falta otra firma"))
        # docs/staff-api.md: complete takes an optional `note`, recorded with the event.
        self.assertEqual(p.get("note"), "Trajo el certificado a la ventanilla",
                         "the note sent with complete was dropped: %r" % p)

    def test_14_tacit_withdrawal(self):
        co = self.s["co"]
        lapsed, today_deadline = self.new_item(), self.new_item()
        for rad in (lapsed, today_deadline):
            self.ok(co.act(rad, "request_completion", text="Falta el plano"))
        # The deadline that must not lapse is set first: the sweep (one
        # transaction over every lapsed item) that archives the other has
        # seen it, a positive barrier instead of waiting for another sweep.
        self.set_col(today_deadline, "completion_deadline", S.iso(S.today()))
        self.set_col(lapsed, "completion_deadline", S.iso(S.today() - datetime.timedelta(days=1)))
        S.wait(lambda: self.item(lapsed)["status"] == "desistido", timeout=H.WAIT, what="the sweep")
        self.assertEqual(self.item(today_deadline)["status"], "pendiente_completar",
                         "the deadline day itself still counts")
        ev, p = self.last_event(lapsed, "desistido")
        self.assertEqual(ev["actor"], "sistema")
        self.assertEqual(ev["public"], 1)
        self.assertEqual(p["deadline"], S.iso(S.today() - datetime.timedelta(days=1)))
        doc = self.item(lapsed)
        self.assertEqual(doc["actions"], ["note", "reopen"])
        doc = self.ok(co.act(lapsed, "reopen", reason="Trajo los documentos un día tarde"))
        self.assertEqual((doc["status"], doc["completion_deadline"]), ("en_tramite", None))
        _, p = self.last_event(lapsed, "reabierto")
        self.assertEqual(p["from"], "desistido")

    def test_15_transfer_within_5_business_days(self):
        co = self.s["co"]
        today = S.today()
        f = today
        while S.add_bd(S.add_bd(f, -1), 5) >= today:
            f = S.add_bd(f, -1)
        while not S.is_business(f):
            f += datetime.timedelta(days=1)
        late = S.add_bd(f, -1)
        for filed, within in [(None, True), (f, True), (late, False)]:
            with self.subTest(filed=filed):
                rad = self.new_item()
                if filed:
                    self.set_col(rad, "filed_date", S.iso(filed))
                doc = self.ok(co.act(rad, "transfer", entity="Secretaría de Movilidad",
                                     reason="Le corresponde la señalización vial"))
                self.assertEqual(doc["status"], "trasladado")
                ev, p = self.last_event(rad, "trasladado")
                self.assertIs(p["within_5_days"], within, "filed %s, transferred %s" % (filed, today))
                self.assertEqual((p["entity"], p["forwarded_by"], p["notified_by"]),
                                 ("Secretaría de Movilidad", "no", "consulta"))
                self.assertEqual(ev["public"], 1)

    def test_16_access_decision_on_documents_petitions(self):
        """The Decreto 1081 report counts denied access: a documents
        petition's answer records concedido (default), parcial or negado;
        no other answer takes one."""
        co = self.s["co"]
        for access, want in [(None, "concedido"), ("negado", "negado"), ("parcial", "parcial")]:
            with self.subTest(access=access):
                rad = self.new_item(type="peticion", petition_class="documentos")
                fields = {"text": "Adjuntamos la información pedida."}
                if access:
                    fields["access"] = access
                doc = self.ok(co.act(rad, "respond", **fields))
                self.assertEqual(doc["responses"][-1]["access"], want)
                self.assertEqual(self.d.scalar(
                    "SELECT r.access FROM responses r JOIN items i ON i.id = r.item_id "
                    "WHERE i.radicado = ?", (rad,)), want)
                _, p = self.last_event(rad, "respondido")
                self.assertEqual(p["access"], want)
        rad = self.new_item(type="queja")
        err(self, co.act(rad, "respond", text="Respuesta", access="negado"), 422, "invalid", "access")
        rad = self.new_item(type="peticion", petition_class="documentos")
        err(self, co.act(rad, "respond", text="Respuesta", access="tal vez"), 422, "invalid", "access")
        self.assertEqual(self.item(rad)["status"], "radicado")
        doc = self.ok(co.act(self.new_item(type="queja"), "respond", text="Respuesta"))
        self.assertIsNone(doc["responses"][-1]["access"])


class PauseDefaults(AuditAtEnd, CaseBase):
    """staff.completion_wait_days = 5 instead of 30."""
    staff_cfg = {"completion_wait_days": 5}
    name = "case-wait"

    def test_01_wait_days_from_config(self):
        rad = self.new_item()
        doc = self.ok(self.s["co"].act(rad, "request_completion", text="Falta la firma"))
        self.assertEqual(doc["completion_deadline"], S.iso(S.today() + datetime.timedelta(days=5)))


# ---------------------------------------------------------------------------
# Notices on the citizen's channel: fake Graph API, real SMTP (and IMAP)


ENTITY = "atencionalciudadano@entidad.gov.co"
MAILUSER, MAILPASS = "atencion", "clave-prueba"


def mail(frm, subject, body, msgid=None, headers=None, name="Zenaida Quintero Prueba"):
    msgid = msgid or "<c%d.%d@correo-prueba.example.com>" % (os.getpid(), H.unique())
    lines = ["From: %s <%s>" % (name, frm), "To: %s" % ENTITY, "Subject: %s" % subject,
             "Message-ID: %s" % msgid, "Date: %s" % email.utils.formatdate(localtime=True), "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return msgid, ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def citizen_email():
    return "ciudadana%d.%d@correo-prueba.example.com" % (os.getpid(), H.unique())


def wa_number():
    return "57310%07d" % ((os.getpid() * 31 + H.unique() * 7919) % 10 ** 7)


def text_of(msg):
    """The text/plain part of an email.message.EmailMessage."""
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class Channels(AuditAtEnd, CaseBase):
    name = "case-channels"

    @classmethod
    def config(cls):
        import fake_graph
        import mailservers
        import wa
        cls.graph = fake_graph.FakeGraph().start()
        cls.imap = mailservers.Dovecot(users={MAILUSER: MAILPASS}).start()
        cls.smtp = mailservers.SmtpSink().start()
        cls.wa = wa
        mb = {"name": "atencion", "imap_url": cls.imap.url(MAILUSER), "username": MAILUSER, "password": MAILPASS,
              "poll_seconds": 1}
        cfg = H.deep_merge(wa.config(cls.graph), {
            "channels": {"email": {"enabled": True, "mailboxes": [mb], "smtp_url": cls.smtp.url, "from": ENTITY,
                                   "allow_plaintext_loopback": True}},
            "outbox": {"timeout_ms": 3000},
            "staff": dict(FAST_LOGINS, due_refresh_seconds=1)})
        return cfg

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.smtp.stop()
            cls.imap.stop()
            cls.graph.stop()

    # -- helpers
    def mails_to(self, addr, subject_has=None):
        return [m for m in self.smtp.messages(to=addr)
                if subject_has is None or subject_has in (m.msg["Subject"] or "")]

    def wait_mail(self, addr, subject_has, n=1, timeout=H.WAIT):
        def enough():
            got = self.mails_to(addr, subject_has)
            return got if len(got) >= n else None
        return self.smtp.wait_for(enough, timeout=timeout, what="mail to %s with %r" % (addr, subject_has))[n - 1]

    def file_by_email(self, subject="Solicitud de copia del contrato de alumbrado",
                      body="Solicito copia del contrato 45 de 2026."):
        frm = citizen_email()
        msgid, raw = mail(frm, subject, body)
        self.imap.append(MAILUSER, raw)
        row = S.wait(lambda: self.d.query("SELECT * FROM email_messages WHERE dedup_key = ?",
                                          ("mid:" + msgid.strip("<>"),)), timeout=H.WAIT, what="the email taken in")[0]
        rad = self.d.scalar("SELECT radicado FROM items WHERE id = ?", (row["item_id"],))
        self.wait_mail(frm, rad)  # the acknowledgement
        return frm, msgid, rad

    def post_wa(self, *msgs):
        r = self.wa.post(self.d, self.wa.delivery(list(msgs)), self.wa.SECRET)
        self.assertEqual(r.status, 200, r)

    def file_by_whatsapp(self, frm, desc="No llega el agua al barrio desde hace tres días."):
        wa = self.wa
        for m in [wa.text(frm, "Buenos días"), wa.list_reply(frm, "menu.pqrsd", "Radicar una PQRSD"),
                  wa.list_reply(frm, "type.reclamo", "Reclamo"), wa.text(frm, desc),
                  wa.button_reply(frm, "att.done", "Continuar"), wa.button_reply(frm, "id.named", "Con mis datos"),
                  wa.text(frm, "Zenaida Quintero Prueba"), wa.text(frm, "CC 52123456"),
                  wa.button_reply(frm, "email.skip", "Omitir"), wa.button_reply(frm, "consent.yes", "Sí, autorizo")]:
            self.post_wa(m)
        rows = self.d.query("SELECT i.radicado FROM items i JOIN requesters r ON r.item_id = i.id "
                            "WHERE r.phone = ? ORDER BY i.id DESC", ("+" + frm,))
        self.assertTrue(rows, "no item filed for %s" % frm)
        rad = rows[0]["radicado"]
        self.graph.wait_for(lambda: any(rad in json.dumps(m, ensure_ascii=False) for m in self.graph.messages(to=frm)),
                            what="the WhatsApp acknowledgement")
        return rad

    def wa_texts_with(self, to, needle):
        return [t for t in self.graph.texts(to=to) if needle in t]

    def outbox(self, rad, kind):
        return self.d.query("SELECT o.* FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? AND "
                            "o.kind = ?", (rad, kind))

    # -- answers
    def test_20_answer_by_email_threads_on_the_citizens_message(self):
        frm, msgid, rad = self.file_by_email()
        text = "Respuesta %d: adjuntamos la información del contrato 45 de 2026, ñandú incluido." % H.unique()
        doc = self.ok(self.s["co"].act(rad, "respond", text=text))
        self.assertEqual(doc["status"], "respondido")
        m = self.wait_mail(frm, "Respuesta a su solicitud").msg
        self.assertEqual(m["Subject"], "Respuesta a su solicitud %s" % rad)
        self.assertIn(text, text_of(m))
        resp = self.d.query("SELECT r.* FROM responses r JOIN items i ON i.id = r.item_id WHERE i.radicado = ?",
                            (rad,))
        self.assertEqual([(r["channel"], r["published"], r["text"]) for r in resp], [("email", 0, text)])
        S.wait(lambda: [o["status"] for o in self.outbox(rad, "respuesta")] == ["sent"], what="outbox row sent")
        msgs = [x for x in self.item(rad)["messages"] if x["kind"] == "respuesta"]
        self.assertEqual([(x["channel"], x["status"]) for x in msgs], [("email", "sent")])
        _, p = self.last_event(rad, "respondido")
        self.assertEqual((p["channel"], p["published"]), ("email", False))
        # Threading: the answer replies to the citizen's own message.
        self.assertEqual(m["In-Reply-To"], msgid, "a reply in the citizen's own thread")
        self.assertIn(msgid, m["References"] or "")

    def test_21_answer_with_a_pdf_arrives_as_a_mime_attachment(self):
        frm = citizen_email()
        rad = self.new_item(requester=dict(S.web_requester(), email=frm), subject="Copia del acta de la junta")
        pdf = H.minimal_pdf("Acta de respuesta %d" % H.unique())
        text = "Le enviamos el acta solicitada. %d" % H.unique()
        doc = self.ok(self.s["co"].act(rad, "respond", text=text,
                                       attachments=[{"filename": "acta respuesta.pdf", "content_base64": S.b64(pdf)}]))
        files = doc["responses"][-1]["attachments"]
        self.assertEqual(len(files), 1, doc["responses"])
        f = files[0]
        self.assertEqual((f["filename"], f["size"], f["content_type"]), ("acta respuesta.pdf", len(pdf),
                                                                         "application/pdf"))
        got = self.s["co"].get(f["url"])
        self.assertEqual(got.body, pdf, "the answer's file downloads from the item")
        m = self.wait_mail(frm, "Respuesta a su solicitud").msg
        self.assertIsNone(m["In-Reply-To"], "a web item has no citizen email to reply to")
        self.assertEqual(m.get_content_type(), "multipart/mixed")
        self.assertIn(text, text_of(m))
        atts = list(m.iter_attachments())
        self.assertEqual(len(atts), 1, [a.get_content_type() for a in atts])
        self.assertEqual(atts[0].get_content_type(), "application/pdf")
        self.assertEqual(atts[0].get_filename(), "acta respuesta.pdf")
        self.assertEqual(atts[0].get_content(), pdf)
        self.assertEqual(atts[0]["Content-Transfer-Encoding"], "base64")

    def test_22_answer_by_whatsapp(self):
        frm = wa_number()
        rad = self.file_by_whatsapp(frm)
        text = "Respuesta %d: la empresa de acueducto restablece el servicio mañana." % H.unique()
        doc = self.ok(self.s["co"].act(rad, "respond", text=text))
        self.assertEqual(doc["status"], "respondido")
        got = self.graph.wait_for(lambda: [m for m in self.graph.messages(to=frm)
                                           if m.get("type") == "text" and text in m["text"]["body"]],
                                  what="the answer on WhatsApp")
        self.assertEqual(got[0]["to"].lstrip("+"), frm)
        _, p = self.last_event(rad, "respondido")
        self.assertEqual((p["channel"], p["published"]), ("whatsapp", False))
        S.wait(lambda: [o["status"] for o in self.outbox(rad, "respuesta")] == ["sent"], what="outbox row sent")

    def test_23_whatsapp_answer_to_a_10_digit_mobile(self):
        national = "3%09d" % ((os.getpid() * 17 + H.unique() * 104729) % 10 ** 9)
        rad = self.new_item(requester=dict(S.web_requester(), phone=national), reply_channel="whatsapp")
        wa_id = "57" + national
        # The citizen writes first (the 24-hour window opens).
        self.post_wa(self.wa.text(wa_id, "Hola, ¿cómo va mi solicitud?"))
        self.graph.wait_for(lambda: self.graph.messages(to=wa_id), what="any reply to the citizen")
        text = "Respuesta %d por WhatsApp." % H.unique()
        self.ok(self.s["co"].act(rad, "respond", text=text))
        self.graph.wait_for(lambda: self.wa_texts_with(wa_id, text), what="the answer to 57 + the mobile")
        self.assertEqual(self.graph.messages(to=national), [], "never sent to the bare national number")

    def test_24_anonymous_answer_is_published(self):
        doc = S.file_item(self, self.d, requester=S.anonymous_requester(), type="denuncia",
                          subject="Basuras en el caño", body="Botan basura en el caño de la calle 13.")
        rad, code = doc["radicado"], doc["tracking_code"]
        text = "Respuesta publicada %d: se programó la limpieza del caño." % H.unique()
        outbox_before = self.d.scalar("SELECT count(*) FROM outbox")
        mails_before = len(self.smtp.messages())
        d = self.ok(self.s["co"].act(rad, "respond", text=text))
        self.assertIs(d["responses"][-1]["published"], True)
        resp = self.d.query("SELECT r.channel, r.published FROM responses r JOIN items i ON i.id = r.item_id "
                            "WHERE i.radicado = ?", (rad,))
        self.assertEqual(resp, [{"channel": "publicacion", "published": 1}])
        self.assertEqual(self.outbox(rad, "respuesta"), [])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM outbox"), outbox_before, "nothing queued")
        page = self.d.get("/respuestas")
        self.assertEqual(page.status, 200)
        self.assertIn(rad, page.text)
        self.assertIn(text, page.text)
        st = self.d.post_form({"radicado": rad, "codigo": code}, "/consulta")
        self.assertIn(text, st.text)
        t = self.d.track(rad, code)
        self.assertEqual(t.status, 200)
        # Nothing was queued (checked above), and mail leaves only through the outbox.
        self.assertEqual(len(self.smtp.messages()), mails_before)

    # -- other notices
    def test_25_extension_notice_by_email(self):
        frm, _, rad = self.file_by_email()
        due = d8(self.item(rad)["due_date"])
        target = S.add_bd(due, 5)
        reason = "Debemos consultar al área jurídica %d" % H.unique()
        doc = self.ok(self.s["co"].act(rad, "extend", reason=reason, due_date=S.iso(target)))
        self.assertEqual(doc["due_date"], S.iso(target))
        m = self.wait_mail(frm, "nueva fecha de respuesta").msg
        self.assertIn(rad, m["Subject"])
        t = text_of(m)
        self.assertIn(reason, t)
        self.assertIn(S.date_es(target), t)
        _, p = self.last_event(rad, "prorrogado")
        self.assertEqual(p["notified_by"], "email")

    def test_26_transfer_forwards_to_the_competent_entity(self):
        frm, msgid, rad = self.file_by_email(subject="Señalización de la vía nacional",
                                             body="Falta señalización en el kilómetro 12 de la vía nacional.")
        entity = "radicacion%d@mintransporte.example.gov.co" % H.unique()
        self.ok(self.s["co"].act(rad, "transfer", entity="Ministerio de Transporte", entity_email=entity,
                                 reason="Las vías nacionales son de su competencia"))
        fwd = self.wait_mail(entity, "Traslado por competencia").msg
        self.assertIn(rad, fwd["Subject"])
        self.assertIn("kilómetro 12", text_of(fwd))
        self.assertIsNone(fwd["In-Reply-To"], "the forward is not a reply in the citizen's thread")
        notice = self.wait_mail(frm, "trasladamos su solicitud").msg
        self.assertIn("Ministerio de Transporte", text_of(notice))
        _, p = self.last_event(rad, "trasladado")
        self.assertEqual((p["forwarded_by"], p["notified_by"], p["entity_email"]), ("email", "email", entity))
        self.assertEqual(notice["In-Reply-To"], msgid, "the citizen's notice replies to their message")

    # -- the citizen completes a paused item
    def test_27_email_reply_resumes_a_paused_item(self):
        frm, _, rad = self.file_by_email()
        term = self.item(rad)["term_days"]
        self.ok(self.s["co"].act(rad, "request_completion", text="Indique el número del contrato y su cédula"))
        notice = self.wait_mail(frm, "necesitamos que complete").msg
        self.assertIn("Indique el número del contrato", text_of(notice))
        self.assertEqual(self.item(rad)["status"], "pendiente_completar")
        t0 = H.bogota_now()
        rid, raw = mail(frm, "RE: " + notice["Subject"], "El contrato es el 45 y mi cédula la 52123456.",
                        headers={"In-Reply-To": notice["Message-ID"], "References": notice["Message-ID"]})
        self.imap.append(MAILUSER, raw)
        S.wait(lambda: self.item(rad)["status"] == "en_tramite", timeout=H.WAIT, what="the reply to resume the item")
        t1 = H.bogota_now()
        doc = self.item(rad)
        self.assertIn(doc["due_date"], {S.iso(S.add_bd(S.filed_date(t), term)) for t in (t0, t1)},
                      "the whole term from the business day the reply counts on")
        self.assertIsNone(doc["completion_deadline"])
        ev, p = self.last_event(rad, "completada")
        self.assertEqual((ev["actor"], p["by"]), ("sistema", "requester"))
        self.assertTrue(self.events(rad, "mensaje_ciudadano"))
        m = self.wait_mail(frm, "recibimos lo que faltaba").msg
        self.assertIn(S.date_es(doc["due_date"]), text_of(m))

    def test_27b_tacit_withdrawal_notice_by_email(self):
        frm, msgid, rad = self.file_by_email()
        self.ok(self.s["co"].act(rad, "request_completion", text="Falta la copia de la escritura"))
        self.wait_mail(frm, "necesitamos que complete")
        deadline = S.today() - datetime.timedelta(days=1)
        self.set_col(rad, "completion_deadline", S.iso(deadline))
        m = self.wait_mail(frm, "solicitud archivada").msg
        self.assertIn(rad, m["Subject"])
        self.assertIn(S.date_es(deadline), text_of(m))
        self.assertEqual(self.item(rad)["status"], "desistido")
        _, p = self.last_event(rad, "desistido")
        self.assertEqual(p["notified_by"], "email")

    def test_28_whatsapp_message_resumes_a_paused_item(self):
        frm = wa_number()
        rad = self.file_by_whatsapp(frm)
        term = self.item(rad)["term_days"]
        # Control: while the item is open (radicado), a free text is offered to it.
        n = len(self.graph.messages(to=frm))
        self.post_wa(self.wa.text(frm, "Una pregunta sobre mi reclamo"))
        new = self.graph.wait_for(lambda: self.graph.messages(to=frm)[n:], what="a reply to the citizen")
        ids = [b["reply"]["id"] for b in new[-1].get("interactive", {}).get("action", {}).get("buttons", [])]
        self.assertEqual(ids, ["item.add", "menu.open"], "control: the open-item offer")
        n = len(self.graph.messages(to=frm))
        self.post_wa(self.wa.button_reply(frm, "menu.open", "Ver el menú"))
        self.graph.wait_for(lambda: self.graph.messages(to=frm)[n:], what="the menu")
        self.ok(self.s["co"].act(rad, "request_completion", text="Envíe una foto del recibo"))
        self.graph.wait_for(lambda: self.wa_texts_with(frm, "Envíe una foto del recibo"),
                            what="the completion request on WhatsApp")
        n = len(self.graph.messages(to=frm))
        self.post_wa(self.wa.text(frm, "El recibo es del mes de noviembre, número 884422."))
        new = self.graph.wait_for(lambda: self.graph.messages(to=frm)[n:], what="a reply to the citizen")
        offer = new[-1]
        ids = [b["reply"]["id"] for b in offer.get("interactive", {}).get("action", {}).get("buttons", [])]
        self.assertEqual(ids, ["item.add", "menu.open"],
                         "a message from a citizen whose item waits for completion is offered to that item; got %s"
                         % json.dumps(new, ensure_ascii=False)[:600])
        self.assertIn(rad, json.dumps(offer, ensure_ascii=False))
        t0 = H.bogota_now()
        self.post_wa(self.wa.button_reply(frm, "item.add", "Sí, agregarlo"))
        S.wait(lambda: self.item(rad)["status"] == "en_tramite", timeout=H.WAIT, what="the item to resume")
        t1 = H.bogota_now()
        self.assertIn(self.item(rad)["due_date"], {S.iso(S.add_bd(S.filed_date(t), term)) for t in (t0, t1)})


# ---------------------------------------------------------------------------
# The staff live feed


PROTO = "ventanilla-live"


class Live(AuditAtEnd, CaseBase):
    name = "case-live"
    staff_cfg = {"due_refresh_seconds": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        S.add_user(cls.d, "mo", "moderador")
        cls.s["mo"] = Staff(cls.d, "mo")

    async def connect(self, who=None, cookie=None):
        import websockets
        headers = {}
        if who is not None:
            headers["Cookie"] = who.cookie
        elif cookie is not None:
            headers["Cookie"] = cookie
        ws = await websockets.connect("ws://127.0.0.1:%d/live" % self.d.port, subprotocols=[PROTO],
                                      extra_headers=headers, origin="http://127.0.0.1:%d" % self.d.port,
                                      open_timeout=H.WAIT, close_timeout=5)
        return ws

    async def subscribe(self, ws, topics):
        """Subscribes and waits for the metrics snapshot, so the subscription is in place."""
        await ws.send(json.dumps({"subscribe": list(topics) + ["metrics"]}))
        msgs = []
        while True:
            raw = await asyncio.wait_for(ws.recv(), H.WAIT)
            doc = json.loads(raw)
            if doc.get("topic") == "metrics":
                return msgs
            msgs.append(doc)

    async def metrics_now(self):
        """The counts as the daemon holds them now: a fresh subscriber's snapshot."""
        ws = await self.connect()
        try:
            await ws.send(json.dumps({"subscribe": ["metrics"]}))
            while True:
                doc = json.loads(await asyncio.wait_for(ws.recv(), H.WAIT))
                if doc.get("topic") == "metrics":
                    return doc
        finally:
            await ws.close()

    async def barrier(self, *wss):
        """A positive barrier for "nothing (more) came": moves a new item's
        status (assigned to obras) and, on each ws, collects the messages
        before the metrics snapshot that change causes. Changes go out in
        commit order, each batch's snapshot after its staff events (live.c),
        so every event of what was done before has arrived by then. Returns a
        list per ws of (raw, doc), without the barrier item's own events."""
        before = (await self.metrics_now())["by_status"].get("en_tramite", 0)
        rad = self.new_item()
        self.ok(self.s["co"].act(rad, "assign", dependencia="obras"))
        out = []
        for ws in wss:
            msgs = []
            while True:
                raw = await asyncio.wait_for(ws.recv(), H.WAIT)
                doc = json.loads(raw)
                if doc.get("topic") == "metrics" and doc["by_status"].get("en_tramite", 0) >= before + 1:
                    break
                if doc.get("item", {}).get("radicado") != rad:
                    msgs.append((raw, doc))
            out.append(msgs)
        return out

    async def until(self, ws, pred, seconds=H.WAIT):
        """Messages until one satisfies pred (returned last); fails on timeout."""
        got = []
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                self.fail("no matching live message within %ss; got %r" % (seconds, got))
            raw = await asyncio.wait_for(ws.recv(), left)
            doc = json.loads(raw)
            if doc.get("topic") == "metrics":
                continue
            got.append(doc)
            if pred(doc):
                return got

    def arun(self, coro, timeout=6 * H.WAIT):
        return asyncio.run(asyncio.wait_for(coro, timeout))

    def test_30_staff_topic_needs_a_staff_session(self):
        async def scenario():
            for label, kw in [("no cookie", {}), ("bogus cookie", {"cookie": "vt_session=" + "ef" * 32}),
                              ("admin", {"who": self.s["ad"]}), ("moderador", {"who": self.s["mo"]})]:
                ws = await self.connect(**kw)
                try:
                    pre = await self.subscribe(ws, ["staff"])
                    errs = [m for m in pre if m.get("topic") == "error"]
                    self.assertTrue(errs, "%s: no error for the staff topic (%r)" % (label, pre))
                    self.assertEqual(errs[0].get("code"), "unauthenticated", label)
                    # And no staff event afterwards.
                    r = self.d.post_json(H.item_payload(requester=S.web_requester()))
                    self.assertEqual(r.status, 201)
                    got, = await self.barrier(ws)
                    self.assertEqual([d for _, d in got if d.get("topic") == "staff"], [], label)
                finally:
                    await ws.close()
        self.arun(scenario())

    def test_31_events_follow_the_scope(self):
        s = self.s

        async def scenario():
            ws_ag = await self.connect(s["ag"])
            ws_obras = await self.connect(s["ag_obras"])
            ws_ge = await self.connect(s["ge"])
            ws_anon = await self.connect()
            try:
                for ws in (ws_ag, ws_obras, ws_ge):
                    pre = await self.subscribe(ws, ["staff"])
                    self.assertEqual([m for m in pre if m.get("topic") == "error"], [])
                await self.subscribe(ws_anon, ["items"])
                p = H.person()
                subject = "Poste caído en la carrera 7 %d" % H.unique()
                req = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"],
                       "email": p["email"]}
                r = self.d.post_json(H.item_payload(subject=subject, requester=req))
                self.assertEqual(r.status, 201, r)
                rad = r.json()["radicado"]
                is_rad = lambda doc: doc.get("topic") == "staff" and doc.get("item", {}).get("radicado") == rad  # noqa
                for ws in (ws_ag, ws_ge):
                    got = await self.until(ws, is_rad)
                    ev = got[-1]
                    self.assertEqual((ev["event"], ev["actor"], ev["action"]), ("created", None, None))
                    self.assertEqual(ev["item"]["subject"], subject)
                    self.assertEqual(ev["item"]["status"], "radicado")
                    self.assertIsNone(ev["item"]["dependencia"])
                anon = await self.until(ws_anon, lambda d: d.get("topic") == "items"
                                        and d["item"].get("radicado") == rad)
                raw_anon = json.dumps(anon, ensure_ascii=False)
                for secret in (subject, p["name"], p["email"], p["id_number"], "Poste caído"):
                    self.assertNotIn(secret, raw_anon, "the public feed carries item contents")
                self.assertNotIn("subject", anon[-1]["item"])
                # A note by the coordinador: "changed", with actor and action.
                self.ok(s["co"].act(rad, "note", text="Revisando"))
                got = await self.until(ws_ag, is_rad)
                self.assertEqual((got[-1]["event"], got[-1]["actor"], got[-1]["action"]), ("changed", "co", "note"))
                # Routed to obras: obras hears of it, triage no longer does.
                self.ok(s["co"].act(rad, "assign", dependencia="obras", assignee="ag_obras"))
                got = await self.until(ws_obras, is_rad)
                ev = got[-1]
                self.assertEqual((ev["event"], ev["actor"], ev["action"]), ("changed", "co", "assign"))
                self.assertEqual((ev["item"]["dependencia"], ev["item"]["assignee"], ev["item"]["status"]),
                                 ("obras", "ag_obras", "en_tramite"))
                got = await self.until(ws_ge, lambda d: is_rad(d) and d.get("action") == "assign")
                # Triage hears the assignment itself, so its list can drop the row...
                got = await self.until(ws_ag, lambda d: is_rad(d) and d.get("action") == "assign")
                self.assertEqual(got[-1]["item"]["dependencia"], "obras")
                self.ok(s["ag_obras"].act(rad, "respond", text="Ya se reparó el poste."))
                got = await self.until(ws_obras, lambda d: is_rad(d) and d.get("action") == "respond")
                self.assertEqual(got[-1]["item"]["status"], "respondido")
                await self.until(ws_ge, lambda d: is_rad(d) and d.get("action") == "respond")
                # ...and nothing after it.
                rest, rest_anon = await self.barrier(ws_ag, ws_anon)
                self.assertEqual([d for _, d in rest if is_rad(d)], [], "out-of-scope events reached triage")
                # The anonymous subscriber never got a staff event or item contents.
                for raw, doc in rest_anon:
                    self.assertNotEqual(doc.get("topic"), "staff")
                    self.assertNotIn(subject, raw)
                    self.assertNotIn("Ya se reparó", raw)
            finally:
                for ws in (ws_ag, ws_obras, ws_ge, ws_anon):
                    await ws.close()
        self.arun(scenario())

    def test_32_obras_hears_nothing_of_triage(self):
        async def scenario():
            ws = await self.connect(self.s["ag_obras"])
            try:
                await self.subscribe(ws, ["staff"])
                r = self.d.post_json(H.item_payload(requester=S.web_requester()))
                rad = r.json()["radicado"]
                self.ok(self.s["co"].act(rad, "note", text="nota de triage"))
                got, = await self.barrier(ws)
                self.assertEqual([d for _, d in got if d.get("topic") == "staff"], [])
            finally:
                await ws.close()
        self.arun(scenario())

    def test_33_logout_ends_the_feed(self):
        async def scenario():
            me = Staff(self.d, "ag")
            ws = await self.connect(me)
            try:
                await self.subscribe(ws, ["staff"])
                self.assertEqual(me.logout().status, 204)
                r = self.d.post_json(H.item_payload(requester=S.web_requester()))
                rad = r.json()["radicado"]
                self.ok(self.s["co"].act(rad, "note", text="después del cierre de sesión"))
                got, = await self.barrier(ws)
                self.assertEqual([d for _, d in got if d.get("topic") == "staff"], [])
            finally:
                await ws.close()
        self.arun(scenario())

    def test_34_system_changes_reach_the_feed(self):
        """An item that changes without a staff action (the sweep archives it)
        is a "changed" event with actor null, like the documented shape."""
        async def scenario():
            rad = self.new_item()
            self.ok(self.s["co"].act(rad, "request_completion", text="Falta el plano"))
            ws = await self.connect(self.s["ag"])
            try:
                await self.subscribe(ws, ["staff"])
                self.set_col(rad, "completion_deadline", S.iso(S.today() - datetime.timedelta(days=1)))
                S.wait(lambda: self.item(rad)["status"] == "desistido", what="the sweep")
                got = await self.until(ws, lambda d: d.get("topic") == "staff" and d["item"]["radicado"] == rad
                                       and d["item"]["status"] == "desistido")
                mine = [d for d in got if d.get("topic") == "staff" and d["item"]["radicado"] == rad]
                self.assertEqual((mine[-1]["event"], mine[-1]["actor"], mine[-1]["item"]["status"]),
                                 ("changed", None, "desistido"))
            finally:
                await ws.close()
        self.arun(scenario())


if __name__ == "__main__":
    H.main()
