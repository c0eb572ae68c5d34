/* mime_text.c - the text of an inbound email made readable (mime_text.h):
 * UTF-8, Windows-1252 and iconv for the rest; line ends; format=flowed;
 * header values fit to show.
 */
#include "channels/email/mime_text.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/html.h"
#include "core/error.h"
#include "core/text.h"

/* Appends code point cp as UTF-8; NUL, surrogates and beyond U+10FFFF as U+FFFD. */
static int put_cp(struct vt_buf *b, uint32_t cp)
{
    char u[6];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    return vt_buf_append(b, u, (size_t)g_unichar_to_utf8(cp, u));
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when there is
 * none; NUL is not one. */
size_t vt_mime_text_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    return k && k <= n && vt_utf8_valid((const char *)s, k) ? k : 0;
}

/* Appends s[0..n) as UTF-8: well-formed UTF-8 as it is, every other byte read
 * as Windows-1252 ("try UTF-8, else Windows-1252" one character at a time, so
 * a Latin-1 reply quoting UTF-8 keeps both). NUL bytes are dropped. */
int vt_mime_text_repair(struct vt_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0;
    int rc;
    while (i < n) {
        size_t k = vt_mime_text_seq_len(p + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        if ((rc = vt_buf_append(b, s + start, i - start)))
            return rc;
        if (p[i] && (rc = put_cp(b, vt_cp1252(p[i]))))
            return rc;
        start = ++i;
    }
    return vt_buf_append(b, s + start, i - start);
}

/* Appends Windows-1252 (or ISO-8859-1, which mail means when it says so)
 * bytes as UTF-8; NUL bytes are dropped. */
static int append_cp1252(struct vt_buf *b, const char *s, size_t n)
{
    int rc = vt_buf_append(b, "", 0);
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            rc = put_cp(b, vt_cp1252(c));
        else if (c)
            rc = vt_buf_append(b, &s[i], 1);
    }
    return rc;
}

/* Converts with iconv; a byte that is not of the charset becomes U+FFFD. An
 * unknown charset is read as undeclared. */
static int append_iconv(struct vt_buf *b, const char *s, size_t n, const char *charset)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return vt_mime_text_repair(b, s, n);
    struct vt_buf tmp = {0};
    char out[4096], *in = (char *)s;
    size_t inleft = n;
    int rc = 0;
    while (inleft > 0) {
        char *o = out;
        size_t oleft = sizeof(out);
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int err = errno;
        if ((rc = vt_buf_append(&tmp, out, sizeof(out) - oleft)))
            goto fail;
        if (r != (size_t)-1)
            break;
        if (err == E2BIG && oleft < sizeof(out))
            continue;
        if ((rc = put_cp(&tmp, 0xFFFD))) /* EILSEQ, or a sequence cut at the end */
            goto fail;
        in++;
        inleft--;
    }
    char *o = out;
    size_t oleft = sizeof(out);
    iconv(cd, NULL, NULL, &o, &oleft); /* the shift state of ISO-2022 and the like */
    if ((rc = vt_buf_append(&tmp, out, sizeof(out) - oleft)))
        goto fail;
    rc = vt_mime_text_repair(b, tmp.data ? tmp.data : "", tmp.len); /* drops NULs from UTF-16 */
fail:
    vt_buf_cleanup(&tmp);
    g_mime_iconv_close(cd);
    return rc;
}

/* UTF-8 and ASCII, Latin-1 and Windows-1252, or anything else (iconv). An
 * undeclared charset counts as UTF-8: vt_mime_text_repair falls back per byte. */
enum vt_mime_charset vt_mime_text_charset(const char *cs)
{
    static const char *const utf8[] = {"utf8", "usascii", "ascii", "ansix3.41968", "us", NULL};
    static const char *const latin1[] = {"iso88591",      "latin1",      "l1",     "iso885911987",
                                         "cp819",         "windows1252", "cp1252", "xcp1252",
                                         "windowscp1252", NULL};
    char k[32];
    size_t j = 0;
    if (!cs)
        return VT_MIME_UTF8;
    for (; *cs == ' ' || *cs == '"'; cs++)
        ;
    for (; *cs && *cs != '"' && *cs != '*' && j + 1 < sizeof(k); cs++)
        if (*cs != '-' && *cs != '_' && *cs != ' ')
            k[j++] = g_ascii_tolower(*cs);
    k[j] = '\0';
    if (j == 0)
        return VT_MIME_UTF8;
    for (size_t i = 0; utf8[i]; i++)
        if (strcmp(k, utf8[i]) == 0)
            return VT_MIME_UTF8;
    for (size_t i = 0; latin1[i]; i++)
        if (strcmp(k, latin1[i]) == 0)
            return VT_MIME_LATIN1;
    return VT_MIME_OTHER;
}

/* Appends s[0..n), declared in charset (NULL when undeclared), as UTF-8. */
int vt_mime_text_append(struct vt_buf *b, const char *s, size_t n, const char *charset)
{
    switch (vt_mime_text_charset(charset)) {
    case VT_MIME_UTF8:
        return vt_mime_text_repair(b, s, n);
    case VT_MIME_LATIN1:
        /* Text that is valid UTF-8 with accents is UTF-8 mislabeled (a
         * common webmail fault); genuine Latin-1 is almost never valid UTF-8. */
        if (vt_utf8_valid(s, n))
            return vt_buf_append(b, s, n);
        return append_cp1252(b, s, n);
    default:
        return append_iconv(b, s, n, charset);
    }
}

/* When every character of the valid UTF-8 in b is a Windows-1252 character
 * and those bytes are themselves valid UTF-8 with something beyond ASCII, b
 * was UTF-8 decoded as Latin-1 ("SeÃ±or"): it is replaced by those bytes. */
void vt_mime_text_unmojibake(struct vt_buf *b)
{
    const unsigned char *p = (const unsigned char *)b->data;
    size_t j = 0;
    bool high = false;
    if (!p)
        return;
    char *bytes = malloc(b->len + 1);
    if (!bytes)
        return; /* the text stays as it was, which is valid */
    for (size_t i = 0; i < b->len;) {
        size_t k = vt_mime_text_seq_len(p + i, b->len - i);
        uint32_t cp = k ? g_utf8_get_char((const char *)p + i) : 0xFFFD;
        unsigned char byte = 0;
        if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
            byte = (unsigned char)cp;
        } else {
            for (unsigned c = 0x80; c < 0xA0; c++)
                if (vt_cp1252((unsigned char)c) == cp && cp != 0xFFFD)
                    byte = (unsigned char)c;
        }
        if (!byte)
            goto fail;
        high |= byte >= 0x80;
        bytes[j++] = (char)byte;
        i += k ? k : 1;
    }
    if (high && vt_utf8_valid(bytes, j)) {
        memcpy(b->data, bytes, j);
        b->len = j;
        b->data[j] = '\0';
    }
fail:
    free(bytes);
}

/* Drops a leading byte order mark, turns CRLF and lone CR into LF and removes
 * control characters other than tab and LF, in place. */
void vt_mime_text_normalize_lines(struct vt_buf *b)
{
    char *s = b->data;
    size_t i = 0, j = 0, n = b->len;
    if (!s)
        return;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r') {
            s[j++] = '\n';
            if (i + 1 < n && s[i + 1] == '\n')
                i++;
        } else if (c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7F)) {
            s[j++] = (char)c;
        }
    }
    s[j] = '\0';
    b->len = j;
}

/* Removes leading blank lines and trailing white space, in place. */
void vt_mime_text_trim(struct vt_buf *b)
{
    size_t start = 0, end = b->len;
    if (!b->data)
        return;
    for (size_t i = 0; i < end; i++) {
        if (b->data[i] == '\n')
            start = i + 1;
        else if (b->data[i] != ' ' && b->data[i] != '\t')
            break;
    }
    while (end > start &&
           (b->data[end - 1] == ' ' || b->data[end - 1] == '\t' || b->data[end - 1] == '\n'))
        end--;
    memmove(b->data, b->data + start, end - start);
    b->len = end - start;
    b->data[b->len] = '\0';
}

bool vt_mime_text_is_blank(const struct vt_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\n')
            return false;
    return true;
}

/* The length of s[0..n) cut to at most max bytes on a character boundary. */
size_t vt_mime_text_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* A header value made fit to show: valid UTF-8, UTF-8 read as Latin-1
 * undone, control characters as spaces, runs of spaces as one, trimmed.
 * Returns a malloc'd string, or NULL on ENOMEM. */
char *vt_mime_text_clean_line(const char *s)
{
    struct vt_buf b = {0};
    if (vt_mime_text_repair(&b, s ? s : "", s ? strlen(s) : 0)) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    vt_mime_text_unmojibake(&b);
    size_t j = 0;
    for (size_t i = 0; i < b.len; i++) {
        char c = b.data[i];
        if ((unsigned char)c < 0x20 || c == 0x7F)
            c = ' ';
        if (c == ' ' && (j == 0 || b.data[j - 1] == ' '))
            continue;
        b.data[j++] = c;
    }
    while (j > 0 && b.data[j - 1] == ' ')
        j--;
    b.data[j] = '\0';
    return b.data;
}

/* s cleaned, ASCII lowercased, without spaces (addresses, content types). */
char *vt_mime_text_lower_clean(const char *a)
{
    char *s = vt_mime_text_clean_line(a ? a : "");
    size_t j = 0;
    for (size_t i = 0; s && s[i]; i++)
        if (s[i] != ' ')
            s[j++] = g_ascii_tolower(s[i]);
    if (s)
        s[j] = '\0';
    return s;
}

/* Undoes format=flowed (RFC 3676 section 4.2) in b, whose line ends are LF:
 * a line ending in a space goes on in the next one of the same quote depth;
 * space-stuffing is removed; quotes are written "> ". */
int vt_mime_text_unflow(struct vt_buf *b, bool delsp)
{
    struct vt_buf out = {0};
    bool joining = false;
    size_t prev_depth = 0;
    int rc = vt_buf_append(&out, "", 0);
    for (size_t i = 0; i < b->len && !rc;) {
        const char *nl = memchr(b->data + i, '\n', b->len - i);
        size_t end = nl ? (size_t)(nl - b->data) : b->len, depth = 0, k = i;
        while (k < end && b->data[k] == '>') {
            depth++;
            k++;
        }
        if (k < end && b->data[k] == ' ')
            k++; /* stuffed, or the space after the quote marks */
        size_t len = end - k;
        bool sig = len == 3 && memcmp(b->data + k, "-- ", 3) == 0;
        bool flowed = !sig && len > 0 && b->data[end - 1] == ' ';
        if (flowed && delsp)
            len--;
        if (!(joining && depth == prev_depth)) {
            if (i > 0)
                rc = vt_buf_append(&out, "\n", 1);
            for (size_t d = 0; d < depth && !rc; d++)
                rc = vt_buf_append(&out, ">", 1);
            if (depth && !rc)
                rc = vt_buf_append(&out, " ", 1);
        }
        if (!rc)
            rc = vt_buf_append(&out, b->data + k, len);
        joining = flowed;
        prev_depth = depth;
        i = end + 1;
    }
    if (!rc) {
        vt_buf_cleanup(b);
        *b = out;
        return 0;
    }
    vt_buf_cleanup(&out);
    return rc;
}
