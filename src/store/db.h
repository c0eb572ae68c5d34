/* db.h - the one database interface: connections, prepared statements,
 * typed binds and columns, transactions, and the few pieces of SQL that
 * differ between databases, behind named functions.
 *
 * Owns: nothing but the contract. A driver implements it (driver_sqlite.c
 * for the embedded default, driver_pg.c for PostgreSQL), and only a driver
 * includes its database's header. Modules write their SQL once,
 * next to them, in the subset SQLite and PostgreSQL share: numbered
 * placeholders ?1..?N, ON CONFLICT, RETURNING, no INSERT OR, dates and times
 * computed in C and bound as values.
 * Must not: know any table. The store (store.c) owns the schema and the
 * writer thread; modules get a connection from a transaction or a reader.
 *
 * Model: Dovecot's lib-sql (one API, one driver per database), made
 * synchronous: every call runs on the thread that owns the connection.
 *
 * A statement's life (statements belong to their connection and are cached
 * by it, so a module never finalizes one):
 *
 *   vt_db_prepare --> ready (bindings cleared) --bind_*--> bound
 *   bound --vt_db_step--> VT_DB_ROW (read columns) --vt_db_step--> ... VT_DB_DONE
 *   any state --vt_db_reset--> ready; the next vt_db_prepare of the same SQL
 *   also resets it.
 *
 * Errors follow error.h: 0 or a negative VT_E* code. A unique or primary key
 * violation is VT_EEXIST, a locked database VT_EBUSY, anything else
 * VT_ESTORE; vt_db_errmsg() has the driver's English detail for the log.
 *
 * Threads: a connection and its statements belong to one thread at a time.
 */
#ifndef VT_DB_H
#define VT_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vt_db;
struct vt_db_stmt;

enum { VT_DB_DONE = 0, VT_DB_ROW = 1 };

struct vt_db_options {
    const char *driver;   /* "sqlite" or "postgresql" (NULL means sqlite) */
    const char *path;     /* sqlite: the database file */
    const char *conninfo; /* postgresql: a libpq connection string */
    bool create;          /* create the database when absent (mode 0600) */
    bool read_only;       /* a reader: never writes */
    /* A copy that nothing writes while it is open (a backup being read):
     * read without locks, and nothing is written beside it. */
    bool immutable;
    /* The connection that does the writing: the driver keeps the database
     * tidy without making its commits wait (SQLite: the WAL is checkpointed
     * on a thread and connection of the driver's own, woken by the commits
     * that grew it), until vt_db_close. */
    bool maintain;
    /* What the database shows its administrators for this connection
     * (PostgreSQL: application_name, unless the connection string names
     * one); NULL means "ventanilla". SQLite ignores it. */
    const char *name;
};

/* Opens a connection. 0 with *out set, or VT_E* with err filled. */
int vt_db_open(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen);
/* Closes db and every statement it prepared; NULL ok. */
void vt_db_close(struct vt_db *db);
/* The driver's name ("sqlite" or "postgresql"). */
const char *vt_db_driver_name(const struct vt_db *db);
/* The last error's English detail, for the log; never NULL. */
const char *vt_db_errmsg(struct vt_db *db);

/* Runs SQL without parameters or rows, possibly several statements separated
 * by semicolons (migrations, settings). 0 or VT_E*. */
int vt_db_exec(struct vt_db *db, const char *sql);

/* Whether a table called name exists: 1, 0 or VT_E*. */
int vt_db_table_exists(struct vt_db *db, const char *name);

/* Calls each(ctx, name, fts) for every table of the database's schema, by
 * name, the database's own bookkeeping left out (SQLite's sqlite_* tables,
 * a virtual table's shadow tables); fts is set for a full-text index the
 * database keeps from another table (SQLite: a virtual table; PostgreSQL: a
 * table with a tsvector column). each must not use db; its non-zero return
 * stops the walk and is returned. 0 or VT_ESTORE. */
int vt_db_tables(struct vt_db *db, int (*each)(void *ctx, const char *name, bool fts), void *ctx);

/* Copies the whole database into dest_file, an empty owner-only file the
 * caller made, as one consistent snapshot that does not hold up writers on
 * other connections. The copy is one self-contained file that passed the
 * database's own integrity check. 0, or VT_ESTORE with err filled and
 * dest_file (with whatever the driver made beside it) removed. */
int vt_db_copy_to(struct vt_db *db, const char *dest_file, char *err, size_t errlen);

/* Named locks held by a connection's session (not by a transaction), for work
 * that one instance of several on the database must do at a time (polling a
 * mailbox). key: a stable 64-bit name the caller makes. The lock ends with
 * vt_db_unlock, vt_db_close, or the connection: when the connection is lost
 * (the instance died, the network dropped), so is the lock, and a driver that
 * makes the connection again does not take it back by itself.
 * vt_db_try_lock: 1 when this connection holds the lock now (taken now, or
 * still held from an earlier call: calling again is how a holder checks that
 * it did not lose it), 0 when another session holds it, VT_E* (the database
 * is unreachable: treat as not held). A database with one user at a time
 * (SQLite: the data directory's lock makes its instance unique) always
 * gives 1. */
int vt_db_try_lock(struct vt_db *db, int64_t key);
/* Lets go of a lock vt_db_try_lock gave (nothing when not held). 0 or VT_E*. */
int vt_db_unlock(struct vt_db *db, int64_t key);

/* Transactions. begin(write): a write transaction takes the write lock at
 * once, so it never fails later on a lock upgrade. Savepoints nest inside.
 * Each runs a statement cached by the connection: a savepoint per store job
 * is not parsed again each time. */
int vt_db_begin(struct vt_db *db, bool write);
int vt_db_commit(struct vt_db *db);
int vt_db_rollback(struct vt_db *db);
int vt_db_savepoint(struct vt_db *db, const char *name);
int vt_db_release(struct vt_db *db, const char *name);
int vt_db_rollback_to(struct vt_db *db, const char *name);

/* A prepared statement for sql, a string literal: cached by its address, so
 * the cost of preparing is paid once per connection. Returns it reset with
 * bindings cleared; NULL when it cannot be prepared (logged). */
struct vt_db_stmt *vt_db_prepare(struct vt_db *db, const char *sql);
/* The same for SQL built at run time: cached by its text (the least recently
 * used goes when the cache is full). sql is copied. */
struct vt_db_stmt *vt_db_prepare_text(struct vt_db *db, const char *sql);

/* Binds parameter i (1-based, as ?i in the SQL). Text and blobs are not
 * copied: they must stay valid until the statement is reset or prepared
 * again. bind_text with NULL binds SQL NULL. */
void vt_db_bind_int(struct vt_db_stmt *st, int i, int64_t v);
void vt_db_bind_double(struct vt_db_stmt *st, int i, double v);
void vt_db_bind_text(struct vt_db_stmt *st, int i, const char *s);
void vt_db_bind_blob(struct vt_db_stmt *st, int i, const void *p, size_t len);
void vt_db_bind_null(struct vt_db_stmt *st, int i);
/* Text that the caller is about to free or reuse: copied now. */
void vt_db_bind_text_copy(struct vt_db_stmt *st, int i, const char *s);
/* Binds column col of src's current row as parameter i of st, by the
 * value's storage class (vt_db_col_type), borrowed as bind_text and
 * bind_blob are: src must stay on that row until st is run. */
void vt_db_bind_col(struct vt_db_stmt *st, int i, struct vt_db_stmt *src, int col);

/* Runs the statement to its next row: VT_DB_ROW, VT_DB_DONE, or VT_E*. */
int vt_db_step(struct vt_db_stmt *st);
/* Runs a statement that returns no row to the end and resets it: 0 or
 * VT_E* (VT_ESTORE also when it unexpectedly returned a row). */
int vt_db_run(struct vt_db_stmt *st);
/* Rows inserted, updated or deleted by the statement's last run. */
int64_t vt_db_changes(struct vt_db_stmt *st);
/* The id of the row the connection's last successful INSERT made, in a
 * table whose key is an integer id (SQLite: the rowid; a PostgreSQL driver:
 * lastval(), the id column's sequence). Modules use INSERT ... RETURNING
 * id; this is for the store writer's item insert, where SQLite's RETURNING
 * cost about 27,000 more instructions per intake (7 % of the writer's). */
int64_t vt_db_last_insert_id(struct vt_db *db);
/* Whether a new row's id is cheaper read with INSERT ... RETURNING id than
 * with vt_db_last_insert_id on this connection: true on PostgreSQL (lastval()
 * is one more round trip), false on SQLite (RETURNING costs instructions). */
bool vt_db_returning_id(struct vt_db *db);
/* Resets to ready (bindings cleared); NULL ok. */
void vt_db_reset(struct vt_db_stmt *st);

/* Columns of the current row, 0-based. Text and blobs stay valid until the
 * next step or reset. */
bool vt_db_col_null(struct vt_db_stmt *st, int i);
int64_t vt_db_col_int(struct vt_db_stmt *st, int i);
double vt_db_col_double(struct vt_db_stmt *st, int i);
/* NULL for SQL NULL. */
const char *vt_db_col_text(struct vt_db_stmt *st, int i);
/* "" for SQL NULL. */
const char *vt_db_col_str(struct vt_db_stmt *st, int i);
size_t vt_db_col_len(struct vt_db_stmt *st, int i);
const void *vt_db_col_blob(struct vt_db_stmt *st, int i, size_t *len);
/* Copies column i into out (cap bytes, always NUL-terminated; "" for NULL). */
void vt_db_col_copy(struct vt_db_stmt *st, int i, char *out, size_t cap);

/* What the columns are, for code that copies rows it does not know (store
 * copy). The count and names are valid once vt_db_step returned VT_DB_ROW or
 * VT_DB_DONE, until the statement is reset; a name is owned by the
 * statement (NULL when i is out of range). */
int vt_db_col_count(struct vt_db_stmt *st);
const char *vt_db_col_name(struct vt_db_stmt *st, int i);

/* The storage class of column i of the current row: VT_DB_NULL for SQL NULL,
 * else what reading it loses nothing as (SQLite: the value's own class;
 * PostgreSQL: by the column's type: integers and booleans VT_DB_INT,
 * floating and numeric VT_DB_DOUBLE, bytea VT_DB_BLOB, anything else
 * VT_DB_TEXT). */
enum vt_db_type { VT_DB_NULL, VT_DB_INT, VT_DB_DOUBLE, VT_DB_TEXT, VT_DB_BLOB };
enum vt_db_type vt_db_col_type(struct vt_db_stmt *st, int i);

/* ---- notifications between connections (PostgreSQL's LISTEN/NOTIFY) ----
 * A database without them (SQLite: one process owns the file) returns
 * VT_EINVAL from all three. */

enum { VT_DB_TIMEOUT = 0, VT_DB_NOTIFIED = 1 };

/* Queues a notification on channel (a plain name) in the current write
 * transaction: delivered to every listening connection when it commits,
 * never when it rolls back. 0 or VT_E*. */
int vt_db_notify(struct vt_db *db, const char *channel);
/* Makes this connection listen to channel (a plain name), outside any
 * transaction. A listening connection is for waiting: use it for reads
 * between waits, never for a long transaction. 0 or VT_E*. */
int vt_db_listen(struct vt_db *db, const char *channel);
/* Waits up to timeout_ms for a notification on the channels db listens to:
 * VT_DB_NOTIFIED (every notification already arrived is consumed with it),
 * VT_DB_TIMEOUT, or VT_ESTORE when the connection is lost; its LISTENs are
 * gone then, so the caller closes it and opens another. */
int vt_db_wait_notify(struct vt_db *db, int timeout_ms);

/* ---- full-text search: the one piece of query syntax that differs ---- */

/* Turns words a person typed (valid UTF-8) into this database's full-text
 * query text, to be bound where vt_db_fts_ids_sql put its parameter: a word
 * is a run of ASCII letters and digits and non-ASCII characters; each is
 * prefix-matched and all are required; at most 12 words of 64 bytes (whole
 * characters) count. False when there is no word. The result never makes the
 * database refuse the query (fuzz_fts_query). */
bool vt_db_fts_query(struct vt_db *db, const char *words, char *out, size_t cap);
/* The SQL of a subquery whose one column, id, holds the keys of the rows of
 * the full-text index named index (the schema's name, e.g. items_fts over
 * items) that match the query text bound as ?param. Written into out (cap
 * bytes): 0, or VT_EINVAL when it does not fit or index is not a plain
 * name. */
int vt_db_fts_ids_sql(struct vt_db *db, const char *index, int param, char *out, size_t cap);

#endif
