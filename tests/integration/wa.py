"""Builders for signed WhatsApp Cloud API webhook deliveries.

The payloads follow Meta's webhook shape exactly:

    {"object": "whatsapp_business_account",
     "entry": [{"id": WABA_ID,
                "changes": [{"field": "messages",
                             "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "15550000000",
                                                    "phone_number_id": PNID},
                                       "contacts": [{"profile": {"name": NAME}, "wa_id": FROM}],
                                       "messages": [...],      # inbound messages, or
                                       "statuses": [...]}}]}]} # delivery statuses

Typical use:

    import wa
    m = wa.text("573001112233", "Quiero radicar una queja")
    r = wa.post(daemon, wa.delivery([m]), secret="app-secret")
    assert r.status == 200

Every message builder takes the keyword arguments wamid=, timestamp= and
context= (a reply: {"from": ..., "id": ...} or just the replied-to wamid);
by default each message gets a fresh unique wamid ("wamid.TEST" + uuid hex)
and the current unix time as a string.
"""

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WEBHOOK_PATH = "/webhooks/whatsapp"
WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550000000"
PNID = "1234567890"
DEFAULT_NAME = "Ciudadana Prueba"

# Error objects as Meta puts them in webhook messages[].errors / statuses[].errors.
ERRORS = {
    131047: {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
             "error_data": {"details": "Message failed to send because more than 24 hours have passed "
                                       "since the customer last replied to this number."},
             "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"},
    131026: {"code": 131026, "title": "Message Undeliverable.", "message": "Message Undeliverable.",
             "error_data": {"details": "Message Undeliverable."}},
    130429: {"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
             "error_data": {"details": "Cloud API message throughput has been reached."}},
    131051: {"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
             "error_data": {"details": "Message type is currently not supported."}},
    131000: {"code": 131000, "title": "Something went wrong", "message": "Something went wrong",
             "error_data": {"details": "Message failed to send due to an unknown error."}},
}


# ---------------------------------------------------------------------------
# Small helpers


def new_wamid():
    """A fresh unique inbound message id."""
    return "wamid.TEST" + uuid.uuid4().hex


def now_ts():
    """The current unix time as a string, as Meta sends it."""
    return str(int(time.time()))


def _error(e):
    if isinstance(e, int):
        if e in ERRORS:
            return json.loads(json.dumps(ERRORS[e]))
        return {"code": e, "title": "Error %d" % e, "message": "Error %d" % e,
                "error_data": {"details": "Error %d" % e}}
    return e


def _message(frm, mtype, part=None, wamid=None, timestamp=None, context=None):
    m = {}
    if context is not None:
        if isinstance(context, str):
            context = {"from": DISPLAY_PHONE_NUMBER, "id": context}
        m["context"] = context
    m.update({"from": str(frm), "id": wamid or new_wamid(),
              "timestamp": str(timestamp) if timestamp is not None else now_ts(), "type": mtype})
    if part is not None:
        m[mtype] = part
    return m


def _sha256_of(media_id):
    # Meta sends the file's SHA-256; without the bytes a stable stand-in will do.
    return hashlib.sha256(str(media_id).encode()).hexdigest()


# ---------------------------------------------------------------------------
# Message builders (inbound messages from a WhatsApp user)


def text(frm, body, **kw):
    return _message(frm, "text", {"body": body}, **kw)


def button_reply(frm, id, title, **kw):  # noqa: A002 (Meta's field name)
    """The user tapped a reply button of an interactive message we sent."""
    return _message(frm, "interactive", {"type": "button_reply", "button_reply": {"id": id, "title": title}}, **kw)


def list_reply(frm, id, title, description="", **kw):  # noqa: A002
    """The user picked a row of an interactive list message we sent."""
    row = {"id": id, "title": title}
    if description:
        row["description"] = description
    return _message(frm, "interactive", {"type": "list_reply", "list_reply": row}, **kw)


def button(frm, payload, text, **kw):  # noqa: A002  (shadowing text() only inside)
    """The user tapped a quick-reply button of a template message."""
    return _message(frm, "button", {"payload": payload, "text": text}, **kw)


def _media(frm, mtype, media_id, mime, caption=None, sha256=None, extra=None, **kw):
    part = {}
    if caption is not None:
        part["caption"] = caption
    part.update({"mime_type": mime, "sha256": sha256 or _sha256_of(media_id), "id": str(media_id)})
    part.update(extra or {})
    return _message(frm, mtype, part, **kw)


def image(frm, media_id, mime="image/jpeg", caption=None, sha256=None, **kw):
    return _media(frm, "image", media_id, mime, caption, sha256, **kw)


def video(frm, media_id, mime="video/mp4", caption=None, sha256=None, **kw):
    return _media(frm, "video", media_id, mime, caption, sha256, **kw)


def audio(frm, media_id, mime="audio/ogg; codecs=opus", caption=None, sha256=None, voice=True, **kw):
    return _media(frm, "audio", media_id, mime, caption, sha256, extra={"voice": bool(voice)}, **kw)


def sticker(frm, media_id, mime="image/webp", caption=None, sha256=None, animated=False, **kw):
    return _media(frm, "sticker", media_id, mime, caption, sha256, extra={"animated": bool(animated)}, **kw)


def document(frm, media_id, mime, filename, caption=None, sha256=None, **kw):
    part = {}
    if caption is not None:
        part["caption"] = caption
    part.update({"filename": filename, "mime_type": mime, "sha256": sha256 or _sha256_of(media_id),
                 "id": str(media_id)})
    return _message(frm, "document", part, **kw)


def location(frm, lat, lng, name=None, address=None, **kw):
    part = {"latitude": lat, "longitude": lng}
    if name is not None:
        part["name"] = name
    if address is not None:
        part["address"] = address
    return _message(frm, "location", part, **kw)


def reaction(frm, message_id, emoji, **kw):
    """A reaction to message_id (emoji "" means the reaction was removed)."""
    return _message(frm, "reaction", {"message_id": message_id, "emoji": emoji}, **kw)


def unsupported(frm, **kw):
    """A message type the Cloud API does not support (e.g. a poll)."""
    m = _message(frm, "unsupported", **kw)
    m["errors"] = [_error(131051)]
    return m


# ---------------------------------------------------------------------------
# Status builder (delivery receipts for messages we sent)


def status(wamid, status, recipient, errors=None, timestamp=None, category="service"):
    """A statuses[] entry: status is sent, delivered, read or failed; errors
    is a list of error dicts or bare codes (131047 -> Meta's full object)."""
    s = {"id": wamid, "status": status,
         "timestamp": str(timestamp) if timestamp is not None else now_ts(),
         "recipient_id": str(recipient)}
    if status in ("sent", "delivered"):
        s["conversation"] = {"id": "CONVERSATION" + uuid.uuid4().hex[:20], "origin": {"type": category}}
        if status == "sent":
            s["conversation"]["expiration_timestamp"] = str(int(time.time()) + 86400)
        s["pricing"] = {"billable": category != "service", "pricing_model": "PMP", "category": category}
    if errors:
        s["errors"] = [_error(e) for e in errors]
    return s


# ---------------------------------------------------------------------------
# Payloads


def delivery(messages=(), statuses=(), pnid=PNID, name=DEFAULT_NAME, waba=WABA_ID,
             display_phone_number=DISPLAY_PHONE_NUMBER):
    """One webhook payload with one entry/change carrying messages and/or
    statuses. contacts lists each distinct sender of messages (all named name)."""
    if isinstance(messages, dict):
        messages = [messages]
    if isinstance(statuses, dict):
        statuses = [statuses]
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": display_phone_number, "phone_number_id": str(pnid)}}
    messages, statuses = list(messages), list(statuses)
    if messages:
        senders = []
        for m in messages:
            if m.get("from") not in senders:
                senders.append(m.get("from"))
        value["contacts"] = [{"profile": {"name": name}, "wa_id": s} for s in senders]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": str(waba), "changes": [{"value": value, "field": "messages"}]}]}


def several(*deliveries):
    """Merges several delivery() payloads into one payload with several entries."""
    return {"object": "whatsapp_business_account",
            "entry": [e for d in deliveries for e in d["entry"]]}


def serialize(payload, escape_unicode=False):
    """Compact JSON bytes. escape_unicode=True mimics Meta's own encoding
    (non-ASCII as \\uXXXX and "/" as "\\/"), which is what Meta signs."""
    if escape_unicode:
        return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret, body_bytes):
    """The X-Hub-Signature-256 value: "sha256=" + hex HMAC-SHA256(secret, body)."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    return "sha256=" + hmac.new(secret, body_bytes, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------
# HTTP


def _request(daemon, method, path, body=None, headers=None, timeout=None):
    kw = {} if timeout is None else {"timeout": timeout}
    if hasattr(daemon, "request"):
        return daemon.request(method, path, body, headers, **kw)
    port = daemon if isinstance(daemon, int) else daemon.port
    return harness.http_request(port, method, path, body, headers, **kw)


def post(daemon, payload, secret, signature=..., raw=None, headers=None, path=WEBHOOK_PATH,
         escape_unicode=False, timeout=None):
    """POSTs a webhook delivery to the daemon (a harness.Daemon, anything with
    .port, or a port number) and returns the harness Response.

    The body is serialize(payload) or raw (bytes/str) when given. It is signed
    with secret unless signature is given; signature=None omits the
    X-Hub-Signature-256 header. headers are added last (a None value removes
    a header)."""
    body = raw if raw is not None else serialize(payload, escape_unicode)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if signature is ...:
        signature = sign(secret, body)
    hdrs = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if signature is not None:
        hdrs["X-Hub-Signature-256"] = signature
    for k, v in (headers or {}).items():
        for existing in [e for e in hdrs if e.lower() == k.lower()]:
            del hdrs[existing]
        if v is not None:
            hdrs[k] = v
    return _request(daemon, "POST", path, body, hdrs, timeout)


def verify(daemon, mode, token, challenge, path=WEBHOOK_PATH):
    """The subscription handshake: GET path?hub.mode=..&hub.verify_token=..
    &hub.challenge=.. (urlencoded; a None argument leaves its parameter out)."""
    params = [(k, v) for k, v in (("hub.mode", mode), ("hub.verify_token", token), ("hub.challenge", challenge))
              if v is not None]
    q = urllib.parse.urlencode(params)
    return _request(daemon, "GET", path + ("?" + q if q else ""))


# ---------------------------------------------------------------------------
# Daemon configuration for WhatsApp tests

SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


def config(graph, templates=None, outbox=None, **whatsapp):
    """A daemon config (harness.Daemon(config=...)) with the WhatsApp channel
    enabled against the FakeGraph graph. Fast retries unless outbox= says
    otherwise."""
    wa_cfg = {
        "enabled": True,
        "verify_token": VERIFY_TOKEN,
        "app_secret": SECRET,
        "access_token": graph.token,
        "phone_number_id": graph.phone_number_id,
        "graph_base_url": graph.base_url,
        "api_version": "v21.0",
    }
    if templates is not None:
        wa_cfg["templates"] = templates
    wa_cfg.update(whatsapp)
    out = {"max_attempts": 4, "backoff_base_ms": 100, "backoff_max_ms": 400, "timeout_ms": 2000}
    out.update(outbox or {})
    return {"channels": {"whatsapp": wa_cfg}, "outbox": out}
