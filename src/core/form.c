/* form.c - the form body parsers of form.h.
 *
 * What it owns: every string it puts in a struct vt_form (each malloc'd on its
 * own, freed by vt_form_cleanup). Nothing else: no globals, no locale, so it
 * runs on several threads at once.
 *
 * Invariants:
 *   1. Every index into the body is checked against its length before use;
 *      the body is binary and is never read as a C string.
 *   2. The form is consistent after every step (n counts only whole fields),
 *      so a caller can clean it up whatever the return code.
 *   3. A part's header block is read within 8 KiB; its body is found with
 *      memmem, so the work is linear in the size of the body.
 *
 * Multipart grammar accepted (RFC 2046 section 5.1.1, RFC 7578):
 *   preamble "--" boundary padding CRLF
 *   ( headers CRLF body CRLF "--" boundary padding CRLF )*
 *   headers CRLF body CRLF "--" boundary "--" epilogue
 * where CRLF may also be a bare LF, padding is spaces and tabs, and a
 * "--boundary" followed by anything else is part of the body.
 *
 * Must not: enforce the size of the request (the HTTP layer does), interpret
 * a part's Content-Transfer-Encoding or charset, or keep pointers into the
 * body after returning.
 */
#include "core/form.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

#define PART_HEADERS_MAX 8192 /* bytes of one part's header block, blank line included */
#define BOUNDARY_MAX 70       /* RFC 2046 */

/* ---- fields ---- */

static void field_cleanup(struct vt_form_field *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->value);
    free(f->filename);
    free(f->content_type);
    memset(f, 0, sizeof(*f));
}

void vt_form_cleanup(struct vt_form *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        field_cleanup(&f->fields[i]);
    free(f->fields);
    f->fields = NULL;
    f->n = 0;
}

const struct vt_form_field *vt_form_get(const struct vt_form *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->fields[i].name && strcmp(f->fields[i].name, name) == 0)
            return &f->fields[i];
    return NULL;
}

/* Makes room for extra more fields at the end of the form. */
static int reserve(struct vt_form *f, size_t extra)
{
    if (extra > ((size_t)-1) / sizeof(*f->fields) - f->n)
        return VT_ENOMEM;
    struct vt_form_field *p = realloc(f->fields, (f->n + extra) * sizeof(*p));
    if (!p)
        return VT_ENOMEM;
    f->fields = p;
    return 0;
}

/* Moves *fld to the end of the form; *fld is empty afterwards on success. */
static int push(struct vt_form *f, struct vt_form_field *fld)
{
    if (reserve(f, 1))
        return VT_ENOMEM;
    f->fields[f->n++] = *fld;
    memset(fld, 0, sizeof(*fld));
    return 0;
}

/* A NUL-terminated copy of n bytes, or NULL when out of memory. */
static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- urlencoded ---- */

/* Length of the segment at body[i], up to the next '&' or the end. */
static size_t segment(const char *body, size_t len, size_t i)
{
    const char *amp = memchr(body + i, '&', len - i);
    return amp ? (size_t)(amp - (body + i)) : len - i;
}

int vt_form_parse_urlencoded(const char *body, size_t len, size_t max_fields, struct vt_form *out)
{
    size_t count = 0, seg, i;
    int rc = 0;
    if (len == 0)
        return 0;
    /* Count first, so that an oversized form costs nothing to refuse. Empty
     * segments ("a=1&&b=2", a trailing '&') are not fields. */
    for (i = 0; i < len; i += seg + 1) {
        seg = segment(body, len, i);
        count += seg > 0;
    }
    if (count > max_fields)
        return VT_ETOOBIG;
    if (count == 0)
        return 0;
    if ((rc = reserve(out, count)))
        goto fail;
    for (i = 0; i < len; i += seg + 1) {
        seg = segment(body, len, i);
        if (seg == 0)
            continue;
        const char *p = body + i, *eq = memchr(p, '=', seg);
        size_t nlen = eq ? (size_t)(eq - p) : seg;
        size_t vlen = eq ? seg - nlen - 1 : 0;
        struct vt_form_field *f = &out->fields[out->n++];
        memset(f, 0, sizeof(*f));
        if (!(f->name = dup_bytes(p, nlen)) || !(f->value = dup_bytes(eq ? eq + 1 : "", vlen))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        long dn = vt_percent_decode(f->name, nlen);
        long dv = vt_percent_decode(f->value, vlen);
        /* A NUL inside a name would make it match a shorter name. */
        if (dn < 0 || dv < 0 || strlen(f->name) != (size_t)dn) {
            rc = VT_EINVAL;
            goto fail;
        }
        f->value_len = (size_t)dv;
    }
    return 0;
fail:
    return rc;
}

/* ---- header syntax (RFC 9110 section 5.6) ---- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
    unsigned char u = (unsigned char)c;
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z'))
        return true;
    return u != 0 && strchr("!#$%&'*+-.^_`|~", u) != NULL;
}

/* The RFC 2045 tspecials: the only characters a backslash escapes. */
static bool is_tspecial(char c)
{
    return c != 0 && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows(*p))
        p++;
    return p;
}

/* ASCII case-insensitive comparison of a span with a lowercase literal, so
 * that no locale can change the meaning of a header. */
static bool span_is(const char *p, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n && lit[i]; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return i == n && lit[i] == '\0';
}

/* Reads a quoted-string at *pp (on the opening quote) into a new string.
 * Like Go's mime package, a backslash escapes only a tspecial: MSIE sends
 * paths such as "C:\dir\a.pdf" without doubling the backslashes. */
static int unquote(const char **pp, const char *end, char **out)
{
    const char *q = *pp + 1;
    char *s = malloc((size_t)(end - q) + 1);
    size_t o = 0;
    if (!s)
        return VT_ENOMEM;
    while (q < end) {
        if (*q == '"') {
            s[o] = '\0';
            *out = s;
            *pp = q + 1;
            return 0;
        }
        if (*q == '\\' && q + 1 < end && is_tspecial(q[1]))
            q++;
        s[o++] = *q++;
    }
    free(s); /* no closing quote */
    return VT_EINVAL;
}

/* Reads one parameter (";" name "=" value) at *pp. Returns 1 with the name and
 * a new unquoted value, 0 at the end of the header, VT_EINVAL or VT_ENOMEM. */
static int next_param(const char **pp, const char *end, const char **name, size_t *nlen,
                      char **value)
{
    const char *p = skip_ows(*pp, end), *v;
    int rc;
    *value = NULL;
    if (p == end)
        return 0;
    if (*p != ';')
        return VT_EINVAL;
    p = skip_ows(p + 1, end);
    if (p == end) { /* a trailing ';' */
        *pp = p;
        return 0;
    }
    for (*name = p; p < end && is_tchar(*p); p++)
        ;
    *nlen = (size_t)(p - *name);
    p = skip_ows(p, end);
    if (*nlen == 0 || p == end || *p != '=')
        return VT_EINVAL;
    p = skip_ows(p + 1, end);
    if (p < end && *p == '"') {
        if ((rc = unquote(&p, end, value)))
            return rc;
    } else {
        /* Be lenient with unquoted values (boundaries with '=' or '/' are
         * seen in the wild): anything up to ';' or white space. */
        for (v = p; p < end && *p != ';' && *p != '"' && !is_ows(*p); p++)
            ;
        if (!(*value = dup_bytes(v, (size_t)(p - v))))
            return VT_ENOMEM;
    }
    *pp = p;
    return 1;
}

/* Reads the media type or disposition type at the start of a header value. */
static const char *first_token(const char *p, const char *end, size_t *n)
{
    const char *t = skip_ows(p, end), *e = t;
    while (e < end && *e != ';' && !is_ows(*e))
        e++;
    *n = (size_t)(e - t);
    return t;
}

/* Copies the boundary parameter of a multipart/form-data Content-Type into
 * out (BOUNDARY_MAX + 1 bytes). */
static int get_boundary(const char *ct, char *out, size_t *blen)
{
    const char *p, *end, *name;
    size_t n, nlen;
    char *val = NULL;
    int rc, found = 0;
    if (!ct)
        return VT_EINVAL;
    end = ct + strlen(ct);
    p = first_token(ct, end, &n);
    if (!span_is(p, n, "multipart/form-data"))
        return VT_EINVAL;
    p += n;
    while ((rc = next_param(&p, end, &name, &nlen, &val)) == 1) {
        if (span_is(name, nlen, "boundary")) {
            size_t len = strlen(val);
            /* Two boundaries would let two parsers see two different forms. */
            if (found++ || len == 0 || len > BOUNDARY_MAX) {
                rc = VT_EINVAL;
                goto fail;
            }
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)val[i] < 0x20 || (unsigned char)val[i] > 0x7E) {
                    rc = VT_EINVAL;
                    goto fail;
                }
            memcpy(out, val, len + 1);
            *blen = len;
        }
        free(val);
        val = NULL;
    }
    if (rc == 0 && !found)
        rc = VT_EINVAL;
fail:
    free(val);
    return rc;
}

/* ---- multipart ---- */

/* Where one delimiter was found. */
struct hit {
    size_t content_end; /* end of the body part before it (its CRLF excluded) */
    size_t next;        /* first byte after the delimiter line */
    bool closed;        /* it was the close delimiter "--boundary--" */
};

/* Checks what follows "--boundary" at body[j]: "--", or padding and a line end. */
static bool delimiter_end(const char *body, size_t len, size_t j, struct hit *h)
{
    if (len - j >= 2 && body[j] == '-' && body[j + 1] == '-') {
        h->closed = true;
        h->next = j + 2;
        return true;
    }
    while (j < len && is_ows(body[j]))
        j++;
    if (j < len && body[j] == '\n') {
        h->next = j + 1;
    } else if (len - j >= 2 && body[j] == '\r' && body[j + 1] == '\n') {
        h->next = j + 2;
    } else {
        return false;
    }
    h->closed = false;
    return true;
}

/* Finds the first delimiter ("\n--boundary", in delim) whose '\n' is at or
 * after from. */
static bool find_delimiter(const char *body, size_t len, size_t from, const char *delim,
                           size_t dlen, struct hit *h)
{
    size_t k = from;
    while (k < len) {
        const char *m = memmem(body + k, len - k, delim, dlen);
        if (!m)
            return false;
        size_t at = (size_t)(m - body);
        if (delimiter_end(body, len, at + dlen, h)) {
            h->content_end = (at > from && body[at - 1] == '\r') ? at - 1 : at;
            return true;
        }
        k = at + 1;
    }
    return false;
}

/* Keeps what follows the last '/' or '\\': browsers and old MSIE may send a
 * path, and a name like ".." is no name at all. */
static void strip_path(char *s)
{
    char *base = s;
    for (char *p = s; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    memmove(s, base, strlen(base) + 1);
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        s[0] = '\0';
}

/* Decodes an RFC 5987 ext-value (UTF-8'lang'percent-encoded) in place. */
static int decode_ext_value(char *v)
{
    char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (!q2 || !span_is(v, (size_t)(q1 - v), "utf-8"))
        return VT_EINVAL;
    size_t n = strlen(q2 + 1);
    memmove(v, q2 + 1, n + 1);
    long d = vt_percent_decode_uri(v, n);
    if (d < 0 || strlen(v) != (size_t)d || !vt_utf8_valid(v, (size_t)d))
        return VT_EINVAL;
    return 0;
}

/* Parses a Content-Disposition value into f->name and f->filename. */
static int parse_disposition(const char *p, const char *end, struct vt_form_field *f)
{
    const char *name;
    size_t n, nlen;
    char *val = NULL, *plain = NULL, *ext = NULL;
    int rc;
    p = first_token(p, end, &n);
    if (!span_is(p, n, "form-data"))
        return VT_EINVAL;
    p += n;
    while ((rc = next_param(&p, end, &name, &nlen, &val)) == 1) {
        char **slot = span_is(name, nlen, "name")        ? &f->name
                      : span_is(name, nlen, "filename")  ? &plain
                      : span_is(name, nlen, "filename*") ? &ext
                                                         : NULL;
        if (slot && *slot) { /* the same parameter twice */
            rc = VT_EINVAL;
            goto fail;
        }
        if (slot) {
            *slot = val;
            val = NULL;
        }
        free(val);
        val = NULL;
    }
    if (rc < 0)
        goto fail;
    if (!f->name) {
        rc = VT_EINVAL;
        goto fail;
    }
    if (ext) { /* filename* wins over filename (RFC 6266 section 4.3) */
        if ((rc = decode_ext_value(ext)))
            goto fail;
        free(plain);
        plain = ext;
        ext = NULL;
    }
    if (plain) {
        strip_path(plain);
        f->filename = plain;
        plain = NULL;
    }
    rc = 0;
fail:
    free(ext);
    free(plain);
    free(val);
    return rc;
}

/* Parses one header line (without its line end) of a part. */
static int parse_header(const char *line, size_t n, struct vt_form_field *f, bool *have_cd)
{
    const char *end = line + n, *colon = memchr(line, ':', n);
    if (!colon || colon == line)
        return VT_EINVAL;
    for (const char *p = line; p < colon; p++)
        if (!is_tchar(*p))
            return VT_EINVAL;
    for (const char *p = colon + 1; p < end; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7F)
            return VT_EINVAL;
    const char *v = skip_ows(colon + 1, end), *ve = end;
    while (ve > v && is_ows(ve[-1]))
        ve--;
    size_t hn = (size_t)(colon - line);
    if (span_is(line, hn, "content-disposition")) {
        if (*have_cd)
            return VT_EINVAL;
        *have_cd = true;
        return parse_disposition(v, ve, f);
    }
    if (span_is(line, hn, "content-type")) {
        if (f->content_type)
            return VT_EINVAL;
        return (f->content_type = dup_bytes(v, (size_t)(ve - v))) ? 0 : VT_ENOMEM;
    }
    return 0; /* other headers (Content-Transfer-Encoding, ...) are ignored */
}

/* Parses one body part p[0..n) into f; *skip when it is an empty file input. */
static int parse_part(const char *p, size_t n, struct vt_form_field *f, bool *skip)
{
    size_t i = 0, limit = n < PART_HEADERS_MAX ? n : PART_HEADERS_MAX;
    bool have_cd = false;
    int rc;
    for (;;) {
        const char *nl = i < limit ? memchr(p + i, '\n', limit - i) : NULL;
        if (!nl)
            return VT_EINVAL; /* no blank line within the limit */
        size_t lend = (size_t)(nl - p), llen = lend - i;
        if (llen > 0 && p[lend - 1] == '\r')
            llen--;
        if (llen == 0) {
            i = lend + 1;
            break;
        }
        if ((rc = parse_header(p + i, llen, f, &have_cd)))
            return rc;
        i = lend + 1;
    }
    if (!have_cd)
        return VT_EINVAL;
    if (!(f->value = dup_bytes(p + i, n - i)))
        return VT_ENOMEM;
    f->value_len = n - i;
    *skip = f->filename && f->filename[0] == '\0' && f->value_len == 0;
    return 0;
}

int vt_form_parse_multipart(const char *content_type, const char *body, size_t len,
                            size_t max_fields, struct vt_form *out)
{
    char delim[3 + BOUNDARY_MAX + 1] = "\n--";
    struct vt_form_field f = {0};
    struct hit h = {0};
    size_t blen = 0, parts = 0;
    int rc = get_boundary(content_type, delim + 3, &blen);
    if (rc)
        goto fail;
    size_t dlen = 3 + blen;
    rc = VT_EINVAL;
    if (!body)
        goto fail;
    /* The first delimiter needs no line end before it when it opens the body. */
    if (!(len >= dlen - 1 && memcmp(body, delim + 1, dlen - 1) == 0 &&
          delimiter_end(body, len, dlen - 1, &h)) &&
        !find_delimiter(body, len, 0, delim, dlen, &h))
        goto fail;
    while (!h.closed) {
        size_t start = h.next;
        bool skip = false;
        rc = VT_EINVAL;
        if (!find_delimiter(body, len, start, delim, dlen, &h))
            goto fail; /* no closing delimiter */
        rc = VT_ETOOBIG;
        if (++parts > max_fields)
            goto fail;
        if ((rc = parse_part(body + start, h.content_end - start, &f, &skip)))
            goto fail;
        if (skip)
            field_cleanup(&f);
        else if ((rc = push(out, &f)))
            goto fail;
    }
    return 0;
fail:
    field_cleanup(&f);
    return rc;
}
