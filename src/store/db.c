/* db.c - the database interface (db.h): picks a driver at open and
 * dispatches every call to it. Also the few conveniences built on the
 * driver's primitives (run, col_str, col_copy, transactions as SQL).
 *
 * Owns: nothing beyond the call. Must not: know any table or any driver's
 * internals.
 */
#include "store/db.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/db_driver.h"

static const struct vt_db_driver *const drivers[] = {&vt_db_driver_sqlite, &vt_db_driver_pg};

int vt_db_open(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen)
{
    const char *name = opt->driver ? opt->driver : "sqlite";
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i]->open(opt, out, err, errlen);
    snprintf(err, errlen, "unknown database driver %s", name);
    return VT_ECONFIG;
}

void vt_db_close(struct vt_db *db)
{
    if (db)
        db->drv->close(db);
}

const char *vt_db_driver_name(const struct vt_db *db)
{
    return db->drv->name;
}

const char *vt_db_errmsg(struct vt_db *db)
{
    return db->drv->errmsg(db);
}

int vt_db_exec(struct vt_db *db, const char *sql)
{
    return db->drv->exec(db, sql);
}

int vt_db_table_exists(struct vt_db *db, const char *name)
{
    return db->drv->table_exists(db, name);
}

int vt_db_tables(struct vt_db *db, int (*each)(void *ctx, const char *name, bool fts), void *ctx)
{
    return db->drv->tables(db, each, ctx);
}

int vt_db_copy_to(struct vt_db *db, const char *dest_file, char *err, size_t errlen)
{
    return db->drv->copy_to(db, dest_file, err, errlen);
}

int vt_db_try_lock(struct vt_db *db, int64_t key)
{
    return db->drv->try_lock ? db->drv->try_lock(db, key) : 1;
}

int vt_db_unlock(struct vt_db *db, int64_t key)
{
    return db->drv->unlock ? db->drv->unlock(db, key) : 0;
}

/* Transaction control runs as cached statements, like any other: the store's
 * writer takes a savepoint per job and parses it once, not at every job (as
 * the SQLite store did before db.h, with statements of its own). */
static int run_literal(struct vt_db *db, const char *sql)
{
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    return st ? vt_db_run(st) : VT_ESTORE;
}

int vt_db_begin(struct vt_db *db, bool write)
{
    /* A driver with a way of its own to take the write lock says it;
     * otherwise SQLite's IMMEDIATE takes it at once. */
    if (db->drv->begin)
        return db->drv->begin(db, write);
    return run_literal(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

int vt_db_commit(struct vt_db *db)
{
    return run_literal(db, "COMMIT");
}

int vt_db_rollback(struct vt_db *db)
{
    return run_literal(db, "ROLLBACK");
}

static int savepoint_sql(struct vt_db *db, const char *verb, const char *name)
{
    /* Names are the caller's identifiers, never outside input. */
    char sql[96];
    size_t v = strlen(verb), n = strlen(name);
    if (v + n >= sizeof(sql))
        return VT_EINVAL;
    memcpy(sql, verb, v);
    memcpy(sql + v, name, n + 1);
    struct vt_db_stmt *st = vt_db_prepare_text(db, sql);
    return st ? vt_db_run(st) : VT_ESTORE;
}

int vt_db_savepoint(struct vt_db *db, const char *name)
{
    return savepoint_sql(db, "SAVEPOINT ", name);
}

int vt_db_release(struct vt_db *db, const char *name)
{
    return savepoint_sql(db, "RELEASE SAVEPOINT ", name);
}

int vt_db_rollback_to(struct vt_db *db, const char *name)
{
    return savepoint_sql(db, "ROLLBACK TO SAVEPOINT ", name);
}

struct vt_db_stmt *vt_db_prepare(struct vt_db *db, const char *sql)
{
    return db->drv->prepare(db, sql, false);
}

struct vt_db_stmt *vt_db_prepare_text(struct vt_db *db, const char *sql)
{
    return db->drv->prepare(db, sql, true);
}

void vt_db_bind_int(struct vt_db_stmt *st, int i, int64_t v)
{
    st->drv->bind_int(st, i, v);
}

void vt_db_bind_double(struct vt_db_stmt *st, int i, double v)
{
    st->drv->bind_double(st, i, v);
}

void vt_db_bind_text(struct vt_db_stmt *st, int i, const char *s)
{
    if (s)
        st->drv->bind_text(st, i, s, strlen(s), false);
    else
        st->drv->bind_null(st, i);
}

void vt_db_bind_text_copy(struct vt_db_stmt *st, int i, const char *s)
{
    if (s)
        st->drv->bind_text(st, i, s, strlen(s), true);
    else
        st->drv->bind_null(st, i);
}

void vt_db_bind_blob(struct vt_db_stmt *st, int i, const void *p, size_t len)
{
    st->drv->bind_blob(st, i, p, len);
}

void vt_db_bind_null(struct vt_db_stmt *st, int i)
{
    st->drv->bind_null(st, i);
}

int vt_db_step(struct vt_db_stmt *st)
{
    return st->drv->step(st);
}

int vt_db_run(struct vt_db_stmt *st)
{
    int rc = st->drv->step(st);
    st->drv->reset(st);
    if (rc == VT_DB_ROW)
        return VT_ESTORE;
    return rc;
}

int64_t vt_db_changes(struct vt_db_stmt *st)
{
    return st->drv->changes(st);
}

int64_t vt_db_last_insert_id(struct vt_db *db)
{
    return db->drv->last_insert_id(db);
}

void vt_db_reset(struct vt_db_stmt *st)
{
    if (st)
        st->drv->reset(st);
}

bool vt_db_col_null(struct vt_db_stmt *st, int i)
{
    return st->drv->col_null(st, i);
}

int64_t vt_db_col_int(struct vt_db_stmt *st, int i)
{
    return st->drv->col_int(st, i);
}

double vt_db_col_double(struct vt_db_stmt *st, int i)
{
    return st->drv->col_double(st, i);
}

const char *vt_db_col_text(struct vt_db_stmt *st, int i)
{
    return st->drv->col_text(st, i);
}

const char *vt_db_col_str(struct vt_db_stmt *st, int i)
{
    const char *s = st->drv->col_text(st, i);
    return s ? s : "";
}

size_t vt_db_col_len(struct vt_db_stmt *st, int i)
{
    size_t len = 0;
    st->drv->col_blob(st, i, &len);
    return len;
}

const void *vt_db_col_blob(struct vt_db_stmt *st, int i, size_t *len)
{
    return st->drv->col_blob(st, i, len);
}

void vt_db_col_copy(struct vt_db_stmt *st, int i, char *out, size_t cap)
{
    const char *s = st->drv->col_text(st, i);
    snprintf(out, cap, "%s", s ? s : "");
}

int vt_db_col_count(struct vt_db_stmt *st)
{
    return st->drv->col_count(st);
}

const char *vt_db_col_name(struct vt_db_stmt *st, int i)
{
    if (i < 0 || i >= st->drv->col_count(st))
        return NULL;
    return st->drv->col_name(st, i);
}

enum vt_db_type vt_db_col_type(struct vt_db_stmt *st, int i)
{
    return st->drv->col_type(st, i);
}

/* ---- full-text search ---- */

static bool word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool vt_db_fts_query(struct vt_db *db, const char *words, char *out, size_t cap)
{
    /* What a word is stays the same whatever the database: the driver only
     * spells the query. */
    const char *w[12];
    size_t len[12], n = 0;
    const unsigned char *p = (const unsigned char *)words;
    if (cap)
        out[0] = '\0';
    while (*p && n < 12) {
        while (*p && !word_byte(*p))
            p++;
        const unsigned char *start = p;
        while (*p && word_byte(*p))
            p++;
        size_t k = (size_t)(p - start);
        if (!k)
            continue;
        /* A very long word is searched by its first 64 bytes (whole characters). */
        if (k > 64) {
            k = 64;
            while (k > 0 && (start[k] & 0xC0) == 0x80)
                k--;
        }
        w[n] = (const char *)start;
        len[n++] = k;
    }
    return n > 0 && cap > 0 && db->drv->fts_query(w, len, n, out, cap);
}

int vt_db_fts_ids_sql(struct vt_db *db, const char *index, int param, char *out, size_t cap)
{
    if (!index || !*index ||
        strspn(index, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(index))
        return VT_EINVAL;
    return db->drv->fts_ids_sql(index, param, out, cap);
}
