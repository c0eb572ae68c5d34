/* driver_sqlite.c - the SQLite driver of the database interface (db.h).
 *
 * Owns: sqlite3 connections and their prepared statements, the WAL
 * checkpointer of the writing connection, SQLite's online backup and
 * integrity check. The only file of Ventanilla that includes sqlite3.h.
 * Must not: know any table.
 *
 * Every connection runs in WAL mode with synchronous=FULL (a commit is on the
 * disk before it returns), foreign keys on, and waits up to 10 s for a lock.
 * A database file is created owner-only (0600) whatever the umask, and one
 * left readable to others (by an older version, or a copy) is brought down
 * to 0600 with its -wal and -shm before SQLite opens it, since SQLite gives
 * those files the database's own mode.
 *
 * db.c caches the statements; this file compiles and finalizes them.
 *
 * Checkpoints (vt_db_options.maintain): the writing connection's WAL hook
 * replaces SQLite's automatic checkpoints, which would run inside the
 * writer's commits. After a commit that left the WAL at 1,000 pages or more
 * it wakes a thread of the driver's own, which runs a PASSIVE checkpoint on
 * a connection of its own (never blocking the writer). The writer's commits
 * then pay only for the WAL append and its fsync, and the WAL is reused from
 * its start instead of growing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

struct sq_stmt {
    struct vt_db_stmt base;
    sqlite3_stmt *st;
    struct sq_db *db;
};

#define CHECKPOINT_PAGES 1000

/* The checkpointer of a connection opened with maintain. */
struct upkeep {
    pthread_t thread;
    pthread_mutex_t lock; /* guards wanted and stopping */
    pthread_cond_t wake;
    bool wanted, stopping;
    sqlite3 *db; /* the checkpointer thread's own connection */
};

struct sq_db {
    struct vt_db base;
    sqlite3 *db;
    struct upkeep *upkeep; /* NULL unless opened with maintain */
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

/* Takes group and other access away from the database and its -wal and -shm
 * files (errors are left to the open). */
static void tighten(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4300];
        struct stat st;
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (stat(p, &st) == 0 && (st.st_mode & 0077))
            chmod(p, st.st_mode & 0700);
    }
}

/* Opens path with the settings every read-write connection has. */
static int open_handle(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return VT_ESTORE;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 1000;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return VT_ESTORE;
    }
    *out = db;
    return 0;
}

/* A file: URI for path (RFC 3986: anything but unreserved characters and
 * '/' percent-encoded), so a path with '?' or '#' names the file it says. */
static int file_uri(const char *path, const char *query, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    int w = snprintf(out, n, "file:");
    if (w < 0 || (size_t)w >= n)
        return VT_ERANGE;
    o = (size_t)w;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
        if (o + 4 >= n)
            return VT_ERANGE;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    w = snprintf(out + o, n - o, "?%s", query);
    return w < 0 || (size_t)w >= n - o ? VT_ERANGE : 0;
}

/* immutable: no lock, no journal, nothing written beside the file. */
static int open_immutable(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    char uri[13000];
    if (file_uri(path, "immutable=1", uri, sizeof(uri))) {
        snprintf(err, errlen, "the path %s is too long", path);
        return VT_ESTORE;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return VT_ESTORE;
    }
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return 0;
}

/* ---- the checkpointer ---- */

/* The writing connection's WAL hook (its thread, after each commit). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct upkeep *u = arg;
    (void)db;
    (void)name;
    if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&u->lock);
        u->wanted = true;
        pthread_cond_signal(&u->wake);
        pthread_mutex_unlock(&u->lock);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct upkeep *u = arg;
    pthread_mutex_lock(&u->lock);
    for (;;) {
        while (!u->wanted && !u->stopping)
            pthread_cond_wait(&u->wake, &u->lock);
        if (u->stopping)
            break;
        u->wanted = false;
        pthread_mutex_unlock(&u->lock);
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(u->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        pthread_mutex_lock(&u->lock);
    }
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

static void upkeep_stop(struct upkeep *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    u->stopping = true;
    pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->thread, NULL);
    sqlite3_close(u->db);
    pthread_mutex_destroy(&u->lock);
    pthread_cond_destroy(&u->wake);
    free(u);
}

/* Starts the checkpointer of c, whose database is at path. */
static int upkeep_start(struct sq_db *c, const char *path, char *err, size_t errlen)
{
    struct upkeep *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return VT_ENOMEM;
    }
    int rc = open_handle(path, &u->db, err, errlen);
    if (rc) {
        free(u);
        return rc;
    }
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->wake, NULL);
    if (pthread_create(&u->thread, NULL, checkpointer_main, u) != 0) {
        snprintf(err, errlen, "cannot start the checkpointer thread");
        sqlite3_close(u->db);
        pthread_mutex_destroy(&u->lock);
        pthread_cond_destroy(&u->wake);
        free(u);
        return VT_ENOMEM;
    }
    c->upkeep = u;
    sqlite3_wal_hook(c->db, wal_hook, u); /* replaces SQLite's automatic checkpoints */
    return 0;
}

static int sq_open(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen)
{
    struct sq_db *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return VT_ENOMEM;
    }
    c->base.drv = &vt_db_driver_sqlite;
    int rc;
    if (opt->immutable) {
        if ((rc = open_immutable(opt->path, &c->db, err, errlen)))
            goto fail;
        *out = &c->base;
        return 0;
    }
    if (opt->create && access(opt->path, F_OK) != 0 &&
        (rc = create_private(opt->path, err, errlen)))
        goto fail;
    tighten(opt->path);
    if ((rc = open_handle(opt->path, &c->db, err, errlen)))
        goto fail;
    if (opt->read_only)
        sqlite3_exec(c->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    if (opt->maintain && (rc = upkeep_start(c, opt->path, err, errlen)))
        goto fail;
    *out = &c->base;
    return 0;
fail:
    sqlite3_close(c->db);
    free(c);
    return rc;
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
    upkeep_stop(c->upkeep); /* its connection first: the last one to close checkpoints */
    sqlite3_close(c->db);   /* the last connection checkpoints and removes the WAL */
    free(c);
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

static struct vt_db_stmt *sq_prepare(struct vt_db *db, const char *sql)
{
    struct sq_stmt *s = stmt_new(conn(db), sql);
    return s ? &s->base : NULL;
}

static void sq_finalize(struct vt_db_stmt *st, bool evicted)
{
    (void)evicted;
    stmt_free((struct sq_stmt *)st);
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

static int64_t sq_last_insert_id(struct vt_db *db)
{
    return sqlite3_last_insert_rowid(conn(db)->db);
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

static int sq_col_count(struct vt_db_stmt *st)
{
    return sqlite3_column_count(raw(st));
}

static const char *sq_col_name(struct vt_db_stmt *st, int i)
{
    return sqlite3_column_name(raw(st), i);
}

static enum vt_db_type sq_col_type(struct vt_db_stmt *st, int i)
{
    switch (sqlite3_column_type(raw(st), i)) {
    case SQLITE_INTEGER:
        return VT_DB_INT;
    case SQLITE_FLOAT:
        return VT_DB_DOUBLE;
    case SQLITE_TEXT:
        return VT_DB_TEXT;
    case SQLITE_BLOB:
        return VT_DB_BLOB;
    default:
        return VT_DB_NULL;
    }
}

static int sq_table_exists(struct vt_db *db, const char *name)
{
    static const char sql[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1";
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    if (!st)
        return VT_ESTORE;
    sq_bind_text(st, 1, name, strlen(name), false);
    int rc = sq_step(st);
    sq_reset(st);
    return rc < 0 ? rc : rc == VT_DB_ROW;
}

/* Walks st's rows (name, fts) into each (vt_db_tables). */
static int walk_tables(struct vt_db_stmt *st, int (*each)(void *ctx, const char *name, bool fts),
                       void *ctx)
{
    int rc, stop = 0;
    while ((rc = sq_step(st)) == VT_DB_ROW) {
        const char *name = sq_col_text(st, 0);
        if (name && (stop = each(ctx, name, sq_col_int(st, 1) != 0)))
            break;
    }
    sq_reset(st);
    return stop ? stop : rc < 0 ? VT_ESTORE : 0;
}

/* pragma_table_list's types: table, virtual, shadow (a virtual table's
 * own), view. */
static int sq_tables(struct vt_db *db, int (*each)(void *ctx, const char *name, bool fts),
                     void *ctx)
{
    static const char sql[] = "SELECT name, type = 'virtual' FROM pragma_table_list "
                              "WHERE schema = 'main' AND type IN ('table', 'virtual') "
                              "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    return st ? walk_tables(st, each, ctx) : VT_ESTORE;
}

/* Removes path and the files SQLite may have made beside it. */
static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4300];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/* The copy is SQLite's online backup in one step: in WAL mode that is one
 * read transaction, which never blocks the writer (it only keeps the
 * checkpointer from recycling the WAL until it ends, so the WAL grows for
 * the copy's length). Stepping in chunks would end the read transaction
 * between steps, and SQLite restarts a backup whose source another process
 * changed meanwhile: under steady intake it would never finish. */
static int sq_copy_to(struct vt_db *db, const char *dest_file, char *err, size_t errlen)
{
    sqlite3 *src = conn(db)->db, *dst = NULL;
    sqlite3_backup *b = NULL;
    sqlite3_stmt *st = NULL;
    int r = SQLITE_OK;
    if (sqlite3_open_v2(dest_file, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        !(b = sqlite3_backup_init(dst, "main", src, "main"))) {
        snprintf(err, errlen, "cannot start the copy into %s: %s", dest_file,
                 dst ? sqlite3_errmsg(dst) : "no memory");
        goto fail;
    }
    /* BUSY: the source could not be read at this moment (a checkpoint or a
     * recovery in progress); the busy handler is not used for it. */
    for (int tries = 0;; tries++) {
        r = sqlite3_backup_step(b, -1);
        if ((r != SQLITE_BUSY && r != SQLITE_LOCKED) || tries == 300)
            break;
        sqlite3_sleep(100);
    }
    sqlite3_backup_finish(b);
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "copying %s failed: %s", sqlite3_db_filename(src, "main"),
                 sqlite3_errstr(r));
        goto fail;
    }
    /* The copy carries the source's WAL flag in its header: reopened, it is
     * turned into a plain rollback-journal file that needs nothing beside
     * it, and checked. */
    sqlite3_close(dst);
    dst = NULL;
    if (sqlite3_open_v2(dest_file, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(dst, "PRAGMA journal_mode = DELETE", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "delete") != 0) {
        snprintf(err, errlen, "cannot finish the copy %s: %s", dest_file,
                 dst ? sqlite3_errmsg(dst) : "no memory");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "cannot check the copy %s: %s", dest_file, sqlite3_errmsg(dst));
        goto fail;
    }
    const char *ok = (const char *)sqlite3_column_text(st, 0);
    if (!ok || strcmp(ok, "ok") != 0) {
        snprintf(err, errlen, "the copy failed SQLite's integrity check: %.300s",
                 ok ? ok : "no answer");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "cannot close the copy %s", dest_file);
        dst = NULL;
        goto fail;
    }
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite3_close(dst);
    remove_db_files(dest_file);
    return VT_ESTORE;
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
    .finalize = sq_finalize,
    .table_exists = sq_table_exists,
    .tables = sq_tables,
    .copy_to = sq_copy_to,
    .bind_int = sq_bind_int,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .changes = sq_changes,
    .last_insert_id = sq_last_insert_id,
    .reset = sq_reset,
    .col_null = sq_col_null,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
    .col_type = sq_col_type,
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
        o +=
            (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"*", k ? " " : "", (int)lens[k], words[k]);
    }
    return k > 0;
}

/* An FTS5 table's rowid is the indexed row's id (content_rowid). */
static int sq_fts_ids_sql(const char *index, int param, char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "SELECT rowid AS id FROM %s WHERE %s MATCH ?%d", index, index, param);
    return n < 0 || (size_t)n >= cap ? VT_EINVAL : 0;
}
