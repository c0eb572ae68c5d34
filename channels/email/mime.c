/* mime.c - an inbound email read with GMime 3 (mime.h).
 *
 * What it owns: every string and buffer it puts in a struct vt_mail, each
 * malloc'd on its own and freed by vt_mail_cleanup. GMime objects live only
 * inside one call of vt_mime_parse and are unreferenced before it returns.
 *
 * How a message is read:
 *   1. GMime parses the bytes from a memory stream; a message without a
 *      single header is the only refusal (VT_EINVAL).
 *   2. Headers are taken raw and decoded here: encoded words declared UTF-8
 *      whose bytes are not UTF-8 are declared Windows-1252 again before GMime
 *      decodes them (fix_utf8_words), and a decoded value that is UTF-8 read
 *      as Latin-1 ("SeÃ±or") is read again as UTF-8 (unmojibake).
 *   3. The MIME tree is walked once (walk): text/plain and text/html leaves
 *      that are not attachments feed the text (converted to UTF-8, CRLF to
 *      LF, format=flowed undone), one of each per multipart/alternative, the
 *      HTML read only when there is no plain text (html_to_text); every
 *      other leaf is an attachment or an inline image (add_part);
 *      message/rfc822 is a forwarded mail whose text follows the body under
 *      a "Mensaje reenviado" line (forwarded); the parts of a multipart/report
 *      after the first are read only for the Message-ID of the mail they
 *      return (returned).
 *   4. The signs of automatic mail are read last (classify), from the
 *      headers and from what the walk saw.
 *
 * Invariants:
 *   1. After a successful parse every string in struct vt_mail is non-NULL
 *      and valid UTF-8 (vt_utf8_valid): bytes that are not UTF-8 in a text
 *      said to be UTF-8, or not said to be anything, are read as
 *      Windows-1252, which gives every byte a character.
 *   2. Recursion is bounded by MAX_DEPTH and work by MAX_NODES, whatever the
 *      nesting of the input.
 *   3. On failure out is cleaned up before returning, so the caller never
 *      holds half a mail.
 *
 * Must not: touch the store, the network, the clock or the process locale
 * (no <ctype.h>), or keep state between calls beyond GMime's own init.
 */
#include "channels/email/mime.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/html.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/text.h"

#define MAX_DEPTH 12       /* nested multiparts and forwarded mails */
#define MAX_NODES 4096     /* MIME objects visited in one message */
#define MAX_REFERENCES 100 /* References kept: the first and the newest */
#define MAX_WORDS 64       /* encoded words checked in one header */
#define MAX_FILENAME_BYTES 200
#define FORWARD_LINE "---------- Mensaje reenviado ----------"

/* ---- GMime ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gmime(void)
{
    g_mime_init();
}

void vt_mime_init(void)
{
    pthread_once(&init_once, init_gmime);
}

/* Parses s[0..n) as a message; NULL when it has no header. Unref the result. */
static GMimeMessage *parse_bytes(const char *s, size_t n, GMimeParserOptions *opt)
{
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(s, n);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
    GMimeMessage *m = g_mime_parser_construct_message(p, opt);
    g_object_unref(p);
    g_object_unref(st);
    return m;
}

static bool is_type(GMimeObject *o, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

/* ---- UTF-8 and Windows-1252 ---- */

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
static size_t seq_len(const unsigned char *s, size_t n)
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
static int append_repaired(struct vt_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0;
    int rc;
    while (i < n) {
        size_t k = seq_len(p + i, n - i);
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
        return append_repaired(b, s, n);
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
    rc = append_repaired(b, tmp.data ? tmp.data : "", tmp.len); /* drops NULs from UTF-16 */
fail:
    vt_buf_cleanup(&tmp);
    g_mime_iconv_close(cd);
    return rc;
}

enum charset_kind { CS_UTF8, CS_LATIN1, CS_OTHER };

/* UTF-8 and ASCII, Latin-1 and Windows-1252, or anything else (iconv). An
 * undeclared charset counts as UTF-8: append_repaired falls back per byte. */
static enum charset_kind charset_kind(const char *cs)
{
    static const char *const utf8[] = {"utf8", "usascii", "ascii", "ansix3.41968", "us", NULL};
    static const char *const latin1[] = {"iso88591",      "latin1",      "l1",     "iso885911987",
                                         "cp819",         "windows1252", "cp1252", "xcp1252",
                                         "windowscp1252", NULL};
    char k[32];
    size_t j = 0;
    if (!cs)
        return CS_UTF8;
    for (; *cs == ' ' || *cs == '"'; cs++)
        ;
    for (; *cs && *cs != '"' && *cs != '*' && j + 1 < sizeof(k); cs++)
        if (*cs != '-' && *cs != '_' && *cs != ' ')
            k[j++] = g_ascii_tolower(*cs);
    k[j] = '\0';
    if (j == 0)
        return CS_UTF8;
    for (size_t i = 0; utf8[i]; i++)
        if (strcmp(k, utf8[i]) == 0)
            return CS_UTF8;
    for (size_t i = 0; latin1[i]; i++)
        if (strcmp(k, latin1[i]) == 0)
            return CS_LATIN1;
    return CS_OTHER;
}

/* Appends s[0..n), declared in charset (NULL when undeclared), as UTF-8. */
static int append_charset(struct vt_buf *b, const char *s, size_t n, const char *charset)
{
    switch (charset_kind(charset)) {
    case CS_UTF8:
        return append_repaired(b, s, n);
    case CS_LATIN1:
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
static void unmojibake(struct vt_buf *b)
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
        size_t k = seq_len(p + i, b->len - i);
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
static void normalize_lines(struct vt_buf *b)
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
static void trim_text(struct vt_buf *b)
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

static bool is_blank(const struct vt_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\n')
            return false;
    return true;
}

/* The length of s[0..n) cut to at most max bytes on a character boundary. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* ---- headers ---- */

/* The unfolded raw value of the first header called name, NULL when absent.
 * g_free it. */
static char *raw_header(GMimeObject *o, const char *name)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(o);
    GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
    const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
    return raw ? g_mime_utils_header_unfold(raw) : NULL;
}

/* Appends the bytes of an encoded word's text (RFC 2047 section 4). */
static int decode_word(struct vt_buf *b, const char *s, size_t n, char enc)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = 0;
    if (enc == 'q' || enc == 'Q') {
        for (size_t i = 0; i < n && !rc; i++) {
            char c = s[i] == '_' ? ' ' : s[i];
            if (c == '=' && i + 2 < n && g_ascii_xdigit_value(s[i + 1]) >= 0 &&
                g_ascii_xdigit_value(s[i + 2]) >= 0) {
                c = (char)(g_ascii_xdigit_value(s[i + 1]) << 4 | g_ascii_xdigit_value(s[i + 2]));
                i += 2;
            }
            rc = vt_buf_append(b, &c, 1);
        }
        return rc;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *p = s[i] ? strchr(b64, s[i]) : NULL;
        if (!p)
            continue;
        acc = (acc << 6 | (uint32_t)(p - b64)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char c = (char)(acc >> bits & 0xFF);
            rc = vt_buf_append(b, &c, 1);
        }
    }
    return rc;
}

struct word {
    size_t start, cs_start, cs_end, text_start, end; /* end: after "?=" */
    char enc;
    bool utf8;
};

/* Finds the encoded words of s (at most MAX_WORDS); returns how many. */
static size_t find_words(const char *s, struct word *w)
{
    size_t n = 0;
    for (const char *p = strstr(s, "=?"); p && n < MAX_WORDS; p = strstr(p, "=?")) {
        const char *cs = p + 2, *q = cs;
        while (*q && *q != '?' && *q != ' ' && q - cs < 64)
            q++;
        if (*q != '?' || q == cs || !strchr("QqBb", q[1]) || !q[1] || q[2] != '?') {
            p += 2;
            continue;
        }
        /* The text runs to "?=" without white space, within a bound so that
         * a long header of broken words stays linear. */
        const char *text = q + 3, *e = text;
        while (*e && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n' && e - text < 1024 &&
               !(e[0] == '?' && e[1] == '='))
            e++;
        if (e[0] != '?' || e[1] != '=') {
            p += 2;
            continue;
        }
        char charset[65];
        memcpy(charset, cs, (size_t)(q - cs));
        charset[q - cs] = '\0';
        struct word *x = &w[n++];
        x->start = (size_t)(p - s);
        x->cs_start = (size_t)(cs - s);
        x->cs_end = (size_t)(q - s);
        x->enc = q[1];
        x->text_start = (size_t)(text - s);
        x->end = (size_t)(e - s) + 2;
        x->utf8 = charset_kind(charset) == CS_UTF8 && g_ascii_strncasecmp(charset, "utf", 3) == 0;
        p = e + 2;
    }
    return n;
}

/* A copy of the raw header s in which each run of adjacent encoded words
 * declared UTF-8 whose bytes are not UTF-8 is declared Windows-1252 instead:
 * GMime would turn those bytes into '?'. Returns NULL on ENOMEM; g_free it. */
static char *fix_utf8_words(const char *s)
{
    struct word w[MAX_WORDS];
    bool bad[MAX_WORDS] = {false};
    size_t n = find_words(s, w);
    struct vt_buf bytes = {0}, out = {0};
    char *res = NULL;
    int rc = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bytes.len = 0;
        /* A run: UTF-8 words with only white space between them. */
        while (j < n && w[j].utf8 &&
               (j == i || strspn(s + w[j - 1].end, " \t\r\n") >= w[j].start - w[j - 1].end)) {
            if ((rc = decode_word(&bytes, s + w[j].text_start, w[j].end - 2 - w[j].text_start,
                                  w[j].enc)))
                goto fail;
            j++;
        }
        if (j == i) {
            i++;
            continue;
        }
        if (bytes.len && !vt_utf8_valid(bytes.data, bytes.len))
            for (size_t k = i; k < j; k++)
                bad[k] = true;
        i = j;
    }
    size_t at = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!bad[i])
            continue;
        if (!(rc = vt_buf_append(&out, s + at, w[i].cs_start - at)))
            rc = vt_buf_puts(&out, "windows-1252");
        at = w[i].cs_end;
    }
    if (!rc && vt_buf_puts(&out, s + at) == 0)
        res = g_strdup(out.data);
fail:
    vt_buf_cleanup(&out);
    vt_buf_cleanup(&bytes);
    return res;
}

/* A header value made fit to show: valid UTF-8, UTF-8 read as Latin-1
 * undone, control characters as spaces, runs of spaces as one, trimmed.
 * Returns a malloc'd string, or NULL on ENOMEM. */
static char *clean_line(const char *s)
{
    struct vt_buf b = {0};
    if (append_repaired(&b, s ? s : "", s ? strlen(s) : 0)) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    unmojibake(&b);
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

/* The decoded, cleaned value of header name; "" when absent. malloc'd, NULL
 * on ENOMEM. */
static char *decoded_header(GMimeObject *o, const char *name, GMimeParserOptions *opt)
{
    char *raw = raw_header(o, name), *fixed = raw ? fix_utf8_words(raw) : NULL;
    char *dec = fixed ? g_mime_utils_header_decode_text(opt, fixed) : NULL;
    char *res = clean_line(dec ? dec : "");
    g_free(dec);
    g_free(fixed);
    g_free(raw);
    return res;
}

/* The address list of header name, or NULL; unref it. */
static InternetAddressList *address_header(GMimeObject *o, const char *name,
                                           GMimeParserOptions *opt)
{
    char *raw = raw_header(o, name), *fixed = raw ? fix_utf8_words(raw) : NULL;
    InternetAddressList *l = fixed ? internet_address_list_parse(opt, fixed) : NULL;
    g_free(fixed);
    g_free(raw);
    return l;
}

static InternetAddressMailbox *first_mailbox(InternetAddressList *l, int depth)
{
    for (int i = 0; l && i < internet_address_list_length(l); i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            return INTERNET_ADDRESS_MAILBOX(a);
        if (INTERNET_ADDRESS_IS_GROUP(a) && depth == 0) {
            InternetAddressMailbox *mb =
                first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), 1);
            if (mb)
                return mb;
        }
    }
    return NULL;
}

/* s cleaned, ASCII lowercased, without spaces (addresses, content types). */
static char *lower_clean(const char *a)
{
    char *s = clean_line(a ? a : "");
    size_t j = 0;
    for (size_t i = 0; s && s[i]; i++)
        if (s[i] != ' ')
            s[j++] = g_ascii_tolower(s[i]);
    if (s)
        s[j] = '\0';
    return s;
}

/* Sets *addr (and *name when not NULL) from the first mailbox of header hdr. */
static int mailbox_header(GMimeObject *o, const char *hdr, GMimeParserOptions *opt, char **addr,
                          char **name)
{
    InternetAddressList *l = address_header(o, hdr, opt);
    InternetAddressMailbox *mb = first_mailbox(l, 0);
    *addr = lower_clean(mb ? internet_address_mailbox_get_addr(mb) : "");
    if (name)
        *name = clean_line(mb ? internet_address_get_name(INTERNET_ADDRESS(mb)) : "");
    if (l)
        g_object_unref(l);
    return *addr && (!name || *name) ? 0 : VT_ENOMEM;
}

/* The header's list of addresses as decoded text ("Ana <ana@x.co>, ..."); the
 * decoded header itself when it is not a list GMime can read. */
static char *address_text(GMimeObject *o, const char *hdr, GMimeParserOptions *opt)
{
    InternetAddressList *l = address_header(o, hdr, opt);
    char *s = l && internet_address_list_length(l) > 0
                  ? internet_address_list_to_string(l, NULL, FALSE)
                  : NULL;
    char *res = s ? clean_line(s) : decoded_header(o, hdr, opt);
    g_free(s);
    if (l)
        g_object_unref(l);
    return res;
}

/* The first token of a header value, lowercased ("auto-replied" of
 * "Auto-Replied; owner-email=..."); "" when absent. */
static void header_token(GMimeObject *o, const char *name, char *out, size_t outlen)
{
    const char *v = g_mime_object_get_header(o, name);
    size_t j = 0;
    out[0] = '\0';
    if (!v)
        return;
    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v && *v != ';' && *v != ' ' && *v != '\t' && *v != '(' && j + 1 < outlen; v++)
        out[j++] = g_ascii_tolower(*v);
    out[j] = '\0';
}

static bool has_header(GMimeObject *o, const char *name)
{
    return g_mime_object_get_header(o, name) != NULL;
}

/* Present, and not "no" (Auto-Submitted: no is a person's mail). */
static bool header_yes(GMimeObject *o, const char *name)
{
    char tok[8];
    header_token(o, name, tok, sizeof(tok));
    return has_header(o, name) && strcmp(tok, "no") != 0;
}

static int take_message_id(const char *raw, char **out)
{
    char *id = raw ? g_mime_utils_decode_message_id(raw) : NULL;
    *out = clean_line(id ? id : "");
    g_free(id);
    return *out ? 0 : VT_ENOMEM;
}

static int take_references(struct vt_mail *m, GMimeObject *o, GMimeParserOptions *opt)
{
    char *raw = raw_header(o, "References");
    GMimeReferences *refs = raw ? g_mime_references_parse(opt, raw) : NULL;
    int n = refs ? g_mime_references_length(refs) : 0, rc = 0;
    size_t keep = (size_t)n < MAX_REFERENCES ? (size_t)n : MAX_REFERENCES;
    if (keep && !(m->references = calloc(keep, sizeof(char *)))) {
        rc = VT_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < keep; i++) {
        /* The first (the thread's root) and the newest ones. */
        size_t from = i == 0 ? 0 : (size_t)n - keep + i;
        if (!(m->references[i] = clean_line(g_mime_references_get_message_id(refs, (int)from)))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        m->n_references++;
    }
fail:
    if (refs)
        g_mime_references_free(refs);
    g_free(raw);
    return rc;
}

/* ---- the MIME tree ---- */

enum { WANT_PLAIN = 1, WANT_HTML = 2, IN_REPORT = 4, TOP = 8 };

struct walk {
    GMimeParserOptions *opt;
    struct vt_mail *m;
    size_t max_parts, max_part_bytes, max_text;
    size_t dropped, cap, nodes;
    bool dsn, mdn;     /* a delivery-status or disposition-notification report */
    char *returned_id; /* Message-ID of the mail a report returns, malloc'd */
};

/* The text of one message: its text/plain and text/html leaves, and the
 * formatted text of the mails it forwards. */
struct text {
    struct vt_buf plain, html, fwd;
    unsigned n_plain, n_html;
};

static int walk(struct walk *w, struct text *t, GMimeObject *o, int flags, int depth);

/* The decoded content of a leaf (transfer encoding undone) as a memory
 * stream, or NULL when it has none; unref it. */
static GMimeStream *content_of(GMimePart *p, GByteArray **ba)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(p);
    if (!dw)
        return NULL;
    GMimeStream *ms = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, ms); /* on a read error, keep what came */
    *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
    return ms;
}

/* A filename made safe to show and store: no path, no control or bidi
 * characters, no leading dots, at most MAX_FILENAME_BYTES (the extension
 * kept); "adjunto" when nothing is left. malloc'd, NULL on ENOMEM. */
static char *sanitize_filename(const char *name)
{
    struct vt_buf b = {0};
    const char *base = name ? name : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    if (append_repaired(&b, base, strlen(base)))
        goto fail;
    unmojibake(&b);
    const unsigned char *s = (const unsigned char *)b.data;
    size_t j = 0;
    for (size_t i = 0; i < b.len;) {
        size_t k = seq_len(s + i, b.len - i);
        k = k ? k : 1; /* b is valid UTF-8 after append_repaired */
        uint32_t cp = g_utf8_get_char((const char *)s + i);
        bool drop = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
                    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
                    cp == 0xFEFF;
        if (!drop && !(j == 0 && (cp == '.' || cp == ' ')))
            for (size_t x = 0; x < k; x++)
                b.data[j++] = (char)s[i + x];
        i += k;
    }
    while (j > 0 && (b.data[j - 1] == '.' || b.data[j - 1] == ' '))
        j--;
    b.len = j;
    b.data[j] = '\0';
    if (b.len > MAX_FILENAME_BYTES) {
        const char *dot = strrchr(b.data, '.');
        size_t ext = dot ? b.len - (size_t)(dot - b.data) : 0;
        if (ext > 16)
            ext = 0;
        size_t stem = cut_utf8(b.data, b.len - ext, MAX_FILENAME_BYTES - ext);
        memmove(b.data + stem, b.data + b.len - ext, ext);
        b.len = stem + ext;
        b.data[b.len] = '\0';
    }
    if (b.len == 0) {
        vt_buf_cleanup(&b);
        return strdup("adjunto");
    }
    return b.data;
fail:
    vt_buf_cleanup(&b);
    return NULL;
}

static int add_part(struct walk *w, GMimeObject *o, const char *disp, const char *filename)
{
    GByteArray *ba = NULL;
    GMimeStream *ms = NULL;
    char *type = NULL;
    int rc = 0;
    if (w->m->n_parts >= w->max_parts) {
        w->dropped++;
        return 0;
    }
    ms = content_of(GMIME_PART(o), &ba);
    size_t size = ba ? ba->len : 0;
    if (size > w->max_part_bytes) {
        w->dropped++;
        goto fail;
    }
    if (w->m->n_parts == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4;
        struct vt_mail_part *parts = realloc(w->m->parts, cap * sizeof(*parts));
        if (!parts) {
            rc = VT_ENOMEM;
            goto fail;
        }
        w->m->parts = parts;
        w->cap = cap;
    }
    struct vt_mail_part *p = &w->m->parts[w->m->n_parts];
    memset(p, 0, sizeof(*p));
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    p->content_type = lower_clean(type ? type : "application/octet-stream");
    p->filename = sanitize_filename(filename);
    p->data = malloc(size ? size : 1);
    if (!p->content_type || !p->filename || !p->data) {
        free(p->content_type);
        free(p->filename);
        free(p->data);
        rc = VT_ENOMEM;
        goto fail;
    }
    if (size)
        memcpy(p->data, ba->data, size);
    p->size = size;
    bool attachment = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
    bool inline_disp = disp && g_ascii_strcasecmp(disp, "inline") == 0;
    const char *cid = g_mime_object_get_content_id(o);
    p->inline_image = is_type(o, "image", "*") && !attachment && (inline_disp || (cid && *cid));
    w->m->n_parts++;
fail:
    g_free(type);
    if (ms)
        g_object_unref(ms);
    return rc;
}

/* Notes the Message-ID of the mail a report returns (the first one found). */
static int returned(struct walk *w, GMimeMessage *msg)
{
    const char *id = msg ? g_mime_message_get_message_id(msg) : NULL;
    if (!id || !*id || w->returned_id)
        return 0;
    w->returned_id = clean_line(id);
    return w->returned_id ? 0 : VT_ENOMEM;
}

/* A leaf inside a report after its first part: only the returned headers
 * matter (text/rfc822-headers and its unofficial spellings). */
static int report_leaf(struct walk *w, GMimeObject *o, int flags)
{
    GByteArray *ba = NULL;
    int rc = 0;
    if (!(flags & TOP) || w->returned_id ||
        !(is_type(o, "text", "rfc822-headers") || is_type(o, "message", "rfc822-headers") ||
          is_type(o, "message", "global-headers") || is_type(o, "message", "global") ||
          is_type(o, "message", "rfc822")))
        return 0;
    GMimeStream *ms = content_of(GMIME_PART(o), &ba);
    if (ba && ba->len) {
        GMimeMessage *msg = parse_bytes((const char *)ba->data, ba->len, w->opt);
        rc = returned(w, msg);
        if (msg)
            g_object_unref(msg);
    }
    if (ms)
        g_object_unref(ms);
    return rc;
}

/* Undoes format=flowed (RFC 3676 section 4.2) in b, whose line ends are LF:
 * a line ending in a space goes on in the next one of the same quote depth;
 * space-stuffing is removed; quotes are written "> ". */
static int unflow(struct vt_buf *b, bool delsp)
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

static int leaf(struct walk *w, struct text *t, GMimeObject *o, int flags)
{
    GByteArray *ba = NULL;
    GMimeStream *ms = NULL;
    struct vt_buf part = {0};
    int rc = 0;
    if (flags & IN_REPORT)
        return report_leaf(w, o, flags);
    const char *disp = g_mime_object_get_disposition(o);
    const char *filename = g_mime_part_get_filename(GMIME_PART(o));
    bool attachment = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
    bool plain = is_type(o, "text", "plain"), html = is_type(o, "text", "html");
    if (!(plain || html) || attachment || (filename && *filename))
        return add_part(w, o, disp, filename);
    if (!(flags & (plain ? WANT_PLAIN : WANT_HTML)))
        return 0; /* the other version of a multipart/alternative */
    struct vt_buf *b = plain ? &t->plain : &t->html;
    plain ? t->n_plain++ : t->n_html++;
    if (plain && b->len > w->max_text)
        return 0; /* more would be cut anyway */
    ms = content_of(GMIME_PART(o), &ba);
    if (!ba || !ba->len)
        goto fail;
    const char *charset = g_mime_object_get_content_type_parameter(o, "charset");
    if ((rc = append_charset(&part, (const char *)ba->data, ba->len, charset)))
        goto fail;
    normalize_lines(&part);
    const char *format = g_mime_object_get_content_type_parameter(o, "format");
    if (plain && format && g_ascii_strcasecmp(format, "flowed") == 0) {
        const char *delsp = g_mime_object_get_content_type_parameter(o, "delsp");
        if ((rc = unflow(&part, delsp && g_ascii_strcasecmp(delsp, "yes") == 0)))
            goto fail;
    }
    /* A part after another (Apple Mail splits text around images). */
    if (b->len && (rc = vt_buf_puts(b, plain ? "\n" : "<br>")))
        goto fail;
    rc = vt_buf_append(b, part.data ? part.data : "", part.len);
fail:
    vt_buf_cleanup(&part);
    if (ms)
        g_object_unref(ms);
    return rc;
}

static int walk_multipart(struct walk *w, struct text *t, GMimeObject *o, int flags, int depth)
{
    GMimeMultipart *mp = GMIME_MULTIPART(o);
    int n = g_mime_multipart_get_count(mp), rc = 0;
    bool alt = is_type(o, "multipart", "alternative"), report = is_type(o, "multipart", "report");
    if (is_type(o, "multipart", "signed") && n > 1)
        n = 1; /* the signature is no attachment anyone wants */
    if (report && (flags & TOP) && !(flags & IN_REPORT)) {
        const char *rt = g_mime_object_get_content_type_parameter(o, "report-type");
        w->dsn |= rt && g_ascii_strcasecmp(rt, "delivery-status") == 0;
        w->mdn |= rt && g_ascii_strcasecmp(rt, "disposition-notification") == 0;
    }
    for (int i = 0; i < n && !rc; i++) {
        unsigned np = t->n_plain, nh = t->n_html;
        rc = walk(w, t, g_mime_multipart_get_part(mp, i), flags | (report && i > 0 ? IN_REPORT : 0),
                  depth + 1);
        /* One plain and one HTML version per alternative: the first of each. */
        if (alt && t->n_plain != np)
            flags &= ~WANT_PLAIN;
        if (alt && t->n_html != nh)
            flags &= ~WANT_HTML;
    }
    return rc;
}

static int message_text(struct walk *w, GMimeMessage *msg, struct vt_buf *out, bool *from_html,
                        int flags, int depth);

/* A forwarded mail: its text, under a line and its From, Subject and Date,
 * goes after the body; its attachments join the parts. */
static int forwarded(struct walk *w, struct text *t, GMimeMessage *msg, int flags, int depth)
{
    struct vt_buf body = {0};
    char *from = NULL, *subject = NULL, *date = NULL;
    bool html = false;
    int rc = message_text(w, msg, &body, &html, flags & ~TOP, depth + 1);
    if (rc)
        goto fail;
    from = address_text(GMIME_OBJECT(msg), "From", w->opt);
    subject = decoded_header(GMIME_OBJECT(msg), "Subject", w->opt);
    date = decoded_header(GMIME_OBJECT(msg), "Date", w->opt);
    if (!from || !subject || !date) {
        rc = VT_ENOMEM;
        goto fail;
    }
    if (t->fwd.len && (rc = vt_buf_puts(&t->fwd, "\n\n")))
        goto fail;
    if ((rc = vt_buf_puts(&t->fwd, FORWARD_LINE "\n")) ||
        (*from && (rc = vt_buf_printf(&t->fwd, "De: %s\n", from))) ||
        (*subject && (rc = vt_buf_printf(&t->fwd, "Asunto: %s\n", subject))) ||
        (*date && (rc = vt_buf_printf(&t->fwd, "Fecha: %s\n", date))))
        goto fail;
    if (body.len && (rc = vt_buf_printf(&t->fwd, "\n%s", body.data)))
        goto fail;
fail:
    free(date);
    free(subject);
    free(from);
    vt_buf_cleanup(&body);
    return rc;
}

static int walk(struct walk *w, struct text *t, GMimeObject *o, int flags, int depth)
{
    if (!o || depth > MAX_DEPTH || ++w->nodes > MAX_NODES)
        return 0;
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (!inner)
            return 0;
        if (flags & IN_REPORT)
            return flags & TOP ? returned(w, inner) : 0;
        return forwarded(w, t, inner, flags, depth);
    }
    if (GMIME_IS_MULTIPART(o))
        return walk_multipart(w, t, o, flags, depth);
    if (GMIME_IS_PART(o))
        return leaf(w, t, o, flags);
    return 0;
}

/* Sets out to the readable text of msg: its plain text (or its HTML as text
 * when the plain text is missing or blank), then the mails it forwards. */
static int message_text(struct walk *w, GMimeMessage *msg, struct vt_buf *out, bool *from_html,
                        int flags, int depth)
{
    struct text t = {0};
    int rc = walk(w, &t, g_mime_message_get_mime_part(msg), flags | WANT_PLAIN | WANT_HTML, depth);
    if (rc)
        goto fail;
    normalize_lines(&t.plain);
    *from_html = false;
    if (t.n_plain && !is_blank(&t.plain)) {
        rc = vt_buf_append(out, t.plain.data, t.plain.len);
    } else if (t.n_html) {
        struct vt_buf h = {0};
        normalize_lines(&t.html);
        rc = vt_html_to_text(&h, t.html.data ? t.html.data : "", t.html.len);
        if (!rc)
            rc = vt_buf_append(out, h.data, h.len);
        vt_buf_cleanup(&h);
        *from_html = true;
    }
    if (rc)
        goto fail;
    trim_text(out);
    if (t.fwd.len && out->len && (rc = vt_buf_puts(out, "\n\n")))
        goto fail;
    rc = vt_buf_append(out, t.fwd.data ? t.fwd.data : "", t.fwd.len);
fail:
    vt_buf_cleanup(&t.fwd);
    vt_buf_cleanup(&t.html);
    vt_buf_cleanup(&t.plain);
    return rc;
}

/* ---- automatic mail ---- */

static bool subject_says_auto(const char *subject)
{
    static const char *const prefixes[] = {
        "respuesta automatica", "fuera de la oficina", "out of office",
        "automatic reply",      "autoreply",           "auto-reply",
        "auto reply",           "reponse automatique", "resposta automatica",
        "automatische antwort",
    };
    char folded[64];
    while (*subject == ' ' || *subject == '[' || *subject == '(' || *subject == '*')
        subject++;
    vt_fold_es(subject, folded, sizeof(folded));
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(folded, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static enum vt_mail_auto classify(GMimeObject *o, const struct vt_mail *m, const struct walk *w)
{
    char tok[32];
    const char *at = strchr(m->from_addr, '@');
    size_t local = at ? (size_t)(at - m->from_addr) : strlen(m->from_addr);
    if (w->dsn || (local == 13 && g_ascii_strncasecmp(m->from_addr, "mailer-daemon", 13) == 0) ||
        (local == 10 && g_ascii_strncasecmp(m->from_addr, "postmaster", 10) == 0))
        return VT_MAIL_BOUNCE;
    char *rp = raw_header(o, "Return-Path");
    if (rp) {
        char *v = g_strstrip(rp);
        bool null_path = *v == '\0' || strcmp(v, "<>") == 0;
        g_free(rp);
        if (null_path && !m->from_addr[0])
            return VT_MAIL_BOUNCE;
    }
    /* X-Auto-Response-Suppress is not among them: it asks others not to reply. */
    header_token(o, "Precedence", tok, sizeof(tok));
    if (header_yes(o, "Auto-Submitted") || header_yes(o, "X-Autoreply") ||
        header_yes(o, "X-Autorespond") || strcmp(tok, "auto_reply") == 0 || w->mdn ||
        subject_says_auto(m->subject))
        return VT_MAIL_AUTO_REPLY;
    if (strcmp(tok, "bulk") == 0 || strcmp(tok, "junk") == 0 || strcmp(tok, "list") == 0 ||
        has_header(o, "List-Id") || has_header(o, "List-Unsubscribe"))
        return VT_MAIL_BULK;
    return VT_MAIL_HUMAN;
}

/* A bounce that is no DSN may still quote the returned headers in its text. */
static char *message_id_in_text(const char *text)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *q = p;
        while (*q == ' ' || *q == '>')
            q++;
        if (g_ascii_strncasecmp(q, "message-id:", 11) != 0)
            continue;
        const char *lt = strchr(q, '<'), *nl = strchr(q, '\n');
        if (!lt || (nl && lt > nl))
            continue;
        char *id = g_mime_utils_decode_message_id(lt);
        char *res = id && *id ? clean_line(id) : NULL;
        g_free(id);
        if (res)
            return res;
    }
    return NULL;
}

static int bounced_id(struct vt_mail *m, struct walk *w)
{
    char *id = NULL;
    if (m->automatic != VT_MAIL_BOUNCE)
        return (m->bounced_message_id = strdup("")) ? 0 : VT_ENOMEM;
    if (w->returned_id) {
        id = w->returned_id;
        w->returned_id = NULL;
    } else if (m->in_reply_to[0]) {
        id = strdup(m->in_reply_to);
    } else if (m->n_references) {
        id = strdup(m->references[m->n_references - 1]);
    } else {
        id = message_id_in_text(m->text);
        id = id ? id : strdup("");
    }
    m->bounced_message_id = id;
    return id ? 0 : VT_ENOMEM;
}

/* ---- the mail ---- */

int vt_mime_parse(const char *raw, size_t len, size_t max_parts, size_t max_part_bytes,
                  size_t max_text_bytes, struct vt_mail *out, size_t *dropped)
{
    static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
    GMimeParserOptions *opt = NULL;
    GMimeMessage *msg = NULL;
    struct walk w = {0};
    struct vt_buf text = {0};
    int rc = VT_EINVAL;
    memset(out, 0, sizeof(*out));
    if (dropped)
        *dropped = 0;
    if (!raw)
        return VT_EINVAL;
    /* A byte order mark or blank lines before the headers are no reason to
     * lose a mail. */
    if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0) {
        raw += 3;
        len -= 3;
    }
    while (len && (*raw == '\n' || *raw == '\r')) {
        raw++;
        len--;
    }
    if (len == 0)
        return VT_EINVAL;
    vt_mime_init(); /* in case the caller forgot; pthread_once makes it cheap */
    opt = g_mime_parser_options_new();
    g_mime_parser_options_set_fallback_charsets(opt, fallback);
    msg = parse_bytes(raw, len, opt);
    if (!msg)
        goto fail;
    /* Content-* headers belong to the body part, not to the message. */
    GMimeObject *o = GMIME_OBJECT(msg), *body = g_mime_message_get_mime_part(msg);
    if (g_mime_header_list_get_count(g_mime_object_get_header_list(o)) == 0 &&
        (!body || g_mime_header_list_get_count(g_mime_object_get_header_list(body)) == 0))
        goto fail;

    rc = VT_ENOMEM;
    if (mailbox_header(o, "From", opt, &out->from_addr, &out->from_name) ||
        mailbox_header(o, "Reply-To", opt, &out->reply_to, NULL) ||
        !(out->to = address_text(o, "To", opt)) ||
        !(out->subject = decoded_header(o, "Subject", opt)))
        goto fail;
    const char *mid = g_mime_message_get_message_id(msg);
    char *irt = raw_header(o, "In-Reply-To");
    out->message_id = clean_line(mid ? mid : "");
    int irt_rc = take_message_id(irt, &out->in_reply_to);
    g_free(irt);
    if (!out->message_id || irt_rc || take_references(out, o, opt))
        goto fail;
    GDateTime *date = g_mime_message_get_date(msg);
    if (date) {
        gint64 s = g_date_time_to_unix(date);
        out->date_ms = s > 0 ? s * 1000 + g_date_time_get_microsecond(date) / 1000 : 0;
    }

    w.opt = opt;
    w.m = out;
    w.max_parts = max_parts;
    w.max_part_bytes = max_part_bytes;
    w.max_text = max_text_bytes;
    if ((rc = message_text(&w, msg, &text, &out->text_from_html, TOP, 0)))
        goto fail;
    text.len = cut_utf8(text.data ? text.data : "", text.len, max_text_bytes);
    if (text.data)
        text.data[text.len] = '\0';
    out->text = text.data ? vt_buf_steal(&text, NULL) : strdup("");
    if (!out->text) {
        rc = VT_ENOMEM;
        goto fail;
    }
    out->automatic = classify(o, out, &w);
    if ((rc = bounced_id(out, &w)))
        goto fail;
    if (dropped)
        *dropped = w.dropped;
    rc = 0;
fail:
    free(w.returned_id);
    vt_buf_cleanup(&text);
    if (msg)
        g_object_unref(msg);
    if (opt)
        g_mime_parser_options_free(opt);
    if (rc)
        vt_mail_cleanup(out);
    return rc;
}

void vt_mail_cleanup(struct vt_mail *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_parts; i++) {
        free(m->parts[i].filename);
        free(m->parts[i].content_type);
        free(m->parts[i].data);
    }
    free(m->parts);
    for (size_t i = 0; i < m->n_references; i++)
        free(m->references[i]);
    free(m->references);
    free(m->from_addr);
    free(m->from_name);
    free(m->reply_to);
    free(m->to);
    free(m->subject);
    free(m->message_id);
    free(m->in_reply_to);
    free(m->text);
    free(m->bounced_message_id);
    memset(m, 0, sizeof(*m));
}

/* ---- radicados ---- */

/* A byte that continues a token: a radicado must not touch one. */
static bool token_byte(unsigned char c)
{
    return g_ascii_isalnum((char)c) || c == '-' || c == '_' || c >= 0x80;
}

bool vt_mime_find_radicado(const char *subject, const char *prefix, char *out, size_t outlen)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (!subject)
        return false;
    for (const char *p = subject; *p; p++) {
        if (p > subject && token_byte((unsigned char)p[-1]))
            continue;
        const char *q = p;
        if (plen) {
            if (g_ascii_strncasecmp(q, prefix, plen) != 0 || q[plen] != '-')
                continue;
            q += plen + 1;
        }
        /* YYYY-NNNN+, the year 2000..2099, the counter four digits or more. */
        if (q[0] != '2' || q[1] != '0' || !g_ascii_isdigit(q[2]) || !g_ascii_isdigit(q[3]) ||
            q[4] != '-')
            continue;
        size_t digits = 0;
        while (g_ascii_isdigit(q[5 + digits]))
            digits++;
        if (digits < 4 || token_byte((unsigned char)q[5 + digits]))
            continue;
        size_t need = (plen ? plen + 1 : 0) + 5 + digits;
        if (!out || need >= outlen)
            return false;
        for (size_t i = 0; i < plen; i++)
            out[i] = g_ascii_toupper(prefix[i]);
        if (plen)
            out[plen] = '-';
        memcpy(out + (plen ? plen + 1 : 0), q, 5 + digits);
        out[need] = '\0';
        return true;
    }
    return false;
}
