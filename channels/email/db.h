/* db.h - the email channel's tables (migrations/0003_email.sql): mailbox
 * positions, taken-in messages and the Message-IDs that thread replies.
 *
 * Owns: every line of SQL on email_mailboxes, email_messages, email_threads,
 * and the channel's reads of items and requesters.
 * Must not: decide anything (take.c does).
 * Functions taking a struct vt_store_tx run on the writer thread inside a job;
 * those taking a struct vt_store_reader on the reader's thread.
 */
#ifndef VT_MAIL_DB_H
#define VT_MAIL_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The mailbox's UIDVALIDITY and last committed UID; VT_ENOTFOUND if new. */
int vt_mail_db_mailbox_get(struct vt_store_reader *r, const char *name, int64_t *uidvalidity,
                           int64_t *last_uid);
int vt_mail_db_mailbox_put(struct vt_store_tx *tx, const char *name, int64_t uidvalidity,
                           int64_t last_uid);
/* True when (mailbox, uidvalidity, uid) or (mailbox, dedup_key) was taken in. */
int vt_mail_db_taken(struct vt_store_tx *tx, const char *mailbox, int64_t uidvalidity, int64_t uid,
                     const char *dedup_key, bool *taken);
int vt_mail_db_message_add(struct vt_store_tx *tx, const char *mailbox, int64_t uidvalidity,
                           int64_t uid, const char *dedup_key, const char *outcome,
                           int64_t item_id);
/* The item a Message-ID belongs to, 0 when none. */
int64_t vt_mail_db_thread_item(struct vt_store_tx *tx, const char *message_id);
int vt_mail_db_thread_add(struct vt_store_tx *tx, const char *message_id, int64_t item_id,
                          bool ours);
/* The Message-ID of the requester's latest message on item_id into out (""
 * when none). */
void vt_mail_db_last_citizen_message(struct vt_store_tx *tx, int64_t item_id, char *out,
                                     size_t outlen);
/* The radicado of item_id into out ("" when none); reader's thread. */
void vt_mail_db_radicado(struct vt_store_reader *r, int64_t item_id, char *out, size_t outlen);
/* The item with that radicado whose requester email is email; 0 when none. */
int64_t vt_mail_db_item_of(struct vt_store_tx *tx, const char *radicado, const char *email);

#endif
