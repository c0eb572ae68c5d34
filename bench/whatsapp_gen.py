#!/usr/bin/python3
"""whatsapp_gen.py - signed WhatsApp webhook deliveries for bench/whatsapp.

Writes COUNT distinct deliveries, each one text message in Meta's webhook
shape (the same as tests/integration/wa.py: wa.delivery([wa.text(frm, body)])
serialized as Meta does, non-ASCII as \\uXXXX), signed with HMAC-SHA256 under
SECRET. Senders cycle over SENDERS phone numbers, so each number holds a
realistic conversation of several messages; every wamid is distinct.

The output is PARTS files PREFIX.0 .. PREFIX.<PARTS-1> (one per wrk thread,
delivery i in part i % PARTS), one delivery a line:

    <64 lowercase hex chars of the signature><the raw JSON body>

Standard library only; the JSON comes from a template (no json.dumps per
message), which keeps 150,000 deliveries to about a second.

    whatsapp_gen.py --count N --parts T --prefix PREFIX [--secret S]
                    [--senders 10000] [--pnid 1234567890]
"""

import argparse
import hashlib
import hmac
import json
import os
import time

WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550000000"
NAME = "Ciudadana Prueba"

# What citizens write first: none of them is a menu keyword (menú, cancelar,
# 1-4), so every message is answered with the main menu (an outbox 'prompt')
# and marked read (an outbox 'read'). JSON-escaped as Meta sends them.
TEXTS = [
    "Hola, buenos d\\u00edas",
    "Buenas tardes, necesito informaci\\u00f3n sobre un tr\\u00e1mite",
    "Quiero radicar una queja por el servicio de aseo",
    "Buenas noches, \\u00bfa qui\\u00e9n le escribo por el alumbrado p\\u00fablico?",
    "Necesito copia del certificado de residencia",
    "Hola, la v\\u00eda de la vereda El Retiro est\\u00e1 en mal estado",
    "Buenos d\\u00edas, quiero hacer una petici\\u00f3n",
    "\\u00bfCu\\u00e1ndo abren la convocatoria de subsidios de vivienda?",
]

TEMPLATE = (
    '{"object":"whatsapp_business_account","entry":[{"id":"' + WABA_ID + '","changes":[{"value":'
    '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"' + DISPLAY_PHONE_NUMBER + '",'
    '"phone_number_id":"%(pnid)s"},"contacts":[{"profile":{"name":"' + NAME + '"},"wa_id":"%(frm)s"}],'
    '"messages":[{"from":"%(frm)s","id":"%(wamid)s","timestamp":"%(ts)s","type":"text",'
    '"text":{"body":"%(text)s"}}]},"field":"messages"}]}]}'
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--secret", default="bench-secret")
    ap.add_argument("--senders", type=int, default=10000)
    ap.add_argument("--pnid", default="1234567890")
    args = ap.parse_args()

    key = args.secret.encode("utf-8")
    run = os.urandom(6).hex().upper()  # wamids distinct across runs too
    ts = str(int(time.time()))
    tmpl = TEMPLATE.replace("%(pnid)s", args.pnid).replace("%(ts)s", ts)
    digest = hmac.digest
    outs = [open("%s.%d" % (args.prefix, p), "wb", buffering=1 << 20) for p in range(args.parts)]
    ntexts = len(TEXTS)
    for i in range(args.count):
        s = i % args.senders
        frm = "57300%07d" % s
        # Meta's wamids are base64 of the sender and a message id; this keeps
        # the prefix and length and makes each one unique.
        wamid = "wamid.HBgMNTczMDA%sFQIAEhgg%s%012X" % ("%07d" % s, run, i)
        text = TEXTS[(i // args.senders + s) % ntexts]
        body = (tmpl % {"frm": frm, "wamid": wamid, "text": text}).encode("ascii")
        outs[i % args.parts].write(digest(key, body, "sha256").hex().encode("ascii") + body + b"\n")
    for f in outs:
        f.close()

    # Self-check on the first delivery: valid JSON of the expected shape.
    with open(args.prefix + ".0", "rb") as f:
        line = f.readline().rstrip(b"\n")
    sig, body = line[:64].decode(), line[64:]
    assert hmac.compare_digest(sig, hmac.new(key, body, hashlib.sha256).hexdigest())
    d = json.loads(body)
    assert d["object"] == "whatsapp_business_account"
    assert d["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == "text"


if __name__ == "__main__":
    main()
