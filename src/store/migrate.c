/* migrate.c - the migrations runner and the schema version check
 * (migrate.h).
 *
 * Owns: the store's place (DATA_DIR/ventanilla.db, or a PostgreSQL
 * database), the schema_migrations table, which set of migrations a
 * database takes (migrations/ for SQLite, migrations/postgresql/ for
 * PostgreSQL: the same versions and names, the same schema), and the rule
 * that a database written by a newer program is never touched.
 * Must not: know what a migration does: each file runs as it is, through
 * vt_db_exec.
 *
 * A migration and its schema_migrations row commit together: a failing one
 * rolls back whole and leaves the version where it was.
 */
#include "store/migrate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/error.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/migrations.h"

/* The one table both sets of migrations share, in each one's spelling of a
 * 64-bit integer (applied_at is in ms). */
static const char SQL_CREATE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
static const char SQL_CREATE_PG[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
static const char SQL_VERSION[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int latest_of(const struct vt_migration *list)
{
    int v = 0;
    for (const struct vt_migration *m = list; m->name; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

int vt_store_schema_latest(void)
{
    return latest_of(vt_migrations);
}

void vt_migrate_db_path(const char *data_dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/ventanilla.db", data_dir);
}

bool vt_store_place_pg(const struct vt_store_place *place)
{
    return place->backend && strcmp(place->backend, "postgresql") == 0;
}

void vt_migrate_db_options(const struct vt_store_place *place, char *path, size_t cap,
                           struct vt_db_options *opt)
{
    *opt = (struct vt_db_options){0};
    if (vt_store_place_pg(place)) {
        opt->driver = "postgresql";
        opt->conninfo = place->conninfo;
        return;
    }
    vt_migrate_db_path(place->data_dir, path, cap);
    opt->path = path;
}

int vt_store_key_path(const struct vt_store_place *place, char *out, size_t cap)
{
    int w;
    if (place->audit_key && place->audit_key[0])
        w = snprintf(out, cap, "%s", place->audit_key);
    else if (place->data_dir && place->data_dir[0])
        w = snprintf(out, cap, "%s/audit.key", place->data_dir);
    else
        return VT_ENOTFOUND;
    return w >= 0 && (size_t)w < cap ? 0 : VT_ERANGE;
}

int vt_store_key_load(const struct vt_store_place *place, unsigned char *key, char *err,
                      size_t errlen)
{
    char path[4200];
    int rc = vt_store_key_path(place, path, sizeof(path));
    if (rc) {
        snprintf(err, errlen,
                 "no audit key: give a data directory (--data-dir or server.data_dir) or "
                 "store.audit_key_file (env VENTANILLA_AUDIT_KEY_FILE); make a new key with "
                 "`ventanilla audit new-key FILE`");
        return VT_ENOTFOUND;
    }
    if ((rc = vt_audit_key_load(path, 0, key)) == 0)
        return 0;
    if (rc == VT_ENOTFOUND && !(place->audit_key && place->audit_key[0]))
        snprintf(err, errlen, "cannot read %s; run `ventanilla migrate`", path);
    else if (rc == VT_ENOTFOUND)
        snprintf(err, errlen,
                 "the audit key file %s does not exist: copy it from an instance that uses the "
                 "same database, or for a new database make one with `ventanilla audit new-key "
                 "%s`",
                 path, path);
    else
        snprintf(err, errlen, "cannot read the audit key %s (it must hold %d bytes)", path,
                 VT_AUDIT_KEY_BYTES);
    return rc;
}

static const struct vt_migration *migrations_of(const struct vt_store_place *place)
{
    return vt_store_place_pg(place) ? vt_migrations_pg : vt_migrations;
}

int vt_migrate_version(struct vt_db *db, int *version)
{
    *version = 0;
    int exists = vt_db_table_exists(db, "schema_migrations");
    if (exists <= 0)
        return exists < 0 ? VT_ESTORE : 0;
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_VERSION);
    if (!st)
        return VT_ESTORE;
    int rc = vt_db_step(st);
    if (rc == VT_DB_ROW)
        *version = (int)vt_db_col_int(st, 0);
    vt_db_reset(st);
    return rc < 0 ? VT_ESTORE : 0;
}

/* A database written by a newer program must not be touched by this one. */
static int refuse_newer(int version, int latest, char *err, size_t errlen)
{
    if (version <= latest)
        return 0;
    snprintf(err, errlen,
             "the database schema is version %d but this program knows up to %d; use a newer "
             "ventanilla",
             version, latest);
    return VT_EVERSION;
}

/* Records m as applied, inside its transaction. */
static int record(struct vt_db *db, const struct vt_migration *m)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_RECORD);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, m->version);
    vt_db_bind_text(st, 2, m->name);
    vt_db_bind_int(st, 3, real_now_ms());
    return vt_db_run(st);
}

int vt_migrate_run(struct vt_db *db, const struct vt_migration *list, char *err, size_t errlen)
{
    int version, rc;
    bool pg = strcmp(vt_db_driver_name(db), "postgresql") == 0;
    if (vt_db_exec(db, pg ? SQL_CREATE_PG : SQL_CREATE)) {
        snprintf(err, errlen, "%s", vt_db_errmsg(db));
        return VT_ESTORE;
    }
    if ((rc = vt_migrate_version(db, &version))) {
        snprintf(err, errlen, "%s", vt_db_errmsg(db));
        return rc;
    }
    if ((rc = refuse_newer(version, latest_of(list), err, errlen)))
        return rc;
    for (const struct vt_migration *m = list; m->name; m++) {
        if (m->version <= version)
            continue;
        if (vt_db_begin(db, true)) {
            snprintf(err, errlen, "%s", vt_db_errmsg(db));
            return VT_ESTORE;
        }
        if (vt_db_exec(db, m->sql) || record(db, m) || vt_db_commit(db)) {
            snprintf(err, errlen, "migration %s failed: %s", m->name, vt_db_errmsg(db));
            vt_db_rollback(db);
            return VT_ESTORE;
        }
    }
    return 0;
}

static int open_db(const struct vt_store_place *place, bool create, bool writer, struct vt_db **out,
                   char *err, size_t errlen)
{
    char path[4200];
    struct vt_db_options opt;
    vt_migrate_db_options(place, path, sizeof(path), &opt);
    opt.create = create;
    opt.maintain = writer;
    return vt_db_open(&opt, out, err, errlen);
}

int vt_store_migrate(const struct vt_store_place *place, char *err, size_t errlen)
{
    const char *data_dir = place->data_dir;
    bool has_dir = data_dir && data_dir[0];
    if (!has_dir && !vt_store_place_pg(place)) {
        snprintf(err, errlen, "SQLite needs a data directory");
        return VT_EINVAL;
    }
    /* A data directory made here is the owner's alone. */
    if (has_dir && mkdir(data_dir, 0700) != 0 && access(data_dir, W_OK) != 0) {
        snprintf(err, errlen, "cannot create data directory %s", data_dir);
        return VT_EIO;
    }
    struct vt_db *db = NULL;
    int rc = open_db(place, true, false, &db, err, errlen);
    if (rc)
        return rc;
    /* The default key, DATA_DIR/audit.key, is made here; a key file of the
     * configuration is the operator's (audit new-key), the same file on
     * every instance, and is not needed to migrate. */
    unsigned char key[VT_AUDIT_KEY_BYTES];
    char path[4200];
    if (has_dir && !(place->audit_key && place->audit_key[0]) &&
        (vt_store_key_path(place, path, sizeof(path)) || vt_audit_key_load(path, 1, key))) {
        snprintf(err, errlen, "cannot create the audit key in %s", data_dir);
        rc = VT_EIO;
    } else {
        rc = vt_migrate_run(db, migrations_of(place), err, errlen);
    }
    sodium_memzero(key, sizeof(key));
    vt_db_close(db);
    return rc;
}

int vt_store_reach(const struct vt_store_place *place, int *version, char *err, size_t errlen)
{
    char path[4200];
    *version = 0;
    if (!vt_store_place_pg(place)) {
        vt_migrate_db_path(place->data_dir, path, sizeof(path));
        if (access(path, F_OK) != 0) {
            snprintf(err, errlen, "no database at %s", path);
            return VT_ENOTFOUND;
        }
    }
    struct vt_db *db = NULL;
    int rc = open_db(place, false, false, &db, err, errlen);
    if (rc)
        return rc;
    if ((rc = vt_migrate_version(db, version)))
        snprintf(err, errlen, "cannot read the schema version: %s", vt_db_errmsg(db));
    vt_db_close(db);
    return rc;
}

int vt_migrate_open_current(const struct vt_store_place *place, bool writer, struct vt_db **out,
                            char *err, size_t errlen)
{
    char path[4200];
    *out = NULL;
    if (!vt_store_place_pg(place)) {
        vt_migrate_db_path(place->data_dir, path, sizeof(path));
        if (access(path, F_OK) != 0) {
            snprintf(err, errlen, "no database at %s; run `ventanilla migrate` first", path);
            return VT_ENOTFOUND;
        }
    }
    struct vt_db *db = NULL;
    int version, latest = latest_of(migrations_of(place));
    int rc = open_db(place, false, writer, &db, err, errlen);
    if (rc)
        return rc;
    if ((rc = vt_migrate_version(db, &version))) {
        snprintf(err, errlen, "cannot read the schema version: %s", vt_db_errmsg(db));
        goto fail;
    }
    if (version == 0 && vt_store_place_pg(place)) {
        snprintf(err, errlen,
                 "the PostgreSQL database has no Ventanilla schema; run `ventanilla "
                 "migrate` first");
        rc = VT_ENOTFOUND;
        goto fail;
    }
    if ((rc = refuse_newer(version, latest, err, errlen)))
        goto fail;
    if (version < latest) {
        snprintf(err, errlen, "the database schema is version %d, not %d; run `ventanilla migrate`",
                 version, latest);
        rc = VT_EVERSION;
        goto fail;
    }
    *out = db;
    return 0;
fail:
    vt_db_close(db);
    return rc;
}
