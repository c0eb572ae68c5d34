/* test_db.c - the database interface (store/db.h) on its SQLite driver:
 * binds and columns of every type, NULLs, statement caching by address and by
 * text, errors as VT_E* codes, RETURNING, transactions and savepoints, and a
 * new database file created owner-only whatever the umask. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "store/db.h"
#include "vt_test.h"

static const char SQL_INSERT[] =
    "INSERT INTO t (name, n, x, b) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char SQL_BY_ID[] = "SELECT name, n, x, b FROM t WHERE id = ?1";
static const char SQL_COUNT[] = "SELECT count(*) FROM t";
static const char SQL_UPDATE[] = "UPDATE t SET n = n + 1 WHERE n >= ?1";

static int64_t insert(struct vt_db *db, const char *name, int64_t n, double x, const void *b,
                      size_t blen)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_INSERT);
    if (!st)
        return -1;
    vt_db_bind_text(st, 1, name);
    vt_db_bind_int(st, 2, n);
    vt_db_bind_double(st, 3, x);
    if (b)
        vt_db_bind_blob(st, 4, b, blen);
    else
        vt_db_bind_null(st, 4);
    int64_t id = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : -1;
    vt_db_reset(st);
    return id;
}

/* vt_db_tables into "name name* ..." (* for a full-text index). */
static int list_into(void *ctx, const char *name, bool fts)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s%s%s", n ? " " : "", name, fts ? "*" : "");
    return 0;
}

static int stop_at_second(void *ctx, const char *name, bool fts)
{
    (void)name;
    (void)fts;
    return ++*(int *)ctx == 2 ? 7 : 0;
}

static int64_t count(struct vt_db *db)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_COUNT);
    int64_t n = st && vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : -1;
    vt_db_reset(st);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/vt-test-db-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/t.db", dir);

    /* A new file is 0600 even under umask 0. */
    mode_t old = umask(0);
    struct vt_db *db = NULL;
    struct vt_db_options opt = {.path = path, .create = true};
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);
    umask(old);
    struct stat sb;
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    ASSERT_STREQ(vt_db_driver_name(db), "sqlite");
    /* SQLite has no notifications between connections: one daemon owns the file. */
    ASSERT_EQ(vt_db_listen(db, "ventanilla_live"), VT_EINVAL);
    ASSERT_EQ(vt_db_notify(db, "ventanilla_live"), VT_EINVAL);
    ASSERT_EQ(vt_db_wait_notify(db, 0), VT_EINVAL);

    ASSERT_EQ(vt_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, "
                             "n INTEGER, x REAL, b BLOB)"),
              0);

    /* Binds and columns of every type, and RETURNING. */
    const unsigned char blob[] = {0, 1, 2, 255};
    int64_t a = insert(db, "ñandú", 42, 2.5, blob, sizeof(blob));
    int64_t b = insert(db, "otro", -7, 0, NULL, 0);
    ASSERT_EQ(a, 1);
    ASSERT_EQ(b, 2);
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_BY_ID);
    vt_db_bind_int(st, 1, a);
    ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
    ASSERT_STREQ(vt_db_col_text(st, 0), "ñandú");
    ASSERT_EQ(vt_db_col_len(st, 0), strlen("ñandú"));
    ASSERT_EQ(vt_db_col_int(st, 1), 42);
    ASSERT_TRUE(vt_db_col_double(st, 2) == 2.5);
    size_t blen = 0;
    const unsigned char *got = vt_db_col_blob(st, 3, &blen);
    ASSERT_EQ(blen, sizeof(blob));
    ASSERT_TRUE(got && memcmp(got, blob, sizeof(blob)) == 0);
    ASSERT_EQ(vt_db_step(st), VT_DB_DONE);

    /* What the columns are: their count and names once stepped, and each
     * value's storage class, NULL included (store copy reads rows this way). */
    struct vt_db_stmt *meta =
        vt_db_prepare(db, "SELECT id, name, n, x, b, NULL AS nada FROM t WHERE id = ?1");
    ASSERT_TRUE(meta != NULL);
    vt_db_bind_int(meta, 1, a);
    ASSERT_EQ(vt_db_step(meta), VT_DB_ROW);
    ASSERT_EQ(vt_db_col_count(meta), 6);
    static const char *const names[] = {"id", "name", "n", "x", "b", "nada"};
    static const enum vt_db_type types[] = {VT_DB_INT,    VT_DB_TEXT, VT_DB_INT,
                                            VT_DB_DOUBLE, VT_DB_BLOB, VT_DB_NULL};
    for (int i = 0; i < 6; i++) {
        ASSERT_STREQ(vt_db_col_name(meta, i), names[i]);
        ASSERT_EQ(vt_db_col_type(meta, i), types[i]);
    }
    ASSERT_TRUE(vt_db_col_name(meta, 6) == NULL);
    ASSERT_TRUE(vt_db_col_name(meta, -1) == NULL);
    vt_db_reset(meta);
    /* Each value's own class, row by row and for expressions too. */
    meta = vt_db_prepare(db, "SELECT n, b FROM t WHERE id = ?1");
    vt_db_bind_int(meta, 1, b);
    ASSERT_EQ(vt_db_step(meta), VT_DB_ROW);
    ASSERT_EQ(vt_db_col_type(meta, 0), VT_DB_INT);
    ASSERT_EQ(vt_db_col_type(meta, 1), VT_DB_NULL);
    vt_db_reset(meta);
    meta = vt_db_prepare(db, "SELECT CAST('abc' AS INTEGER), 'abc', x'00ff', 1.0");
    ASSERT_EQ(vt_db_step(meta), VT_DB_ROW);
    ASSERT_EQ(vt_db_col_type(meta, 0), VT_DB_INT);
    ASSERT_EQ(vt_db_col_type(meta, 1), VT_DB_TEXT);
    ASSERT_EQ(vt_db_col_type(meta, 2), VT_DB_BLOB);
    ASSERT_EQ(vt_db_col_type(meta, 3), VT_DB_DOUBLE);
    ASSERT_EQ(vt_db_step(meta), VT_DB_DONE);
    ASSERT_EQ(vt_db_col_count(meta), 4); /* still known when the rows are done */
    vt_db_reset(meta);

    /* The same literal gives the same statement, reset with bindings cleared:
     * an unbound parameter is NULL, so no row matches. */
    struct vt_db_stmt *again = vt_db_prepare(db, SQL_BY_ID);
    ASSERT_TRUE(again == st);
    ASSERT_EQ(vt_db_step(again), VT_DB_DONE);
    vt_db_reset(again);
    vt_db_bind_int(again, 1, b);
    ASSERT_EQ(vt_db_step(again), VT_DB_ROW);
    ASSERT_TRUE(vt_db_col_null(again, 3));
    ASSERT_TRUE(vt_db_col_text(again, 3) == NULL);
    ASSERT_STREQ(vt_db_col_str(again, 3), "");
    char copy[4];
    vt_db_col_copy(again, 0, copy, sizeof(copy));
    ASSERT_STREQ(copy, "otr");
    vt_db_reset(again);

    /* Built SQL is cached by text: a copy of the text finds the statement. */
    char built[64];
    snprintf(built, sizeof(built), "SELECT name FROM t WHERE n < %d", 0);
    struct vt_db_stmt *t1 = vt_db_prepare_text(db, built);
    char built2[64];
    memcpy(built2, built, sizeof(built));
    ASSERT_TRUE(t1 && vt_db_prepare_text(db, built2) == t1);
    ASSERT_EQ(vt_db_step(t1), VT_DB_ROW);
    ASSERT_STREQ(vt_db_col_text(t1, 0), "otro");
    vt_db_reset(t1);

    /* A text bound as a copy survives its buffer. */
    char *tmp = strdup("temporal");
    st = vt_db_prepare(db, SQL_INSERT);
    vt_db_bind_text_copy(st, 1, tmp);
    memset(tmp, 'x', strlen(tmp));
    free(tmp);
    ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
    int64_t c = vt_db_col_int(st, 0);
    vt_db_reset(st);
    st = vt_db_prepare(db, SQL_BY_ID);
    vt_db_bind_int(st, 1, c);
    ASSERT_EQ(vt_db_step(st), VT_DB_ROW);
    ASSERT_STREQ(vt_db_col_text(st, 0), "temporal");
    vt_db_reset(st);

    /* A unique violation is VT_EEXIST; bad SQL gives no statement. */
    st = vt_db_prepare(db, SQL_INSERT);
    vt_db_bind_text(st, 1, "otro");
    ASSERT_EQ(vt_db_step(st), VT_EEXIST);
    vt_db_reset(st);
    ASSERT_TRUE(vt_db_prepare(db, "SELEC nada") == NULL);
    ASSERT_TRUE(vt_db_exec(db, "CREATE TABLE t (x)") == VT_ESTORE);

    /* vt_db_run and changes. */
    st = vt_db_prepare(db, SQL_UPDATE);
    vt_db_bind_int(st, 1, -100);
    ASSERT_EQ(vt_db_run(st), 0);
    ASSERT_EQ(vt_db_changes(st), 2); /* "temporal" has n NULL */
    st = vt_db_prepare(db, SQL_BY_ID);
    vt_db_bind_int(st, 1, a);
    ASSERT_EQ(vt_db_run(st), VT_ESTORE); /* it returned a row */

    /* Transactions and savepoints. */
    ASSERT_EQ(count(db), 3);
    ASSERT_EQ(vt_db_begin(db, true), 0);
    insert(db, "uno", 1, 0, NULL, 0);
    ASSERT_EQ(vt_db_savepoint(db, "job"), 0);
    insert(db, "dos", 2, 0, NULL, 0);
    ASSERT_EQ(count(db), 5);
    ASSERT_EQ(vt_db_rollback_to(db, "job"), 0);
    ASSERT_EQ(vt_db_release(db, "job"), 0);
    ASSERT_EQ(count(db), 4);
    ASSERT_EQ(vt_db_commit(db), 0);
    ASSERT_EQ(vt_db_begin(db, true), 0);
    insert(db, "tres", 3, 0, NULL, 0);
    ASSERT_EQ(vt_db_rollback(db), 0);
    ASSERT_EQ(count(db), 4);

    /* A second connection sees what the first committed. */
    struct vt_db *reader = NULL;
    struct vt_db_options ro = {.path = path, .read_only = true};
    ASSERT_EQ(vt_db_open(&ro, &reader, err, sizeof(err)), 0);
    ASSERT_EQ(count(reader), 4);
    ASSERT_TRUE(vt_db_exec(reader, "DELETE FROM t") != 0);
    ASSERT_EQ(count(db), 4);
    /* SQLite has one instance (the data directory's lock): a named lock is
     * always this connection's. */
    ASSERT_EQ(vt_db_try_lock(reader, 42), 1);
    ASSERT_EQ(vt_db_try_lock(db, 42), 1);
    ASSERT_EQ(vt_db_unlock(reader, 42), 0);
    vt_db_close(reader);

    /* The schema's tables by name, a full-text index marked, SQLite's own
     * tables, an index's shadow tables and views left out; a callback's
     * non-zero return stops the walk. */
    ASSERT_EQ(vt_db_exec(db, "CREATE VIRTUAL TABLE docs_fts USING fts5 (body); "
                             "CREATE TABLE a (x INTEGER PRIMARY KEY AUTOINCREMENT); "
                             "CREATE VIEW v AS SELECT * FROM t"),
              0);
    char tables[256] = "";
    ASSERT_EQ(vt_db_tables(db, list_into, tables), 0);
    ASSERT_STREQ(tables, "a docs_fts* t");
    int seen = 0;
    ASSERT_EQ(vt_db_tables(db, stop_at_second, &seen), 7);
    ASSERT_EQ(seen, 2);

    /* An unknown driver is a configuration error. */
    struct vt_db *none = NULL;
    struct vt_db_options bad = {.driver = "oracle", .path = path};
    ASSERT_EQ(vt_db_open(&bad, &none, err, sizeof(err)), VT_ECONFIG);
    ASSERT_TRUE(strstr(err, "oracle") != NULL);

    vt_db_close(db);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 2;
    VT_TEST_END();
}
