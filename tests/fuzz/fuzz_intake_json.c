/* fuzz_intake_json.c - libFuzzer driver for the JSON intake validator
 * (vt_intake_from_json): any input must give an item or a 4xx error, never a
 * crash, and an error must name a field and carry a message. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"
#include "domain/intake.h"

static struct vt_config cfg;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (sodium_init() < 0 || vt_config_defaults(&cfg))
            abort();
        ready = 1;
    }
    struct vt_intake_ctx ctx = {&cfg, NULL, NULL};
    struct vt_intake_error err = {0};
    struct vt_item *it = NULL;
    int rc = vt_intake_from_json(&ctx, (const char *)data, size, "web", &it, &err);
    if (rc == 0) {
        if (!it || !it->subject || !it->body || !it->type)
            abort();
        vt_item_free(it);
    } else {
        if (it || err.status < 400 || err.status > 499 || !err.code || !err.message[0])
            abort();
        free(vt_intake_error_json(&err));
    }
    return 0;
}
