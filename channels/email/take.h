/* take.h - what becomes of one inbound email, decided and applied inside one
 * store job (writer thread), together with the mailbox's new position.
 *
 * Owns: the outcomes and their order of precedence:
 *   1. already taken in (same UID, or same Message-ID after a UIDVALIDITY
 *      change)                                   -> duplicate (nothing else)
 *      expunged before it could be fetched (mail NULL) -> vanished
 *   2. from our own sending address              -> ignored_own
 *   3. a bounce or DSN                           -> bounce (our message marked failed)
 *   4. auto-reply, out of office, lists, no sender -> ignored_auto / ignored_bulk
 *   5. In-Reply-To/References naming a Message-ID of an item, or the
 *      item's radicado in the subject from its requester -> threaded
 *   6. anything else                             -> filed (a new item and its
 *                                                   acknowledgement in the outbox)
 * Must not: touch the network; attachment files are written by the poller
 * before the job, so the job only links them.
 */
#ifndef VT_MAIL_TAKE_H
#define VT_MAIL_TAKE_H
#include <stdint.h>

#include "channels/email/mime.h"
#include "core/config.h"
#include "core/item.h"
#include "store/store.h"

struct vt_mail_take {
    const struct vt_config *cfg;
    struct vt_app *srv; /* for casework (a reply resumes a paused item); NULL in tests */
    const char *mailbox;
    int64_t uidvalidity, uid;
    const struct vt_mail *mail; /* NULL: the message vanished before its fetch */
    const char *dedup_key;
    /* Attachments to link, already durable (data borrowed, sha256 set). */
    struct vt_attachment *att;
    size_t n_att;
    size_t refused; /* attachments dropped for size, count or type */
    /* Filled by the job. */
    const char *outcome;
    struct vt_item *item; /* a filed item, freed by vt_mail_take_cleanup */
    int64_t item_id;
};

/* The item an email files, before classification and the store: type from
 * the subject's tag or keywords (else peticion/general needing triage),
 * subject and body within the intake limits, the sender as requester,
 * att copied (filenames duplicated, data borrowed). Pure: the fuzzer drives
 * it. 0 and *out (caller frees, also on failure) or VT_ENOMEM. */
int vt_mail_to_item(const struct vt_config *cfg, const struct vt_mail *m,
                    const struct vt_attachment *att, size_t n_att, struct vt_item **out);

/* The job's run callback (ctx is a struct vt_mail_take). */
int vt_mail_take_run(struct vt_store_tx *tx, void *ctx);
void vt_mail_take_cleanup(struct vt_mail_take *t);

/* A new Message-ID of ours ("vt.<random>@<the from address's domain>"). */
void vt_mail_new_message_id(const struct vt_config *cfg, char *out, size_t n);

#endif
