/* db_driver.h - the table of functions a database driver fills (db.h).
 *
 * db.c dispatches every vt_db_* call through the driver of the connection or
 * statement, like Varnish's stevedores or Dovecot's sql_db drivers, and
 * keeps each connection's statement cache, so a driver only compiles and
 * frees statements. Only
 * db.c and drivers include this header; each driver's connection and
 * statement structs begin with the base structs below.
 */
#ifndef VT_DB_DRIVER_H
#define VT_DB_DRIVER_H

#include "store/db.h"

struct vt_db_driver;

struct vt_db_cache; /* db.c's statement cache */

struct vt_db {
    const struct vt_db_driver *drv;
    struct vt_db_cache *cache; /* db.c's; a driver's open leaves it NULL */
};
struct vt_db_stmt {
    const struct vt_db_driver *drv;
};

struct vt_db_driver {
    const char *name;
    int (*open)(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen);
    void (*close)(struct vt_db *db);
    const char *(*errmsg)(struct vt_db *db);
    int (*exec)(struct vt_db *db, const char *sql);
    /* Compiles a new statement (db.c caches it: vt_db_prepare's contract);
     * NULL on failure, logged. */
    struct vt_db_stmt *(*prepare)(struct vt_db *db, const char *sql);
    /* Frees a statement prepare made. evicted: it leaves a cache that goes
     * on (a driver frees what the server holds for it); false when the
     * connection is about to close. */
    void (*finalize)(struct vt_db_stmt *st, bool evicted);
    int (*table_exists)(struct vt_db *db, const char *name);
    int (*tables)(struct vt_db *db, int (*each)(void *ctx, const char *name, bool fts), void *ctx);
    int (*copy_to)(struct vt_db *db, const char *dest_file, char *err, size_t errlen);
    /* Optional: starts a transaction (db.h's vt_db_begin); NULL runs
     * "BEGIN IMMEDIATE" for a writer and "BEGIN" for a reader. */
    int (*begin)(struct vt_db *db, bool write);

    /* Optional: session-level named locks (db.h's vt_db_try_lock and
     * vt_db_unlock); NULL: the database has one user, the lock is always
     * held. */
    int (*try_lock)(struct vt_db *db, int64_t key);
    int (*unlock)(struct vt_db *db, int64_t key);

    void (*bind_int)(struct vt_db_stmt *st, int i, int64_t v);
    void (*bind_double)(struct vt_db_stmt *st, int i, double v);
    /* s[len] is a NUL; copy: s is about to be freed or reused. */
    void (*bind_text)(struct vt_db_stmt *st, int i, const char *s, size_t len, bool copy);
    void (*bind_blob)(struct vt_db_stmt *st, int i, const void *p, size_t len);
    void (*bind_null)(struct vt_db_stmt *st, int i);

    int (*step)(struct vt_db_stmt *st);
    int64_t (*changes)(struct vt_db_stmt *st);
    int64_t (*last_insert_id)(struct vt_db *db);
    bool returning_id; /* vt_db_returning_id */
    void (*reset)(struct vt_db_stmt *st);

    bool (*col_null)(struct vt_db_stmt *st, int i);
    int64_t (*col_int)(struct vt_db_stmt *st, int i);
    double (*col_double)(struct vt_db_stmt *st, int i);
    const char *(*col_text)(struct vt_db_stmt *st, int i);
    const void *(*col_blob)(struct vt_db_stmt *st, int i, size_t *len);
    int (*col_count)(struct vt_db_stmt *st);
    const char *(*col_name)(struct vt_db_stmt *st, int i);
    enum vt_db_type (*col_type)(struct vt_db_stmt *st, int i);

    /* Optional (db.h's notifications): NULL where the database has none. */
    int (*notify)(struct vt_db *db, const char *channel);
    int (*listen)(struct vt_db *db, const char *channel);
    int (*wait_notify)(struct vt_db *db, int timeout_ms);

    /* Full-text search (db.h): the query text of n words (lens[i] bytes
     * each, already split and trimmed by db.c), false when none fits in
     * cap; and the subquery of the matching ids. */
    bool (*fts_query)(const char *const *words, const size_t *lens, size_t n, char *out,
                      size_t cap);
    int (*fts_ids_sql)(const char *index, int param, char *out, size_t cap);
};

extern const struct vt_db_driver vt_db_driver_sqlite;
extern const struct vt_db_driver vt_db_driver_pg;

#endif
