/* sessions.h - the SQL of staff sessions: table staff_sessions (migration
 * 0014), one row per session, keyed by the BLAKE2b-256 hash of the random
 * token in its cookie.
 *
 * Owns: the reads and writes of staff_sessions. Every instance on one
 * database reads the same rows, so a session opened on one works on all of
 * them, and a logout or a password change on one ends it on all at once.
 * Must not: know HTTP, cookies, CSRF tokens or the expiry rules (api/auth.c
 * decides what a row means and hands this module the instants); ever see a
 * cookie's token (only its hash comes in).
 *
 * A row's life (the function behind each change):
 *
 *   (login) --vt_sessions_open--> row (epoch = the account's, created = last)
 *   row --request, last_used_at older than auth's touch interval--> vt_sessions_touch
 *   row --password changed by its owner--> vt_sessions_password_changed (this
 *        one takes the new epoch; the account's others are deleted)
 *   row --logout | found expired or its account's epoch moved on--> vt_sessions_close
 *   row --expired, or account disabled/epoch moved (minute sweep)--> vt_sessions_sweep
 *
 * Threads: vt_sessions_find on the reader's thread; the rest inside a store
 * job (writer thread).
 */
#ifndef VT_SESSIONS_H
#define VT_SESSIONS_H
#include <stdint.h>

#include "domain/staff.h"
#include "store/store.h"

#define VT_SESSION_KEY_BYTES 32

/* A session as its row has it. */
struct vt_session {
    unsigned char key[VT_SESSION_KEY_BYTES]; /* BLAKE2b-256 of the cookie's token */
    int64_t user_id;
    int64_t epoch;   /* the account's session_epoch when it was opened */
    int64_t created; /* Unix ms */
    int64_t last;    /* Unix ms: the last use written (at most auth's touch interval old) */
};

/* Reader's thread: the session keyed key into *s and, in the same read, the
 * staff member of its account into *who. 0 when the account still admits
 * the session (it exists, is enabled, has a known role and the session's
 * epoch is its current one: the rule of vt_accounts_staff); VT_ESTATE when
 * the row exists but the account no longer admits it (*s filled, *who not);
 * VT_ENOTFOUND when there is no such session; VT_ESTORE. */
int vt_sessions_find(struct vt_store_reader *r, const unsigned char key[VT_SESSION_KEY_BYTES],
                     struct vt_session *s, struct vt_staff *who);

/* Writer thread: stores session s. When the table already holds max rows,
 * the expired ones (last use before idle_before, or opened before
 * created_before) go first, then the least recently used, so that it never
 * holds more than max. 0 or VT_E*. */
int vt_sessions_open(struct vt_store_tx *tx, const struct vt_session *s, int64_t max,
                     int64_t idle_before, int64_t created_before);

/* Writer thread: the session keyed key was used at now; written only when
 * its last use on record is at least interval ms older (two instances, or
 * two requests, touching it in the same interval write once). 0 or VT_E*. */
int vt_sessions_touch(struct vt_store_tx *tx, const unsigned char key[VT_SESSION_KEY_BYTES],
                      int64_t now, int64_t interval);

/* Writer thread: deletes the session keyed key (logout, or found ended). 0,
 * also when there was none, or VT_E*. */
int vt_sessions_close(struct vt_store_tx *tx, const unsigned char key[VT_SESSION_KEY_BYTES]);

/* Writer thread: account user_id's owner changed its password, its epoch is
 * now epoch: the session keyed keep (the one that made the change; NULL for
 * none) goes on under it, every other session of the account is deleted.
 * 0 or VT_E*. */
int vt_sessions_password_changed(struct vt_store_tx *tx, int64_t user_id, const unsigned char *keep,
                                 int64_t epoch);

/* Writer thread: deletes every session last used before idle_before or
 * opened before created_before, and every session its account no longer
 * admits (gone, disabled, epoch moved on). The number deleted into *n (may
 * be NULL). 0 or VT_E*. */
int vt_sessions_sweep(struct vt_store_tx *tx, int64_t idle_before, int64_t created_before,
                      int64_t *n);

#endif
