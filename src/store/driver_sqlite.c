/* driver_sqlite.c - the SQLite driver of the database interface (db.h).
 *
 * Owns: sqlite3 connections and their prepared statements. The only file of
 * Ventanilla that includes sqlite3.h.
 * Must not: know any table.
 *
 * Every connection runs in WAL mode with synchronous=FULL (a commit is on the
 * disk before it returns), foreign keys on, and waits up to 10 s for a lock.
 * A database file is created owner-only (0600) whatever the umask; SQLite
 * gives its -wal and -shm files the same mode.
 *
 * Statements are cached per connection: literals by their address in a small
 * open-addressing table (the intake's hot path looks one up per row), built
 * SQL by text with least-recently-used eviction.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "store/db_driver.h"
#include "store/driver_sqlite.h"

struct sq_stmt {
    struct vt_db_stmt base;
    sqlite3_stmt *st;
    struct sq_db *db;
};

#define LIT_SLOTS 256 /* a power of two, well above the number of literals */
#define TEXT_MAX 48

struct sq_db {
    struct vt_db base;
    sqlite3 *db;
    bool adopted; /* db belongs to the caller of vt_db_sqlite_adopt */
    struct {
        const char *sql;
        struct sq_stmt *st;
    } lit[LIT_SLOTS];
    size_t n_lit;
    struct {
        char *sql;
        struct sq_stmt *st;
        uint64_t used;
    } text[TEXT_MAX];
    size_t n_text;
    uint64_t clock;
};

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return 0;
    case SQLITE_NOMEM:
        return VT_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return VT_EBUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return VT_EEXIST;
        return VT_ESTORE;
    default:
        return VT_ESTORE;
    }
}

static struct sq_db *conn(struct vt_db *db)
{
    return (struct sq_db *)db;
}

static sqlite3_stmt *raw(struct vt_db_stmt *st)
{
    return ((struct sq_stmt *)st)->st;
}

/* Creates path owner-only when it does not exist, so that the umask never
 * decides who may read the citizens' data. */
static int create_private(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return VT_EIO;
    }
    int rc = fchmod(fd, 0600);
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "cannot make %s private: %s", path, strerror(errno));
        return VT_EIO;
    }
    return 0;
}

static int sq_open(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen)
{
    if (opt->create && access(opt->path, F_OK) != 0) {
        int rc = create_private(opt->path, err, errlen);
        if (rc)
            return rc;
    }
    struct sq_db *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return VT_ENOMEM;
    }
    c->base.drv = &vt_db_driver_sqlite;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(opt->path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", opt->path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 1000;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", opt->path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    if (opt->read_only)
        sqlite3_exec(c->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    *out = &c->base;
    return 0;
fail:
    sqlite3_close(c->db);
    free(c);
    return VT_ESTORE;
}

static void stmt_free(struct sq_stmt *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->st);
    free(s);
}

static void sq_close(struct vt_db *db)
{
    struct sq_db *c = conn(db);
    for (size_t i = 0; i < LIT_SLOTS; i++)
        stmt_free(c->lit[i].st);
    for (size_t i = 0; i < c->n_text; i++) {
        stmt_free(c->text[i].st);
        free(c->text[i].sql);
    }
    if (!c->adopted)
        sqlite3_close(c->db);
    free(c);
}

struct vt_db *vt_db_sqlite_adopt(void *handle)
{
    struct sq_db *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->base.drv = &vt_db_driver_sqlite;
    c->db = handle;
    c->adopted = true;
    return &c->base;
}

static const char *sq_errmsg(struct vt_db *db)
{
    return sqlite3_errmsg(conn(db)->db);
}

static int sq_exec(struct vt_db *db, const char *sql)
{
    struct sq_db *c = conn(db);
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        vt_log(VT_LOG_ERROR, "db_exec_failed", "error=\"%s\"", msg ? msg : "?");
    sqlite3_free(msg);
    return map_rc(rc);
}

static struct sq_stmt *stmt_new(struct sq_db *c, const char *sql)
{
    struct sq_stmt *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.drv = &vt_db_driver_sqlite;
    s->db = c;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL) != SQLITE_OK) {
        vt_log(VT_LOG_ERROR, "db_prepare_failed", "error=\"%s\"", sqlite3_errmsg(c->db));
        stmt_free(s);
        return NULL;
    }
    return s;
}

static struct vt_db_stmt *ready(struct sq_stmt *s)
{
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    return &s->base;
}

static struct vt_db_stmt *prepare_literal(struct sq_db *c, const char *sql)
{
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
            struct sq_stmt *s = stmt_new(c, sql);
            if (!s)
                return NULL;
            c->lit[i].sql = sql;
            c->lit[i].st = s;
            c->n_lit++;
            return &s->base;
        }
    }
    return NULL;
}

static struct vt_db_stmt *prepare_text(struct sq_db *c, const char *sql)
{
    for (size_t i = 0; i < c->n_text; i++)
        if (strcmp(c->text[i].sql, sql) == 0) {
            c->text[i].used = ++c->clock;
            return ready(c->text[i].st);
        }
    char *copy = strdup(sql);
    struct sq_stmt *s = copy ? stmt_new(c, sql) : NULL;
    if (!s) {
        free(copy);
        return NULL;
    }
    size_t slot = c->n_text;
    if (c->n_text == TEXT_MAX) {
        slot = 0;
        for (size_t i = 1; i < c->n_text; i++)
            if (c->text[i].used < c->text[slot].used)
                slot = i;
        stmt_free(c->text[slot].st);
        free(c->text[slot].sql);
    } else {
        c->n_text++;
    }
    c->text[slot].sql = copy;
    c->text[slot].st = s;
    c->text[slot].used = ++c->clock;
    return &s->base;
}

static struct vt_db_stmt *sq_prepare(struct vt_db *db, const char *sql, bool by_text)
{
    return by_text ? prepare_text(conn(db), sql) : prepare_literal(conn(db), sql);
}

static void sq_bind_int(struct vt_db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(raw(st), i, v);
}

static void sq_bind_double(struct vt_db_stmt *st, int i, double v)
{
    sqlite3_bind_double(raw(st), i, v);
}

static void sq_bind_text(struct vt_db_stmt *st, int i, const char *s, size_t len, bool copy)
{
    sqlite3_bind_text64(raw(st), i, s, len, copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
}

static void sq_bind_blob(struct vt_db_stmt *st, int i, const void *p, size_t len)
{
    sqlite3_bind_blob64(raw(st), i, p, len, SQLITE_STATIC);
}

static void sq_bind_null(struct vt_db_stmt *st, int i)
{
    sqlite3_bind_null(raw(st), i);
}

static int sq_step(struct vt_db_stmt *st)
{
    int rc = sqlite3_step(raw(st));
    if (rc == SQLITE_ROW)
        return VT_DB_ROW;
    if (rc == SQLITE_DONE)
        return VT_DB_DONE;
    int err = map_rc(sqlite3_extended_errcode(sqlite3_db_handle(raw(st))));
    if (err != VT_EEXIST)
        vt_log(VT_LOG_ERROR, "db_step_failed", "error=\"%s\"",
               sqlite3_errmsg(sqlite3_db_handle(raw(st))));
    return err ? err : VT_ESTORE;
}

static int64_t sq_changes(struct vt_db_stmt *st)
{
    return sqlite3_changes64(sqlite3_db_handle(raw(st)));
}

static void sq_reset(struct vt_db_stmt *st)
{
    sqlite3_reset(raw(st));
    sqlite3_clear_bindings(raw(st));
}

static bool sq_col_null(struct vt_db_stmt *st, int i)
{
    return sqlite3_column_type(raw(st), i) == SQLITE_NULL;
}

static int64_t sq_col_int(struct vt_db_stmt *st, int i)
{
    return sqlite3_column_int64(raw(st), i);
}

static double sq_col_double(struct vt_db_stmt *st, int i)
{
    return sqlite3_column_double(raw(st), i);
}

static const char *sq_col_text(struct vt_db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(raw(st), i);
}

static const void *sq_col_blob(struct vt_db_stmt *st, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(raw(st), i);
    *len = (size_t)sqlite3_column_bytes(raw(st), i);
    return p;
}

static bool sq_fts_query(const char *const *words, const size_t *lens, size_t n, char *out,
                         size_t cap);
static int sq_fts_ids_sql(const char *index, int param, char *out, size_t cap);

const struct vt_db_driver vt_db_driver_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .errmsg = sq_errmsg,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_int = sq_bind_int,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .changes = sq_changes,
    .reset = sq_reset,
    .col_null = sq_col_null,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .fts_query = sq_fts_query,
    .fts_ids_sql = sq_fts_ids_sql,
};

/* ---- full-text search: FTS5 ---- */

/* Each word quoted (a word never holds a quote: db.c splits on everything
 * but letters, digits and non-ASCII) and prefix-matched ("word"*); FTS5
 * ANDs the terms. The words that do not fit in cap are left out. */
static bool sq_fts_query(const char *const *words, const size_t *lens, size_t n, char *out,
                         size_t cap)
{
    size_t o = 0, k;
    out[0] = '\0';
    for (k = 0; k < n; k++) {
        if (o + lens[k] + 6 >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"*", k ? " " : "", (int)lens[k],
                              words[k]);
    }
    return k > 0;
}

/* An FTS5 table's rowid is the indexed row's id (content_rowid). */
static int sq_fts_ids_sql(const char *index, int param, char *out, size_t cap)
{
    int n = snprintf(out, cap, "SELECT rowid AS id FROM %s WHERE %s MATCH ?%d", index, index,
                     param);
    return n < 0 || (size_t)n >= cap ? VT_EINVAL : 0;
}
