"""Satisfaction and perception surveys (src/domain/survey.h, src/api/survey_api.c,
channels/web/survey.c) against the real daemon, as a citizen and the staff
see them:

  - an answered PQRSD that is closed invites its requester: by email (a real
    SMTP server, mailservers.SmtpSink) or by WhatsApp (the fake Graph API),
    after surveys.invite_delay_minutes, with a single-use link
    {entity.public_url}/encuesta/<64 hex> whose token lives only in the
    outbox row until the message is delivered;
  - the no-JavaScript answer pages /encuesta/{token} and /encuesta/p/{code}:
    labelled inputs, radio groups as fieldsets with legends, a 422 page that
    marks the question (aria-invalid, aria-describedby) and keeps the other
    answers, 409 once used, 410 once expired, nothing stored on a refusal;
  - each answer is an item (kind survey_response, no radicado) with its
    survey_answers row, the PQRSD's stakeholder group and audit events;
  - detractors open a follow-up for the PQRSD's dependencia;
  - the definitions API (admin), its versions, export/import and role matrix;
  - the figures (CSAT, NPS, response rate) recomputed here in Python;
  - hostile text escaped wherever it is shown.

The daemon has no clock to move: an expired link is made by writing that one
column (survey_invitations.expires_at) in the database between requests. The
audit chain is never touched and `ventanilla audit verify` passes at the end
of every class.

    VENTANILLA_BIN=build/ventanilla VT_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_18_surveys.py
"""
import datetime
import hashlib
import html.parser
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
OBRAS = "obras"
PUBLIC_URL = "https://pqrsd.entidad-prueba.gov.co"
ENTITY = "atencionalciudadano@entidad.gov.co"
FAST_LOGINS = {"login_per_minute": 10000}
LINK_RE = re.compile(re.escape(PUBLIC_URL) + r"/encuesta/([0-9a-f]{64})(?![0-9a-zA-Z])")
HOSTILE = "<script>alert('encuesta')</script>"
# The default survey (migrations/0007_surveys.sql), question ids in order.
DEFAULT_QUESTIONS = ["satisfaccion", "recomendacion", "a_tiempo", "mejorar"]


def db_exec(d, sql, args=()):
    """Writes one statement into the running daemon's database (see the module docstring)."""
    d.execute(sql, args)


def citizen_email():
    return "encuestada%d.%d@correo-prueba.example.com" % (os.getpid(), H.unique())


def wa_number():
    return "57311%07d" % ((os.getpid() * 37 + H.unique() * 7919) % 10 ** 7)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# Reading the pages: a small DOM over html.parser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []

    def text(self):
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text())
        return "".join(out)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, **attrs):
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def find(self, tag=None, **attrs):
        got = self.find_all(tag, **attrs)
        return got[0] if got else None

    def ancestor(self, tag):
        p = self.parent
        while p is not None and p.tag != tag:
            p = p.parent
        return p

    def __repr__(self):
        return "<%s %r>" % (self.tag, self.attrs)


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def dom(resp):
    b = _Builder()
    b.feed(resp.text)
    b.close()
    return b.root


# ---------------------------------------------------------------------------
# The figures, recomputed


def pct1(num, den):
    """num/den as a percentage with one decimal, halves up; None without a sample."""
    if not den:
        return None
    return int((num * 1000 + den // 2) // den) / 10


def expected_figures(answers):
    """answers: list of (csat or None, nps or None) -> the figures of one row."""
    cs = [c for c, _ in answers if c is not None]
    ns = [n for _, n in answers if n is not None]
    prom = sum(1 for n in ns if n >= 9)
    detr = sum(1 for n in ns if n <= 6)
    return {"answers": len(answers), "csat_n": len(cs), "csat": pct1(sum(1 for c in cs if c >= 4), len(cs)),
            "nps_n": len(ns), "nps": (prom - detr) * 100.0 / len(ns) if ns else None,
            "promoters": prom, "detractors": detr}


# ---------------------------------------------------------------------------
# The daemon and its staff


class AuditAtEnd:
    """Mixed into each class: no crash, and the audit chain still verifies after its tests."""

    def test_99_audit_verify(self):
        self.assert_no_crash()
        S.audit_verify(self, self.d)


class SurveyBase(H.DaemonCase):
    """One daemon; staff: ag and co (agente, coordinador of the triage office),
    ag_obras and co_obras (of obras), ge (gerente), mo (moderador), ad (admin)."""
    name = "survey"
    surveys_cfg = {}

    @classmethod
    def config(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        cfg = H.deep_merge({"staff": FAST_LOGINS, "entity": {"public_url": PUBLIC_URL},
                            "surveys": cls.surveys_cfg}, cls.config())
        cls.d = H.Daemon(cfg, name=cls.name)
        users = [("ag", "agente", TRIAGE), ("co", "coordinador", TRIAGE), ("ag_obras", "agente", OBRAS),
                 ("co_obras", "coordinador", OBRAS), ("ge", "gerente", None), ("mo", "moderador", None),
                 ("ad", "admin", None)]
        for name, role, dep in users:
            S.add_user(cls.d, name, role, dep)
        cls.d.start()
        cls.s = {n: Staff(cls.d, n) for n, _, _ in users}
        r = cls.s["ad"].post("/api/v1/dependencias", {"code": OBRAS, "name": "Obras públicas", "active": True})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        S.stop_and_cleanup(cls.d)

    # -- helpers
    def ok(self, resp, what="", status=200):
        self.assertEqual(resp.status, status, "%s: %r" % (what, resp))
        return resp.json() if resp.body else None

    def file_pqrsd(self, email=None, group=None, reply="email", phone=None):
        req = S.web_requester()
        if email:
            req["email"] = email
        if phone:
            req["phone"] = phone
        over = {"requester": req, "reply_channel": reply}
        if group:
            over["declared_group"] = group
        doc = S.file_item(self, self.d, **over)
        return doc["radicado"]

    def answer_and_close(self, rad, dep=None, who="co"):
        """Answers (respond) and closes the PQRSD as a coordinador; with dep,
        the triage coordinador first routes it there and that office's
        coordinador does the rest."""
        if dep and dep != TRIAGE:
            self.ok(self.s["co"].act(rad, "assign", dependencia=dep), "assign to %s" % dep)
        self.ok(self.s[who].act(rad, "respond", text="Le respondemos de fondo: el contrato se publicó."),
                "respond %s" % rad)
        doc = self.ok(self.s[who].act(rad, "close"), "close %s" % rad)
        self.assertEqual(doc["status"], "cerrado")

    def item_id(self, rad):
        return self.d.scalar("SELECT id FROM items WHERE radicado = ?", (rad,))

    def invitations(self, rad):
        return self.d.query("SELECT v.* FROM survey_invitations v JOIN items i ON i.id = v.item_id "
                            "WHERE i.radicado = ? ORDER BY v.id", (rad,))

    def outbox(self, rad, kind="encuesta"):
        return self.d.query("SELECT o.* FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.radicado = ? "
                            "AND o.kind = ? ORDER BY o.id", (rad, kind))

    def events(self, item_id, action):
        return [dict(r, payload=json.loads(r["payload"])) for r in self.d.query(
            "SELECT * FROM audit_events WHERE item_id = ? AND action = ? ORDER BY id", (item_id, action))]

    def stored(self):
        """What an answer would add: the numbers that must not move on a refusal."""
        q = self.d.scalar
        return {"items": q("SELECT count(*) FROM items"),
                "survey_answers": q("SELECT count(*) FROM survey_answers"),
                "followups": q("SELECT count(*) FROM followups"),
                "used_invitations": q("SELECT count(*) FROM survey_invitations WHERE used_at IS NOT NULL"),
                "encuesta_respondida": q("SELECT count(*) FROM audit_events WHERE action = 'encuesta_respondida'"),
                "seguimiento_detractor": q("SELECT count(*) FROM audit_events "
                                           "WHERE action = 'seguimiento_detractor'")}

    def answer_page(self, path, fields):
        """POSTs the answer form (fields: dict or list of pairs) like a browser without JS."""
        return self.d.post_form(fields, path)

    def answer_row(self, invitation_id):
        rows = self.d.query("SELECT a.*, i.kind, i.radicado, i.stakeholder_group, i.classified_by, i.channel "
                            "FROM survey_answers a JOIN items i ON i.id = a.item_id WHERE a.invitation_id = ?",
                            (invitation_id,))
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def create_survey(self, code, definition, purpose="public", status=201):
        r = self.s["ad"].post("/api/v1/surveys", {"code": code, "purpose": purpose, "definition": definition})
        doc = self.ok(r, "create survey %s" % code, status)
        self.assertEqual(doc["code"], code)
        return doc

    def check_questions(self, form, definition):
        """Every question of definition is on the form: radio/checkbox groups
        as a fieldset whose legend is the question, each input in its label;
        a text question as a textarea with a label for it."""
        choices = {"rating": [str(v) for v in range(1, 6)], "nps": [str(v) for v in range(0, 11)],
                   "yes_no": ["si", "no"]}
        for q in definition["questions"]:
            with self.subTest(question=q["id"]):
                name = "q_" + q["id"]
                if q["type"] == "text":
                    ta = form.find("textarea", name=name)
                    self.assertIsNotNone(ta, "a textarea for %s" % name)
                    labels = [lb for lb in form.find_all("label") if lb.attrs.get("for") == ta.attrs.get("id")]
                    self.assertEqual(len(labels), 1, "one label for the textarea %s" % name)
                    self.assertIn(q["text"], labels[0].text())
                    continue
                inputs = [i for i in form.find_all("input") if i.attrs.get("name") == name]
                want = choices.get(q["type"]) or [str(k) for k in range(len(q.get("options", [])))]
                self.assertEqual([i.attrs.get("value") for i in inputs], want)
                kind = "checkbox" if q["type"] == "multiple" else "radio"
                self.assertEqual({i.attrs.get("type") for i in inputs}, {kind})
                fieldsets = {id(i.ancestor("fieldset")) for i in inputs}
                self.assertEqual(len(fieldsets), 1, "the inputs of %s share one fieldset" % name)
                fs = inputs[0].ancestor("fieldset")
                self.assertIsNotNone(fs, "%s is a fieldset" % name)
                legend = fs.find("legend")
                self.assertIsNotNone(legend, "the fieldset of %s has a legend" % name)
                self.assertIn(q["text"], legend.text())
                for k, i in enumerate(inputs):
                    label = i.ancestor("label")
                    self.assertIsNotNone(label, "input %s=%s sits in its label" % (name, i.attrs.get("value")))
                    if q["type"] in ("single", "multiple"):
                        self.assertEqual(label.text().strip(), q["options"][k])

    def assert_page(self, resp, status, *needles):
        self.assertEqual(resp.status, status, resp)
        self.assertTrue(resp.header("content-type", "").startswith("text/html"), resp.headers)
        for n in needles:
            self.assertIn(n, resp.text)
        self.assertNotIn("<script", resp.text.lower(), "the answer pages work without JavaScript")


def rating_nps_definition(title="Encuesta de percepción"):
    return {"title": title, "intro": "Dos preguntas.",
            "questions": [{"id": "satisfaccion", "type": "rating", "text": "¿Qué tan satisfecho está?",
                           "required": True},
                          {"id": "recomendacion", "type": "nps", "text": "¿Nos recomendaría?", "required": False}]}


def every_type_definition(title="Consulta previa a la audiencia de rendición de cuentas"):
    return {"title": title, "intro": "Queremos conocer su opinión antes de la audiencia.",
            "questions": [
                {"id": "calidad", "type": "rating", "text": "¿Cómo califica la información publicada?",
                 "required": True},
                {"id": "recomienda", "type": "nps", "text": "¿Recomendaría asistir a la audiencia?"},
                {"id": "asistio", "type": "yes_no", "text": "¿Asistió a la audiencia anterior?", "required": True},
                {"id": "medio", "type": "single", "text": "¿Por qué medio se enteró?",
                 "options": ["Página web", "Radio comunitaria", "Un vecino"], "required": True},
                {"id": "temas", "type": "multiple", "text": "¿Qué temas le interesan?",
                 "options": ["Vías", "Salud", "Educación", "Seguridad"], "required": True},
                {"id": "comentario", "type": "text", "text": "¿Algo más que quiera decirnos?", "required": False}]}


# ---------------------------------------------------------------------------
# Invitations by email and WhatsApp; the answer pages; detractors


class Invitations(AuditAtEnd, SurveyBase):
    name = "survey-inv"
    surveys_cfg = {"invite_delay_minutes": 0}

    @classmethod
    def config(cls):
        import fake_graph
        import mailservers
        import wa
        cls.graph = fake_graph.FakeGraph().start()
        cls.smtp = mailservers.SmtpSink().start()
        cls.wa = wa
        return H.deep_merge(wa.config(cls.graph), {
            "channels": {"email": {"enabled": True, "smtp_url": cls.smtp.url, "from": ENTITY,
                                   "allow_plaintext_loopback": True}},
            "outbox": {"timeout_ms": 3000}})

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.smtp.stop()
            cls.graph.stop()

    # -- helpers
    def survey_mails(self, addr):
        return [m for m in self.smtp.messages(to=addr) if "atendimos" in (m.msg["Subject"] or "")]

    def invite_by_email(self, group=None, dep=None):
        """A PQRSD filed with an email (reply by email), answered and closed:
        returns (radicado, the email address, the mail, the link's token)."""
        addr = citizen_email()
        rad = self.file_pqrsd(email=addr, group=group, reply="email")
        self.answer_and_close(rad, dep=dep, who="co_obras" if dep == OBRAS else "co")
        m = self.smtp.wait_for(lambda: self.survey_mails(addr), timeout=H.WAIT, what="the survey invitation to %s" % addr)
        self.assertEqual(len(m), 1, "one invitation per closed PQRSD")
        msg = m[0].msg
        found = LINK_RE.findall(text_of(msg))
        self.assertEqual(len(found), 1, "one link %s/encuesta/<64 hex> in:\n%s" % (PUBLIC_URL, text_of(msg)))
        return rad, addr, msg, found[0]

    def valid_answers(self, csat=4, nps=None, on_time="si", text=None):
        f = {"q_satisfaccion": str(csat), "q_a_tiempo": on_time}
        if nps is not None:
            f["q_recomendacion"] = str(nps)
        if text is not None:
            f["q_mejorar"] = text
        return f

    def answer(self, token, **kw):
        r = self.answer_page("/encuesta/" + token, self.valid_answers(**kw))
        self.assert_page(r, 200, "Gracias")
        return r

    # -- 1. the email invitation
    def test_01_email_invitation_after_an_answered_pqrsd_is_closed(self):
        rad, addr, msg, token = self.invite_by_email()
        self.assertEqual(msg["Subject"], "Radicado %s: ¿cómo lo atendimos?" % rad)
        body = text_of(msg)
        self.assertIn("%s/encuesta/%s" % (PUBLIC_URL, token), body)
        self.assertIn(rad, body)
        inv = self.invitations(rad)
        until = datetime.datetime.fromtimestamp(inv[0]["expires_at"] / 1000, H.BOGOTA).strftime("%d/%m/%Y")
        self.assertIn("una sola vez hasta el %s" % until, body, "the last day, in Colombian time")
        # The link opens the survey on this daemon (entity.public_url names where it is published).
        self.assert_page(self.d.get("/encuesta/" + token), 200, "¿Cómo lo atendimos?")
        inv = self.invitations(rad)
        self.assertEqual(len(inv), 1, inv)
        self.assertEqual((inv[0]["channel"], inv[0]["used_at"]), ("email", None))
        self.assertEqual(inv[0]["expires_at"] - inv[0]["created_at"], 15 * 86400000, "surveys.link_days = 15")
        self.assertEqual(bytes(inv[0]["token_hash"]), hashlib.blake2b(token.encode(), digest_size=32).digest(),
                         "only the BLAKE2b hash of the token is kept")
        self.assertNotIn(token, json.dumps({k: v for k, v in inv[0].items() if k != "token_hash"}))
        (ob,) = S.wait(lambda: [o for o in self.outbox(rad) if o["status"] == "sent"] or None,
                       what="the invitation's outbox row sent")
        self.assertEqual((ob["channel"], ob["recipient"]), ("email", addr))
        self.assertEqual(ob["next_attempt_at"], ob["created_at"], "invite_delay_minutes 0: due at once")
        self.assertNotIn(token, ob["body"], "the token is never stored in the message's text")
        self.assertIn("{codigo}", ob["body"])

    def test_02_delivered_invitation_no_longer_holds_the_token(self):
        rad, addr, msg, token = self.invite_by_email()
        (ob,) = S.wait(lambda: [o for o in self.outbox(rad) if o["status"] == "sent"] or None,
                       what="the invitation's outbox row sent")
        # The SMTP server accepted the message (250): that is delivery for email.
        self.assertTrue(self.survey_mails(addr))
        self.assertIsNone(ob["secret"], "the outbox row still holds the survey link's token after the mail "
                                        "was delivered (status %r)" % ob["status"])

    def test_03_no_invitation_without_an_answer_or_an_address_and_only_once_per_item(self):
        # Closed without an answer (a duplicate): nobody is asked.
        addr = citizen_email()
        rad = self.file_pqrsd(email=addr)
        self.ok(self.s["co"].act(rad, "close", reason="Duplicada del radicado anterior"))
        # Answered on the web (no email, no phone): no channel to invite through.
        rad_web = self.file_pqrsd(reply="web")
        self.answer_and_close(rad_web)
        # Closed, reopened, answered and closed again: a single invitation.
        rad2, addr2, _, token = self.invite_by_email()
        self.ok(self.s["co"].act(rad2, "reopen", reason="El ciudadano pidió ampliar la respuesta"))
        self.ok(self.s["co"].act(rad2, "respond", text="Ampliamos la respuesta."))
        self.ok(self.s["co"].act(rad2, "close"))
        self.smtp.wait_for(lambda: len([m for m in self.smtp.messages(to=addr2)
                                        if "Respuesta a su solicitud" in (m.msg["Subject"] or "")]) >= 2,
                           what="the second answer mail")
        # Whatever the actions queued (committed with them) has gone out.
        H.outbox_settled(self.d, addr2)
        H.outbox_settled(self.d, addr)
        self.assertEqual(len(self.survey_mails(addr2)), 1, "invited once per item")
        self.assertEqual(len(self.invitations(rad2)), 1)
        self.assertEqual(self.invitations(rad), [])
        self.assertEqual(self.invitations(rad_web), [])
        self.assertEqual(self.survey_mails(addr), [])

    # -- 2. the answer page without JavaScript
    def test_04_answer_page_renders_every_question_with_labelled_inputs(self):
        _, _, _, token = self.invite_by_email()
        r = self.d.get("/encuesta/" + token)
        self.assert_page(r, 200)
        root = dom(r)
        self.assertEqual(root.find("html").attrs.get("lang"), "es-CO")
        self.assertEqual(root.find("h1").text(), "¿Cómo lo atendimos?")
        form = root.find("form")
        self.assertEqual((form.attrs.get("method"), form.attrs.get("action")), ("post", "/encuesta/" + token))
        definition = json.loads(self.d.scalar(
            "SELECT v.definition FROM survey_versions v JOIN surveys s ON s.id = v.survey_id "
            "AND v.version = s.current_version WHERE s.code = 'satisfaccion'"))
        self.assertEqual([q["id"] for q in definition["questions"]], DEFAULT_QUESTIONS)
        self.check_questions(form, definition)
        self.assertTrue(form.find_all("button", type="submit"), "a submit button")

    def test_05_missing_required_answer_is_marked_and_the_other_answers_kept(self):
        rad, _, _, token = self.invite_by_email()
        before = self.stored()
        r = self.answer_page("/encuesta/" + token, {"q_recomendacion": "7", "q_a_tiempo": "no",
                                                    "q_mejorar": "Más claridad " + HOSTILE})
        self.assert_page(r, 422)
        root = dom(r)
        alert = root.find(role="alert")
        self.assertIsNotNone(alert, "an alert the screen reader announces")
        rating = [i for i in root.find_all("input") if i.attrs.get("name") == "q_satisfaccion"]
        self.assertEqual(len(rating), 5)
        for i in rating:
            self.assertEqual(i.attrs.get("aria-invalid"), "true", i)
        described = {i.attrs.get("aria-describedby") for i in rating}
        self.assertEqual(len(described), 1, described)
        err_id = described.pop()
        self.assertTrue(err_id, "aria-describedby points at the error text")
        err = root.find(id=err_id)
        self.assertIsNotNone(err, "the element %s exists" % err_id)
        self.assertIn("obligatoria", err.text())
        fs = err.ancestor("fieldset")
        self.assertIsNotNone(fs, "the error sits in the question's fieldset")
        self.assertIn("¿Qué tan satisfecho quedó con la respuesta?", fs.find("legend").text(),
                      "the error names the question it is about")
        # Only the missing question is marked.
        others = [i for i in root.find_all("input") if i.attrs.get("name") != "q_satisfaccion"]
        self.assertFalse([i for i in others if "aria-invalid" in i.attrs], "only the missing answer is marked")
        # The other answers are kept.
        checked = {(i.attrs["name"], i.attrs["value"]) for i in root.find_all("input") if "checked" in i.attrs}
        self.assertEqual(checked, {("q_recomendacion", "7"), ("q_a_tiempo", "no")})
        self.assertEqual(root.find("textarea", name="q_mejorar").text(), "Más claridad " + HOSTILE)
        # 8. hostile text re-rendered escaped
        self.assertNotIn(HOSTILE, r.text)
        self.assertIn("&lt;script&gt;", r.text)
        self.assertEqual(self.stored(), before, "nothing stored on a 422")
        # An answer out of range is refused the same way.
        r = self.answer_page("/encuesta/" + token, {"q_satisfaccion": "9"})
        self.assert_page(r, 422)
        self.assertEqual(self.stored(), before)
        # A valid answer, then the same link again.
        r = self.answer(token, csat=4, nps=7, text="Más claridad " + HOSTILE)
        self.assertIn("Guardamos sus respuestas", r.text)
        after = self.stored()
        self.assertEqual(after["survey_answers"], before["survey_answers"] + 1)
        for resp in (self.d.get("/encuesta/" + token),
                     self.answer_page("/encuesta/" + token, self.valid_answers(csat=1, nps=0))):
            self.assert_page(resp, 409, "ya se usó")
        self.assertEqual(self.stored(), after, "nothing stored on a 409")
        inv = self.invitations(rad)[0]
        self.assertIsNotNone(inv["used_at"])
        row = self.answer_row(inv["id"])
        self.assertEqual(json.loads(row["answers"]), {"satisfaccion": 4, "recomendacion": 7, "a_tiempo": True,
                                                      "mejorar": "Más claridad " + HOSTILE})

    def test_06_expired_link_answers_410_and_stores_nothing(self):
        rad, _, _, token = self.invite_by_email()
        db_exec(self.d, "UPDATE survey_invitations SET expires_at = ? WHERE item_id = ?",
                (now_ms() - 60000, self.item_id(rad)))
        before = self.stored()
        self.assert_page(self.d.get("/encuesta/" + token), 410, "venció")
        self.assert_page(self.answer_page("/encuesta/" + token, self.valid_answers(csat=1, nps=0)), 410, "venció")
        self.assertEqual(self.stored(), before)
        self.assertIsNone(self.invitations(rad)[0]["used_at"])
        # A token nobody was given, and a malformed one.
        for path in ("/encuesta/" + "ab" * 32, "/encuesta/xyz", "/encuesta/" + token.upper()):
            with self.subTest(path=path):
                self.assert_page(self.d.get(path), 404)
        self.assertEqual(self.stored(), before)

    # -- 3. each answer is an item
    def test_07_an_answer_is_an_item_classified_like_its_pqrsd(self):
        rad, _, _, token = self.invite_by_email(group="academia")
        src = self.item_id(rad)
        self.assertEqual(self.d.scalar("SELECT stakeholder_group FROM items WHERE id = ?", (src,)), "academia")
        self.answer(token, csat=5, nps=10, on_time="si", text="Todo bien, gracias.")
        inv = self.invitations(rad)[0]
        row = self.answer_row(inv["id"])
        self.assertEqual(row["kind"], "survey_response")
        self.assertIsNone(row["radicado"], "an answer gets no radicado")
        self.assertEqual((row["stakeholder_group"], row["classified_by"]), ("academia", "item"))
        self.assertEqual(row["channel"], "web")
        survey = self.d.scalar("SELECT id FROM surveys WHERE code = 'satisfaccion'")
        self.assertEqual((row["survey_id"], row["version"], row["source_item_id"], row["csat"], row["nps"],
                          row["detractor"]), (survey, 1, src, 5, 10, 0))
        self.assertEqual(json.loads(row["answers"]), {"satisfaccion": 5, "recomendacion": 10, "a_tiempo": True,
                                                      "mejorar": "Todo bien, gracias."})
        (ev,) = self.events(row["item_id"], "encuesta_respondida")
        self.assertEqual(ev["payload"], {"survey": "satisfaccion", "version": 1, "source_item_id": src})
        self.assertEqual(self.events(src, "seguimiento_detractor"), [], "a promoter opens nothing")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM followups WHERE answer_item_id = ?",
                                       (row["item_id"],)), 0)
        # The answer is not a PQRSD: it never shows in the office's queue.
        q = self.ok(self.s["co"].queue(), "queue")
        listed = json.dumps(q, ensure_ascii=False)
        self.assertNotIn("Todo bien, gracias.", listed)
        self.assertNotIn("survey_response", listed)

    # -- 4. detractors
    def test_08_detractors_open_a_followup_for_the_pqrsds_dependencia(self):
        cases = [("csat 2", dict(csat=2, nps=9), True), ("nps 6", dict(csat=5, nps=6), True),
                 ("csat 1 nps 0", dict(csat=1, nps=0), True), ("passive", dict(csat=3, nps=7), False),
                 ("promoter", dict(csat=5, nps=10), False), ("csat 3 only", dict(csat=3), False)]
        for what, kw, detractor in cases:
            with self.subTest(what):
                rad, _, _, token = self.invite_by_email()
                src = self.item_id(rad)
                r = self.answer(token, **kw)
                if detractor:
                    self.assertIn("revisará su caso", r.text)
                row = self.answer_row(self.invitations(rad)[0]["id"])
                self.assertEqual(row["detractor"], int(detractor))
                fu = self.d.query("SELECT * FROM followups WHERE source_item_id = ?", (src,))
                ev = self.events(src, "seguimiento_detractor")
                if not detractor:
                    self.assertEqual((fu, ev), ([], []))
                    continue
                self.assertEqual(len(fu), 1, fu)
                self.assertEqual((fu[0]["answer_item_id"], fu[0]["dependencia"], fu[0]["status"]),
                                 (row["item_id"], TRIAGE, "abierto"))
                self.assertEqual(len(ev), 1, ev)
                self.assertEqual(ev[0]["payload"]["answer_item_id"], row["item_id"])
                self.assertEqual(ev[0]["payload"]["dependencia"], TRIAGE)

    def followups_of(self, who, rad=None):
        r = self.s[who].get("/api/v1/followups")
        doc = self.ok(r, "followups as %s" % who)
        return [f for f in doc["followups"] if rad is None or f["radicado"] == rad]

    def test_09_followups_api_scoped_to_the_dependencia_and_closed_once(self):
        rad, _, _, token = self.invite_by_email()
        self.answer(token, csat=1, nps=2, text="Nadie me llamó. " + HOSTILE)
        (f,) = self.followups_of("co", rad)
        self.assertEqual((f["status"], f["dependencia"], f["csat"], f["nps"]), ("abierto", TRIAGE, 1, 2))
        # 8. the hostile text comes back as a JSON string, unchanged.
        r = self.s["co"].get("/api/v1/followups")
        self.assertTrue(r.header("content-type", "").startswith("application/json"), r.headers)
        self.assertIsInstance(f["answers"], str)
        self.assertIn("Nadie me llamó. " + HOSTILE, f["answers"])
        self.assertEqual(len(self.followups_of("ag", rad)), 1, "the office's agente sees it")
        self.assertEqual(len(self.followups_of("ge", rad)), 1, "the gerente sees every office's")
        self.assertEqual(self.followups_of("co_obras", rad), [], "another office's coordinador does not")
        self.assertEqual(self.followups_of("ag_obras", rad), [])
        for who in ("ad", "mo"):
            self.assertEqual(self.s[who].get("/api/v1/followups").status, 403, who)
        self.assertEqual(self.d.get("/api/v1/followups").status, 401)
        path = "/api/v1/followups/%d/close" % f["id"]
        H.assert_error(self, self.s["co_obras"].post(path, {"note": "No es nuestro"}), 404, "not_found")
        H.assert_error(self, self.s["co"].post(path, {"note": ""}), 422, "invalid", field="note")
        H.assert_error(self, self.s["ge"].post(path, {"note": "Revisado"}), 403)
        self.assertEqual(self.s["co"].post(path, {"note": "Llamamos"}, csrf=None).status, 403, "CSRF")
        self.assertEqual(self.d.query("SELECT status FROM followups WHERE id = ?", (f["id"],))[0]["status"],
                         "abierto")
        note = "Llamamos al ciudadano y ampliamos la respuesta."
        r = self.s["co"].post(path, {"note": note})
        self.assertEqual(r.status, 204, r)
        H.assert_error(self, self.s["co"].post(path, {"note": note}), 409)
        row = self.d.query("SELECT f.*, u.username FROM followups f JOIN users u ON u.id = f.closed_by "
                           "WHERE f.id = ?", (f["id"],))[0]
        self.assertEqual((row["status"], row["note"], row["username"]), ("cerrado", note, "co"))
        (g,) = self.followups_of("co", rad)
        self.assertEqual((g["status"], g["note"]), ("cerrado", note))
        for status, n in (("cerrado", 1), ("abierto", 0)):
            doc = self.ok(self.s["co"].get("/api/v1/followups?status=" + status))
            self.assertEqual(len([x for x in doc["followups"] if x["radicado"] == rad]), n, status)
        ev = self.events(self.item_id(rad), "seguimiento_cerrado")
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual(ev[0]["payload"]["note"], note)
        self.assertEqual(self.s["co"].post("/api/v1/followups/999999/close", {"note": note}).status, 404)

    def test_10_followup_of_another_dependencia(self):
        rad, _, _, token = self.invite_by_email(dep=OBRAS)
        self.answer(token, csat=2, nps=3)
        fu = self.d.query("SELECT * FROM followups WHERE source_item_id = ?", (self.item_id(rad),))
        self.assertEqual([f["dependencia"] for f in fu], [OBRAS])
        self.assertEqual(len(self.followups_of("co_obras", rad)), 1)
        self.assertEqual(self.followups_of("co", rad), [], "the triage office does not see obras' follow-up")
        r = self.s["co_obras"].post("/api/v1/followups/%d/close" % fu[0]["id"], {"note": "Visitamos la obra."})
        self.assertEqual(r.status, 204, r)

    def test_11_public_survey_detractor_opens_nothing(self):
        code = "percepcion_%d" % H.unique()
        self.create_survey(code, rating_nps_definition())
        before = self.stored()
        r = self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "1", "q_recomendacion": "0"})
        self.assert_page(r, 200, "Gracias")
        after = self.stored()
        self.assertEqual((after["survey_answers"], after["followups"], after["seguimiento_detractor"]),
                         (before["survey_answers"] + 1, before["followups"], before["seguimiento_detractor"]))
        row = self.d.query("SELECT a.*, i.stakeholder_group, i.classified_by, i.radicado FROM survey_answers a "
                           "JOIN items i ON i.id = a.item_id JOIN surveys s ON s.id = a.survey_id "
                           "WHERE s.code = ?", (code,))
        self.assertEqual(len(row), 1, row)
        row = row[0]
        self.assertEqual((row["invitation_id"], row["source_item_id"], row["csat"], row["nps"], row["detractor"],
                          row["radicado"]), (None, None, 1, 0, 1, None))
        self.assertEqual((row["stakeholder_group"], row["classified_by"]), ("ciudadania", "default"))
        # A public link may be answered again (it is not single-use).
        self.assert_page(self.d.get("/encuesta/p/" + code), 200)

    def test_11b_public_detractor_is_not_promised_a_followup(self):
        """Nothing opens for an anonymous public answer, so its thank-you page
        must not tell the citizen that a dependencia will review their case."""
        code = "percepcion_%d" % H.unique()
        self.create_survey(code, rating_nps_definition())
        r = self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "1", "q_recomendacion": "0"})
        self.assert_page(r, 200, "Gracias")
        self.assertNotIn("revisará su caso", r.text, "a follow-up is promised but none was opened")

    def test_11c_two_answers_at_once_on_one_link(self):
        import threading
        rad, _, _, token = self.invite_by_email()
        before = self.stored()
        got = []
        barrier = threading.Barrier(4)

        def one(n):
            barrier.wait()
            got.append(self.answer_page("/encuesta/" + token, self.valid_answers(csat=1 + n, nps=n)).status)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.assertEqual(sorted(got), [200, 409, 409, 409], "single use under concurrent answers")
        after = self.stored()
        self.assertEqual((after["survey_answers"], after["used_invitations"]),
                         (before["survey_answers"] + 1, before["used_invitations"] + 1))

    # -- 7. the WhatsApp invitation
    def post_wa(self, *msgs):
        r = self.wa.post(self.d, self.wa.delivery(list(msgs)), self.wa.SECRET)
        self.assertEqual(r.status, 200, r)

    def file_by_whatsapp(self, frm):
        wa = self.wa
        for m in [wa.text(frm, "Buenos días"), wa.list_reply(frm, "menu.pqrsd", "Radicar una PQRSD"),
                  wa.list_reply(frm, "type.reclamo", "Reclamo"),
                  wa.text(frm, "El camión de la basura no pasa por la calle 12 desde hace una semana."),
                  wa.button_reply(frm, "att.done", "Continuar"), wa.button_reply(frm, "id.named", "Con mis datos"),
                  wa.text(frm, "Zenaida Quintero Prueba"), wa.text(frm, "CC 52123456"),
                  wa.button_reply(frm, "email.skip", "Omitir"), wa.button_reply(frm, "consent.yes", "Sí, autorizo")]:
            self.post_wa(m)
        rows = self.d.query("SELECT i.radicado, i.reply_channel, i.channel FROM items i JOIN requesters r "
                            "ON r.item_id = i.id WHERE r.phone = ? ORDER BY i.id DESC", ("+" + frm,))
        self.assertTrue(rows, "no item filed for %s" % frm)
        self.assertEqual((rows[0]["channel"], rows[0]["reply_channel"]), ("whatsapp", "whatsapp"))
        return rows[0]["radicado"]

    def test_12_whatsapp_invitation(self):
        frm = wa_number()
        rad = self.file_by_whatsapp(frm)
        self.answer_and_close(rad)
        texts = self.graph.wait_for(lambda: [t for t in self.graph.texts(to=frm) if LINK_RE.search(t or "")],
                                    timeout=H.WAIT, what="the survey invitation on WhatsApp")
        self.assertEqual(len(texts), 1, texts)
        self.assertIn(rad, texts[0])
        self.assertIn("atendimos", texts[0])
        msg = [m for m in self.graph.messages(to=frm) if LINK_RE.search(json.dumps(m, ensure_ascii=False))][0]
        self.assertNotEqual(msg["type"], "template", "the 24-hour window is open: no template")
        token = LINK_RE.search(texts[0]).group(1)
        inv = self.invitations(rad)
        self.assertEqual([(i["channel"], i["used_at"]) for i in inv], [("whatsapp", None)])
        (ob,) = S.wait(lambda: [o for o in self.outbox(rad) if o["status"] == "sent"] or None,
                       what="the invitation's outbox row sent")
        self.assertEqual(ob["secret"], token, "kept beside the text until Meta reports delivery")
        self.assertNotIn(token, ob["body"] + (ob["params"] or "") + (ob["fallback"] or ""))
        r = self.wa.post(self.d, self.wa.delivery(statuses=[self.wa.status(ob["provider_id"], "delivered", frm)]),
                         self.wa.SECRET)
        self.assertEqual(r.status, 200, r)
        ob = self.d.query("SELECT status, secret FROM outbox WHERE id = ?", (ob["id"],))[0]
        self.assertEqual((ob["status"], ob["secret"]), ("delivered", None), "the token is erased once delivered")
        # The citizen opens the link and answers on the web.
        self.assert_page(self.d.get("/encuesta/" + token), 200, "¿Cómo lo atendimos?")
        self.answer(token, csat=4, nps=9)
        row = self.answer_row(inv[0]["id"])
        self.assertEqual((row["source_item_id"], row["csat"], row["nps"]), (self.item_id(rad), 4, 9))


# ---------------------------------------------------------------------------
# The definitions API


class Definitions(AuditAtEnd, SurveyBase):
    name = "survey-defs"

    def get_export(self, code, who="ad"):
        return self.ok(self.s[who].get("/api/v1/surveys/%s" % code), "export %s" % code)

    def counts(self):
        return (self.d.scalar("SELECT count(*) FROM surveys"), self.d.scalar("SELECT count(*) FROM survey_versions"),
                self.d.scalar("SELECT count(*) FROM audit_events WHERE action LIKE 'encuesta_%'"),
                H.stored(self.d))  # outbox rows and the rest too

    def test_01_public_survey_with_every_question_type(self):
        code = "consulta_audiencia"
        definition = every_type_definition()
        doc = self.create_survey(code, definition)
        self.assertEqual(doc["version"], 1)
        listed = {s["code"]: s for s in self.ok(self.s["ad"].get("/api/v1/surveys"))["surveys"]}
        self.assertIn("satisfaccion", listed)
        s = listed[code]
        self.assertEqual((s["purpose"], s["active"], s["version"], s["definition"], s["answers"]),
                         ("public", True, 1, definition, 0))
        self.assertEqual(s["public_link"], "%s/encuesta/p/%s" % (PUBLIC_URL, code))
        self.assertNotIn("public_link", listed["satisfaccion"], "an after_item survey has no public link")
        # The page shows every question.
        r = self.d.get("/encuesta/p/" + code)
        self.assert_page(r, 200, definition["title"], definition["intro"])
        form = dom(r).find("form")
        self.assertEqual(form.attrs.get("action"), "/encuesta/p/" + code)
        self.check_questions(form, definition)
        # A required multiple-choice question left empty is refused, the rest kept.
        before = self.stored()
        r = self.answer_page("/encuesta/p/" + code, [("q_calidad", "4"), ("q_asistio", "si"), ("q_medio", "1")])
        self.assert_page(r, 422, "Elija al menos una opción")
        boxes = [i for i in dom(r).find_all("input") if i.attrs.get("name") == "q_temas"]
        self.assertTrue(boxes and all(i.attrs.get("aria-invalid") == "true" for i in boxes))
        self.assertEqual(self.stored(), before)
        # An answer to every type is stored normalized.
        r = self.answer_page("/encuesta/p/" + code, [("q_calidad", "4"), ("q_recomienda", "10"), ("q_asistio", "no"),
                                                     ("q_medio", "1"), ("q_temas", "0"), ("q_temas", "2"),
                                                     ("q_comentario", "Que sea en la tarde.")])
        self.assert_page(r, 200, "Gracias")
        row = self.d.query("SELECT a.* FROM survey_answers a JOIN surveys s ON s.id = a.survey_id WHERE s.code = ?",
                           (code,))
        self.assertEqual(len(row), 1, row)
        self.assertEqual(json.loads(row[0]["answers"]),
                         {"calidad": 4, "recomienda": 10, "asistio": False, "medio": "Radio comunitaria",
                          "temas": ["Vías", "Educación"], "comentario": "Que sea en la tarde."})
        self.assertEqual((row[0]["version"], row[0]["csat"], row[0]["nps"], row[0]["invitation_id"]), (1, 4, 10, None))
        ev = self.events(row[0]["item_id"], "encuesta_respondida")
        self.assertEqual(len(ev), 1, ev)
        # An after_item survey has no public page.
        self.assert_page(self.d.get("/encuesta/p/satisfaccion"), 404)
        self.assert_page(self.d.get("/encuesta/p/no_existe"), 404)

    def test_02_invalid_definitions_are_refused_and_nothing_stored(self):
        good = rating_nps_definition()
        q = good["questions"][0]

        def with_questions(qs):
            return dict(good, questions=qs)

        bad = {
            "no questions": with_questions([]),
            "questions missing": {"title": "Sin preguntas"},
            "duplicate ids": with_questions([q, dict(q, text="Otra")]),
            "unknown type": with_questions([dict(q, type="slider")]),
            "single without options": with_questions([dict(q, type="single")]),
            "single with one option": with_questions([dict(q, type="single", options=["Solo una"])]),
            "options on a rating": with_questions([dict(q, options=["a", "b"])]),
            "31 questions": with_questions([dict(q, id="p%d" % i) for i in range(31)]),
            "title too long": dict(good, title="t" * 201),
            "no title": dict(good, title=""),
            "bad id": with_questions([dict(q, id="Pregunta 1")]),
            "not an object": ["no"],
        }
        existing = "percepcion_existente"
        self.create_survey(existing, good)
        before = self.counts()
        for what, definition in bad.items():
            for code in ("nueva_invalida", existing):
                with self.subTest(what, code=code):
                    r = self.s["ad"].post("/api/v1/surveys", {"code": code, "purpose": "public",
                                                              "definition": definition})
                    H.assert_error(self, r, 422, "invalid", field="definition")
        self.assertEqual(self.counts(), before, "nothing stored")
        self.assertEqual(self.s["ad"].get("/api/v1/surveys/nueva_invalida").status, 404)
        self.assertEqual(self.get_export(existing)["current_version"], 1)
        # 30 questions and a 200-character title are the limits, accepted.
        self.create_survey("limites", dict(good, title="t" * 200,
                                           questions=[dict(q, id="p%d" % i) for i in range(30)]))
        for body, field in [({"purpose": "public", "definition": good}, "code"),
                            ({"code": "Con Mayúsculas", "purpose": "public", "definition": good}, "code"),
                            ({"code": "x" * 64, "purpose": "public", "definition": good}, "code"),
                            ({"code": "otra", "purpose": "encuesta", "definition": good}, "purpose"),
                            ({"code": "otra", "purpose": "public"}, "definition")]:
            with self.subTest(field=field, body=body):
                H.assert_error(self, self.s["ad"].post("/api/v1/surveys", body), 422, "invalid", field=field)
        H.assert_error(self, self.s["ad"].post("/api/v1/surveys", raw="{no es json"), 422, "invalid", field="body")

    def test_03_new_version_keeps_old_answers_on_theirs(self):
        code = "capacitacion_%d" % H.unique()
        v1 = rating_nps_definition("Encuesta de la capacitación")
        self.create_survey(code, v1)
        survey = self.d.scalar("SELECT id FROM surveys WHERE code = ?", (code,))
        r = self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "5", "q_recomendacion": "9"})
        self.assert_page(r, 200, "Gracias")
        v2 = dict(v1, title="Encuesta de la capacitación (nueva)",
                  questions=v1["questions"] + [{"id": "volveria", "type": "yes_no", "text": "¿Volvería a asistir?",
                                                "required": True}])
        doc = self.create_survey(code, v2, status=200)
        self.assertEqual(doc["version"], 2)
        page = self.d.get("/encuesta/p/" + code)
        self.assert_page(page, 200, "¿Volvería a asistir?", "(nueva)")
        r = self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "3"})
        self.assert_page(r, 422, "obligatoria")
        marked = {i.attrs.get("name") for i in dom(r).find_all("input") if i.attrs.get("aria-invalid") == "true"}
        self.assertEqual(marked, {"q_volveria"}, "the new required question is the one missing")
        self.assert_page(self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "3", "q_volveria": "quizás"}),
                         422, "sí o no")
        r = self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "3", "q_volveria": "si"})
        self.assert_page(r, 200, "Gracias")
        rows = self.d.query("SELECT version, csat, nps, answers FROM survey_answers WHERE survey_id = ? "
                            "ORDER BY item_id", (survey,))
        self.assertEqual([(x["version"], x["csat"], x["nps"]) for x in rows], [(1, 5, 9), (2, 3, None)])
        self.assertEqual(json.loads(rows[1]["answers"]), {"satisfaccion": 3, "volveria": True})
        # The export carries every version; its {code, purpose, definition} imports elsewhere.
        exp = self.get_export(code)
        self.assertEqual((exp["code"], exp["purpose"], exp["active"], exp["current_version"]),
                         (code, "public", True, 2))
        self.assertEqual([(v["version"], v["definition"]) for v in exp["versions"]], [(1, v1), (2, v2)])
        for v in exp["versions"]:
            self.assertRegex(v["created_at"], H.RECEIVED_AT_RE)
        self.assertEqual(exp["definition"], v2)
        self.assertEqual(self.get_export(code, "ge"), exp, "the gerente reads the same export")
        copy = code + "_copia"
        doc = self.create_survey(copy, exp["definition"], purpose=exp["purpose"])
        self.assertEqual(doc["version"], 1)
        imp = self.get_export(copy)
        self.assertEqual((imp["purpose"], imp["current_version"], imp["definition"]), ("public", 1, v2))
        self.assert_page(self.d.get("/encuesta/p/" + copy), 200, "¿Volvería a asistir?")
        # Audit: every saved version.
        saved = [json.loads(e["payload"]) for e in self.d.query(
            "SELECT payload FROM audit_events WHERE action = 'encuesta_guardada' ORDER BY id")]
        self.assertIn({"code": code, "version": 2, "active": None}, saved)
        self.assertIn({"code": copy, "version": 1, "active": None}, saved)

    def test_04_purpose_of_an_existing_code_cannot_change(self):
        code = "evento_%d" % H.unique()
        self.create_survey(code, rating_nps_definition("Audiencia pública"), purpose="event")
        self.assert_page(self.d.get("/encuesta/p/" + code), 200, "Audiencia pública")
        before = self.counts()
        for purpose in ("public", "after_item"):
            with self.subTest(purpose=purpose):
                r = self.s["ad"].post("/api/v1/surveys", {"code": code, "purpose": purpose,
                                                          "definition": rating_nps_definition("Otra")})
                H.assert_error(self, r, 409, field="purpose")
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.get_export(code)["purpose"], "event")
        r = self.s["ad"].post("/api/v1/surveys", {"code": "satisfaccion", "purpose": "public",
                                                  "definition": rating_nps_definition()})
        H.assert_error(self, r, 409, field="purpose")

    def test_05_deactivated_survey_page_is_gone(self):
        code = "temporal_%d" % H.unique()
        self.create_survey(code, rating_nps_definition("Encuesta temporal"))
        path = "/api/v1/surveys/%s/active" % code
        doc = self.ok(self.s["ad"].post(path, {"active": False}), "deactivate")
        self.assertEqual(doc["code"], code)
        before = self.stored()
        self.assert_page(self.d.get("/encuesta/p/" + code), 404)
        self.assert_page(self.answer_page("/encuesta/p/" + code, {"q_satisfaccion": "5"}), 404)
        self.assertEqual(self.stored(), before)
        self.assertFalse(self.get_export(code)["active"])
        listed = {s["code"]: s for s in self.ok(self.s["ge"].get("/api/v1/surveys"))["surveys"]}
        self.assertIs(listed[code]["active"], False)
        self.ok(self.s["ad"].post(path, {"active": True}), "reactivate")
        self.assert_page(self.d.get("/encuesta/p/" + code), 200, "Encuesta temporal")
        H.assert_error(self, self.s["ad"].post(path, {"active": "no"}), 422, "invalid", field="active")
        H.assert_error(self, self.s["ad"].post("/api/v1/surveys/no_existe/active", {"active": False}), 404)
        ev = [json.loads(e["payload"]) for e in self.d.query(
            "SELECT payload FROM audit_events WHERE action = 'encuesta_activada' ORDER BY id")]
        self.assertEqual([e["active"] for e in ev if e["code"] == code], [False, True])

    def test_07_hostile_definition_text_is_escaped_on_the_page(self):
        code = "hostil_%d" % H.unique()
        title = "Encuesta <b>negrita</b> & más"
        definition = {"title": title, "intro": "Intro <iframe src=//x.example>",
                      "questions": [{"id": "p1", "type": "single", "text": "Elija " + HOSTILE, "required": True,
                                     "options": ["<img src=x onerror=alert(1)>", "Normal \"comillas\""]},
                                    {"id": "p2", "type": "text", "text": "Comente <u>aquí</u>"}]}
        self.create_survey(code, definition)
        for r in (self.d.get("/encuesta/p/" + code), self.answer_page("/encuesta/p/" + code, {"q_p2": "x"})):
            with self.subTest(status=r.status):
                self.assertIn(r.status, (200, 422), r)
                for raw in ("<b>negrita", "<iframe", "<img src=x", "<u>aquí", "<script"):
                    self.assertNotIn(raw, r.text)
                root = dom(r)
                self.assertEqual(root.find("h1").text(), title)
                fs = root.find("fieldset")
                self.assertIn("Elija " + HOSTILE, fs.find("legend").text())
                self.assertEqual([lb.text().strip() for lb in fs.find_all("label")],
                                 ["<img src=x onerror=alert(1)>", 'Normal "comillas"'])
        r = self.answer_page("/encuesta/p/" + code, {"q_p1": "0", "q_p2": "</textarea>" + HOSTILE})
        self.assert_page(r, 200, "Gracias")
        row = self.d.query("SELECT a.answers FROM survey_answers a JOIN surveys s ON s.id = a.survey_id "
                           "WHERE s.code = ?", (code,))
        self.assertEqual(json.loads(row[0]["answers"]), {"p1": "<img src=x onerror=alert(1)>",
                                                         "p2": "</textarea>" + HOSTILE})

    def test_06_role_matrix(self):
        code = "matriz_%d" % H.unique()
        self.create_survey(code, rating_nps_definition())
        reads = ["/api/v1/surveys", "/api/v1/surveys/" + code]
        for who in ("ad", "ge", "ag", "co", "mo", None):
            for path in reads:
                with self.subTest(who=who, path=path):
                    r = self.s[who].get(path) if who else self.d.get(path)
                    want = {"ad": 200, "ge": 200, None: 401}.get(who, 403)
                    self.assertEqual(r.status, want, r)
        before = self.counts()
        writes = [("/api/v1/surveys", {"code": code, "purpose": "public", "definition": rating_nps_definition("X")}),
                  ("/api/v1/surveys/%s/active" % code, {"active": False})]
        for who in ("ge", "ag", "co", "mo", None):
            for path, body in writes:
                with self.subTest(who=who, path=path):
                    r = self.s[who].post(path, body) if who else S.anonymous_post(self.d, path, body)
                    self.assertEqual(r.status, 401 if who is None else 403, r)
        for csrf in (None, "0" * 64):
            for path, body in writes:
                with self.subTest(csrf=csrf, path=path):
                    H.assert_error(self, self.s["ad"].post(path, body, csrf=csrf), 403)
        self.assertEqual(self.counts(), before, "nothing stored by a refused write")
        exp = self.get_export(code)
        self.assertEqual((exp["current_version"], exp["active"]), (1, True))
        self.assertEqual(self.s["ad"].get("/api/v1/surveys/no_existe").status, 404)


# ---------------------------------------------------------------------------
# The invitation's delay, and the figures


class Figures(AuditAtEnd, SurveyBase):
    """surveys.invite_delay_minutes = 1: the invitations wait in the outbox
    (their token beside them, read here from the row to answer the way the
    citizen's link would). Seeds, answered through the web pages:

        PQRSD A  ciudadania  atencion_ciudadano  CSAT 5  NPS 10
        PQRSD B  academia    atencion_ciudadano  CSAT 4  NPS 9
        PQRSD C  academia    obras               CSAT 2  NPS 8
        PQRSD D  ciudadania  obras               CSAT 1  NPS 6
        public   ciudadania  (none)              CSAT 3  NPS 0
        PQRSD F, G: invited, never answered
    """
    name = "survey-fig"
    surveys_cfg = {"invite_delay_minutes": 1}
    PUBLIC = "percepcion_ciudadana"

    @classmethod
    def config(cls):
        import mailservers
        cls.smtp = mailservers.SmtpSink().start()
        return {"channels": {"email": {"enabled": True, "smtp_url": cls.smtp.url, "from": ENTITY,
                                       "allow_plaintext_loopback": True}},
                "outbox": {"timeout_ms": 3000}}

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.smtp.stop()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls("test_99_audit_verify")
        tc.create_survey(cls.PUBLIC, rating_nps_definition("Percepción ciudadana"))
        cls.seeds = []  # dicts: survey, group, dependencia, csat, nps, radicado, email
        plan = [("A", "ciudadania", TRIAGE, 5, 10), ("B", "academia", TRIAGE, 4, 9), ("C", "academia", OBRAS, 2, 8),
                ("D", "ciudadania", OBRAS, 1, 6), ("F", "sector_privado", TRIAGE, None, None),
                ("G", "medios", OBRAS, None, None)]
        cls.closed_at = now_ms()
        for tag, group, dep, csat, nps in plan:
            addr = citizen_email()
            rad = tc.file_pqrsd(email=addr, group=group)
            tc.answer_and_close(rad, dep=dep, who="co_obras" if dep == OBRAS else "co")
            cls.seeds.append({"tag": tag, "survey": "satisfaccion", "group": group, "dependencia": dep,
                              "csat": csat, "nps": nps, "radicado": rad, "email": addr})
        for s in cls.seeds:
            if s["csat"] is None:
                continue
            (ob,) = tc.outbox(s["radicado"])
            r = tc.answer_page("/encuesta/" + ob["secret"], {"q_satisfaccion": str(s["csat"]),
                                                              "q_recomendacion": str(s["nps"])})
            assert r.status == 200, r
        r = tc.answer_page("/encuesta/p/" + cls.PUBLIC, {"q_satisfaccion": "3", "q_recomendacion": "0"})
        assert r.status == 200, r
        cls.seeds.append({"tag": "P", "survey": cls.PUBLIC, "group": "ciudadania", "dependencia": TRIAGE,
                          "csat": 3, "nps": 0, "radicado": None, "email": None})
        cls.today = S.iso(S.today())

    def figures(self, who="ge", **params):
        params.setdefault("from", self.today)
        params.setdefault("to", self.today)
        return self.s[who].get("/api/v1/surveys/figures?" + urllib.parse.urlencode(params))

    def answered(self):
        return [s for s in self.seeds if s["csat"] is not None]

    def assert_row(self, got, want, what):
        for k in ("answers", "csat_n", "nps_n", "csat", "promoters", "detractors"):
            self.assertEqual(got.get(k), want[k], "%s: %s in %r" % (what, k, got))
        if want["nps"] is None:
            self.assertIsNone(got.get("nps"), what)
        else:
            self.assertAlmostEqual(got.get("nps"), want["nps"], delta=0.051, msg="%s: nps in %r" % (what, got))

    # -- 1. the delay
    def test_01_invitation_waits_for_the_configured_delay(self):
        for s in self.seeds:
            if not s["radicado"]:
                continue
            with self.subTest(s["tag"]):
                (ob,) = self.outbox(s["radicado"])
                self.assertEqual(ob["next_attempt_at"] - ob["created_at"], 60000,
                                 "due invite_delay_minutes (1) after the close")
                self.assertGreaterEqual(ob["next_attempt_at"], self.closed_at + 60000)
                self.assertEqual((ob["status"], ob["attempts"]), ("pending", 0), "not sent before the delay")
                self.assertRegex(ob["secret"] or "", r"^[0-9a-f]{64}$")
                self.assertNotIn(ob["secret"], ob["body"])
        # The answer itself went out at once; the invitation did not.
        last = self.seeds[-2]["email"]
        self.smtp.wait_for(lambda: [m for m in self.smtp.messages(to=last)
                                    if "Respuesta a su solicitud" in (m.msg["Subject"] or "")],
                           what="the answer mail")
        if now_ms() < self.closed_at + 60000:
            self.assertEqual([m.msg["Subject"] for m in self.smtp.messages()
                              if "atendimos" in (m.msg["Subject"] or "")],
                             [], "an invitation was sent before its delay")

    # -- 6. the figures
    def test_02_figures_by_every_grouping(self):
        keys = {"survey": lambda s: s["survey"], "group": lambda s: s["group"],
                "dependencia": lambda s: s["dependencia"], "channel": lambda s: "web",
                "month": lambda s: H.bogota_now().strftime("%Y-%m")}
        answered = self.answered()
        self.assertEqual([s["csat"] for s in answered], [5, 4, 2, 1, 3])
        self.assertEqual([s["nps"] for s in answered], [10, 9, 8, 6, 0])
        for by, key in keys.items():
            with self.subTest(by=by):
                doc = self.ok(self.figures(by=by), "figures by %s" % by)
                self.assertEqual((doc["by"], doc["from"], doc["to"]), (by, self.today, self.today))
                groups = {}
                for s in answered:
                    groups.setdefault(key(s), []).append((s["csat"], s["nps"]))
                rows = {r["key"]: r for r in doc["rows"] if r["answers"]}
                self.assertEqual(sorted(rows), sorted(groups), doc["rows"])
                # A key with invitations but no answer yet is listed with its
                # response rate (0) and no figures.
                for r in doc["rows"]:
                    if not r["answers"]:
                        self.assertGreater(r["invitations"], 0, r)
                        self.assertEqual((r["csat"], r["nps"], r["response_rate"]), (None, None, 0), r)
                for k, ans in groups.items():
                    self.assert_row(rows[k], expected_figures(ans), "%s=%s" % (by, k))
                total = expected_figures([(s["csat"], s["nps"]) for s in answered])
                self.assert_row(doc["total"], total, "total")
        doc = self.ok(self.figures(by="survey"))
        # The whole sample: CSAT 2 of 5 ratings are 4-5 = 40.0 %; NPS (2 promoters - 2 detractors) / 5 = 0.
        self.assertEqual((doc["total"]["csat"], doc["total"]["csat_n"], doc["total"]["nps_n"]), (40.0, 5, 5))
        self.assertAlmostEqual(doc["total"]["nps"], 0.0)
        # Default grouping is by survey.
        self.assertEqual(self.ok(self.figures())["rows"], doc["rows"])

    def test_03_response_rate(self):
        doc = self.ok(self.figures(by="survey"))
        invited = [s for s in self.seeds if s["radicado"]]
        answered = [s for s in invited if s["csat"] is not None]
        self.assertEqual((doc["invitations"], doc["invitations_answered"]), (len(invited), len(answered)))
        self.assertEqual(doc["response_rate"], pct1(len(answered), len(invited)))  # 4 / 6 = 66.7
        self.assertEqual(doc["response_rate"], 66.7)
        # A range with nothing in it.
        empty = self.ok(self.figures(**{"from": "2020-01-01", "to": "2020-01-31"}))
        self.assertEqual(empty["rows"], [])
        yesterday = S.iso(S.today() - datetime.timedelta(days=1))
        self.assertEqual(self.ok(self.figures(**{"from": yesterday, "to": yesterday}))["rows"], [])
        wider = self.ok(self.figures(**{"from": yesterday}))
        self.assertEqual((wider["rows"], wider["invitations"]), (doc["rows"], doc["invitations"]))
        if empty["total"] is not None:
            self.assertEqual(empty["total"]["answers"], 0)
        self.assertEqual((empty["invitations"], empty["response_rate"]), (0, None))

    def test_04_invitations_and_response_rate_over_the_range(self):
        """survey.h: the response rate is over every invitation sent in the
        range (at the top level), each row carries its answers' figures."""
        doc = self.ok(self.figures(by="survey"))
        self.assertEqual((doc["invitations"], doc["invitations_answered"], doc["response_rate"]),
                         (6, 4, 66.7), doc)
        for row in doc["rows"]:
            for k in ("key", "answers", "csat", "csat_n", "nps", "nps_n", "promoters", "detractors"):
                self.assertIn(k, row)
        # By survey each row has its own rate: every invitation is of "satisfaccion".
        rows = {r["key"]: r for r in doc["rows"]}
        sat = rows["satisfaccion"]
        self.assertEqual((sat["invitations"], sat["invitations_answered"], sat["response_rate"]),
                         (6, 4, 66.7), sat)
        # By channel there is none: an email invitation is answered on the web page.
        for r in self.ok(self.figures(by="channel"))["rows"]:
            self.assertNotIn("response_rate", r)

    def test_05_figures_are_for_the_gerente_only(self):
        for who in ("ad", "co", "ag", "mo"):
            with self.subTest(who=who):
                H.assert_error(self, self.figures(who), 403)
        self.assertEqual(self.d.get("/api/v1/surveys/figures?from=%s&to=%s" % (self.today, self.today)).status, 401)

    def test_06_bad_parameters(self):
        H.assert_error(self, self.figures(by="semana"), 422, "invalid", field="by")
        H.assert_error(self, self.figures(by="SURVEY"), 422, "invalid", field="by")
        for params, field in [({"from": "2026-02-30"}, "from"), ({"from": "01/12/2026"}, "from"),
                              ({"from": ""}, "from"),
                              ({"to": "mañana"}, "to"), ({"to": "2026-13-01"}, "to"),
                              ({"from": "2026-03-02", "to": "2026-03-01"}, "to")]:
            with self.subTest(params=params):
                H.assert_error(self, self.figures(by="month", **params), 422, "invalid", field=field)
        r = self.s["ge"].get("/api/v1/surveys/figures?by=survey")
        H.assert_error(self, r, 422, "invalid", field="from")


if __name__ == "__main__":
    H.main()
