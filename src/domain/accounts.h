/* accounts.h - the SQL of signing in: an account's password hash and session
 * epoch, read to check a login or a session; the password its owner changes;
 * and the audit events of sign-in (a login, a password change, throttling).
 *
 * Owns: the reads and writes of the users table that api/auth.c needs
 * (users.c owns creating and administering accounts, and the hashes' rules).
 * Must not: keep or log a password or hash beyond the call; know HTTP,
 * cookies or sessions (auth.c does).
 *
 * The session epoch: every change that must end an account's sessions (a new
 * password, disabling) adds one to users.session_epoch; a session remembers
 * the epoch it was opened under and ends when they differ.
 */
#ifndef VT_ACCOUNTS_H
#define VT_ACCOUNTS_H
#include <stdbool.h>
#include <stdint.h>

#include "domain/staff.h"
#include "store/store.h"

/* An account's password hash, as a login check reads it. */
struct vt_account_hash {
    int64_t id;
    char username[65];
    char hash[128]; /* Argon2id string (crypto_pwhash_STRBYTES); wipe it after use */
    bool disabled;
    int64_t epoch; /* session_epoch read with the hash */
};

/* Reader's thread: the hash of the account called username, or of the
 * account id. 0, VT_ENOTFOUND (no such account) or VT_ESTORE. */
int vt_accounts_hash_by_name(struct vt_store_reader *r, const char *username,
                             struct vt_account_hash *out);
int vt_accounts_hash_by_id(struct vt_store_reader *r, int64_t id, struct vt_account_hash *out);

/* Reader's thread: the staff member of account id for a session opened under
 * epoch. 0; VT_ENOTFOUND when the account is gone or disabled, has a role
 * this build does not know, or its epoch moved on (the password changed
 * since, maybe by `ventanilla user passwd` in another process); VT_ESTORE. */
int vt_accounts_staff(struct vt_store_reader *r, int64_t id, int64_t epoch, struct vt_staff *out);

/* Writer thread: username signed in (its audit event). 0 or VT_E*. */
int vt_accounts_signed_in(struct vt_store_tx *tx, const char *username);

/* Writer thread: the owner of account id changed its password to hash (an
 * Argon2id string), which ends its other sessions: only if nothing changed
 * the account since its current password was checked under *epoch, which
 * becomes the new epoch. Audited. 0, VT_ENOTFOUND (the account changed
 * meanwhile, or is gone: nothing written), or VT_E*. */
int vt_accounts_set_password(struct vt_store_tx *tx, int64_t id, const char *username,
                             const char *hash, int64_t *epoch);

/* Writer thread: failed sign-ins on username began to be delayed, from one
 * address (scope "address") or from every address (scope "account"), after
 * failures of them (its audit event). 0 or VT_E*. */
int vt_accounts_throttled(struct vt_store_tx *tx, const char *username, const char *scope,
                          int failures);

#endif
