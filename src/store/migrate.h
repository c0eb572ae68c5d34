/* migrate.h - the data directory's database and its schema version: where
 * the database is, the migrations runner, and the check every command makes
 * before it uses a database.
 *
 * store.h includes this header, so callers of vt_store_migrate need only
 * store.h; the store and its command-line operations use the rest.
 */
#ifndef VT_MIGRATE_H
#define VT_MIGRATE_H
#include <stdbool.h>
#include <stddef.h>

struct vt_db;
struct vt_migration;

/* Applies pending migrations (each in its own transaction). Returns 0,
 * VT_EVERSION when the database is newer than this binary, or VT_ESTORE. */
int vt_store_migrate(const char *data_dir, char *err, size_t errlen);

/* The newest schema version this program knows (its last migration). */
int vt_store_schema_latest(void);

/* Fills out with the path of DATA_DIR's database file. */
void vt_migrate_db_path(const char *data_dir, char *out, size_t cap);

/* Applies the migrations of list (ending with a NULL name) newer than db's
 * version, each in its own transaction with its row in schema_migrations.
 * 0, VT_EVERSION when db records a version list does not know, or VT_ESTORE;
 * err says which. */
int vt_migrate_run(struct vt_db *db, const struct vt_migration *list, char *err, size_t errlen);

/* The schema version db records in *version (0 for a database without
 * schema_migrations). 0 or VT_ESTORE. */
int vt_migrate_version(struct vt_db *db, int *version);

/* Opens DATA_DIR's existing database when its schema is this program's
 * (never creating it); writer: the connection the store's writer uses
 * (vt_db_options.maintain). 0 with *out set, VT_ENOTFOUND, VT_EVERSION
 * (older: run migrate; newer: use a newer program) or VT_ESTORE, with err
 * filled. */
int vt_migrate_open_current(const char *data_dir, bool writer, struct vt_db **out, char *err,
                            size_t errlen);

#endif
