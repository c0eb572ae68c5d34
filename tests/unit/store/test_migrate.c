/* test_migrate.c - the migrations runner (store/migrate.h) alone, on a
 * database of its own: migrations apply in order once each, a failing one
 * rolls back whole and leaves the version where it was, a database newer
 * than the program is refused by the runner and by the check every command
 * makes, and an older one is refused by the check until migrated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/migrations.h"
#include "vt_test.h"

static const struct vt_migration two[] = {
    {1, "0001_a.sql", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
    {2, "0002_b.sql", "CREATE TABLE b (y TEXT);"},
    {0, NULL, NULL},
};

/* The third creates a table, then fails: neither it nor its row may stay. */
static const struct vt_migration broken[] = {
    {1, "0001_a.sql", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
    {2, "0002_b.sql", "CREATE TABLE b (y TEXT);"},
    {3, "0003_c.sql", "CREATE TABLE c (z INTEGER); INSERT INTO no_such_table VALUES (1);"},
    {0, NULL, NULL},
};

static const struct vt_migration one[] = {
    {1, "0001_a.sql", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
    {0, NULL, NULL},
};

static int64_t count_rows(struct vt_db *db, const char *sql)
{
    struct vt_db_stmt *st = vt_db_prepare_text(db, sql);
    int64_t n = st && vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : -1;
    vt_db_reset(st);
    return n;
}

static int version_of(struct vt_db *db)
{
    int v = -1;
    ASSERT_EQ(vt_migrate_version(db, &v), 0);
    return v;
}

int main(void)
{
    char dir[] = "/tmp/vt-test-migrate-XXXXXX", path[300], err[300] = "";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/m.db", dir);
    struct vt_db *db = NULL;
    struct vt_db_options opt = {.path = path, .create = true};
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);

    /* A new database has no version; two migrations apply, once. */
    ASSERT_EQ(version_of(db), 0);
    ASSERT_EQ(vt_migrate_run(db, two, err, sizeof(err)), 0);
    ASSERT_EQ(version_of(db), 2);
    ASSERT_EQ(vt_migrate_run(db, two, err, sizeof(err)), 0);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM a"), 1);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM schema_migrations"), 2);
    ASSERT_EQ(vt_db_table_exists(db, "b"), 1);

    /* A failing migration: refused with its name, nothing of it kept. */
    ASSERT_EQ(vt_migrate_run(db, broken, err, sizeof(err)), VT_ESTORE);
    ASSERT_TRUE(strstr(err, "0003_c.sql") != NULL);
    ASSERT_EQ(version_of(db), 2);
    ASSERT_EQ(vt_db_table_exists(db, "c"), 0);

    /* A database that records a version this list does not know. */
    err[0] = '\0';
    ASSERT_EQ(vt_migrate_run(db, one, err, sizeof(err)), VT_EVERSION);
    ASSERT_TRUE(strstr(err, "version 2") != NULL);
    ASSERT_EQ(count_rows(db, "SELECT count(*) FROM a"), 1);
    vt_db_close(db);

    /* The check every command makes, on a data directory: none yet. */
    char data[320], dbfile[400], sql[200], cmd[700];
    snprintf(data, sizeof(data), "%s/old", dir);
    ASSERT_EQ(vt_migrate_open_current(&(struct vt_store_place){.data_dir = data}, false, &db, err, sizeof(err)), VT_ENOTFOUND);
    ASSERT_TRUE(db == NULL);
    /* Older than the program: "run migrate". */
    ASSERT_EQ(mkdir(data, 0700), 0);
    vt_migrate_db_path(data, dbfile, sizeof(dbfile));
    opt.path = dbfile;
    ASSERT_EQ(vt_db_open(&opt, &db, err, sizeof(err)), 0);
    ASSERT_EQ(vt_migrate_run(db, two, err, sizeof(err)), 0);
    vt_db_close(db);
    db = NULL;
    ASSERT_EQ(vt_migrate_open_current(&(struct vt_store_place){.data_dir = data}, false, &db, err, sizeof(err)), VT_EVERSION);
    ASSERT_TRUE(strstr(err, "run `ventanilla migrate`") != NULL);
    ASSERT_TRUE(db == NULL);

    /* vt_store_migrate makes a current one, which the check opens. */
    snprintf(data, sizeof(data), "%s/data", dir);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = data}, err, sizeof(err)), 0);
    ASSERT_EQ(vt_migrate_open_current(&(struct vt_store_place){.data_dir = data}, false, &db, err, sizeof(err)), 0);
    ASSERT_TRUE(db != NULL);
    ASSERT_EQ(version_of(db), vt_store_schema_latest());
    /* Newer than the program: refused by the check and by migrate alike. */
    snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, '9999_future.sql', 0)",
             vt_store_schema_latest() + 1);
    ASSERT_EQ(vt_db_exec(db, sql), 0);
    vt_db_close(db);
    db = NULL;
    ASSERT_EQ(vt_migrate_open_current(&(struct vt_store_place){.data_dir = data}, true, &db, err, sizeof(err)), VT_EVERSION);
    ASSERT_TRUE(strstr(err, "use a newer ventanilla") != NULL);
    ASSERT_TRUE(db == NULL);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = data}, err, sizeof(err)), VT_EVERSION);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    VT_TEST_END();
}
