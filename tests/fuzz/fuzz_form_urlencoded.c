/* fuzz_form_urlencoded.c - libFuzzer driver for vt_form_parse_urlencoded: the
 * input is a form body or query string. Owns nothing beyond one input; must
 * not keep state between runs. Aborts when a parsed form breaks its contract.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/form.h"

static void check(const struct vt_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct vt_form_field *x = &f->fields[i];
        if (!x->name || !x->value || x->value[x->value_len] != '\0' || x->filename ||
            x->content_type || vt_form_get(f, x->name) == NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_form f = {0};
    int rc = vt_form_parse_urlencoded((const char *)data, size, 64, &f);
    if (rc == 0)
        check(&f);
    else if (rc != VT_EINVAL && rc != VT_ETOOBIG)
        abort();
    vt_form_cleanup(&f);
    /* A tight limit exercises the refusal path on the same input. */
    rc = vt_form_parse_urlencoded((const char *)data, size, 2, &f);
    if (rc == 0 && f.n > 2)
        abort();
    vt_form_cleanup(&f);
    return 0;
}
