/* fuzz_csv.c - libFuzzer target for csv.c, the reader of contact registers.
 *
 * Besides crashes and sanitizer reports, it traps on broken promises: every
 * record has 1..max_fields fields, no field is longer than the input, and
 * line numbers never go backwards or past the number of lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"

struct state {
    size_t len, max_fields, last_line, lines;
};

static int check(void *ctx, size_t line_no, char **fields, size_t n_fields)
{
    struct state *st = ctx;
    if (n_fields == 0 || n_fields > st->max_fields || line_no <= st->last_line ||
        line_no > st->lines)
        abort();
    st->last_line = line_no;
    for (size_t i = 0; i < n_fields; i++)
        if (strlen(fields[i]) > st->len)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = {size, size ? 1 + data[0] % 16 : 4, 0, 1};
    for (size_t i = 0; i < size; i++)
        st.lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
    size_t err_line;
    int rc = vt_csv_parse((const char *)data, size, st.max_fields, check, &st, &err_line);
    if (rc && rc != VT_ENOMEM && (err_line == 0 || err_line > st.lines))
        abort();
    return 0;
}
