/* accounts.c - the SQL of signing in (accounts.h). */
#include "domain/accounts.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/roles.h"
#include "store/db.h"

_Static_assert(sizeof(((struct vt_account_hash *)0)->hash) == crypto_pwhash_STRBYTES,
               "an Argon2id string fits the account's hash");

static const char SQL_HASH_BY_NAME[] =
    "SELECT id, password_hash, disabled, session_epoch, username FROM users WHERE username = ?1";
static const char SQL_HASH_BY_ID[] =
    "SELECT id, password_hash, disabled, session_epoch, username FROM users WHERE id = ?1";

static int read_hash(struct vt_db_stmt *st, struct vt_account_hash *out)
{
    memset(out, 0, sizeof(*out));
    int r = vt_db_step(st);
    if (r == VT_DB_ROW) {
        out->id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, out->hash, sizeof(out->hash));
        out->disabled = vt_db_col_int(st, 2) != 0;
        out->epoch = vt_db_col_int(st, 3);
        vt_db_col_copy(st, 4, out->username, sizeof(out->username));
    }
    vt_db_reset(st);
    return r == VT_DB_ROW ? 0 : r == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
}

int vt_accounts_hash_by_name(struct vt_store_reader *r, const char *username,
                             struct vt_account_hash *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_HASH_BY_NAME);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, username);
    return read_hash(st, out);
}

int vt_accounts_hash_by_id(struct vt_store_reader *r, int64_t id, struct vt_account_hash *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_HASH_BY_ID);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    return read_hash(st, out);
}

static const char SQL_STAFF[] =
    "SELECT username, role, COALESCE(dependencia, ''), disabled, must_change, session_epoch "
    "FROM users WHERE id = ?1";

int vt_accounts_staff(struct vt_store_reader *r, int64_t id, int64_t epoch, struct vt_staff *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_STAFF);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    int s = vt_db_step(st), rc = s == VT_DB_ROW || s == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
    if (s == VT_DB_ROW && vt_db_col_int(st, 3) == 0 && vt_db_col_int(st, 5) == epoch) {
        int role = vt_role_of(vt_db_col_str(st, 1));
        if (role >= 0) {
            memset(out, 0, sizeof(*out));
            out->id = id;
            vt_db_col_copy(st, 0, out->username, sizeof(out->username));
            out->role = (enum vt_role)role;
            vt_db_col_copy(st, 2, out->dependencia, sizeof(out->dependencia));
            out->must_change = vt_db_col_int(st, 4) != 0;
            rc = 0;
        }
    }
    vt_db_reset(st);
    return rc;
}

/* The actor and payload of username's own sign-in events. The username is
 * an account's, which users.c keeps to [a-z0-9._-]. */
static int own_event(struct vt_store_tx *tx, const char *username, const char *action)
{
    char actor[80], payload[128];
    snprintf(actor, sizeof(actor), "staff:%s", username);
    snprintf(payload, sizeof(payload), "{\"username\":\"%s\"}", username);
    return vt_store_tx_event(tx, 0, actor, action, payload, 0);
}

int vt_accounts_signed_in(struct vt_store_tx *tx, const char *username)
{
    return own_event(tx, username, "sesion_iniciada");
}

/* A password changed by its owner ends the owner's other sessions, in the
 * daemon (auth.c) and wherever the epoch is checked. Only if nothing changed
 * the account since its current password was checked (?4: the epoch read
 * with the hash), so an administrator's `user passwd` in between wins. */
static const char SQL_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?2, must_change = 0, session_epoch = session_epoch + 1, "
    "updated_at = ?3 WHERE id = ?1 AND session_epoch = ?4 RETURNING session_epoch";

int vt_accounts_set_password(struct vt_store_tx *tx, int64_t id, const char *username,
                             const char *hash, int64_t *epoch)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SET_PASSWORD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, hash);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    vt_db_bind_int(st, 4, *epoch);
    int r = vt_db_step(st);
    if (r == VT_DB_ROW)
        *epoch = vt_db_col_int(st, 0);
    vt_db_reset(st);
    if (r != VT_DB_ROW)
        return r == VT_DB_DONE ? VT_ENOTFOUND : r;
    return own_event(tx, username, "clave_cambiada");
}

int vt_accounts_throttled(struct vt_store_tx *tx, const char *username, const char *scope,
                          int failures)
{
    char payload[160];
    snprintf(payload, sizeof(payload), "{\"username\":\"%s\",\"scope\":\"%s\",\"failures\":%d}",
             username, scope, failures);
    return vt_store_tx_event(tx, 0, "sistema", "ingreso_frenado", payload, 0);
}
