/* copy.c - `ventanilla store copy` (copy.h): a SQLite store moved into an
 * empty PostgreSQL database, with its attachments and audit key.
 *
 * Invariants:
 *  1. Nothing is copied into a database that holds data. "Data" is any row
 *     the target's migrations did not write (the default survey they insert
 *     is not data): a row whose xmin is not the transaction of one of the
 *     schema_migrations rows. The check runs before the target is migrated
 *     and again inside the copy's transaction, after its write lock.
 *  2. The tables are the schema's, as each database lists them
 *     (vt_db_tables): the same names on both sides, the same full-text
 *     indexes, and in each table the same set of columns. Only
 *     schema_migrations, the migrator's own, is left as the target's
 *     migrations wrote it. A full-text index is not copied: PostgreSQL's
 *     triggers fill it as items are inserted, and its row count is checked
 *     against the source's.
 *  3. Tables are filled in the order of PostgreSQL's foreign keys (a table
 *     after every table it references); rows are read one at a time from
 *     one SQLite read transaction and inserted with their ids, each value
 *     bound by its storage class (blobs as bytea).
 *  4. Attachments in the copy's transaction: the bytes of each attachment
 *     file (checked against its SHA-256 name) go into attachment_blobs with
 *     the rows that name them. The audit key is in the target's key file
 *     (store.audit_key_file, or DATA_DIR/audit.key) before that commit. A
 *     failed copy may leave the source's key there (the database being
 *     empty, no chain depends on the key it replaced).
 *  5. Identity sequences are set past each table's largest id just before
 *     the commit (setval is not transactional: a rolled-back copy leaves
 *     them advanced, which only skips ids of an empty database).
 *  6. Neither store is in use: a daemon on either data directory (its lock)
 *     or another ventanilla connected to the target database is refused, so
 *     nothing the source takes after the snapshot is lost.
 */
#include "store/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/text.h"
#include "store/db.h"
#include "store/store.h"

#define MAX_TABLES 128
#define MAX_COLS 64 /* the PostgreSQL driver's parameters per statement */
#define NAME_LEN 64 /* PostgreSQL's identifiers are at most 63 bytes */
#define MAX_EDGES 512
#define PATH_LEN 4400

static const char SQL_PG_FKEYS[] =
    "SELECT c.relname, f.relname FROM pg_catalog.pg_constraint k "
    "JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
    "JOIN pg_catalog.pg_class f ON f.oid = k.confrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE k.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2";
static const char SQL_PG_SEQUENCES[] =
    "SELECT c.relname, a.attname FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 "
    "AND NOT a.attisdropped "
    "AND pg_catalog.pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL "
    "ORDER BY 1, 2";
/* Other sessions of a ventanilla (the driver's application_name) on the
 * target database. */
static const char SQL_PG_OTHERS[] =
    "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND application_name = 'ventanilla'";
static const char SQL_LAST_RADICADO[] =
    "SELECT count(*), (SELECT radicado FROM items WHERE radicado IS NOT NULL "
    "ORDER BY radicado_year DESC, radicado_seq DESC LIMIT 1) FROM items";

/* The migrator's table: the target keeps the rows its migrations wrote. */
#define MIGRATIONS_TABLE "schema_migrations"

struct table {
    char name[NAME_LEN];
    bool derived;     /* a full-text index PostgreSQL's triggers fill */
    bool names_files; /* has a sha256 column: attachment file names */
    int64_t rows;     /* copied */
};

struct copy {
    const struct vt_store_copy_options *opt;
    FILE *out;
    char *err;
    size_t errlen;
    struct vt_db *src, *dst;
    struct table t[MAX_TABLES];
    size_t n;
    int order[MAX_TABLES]; /* indices of t in foreign key order */
    struct vt_copy_files files;
    int64_t rows, missing;
    char first_missing[65];
};

/* ---- small helpers ---- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A name that is safe to write into SQL unquoted: [a-z_][a-z0-9_]*, as
 * every name of the schema is. */
static bool plain(const char *s)
{
    if (!s || !*s || strlen(s) >= NAME_LEN || (*s >= '0' && *s <= '9'))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

static int db_fail(struct copy *c, struct vt_db *db, const char *what)
{
    snprintf(c->err, c->errlen, "%s: %s", what, vt_db_errmsg(db));
    return VT_ESTORE;
}

/* The first column of the first row of sql (built text) as an integer. */
static int scalar(struct vt_db *db, const char *sql, int64_t *out)
{
    struct vt_db_stmt *st = vt_db_prepare_text(db, sql);
    if (!st)
        return VT_ESTORE;
    int rc = vt_db_step(st);
    *out = rc == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    return rc == VT_DB_ROW ? 0 : VT_ESTORE;
}

/* Takes dir's ventanilla.lock, the one a daemon holds while it runs: the
 * descriptor, or -1 with err filled. */
static int lock_dir(struct copy *c, const char *dir, const char *name)
{
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "%s/ventanilla.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(c->err, c->errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(c->err, c->errlen,
                 "a ventanilla daemon is using %s (the data directory of %s): stop it first, so "
                 "that nothing it takes during the copy is left behind",
                 dir, name);
        close(fd);
        return -1;
    }
    return fd;
}

static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* ---- the target's tables and whether it holds data ---- */

/* A database's tables (vt_db_tables), sorted by name. */
struct listing {
    char name[MAX_TABLES][NAME_LEN];
    bool fts[MAX_TABLES];
    size_t n;
    bool too_many;
    char odd[NAME_LEN]; /* a name that is not plain, if any */
};

static int collect(void *ctx, const char *name, bool fts)
{
    struct listing *l = ctx;
    if (l->n == MAX_TABLES) {
        l->too_many = true;
        return 1;
    }
    if (!plain(name)) {
        snprintf(l->odd, sizeof(l->odd), "%.*s", NAME_LEN - 1, name);
        return 1;
    }
    snprintf(l->name[l->n], NAME_LEN, "%s", name);
    l->fts[l->n++] = fts;
    return 0;
}

/* Lists db's tables into l; side names the database in messages. */
static int list_tables(struct copy *c, struct vt_db *db, const char *side, struct listing *l)
{
    memset(l, 0, sizeof(*l));
    int rc = vt_db_tables(db, collect, l);
    if (l->too_many) {
        snprintf(c->err, c->errlen, "%s has more than %d tables", side, MAX_TABLES);
        return VT_ERANGE;
    }
    if (l->odd[0]) {
        snprintf(c->err, c->errlen, "%s has a table whose name is not plain: %s", side, l->odd);
        return VT_EINVAL;
    }
    return rc ? db_fail(c, db, "cannot list the tables") : 0;
}

/* Counts the rows of db's tables that its migrations did not write
 * (invariant 1): *items those of items, and the first other table holding
 * any in which (with their count in *rows). */
static int data_rows(struct copy *c, struct vt_db *db, int64_t *items, char *which, int64_t *rows)
{
    struct listing l;
    char sql[300];
    int rc = list_tables(c, db, "the PostgreSQL database", &l);
    *items = *rows = 0;
    which[0] = '\0';
    if (rc)
        return rc;
    bool migrated = false;
    for (size_t i = 0; i < l.n; i++)
        migrated |= strcmp(l.name[i], MIGRATIONS_TABLE) == 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *name = l.name[i];
        int64_t k;
        if (strcmp(name, MIGRATIONS_TABLE) == 0)
            continue;
        if (migrated)
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM %s WHERE xmin::text NOT IN "
                     "(SELECT xmin::text FROM " MIGRATIONS_TABLE ")",
                     name);
        else
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", name);
        if (scalar(db, sql, &k))
            return db_fail(c, db, "cannot count the rows of the PostgreSQL database");
        if (strcmp(name, "items") == 0)
            *items = k;
        else if (k && !which[0]) {
            snprintf(which, NAME_LEN, "%s", name);
            *rows = k;
        }
    }
    return 0;
}

/* Refuses a target that holds data (invariant 1). */
static int refuse_data(struct copy *c, struct vt_db *db)
{
    char which[NAME_LEN];
    int64_t items, rows;
    int rc = data_rows(c, db, &items, which, &rows);
    if (rc)
        return rc;
    if (items) {
        snprintf(c->err, c->errlen,
                 "the PostgreSQL database of %s has %lld items; store copy only fills an empty "
                 "database",
                 c->opt->to_name, (long long)items);
        return VT_EEXIST;
    }
    if (rows) {
        snprintf(c->err, c->errlen,
                 "the PostgreSQL database of %s has %lld row%s in its table %s; store copy only "
                 "fills an empty database",
                 c->opt->to_name, (long long)rows, rows == 1 ? "" : "s", which);
        return VT_EEXIST;
    }
    return 0;
}

/* Before anything is written: the target has no tables at all (no schema)
 * or no data, and a schema this program can bring up to date. */
static int check_target(struct copy *c, int version)
{
    char path[PATH_LEN];
    struct vt_db_options o;
    struct vt_db *db = NULL;
    vt_migrate_db_options(&c->opt->to, path, sizeof(path), &o);
    int rc = vt_db_open(&o, &db, c->err, c->errlen);
    if (rc)
        return rc;
    if (version == 0) {
        struct listing l;
        if (!(rc = list_tables(c, db, "the PostgreSQL database", &l)) && l.n) {
            snprintf(c->err, c->errlen,
                     "the PostgreSQL database of %s has %zu table%s (%s%s) but no Ventanilla "
                     "schema; store copy only fills an empty database",
                     c->opt->to_name, l.n, l.n == 1 ? "" : "s", l.name[0], l.n > 1 ? ", ..." : "");
            rc = VT_EEXIST;
        }
    } else {
        rc = refuse_data(c, db);
    }
    vt_db_close(db);
    return rc;
}

/* ---- the tables and their order ---- */

static int find(const struct copy *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->t[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The target's tables, each matched with the source's (invariant 2). */
static int match_tables(struct copy *c)
{
    struct listing to, from;
    int rc;
    if ((rc = list_tables(c, c->dst, "the PostgreSQL database", &to)) ||
        (rc = list_tables(c, c->src, "the SQLite store", &from)))
        return rc;
    c->n = 0;
    for (size_t i = 0; i < to.n; i++) {
        if (strcmp(to.name[i], MIGRATIONS_TABLE) == 0)
            continue;
        memcpy(c->t[c->n].name, to.name[i], NAME_LEN);
        c->t[c->n++].derived = to.fts[i];
    }
    bool found[MAX_TABLES] = {false};
    for (size_t i = 0; i < from.n; i++) {
        if (strcmp(from.name[i], MIGRATIONS_TABLE) == 0)
            continue;
        int k = find(c, from.name[i]);
        if (k < 0 || c->t[k].derived != from.fts[i]) {
            snprintf(c->err, c->errlen,
                     k < 0 ? "the schemas differ: the SQLite store has a table %s that the "
                             "PostgreSQL database lacks"
                           : "the schemas differ: %s is a full-text index in one database only",
                     from.name[i]);
            return VT_EINVAL;
        }
        found[k] = true;
    }
    for (size_t i = 0; i < c->n; i++)
        if (!found[i]) {
            snprintf(c->err, c->errlen,
                     "the schemas differ: the PostgreSQL database has a table %s that the SQLite "
                     "store lacks",
                     c->t[i].name);
            return VT_EINVAL;
        }
    return 0;
}

/* c->order: every table after the tables its foreign keys reference (a
 * reference to itself aside), ties by name (invariant 3). */
static int order_tables(struct copy *c)
{
    int edge[MAX_EDGES][2]; /* child, parent */
    size_t n_edges = 0;
    int rc;
    struct vt_db_stmt *st = vt_db_prepare(c->dst, SQL_PG_FKEYS);
    if (!st)
        return db_fail(c, c->dst, "cannot read the foreign keys");
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        int child = find(c, vt_db_col_str(st, 0)), parent = find(c, vt_db_col_str(st, 1));
        if (child < 0 || parent < 0 || child == parent)
            continue;
        if (n_edges == MAX_EDGES) {
            vt_db_reset(st);
            snprintf(c->err, c->errlen, "the schema has more than %d foreign keys", MAX_EDGES);
            return VT_ERANGE;
        }
        edge[n_edges][0] = child;
        edge[n_edges++][1] = parent;
    }
    vt_db_reset(st);
    if (rc != VT_DB_DONE)
        return db_fail(c, c->dst, "cannot read the foreign keys");
    bool placed[MAX_TABLES] = {false};
    for (size_t k = 0; k < c->n; k++) {
        int next = -1;
        for (size_t i = 0; i < c->n && next < 0; i++) {
            if (placed[i])
                continue;
            bool ready = true;
            for (size_t e = 0; e < n_edges && ready; e++)
                if (edge[e][0] == (int)i && !placed[edge[e][1]])
                    ready = false;
            if (ready)
                next = (int)i;
        }
        if (next < 0) {
            snprintf(c->err, c->errlen,
                     "the foreign keys of the schema form a cycle; no table order satisfies them");
            return VT_EINVAL;
        }
        placed[next] = true;
        c->order[k] = next;
    }
    return 0;
}

/* ---- the rows ---- */

/* The column names of the current result of st into cols. */
static int columns_of(struct copy *c, struct vt_db_stmt *st, const char *table,
                      char (*cols)[NAME_LEN], int *n)
{
    *n = vt_db_col_count(st);
    if (*n < 1 || *n > MAX_COLS) {
        snprintf(c->err, c->errlen, "table %s has %d columns; store copy copies 1 to %d", table, *n,
                 MAX_COLS);
        return VT_ERANGE;
    }
    for (int i = 0; i < *n; i++) {
        const char *name = vt_db_col_name(st, i);
        if (!plain(name)) {
            snprintf(c->err, c->errlen, "table %s has a column whose name is not plain (%.64s)",
                     table, name ? name : "?");
            return VT_EINVAL;
        }
        snprintf(cols[i], NAME_LEN, "%s", name);
    }
    return 0;
}

static bool listed(char (*cols)[NAME_LEN], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return true;
    return false;
}

/* Copies table t, row by row (invariant 3). */
static int copy_table(struct copy *c, struct table *t)
{
    char to_cols[MAX_COLS][NAME_LEN], from_cols[MAX_COLS][NAME_LEN], sql[8192];
    int n_to, n_from, rc;

    /* The target's columns: an empty result still names them. */
    snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 0", t->name);
    struct vt_db_stmt *st = vt_db_prepare_text(c->dst, sql);
    if (!st || vt_db_step(st) != VT_DB_DONE) {
        vt_db_reset(st);
        return db_fail(c, c->dst, "cannot read the columns of a PostgreSQL table");
    }
    rc = columns_of(c, st, t->name, to_cols, &n_to);
    vt_db_reset(st);
    if (rc)
        return rc;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s", t->name);
    struct vt_db_stmt *sel = vt_db_prepare_text(c->src, sql);
    if (!sel)
        return db_fail(c, c->src, "cannot read a SQLite table");
    int step = vt_db_step(sel);
    if (step != VT_DB_ROW && step != VT_DB_DONE) {
        vt_db_reset(sel);
        return db_fail(c, c->src, "cannot read a SQLite table");
    }
    if ((rc = columns_of(c, sel, t->name, from_cols, &n_from)))
        goto done;
    /* The same set of columns on both sides. */
    for (int i = 0; i < n_from + n_to; i++) {
        bool from_side = i < n_from;
        const char *col = from_side ? from_cols[i] : to_cols[i - n_from];
        if (!listed(from_side ? to_cols : from_cols, from_side ? n_to : n_from, col)) {
            snprintf(c->err, c->errlen,
                     "the schemas differ: the column %s.%s is in the %s store only", t->name, col,
                     from_side ? "SQLite" : "PostgreSQL");
            rc = VT_EINVAL;
            goto done;
        }
        if (strcmp(col, "sha256") == 0)
            t->names_files = true;
    }
    if (step == VT_DB_DONE)
        goto done;

    /* INSERT INTO t (a, b, ...) VALUES (?1, ?2, ...), in the source's order. */
    size_t o = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", t->name);
    for (int i = 0; i < n_from; i++)
        o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s%s", i ? ", " : "", from_cols[i]);
    o += (size_t)snprintf(sql + o, sizeof(sql) - o, ") VALUES (");
    for (int i = 0; i < n_from; i++)
        o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s?%d", i ? ", " : "", i + 1);
    snprintf(sql + o, sizeof(sql) - o, ")");
    struct vt_db_stmt *ins = vt_db_prepare_text(c->dst, sql);
    if (!ins) {
        rc = db_fail(c, c->dst, "cannot prepare the insert into a PostgreSQL table");
        goto done;
    }
    while (step == VT_DB_ROW) {
        for (int i = 0; i < n_from; i++)
            vt_db_bind_col(ins, i + 1, sel, i);
        if ((rc = vt_db_run(ins))) {
            char what[160];
            snprintf(what, sizeof(what), "PostgreSQL refused row %lld of table %s",
                     (long long)t->rows + 1, t->name);
            rc = db_fail(c, c->dst, what);
            goto done;
        }
        t->rows++;
        step = vt_db_step(sel);
    }
    if (step != VT_DB_DONE)
        rc = db_fail(c, c->src, "cannot read a SQLite table");
done:
    vt_db_reset(sel);
    return rc;
}

/* Empties the target of what its migrations wrote (the default survey),
 * every table after the tables that reference it; the source has those
 * rows too, as it stands now. */
static int clear_seeds(struct copy *c)
{
    char sql[128];
    for (size_t k = c->n; k-- > 0;) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", c->t[c->order[k]].name);
        struct vt_db_stmt *st = vt_db_prepare_text(c->dst, sql);
        if (!st || vt_db_run(st))
            return db_fail(c, c->dst, "cannot clear the rows the migrations wrote");
    }
    return 0;
}

/* A derived table (full-text index) holds as many rows as the source's. */
static int check_derived(struct copy *c, const struct table *t)
{
    char sql[128];
    int64_t want, got;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t->name);
    if (scalar(c->src, sql, &want))
        return db_fail(c, c->src, "cannot count the rows of the SQLite full-text index");
    if (scalar(c->dst, sql, &got))
        return db_fail(c, c->dst, "cannot count the rows of the PostgreSQL full-text index");
    if (want != got) {
        snprintf(c->err, c->errlen,
                 "the full-text index %s holds %lld rows after the copy, the SQLite store's "
                 "%lld: PostgreSQL's triggers did not fill it",
                 t->name, (long long)got, (long long)want);
        return VT_ESTORE;
    }
    fprintf(c->out, "  %-26s %lld row%s, filled by PostgreSQL's triggers as the rows went in\n",
            t->name, (long long)got, got == 1 ? "" : "s");
    return 0;
}

/* Every identity column's sequence past its table's largest id
 * (invariant 5). */
static int set_sequences(struct copy *c, int *n_set)
{
    enum { MAX_SEQ = MAX_TABLES * 2 };
    char(*pair)[2][NAME_LEN] = calloc(MAX_SEQ, sizeof(*pair));
    size_t n = 0;
    int rc, step;
    *n_set = 0;
    if (!pair) {
        snprintf(c->err, c->errlen, "out of memory");
        return VT_ENOMEM;
    }
    struct vt_db_stmt *st = vt_db_prepare(c->dst, SQL_PG_SEQUENCES);
    if (!st) {
        rc = db_fail(c, c->dst, "cannot list the identity columns");
        goto done;
    }
    while ((step = vt_db_step(st)) == VT_DB_ROW && n < MAX_SEQ) {
        if (!plain(vt_db_col_str(st, 0)) || !plain(vt_db_col_str(st, 1)))
            continue; /* not a table of the schema */
        vt_db_col_copy(st, 0, pair[n][0], NAME_LEN);
        vt_db_col_copy(st, 1, pair[n++][1], NAME_LEN);
    }
    vt_db_reset(st);
    if (step != VT_DB_DONE) {
        rc = step == VT_DB_ROW ? VT_ERANGE : db_fail(c, c->dst, "cannot list the identity columns");
        if (rc == VT_ERANGE)
            snprintf(c->err, c->errlen, "the schema has more than %d identity columns", MAX_SEQ);
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char sql[400];
        int64_t v;
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_catalog.pg_get_serial_sequence('%s', '%s'), "
                 "(SELECT coalesce(max(%s), 0) + 1 FROM %s), false)",
                 pair[i][0], pair[i][1], pair[i][1], pair[i][0]);
        if (scalar(c->dst, sql, &v))
            rc = db_fail(c, c->dst, "cannot set an identity sequence");
        else
            (*n_set)++;
    }
done:
    free(pair);
    return rc;
}

/* ---- the files named by the rows ---- */

/* Every file a copied row names (a sha256 column) is in the target's
 * attachment_blobs: the ones that are not are counted as missing. */
static int check_named_files(struct copy *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->t[i].names_files || !c->t[i].rows)
            continue;
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT DISTINCT sha256 FROM %s WHERE sha256 IS NOT NULL",
                 c->t[i].name);
        struct vt_db_stmt *st = vt_db_prepare_text(c->src, sql);
        int step;
        if (!st)
            return db_fail(c, c->src, "cannot read the attachment names");
        while ((step = vt_db_step(st)) == VT_DB_ROW) {
            const char *sha = vt_db_col_str(st, 0);
            if (vt_store_copy__has_file(c->dst, sha))
                continue;
            if (!c->missing++)
                snprintf(c->first_missing, sizeof(c->first_missing), "%.64s", sha);
        }
        vt_db_reset(st);
        if (step != VT_DB_DONE)
            return db_fail(c, c->src, "cannot read the attachment names");
    }
    return 0;
}

/* ---- the command ---- */

/* The schema versions: the source's must be this program's; the target's
 * none yet or not newer. */
static int check_versions(struct copy *c, int *to_version)
{
    int from_version = 0, latest = vt_store_schema_latest();
    int rc = vt_store_reach(&c->opt->from, &from_version, c->err, c->errlen);
    if (rc)
        return rc;
    if (from_version < latest) {
        snprintf(c->err, c->errlen,
                 "the SQLite store of %s has schema version %d, older than this ventanilla's "
                 "(%d): run `ventanilla migrate --config %s` on it first",
                 c->opt->from_name, from_version, latest, c->opt->from_name);
        return VT_EVERSION;
    }
    if (from_version > latest) {
        snprintf(c->err, c->errlen,
                 "the SQLite store of %s has schema version %d, newer than this ventanilla "
                 "knows (%d): use the ventanilla that wrote it",
                 c->opt->from_name, from_version, latest);
        return VT_EVERSION;
    }
    char why[600];
    if ((rc = vt_store_reach(&c->opt->to, to_version, why, sizeof(why)))) {
        snprintf(c->err, c->errlen, "%s: %s", c->opt->to_name, why);
        return rc;
    }
    if (*to_version > latest) {
        snprintf(c->err, c->errlen,
                 "the PostgreSQL database of %s has schema version %d, newer than this "
                 "ventanilla knows (%d)",
                 c->opt->to_name, *to_version, latest);
        return VT_EVERSION;
    }
    return 0;
}

/* Opens both databases: the source read-only, the target as it is now
 * (current schema). */
static int open_both(struct copy *c)
{
    char path[PATH_LEN];
    struct vt_db_options o;
    vt_migrate_db_options(&c->opt->from, path, sizeof(path), &o);
    o.read_only = true;
    int rc = vt_db_open(&o, &c->src, c->err, c->errlen);
    if (rc)
        return rc;
    return vt_migrate_open_current(&c->opt->to, false, &c->dst, c->err, c->errlen);
}

/* Everything inside the two transactions: the target's commit is the last
 * step. */
static int copy_all(struct copy *c, bool *key_replaced, int *n_sequences)
{
    int rc;
    int64_t others;
    if (vt_db_begin(c->src, false))
        return db_fail(c, c->src, "cannot start reading the SQLite store");
    if (vt_db_begin(c->dst, true))
        return db_fail(c, c->dst, "cannot start the PostgreSQL transaction");
    if ((rc = refuse_data(c, c->dst)))
        return rc;
    if (scalar(c->dst, SQL_PG_OTHERS, &others))
        return db_fail(c, c->dst, "cannot list the sessions of the PostgreSQL database");
    if (others) {
        snprintf(c->err, c->errlen,
                 "%lld other ventanilla connection(s) use the PostgreSQL database of %s: stop "
                 "its instances first",
                 (long long)others, c->opt->to_name);
        return VT_EBUSY;
    }
    if ((rc = match_tables(c)) || (rc = order_tables(c)) || (rc = clear_seeds(c)))
        return rc;
    for (size_t k = 0; k < c->n; k++) {
        struct table *t = &c->t[c->order[k]];
        if (t->derived)
            continue;
        double t0 = mono_s();
        if ((rc = copy_table(c, t)))
            return rc;
        c->rows += t->rows;
        if (t->rows)
            fprintf(c->out, "  %-26s %lld row%s (%.1f s)\n", t->name, (long long)t->rows,
                    t->rows == 1 ? "" : "s", mono_s() - t0);
        fflush(c->out);
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i].derived && (rc = check_derived(c, &c->t[i])))
            return rc;
    char key_path[PATH_LEN];
    if (vt_store_key_path(&c->opt->to, key_path, sizeof(key_path))) {
        snprintf(c->err, c->errlen,
                 "%s names no place for the audit key: set store.audit_key_file (or "
                 "server.data_dir) there",
                 c->opt->to_name);
        return VT_EINVAL;
    }
    c->files = (struct vt_copy_files){.from = c->opt->from.data_dir,
                                      .to = c->dst,
                                      .to_key = key_path,
                                      .err = c->err,
                                      .errlen = c->errlen};
    if ((rc = vt_store_copy__attachments(&c->files)) || (rc = check_named_files(c)) ||
        (rc = vt_store_copy__key(&c->files, key_replaced)) || (rc = set_sequences(c, n_sequences)))
        return rc;
    if (vt_db_commit(c->dst))
        return db_fail(c, c->dst, "the PostgreSQL commit failed; nothing was copied");
    vt_db_rollback(c->src); /* the read transaction's end */
    return 0;
}

int vt_store_copy(const struct vt_store_copy_options *opt, FILE *out, bool *incomplete, char *err,
                  size_t errlen)
{
    struct copy c = {.opt = opt, .out = out, .err = err, .errlen = errlen};
    double t0 = mono_s();
    int rc, to_version = 0, from_lock = -1, to_lock = -1, n_sequences = 0;
    bool key_replaced = false;
    *incomplete = false;
    err[0] = '\0';

    if (vt_store_place_pg(&opt->from) || !vt_store_place_pg(&opt->to)) {
        snprintf(err, errlen, "store copy copies a SQLite store into PostgreSQL");
        return VT_EINVAL;
    }
    if ((rc = check_versions(&c, &to_version)))
        return rc;
    if ((from_lock = lock_dir(&c, opt->from.data_dir, opt->from_name)) < 0)
        return VT_EBUSY;
    if ((rc = check_target(&c, to_version)))
        goto done;
    if (to_version < vt_store_schema_latest()) {
        char why[600];
        if ((rc = vt_store_migrate(&opt->to, why, sizeof(why)))) {
            snprintf(err, errlen, "cannot migrate the PostgreSQL database of %s: %s", opt->to_name,
                     why);
            goto done;
        }
        fprintf(out, "Migrated the PostgreSQL database of %s to schema version %d.\n", opt->to_name,
                vt_store_schema_latest());
    } else if (opt->to.data_dir && mkdir(opt->to.data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the data directory %s: %s", opt->to.data_dir,
                 strerror(errno));
        rc = VT_EIO;
        goto done;
    }
    if (opt->to.data_dir && !same_dir(opt->from.data_dir, opt->to.data_dir) &&
        (to_lock = lock_dir(&c, opt->to.data_dir, opt->to_name)) < 0) {
        rc = VT_EBUSY;
        goto done;
    }
    if ((rc = open_both(&c)))
        goto done;
    fprintf(out, "Copying the SQLite store of %s (%s) into the PostgreSQL database of %s:\n",
            opt->from_name, opt->from.data_dir, opt->to_name);
    fflush(out);
    if ((rc = copy_all(&c, &key_replaced, &n_sequences))) {
        vt_db_rollback(c.dst);
        vt_db_rollback(c.src);
        goto done;
    }
    vt_db_close(c.src);
    vt_db_close(c.dst);
    c.src = c.dst = NULL;
    double secs = mono_s() - t0;

    /* The copy as the daemon will see it: its audit chain, its items. */
    int64_t events = 0, bad = 0, items = 0;
    char why[600] = "", last[48] = "";
    rc = vt_store_audit_verify(&opt->to, &events, &bad, why, sizeof(why));
    if (rc) {
        snprintf(err, errlen,
                 "the copy is committed, but its audit chain %s: %s; do not start a daemon on "
                 "it before you know why",
                 rc == VT_ETAMPER ? "does not verify" : "could not be read", why);
        goto done;
    }
    if ((rc = vt_migrate_open_current(&opt->to, false, &c.dst, why, sizeof(why)))) {
        snprintf(err, errlen, "the copy is committed, but cannot be read back: %s", why);
        goto done;
    }
    struct vt_db_stmt *st = vt_db_prepare(c.dst, SQL_LAST_RADICADO);
    if (st && vt_db_step(st) == VT_DB_ROW) {
        items = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, last, sizeof(last));
    }
    vt_db_reset(st);

    char fh[32];
    vt_human_bytes(c.files.bytes, fh, sizeof(fh));
    fprintf(out,
            "Copied in %.1f s: %lld rows in %zu tables, ids kept; %d identity sequences set "
            "past their largest id.\n"
            "  items:       %lld%s%s%s\n"
            "  audit chain: verified, %lld events\n"
            "  attachments: %lld files copied into the database (%s), each checked against its "
            "checksum%s\n"
            "  audit key:   %s\n"
            "Start the daemon on it: ventanilla serve --config %s\n",
            secs, (long long)c.rows, c.n, n_sequences, (long long)items,
            last[0] ? " (last radicado " : "", last, last[0] ? ")" : "", (long long)events,
            (long long)c.files.copied, fh, c.files.present ? "; some were there already" : "",
            key_replaced ? "copied (it replaces the one migrate made)" : "copied", opt->to_name);
    if (c.files.damaged)
        fprintf(stderr,
                "store copy: warning: %lld attachment file(s) in %s/attachments do not match "
                "their names (damaged) and were not copied\n",
                (long long)c.files.damaged, opt->from.data_dir);
    if (c.missing)
        fprintf(stderr,
                "store copy: warning: the copy is incomplete: its rows name %lld attachment "
                "file(s) that %s lacks or holds damaged (first: %s)\n",
                (long long)c.missing, opt->from.data_dir, c.first_missing);
    *incomplete = c.files.damaged || c.missing;
    rc = 0;
done:
    vt_db_close(c.src);
    vt_db_close(c.dst);
    if (to_lock >= 0)
        close(to_lock);
    if (from_lock >= 0)
        close(from_lock);
    return rc;
}
