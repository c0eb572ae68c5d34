/* smtp.h - the email channel's outbox transport: composes each message with
 * GMime (Message-ID, In-Reply-To/References, Auto-Submitted, an RFC 2047
 * subject, a UTF-8 text/plain part) and sends it with libcurl.
 *
 * Owns: one curl handle per sender thread (open/close) and the mapping of
 * SMTP replies onto outbox outcomes: 2xx -> sent (the provider id is our
 * Message-ID, so bounces find it), 4xx and connection failures -> retry,
 * 5xx -> refused.
 * Must not: run on the loop thread.
 *
 * The outbox row's body is JSON: {"subject", "text", "message_id",
 * "in_reply_to", "references": [...], "auto_submitted", "attachments":
 * [{"sha256", "filename", "content_type"}]}; rows another channel queued as
 * a fallback carry only "text". An attachment's bytes are read from the
 * store by their SHA-256 when the message is composed (rows queued before
 * attachments were named so carry "path", a file, instead).
 */
#ifndef VT_MAIL_SMTP_H
#define VT_MAIL_SMTP_H

#include "core/config.h"
#include "outbox/outbox.h"

/* Transport callbacks (ctx of open is the struct vt_config). */
void *vt_smtp_open(void *cfg);
void vt_smtp_close(void *t);
void vt_smtp_send(void *t, struct vt_store_reader *reader, const struct vt_outbox_msg *m,
                  struct vt_send_result *res);
void vt_smtp_interrupt(void *t);

/* The message as it goes on the wire (CRLF), for tests and the fuzzer;
 * caller frees. reader: where attachments are read (NULL: a message with
 * one fails). NULL when body is not a JSON object or an attachment cannot
 * be read. */
char *vt_smtp_compose(const struct vt_config *cfg, struct vt_store_reader *reader,
                      const char *recipient, const char *body, const char *radicado,
                      char *message_id, size_t midlen);

#endif
