"""Bad input is refused with the documented error and stores nothing;
metacharacters are stored verbatim and escaped; rate limiting."""
import copy
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

SQLI = "Robert'); DROP TABLE items;--"
XSS = "<script>alert(1)</script>"


def without(d, *path):
    d = copy.deepcopy(d)
    node = d
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    return d


def with_(d, path, value):
    d = copy.deepcopy(d)
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return d


class BadInput(H.DaemonCase):
    """Every request here is wrong; at the end nothing at all is stored."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="bad", config={"attachments": {"max_bytes": 131072},
                                                    "server": {"max_body_bytes": 1048576}})
        cls.d.start()
        cls.baseline = H.stored(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def good(self):
        return H.item_payload()

    def post(self, obj):
        return self.d.post_json(obj)

    # -- JSON syntax and encoding
    def test_01_malformed_json(self):
        r = self.d.post_json(None, raw=b'{"kind": "pqrsd", "type": ')
        H.assert_error(self, r, 400, "malformed_json", "body")
        r = self.d.post_json(None, raw=b'{"kind": "pqrsd",}')
        H.assert_error(self, r, 400, "malformed_json", "body")
        r = self.d.post_json(None, raw=b"")
        self.assertIn(r.status, (400, 422), r)

    def test_02_invalid_utf8(self):
        raw = json.dumps(self.good(), ensure_ascii=False).encode("utf-8")
        raw = raw.replace("alumbrado".encode(), b"alumbr\xc3\x28do\xff", 1)
        self.assertIn(b"\xff", raw)
        r = self.d.post_json(None, raw=raw)
        H.assert_error(self, r, 400, "invalid_utf8", fields=("subject", "body"))

    def test_03_invalid_utf8_in_form(self):
        f = H.form_fields()
        body = urllib.parse.urlencode(f).encode() + b"&municipality=Bogot%E1"  # latin-1 'á'
        r = self.d.request("POST", "/api/v1/items", body, {"Content-Type": "application/x-www-form-urlencoded"})
        H.assert_error(self, r, 400, "invalid_utf8", fields=("municipality", "requester.municipality", "body"))

    # -- wrong types
    def test_04_wrong_types(self):
        g = self.good()
        H.assert_error(self, self.post(with_(g, ["subject"], 12345)), 422, "wrong_type", "subject")
        H.assert_error(self, self.post(with_(g, ["requester"], "Juan Pérez")), 422, "wrong_type", "requester")
        H.assert_error(self, self.post(with_(g, ["data_consent"], "yes")), 422, "wrong_type", "data_consent")
        H.assert_error(self, self.post(with_(g, ["body"], ["a", "b"])), 422, "wrong_type", "body")
        H.assert_error(self, self.post(with_(g, ["requester", "name"], {"first": "Ana"})), 422, "wrong_type",
                       "requester.name")
        r = self.post(with_(g, ["requester", "characterization"], {"disability": "si"}))
        H.assert_error(self, r, 422, "wrong_type", "requester.characterization.disability")

    def test_05_top_level_not_object(self):
        r = self.d.post_json(None, raw=b'["pqrsd"]')
        self.assertIn(r.status, (400, 422), r)
        H.assert_error(self, r, r.status)

    # -- missing fields
    def test_06_missing(self):
        g = self.good()
        for key in ("kind", "type", "subject", "body", "requester"):
            H.assert_error(self, self.post(without(g, key)), 422, "missing", key)
        H.assert_error(self, self.post(without(g, "requester", "person_type")), 422, "missing",
                       "requester.person_type")
        H.assert_error(self, self.post(without(g, "requester", "name")), 422, "missing", "requester.name")

    def test_07_empty_subject(self):
        r = self.post(with_(self.good(), ["subject"], ""))
        H.assert_error(self, r, 422, field="subject")

    # -- enumerations
    def test_08_unknown_values(self):
        g = self.good()
        H.assert_error(self, self.post(with_(g, ["type"], "reclamacion")), 422, "unknown_value", "type")
        H.assert_error(self, self.post(with_(g, ["kind"], "tramite")), 422, "unknown_value", "kind")
        H.assert_error(self, self.post(with_(g, ["requester", "person_type"], "robot")), 422, "unknown_value",
                       "requester.person_type")
        H.assert_error(self, self.post(with_(g, ["reply_channel"], "fax")), 422, "unknown_value", "reply_channel")
        H.assert_error(self, self.post(with_(g, ["requester", "id_type"], "DNI")), 422, "unknown_value",
                       "requester.id_type")
        H.assert_error(self, self.post(with_(g, ["petition_class"], "urgente")), 422, "unknown_value",
                       "petition_class")

    def test_09_petition_class_on_queja(self):
        r = self.post(with_(with_(self.good(), ["type"], "queja"), ["petition_class"], "documentos"))
        H.assert_error(self, r, 422, field="petition_class")

    def test_10_declared_group_unknown(self):
        r = self.post(with_(self.good(), ["declared_group"], "marcianos"))
        H.assert_error(self, r, 422, field="declared_group", codes=("unknown_value", "invalid"))

    # -- lengths
    def test_11_subject_too_long(self):
        H.assert_error(self, self.post(with_(self.good(), ["subject"], "a" * 201)), 422, "too_long", "subject")
        H.assert_error(self, self.post(with_(self.good(), ["subject"], "ñ" * 201)), 422, "too_long", "subject")

    def test_12_body_too_long(self):
        H.assert_error(self, self.post(with_(self.good(), ["body"], "x" * 20001)), 422, "too_long", "body")

    def test_13_over_max_json_bytes(self):
        g = with_(self.good(), ["body"], "x" * 300000)  # default max_json_bytes is 262144
        H.assert_error(self, self.post(g), 413, "too_large", "body")

    # -- unknown keys
    def test_14_unknown_field(self):
        H.assert_error(self, self.post(with_(self.good(), ["prioridad"], "alta")), 422, "unknown_field",
                       "prioridad")
        H.assert_error(self, self.post(with_(self.good(), ["requester", "apodo"], "Juancho")), 422,
                       "unknown_field", "requester.apodo")

    # -- reply channel requirements and values
    def test_15_reply_channel_requirements(self):
        g = self.good()
        r = self.post(with_(without(g, "requester", "email"), ["reply_channel"], "email"))
        H.assert_error(self, r, 422, field="requester.email", codes=("missing", "invalid"))
        r = self.post(with_(without(g, "requester", "phone"), ["reply_channel"], "whatsapp"))
        H.assert_error(self, r, 422, field="requester.phone", codes=("missing", "invalid"))
        r = self.post(with_(g, ["reply_channel"], "postal"))  # no address given
        H.assert_error(self, r, 422, field="requester.address", codes=("missing", "invalid"))

    def test_16_bad_email(self):
        for bad in ("no-es-un-correo", "ana@", "@example.com", "ana perez@example.com"):
            r = self.post(with_(self.good(), ["requester", "email"], bad))
            H.assert_error(self, r, 422, "invalid", "requester.email")

    # -- attachments
    def test_17_renamed_executables(self):
        f = H.form_fields()
        for name, data in (("documento.pdf", H.elf_executable()), ("escaneo.pdf", H.minimal_pe())):
            r = self.d.post_multipart(f, [("attachments", name, "application/pdf", data)])
            H.assert_error(self, r, 415, "unsupported_type", "attachments")
        r = self.d.post_multipart(f, [("attachments", "foto.png", "image/png", H.minimal_png()),
                                      ("attachments", "setup.exe.pdf", "application/pdf", H.minimal_pe())])
        H.assert_error(self, r, 415, "unsupported_type", "attachments")

    def test_18_too_many_attachments(self):
        files = [("attachments", "nota%d.txt" % i, "text/plain", ("nota número %d\n" % i).encode() * 3)
                 for i in range(6)]
        r = self.d.post_multipart(H.form_fields(), files)
        H.assert_error(self, r, 413, field="attachments")

    def test_19_attachment_too_big(self):
        big = b"Texto de prueba para un adjunto grande.\n" * 4000  # ~160 KB > 128 KiB
        r = self.d.post_multipart(H.form_fields(), [("attachments", "grande.txt", "text/plain", big)])
        H.assert_error(self, r, 413, field="attachments")

    def test_20_unsupported_content_type(self):
        r = self.d.request("POST", "/api/v1/items", b"<item><kind>pqrsd</kind></item>",
                           {"Content-Type": "application/xml"})
        H.assert_error(self, r, 415)
        r = self.d.request("POST", "/api/v1/items", json.dumps(self.good()).encode(),
                           {"Content-Type": "text/plain"})
        H.assert_error(self, r, 415)

    def test_21_form_errors_too(self):
        H.assert_error(self, self.d.post_form(H.form_fields(subject=None)), 422, "missing", "subject")
        H.assert_error(self, self.d.post_form(H.form_fields(type="reclamacion")), 422, "unknown_value", "type")

    def test_22_over_max_body_bytes(self):
        f = H.form_fields(body="x" * (1200 * 1024))  # server.max_body_bytes is 1 MiB here
        r = self.d.post_multipart(f)
        H.assert_error(self, r, 413, "too_large", "body")
        r = self.d.post_form(f)
        H.assert_error(self, r, 413, "too_large", "body")

    # -- at the end: nothing stored, daemon alive
    def test_90_nothing_stored(self):
        # items, requesters, attachments (rows and files), responses, audit
        # events, outbox rows...: exactly what there was before the first request
        H.assert_nothing_stored(self, self.d, self.baseline)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), 0)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM requesters"), 0)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM attachments"), 0)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM audit_events WHERE item_id IS NOT NULL"), 0)
        att_dir = os.path.join(self.d.data_dir, "attachments")
        stored = []
        if os.path.isdir(att_dir):
            for root, _dirs, files in os.walk(att_dir):
                stored += [os.path.join(root, f) for f in files]
        self.assertEqual(stored, [], "attachment files left behind by refused requests")
        self.assertEqual(self.d.get("/healthz").status, 200)
        self.assert_no_crash()

    def test_91_next_radicado_is_the_first(self):
        doc = H.assert_created(self, self.d.post_json(self.good()))
        self.assertEqual(H.radicado_seq(doc["radicado"]), 1, "a refused request consumed a radicado")


class GoodEdgeCases(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="edge")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_01_chars_not_bytes(self):
        subject = "ñ" * 200  # 400 bytes, 200 characters
        body = "á" * 20000
        r = self.d.post_json(H.item_payload(subject=subject, body=body))
        doc = H.assert_created(self, r)
        rows = self.d.query("SELECT subject, body FROM items WHERE radicado = ?", (doc["radicado"],))
        self.assertEqual(rows[0]["subject"], subject)
        self.assertEqual(rows[0]["body"], body)

    def test_02_emoji_subject(self):
        subject = "Reclamo por el servicio 💧🚰 " + "x" * 170
        r = self.d.post_json(H.item_payload(type="reclamo", subject=subject))
        doc = H.assert_created(self, r)
        self.assertEqual(self.d.query("SELECT subject FROM items WHERE radicado = ?", (doc["radicado"],))[0]["subject"],
                         subject)

    def test_03_metacharacters_json(self):
        req = H.item_payload(subject=XSS, body="%s\n%s\n\"comillas\" & <b>negrita</b>" % (SQLI, XSS))
        req["requester"]["name"] = SQLI
        r = self.d.post_json(req)
        doc = H.assert_created(self, r)
        row = self.d.query("SELECT i.id, i.subject, i.body, r.name FROM items i JOIN requesters r ON r.item_id = i.id "
                           "WHERE i.radicado = ?", (doc["radicado"],))[0]
        self.assertEqual(row["subject"], XSS)
        self.assertEqual(row["body"], req["body"])
        self.assertEqual(row["name"], SQLI)
        self.assertGreaterEqual(self.d.scalar("SELECT count(*) FROM items"), 1)  # table still there

    def test_04_metacharacters_web_acknowledgement(self):
        f = H.form_fields(subject=XSS, body="Texto con %s y %s" % (SQLI, XSS), name=SQLI)
        body = urllib.parse.urlencode(f).encode()
        r = self.d.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("content-type", ""))
        self.assertNotIn(XSS, r.text)
        rows = self.d.query("SELECT i.subject, i.body, r.name, i.channel FROM items i "
                            "JOIN requesters r ON r.item_id = i.id WHERE i.body = ?", (f["body"],))
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["subject"], XSS)
        self.assertEqual(rows[0]["name"], SQLI)
        self.assertEqual(rows[0]["channel"], "web")

    def test_05_metacharacters_web_error_page(self):
        # the 422 page re-shows what was typed: escaped
        f = H.form_fields(subject=XSS, body=None, name=SQLI)
        body = urllib.parse.urlencode(f).encode()
        r = self.d.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 422, r)
        self.assertNotIn(XSS, r.text)
        # it is re-shown, escaped: the parsed (unescaped) value is the original text
        from html.parser import HTMLParser

        values = []

        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if a.get("name") in ("subject", "name") and tag == "input":
                    values.append(a.get("value"))

        P().feed(r.text)
        self.assertIn(XSS, values, "the typed subject is not re-shown in the form")
        self.assertIn(SQLI, values, "the typed name is not re-shown in the form")

    def test_06_anonymous_without_name(self):
        r = self.d.post_json(H.item_payload(type="denuncia", requester={"person_type": "anonimo"}))
        H.assert_created(self, r)

    def test_99_no_crash(self):
        self.assert_no_crash()
        self.d.stop()


class RateLimit(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="rate", config={"intake": {"rate_limit_per_minute": 6, "rate_limit_burst": 3}})
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_01_fourth_rapid_request_limited(self):
        results = [self.d.post_json(H.item_payload(subject="Rápida %d" % i)) for i in range(4)]
        for r in results[:3]:
            H.assert_created(self, r)
        r = results[3]
        H.assert_error(self, r, 429, "rate_limited")
        ra = r.header("retry-after")
        self.assertIsNotNone(ra, "429 without Retry-After: %r" % r.headers)
        self.assertTrue(ra.strip().isdigit() and int(ra) >= 1, "Retry-After %r" % ra)
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), 3)
        self.assertNotIn("Rápida 3", [x["subject"] for x in self.d.query("SELECT subject FROM items")])
        # a spoofed X-Forwarded-For does not escape the limit (trust_forwarded_for is false)
        body = json.dumps(H.item_payload(subject="Rápida con XFF")).encode()
        r = self.d.request("POST", "/api/v1/items", body,
                           {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.77"})
        H.assert_error(self, r, 429, "rate_limited")
        self.assertEqual(self.d.scalar("SELECT count(*) FROM items"), 3)
        # the daemon itself is still fine
        self.assertEqual(self.d.get("/healthz").status, 200)


if __name__ == "__main__":
    H.main()
