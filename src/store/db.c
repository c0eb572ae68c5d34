/* db.c - the database interface (db.h): picks a driver at open and
 * dispatches every call to it. Also the few conveniences built on the
 * driver's primitives (run, col_str, col_copy, transactions as SQL).
 *
 * Owns: each connection's statement cache: literals by their address in a
 * small open-addressing table (the intake's hot path looks one up per row),
 * built SQL by its text with least-recently-used eviction.
 * Must not: know any table or any driver's internals.
 */
#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "store/db_driver.h"

#define LIT_SLOTS                                                                                  \
    1024 /* a power of two: room for 768 literals, about four times the SQL_* strings */
#define TEXT_MAX 48

struct vt_db_cache {
    struct {
        const char *sql;
        struct vt_db_stmt *st;
    } lit[LIT_SLOTS];
    size_t n_lit;
    struct {
        char *sql;
        struct vt_db_stmt *st;
        uint64_t used;
    } text[TEXT_MAX];
    size_t n_text;
    uint64_t clock;
};

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
    if (!db)
        return;
    struct vt_db_cache *c = db->cache;
    if (c) {
        for (size_t i = 0; i < LIT_SLOTS; i++)
            if (c->lit[i].st)
                db->drv->finalize(c->lit[i].st, false);
        for (size_t i = 0; i < c->n_text; i++) {
            db->drv->finalize(c->text[i].st, false);
            free(c->text[i].sql);
        }
        free(c);
        db->cache = NULL;
    }
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

/* A notification channel is a plain name: the driver may spell it into SQL. */
static bool plain_name(const char *s)
{
    if (!s || !*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_' || (p > s && *p >= '0' && *p <= '9')))
            return false;
    return true;
}

int vt_db_notify(struct vt_db *db, const char *channel)
{
    if (!db->drv->notify || !plain_name(channel))
        return VT_EINVAL;
    return db->drv->notify(db, channel);
}

int vt_db_listen(struct vt_db *db, const char *channel)
{
    if (!db->drv->listen || !plain_name(channel))
        return VT_EINVAL;
    return db->drv->listen(db, channel);
}

int vt_db_wait_notify(struct vt_db *db, int timeout_ms)
{
    if (!db->drv->wait_notify)
        return VT_EINVAL;
    return db->drv->wait_notify(db, timeout_ms < 0 ? 0 : timeout_ms);
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

static struct vt_db_cache *cache(struct vt_db *db)
{
    if (!db->cache && !(db->cache = calloc(1, sizeof(*db->cache))))
        vt_log(VT_LOG_ERROR, "db_prepare_failed", "error=\"out of memory\"");
    return db->cache;
}

/* A cached statement, ready to bind. */
static struct vt_db_stmt *ready(struct vt_db_stmt *st)
{
    st->drv->reset(st);
    return st;
}

struct vt_db_stmt *vt_db_prepare(struct vt_db *db, const char *sql)
{
    struct vt_db_cache *c = cache(db);
    if (!c)
        return NULL;
    size_t h = ((uintptr_t)sql >> 3) * 0x9E3779B97F4A7C15ull;
    for (size_t n = 0; n < LIT_SLOTS; n++) {
        size_t i = (h + n) & (LIT_SLOTS - 1);
        if (c->lit[i].sql == sql)
            return ready(c->lit[i].st);
        if (!c->lit[i].sql) {
            if (c->n_lit >= LIT_SLOTS * 3 / 4) {
                vt_log(VT_LOG_ERROR, "db_prepare_failed", "error=\"statement cache full\"");
                return NULL;
            }
            struct vt_db_stmt *st = db->drv->prepare(db, sql);
            if (!st)
                return NULL;
            c->lit[i].sql = sql;
            c->lit[i].st = st;
            c->n_lit++;
            return st;
        }
    }
    return NULL;
}

struct vt_db_stmt *vt_db_prepare_text(struct vt_db *db, const char *sql)
{
    struct vt_db_cache *c = cache(db);
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_text; i++)
        if (strcmp(c->text[i].sql, sql) == 0) {
            c->text[i].used = ++c->clock;
            return ready(c->text[i].st);
        }
    char *copy = strdup(sql);
    struct vt_db_stmt *st = copy ? db->drv->prepare(db, sql) : NULL;
    if (!st) {
        free(copy);
        return NULL;
    }
    size_t slot = c->n_text;
    if (c->n_text == TEXT_MAX) {
        slot = 0;
        for (size_t i = 1; i < c->n_text; i++)
            if (c->text[i].used < c->text[slot].used)
                slot = i;
        db->drv->finalize(c->text[slot].st, true);
        free(c->text[slot].sql);
    } else {
        c->n_text++;
    }
    c->text[slot].sql = copy;
    c->text[slot].st = st;
    c->text[slot].used = ++c->clock;
    return st;
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

void vt_db_bind_col(struct vt_db_stmt *st, int i, struct vt_db_stmt *src, int col)
{
    size_t len;
    const void *p;
    switch (vt_db_col_type(src, col)) {
    case VT_DB_INT:
        vt_db_bind_int(st, i, vt_db_col_int(src, col));
        break;
    case VT_DB_DOUBLE:
        vt_db_bind_double(st, i, vt_db_col_double(src, col));
        break;
    case VT_DB_TEXT:
        vt_db_bind_text(st, i, vt_db_col_text(src, col));
        break;
    case VT_DB_BLOB:
        p = vt_db_col_blob(src, col, &len);
        vt_db_bind_blob(st, i, p, len);
        break;
    default:
        vt_db_bind_null(st, i);
    }
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

bool vt_db_returning_id(struct vt_db *db)
{
    return db->drv->returning_id;
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
