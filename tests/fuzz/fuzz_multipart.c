/* fuzz_multipart.c - libFuzzer driver for vt_form_parse_multipart. The first
 * line of the input is the Content-Type header value, the rest the body; the
 * whole input is also tried as a body under a fixed Content-Type. Owns only
 * its copies of one input; aborts when a parsed form breaks its contract.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/form.h"

static void parse(const char *ct, const char *body, size_t len)
{
    struct vt_form f = {0};
    int rc = vt_form_parse_multipart(ct, body, len, 16, &f);
    if (rc != 0 && rc != VT_EINVAL && rc != VT_ETOOBIG)
        abort();
    for (size_t i = 0; rc == 0 && i < f.n; i++) {
        const struct vt_form_field *x = &f.fields[i];
        if (!x->name || !x->value || x->value[x->value_len] != '\0' || x->value_len > len)
            abort();
        if (x->filename && (strchr(x->filename, '/') || strchr(x->filename, '\\') ||
                            (!x->filename[0] && !x->value_len)))
            abort();
    }
    vt_form_cleanup(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *nl = memchr(p, '\n', size);
    size_t ctlen = nl ? (size_t)(nl - p) : size;
    char *ct = malloc(ctlen + 1);
    if (!ct)
        return 0;
    memcpy(ct, p, ctlen);
    ct[ctlen] = '\0';
    parse(ct, nl ? nl + 1 : p + size, nl ? size - ctlen - 1 : 0);
    free(ct);
    parse("multipart/form-data; boundary=XyZ", p, size);
    return 0;
}
