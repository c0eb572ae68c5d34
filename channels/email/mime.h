/* mime.h - an inbound email as Ventanilla reads it, parsed with GMime 3.
 *
 * Owns: the mapping of a raw RFC 5322 message onto struct vt_mail: decoded
 * headers (RFC 2047), the readable text (text/plain, or HTML turned into
 * text), every text converted to UTF-8 (UTF-8, ISO-8859-1, Windows-1252 and
 * whatever charset GMime knows), attachments and inline images as bytes, and
 * the signs that a message is automatic (auto-replies, bounces, lists).
 * Must not: touch the store, the network or the clock; it is pure so the
 * fuzzer can drive it. A malformed message gives whatever can be read, never
 * an error, unless it has no header at all.
 *
 * Made of three files: mime.c (the MIME tree and the mail), mime_header.c
 * (headers decoded) and mime_text.c (text to valid UTF-8).
 *
 * Thread safety: call vt_mime_init() once before threads start; then
 * vt_mime_parse may run on any thread.
 */
#ifndef VT_MIME_H
#define VT_MIME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vt_mail_part {
    char *filename;      /* owned, UTF-8, sanitized (no path); "adjunto" when absent */
    char *content_type;  /* owned, as declared, lowercase "type/subtype" */
    unsigned char *data; /* owned, decoded bytes */
    size_t size;
    bool inline_image; /* Content-Disposition inline image (or cid: referenced) */
};

enum vt_mail_auto {
    VT_MAIL_HUMAN = 0,
    VT_MAIL_AUTO_REPLY, /* Auto-Submitted other than "no", X-Autoreply, X-Autorespond, out of office
                         */
    VT_MAIL_BULK,       /* Precedence bulk/junk/list, List-Id / List-Unsubscribe */
    VT_MAIL_BOUNCE,     /* multipart/report DSN, null or MAILER-DAEMON/postmaster sender */
};

struct vt_mail {
    char *from_addr;   /* owned, lowercase address "ana@example.com", "" when none */
    char *from_name;   /* owned, decoded display name, may be "" */
    char *reply_to;    /* owned, lowercase address or "" */
    char *to;          /* owned, decoded To header as text, may be "" */
    char *subject;     /* owned, decoded, UTF-8, may be "" */
    char *message_id;  /* owned, without angle brackets, "" when absent */
    char *in_reply_to; /* owned, without angle brackets, "" when absent */
    char **references; /* owned array of ids without brackets, oldest first */
    size_t n_references;
    int64_t date_ms; /* Date header in Unix ms, 0 when absent or unreadable */
    char *text;      /* owned, UTF-8 readable body (text/plain preferred, else HTML as text) */
    bool text_from_html;
    struct vt_mail_part *parts; /* owned: attachments and inline images */
    size_t n_parts;
    enum vt_mail_auto automatic;
    /* Bounces: the Message-ID of our message that bounced (from the DSN's
     * returned headers or its In-Reply-To/References), "" when unknown. */
    char *bounced_message_id;
};

/* Once, before threads: initializes GMime. */
void vt_mime_init(void);

/* Parses raw (len bytes). Returns 0 and fills out (free with
 * vt_mail_cleanup), VT_EINVAL when raw is not a message at all (no header),
 * VT_ENOMEM. Limits: at most max_parts parts kept, each at most max_part_bytes
 * (larger ones are dropped and counted in *dropped when not NULL); the text
 * is cut at max_text_bytes on a character boundary. */
int vt_mime_parse(const char *raw, size_t len, size_t max_parts, size_t max_part_bytes,
                  size_t max_text_bytes, struct vt_mail *out, size_t *dropped);
void vt_mail_cleanup(struct vt_mail *m); /* NULL ok */

/* True when "subject" carries a radicado such as "RE: Radicado 2026-000123" or
 * "ABC-2026-000123" (prefix as configured, may be ""); copies it into out. */
bool vt_mime_find_radicado(const char *subject, const char *prefix, char *out, size_t outlen);

#endif
