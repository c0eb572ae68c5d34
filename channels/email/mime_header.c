/* mime_header.c - the headers of an inbound email, decoded (mime_header.h).
 *
 * Headers are taken raw and decoded here, not by GMime's own getters:
 * encoded words declared UTF-8 whose bytes are not UTF-8 are declared
 * Windows-1252 again before GMime decodes them (fix_utf8_words), since
 * GMime would turn those bytes into '?'; the decoded value is then cleaned
 * (vt_mime_text_clean_line), which also undoes UTF-8 read as Latin-1.
 */
#include "channels/email/mime_header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/mime_text.h"
#include "core/error.h"
#include "core/text.h"

#define MAX_REFERENCES 100 /* References kept: the first and the newest */
#define MAX_WORDS 64       /* encoded words checked in one header */

/* The unfolded raw value of the first header called name, NULL when absent.
 * g_free it. */
char *vt_mime_header_raw(GMimeObject *o, const char *name)
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
        x->utf8 = vt_mime_text_charset(charset) == VT_MIME_UTF8 &&
                  g_ascii_strncasecmp(charset, "utf", 3) == 0;
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

/* The decoded, cleaned value of header name; "" when absent. malloc'd, NULL
 * on ENOMEM. */
char *vt_mime_header_decoded(GMimeObject *o, const char *name, GMimeParserOptions *opt)
{
    char *raw = vt_mime_header_raw(o, name), *fixed = raw ? fix_utf8_words(raw) : NULL;
    char *dec = fixed ? g_mime_utils_header_decode_text(opt, fixed) : NULL;
    char *res = vt_mime_text_clean_line(dec ? dec : "");
    g_free(dec);
    g_free(fixed);
    g_free(raw);
    return res;
}

/* The address list of header name, or NULL; unref it. */
static InternetAddressList *address_header(GMimeObject *o, const char *name,
                                           GMimeParserOptions *opt)
{
    char *raw = vt_mime_header_raw(o, name), *fixed = raw ? fix_utf8_words(raw) : NULL;
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

/* Sets *addr (and *name when not NULL) from the first mailbox of header hdr. */
int vt_mime_header_mailbox(GMimeObject *o, const char *hdr, GMimeParserOptions *opt, char **addr,
                           char **name)
{
    InternetAddressList *l = address_header(o, hdr, opt);
    InternetAddressMailbox *mb = first_mailbox(l, 0);
    *addr = vt_mime_text_lower_clean(mb ? internet_address_mailbox_get_addr(mb) : "");
    if (name)
        *name = vt_mime_text_clean_line(mb ? internet_address_get_name(INTERNET_ADDRESS(mb)) : "");
    if (l)
        g_object_unref(l);
    return *addr && (!name || *name) ? 0 : VT_ENOMEM;
}

/* The header's list of addresses as decoded text ("Ana <ana@x.co>, ..."); the
 * decoded header itself when it is not a list GMime can read. */
char *vt_mime_header_addresses(GMimeObject *o, const char *hdr, GMimeParserOptions *opt)
{
    InternetAddressList *l = address_header(o, hdr, opt);
    char *s = l && internet_address_list_length(l) > 0
                  ? internet_address_list_to_string(l, NULL, FALSE)
                  : NULL;
    char *res = s ? vt_mime_text_clean_line(s) : vt_mime_header_decoded(o, hdr, opt);
    g_free(s);
    if (l)
        g_object_unref(l);
    return res;
}

/* The first token of a header value, lowercased ("auto-replied" of
 * "Auto-Replied; owner-email=..."); "" when absent. */
void vt_mime_header_token(GMimeObject *o, const char *name, char *out, size_t outlen)
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

bool vt_mime_header_has(GMimeObject *o, const char *name)
{
    return g_mime_object_get_header(o, name) != NULL;
}

/* Present, and not "no" (Auto-Submitted: no is a person's mail). */
bool vt_mime_header_yes(GMimeObject *o, const char *name)
{
    char tok[8];
    vt_mime_header_token(o, name, tok, sizeof(tok));
    return vt_mime_header_has(o, name) && strcmp(tok, "no") != 0;
}

int vt_mime_header_message_id(const char *raw, char **out)
{
    char *id = raw ? g_mime_utils_decode_message_id(raw) : NULL;
    *out = vt_mime_text_clean_line(id ? id : "");
    g_free(id);
    return *out ? 0 : VT_ENOMEM;
}

int vt_mime_header_references(GMimeObject *o, GMimeParserOptions *opt, char ***ids, size_t *n_ids)
{
    char *raw = vt_mime_header_raw(o, "References");
    GMimeReferences *refs = raw ? g_mime_references_parse(opt, raw) : NULL;
    int n = refs ? g_mime_references_length(refs) : 0, rc = 0;
    size_t keep = (size_t)n < MAX_REFERENCES ? (size_t)n : MAX_REFERENCES;
    if (keep && !((*ids) = calloc(keep, sizeof(char *)))) {
        rc = VT_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < keep; i++) {
        /* The first (the thread's root) and the newest ones. */
        size_t from = i == 0 ? 0 : (size_t)n - keep + i;
        if (!((*ids)[i] =
                  vt_mime_text_clean_line(g_mime_references_get_message_id(refs, (int)from)))) {
            rc = VT_ENOMEM;
            goto fail;
        }
        (*n_ids)++;
    }
fail:
    if (refs)
        g_mime_references_free(refs);
    g_free(raw);
    return rc;
}
