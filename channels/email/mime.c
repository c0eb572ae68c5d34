/* mime.c - an inbound email read with GMime 3 (mime.h): the MIME tree, its
 * text and parts, the signs of automatic mail, and radicados in subjects.
 *
 * What it owns: every string and buffer it puts in a struct vt_mail, each
 * malloc'd on its own and freed by vt_mail_cleanup. GMime objects live only
 * inside one call of vt_mime_parse and are unreferenced before it returns.
 *
 * How a message is read:
 *   1. GMime parses the bytes from a memory stream; a message without a
 *      single header is the only refusal (VT_EINVAL).
 *   2. Headers are taken raw and decoded by mime_header.c: encoded words
 *      declared UTF-8 whose bytes are not UTF-8 are declared Windows-1252
 *      again before GMime decodes them, and a decoded value that is UTF-8
 *      read as Latin-1 ("SeÃ±or") is read again as UTF-8 (mime_text.c).
 *   3. The MIME tree is walked once (walk): text/plain and text/html leaves
 *      that are not attachments feed the text (converted to UTF-8, CRLF to
 *      LF, format=flowed undone: mime_text.c), one of each per
 *      multipart/alternative, the HTML read only when there is no plain
 *      text (vt_html_to_text); every other leaf is an attachment or an
 *      inline image (add_part);
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

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/html.h"
#include "channels/email/mime_header.h"
#include "channels/email/mime_text.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/text.h"

#define MAX_DEPTH 12   /* nested multiparts and forwarded mails */
#define MAX_NODES 4096 /* MIME objects visited in one message */
#define MAX_FILENAME_BYTES 200
#define FORWARD_LINE "---------- Mensaje reenviado ----------"

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
    if (vt_mime_text_repair(&b, base, strlen(base)))
        goto fail;
    vt_mime_text_unmojibake(&b);
    const unsigned char *s = (const unsigned char *)b.data;
    size_t j = 0;
    for (size_t i = 0; i < b.len;) {
        size_t k = vt_mime_text_seq_len(s + i, b.len - i);
        k = k ? k : 1; /* b is valid UTF-8 after vt_mime_text_repair */
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
        size_t stem = vt_mime_text_cut(b.data, b.len - ext, MAX_FILENAME_BYTES - ext);
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
    p->content_type = vt_mime_text_lower_clean(type ? type : "application/octet-stream");
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
    w->returned_id = vt_mime_text_clean_line(id);
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
    if ((rc = vt_mime_text_append(&part, (const char *)ba->data, ba->len, charset)))
        goto fail;
    vt_mime_text_normalize_lines(&part);
    const char *format = g_mime_object_get_content_type_parameter(o, "format");
    if (plain && format && g_ascii_strcasecmp(format, "flowed") == 0) {
        const char *delsp = g_mime_object_get_content_type_parameter(o, "delsp");
        if ((rc = vt_mime_text_unflow(&part, delsp && g_ascii_strcasecmp(delsp, "yes") == 0)))
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
    from = vt_mime_header_addresses(GMIME_OBJECT(msg), "From", w->opt);
    subject = vt_mime_header_decoded(GMIME_OBJECT(msg), "Subject", w->opt);
    date = vt_mime_header_decoded(GMIME_OBJECT(msg), "Date", w->opt);
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
    vt_mime_text_normalize_lines(&t.plain);
    *from_html = false;
    if (t.n_plain && !vt_mime_text_is_blank(&t.plain)) {
        rc = vt_buf_append(out, t.plain.data, t.plain.len);
    } else if (t.n_html) {
        struct vt_buf h = {0};
        vt_mime_text_normalize_lines(&t.html);
        rc = vt_html_to_text(&h, t.html.data ? t.html.data : "", t.html.len);
        if (!rc)
            rc = vt_buf_append(out, h.data, h.len);
        vt_buf_cleanup(&h);
        *from_html = true;
    }
    if (rc)
        goto fail;
    vt_mime_text_trim(out);
    if (t.fwd.len && out->len && (rc = vt_buf_puts(out, "\n\n")))
        goto fail;
    rc = vt_buf_append(out, t.fwd.data ? t.fwd.data : "", t.fwd.len);
fail:
    vt_buf_cleanup(&t.fwd);
    vt_buf_cleanup(&t.html);
    vt_buf_cleanup(&t.plain);
    return rc;
}

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
    char *rp = vt_mime_header_raw(o, "Return-Path");
    if (rp) {
        char *v = g_strstrip(rp);
        bool null_path = *v == '\0' || strcmp(v, "<>") == 0;
        g_free(rp);
        if (null_path && !m->from_addr[0])
            return VT_MAIL_BOUNCE;
    }
    /* X-Auto-Response-Suppress is not among them: it asks others not to reply. */
    vt_mime_header_token(o, "Precedence", tok, sizeof(tok));
    if (vt_mime_header_yes(o, "Auto-Submitted") || vt_mime_header_yes(o, "X-Autoreply") ||
        vt_mime_header_yes(o, "X-Autorespond") || strcmp(tok, "auto_reply") == 0 || w->mdn ||
        subject_says_auto(m->subject))
        return VT_MAIL_AUTO_REPLY;
    if (strcmp(tok, "bulk") == 0 || strcmp(tok, "junk") == 0 || strcmp(tok, "list") == 0 ||
        vt_mime_header_has(o, "List-Id") || vt_mime_header_has(o, "List-Unsubscribe"))
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
        char *res = id && *id ? vt_mime_text_clean_line(id) : NULL;
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
    if (vt_mime_header_mailbox(o, "From", opt, &out->from_addr, &out->from_name) ||
        vt_mime_header_mailbox(o, "Reply-To", opt, &out->reply_to, NULL) ||
        !(out->to = vt_mime_header_addresses(o, "To", opt)) ||
        !(out->subject = vt_mime_header_decoded(o, "Subject", opt)))
        goto fail;
    const char *mid = g_mime_message_get_message_id(msg);
    char *irt = vt_mime_header_raw(o, "In-Reply-To");
    out->message_id = vt_mime_text_clean_line(mid ? mid : "");
    int irt_rc = vt_mime_header_message_id(irt, &out->in_reply_to);
    g_free(irt);
    if (!out->message_id || irt_rc ||
        vt_mime_header_references(o, opt, &out->references, &out->n_references))
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
    text.len = vt_mime_text_cut(text.data ? text.data : "", text.len, max_text_bytes);
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
