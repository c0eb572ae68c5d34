/* users.h - staff accounts: creation, password changes and disabling, with
 * Argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * Owns: the SQL of the users table and the rules on usernames, roles and
 * passwords. Every change is an audit event (without the password or hash).
 * Must not: keep or log a password; callers wipe theirs after the call.
 *
 * Roles: agente (triage and answer items of its dependencia), coordinador
 * (everything of its dependencia), gerente (read everything), moderador
 * (hearing questions), admin (users, dependencias, settings).
 */
#ifndef VT_USERS_H
#define VT_USERS_H

#include <stdint.h>

#include "store/store.h"

/* NULL-terminated list of the roles. */
extern const char *const vt_user_roles[];

/* Longest and shortest password accepted, in bytes. */
#define VT_PASSWORD_MIN 12
#define VT_PASSWORD_MAX 512

/* Creates a user. dependencia may be NULL. Returns 0, VT_EEXIST (username
 * taken), VT_EINVAL with why (English) for a bad username, role or password. */
int vt_users_add(struct vt_store *s, const char *username, const char *role,
                 const char *dependencia, const char *password, char *why, size_t whylen);
/* Sets a new password and ends the account's sessions (in a running daemon
 * too, at their next request). 0, VT_ENOTFOUND, VT_EINVAL. */
int vt_users_passwd(struct vt_store *s, const char *username, const char *password, char *why,
                    size_t whylen);
/* Disables the account: it can no longer log in, and its sessions end. 0 or
 * VT_ENOTFOUND. */
int vt_users_disable(struct vt_store *s, const char *username);

/* Checks password's length and writes its Argon2id hash string into out.
 * 0, VT_EINVAL with why (English; why may be NULL), or VT_ENOMEM. */
int vt_users_hash_new(const char *password, char out[128], char *why, size_t whylen);

/* Creates the first admin when no enabled admin exists: username "admin"
 * (or admin2, admin3... when taken) with a random one-time password that must
 * be changed at the first login. Writes both out. 0, VT_EEXIST (an admin
 * exists: nothing done), or VT_E*. */
int vt_users_bootstrap(struct vt_store *s, char *username, size_t ulen, char *password,
                       size_t plen);

/* True when password matches the stored hash (constant time). */
int vt_users_check_hash(const char *hash, const char *password);

/* Reader's thread: calls each(ctx, username, role, dependencia) for every
 * enabled user, of dependencia only when it is not NULL, by username
 * (dependencia NULL for none; the strings live for the call only). 0 or
 * VT_ESTORE. */
int vt_users_list(struct vt_store_reader *r, const char *dependencia,
                  void (*each)(void *ctx, const char *username, const char *role,
                               const char *dependencia),
                  void *ctx);

/* An enabled user as the domain needs it. */
struct vt_user_row {
    int64_t id;
    char role[16];
    char dependencia[101]; /* "" for none */
};
/* Writer thread: the enabled user username. 0, VT_ENOTFOUND or VT_E*. */
int vt_users_find(struct vt_store_tx *tx, const char *username, struct vt_user_row *out);

#endif
