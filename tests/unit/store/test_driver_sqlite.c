/* test_driver_sqlite.c - what the SQLite driver does beyond binds and
 * columns (test_db.c): the writing connection's checkpointer
 * (vt_db_options.maintain) moves the WAL into the database off the writer's
 * thread, a database left readable to others is made owner-only when
 * opened, vt_db_copy_to makes one checked self-contained file, an immutable
 * open reads such a file writing nothing beside it, vt_db_table_exists and
 * vt_db_last_insert_id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "store/db.h"
#include "vt_test.h"

static const char SQL_PUT[] = "INSERT INTO t (b) VALUES (?1)";
static const char SQL_COUNT[] = "SELECT count(*) FROM t";

static off_t size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static int64_t count(struct vt_db *db)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_COUNT);
    int64_t n = st && vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : -1;
    vt_db_reset(st);
    return n;
}

/* Commits n transactions of ten 4 KiB rows each. */
static int fill(struct vt_db *db, int n)
{
    static unsigned char blob[4000];
    for (int i = 0; i < n; i++) {
        if (vt_db_begin(db, true))
            return -1;
        for (int j = 0; j < 10; j++) {
            struct vt_db_stmt *st = vt_db_prepare(db, SQL_PUT);
            if (!st)
                return -1;
            blob[0] = (unsigned char)j;
            vt_db_bind_blob(st, 1, blob, sizeof(blob));
            if (vt_db_run(st))
                return -1;
        }
        if (vt_db_commit(db))
            return -1;
    }
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/vt-test-sqlite-XXXXXX", path[300], err[300] = "";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/w.db", dir);

    /* A database file left readable to others is the owner's once opened. */
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fclose(f);
    ASSERT_EQ(chmod(path, 0644), 0);
    struct vt_db *db = NULL;
    struct vt_db_options opt = {.path = path, .maintain = true};
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);
    struct stat sb;
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);

    ASSERT_EQ(vt_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), 0);
    ASSERT_EQ(vt_db_table_exists(db, "t"), 1);
    ASSERT_EQ(vt_db_table_exists(db, "u"), 0);
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_PUT);
    vt_db_bind_null(st, 1);
    ASSERT_EQ(vt_db_run(st), 0);
    ASSERT_EQ(vt_db_last_insert_id(db), 1);
    ASSERT_EQ(vt_db_run(vt_db_prepare(db, SQL_PUT)), 0);
    ASSERT_EQ(vt_db_last_insert_id(db), 2);

    /* 1,200 pages of commits: past the 1,000 pages that wake the
     * checkpointer, which copies the WAL into the database file (without
     * it, the writes would stay in the WAL and the file would not grow). */
    off_t before = size_of(path);
    ASSERT_EQ(fill(db, 120), 0);
    bool grew = false;
    for (int i = 0; i < 600 && !grew; i++) { /* up to 60 s on a busy machine */
        grew = size_of(path) > before + 1000 * 4096;
        if (!grew)
            usleep(100 * 1000);
    }
    ASSERT_TRUE(grew);
    ASSERT_EQ(count(db), 1202);

    /* A copy: one self-contained checked file, made while db is open. */
    char copy[320], side[340];
    snprintf(copy, sizeof(copy), "%s/copy.db", dir);
    f = fopen(copy, "w");
    ASSERT_TRUE(f != NULL);
    fclose(f);
    ASSERT_EQ(vt_db_copy_to(db, copy, err, sizeof(err)), 0);
    snprintf(side, sizeof(side), "%s-wal", copy);
    ASSERT_TRUE(access(side, F_OK) != 0);
    vt_db_close(db); /* stops the checkpointer */

    /* Read immutably: nothing is written beside it. */
    struct vt_db_options ro = {.path = copy, .read_only = true, .immutable = true};
    ASSERT_EQ(vt_db_open(&ro, &db, err, sizeof(err)), 0);
    ASSERT_EQ(count(db), 1202);
    vt_db_close(db);
    ASSERT_TRUE(access(side, F_OK) != 0);
    snprintf(side, sizeof(side), "%s-shm", copy);
    ASSERT_TRUE(access(side, F_OK) != 0);

    /* A copy that cannot be made leaves nothing behind. */
    char bad[320];
    snprintf(bad, sizeof(bad), "%s/missing/copy.db", dir);
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);
    ASSERT_EQ(vt_db_copy_to(db, bad, err, sizeof(err)), VT_ESTORE);
    ASSERT_TRUE(err[0] != '\0');
    vt_db_close(db);

    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    VT_TEST_END();
}
