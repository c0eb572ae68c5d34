/* csv.c - the RFC 4180 reader of csv.h.
 *
 * One pass over the input. A record's fields are copied, unquoted, into one
 * scratch buffer as NUL-terminated strings; their offsets are turned into
 * pointers only once the record is complete, because the buffer may move
 * while it grows. Line numbers count LF, CRLF and a lone CR as one line end
 * each, inside quotes too, so they match what a text editor shows.
 *
 * Must not: depend on anything but error.h (the fuzz target links csv.c
 * alone), or stop at a NUL byte (len is the truth, not strlen).
 */
#include "core/csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct parser {
    const char *p, *end;
    char sep;
    size_t line;
    char *buf; /* the current record's fields, NUL-separated */
    size_t len, cap;
    size_t *offs; /* start of each field in buf */
    char **fields;
    size_t n, nmax;
};

static int reserve(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > ((size_t)-1 / 2) / size)
            return VT_ENOMEM;
        n *= 2;
    }
    void *q = realloc(*p, n * size);
    if (!q)
        return VT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int append(struct parser *ps, const char *s, size_t n)
{
    if (ps->len + n < ps->len || reserve((void **)&ps->buf, &ps->cap, ps->len + n, 1))
        return VT_ENOMEM;
    if (n)
        memcpy(ps->buf + ps->len, s, n);
    ps->len += n;
    return 0;
}

/* Ends the current field; VT_ETOOBIG past max fields. */
static int end_field(struct parser *ps, size_t start, size_t max_fields)
{
    if (ps->n == max_fields)
        return VT_ETOOBIG;
    int rc;
    if ((rc = append(ps, "", 1)))
        return rc;
    if (ps->n == ps->nmax) {
        size_t cap = ps->nmax;
        if ((rc = reserve((void **)&ps->offs, &cap, ps->n + 1, sizeof(*ps->offs))))
            return rc;
        cap = ps->nmax;
        if ((rc = reserve((void **)&ps->fields, &cap, ps->n + 1, sizeof(*ps->fields))))
            return rc;
        ps->nmax = cap;
    }
    ps->offs[ps->n++] = start;
    return 0;
}

static bool line_end(char c)
{
    return c == '\n' || c == '\r';
}

/* Steps over one line end at ps->p (LF, CRLF or CR) and counts it. */
static void skip_line_end(struct parser *ps)
{
    if (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
        ps->p++;
    ps->p++;
    ps->line++;
}

/* Reads a quoted field; ps->p is just past the opening quote. */
static int quoted(struct parser *ps)
{
    size_t open_line = ps->line;
    int rc;
    for (;;) {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\0') {
            if (*ps->p == '\n' || (*ps->p == '\r' && !(ps->p + 1 < ps->end && ps->p[1] == '\n')))
                ps->line++;
            ps->p++;
        }
        if ((rc = append(ps, run, (size_t)(ps->p - run))))
            return rc;
        if (ps->p == ps->end) {
            ps->line = open_line; /* point at where the field began */
            return VT_EINVAL;
        }
        if (*ps->p == '\0')
            return VT_EINVAL;
        ps->p++; /* the quote */
        if (ps->p < ps->end && *ps->p == '"') {
            if ((rc = append(ps, "\"", 1)))
                return rc;
            ps->p++;
            continue;
        }
        /* A closing quote must end the field. */
        if (ps->p < ps->end && *ps->p != ps->sep && !line_end(*ps->p))
            return VT_EINVAL;
        return 0;
    }
}

/* Reads an unquoted field up to a separator, a line end or the end. */
static int unquoted(struct parser *ps)
{
    const char *run = ps->p;
    while (ps->p < ps->end && *ps->p != ps->sep && !line_end(*ps->p)) {
        if (*ps->p == '"' || *ps->p == '\0')
            return VT_EINVAL;
        ps->p++;
    }
    return append(ps, run, (size_t)(ps->p - run));
}

/* Reads one record at ps->p (not at a line end) into buf/offs. */
static int record(struct parser *ps, size_t max_fields)
{
    int rc;
    ps->len = ps->n = 0;
    for (;;) {
        size_t start = ps->len;
        if (ps->p < ps->end && *ps->p == '"') {
            ps->p++;
            rc = quoted(ps);
        } else {
            rc = unquoted(ps);
        }
        if (rc || (rc = end_field(ps, start, max_fields)))
            return rc;
        if (ps->p < ps->end && *ps->p == ps->sep) {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end)
            skip_line_end(ps);
        return 0;
    }
}

/* ';' when the first record has ';' and no ',' outside quotes. */
static char detect_separator(const char *p, const char *end)
{
    bool in_quotes = false;
    size_t commas = 0, semicolons = 0;
    for (; p < end && (in_quotes || !line_end(*p)); p++) {
        if (*p == '"')
            in_quotes = !in_quotes;
        else if (!in_quotes && *p == ',')
            commas++;
        else if (!in_quotes && *p == ';')
            semicolons++;
    }
    return semicolons && !commas ? ';' : ',';
}

int vt_csv_parse(const char *data, size_t len, size_t max_fields, vt_csv_row_fn row, void *ctx,
                 size_t *err_line)
{
    if (err_line)
        *err_line = 0;
    if (!max_fields || !row || (!data && len))
        return VT_EINVAL;
    if (!len)
        return 0;
    struct parser ps = {.p = data, .end = data + len, .line = 1};
    int rc = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    ps.sep = detect_separator(ps.p, ps.end);
    while (ps.p < ps.end) {
        if (line_end(*ps.p)) {
            skip_line_end(&ps);
            continue;
        }
        size_t line = ps.line;
        if ((rc = record(&ps, max_fields))) {
            if (rc == VT_ETOOBIG)
                ps.line = line;
            goto fail;
        }
        for (size_t i = 0; i < ps.n; i++)
            ps.fields[i] = ps.buf + ps.offs[i];
        if ((rc = row(ctx, line, ps.fields, ps.n))) {
            ps.line = line;
            goto fail;
        }
    }
fail: /* success comes through here too, with rc 0 */
    if (err_line && rc && rc != VT_ENOMEM)
        *err_line = ps.line;
    free(ps.fields);
    free(ps.offs);
    free(ps.buf);
    return rc;
}

int vt_csv_field(struct vt_buf *b, const char *s)
{
    if (!s || !*s)
        return vt_buf_append(b, "", 0);
    /* A leading = + - @ makes Excel and LibreOffice run the cell as a
     * formula (CSV injection); an apostrophe keeps it text. */
    bool formula = strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    int rc = quote ? vt_buf_puts(b, "\"") : 0;
    if (!rc && formula)
        rc = vt_buf_puts(b, "'");
    for (const char *p = s; !rc && *p;) {
        const char *q = quote ? strchr(p, '"') : NULL;
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        rc = vt_buf_append(b, p, n);
        if (!rc && q)
            rc = vt_buf_puts(b, "\""); /* the quote doubled */
        p += n;
    }
    if (!rc && quote)
        rc = vt_buf_puts(b, "\"");
    return rc;
}
