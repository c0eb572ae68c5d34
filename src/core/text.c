/* text.c - the small text utilities of text.h: UTF-8 validation and counting,
 * Spanish-aware folding for matching, HTML escaping and percent-decoding.
 *
 * Owns nothing: every function works on the caller's memory (vt_html_escape
 * grows the caller's buffer). Must not depend on the process locale (no
 * tolower/isalpha from <ctype.h>), keep state between calls or allocate on its
 * own account, because it runs on outside text from several threads at once.
 */
#include "core/text.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when there is
 * none (RFC 3629, table 3-7 of the Unicode standard). NUL is not accepted. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c >= 0x01 && c <= 0x7F)
        return 1;
    /* The range allowed for the second byte depends on the first: this is
     * what rules out overlongs, surrogates and code points above U+10FFFF. */
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

bool vt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t vt_utf8_chars(const char *s, size_t len)
{
    /* Every code point has exactly one byte that is not a continuation byte;
     * on malformed input this still returns a bounded, harmless count. */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- folding ---- */

/* What each code point U+00C0..U+00FF folds to. The two that are not letters
 * (U+00D7 multiplication sign, U+00F7 division sign) map to NULL and are
 * copied unchanged; ligatures and letters without a bare form in Spanish
 * spell out (Æ->ae, ß->ss, Þ->th) so that every Latin-1 letter folds to ASCII. */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Length of the (possibly malformed) UTF-8 sequence starting at s, so that a
 * character is copied or dropped whole; stray bytes count as one. */
static size_t seq_len(const unsigned char *s)
{
    size_t want = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    size_t n = 1;
    while (n < want && (s[n] & 0xC0) == 0x80)
        n++;
    return n;
}

size_t vt_fold_es(const char *s, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (outlen == 0)
        return 0;
    if (!p)
        p = (const unsigned char *)"";
    while (*p) {
        if (*p < 0x80) { /* ASCII, nearly all of a text: one byte in, one out */
            if (o + 1 > outlen - 1)
                break;
            out[o++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : (char)*p;
            p++;
            continue;
        }
        const char *rep = NULL;
        size_t in = seq_len(p), rlen;
        if (in == 2 && (p[0] == 0xC3) && (rep = latin1_fold[p[1] & 0x3F]) != NULL) {
            rlen = strlen(rep);
        } else {
            rep = (const char *)p; /* copied unchanged */
            rlen = in;
        }
        if (o + rlen > outlen - 1)
            break; /* truncate on a character boundary */
        memcpy(out + o, rep, rlen);
        o += rlen;
        p += in;
    }
    out[o] = '\0';
    return o;
}

/* ---- HTML ---- */

int vt_html_escape(struct vt_buf *b, const char *s)
{
    const char *run = s;
    if (!s)
        return 0;
    for (; *s; s++) {
        const char *ent;
        switch (*s) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        if (vt_buf_append(b, run, (size_t)(s - run)) || vt_buf_puts(b, ent))
            return VT_ENOMEM;
        run = s + 1;
    }
    /* Appending even an empty run leaves b->data non-NULL, so callers can
     * always use it as a string after a successful call. */
    return vt_buf_append(b, run, (size_t)(s - run));
}

/* ---- percent-decoding ---- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Checks every escape first so that a malformed string is left untouched,
 * then decodes in place; the output never outgrows the input. */
static long decode(char *s, size_t len, bool plus_is_space)
{
    size_t i, o = 0;
    for (i = 0; i < len; i++)
        if (s[i] == '%') {
            if (len - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0)
                return -1;
            i += 2;
        }
    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            s[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            s[o++] = ' ';
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return (long)o;
}

long vt_percent_decode(char *s, size_t len)
{
    return decode(s, len, true);
}

long vt_percent_decode_uri(char *s, size_t len)
{
    return decode(s, len, false);
}

void vt_human_bytes(int64_t n, char *out, size_t len)
{
    if (n < 1024)
        snprintf(out, len, "%lld bytes", (long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, len, "%.1f KiB", (double)n / 1024);
    else if (n < (int64_t)1024 * 1024 * 1024)
        snprintf(out, len, "%.1f MiB", (double)n / (1024 * 1024));
    else
        snprintf(out, len, "%.2f GiB", (double)n / (1024.0 * 1024 * 1024));
}
