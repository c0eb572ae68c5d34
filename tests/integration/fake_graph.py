"""A local fake of Meta's Graph API for the WhatsApp Cloud API.

Tests start one FakeGraph per daemon (or per test class), point the daemon's
WhatsApp channel at fake.base_url and then inspect what the daemon sent:

    with FakeGraph(token="test-token", phone_number_id="1234567890") as g:
        ...  # configure the daemon with graph base URL g.base_url
        g.wait_for(lambda: g.texts(to="573001112233"))
        g.fail_next("429")          # the next message POST answers 429
        g.set_mode("timeout")       # every message POST hangs until cleared
        g.fail_upload_next("500")   # the next media upload answers 500
        g.uploads()                 # what the daemon uploaded: bytes, filename, type

Endpoints (the version segment, e.g. "v21.0", is optional as in Graph):

    POST /{version}/{phone_number_id}/messages   send / mark as read
    POST /{version}/{phone_number_id}/media      upload (multipart/form-data) -> {"id": ...}
    GET  /{version}/{media_id}                   media metadata (url, mime_type, ...)
    GET  /media-download/{media_id}?token=...    the media bytes (bearer required too)

Every answer is what the Cloud API documents, errors included:

    {"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
               "code": 131047, "error_data": {"messaging_product": "whatsapp",
               "details": "..."}, "fbtrace_id": "..."}}

Only the Python standard library is used. Run this file directly for a
self-test: /usr/bin/python3 tests/integration/fake_graph.py
"""

import hashlib
import http.server
import itertools
import json
import re
import secrets
import socket
import struct
import threading
import time
import urllib.parse
import uuid

__all__ = ["FakeGraph", "KINDS", "MESSAGE_TYPES"]

# Failure kinds accepted by fail_next / set_mode / fail_media_next / set_media_mode /
# fail_upload_next / set_upload_mode.
KINDS = ("500", "503", "429", "400", "401", "404", "131047", "131026", "timeout", "reset")

MESSAGE_TYPES = ("text", "interactive", "template", "image", "document", "audio", "video",
                 "location", "reaction")
MEDIA_MESSAGE_TYPES = ("image", "document", "audio", "video", "sticker")

_VERSION = r"(?:/v\d+(?:\.\d+)?)?"
_MESSAGES_RE = re.compile(r"^%s/(?P<pnid>[^/]+)/messages/?$" % _VERSION)
_UPLOAD_RE = re.compile(r"^%s/(?P<pnid>[^/]+)/media/?$" % _VERSION)
_DOWNLOAD_RE = re.compile(r"^/media-download/(?P<id>[^/]+)/?$")
_OBJECT_RE = re.compile(r"^%s/(?P<id>[^/]+)/?$" % _VERSION)
_TO_RE = re.compile(r"^\+?\d{5,20}$")

_OAUTH_MESSAGE = "Invalid OAuth access token - Cannot parse access token"

# The media types the Cloud API accepts for upload, by category, and each
# category's size limit in bytes (Meta's "Supported media types" table).
_MB = 1024 * 1024
UPLOAD_TYPES = {
    "document": ("text/plain", "application/pdf", "application/msword",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/vnd.ms-excel",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "application/vnd.ms-powerpoint",
                 "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "image": ("image/jpeg", "image/png"),
    "sticker": ("image/webp",),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "video": ("video/mp4", "video/3gpp"),
}
UPLOAD_LIMITS = {"document": 100 * _MB, "image": 5 * _MB, "sticker": 500 * 1024,
                 "audio": 16 * _MB, "video": 16 * _MB}
_RETRY_AFTER_DEFAULT = 1


# ---------------------------------------------------------------------------
# Error documents


def _trace_id():
    return "A" + secrets.token_urlsafe(16)[:22]


def graph_error(code, message, details=None, subcode=None, type_="OAuthException", extra=None):
    """Builds Meta's Graph API error document."""
    err = {"message": message, "type": type_, "code": code}
    if details is not None:
        err["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update(extra or {})
    err["fbtrace_id"] = _trace_id()
    return {"error": err}


class _Invalid(Exception):
    """A validation failure: answered as HTTP 400 with Meta's error JSON."""

    def __init__(self, code, details, message=None):
        super().__init__(details)
        self.code = code
        self.details = details
        if message is None:
            message = "(#131009) Parameter value is not valid" if code == 131009 else "(#100) Invalid parameter"
        self.message = message


def _missing(param):
    return _Invalid(100, "The parameter %s is required." % param,
                    "(#100) The parameter %s is required." % param)


def _bad(details):
    return _Invalid(131009, details)


def _fault_answer(kind, retry_after):
    """(status, headers, document) for an HTTP-answering failure kind."""
    if kind == "500":
        return 500, {}, graph_error(2, "(#2) Service temporarily unavailable",
                                    "Service temporarily unavailable. Please retry your request later.",
                                    extra={"is_transient": True})
    if kind == "503":
        return 503, {}, graph_error(2, "(#2) Service temporarily unavailable",
                                    "Service temporarily unavailable. Please retry your request later.",
                                    extra={"is_transient": True})
    if kind == "429":
        return 429, {"Retry-After": str(retry_after)}, graph_error(
            130429, "(#130429) Rate limit hit",
            "Cloud API message throughput has been reached. Message failed to send because there "
            "were too many messages sent from this phone number in a short period of time.")
    if kind == "400":
        return 400, {}, graph_error(100, "(#100) Invalid parameter", "Invalid parameter")
    if kind == "401":
        return 401, _www_authenticate(), graph_error(190, _OAUTH_MESSAGE)
    if kind == "404":  # what an expired media URL answers
        return 404, {}, graph_error(100, "(#100) Invalid parameter", "Media URL is not valid or has expired.")
    if kind == "131047":
        return 400, {}, graph_error(
            131047, "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.")
    if kind == "131026":
        return 400, {}, graph_error(131026, "(#131026) Message Undeliverable.", "Message Undeliverable.")
    raise ValueError("no HTTP answer for kind %r" % kind)


def _www_authenticate():
    return {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "%s"' % _OAUTH_MESSAGE}


def _check_kind(kind):
    if kind is None:
        return None
    kind = str(kind)
    if kind not in KINDS:
        raise ValueError("unknown failure kind %r (expected one of %s)" % (kind, ", ".join(KINDS)))
    return kind


# ---------------------------------------------------------------------------
# multipart/form-data (the media upload)

_DISPOSITION_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(value):
    """'form-data; name="a"; filename="b.pdf"' -> ("form-data", {"name": "a", "filename": "b.pdf"})."""
    head, _, rest = value.partition(";")
    params = {}
    for k, v in _DISPOSITION_PARAM_RE.findall(";" + rest):
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        params[k.lower()] = v
    return head.strip().lower(), params


def parse_multipart(content_type, body):
    """The parts of a multipart/form-data body: a list of dicts with name,
    filename (None for a plain field), content_type and data (bytes).
    Raises ValueError when the body is not well-formed multipart."""
    ctype, params = _header_params(content_type or "")
    if ctype != "multipart/form-data":
        raise ValueError("Content-Type is %r, not multipart/form-data" % (ctype or None))
    boundary = params.get("boundary")
    if not boundary:
        raise ValueError("multipart/form-data without a boundary")
    delim = b"--" + boundary.encode("latin-1")
    if not body.startswith(delim):
        raise ValueError("the body does not start with the boundary")
    parts = []
    pos = len(delim)
    while True:
        if body.startswith(b"--", pos):
            return parts  # the closing delimiter
        if not body.startswith(b"\r\n", pos):
            raise ValueError("malformed boundary line")
        end_headers = body.find(b"\r\n\r\n", pos)  # at pos itself when a part has no headers
        if end_headers < 0:
            raise ValueError("a part without the blank line after its headers")
        pos += 2
        headers = {}
        for line in body[pos:end_headers].split(b"\r\n") if end_headers > pos else ():
            k, sep, v = line.decode("utf-8", errors="replace").partition(":")
            if not sep:
                raise ValueError("malformed part header %r" % line[:80])
            headers[k.strip().lower()] = v.strip()
        nxt = body.find(b"\r\n" + delim, end_headers + 4)
        if nxt < 0:
            raise ValueError("a part without a closing boundary")
        disp, dparams = _header_params(headers.get("content-disposition", ""))
        if disp != "form-data" or "name" not in dparams:
            raise ValueError("a part without Content-Disposition: form-data; name=...")
        parts.append({"name": dparams["name"], "filename": dparams.get("filename"),
                      "content_type": headers.get("content-type"),
                      "data": body[end_headers + 4:nxt]})
        pos = nxt + 2 + len(delim)


def _upload_category(mime):
    for cat, types in UPLOAD_TYPES.items():
        if mime in types:
            return cat
    return None


# ---------------------------------------------------------------------------
# Validation of message POST bodies, following the Cloud API's documented limits


def _obj(parent, key, where):
    v = parent.get(key)
    if v is None:
        raise _missing(where)
    if not isinstance(v, dict):
        raise _Invalid(100, "Param %s must be a JSON object." % where)
    return v


def _string(parent, key, where, min_len=1, max_len=None, required=True):
    v = parent.get(key)
    if v is None:
        if required:
            raise _missing(where)
        return None
    if not isinstance(v, str):
        raise _Invalid(100, "Param %s must be a string." % where)
    if len(v) < min_len or (max_len is not None and len(v) > max_len):
        if max_len is None:
            raise _bad("%s length invalid. Min length: %d." % (where, min_len))
        raise _bad("%s length invalid. Min length: %d, Max length: %d. Got %d characters."
                   % (where, min_len, max_len, len(v)))
    return v


def _validate_text(doc):
    text = _obj(doc, "text", "text")
    body = text.get("body")
    if body is None:
        raise _missing("text['body']")
    if not isinstance(body, str):
        raise _Invalid(100, "Param text['body'] must be a string.")
    if len(body) < 1:
        raise _Invalid(100, "Param text['body'] must be at least 1 character long.")
    if len(body) > 4096:
        raise _Invalid(100, "Param text['body'] must be at most 4096 characters long. Got %d." % len(body))
    pu = text.get("preview_url")
    if pu is not None and not isinstance(pu, bool):
        raise _Invalid(100, "Param text['preview_url'] must be a boolean.")


def _validate_interactive(doc):
    it = _obj(doc, "interactive", "interactive")
    itype = _string(it, "type", "interactive['type']")
    if itype not in ("button", "list"):
        raise _bad("interactive['type'] %r is not supported (this fake accepts button and list)." % itype)
    body = _obj(it, "body", "interactive['body']")
    _string(body, "text", "interactive['body']['text']", 1, 1024)
    header = it.get("header")
    if header is not None:
        if not isinstance(header, dict):
            raise _Invalid(100, "Param interactive['header'] must be a JSON object.")
        htype = _string(header, "type", "interactive['header']['type']")
        if itype == "list" and htype != "text":
            raise _bad("interactive['header']['type'] must be text for list messages.")
        if htype == "text":
            _string(header, "text", "interactive['header']['text']", 1, 60)
        elif htype in ("image", "video", "document"):
            media = _obj(header, htype, "interactive['header']['%s']" % htype)
            if not media.get("id") and not media.get("link"):
                raise _missing("interactive['header']['%s']['id'] or ['link']" % htype)
        else:
            raise _bad("interactive['header']['type'] %r is not valid." % htype)
    footer = it.get("footer")
    if footer is not None:
        if not isinstance(footer, dict):
            raise _Invalid(100, "Param interactive['footer'] must be a JSON object.")
        _string(footer, "text", "interactive['footer']['text']", 1, 60)
    action = _obj(it, "action", "interactive['action']")
    if itype == "button":
        buttons = action.get("buttons")
        if buttons is None:
            raise _missing("interactive['action']['buttons']")
        if not isinstance(buttons, list):
            raise _Invalid(100, "Param interactive['action']['buttons'] must be an array.")
        if not 1 <= len(buttons) <= 3:
            raise _bad("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3. Got %d."
                       % len(buttons))
        ids = set()
        for i, b in enumerate(buttons):
            where = "interactive['action']['buttons'][%d]" % i
            if not isinstance(b, dict):
                raise _Invalid(100, "Param %s must be a JSON object." % where)
            if b.get("type") != "reply":
                raise _bad("%s['type'] must be reply." % where)
            reply = _obj(b, "reply", where + "['reply']")
            bid = _string(reply, "id", where + "['reply']['id']", 1, 256)
            _string(reply, "title", where + "['reply']['title']", 1, 20)
            if bid in ids:
                raise _bad("Duplicate button id %r: button ids must be unique." % bid)
            ids.add(bid)
    else:
        _string(action, "button", "interactive['action']['button']", 1, 20)
        sections = action.get("sections")
        if sections is None:
            raise _missing("interactive['action']['sections']")
        if not isinstance(sections, list):
            raise _Invalid(100, "Param interactive['action']['sections'] must be an array.")
        if not 1 <= len(sections) <= 10:
            raise _bad("Invalid sections count. Min allowed sections: 1, Max allowed sections: 10. Got %d."
                       % len(sections))
        total = 0
        ids = set()
        for si, s in enumerate(sections):
            where = "interactive['action']['sections'][%d]" % si
            if not isinstance(s, dict):
                raise _Invalid(100, "Param %s must be a JSON object." % where)
            _string(s, "title", where + "['title']", 1, 24, required=len(sections) > 1)
            rows = s.get("rows")
            if rows is None:
                raise _missing(where + "['rows']")
            if not isinstance(rows, list):
                raise _Invalid(100, "Param %s['rows'] must be an array." % where)
            for ri, r in enumerate(rows):
                rw = "%s['rows'][%d]" % (where, ri)
                if not isinstance(r, dict):
                    raise _Invalid(100, "Param %s must be a JSON object." % rw)
                rid = _string(r, "id", rw + "['id']", 1, 200)
                _string(r, "title", rw + "['title']", 1, 24)
                _string(r, "description", rw + "['description']", 0, 72, required=False)
                if rid in ids:
                    raise _bad("Duplicate row id %r: row ids must be unique across sections." % rid)
                ids.add(rid)
            total += len(rows)
        if not 1 <= total <= 10:
            raise _bad("Invalid rows count. Min allowed rows: 1, Max allowed rows: 10 (all sections "
                       "combined). Got %d." % total)


def _validate_template(doc):
    tpl = _obj(doc, "template", "template")
    _string(tpl, "name", "template['name']", 1, 512)
    lang = _obj(tpl, "language", "template['language']")
    _string(lang, "code", "template['language']['code']", 1, 15)
    comps = tpl.get("components")
    if comps is not None:
        if not isinstance(comps, list):
            raise _Invalid(100, "Param template['components'] must be an array.")
        for i, c in enumerate(comps):
            if not isinstance(c, dict):
                raise _Invalid(100, "Param template['components'][%d] must be a JSON object." % i)
            _string(c, "type", "template['components'][%d]['type']" % i)
            params = c.get("parameters")
            if params is not None and not isinstance(params, list):
                raise _Invalid(100, "Param template['components'][%d]['parameters'] must be an array." % i)


def _validate_media(doc, mtype):
    media = _obj(doc, mtype, mtype)
    mid, link = media.get("id"), media.get("link")
    if not mid and not link:
        raise _missing("%s['id'] or %s['link']" % (mtype, mtype))
    if mid is not None and not isinstance(mid, str):
        raise _Invalid(100, "Param %s['id'] must be a string." % mtype)
    if link is not None and not (isinstance(link, str) and re.match(r"^https?://", link)):
        raise _bad("%s['link'] must be an http(s) URL." % mtype)
    if "caption" in media:
        if mtype == "audio":
            raise _bad("audio messages do not support a caption.")
        _string(media, "caption", "%s['caption']" % mtype, 0, 1024)
    if mtype == "document":
        _string(media, "filename", "document['filename']", 0, 240, required=False)


def _validate_location(doc):
    loc = _obj(doc, "location", "location")
    for k, lo, hi in (("latitude", -90, 90), ("longitude", -180, 180)):
        v = loc.get(k)
        if v is None:
            raise _missing("location['%s']" % k)
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise _bad("location['%s'] must be a number." % k) from None
        if not lo <= f <= hi:
            raise _bad("location['%s'] out of range." % k)
    _string(loc, "name", "location['name']", 0, 1000, required=False)
    _string(loc, "address", "location['address']", 0, 1000, required=False)


def _validate_reaction(doc):
    r = _obj(doc, "reaction", "reaction")
    _string(r, "message_id", "reaction['message_id']")
    emoji = r.get("emoji")
    if emoji is None:
        raise _missing("reaction['emoji']")
    if not isinstance(emoji, str):
        raise _Invalid(100, "Param reaction['emoji'] must be a string.")


def validate_send(doc):
    """Raises _Invalid when doc is not a message the Cloud API would accept."""
    if not isinstance(doc, dict):
        raise _Invalid(100, "The request body must be a JSON object.")
    mp = doc.get("messaging_product")
    if mp is None:
        raise _missing("messaging_product")
    if mp != "whatsapp":
        raise _bad("messaging_product must be whatsapp. Got %r." % (mp,))
    rt = doc.get("recipient_type", "individual")
    if rt not in ("individual", "group"):
        raise _bad("recipient_type %r is not valid." % (rt,))
    to = doc.get("to")
    if to is None or to == "":
        raise _missing("to")
    if not isinstance(to, str) or not _TO_RE.match(to):
        raise _Invalid(100, "Invalid parameter 'to': %r is not a phone number in international format "
                            "(digits only, optional leading +)." % (to,))
    mtype = doc.get("type", "text")  # documented: type defaults to text
    if mtype not in MESSAGE_TYPES:
        raise _bad("Message type %r is not valid. Expected one of: %s." % (mtype, ", ".join(MESSAGE_TYPES)))
    ctx = doc.get("context")
    if ctx is not None and not (isinstance(ctx, dict) and isinstance(ctx.get("message_id"), str)):
        raise _bad("context['message_id'] must be a string.")
    if mtype == "text":
        _validate_text(doc)
    elif mtype == "interactive":
        _validate_interactive(doc)
    elif mtype == "template":
        _validate_template(doc)
    elif mtype in MEDIA_MESSAGE_TYPES:
        _validate_media(doc, mtype)
    elif mtype == "location":
        _validate_location(doc)
    elif mtype == "reaction":
        _validate_reaction(doc)


def validate_read(doc):
    if doc.get("messaging_product") != "whatsapp":
        if doc.get("messaging_product") is None:
            raise _missing("messaging_product")
        raise _bad("messaging_product must be whatsapp.")
    mid = doc.get("message_id")
    if mid is None or mid == "":
        raise _missing("message_id")
    if not isinstance(mid, str) or not mid.startswith("wamid."):
        raise _bad("Invalid message_id %r: provide a valid wamid from a received message." % (mid,))


def is_read_body(doc):
    return isinstance(doc, dict) and doc.get("status") == "read"


def human_text(doc):
    """The human text of a sent message: text.body, interactive body.text,
    template name, a media caption, a location name or a reaction emoji."""
    mtype = doc.get("type", "text")
    part = doc.get(mtype) if isinstance(doc.get(mtype), dict) else {}
    if mtype == "text":
        return part.get("body", "")
    if mtype == "interactive":
        return (part.get("body") or {}).get("text", "")
    if mtype == "template":
        return part.get("name", "")
    if mtype in MEDIA_MESSAGE_TYPES:
        return part.get("caption", "") or ""
    if mtype == "location":
        return part.get("name", "") or ""
    if mtype == "reaction":
        return part.get("emoji", "")
    return ""


# ---------------------------------------------------------------------------
# HTTP server


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, fake):
        self.fake = fake
        self.conns = set()
        self.to_reset = set()
        self.conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request_thread(self, request, client_address):
        with self.conns_lock:
            self.conns.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.conns_lock:
                self.conns.discard(request)

    def shutdown_request(self, request):
        with self.conns_lock:
            reset = request in self.to_reset
            self.to_reset.discard(request)
        if reset:
            # Abortive close: SO_LINGER 0 makes close() send an RST.
            try:
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_request(request)
            return
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # clients that vanish mid-request are expected here

    def drop_all(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes
    server_version = "FakeGraph/1.0"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        fake = self.server.fake
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        rec = fake._record(self.command, self.path, self.headers, body)
        try:
            fake._dispatch(self, rec)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    # -- helpers used by FakeGraph._dispatch
    def answer(self, rec, status, doc=None, headers=None, raw=None, content_type="application/json; charset=UTF-8"):
        data = raw if raw is not None else json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if content_type.startswith("application/json"):
            self.send_header("facebook-api-version", self.server.fake.api_version)
            self.send_header("x-fb-trace-id", _trace_id()[:11])
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with self.server.fake._lock:
            rec["status"] = status
            rec["response"] = doc
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def fault(self, rec, kind):
        fake = self.server.fake
        with fake._lock:
            rec["fault"] = kind
        if kind == "timeout":
            with fake._lock:
                fake._held += 1
            try:
                fake._stopping.wait(fake.hold_seconds)
            finally:
                with fake._lock:
                    fake._held -= 1
            self.close_connection = True  # closed without ever answering
            return
        if kind == "reset":
            with self.server.conns_lock:
                self.server.to_reset.add(self.connection)
            self.close_connection = True
            return
        status, headers, doc = _fault_answer(kind, fake.retry_after)
        self.answer(rec, status, doc, headers)


class FakeGraph:
    """A threaded local fake of the WhatsApp Cloud API (Graph API)."""

    def __init__(self, token="test-token", phone_number_id="1234567890", hold_seconds=30,
                 api_version="v21.0", retry_after=_RETRY_AFTER_DEFAULT):
        self.token = token
        self.phone_number_id = str(phone_number_id)
        self.hold_seconds = hold_seconds
        self.api_version = api_version
        self.retry_after = retry_after
        self.port = None
        self.base_url = None
        self._lock = threading.RLock()
        self._requests = []
        self._queue = []        # [(kind, include_read, message_type or None)]
        self._mode = None       # (kind, include_read) or None
        self._media_queue = []  # [kind]
        self._media_mode = None
        self._upload_queue = []  # [kind]
        self._upload_mode = None
        self._media = {}        # id -> {"data", "mime_type", "sha256", "url_token"}
        self._uploads = []      # accepted uploads, oldest first (see uploads())
        self._uploaded_ids = set()
        self.upload_limits = dict(UPLOAD_LIMITS)  # per category; tests may lower them
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._held = 0
        self._server = None
        self._thread = None

    # -- lifecycle
    def start(self):
        assert self._server is None, "already started"
        self._stopping.clear()
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fake-graph-%d" % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops serving; held ("timeout") requests are released and their
        connections closed, so this returns promptly."""
        srv = self._server
        if srv is None:
            return
        self._stopping.set()
        srv.shutdown()
        srv.drop_all()
        srv.server_close()
        self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- configuration
    def reset(self):
        """Forgets recorded requests and uploads() and clears every failure
        queue and mode (registered and uploaded media stay valid)."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._mode = None
            self._media_queue.clear()
            self._media_mode = None
            self._upload_queue.clear()
            self._upload_mode = None
            self._uploads.clear()

    def fail_next(self, kind, n=1, include_read=False, message_type=None):
        """The next n message POSTs fail with kind. Mark-as-read POSTs are not
        affected (and do not consume the queue) unless include_read=True.
        With message_type (e.g. "document"), only messages of that type fail
        and consume the queue; others pass."""
        kind = _check_kind(kind)
        if kind is None:
            raise ValueError("fail_next needs a kind")
        if message_type is not None and message_type not in MESSAGE_TYPES:
            raise ValueError("unknown message type %r" % (message_type,))
        with self._lock:
            self._queue.extend([(kind, bool(include_read), message_type)] * int(n))

    def set_mode(self, kind, include_read=False):
        """Every message POST fails with kind until set_mode(None)."""
        kind = _check_kind(kind)
        with self._lock:
            self._mode = None if kind is None else (kind, bool(include_read))

    def fail_media_next(self, kind, n=1):
        """The next n media requests (metadata GET or download) fail with kind."""
        kind = _check_kind(kind)
        if kind is None:
            raise ValueError("fail_media_next needs a kind")
        with self._lock:
            self._media_queue.extend([kind] * int(n))

    def set_media_mode(self, kind):
        """Every media request fails with kind until set_media_mode(None)."""
        with self._lock:
            self._media_mode = _check_kind(kind)

    def fail_upload_next(self, kind, n=1):
        """The next n media uploads (POST /{phone_number_id}/media) fail with kind."""
        kind = _check_kind(kind)
        if kind is None:
            raise ValueError("fail_upload_next needs a kind")
        with self._lock:
            self._upload_queue.extend([kind] * int(n))

    def set_upload_mode(self, kind):
        """Every media upload fails with kind until set_upload_mode(None)."""
        with self._lock:
            self._upload_mode = _check_kind(kind)

    def add_media(self, media_id, data, mime_type):
        """Registers downloadable media; returns its metadata document."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            self._media[str(media_id)] = {
                "data": bytes(data), "mime_type": mime_type,
                "sha256": hashlib.sha256(data).hexdigest(), "url_token": secrets.token_hex(8)}
        return self.media_doc(media_id) if self.base_url else None

    def media_url(self, media_id):
        m = self._media[str(media_id)]
        return "%s/media-download/%s?token=%s" % (self.base_url, urllib.parse.quote(str(media_id), safe=""),
                                                  m["url_token"])

    def media_doc(self, media_id):
        m = self._media[str(media_id)]
        return {"messaging_product": "whatsapp", "url": self.media_url(media_id),
                "mime_type": m["mime_type"], "sha256": m["sha256"], "file_size": len(m["data"]),
                "id": str(media_id)}

    # -- records
    @property
    def requests(self):
        """A snapshot list of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def held(self):
        """How many "timeout" requests are being held right now."""
        return self._held

    def _record(self, method, path, headers, body):
        try:
            doc = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            doc = None
        rec = {"method": method, "path": path, "headers": {k.lower(): v for k, v in headers.items()},
               "body": body, "json": doc, "status": None, "at": time.time(), "fault": None,
               "response": None, "kind": None}
        with self._lock:
            self._requests.append(rec)
        return rec

    def _message_posts(self, to=None, reads=False):
        out = []
        with self._lock:
            recs = list(self._requests)
        for r in recs:
            if r["kind"] != ("read" if reads else "message"):
                continue
            if r["status"] is None or not 200 <= r["status"] < 300:
                continue
            doc = r["json"]
            if to is not None and not reads and str(doc.get("to", "")).lstrip("+") != str(to).lstrip("+"):
                continue
            out.append(doc)
        return out

    def messages(self, to=None):
        """Parsed bodies of the successful message POSTs (not mark-as-read), in order."""
        return self._message_posts(to)

    def texts(self, to=None):
        """The human text of each successfully sent message (see human_text)."""
        return [human_text(d) for d in self._message_posts(to)]

    def reads(self):
        """message_ids successfully marked as read, in order."""
        return [d.get("message_id") for d in self._message_posts(reads=True)]

    def uploads(self):
        """The accepted media uploads, oldest first: dicts with id, data (the
        file's bytes), filename (of the file part), type (the form's type
        field), part_type (the file part's Content-Type), size, sha256, at."""
        with self._lock:
            return [dict(u) for u in self._uploads]

    def documents(self, to=None):
        """The document objects of the successfully sent document messages
        ({"id", "filename", ...}), in order."""
        return [d["document"] for d in self._message_posts(to) if d.get("type") == "document"]

    def sent_ids(self, to=None):
        """wamids answered for the successful message POSTs, in order."""
        with self._lock:
            recs = list(self._requests)
        out = []
        for r in recs:
            if r["kind"] == "message" and r["status"] == 200 and r["response"]:
                if to is None or str(r["json"].get("to", "")).lstrip("+") == str(to).lstrip("+"):
                    out.append(r["response"]["messages"][0]["id"])
        return out

    def summary(self, limit=40):
        """A readable list of the recorded requests (for assertion messages)."""
        recs = self.requests
        lines = ["%d request(s) recorded by FakeGraph on port %s:" % (len(recs), self.port)]
        for r in recs[-limit:]:
            what = ""
            if r["json"] is not None:
                what = json.dumps(r["json"], ensure_ascii=False)
                if len(what) > 200:
                    what = what[:200] + "..."
            elif r["body"]:
                what = repr(r["body"][:120])
            lines.append("  %s %s -> %s%s %s" % (r["method"], r["path"],
                                                 r["status"] if r["status"] is not None else "no answer",
                                                 " [%s]" % r["fault"] if r["fault"] else "", what))
        if len(recs) > limit:
            lines.insert(1, "  (only the last %d shown)" % limit)
        return "\n".join(lines)

    def wait_for(self, pred, timeout=60, interval=0.05, what=None):
        """Polls pred() until it returns something truthy and returns that;
        raises AssertionError with a summary of the requests on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() >= deadline:
                raise AssertionError("FakeGraph.wait_for: %s not true within %ss\n%s"
                                     % (what or getattr(pred, "__name__", "condition"), timeout, self.summary()))
            time.sleep(interval)

    # -- dispatch
    def _auth_ok(self, h):
        auth = h.headers.get("Authorization") or ""
        return auth.startswith("Bearer ") and secrets.compare_digest(auth[7:].strip(), self.token)

    def _take_fault(self, is_read, mtype=None):
        with self._lock:
            if self._mode is not None and (not is_read or self._mode[1]):
                return self._mode[0]
            for i, (kind, include_read, only) in enumerate(self._queue):
                if is_read and not include_read:
                    continue
                if only is not None and (is_read or only != mtype):
                    continue
                del self._queue[i]
                return kind
        return None

    def _take_upload_fault(self):
        with self._lock:
            if self._upload_mode is not None:
                return self._upload_mode
            if self._upload_queue:
                return self._upload_queue.pop(0)
        return None

    def _take_media_fault(self):
        with self._lock:
            if self._media_mode is not None:
                return self._media_mode
            if self._media_queue:
                return self._media_queue.pop(0)
        return None

    def _unauthorized(self, h, rec):
        h.answer(rec, 401, graph_error(190, _OAUTH_MESSAGE), _www_authenticate())

    def _unsupported(self, h, rec, obj_id):
        h.answer(rec, 400, graph_error(
            100, "Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to "
                 "missing permissions, or does not support this operation. Please read the Graph API "
                 "documentation at https://developers.facebook.com/docs/graph-api"
                 % (h.command.lower(), obj_id), subcode=33, type_="GraphMethodException"))

    def _dispatch(self, h, rec):
        parsed = urllib.parse.urlsplit(h.path)
        path = urllib.parse.unquote(parsed.path)
        query = urllib.parse.parse_qs(parsed.query)

        m = _MESSAGES_RE.match(path)
        if m:
            return self._messages(h, rec, m.group("pnid"))
        m = _UPLOAD_RE.match(path)
        if m and h.command == "POST":
            return self._upload(h, rec, m.group("pnid"))
        m = _DOWNLOAD_RE.match(path)
        if m:
            return self._download(h, rec, m.group("id"), query)
        m = _OBJECT_RE.match(path)
        if m and h.command == "GET":
            return self._media_meta(h, rec, m.group("id"))
        h.answer(rec, 400, graph_error(2500, "Unknown path components: %s" % path, type_="OAuthException"))

    def _messages(self, h, rec, pnid):
        if not self._auth_ok(h):
            return self._unauthorized(h, rec)
        if h.command != "POST" or pnid != self.phone_number_id:
            return self._unsupported(h, rec, pnid)
        doc = rec["json"]
        if doc is None:
            return h.answer(rec, 400, graph_error(100, "(#100) Invalid parameter",
                                                  "The request body is not valid JSON."))
        is_read = is_read_body(doc)
        with self._lock:
            rec["kind"] = "read" if is_read else "message"
        mtype = doc.get("type", "text") if isinstance(doc, dict) else None
        kind = self._take_fault(is_read, mtype)
        if kind is not None:
            return h.fault(rec, kind)
        try:
            if is_read:
                validate_read(doc)
            else:
                validate_send(doc)
                self._check_media_id(doc, mtype)
        except _Invalid as e:
            return h.answer(rec, 400, graph_error(e.code, e.message, e.details))
        if is_read:
            return h.answer(rec, 200, {"success": True})
        to = doc["to"]
        wamid = "wamid.FAKE%06d%s" % (next(self._ids), uuid.uuid4().hex.upper())
        h.answer(rec, 200, {"messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                            "messages": [{"id": wamid}]})

    def _check_media_id(self, doc, mtype):
        """A media message by id must name media uploaded to this number."""
        if mtype not in MEDIA_MESSAGE_TYPES:
            return
        mid = doc[mtype].get("id")
        if mid is None:
            return
        with self._lock:
            known = mid in self._uploaded_ids
        if not known:
            raise _Invalid(100, "Param %s['id'] is not a valid media ID: %r was not uploaded to "
                                "this phone number, or it has expired." % (mtype, mid))

    def _upload(self, h, rec, pnid):
        """POST /{phone_number_id}/media: multipart/form-data with
        messaging_product=whatsapp, type=<mime> and the file part."""
        with self._lock:
            rec["kind"] = "upload"
        if not self._auth_ok(h):
            return self._unauthorized(h, rec)
        if pnid != self.phone_number_id:
            return self._unsupported(h, rec, pnid)
        kind = self._take_upload_fault()
        if kind is not None:
            return h.fault(rec, kind)
        try:
            parts = parse_multipart(h.headers.get("Content-Type"), rec["body"])
        except ValueError as e:
            return h.answer(rec, 400, graph_error(100, "(#100) Invalid parameter",
                                                  "The request must be multipart/form-data: %s." % e))
        fields = {}
        files = []
        for part in parts:
            if part["filename"] is not None:
                files.append(part)
            else:
                fields.setdefault(part["name"], part["data"].decode("utf-8", errors="replace"))
        try:
            mp = fields.get("messaging_product")
            if mp is None:
                raise _missing("messaging_product")
            if mp != "whatsapp":
                raise _bad("messaging_product must be whatsapp. Got %r." % (mp,))
            file_part = next((f for f in files if f["name"] == "file"), None)
            if file_part is None:
                raise _missing("file")
            mime = fields.get("type")
            if mime is None:
                raise _missing("type")
            cat = _upload_category(mime.split(";")[0].strip().lower())
            if cat is None:
                raise _Invalid(100, "Param file must be a file with one of the following types: %s. "
                                    "Received file of type '%s'."
                               % (", ".join(t for ts in UPLOAD_TYPES.values() for t in ts), mime),
                               "(#100) Param file must be a file with one of the following types")
            data = file_part["data"]
            if not data:
                raise _Invalid(131053, "The uploaded file is empty.", "(#131053) Media upload error")
            if len(data) > self.upload_limits[cat]:
                raise _Invalid(131053, "File size %d bytes exceeds the %d bytes limit for %s media."
                               % (len(data), self.upload_limits[cat], cat),
                               "(#131053) Media upload error")
        except _Invalid as e:
            return h.answer(rec, 400, graph_error(e.code, e.message, e.details))
        media_id = "%d%09d" % (next(self._ids), secrets.randbelow(10 ** 9))
        up = {"id": media_id, "data": bytes(data), "filename": file_part["filename"], "type": mime,
              "part_type": file_part["content_type"], "size": len(data),
              "sha256": hashlib.sha256(data).hexdigest(), "at": time.time()}
        with self._lock:
            self._uploads.append(up)
            self._uploaded_ids.add(media_id)
            # Uploaded media can be fetched back like any other (GET /{media-id}).
            self._media[media_id] = {"data": up["data"], "mime_type": mime, "sha256": up["sha256"],
                                     "url_token": secrets.token_hex(8)}
            rec["media_id"] = media_id
        h.answer(rec, 200, {"id": media_id})

    def _media_meta(self, h, rec, media_id):
        with self._lock:
            rec["kind"] = "media"
        if not self._auth_ok(h):
            return self._unauthorized(h, rec)
        kind = self._take_media_fault()
        if kind is not None:
            return h.fault(rec, kind)
        with self._lock:
            known = media_id in self._media
            doc = self.media_doc(media_id) if known else None
        if not known:
            return self._unsupported(h, rec, media_id)
        h.answer(rec, 200, doc)

    def _download(self, h, rec, media_id, query):
        with self._lock:
            rec["kind"] = "download"
        if not self._auth_ok(h):
            return self._unauthorized(h, rec)
        kind = self._take_media_fault()
        if kind is not None:
            return h.fault(rec, kind)
        with self._lock:
            m = self._media.get(media_id)
        if m is None or query.get("token", [""])[0] != m["url_token"]:
            # The lookaside URL is only valid exactly as returned by GET /{media-id}.
            return h.answer(rec, 404, graph_error(100, "(#100) Invalid parameter",
                                                  "Media URL is not valid or has expired."))
        h.answer(rec, 200, raw=m["data"], content_type=m["mime_type"])


# ---------------------------------------------------------------------------
# Self-test


if __name__ == "__main__":
    import http.client
    import sys
    import urllib.error
    import urllib.request

    def call(g, method, path, doc=None, token="test-token", timeout=5, raw=None, headers=None):
        url = path if path.startswith("http") else g.base_url + path
        data = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else None)
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                body = r.read()
                return r.status, {k.lower(): v for k, v in r.headers.items()}, body
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, {k.lower(): v for k, v in e.headers.items()}, body

    def jcall(*a, **kw):
        st, hd, body = call(*a, **kw)
        return st, hd, json.loads(body)

    MSG = "/v21.0/1234567890/messages"

    def text(to="573001112233", body="Hola"):
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "text", "text": {"body": body}}

    def buttons(n=2, title="Sí", ids=None):
        ids = ids or ["b%d" % i for i in range(n)]
        return {"messaging_product": "whatsapp", "to": "573001112233", "type": "interactive",
                "interactive": {"type": "button", "body": {"text": "¿Confirma?"},
                                "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": title}}
                                                       for i in ids]}}}

    def listmsg(rows=3, row_title="Opción", button="Ver opciones", sections=1):
        secs = [{"title": "Sección %d" % s, "rows": [{"id": "r%d_%d" % (s, i), "title": row_title,
                                                      "description": "desc"} for i in range(rows)]}
                for s in range(sections)]
        return {"messaging_product": "whatsapp", "to": "573001112233", "type": "interactive",
                "interactive": {"type": "list", "body": {"text": "Elija"},
                                "action": {"button": button, "sections": secs}}}

    def expect_error(g, doc, status, code, needle=None):
        st, _, d = jcall(g, "POST", MSG, doc)
        assert st == status, (st, d, doc)
        err = d["error"]
        assert err["code"] == code, (err, doc)
        assert err["type"] and err["message"] and err["fbtrace_id"], err
        if needle:
            assert needle in err.get("error_data", {}).get("details", ""), (needle, err)
        return err

    with FakeGraph() as g:
        # success
        st, hd, d = jcall(g, "POST", MSG, text())
        assert st == 200, (st, d)
        assert d["messaging_product"] == "whatsapp"
        assert d["contacts"] == [{"input": "573001112233", "wa_id": "573001112233"}], d
        assert d["messages"][0]["id"].startswith("wamid."), d
        st, _, d2 = jcall(g, "POST", "/1234567890/messages", text(body="sin versión"))
        assert st == 200 and d2["messages"][0]["id"] != d["messages"][0]["id"]
        assert g.texts() == ["Hola", "sin versión"], g.texts()
        assert jcall(g, "POST", MSG, buttons())[0] == 200
        assert jcall(g, "POST", MSG, listmsg())[0] == 200
        tpl = {"messaging_product": "whatsapp", "to": "+573009998877", "type": "template",
               "template": {"name": "acuse_radicado", "language": {"code": "es"}}}
        st, _, d = jcall(g, "POST", MSG, tpl)
        assert st == 200 and d["contacts"][0] == {"input": "+573009998877", "wa_id": "573009998877"}, d
        assert g.texts(to="573009998877") == ["acuse_radicado"], g.texts(to="573009998877")
        assert g.texts(to="573001112233") == ["Hola", "sin versión", "¿Confirma?", "Elija"]
        assert len(g.messages()) == 5 and len(g.sent_ids()) == 5

        # mark as read
        read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.TESTabc"}
        st, _, d = jcall(g, "POST", MSG, read)
        assert (st, d) == (200, {"success": True}), (st, d)
        assert g.reads() == ["wamid.TESTabc"] and len(g.messages()) == 5
        expect_error(g, dict(read, message_id="nope"), 400, 131009, "message_id")

        # auth
        st, hd, d = jcall(g, "POST", MSG, text(), token="wrong")
        assert st == 401 and d["error"]["code"] == 190 and d["error"]["type"] == "OAuthException", d
        assert "www-authenticate" in hd
        st, _, d = jcall(g, "POST", MSG, text(), token=None)
        assert st == 401 and d["error"]["code"] == 190, d
        st, _, d = jcall(g, "POST", "/v21.0/999/messages", text())
        assert st == 400 and d["error"]["code"] == 100, d

        # validation
        expect_error(g, dict(text(), messaging_product="sms"), 400, 131009, "messaging_product")
        expect_error(g, {k: v for k, v in text().items() if k != "messaging_product"}, 400, 100,
                     "messaging_product")
        expect_error(g, {k: v for k, v in text().items() if k != "to"}, 400, 100, "to")
        expect_error(g, text(to="abc"), 400, 100, "to")
        expect_error(g, dict(text(), type="sticker"), 400, 131009, "type")
        expect_error(g, text(body=""), 400, 100, "text['body']")
        expect_error(g, text(body="x" * 4097), 400, 100, "4096")
        assert jcall(g, "POST", MSG, text(body="x" * 4096))[0] == 200
        expect_error(g, buttons(n=4), 400, 131009, "buttons count")
        expect_error(g, dict(buttons(), interactive=dict(buttons()["interactive"], action={"buttons": []})),
                     400, 131009, "buttons count")
        expect_error(g, buttons(title="x" * 21), 400, 131009, "['title']")
        expect_error(g, buttons(title=""), 400, 131009, "['title']")
        expect_error(g, buttons(ids=["a", "a"]), 400, 131009, "unique")
        expect_error(g, buttons(ids=["a" * 257]), 400, 131009, "['id']")
        b = buttons()
        del b["interactive"]["body"]
        expect_error(g, b, 400, 100, "body")
        b = buttons()
        b["interactive"]["body"]["text"] = "x" * 1025
        expect_error(g, b, 400, 131009, "1024")
        expect_error(g, listmsg(rows=11), 400, 131009, "rows count")
        expect_error(g, listmsg(rows=6, sections=2), 400, 131009, "rows count")
        assert jcall(g, "POST", MSG, listmsg(rows=5, sections=2))[0] == 200
        expect_error(g, listmsg(row_title="x" * 25), 400, 131009, "['title']")
        expect_error(g, listmsg(button="x" * 21), 400, 131009, "['button']")
        lm = listmsg()
        lm["interactive"]["action"]["sections"][0]["rows"][0]["description"] = "d" * 73
        expect_error(g, lm, 400, 131009, "description")
        lm = listmsg()
        lm["interactive"]["action"]["sections"][0]["rows"][0]["id"] = "i" * 201
        expect_error(g, lm, 400, 131009, "['id']")
        expect_error(g, dict(tpl, template={"language": {"code": "es"}}), 400, 100, "name")
        expect_error(g, dict(tpl, template={"name": "x"}), 400, 100, "language")
        st, _, d = call(g, "POST", MSG, raw=b"{not json")
        assert st == 400 and json.loads(d)["error"]["code"] == 100
        n_ok = len(g.messages())
        assert n_ok == 7, n_ok

        # failure kinds
        for kind, status, code in (("500", 500, 2), ("503", 503, 2), ("429", 429, 130429), ("400", 400, 100),
                                   ("401", 401, 190), ("131047", 400, 131047), ("131026", 400, 131026)):
            g.fail_next(kind)
            st, hd, d = jcall(g, "POST", MSG, text())
            assert st == status and d["error"]["code"] == code, (kind, st, d)
            if kind == "429":
                assert hd.get("retry-after") == "1", hd
            assert jcall(g, "POST", MSG, text())[0] == 200, kind  # one-shot
        g.fail_next("500", n=2)
        assert jcall(g, "POST", MSG, read)[0] == 200  # reads are skipped by default
        assert [jcall(g, "POST", MSG, text())[0] for _ in range(3)] == [500, 500, 200]
        g.fail_next("503", include_read=True)
        assert jcall(g, "POST", MSG, read)[0] == 503
        g.set_mode("429")
        assert [jcall(g, "POST", MSG, text())[0] for _ in range(3)] == [429] * 3
        assert jcall(g, "POST", MSG, read)[0] == 200
        g.set_mode(None)
        assert jcall(g, "POST", MSG, text())[0] == 200
        try:
            g.fail_next("418")
            raise AssertionError("unknown kind accepted")
        except ValueError:
            pass

        g.fail_next("reset")
        try:
            call(g, "POST", MSG, text())
            raise AssertionError("reset answered")
        except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
            pass
        assert jcall(g, "POST", MSG, text())[0] == 200

        g.hold_seconds = 1
        g.fail_next("timeout")
        t0 = time.monotonic()
        try:
            call(g, "POST", MSG, text(), timeout=5)
            raise AssertionError("timeout answered")
        except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
            pass
        assert 0.9 <= time.monotonic() - t0 < 4, time.monotonic() - t0
        g.fail_next("timeout")
        try:
            call(g, "POST", MSG, text(), timeout=0.3)
            raise AssertionError("timeout answered")
        except (socket.timeout, TimeoutError, urllib.error.URLError):
            pass
        time.sleep(1.1)
        rec = [r for r in g.requests if r["fault"] == "timeout"]
        assert len(rec) == 2 and all(r["status"] is None for r in rec), rec

        # media
        png = b"\x89PNG\r\n\x1a\nfake image bytes"
        g.add_media("1037543291543636", png, "image/png")
        st, _, d = jcall(g, "GET", "/v21.0/1037543291543636")
        assert st == 200 and d["mime_type"] == "image/png" and d["file_size"] == len(png), d
        assert d["sha256"] == hashlib.sha256(png).hexdigest() and d["id"] == "1037543291543636", d
        assert d["messaging_product"] == "whatsapp" and d["url"].startswith(g.base_url + "/media-download/"), d
        st, hd, body = call(g, "GET", d["url"])
        assert st == 200 and body == png and hd["content-type"] == "image/png", (st, hd)
        assert call(g, "GET", d["url"], token="bad")[0] == 401
        assert call(g, "GET", d["url"], token=None)[0] == 401
        assert call(g, "GET", g.base_url + "/media-download/1037543291543636?token=x")[0] == 404
        assert jcall(g, "GET", "/v21.0/1037543291543636", token="bad")[2]["error"]["code"] == 190
        st, _, d404 = jcall(g, "GET", "/v21.0/424242")
        assert st == 400 and d404["error"]["code"] == 100, d404
        for kind, status in (("500", 500), ("429", 429), ("401", 401)):
            g.fail_media_next(kind)
            assert call(g, "GET", "/v21.0/1037543291543636")[0] == status, kind
        g.fail_media_next("503")
        assert call(g, "GET", d["url"])[0] == 503
        assert call(g, "GET", d["url"])[0] == 200
        g.fail_media_next("reset")
        try:
            call(g, "GET", d["url"])
            raise AssertionError("media reset answered")
        except (ConnectionError, http.client.HTTPException, urllib.error.URLError):
            pass

        # media upload, then a document message by its id
        UP = "/v21.0/1234567890/media"
        pdf = b"%PDF-1.4\n\xe2\xe3 fake pdf\r\n--not-a-boundary\r\n%%EOF\n"

        def form(fields, file=None, boundary="----vtselftest"):
            out = b""
            for k, v in fields:
                out += (("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n")
                        % (boundary, k, v)).encode()
            if file is not None:
                name, filename, ctype, data = file
                out += (("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                         "Content-Type: %s\r\n\r\n") % (boundary, name, filename, ctype)).encode()
                out += data + b"\r\n"
            out += ("--%s--\r\n" % boundary).encode()
            return {"Content-Type": "multipart/form-data; boundary=%s" % boundary}, out

        def upload(fields=(("messaging_product", "whatsapp"), ("type", "application/pdf")),
                   file=("file", "respuesta.pdf", "application/pdf", pdf), token="test-token"):
            hd, body = form(fields, file)
            st, _, d = call(g, "POST", UP, raw=body, headers=hd, token=token)
            return st, json.loads(d)

        st, d = upload()
        assert st == 200 and set(d) == {"id"} and d["id"].isdigit(), (st, d)
        mid = d["id"]
        (u,) = g.uploads()
        assert (u["id"], u["data"], u["filename"], u["type"], u["part_type"], u["size"]) == \
            (mid, pdf, "respuesta.pdf", "application/pdf", "application/pdf", len(pdf)), u
        st, _, meta = jcall(g, "GET", "/v21.0/" + mid)
        assert st == 200 and meta["file_size"] == len(pdf) and meta["mime_type"] == "application/pdf", meta
        docmsg = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "573001112233",
                  "type": "document", "document": {"id": mid, "filename": "respuesta.pdf"}}
        st, _, d = jcall(g, "POST", MSG, docmsg)
        assert st == 200 and d["messages"][0]["id"].startswith("wamid."), d
        assert g.documents(to="573001112233") == [{"id": mid, "filename": "respuesta.pdf"}]
        expect_error(g, dict(docmsg, document={"id": "999", "filename": "x.pdf"}), 400, 100, "media ID")
        assert upload(token="bad")[0] == 401
        st, d = upload(fields=(("type", "application/pdf"),))
        assert st == 400 and d["error"]["code"] == 100 and "messaging_product" in d["error"]["message"], d
        st, d = upload(fields=(("messaging_product", "sms"), ("type", "application/pdf")))
        assert st == 400 and d["error"]["code"] == 131009, d
        st, d = upload(file=None)
        assert st == 400 and "file" in d["error"]["message"], d
        st, d = upload(fields=(("messaging_product", "whatsapp"),))
        assert st == 400 and "type" in d["error"]["message"], d
        st, d = upload(fields=(("messaging_product", "whatsapp"), ("type", "application/zip")))
        assert st == 400 and d["error"]["code"] == 100 and "application/zip" in \
            d["error"]["error_data"]["details"], d
        st, _, d = jcall(g, "POST", UP, doc={"messaging_product": "whatsapp"})
        assert st == 400 and "multipart" in d["error"]["error_data"]["details"], d
        g.upload_limits["document"] = len(pdf) - 1
        st, d = upload()
        assert st == 400 and d["error"]["code"] == 131053, d
        g.upload_limits["document"] = 100 * 1024 * 1024
        assert upload(fields=(("messaging_product", "whatsapp"), ("type", "image/png")),
                      file=("file", "a.png", "image/png", png))[0] == 200
        g.fail_upload_next("500")
        st, d = upload()
        assert st == 500 and d["error"]["code"] == 2, d
        assert upload()[0] == 200  # one-shot
        g.set_upload_mode("429")
        assert [upload()[0] for _ in range(2)] == [429, 429]
        g.set_upload_mode(None)
        assert len(g.uploads()) == 3, g.uploads()
        # a typed fault: only document messages fail, texts pass
        g.fail_next("131047", message_type="document")
        assert jcall(g, "POST", MSG, text())[0] == 200
        st, _, d = jcall(g, "POST", MSG, docmsg)
        assert st == 400 and d["error"]["code"] == 131047, d
        assert jcall(g, "POST", MSG, docmsg)[0] == 200

        # helpers
        assert g.wait_for(lambda: g.reads()) == g.reads()
        try:
            g.wait_for(lambda: False, timeout=0.2, what="never")
            raise AssertionError("wait_for did not time out")
        except AssertionError as e:
            assert "request(s) recorded" in str(e) and "never" in str(e), e
        r0 = g.requests[0]
        assert set(r0) >= {"method", "path", "headers", "body", "json", "status", "at"}, r0
        assert r0["headers"]["authorization"] == "Bearer test-token" and r0["status"] == 200
        g.reset()
        assert g.requests == [] and g.messages() == [] and g.reads() == [] and g.uploads() == []
        assert jcall(g, "POST", MSG, docmsg)[0] == 200  # uploaded media outlive reset()

        # stop() while a request is held for 30 s
        g.hold_seconds = 30
        g.set_mode("timeout")
        errs = []

        def held():
            try:
                call(g, "POST", MSG, text(), timeout=40)
            except Exception as e:  # noqa: BLE001
                errs.append(e)

        th = threading.Thread(target=held)
        th.start()
        g.wait_for(lambda: g.held, timeout=5)
        t0 = time.monotonic()
        g.stop()
        assert time.monotonic() - t0 < 2, time.monotonic() - t0
        th.join(5)
        assert not th.is_alive() and errs, errs
    g.stop()  # idempotent (the with block called it again too)

    # keep-alive connection idle in the server does not block stop()
    g2 = FakeGraph().start()
    conn = http.client.HTTPConnection("127.0.0.1", g2.port, timeout=5)
    conn.request("POST", MSG, json.dumps(text()), {"Authorization": "Bearer test-token",
                                                   "Content-Type": "application/json"})
    assert conn.getresponse().read() and True
    t0 = time.monotonic()
    g2.stop()
    assert time.monotonic() - t0 < 2
    conn.close()

    print("fake_graph self-test ok")
    sys.exit(0)
