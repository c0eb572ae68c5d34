/* fuzz_mail_item.c - libFuzzer driver for the message-to-item path of the
 * email channel: a raw message through vt_mime_parse, vt_mail_to_item and
 * vt_intake_complete (the rules and the shipped learned classifier), as the
 * poller and take.c run them. Any input must give an item within the intake
 * limits (valid UTF-8 subject and body no longer than configured; a type
 * from the subject, or none yet and marked for triage; once completed a
 * known type, a due term that matches it, a known group, and a suggestion
 * whose routing names a dependencia the model knows) or no item at all. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/mime.h"
#include "channels/email/take.h"
#include "core/classify.h"
#include "core/config.h"
#include "core/text.h"
#include "domain/classifier.h"
#include "domain/intake.h"

static struct vt_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0 || vt_config_defaults(&cfg))
        abort();
    cfg.max_body_chars = 500;       /* small, so the cut is exercised */
    cfg.learn.route_confidence = 0; /* every suggestion routes */
    struct vt_textmodel *m = NULL;
    if (vt_classifier_shipped(&m))
        abort();
    vt_classifier_use(m);
    vt_mime_init();
    return 0;
}

static void utf8(const char *s, size_t max_chars)
{
    if (!s || !vt_utf8_valid(s, strlen(s)) || vt_utf8_chars(s, strlen(s)) > max_chars)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_mail m;
    if (vt_mime_parse((const char *)data, size, 5, 1 << 16, 1 << 14, &m, NULL) != 0)
        return 0;
    struct vt_item *it = NULL;
    if (vt_mail_to_item(&cfg, &m, NULL, 0, &it) == 0) {
        utf8(it->subject, (size_t)cfg.max_subject_chars);
        utf8(it->body, (size_t)cfg.max_body_chars);
        if ((it->type ? !vt_item_enum(vt_item_types, it->type) : !it->needs_triage) ||
            !it->req.email)
            abort();
        /* The channel's item completed as every item is (domain/intake). */
        if (vt_intake_complete(&cfg, it, NULL, NULL, NULL) != 0 ||
            it->term_days != vt_item_term_days(&cfg, it->kind, it->type, it->petition_class) ||
            strcmp(it->status, "radicado") != 0 || !it->tracking_code[0] ||
            !vt_item_enum(vt_item_types, it->type) ||
            !vt_classify_group_known(&cfg.rules, it->group) || !it->classifier ||
            !it->dependencia[0] || !it->route_payload)
            abort();
    }
    vt_item_free(it);
    vt_mail_cleanup(&m);
    return 0;
}
