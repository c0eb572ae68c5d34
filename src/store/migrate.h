/* migrate.h - the store's database and its schema version: where the
 * database is (its place: SQLite's file in the data directory, or a
 * PostgreSQL database), the migrations runner, and the check every command
 * makes before it uses a database.
 *
 * store.h includes this header, so callers of vt_store_migrate need only
 * store.h; the store and its command-line operations use the rest.
 */
#ifndef VT_MIGRATE_H
#define VT_MIGRATE_H
#include <stdbool.h>
#include <stddef.h>

struct vt_db;
struct vt_db_options;
struct vt_migration;

/* Where a store lives. On SQLite the data directory holds ventanilla.db,
 * attachments/ and audit.key. On PostgreSQL the database holds everything
 * but the audit key (attachments too: attach.h), and the data directory is
 * optional (NULL): the key is then audit_key, a file every instance is
 * given. */
struct vt_store_place {
    const char *data_dir;  /* NULL: none (PostgreSQL only) */
    const char *backend;   /* "sqlite" (NULL means sqlite) or "postgresql" */
    const char *conninfo;  /* postgresql: a libpq connection string */
    const char *audit_key; /* the audit key's file; NULL or "": DATA_DIR/audit.key */
};

/* Fills out with the path of place's audit key file: audit_key, else
 * DATA_DIR/audit.key. 0, or VT_ENOTFOUND when there is neither, or
 * VT_ERANGE when it does not fit. */
int vt_store_key_path(const struct vt_store_place *place, char *out, size_t cap);
/* Reads place's audit key (VT_AUDIT_KEY_BYTES into key). 0, or VT_ENOTFOUND
 * / VT_EIO with err naming the file and how to make one. */
int vt_store_key_load(const struct vt_store_place *place, unsigned char *key, char *err,
                      size_t errlen);

/* Whether place is a PostgreSQL database. */
bool vt_store_place_pg(const struct vt_store_place *place);

/* Fills opt to open place's database (path: room for SQLite's file name,
 * cap bytes). */
void vt_migrate_db_options(const struct vt_store_place *place, char *path, size_t cap,
                           struct vt_db_options *opt);

/* Creates the data directory when there is one, and the audit key when it
 * is DATA_DIR/audit.key and absent (a key file named by audit_key is never
 * made here: `ventanilla audit new-key`), and applies pending migrations
 * (each in its own transaction). Returns 0, VT_EVERSION when the
 * database is newer than this binary, or VT_ESTORE / VT_EIO. */
int vt_store_migrate(const struct vt_store_place *place, char *err, size_t errlen);

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

/* Connects to place's database and reads its schema version into *version
 * (0: none yet), without creating or changing anything. 0, or VT_ESTORE /
 * VT_ENOTFOUND with err saying why (an unreachable server, a refused login). */
int vt_store_reach(const struct vt_store_place *place, int *version, char *err, size_t errlen);

/* Opens place's existing database when its schema is this program's
 * (never creating it); writer: the connection the store's writer uses
 * (vt_db_options.maintain). 0 with *out set, VT_ENOTFOUND, VT_EVERSION
 * (older: run migrate; newer: use a newer program) or VT_ESTORE, with err
 * filled. */
int vt_migrate_open_current(const struct vt_store_place *place, bool writer, struct vt_db **out,
                            char *err, size_t errlen);

#endif
