/* sessions.c - the SQL of staff sessions (sessions.h). */
#include "domain/sessions.h"

#include <string.h>

#include "core/error.h"
#include "core/roles.h"
#include "store/db.h"

/* The session and its account in one read: a request costs one statement, as
 * it did when sessions lived in memory and only the account was read. */
static const char SQL_FIND[] =
    "SELECT s.user_id, s.epoch, s.created_at, s.last_used_at, u.id, u.username, u.role, "
    "COALESCE(u.dependencia, ''), u.disabled, u.must_change, u.session_epoch "
    "FROM staff_sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1";

int vt_sessions_find(struct vt_store_reader *r, const unsigned char key[VT_SESSION_KEY_BYTES],
                     struct vt_session *s, struct vt_staff *who)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_FIND);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_blob(st, 1, key, VT_SESSION_KEY_BYTES);
    int step = vt_db_step(st), rc = step == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
    if (step == VT_DB_ROW) {
        memset(s, 0, sizeof(*s));
        memcpy(s->key, key, VT_SESSION_KEY_BYTES);
        s->user_id = vt_db_col_int(st, 0);
        s->epoch = vt_db_col_int(st, 1);
        s->created = vt_db_col_int(st, 2);
        s->last = vt_db_col_int(st, 3);
        /* The rule of vt_accounts_staff: the account exists, is enabled, has
         * a role this build knows and is still at the session's epoch. */
        int role = vt_role_of(vt_db_col_str(st, 6));
        rc = VT_ESTATE;
        if (!vt_db_col_null(st, 4) && vt_db_col_int(st, 8) == 0 &&
            vt_db_col_int(st, 10) == s->epoch && role >= 0) {
            memset(who, 0, sizeof(*who));
            who->id = s->user_id;
            vt_db_col_copy(st, 5, who->username, sizeof(who->username));
            who->role = (enum vt_role)role;
            vt_db_col_copy(st, 7, who->dependencia, sizeof(who->dependencia));
            who->must_change = vt_db_col_int(st, 9) != 0;
            rc = 0;
        }
    }
    vt_db_reset(st);
    return rc;
}

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM staff_sessions";
static const char SQL_EVICT[] =
    "DELETE FROM staff_sessions WHERE token_hash IN "
    "(SELECT token_hash FROM staff_sessions ORDER BY last_used_at, token_hash LIMIT ?1)";
static const char SQL_INSERT[] =
    "INSERT INTO staff_sessions (token_hash, user_id, epoch, created_at, last_used_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

static int count_rows(struct vt_db *db, int64_t *n)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_COUNT);
    if (!st)
        return VT_ESTORE;
    int step = vt_db_step(st);
    if (step == VT_DB_ROW)
        *n = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return step == VT_DB_ROW ? 0 : VT_ESTORE;
}

int vt_sessions_open(struct vt_store_tx *tx, const struct vt_session *s, int64_t max,
                     int64_t idle_before, int64_t created_before)
{
    struct vt_db *db = vt_store_tx_db(tx);
    int64_t n = 0;
    int rc = count_rows(db, &n);
    if (rc == 0 && n >= max) {
        if ((rc = vt_sessions_sweep(tx, idle_before, created_before, NULL)) == 0)
            rc = count_rows(db, &n);
        if (rc == 0 && n >= max) { /* the least recently used go */
            struct vt_db_stmt *st = vt_db_prepare(db, SQL_EVICT);
            if (!st)
                return VT_ESTORE;
            vt_db_bind_int(st, 1, n - max + 1);
            rc = vt_db_run(st);
        }
    }
    if (rc)
        return rc;
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_INSERT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_blob(st, 1, s->key, VT_SESSION_KEY_BYTES);
    vt_db_bind_int(st, 2, s->user_id);
    vt_db_bind_int(st, 3, s->epoch);
    vt_db_bind_int(st, 4, s->created);
    vt_db_bind_int(st, 5, s->last);
    return vt_db_run(st);
}

static const char SQL_TOUCH[] = "UPDATE staff_sessions SET last_used_at = ?2 "
                                "WHERE token_hash = ?1 AND last_used_at <= ?3";

int vt_sessions_touch(struct vt_store_tx *tx, const unsigned char key[VT_SESSION_KEY_BYTES],
                      int64_t now, int64_t interval)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_TOUCH);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_blob(st, 1, key, VT_SESSION_KEY_BYTES);
    vt_db_bind_int(st, 2, now);
    vt_db_bind_int(st, 3, now - interval);
    return vt_db_run(st);
}

static const char SQL_CLOSE[] = "DELETE FROM staff_sessions WHERE token_hash = ?1";

int vt_sessions_close(struct vt_store_tx *tx, const unsigned char key[VT_SESSION_KEY_BYTES])
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CLOSE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_blob(st, 1, key, VT_SESSION_KEY_BYTES);
    return vt_db_run(st);
}

static const char SQL_KEEP[] =
    "UPDATE staff_sessions SET epoch = ?3 WHERE token_hash = ?1 AND user_id = ?2";
static const char SQL_END_OTHERS[] =
    "DELETE FROM staff_sessions WHERE user_id = ?1 AND token_hash <> ?2";
static const char SQL_END_ALL[] = "DELETE FROM staff_sessions WHERE user_id = ?1";

int vt_sessions_password_changed(struct vt_store_tx *tx, int64_t user_id, const unsigned char *keep,
                                 int64_t epoch)
{
    struct vt_db *db = vt_store_tx_db(tx);
    struct vt_db_stmt *st;
    if (keep) {
        if (!(st = vt_db_prepare(db, SQL_KEEP)))
            return VT_ESTORE;
        vt_db_bind_blob(st, 1, keep, VT_SESSION_KEY_BYTES);
        vt_db_bind_int(st, 2, user_id);
        vt_db_bind_int(st, 3, epoch);
        int rc = vt_db_run(st);
        if (rc)
            return rc;
    }
    if (!(st = vt_db_prepare(db, keep ? SQL_END_OTHERS : SQL_END_ALL)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, user_id);
    if (keep)
        vt_db_bind_blob(st, 2, keep, VT_SESSION_KEY_BYTES);
    return vt_db_run(st);
}

static const char SQL_SWEEP[] =
    "DELETE FROM staff_sessions WHERE last_used_at < ?1 OR created_at < ?2 "
    "OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = staff_sessions.user_id "
    "AND u.disabled = 0 AND u.session_epoch = staff_sessions.epoch)";

int vt_sessions_sweep(struct vt_store_tx *tx, int64_t idle_before, int64_t created_before,
                      int64_t *n)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SWEEP);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, idle_before);
    vt_db_bind_int(st, 2, created_before);
    int rc = vt_db_run(st);
    if (rc == 0 && n)
        *n = vt_db_changes(st);
    return rc;
}
