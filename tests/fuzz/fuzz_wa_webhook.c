/* fuzz_wa_webhook.c - libFuzzer driver for the WhatsApp webhook parser
 * (vt_wa_parse) and signature check: any body must give events whose ids
 * (and senders, for messages) are set and whose strings are NUL-terminated
 * valid UTF-8, or a refusal with a reason and an empty batch; never a crash. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/parse.h"
#include "core/text.h"

/* True when the fixed-size field f holds a NUL-terminated valid UTF-8 string. */
#define STR_OK(f) (memchr((f), '\0', sizeof(f)) && vt_utf8_valid((f), strlen(f)))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready && sodium_init() < 0)
        abort();
    ready = 1;
    struct vt_wa_batch b;
    char why[128] = "";
    int rc = vt_wa_parse((const char *)data, size, 1000, &b, why, sizeof(why));
    if (rc != 0 && (!why[0] || b.n || b.ev))
        abort();
    for (size_t i = 0; rc == 0 && i < b.n; i++) {
        const struct vt_wa_event *e = &b.ev[i];
        if (!e->id[0] || (e->kind == VT_WA_EV_MESSAGE && !e->from[0]) ||
            (e->kind == VT_WA_EV_STATUS && !e->status[0]))
            abort();
        if (!STR_OK(e->id) || !STR_OK(e->phone_number_id) || !STR_OK(e->from) ||
            !STR_OK(e->profile_name) || !STR_OK(e->type_name) || !STR_OK(e->text) ||
            !STR_OK(e->reply_id) || !STR_OK(e->media_id) || !STR_OK(e->mime_type) ||
            !STR_OK(e->filename) || !STR_OK(e->context_id) || !STR_OK(e->status) ||
            !STR_OK(e->recipient) || !STR_OK(e->error_title))
            abort();
    }
    vt_wa_batch_cleanup(&b);

    /* The first bytes as a header: the check must never crash, and a header
     * that is not exactly 71 bytes can never pass; our own signature must. */
    char header[80];
    size_t hn = size < sizeof(header) - 1 ? size : sizeof(header) - 1;
    memcpy(header, data, hn);
    header[hn] = '\0';
    if (vt_wa_signature_ok(header, "fuzz-secret", data, size) && strlen(header) != 71)
        abort();
    char sig[72];
    vt_wa_sign("fuzz-secret", data, size, sig);
    if (!vt_wa_signature_ok(sig, "fuzz-secret", data, size))
        abort();
    return 0;
}
