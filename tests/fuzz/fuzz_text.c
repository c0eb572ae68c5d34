/* fuzz_text.c - libFuzzer driver for text.h: UTF-8 checks, folding, HTML
 * escaping and percent-decoding of one input. Owns only its copies of the
 * input; aborts when a result breaks the documented contract.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_buf b = {0};
    char *s = malloc(size + 1), *out = malloc(2 * size + 1), small[7];
    if (!s || !out)
        goto done;
    memcpy(s, data, size);
    s[size] = '\0';
    bool valid = vt_utf8_valid(s, size);
    if (vt_utf8_chars(s, size) > size)
        abort();
    /* Folding never grows the text and keeps valid UTF-8 valid. */
    size_t n = vt_fold_es(s, out, 2 * size + 1);
    if (n > strlen(s) || strlen(out) != n || (valid && !vt_utf8_valid(out, n)))
        abort();
    n = vt_fold_es(s, small, sizeof(small));
    if (n >= sizeof(small) || strlen(small) != n || (valid && !vt_utf8_valid(small, n)))
        abort();
    if (vt_html_escape(&b, s) || strpbrk(b.data, "<>\"'"))
        abort();
    long d = vt_percent_decode(s, size);
    if (d > (long)size || (d >= 0 && s[d] != '\0'))
        abort();
    memcpy(s, data, size);
    d = vt_percent_decode_uri(s, size);
    if (d < 0 && memcmp(s, data, size) != 0)
        abort(); /* a refused string is left as it was */
done:
    vt_buf_cleanup(&b);
    free(out);
    free(s);
    return 0;
}
