/* poller.h - one thread per configured mailbox: takes in every message above
 * the last committed UID, exactly once, crash or not.
 *
 * Owns: its thread, its IMAP session (struct vt_imap), its read connection
 * and its content sniffer.
 * Must not: write the database itself (store jobs do) or rely on \Seen.
 *
 * One round, and why it is exactly once:
 *   1. EXAMINE: UIDVALIDITY. A new value (the server renumbered the mailbox)
 *      restarts from UID 0; take.c then skips what it already took by
 *      Message-ID.
 *   2. UID SEARCH above the last committed UID, ascending.
 *   3. For each: FETCH, parse (GMime), write attachment files durably, then
 *      one job records what the message became AND the new last UID. A crash
 *      before the commit refetches it; after, it is never fetched again.
 *   4. After the commit: \Seen, and the optional move to a folder. A crash in
 *      between leaves the flag unset; nothing is filed twice.
 * An unreachable server is retried with exponential backoff and jitter.
 */
#ifndef VT_MAIL_POLLER_H
#define VT_MAIL_POLLER_H

#include "core/config.h"
#include "store/store.h"

struct vt_mail_poller;

struct vt_app;

/* srv may be NULL (no casework hook). */
struct vt_mail_poller *vt_mail_poller_start(struct vt_app *srv, const struct vt_config *cfg,
                                            const struct vt_mailbox_config *mb,
                                            struct vt_store *store);
/* Stops the thread (after the message in hand) and frees; NULL ok. */
void vt_mail_poller_stop(struct vt_mail_poller *p);

#endif
