/* driver_pg.c - the PostgreSQL driver of the database interface (db.h), on
 * libpq.
 *
 * Owns: libpq connections and their statements, the translation of the
 * interface's ?N placeholders to PostgreSQL's $N, the write lock that makes
 * PostgreSQL's writers take turns the way SQLite's do, and PostgreSQL's
 * spelling of full-text search. The only file of Ventanilla that includes
 * libpq-fe.h.
 * Must not: know any table (but the full-text index's shape, which the
 * migrations in migrations/postgresql/ give it).
 *
 * Every connection speaks UTF-8, commits synchronously (synchronous_commit
 * on: a commit is on the server's disk before it returns, whatever the
 * server's default), and keeps PostgreSQL's notices out of the daemon's log.
 *
 * Statements are prepared on the server when they are made (a named
 * statement per cached statement, so SQL that PostgreSQL refuses gives no
 * statement, as on SQLite) and run with PQexecPrepared. The SQL is
 * translated once, ?N to $N. PostgreSQL infers each parameter's type from
 * where it stands, and every value travels as text (blobs as binary bytea),
 * so an integer bound where the schema has text, or text holding a number
 * where it has an integer, is taken as SQLite would take it. A parameter
 * whose type nothing around it says (a bare "?1 IS NULL") is declared text,
 * one it deduces two types for is declared bigint (prepare_server).
 * Readers plan each run with its values (plan_cache_mode
 * force_custom_plan: the same custom plans SQLite makes; the queue's
 * optional filters would make a generic plan bad). The writing connection
 * (vt_db_options.maintain) keeps PostgreSQL's default: its inserts and
 * by-key updates have one good plan, and planning them again at every run
 * cost a quarter of its backend's CPU inside the write lock (bench/intake
 * --backend postgresql --instances 3: 1,136 -> 1,770 intakes/s). Results come back as text;
 * booleans read as integers are 1 and 0, as SQLite gives them. A connection made again after it was
 * lost prepares its statements again at their next run.
 *
 * Transactions (begin): a write transaction takes one transaction-scoped
 * advisory lock, the same for every connection of every instance on the
 * database, before its first statement. Writers therefore take turns as on
 * SQLite (BEGIN IMMEDIATE): radicado counters and the audit chain's head,
 * read and advanced inside the writer's batch, stay gap-free and in commit
 * order across instances, and READ COMMITTED statements after the lock see
 * every earlier writer's commit. Read transactions are REPEATABLE READ: one
 * snapshot, like SQLite's read transaction.
 *
 * Named locks (vt_db_try_lock) are session-level advisory locks: they outlive
 * transactions and end with the connection, so an instance that dies (or
 * whose connection drops) lets go of them as soon as the server notices.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "store/db_driver.h"

/* pg_type OIDs (catalog/pg_type_d.h): bytea read back; int8 and text
 * declared where PostgreSQL cannot decide; the rest tell a column's storage
 * class (pg_col_type). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700
};

#define MAX_PARAMS 64
/* The advisory lock every write transaction takes ('vent' 'anil'). */
#define WRITE_LOCK_KEY "8531290862938105196"

struct pg_stmt {
    struct vt_db_stmt base;
    struct pg_db *db;
    char *sql;                         /* translated: $N placeholders */
    int n_params;                      /* the highest $N */
    char name[24];                     /* the server's prepared statement */
    uint64_t generation;               /* of the connection it was prepared on */
    unsigned int declared[MAX_PARAMS]; /* 0 (inferred) or text */
    /* The binds: a value per parameter (text or binary), its length, type
     * and format. Copies and integers' text live in own[]. */
    const char *val[MAX_PARAMS];
    int len[MAX_PARAMS];
    int fmt[MAX_PARAMS];
    char *own[MAX_PARAMS];
    char num[MAX_PARAMS][32];
    PGresult *res; /* the last run's result, NULL before the first step */
    int row;       /* the current row of res; -1 before the first */
    int64_t changes;
    unsigned char *blob; /* the last column read as a blob, decoded */
};

struct pg_db {
    struct vt_db base;
    PGconn *conn;
    uint64_t generation;      /* counts the connection's remakes */
    uint64_t lock_ready;      /* generation + 1 once set up for named locks */
    uint64_t n_prepared;      /* names the next prepared statement */
    bool read_only, maintain; /* vt_db_options', for setup() after a reconnection */
    bool settled;             /* setup() ran on the current connection */
    char err[512];
};

static struct pg_db *conn(struct vt_db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *stmt(struct vt_db_stmt *st)
{
    return (struct pg_stmt *)st;
}

/* Keeps the first line of PostgreSQL's message for the log, with its
 * double quotes made single (the log's values are quoted). */
static void set_err(struct pg_db *c, const char *msg)
{
    snprintf(c->err, sizeof(c->err), "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    c->err[strcspn(c->err, "\n")] = '\0';
    for (char *p = c->err; *p; p++)
        if (*p == '"')
            *p = '\'';
}

/* The message of a failed result. A data exception's (class 22) can quote
 * the value refused, which may be a citizen's: only its code is kept. */
static void set_result_err(struct pg_db *c, const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (state && strncmp(state, "22", 2) == 0) {
        char msg[80];
        snprintf(msg, sizeof(msg), "a value was refused (SQLSTATE %s)", state);
        set_err(c, msg);
    } else {
        set_err(c, primary ? primary : PQresultErrorMessage(r));
    }
}

/* SQLSTATE to VT_E*: a unique violation is a duplicate, a serialization
 * failure, deadlock or lock timeout is busy. */
static int map_state(const char *state)
{
    if (!state)
        return VT_ESTORE;
    if (strcmp(state, "23505") == 0)
        return VT_EEXIST;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return VT_EBUSY;
    if (strncmp(state, "53", 2) == 0) /* insufficient resources */
        return VT_EBUSY;
    return VT_ESTORE;
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A connection lost (the server restarted, the network dropped) is made
 * again before the next statement; what ran in the lost one is gone, and its
 * caller got the error. */
static int setup(struct pg_db *c)
{
    PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
    if (PQsetClientEncoding(c->conn, "UTF8") != 0) {
        set_err(c, PQerrorMessage(c->conn));
        return VT_ESTORE;
    }
    const char *sql = c->read_only  ? "SET synchronous_commit = on; "
                                      "SET plan_cache_mode = force_custom_plan; "
                                      "SET default_transaction_read_only = on"
                      : c->maintain ? "SET synchronous_commit = on"
                                    : "SET synchronous_commit = on; "
                                      "SET plan_cache_mode = force_custom_plan";
    PGresult *r = PQexec(c->conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        set_result_err(c, r);
    PQclear(r);
    c->settled = ok;
    return ok ? 0 : VT_ESTORE;
}

/* Makes a lost connection again, with the session settings of setup() (a
 * connection that came back without synchronous_commit would acknowledge
 * before the disk has the data): 0, or VT_ESTORE while the server cannot be
 * reached or set up (tried again at the next call). */
static int revive(struct pg_db *c)
{
    if (PQstatus(c->conn) == CONNECTION_OK && c->settled)
        return 0;
    if (PQstatus(c->conn) != CONNECTION_OK) {
        c->settled = false;
        PQreset(c->conn);
        c->generation++;
        if (PQstatus(c->conn) != CONNECTION_OK) {
            set_err(c, PQerrorMessage(c->conn));
            return VT_ESTORE;
        }
    }
    if (setup(c))
        return VT_ESTORE;
    vt_log(VT_LOG_WARN, "db_reconnected", "driver=postgresql");
    return 0;
}

static int pg_open(const struct vt_db_options *opt, struct vt_db **out, char *err, size_t errlen)
{
    struct pg_db *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return VT_ENOMEM;
    }
    c->base.drv = &vt_db_driver_pg;
    /* The connection string's own settings first; ours only fill gaps. */
    const char *keys[] = {"dbname", "application_name", "fallback_application_name", NULL};
    const char *vals[] = {opt->conninfo ? opt->conninfo : "", NULL,
                          opt->name ? opt->name : "ventanilla", NULL};
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s", c->conn ? PQerrorMessage(c->conn) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        PQfinish(c->conn);
        free(c);
        return VT_ESTORE;
    }
    c->read_only = opt->read_only;
    c->maintain = opt->maintain;
    if (setup(c)) {
        snprintf(err, errlen, "cannot set up the PostgreSQL connection: %s", c->err);
        PQfinish(c->conn);
        free(c);
        return VT_ESTORE;
    }
    *out = &c->base;
    return 0;
}

static void clear_binds(struct pg_stmt *s)
{
    for (int i = 0; i < MAX_PARAMS; i++) {
        free(s->own[i]);
        s->own[i] = NULL;
        s->val[i] = NULL;
        s->len[i] = 0;
        s->fmt[i] = 0;
    }
}

static void pg_reset(struct vt_db_stmt *st)
{
    struct pg_stmt *s = stmt(st);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    PQfreemem(s->blob);
    s->blob = NULL;
    clear_binds(s);
}

static void stmt_free(struct pg_stmt *s)
{
    if (!s)
        return;
    pg_reset(&s->base);
    free(s->sql);
    free(s);
}

/* Frees s and its prepared statement on the server (a built statement
 * leaving the cache; closing the connection frees them all). */
static void stmt_drop(struct pg_stmt *s)
{
    if (s && s->generation == s->db->generation) {
        char sql[48];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        PQclear(PQexec(s->db->conn, sql));
    }
    stmt_free(s);
}

static void pg_close(struct vt_db *db)
{
    struct pg_db *c = conn(db);
    PQfinish(c->conn);
    free(c);
}

static const char *pg_errmsg(struct vt_db *db)
{
    return conn(db)->err[0] ? conn(db)->err : "no error";
}

/* The state of a finished command: 0, or VT_E* with the message kept. */
static int result_rc(struct pg_db *c, PGresult *r)
{
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY)
        return 0;
    if (r && PQresultErrorField(r, PG_DIAG_SQLSTATE))
        set_result_err(c, r);
    else
        set_err(c, PQerrorMessage(c->conn));
    return r ? map_state(PQresultErrorField(r, PG_DIAG_SQLSTATE)) : VT_ESTORE;
}

static int pg_exec(struct vt_db *db, const char *sql)
{
    struct pg_db *c = conn(db);
    if (revive(c))
        return VT_ESTORE;
    PGresult *r = PQexec(c->conn, sql);
    int rc = result_rc(c, r);
    PQclear(r);
    if (rc)
        vt_log(VT_LOG_ERROR, "db_exec_failed", "error=\"%s\"", c->err);
    return rc;
}

/* ?N -> $N and a bare ? -> the next number, outside quotes and comments.
 * NULL when out of memory or a placeholder is past MAX_PARAMS. */
static char *translate(const char *sql, int *n_params)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 2 + 8), *o = out;
    int next = 0, max = 0;
    if (!out)
        return NULL;
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') { /* a literal or identifier, '' and "" inside */
            char q = *p;
            *o++ = *p++;
            while (*p && !(*p == q && p[1] != q)) {
                if (*p == q)
                    *o++ = *p++;
                *o++ = *p++;
            }
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (*p == '?') {
            p++;
            int k = 0;
            if (*p >= '0' && *p <= '9') {
                while (*p >= '0' && *p <= '9' && k <= MAX_PARAMS)
                    k = k * 10 + (*p++ - '0');
            } else {
                k = ++next;
            }
            if (k < 1 || k > MAX_PARAMS) {
                free(out);
                return NULL;
            }
            if (k > max)
                max = k;
            o += sprintf(o, "$%d", k);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *n_params = max;
    return out;
}

/* Prepares s on the server. A parameter PostgreSQL cannot type (nothing
 * around it says: "?1 IS NULL") is declared text; one it deduces two types
 * for (a flag bound into a bigint column and compared with 0) is declared
 * bigint, then text. PostgreSQL names one parameter per refusal. 0 or
 * VT_E*. */
static int prepare_server(struct pg_stmt *s)
{
    struct pg_db *c = s->db;
    /* Inside a transaction a refused PREPARE would abort it: a savepoint
     * keeps the transaction as it was, as SQLite's prepare does. */
    bool in_tx = PQtransactionStatus(c->conn) == PQTRANS_INTRANS;
    if (in_tx)
        PQclear(PQexec(c->conn, "SAVEPOINT vt_prepare"));
    int rc = VT_ESTORE, tried = 0; /* tried: the parameter just declared bigint */
    for (int tries = 0; tries <= 2 * s->n_params; tries++) {
        PGresult *r = PQprepare(c->conn, s->name, s->sql, s->n_params, s->declared);
        rc = result_rc(c, r);
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char *dollar = msg ? strchr(msg, '$') : NULL;
        int k = dollar ? atoi(dollar + 1) : 0, next = 0;
        if (rc && msg && k >= 1 && k <= s->n_params) {
            if (strstr(msg, "could not determine") && !s->declared[k - 1])
                next = OID_TEXT;
            else if (strstr(msg, "inconsistent types") && !s->declared[k - 1])
                next = OID_INT8;
        }
        if (rc && !next && tried) { /* bigint did not do: text then */
            k = tried;
            next = OID_TEXT;
        }
        PQclear(r);
        if (rc && in_tx)
            PQclear(PQexec(c->conn, "ROLLBACK TO SAVEPOINT vt_prepare"));
        if (!rc) {
            s->generation = c->generation;
            break;
        }
        if (!next)
            break;
        s->declared[k - 1] = (unsigned int)next;
        tried = next == OID_INT8 ? k : 0;
    }
    if (in_tx)
        PQclear(PQexec(c->conn, "RELEASE SAVEPOINT vt_prepare"));
    return rc;
}

static struct pg_stmt *stmt_new(struct pg_db *c, const char *sql)
{
    struct pg_stmt *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.drv = &vt_db_driver_pg;
    s->db = c;
    s->row = -1;
    snprintf(s->name, sizeof(s->name), "vt%llu", (unsigned long long)++c->n_prepared);
    if (!(s->sql = translate(sql, &s->n_params))) {
        vt_log(VT_LOG_ERROR, "db_prepare_failed", "error=\"bad placeholders or out of memory\"");
        free(s);
        return NULL;
    }
    if (revive(c) || prepare_server(s)) {
        vt_log(VT_LOG_ERROR, "db_prepare_failed", "error=\"%s\" sql=\"%.80s\"", c->err, s->sql);
        free(s->sql);
        free(s);
        return NULL;
    }
    return s;
}

static struct vt_db_stmt *pg_prepare(struct vt_db *db, const char *sql)
{
    struct pg_stmt *s = stmt_new(conn(db), sql);
    return s ? &s->base : NULL;
}

static void pg_finalize(struct vt_db_stmt *st, bool evicted)
{
    if (evicted)
        stmt_drop(stmt(st));
    else
        stmt_free(stmt(st));
}

/* The slot of parameter i (1-based), emptied; NULL when out of range. */
static struct pg_stmt *slot(struct vt_db_stmt *st, int i)
{
    struct pg_stmt *s = stmt(st);
    if (i < 1 || i > MAX_PARAMS)
        return NULL;
    free(s->own[i - 1]);
    s->own[i - 1] = NULL;
    s->fmt[i - 1] = 0;
    return s;
}

static void pg_bind_int(struct vt_db_stmt *st, int i, int64_t v)
{
    struct pg_stmt *s = slot(st, i);
    if (!s)
        return;
    snprintf(s->num[i - 1], sizeof(s->num[0]), "%lld", (long long)v);
    s->val[i - 1] = s->num[i - 1];
}

static void pg_bind_double(struct vt_db_stmt *st, int i, double v)
{
    struct pg_stmt *s = slot(st, i);
    if (!s)
        return;
    snprintf(s->num[i - 1], sizeof(s->num[0]), "%.17g", v);
    s->val[i - 1] = s->num[i - 1];
}

/* Text goes in text format, which ends at its NUL (db_driver.h: p[len] is
 * one). */
static void pg_bind_text(struct vt_db_stmt *st, int i, const char *p, size_t len, bool copy)
{
    struct pg_stmt *s = slot(st, i);
    if (!s)
        return;
    if (copy) {
        char *d = malloc(len + 1);
        if (!d) {
            s->val[i - 1] = NULL; /* binds NULL; the run then fails a NOT NULL or reads as none */
            return;
        }
        memcpy(d, p, len);
        d[len] = '\0';
        s->own[i - 1] = d;
        p = d;
    }
    s->val[i - 1] = p;
}

static void pg_bind_blob(struct vt_db_stmt *st, int i, const void *p, size_t len)
{
    struct pg_stmt *s = slot(st, i);
    if (!s)
        return;
    s->val[i - 1] = len ? p : "";
    s->len[i - 1] = (int)len;
    s->fmt[i - 1] = 1;
}

static void pg_bind_null(struct vt_db_stmt *st, int i)
{
    struct pg_stmt *s = slot(st, i);
    if (!s)
        return;
    s->val[i - 1] = NULL;
}

/* Runs the statement (its first step). 0 or VT_E*. */
static int execute(struct pg_stmt *s)
{
    struct pg_db *c = s->db;
    int rc;
    if ((rc = revive(c))) {
        vt_log(VT_LOG_ERROR, "db_step_failed", "error=\"%s\"", c->err);
        return rc;
    }
    if (s->generation != c->generation && (rc = prepare_server(s))) {
        vt_log(VT_LOG_ERROR, "db_step_failed", "error=\"%s\"", c->err);
        return rc;
    }
    PGresult *r = PQexecPrepared(c->conn, s->name, s->n_params, s->val, s->len, s->fmt, 0);
    if ((rc = result_rc(c, r))) {
        if (rc != VT_EEXIST || getenv("VT_PG_DEBUG"))
            vt_log(VT_LOG_ERROR, "db_step_failed", "error=\"%s\" sql=\"%.60s\"", c->err, s->sql);
        PQclear(r);
        return rc;
    }
    const char *n = PQcmdTuples(r);
    s->changes = n && *n ? strtoll(n, NULL, 10) : 0;
    s->res = r;
    s->row = -1;
    return 0;
}

static int pg_step(struct vt_db_stmt *st)
{
    struct pg_stmt *s = stmt(st);
    if (!s->res) {
        int rc = execute(s);
        if (rc)
            return rc;
    }
    PQfreemem(s->blob);
    s->blob = NULL;
    if (PQresultStatus(s->res) != PGRES_TUPLES_OK || s->row + 1 >= PQntuples(s->res)) {
        s->row = PQntuples(s->res);
        return VT_DB_DONE;
    }
    s->row++;
    return VT_DB_ROW;
}

static int64_t pg_changes(struct vt_db_stmt *st)
{
    return stmt(st)->changes;
}

static int64_t pg_last_insert_id(struct vt_db *db)
{
    struct pg_db *c = conn(db);
    PGresult *r = PQexec(c->conn, "SELECT lastval()");
    int64_t id = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        set_result_err(c, r);
    PQclear(r);
    return id;
}

/* The current row's column i: its text, or NULL (SQL NULL, or no row). */
static const char *value(struct pg_stmt *s, int i)
{
    if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || i < 0 || i >= PQnfields(s->res) ||
        PQgetisnull(s->res, s->row, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static bool pg_col_null(struct vt_db_stmt *st, int i)
{
    return value(stmt(st), i) == NULL;
}

static int64_t pg_col_int(struct vt_db_stmt *st, int i)
{
    const char *v = value(stmt(st), i);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;
    return strtoll(v, NULL, 10); /* "f" and text read as 0, as SQLite's */
}

static double pg_col_double(struct vt_db_stmt *st, int i)
{
    const char *v = value(stmt(st), i);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_col_text(struct vt_db_stmt *st, int i)
{
    return value(stmt(st), i);
}

/* bytea comes as text ("\x" and hex), decoded here; text columns as their
 * bytes. */
static const void *pg_col_blob(struct vt_db_stmt *st, int i, size_t *len)
{
    struct pg_stmt *s = stmt(st);
    const char *v = value(s, i);
    *len = 0;
    if (!v)
        return NULL;
    if (PQftype(s->res, i) != OID_BYTEA) {
        *len = (size_t)PQgetlength(s->res, s->row, i);
        return v;
    }
    PQfreemem(s->blob);
    s->blob = PQunescapeBytea((const unsigned char *)v, len);
    return s->blob;
}

static int pg_col_count(struct vt_db_stmt *st)
{
    struct pg_stmt *s = stmt(st);
    return s->res ? PQnfields(s->res) : 0;
}

static const char *pg_col_name(struct vt_db_stmt *st, int i)
{
    struct pg_stmt *s = stmt(st);
    return s->res ? PQfname(s->res, i) : NULL;
}

/* By the column's type (pg_type OIDs), NULL by the value. */
static enum vt_db_type pg_col_type(struct vt_db_stmt *st, int i)
{
    struct pg_stmt *s = stmt(st);
    if (!value(s, i))
        return VT_DB_NULL;
    switch (PQftype(s->res, i)) {
    case OID_BOOL:
    case OID_INT8:
    case OID_INT2:
    case OID_INT4:
    case OID_OID:
        return VT_DB_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return VT_DB_DOUBLE;
    case OID_BYTEA:
        return VT_DB_BLOB;
    default:
        return VT_DB_TEXT;
    }
}

static int pg_table_exists(struct vt_db *db, const char *name)
{
    static const char sql[] = "SELECT 1 FROM pg_catalog.pg_tables "
                              "WHERE schemaname = current_schema() AND tablename = ?1";
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    if (!st)
        return VT_ESTORE;
    pg_bind_text(st, 1, name, strlen(name), false);
    int rc = pg_step(st);
    pg_reset(st);
    return rc < 0 ? rc : rc == VT_DB_ROW;
}

/* Walks st's rows (name, fts) into each (vt_db_tables). */
static int walk_tables(struct vt_db_stmt *st, int (*each)(void *ctx, const char *name, bool fts),
                       void *ctx)
{
    int rc, stop = 0;
    while ((rc = pg_step(st)) == VT_DB_ROW) {
        const char *name = pg_col_text(st, 0);
        if (name && (stop = each(ctx, name, pg_col_int(st, 1) != 0)))
            break;
    }
    pg_reset(st);
    return stop ? stop : rc < 0 ? VT_ESTORE : 0;
}

/* The current schema's tables; one with a tsvector column is a full-text
 * index (migrations/postgresql/0005: items_fts, kept by triggers). */
static int pg_tables(struct vt_db *db, int (*each)(void *ctx, const char *name, bool fts),
                     void *ctx)
{
    static const char sql[] =
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
        "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.atttypid = 'pg_catalog.tsvector'::pg_catalog.regtype) "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1";
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    return st ? walk_tables(st, each, ctx) : VT_ESTORE;
}

/* Backups of a PostgreSQL store are PostgreSQL's (pg_dump, base backups). */
static int pg_copy_to(struct vt_db *db, const char *dest_file, char *err, size_t errlen)
{
    (void)db;
    (void)dest_file;
    snprintf(err, errlen,
             "a PostgreSQL store is backed up with PostgreSQL's own tools "
             "(pg_dump or pg_basebackup), not with ventanilla backup");
    return VT_ESTORE;
}

static int command(struct pg_db *c, const char *sql)
{
    PGresult *r = PQexec(c->conn, sql);
    int rc = result_rc(c, r);
    PQclear(r);
    if (rc)
        vt_log(VT_LOG_ERROR, "db_step_failed", "error=\"%s\"", c->err);
    return rc;
}

static int pg_begin(struct vt_db *db, bool write)
{
    struct pg_db *c = conn(db);
    if (revive(c))
        return VT_ESTORE;
    if (!write)
        return command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    int rc = command(c, "BEGIN");
    if (!rc && (rc = command(c, "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")")))
        command(c, "ROLLBACK");
    return rc;
}

/* ---- notifications: LISTEN/NOTIFY ---- */

/* The channel is a plain name (db.c checks), so it is spelled into the SQL. */
static int pg_notify(struct vt_db *db, const char *channel)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "NOTIFY %s", channel);
    return command(conn(db), sql);
}

static int pg_listen(struct vt_db *db, const char *channel)
{
    struct pg_db *c = conn(db);
    char sql[96];
    if (revive(c))
        return VT_ESTORE;
    snprintf(sql, sizeof(sql), "LISTEN %s", channel);
    return command(c, sql);
}

/* Reads what the server sent and consumes the notifications among it:
 * true when there was one. *lost is set when the connection is gone. */
static bool take_notifies(struct pg_db *c, bool *lost)
{
    bool got = false;
    PGnotify *n;
    if (!PQconsumeInput(c->conn) || PQstatus(c->conn) != CONNECTION_OK) {
        set_err(c, PQerrorMessage(c->conn));
        *lost = true;
    }
    while ((n = PQnotifies(c->conn))) {
        got = true;
        PQfreemem(n);
    }
    return got;
}

/* poll() on the connection's socket; bytes that are not a notification (a
 * parameter report, the server's last words before it closes) end the wait
 * early as a timeout, and the next wait finds the connection lost. */
static int pg_wait_notify(struct vt_db *db, int timeout_ms)
{
    struct pg_db *c = conn(db);
    bool lost = PQstatus(c->conn) != CONNECTION_OK;
    if (lost) {
        set_err(c, "the connection is lost");
        return VT_ESTORE;
    }
    if (take_notifies(c, &lost))
        return VT_DB_NOTIFIED;
    if (lost)
        return VT_ESTORE;
    struct pollfd p = {.fd = PQsocket(c->conn), .events = POLLIN};
    if (p.fd < 0) {
        set_err(c, "the connection has no socket");
        return VT_ESTORE;
    }
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) {
        set_err(c, strerror(errno));
        return VT_ESTORE;
    }
    if (r <= 0)
        return VT_DB_TIMEOUT;
    if (take_notifies(c, &lost))
        return VT_DB_NOTIFIED;
    return lost ? VT_ESTORE : VT_DB_TIMEOUT;
}

/* ---- named locks: session-level advisory locks ---- */

/* Held by this session already (pg_locks shows a bigint key as its high half
 * in classid, its low half in objid, objsubid 1), or taken now: a holder that
 * asks again does not stack a second hold, and one whose connection was made
 * again (revive: a new session, the old one's locks gone) takes it anew or
 * learns that another instance has it. */
static const char SQL_TRY_LOCK[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' "
    "AND pid = pg_catalog.pg_backend_pid() AND granted AND classid = $2::oid "
    "AND objid = $3::oid AND objsubid = 1) THEN true "
    "ELSE pg_catalog.pg_try_advisory_lock($1::bigint) END";

/* The server notices a holder gone silent (its machine died, the network
 * dropped: no FIN ever comes) within about half a minute, rather than after
 * the system's default two hours of TCP keepalive, and ends its session and
 * locks. Ignored on a Unix socket. */
static const char SQL_LOCK_SETUP[] =
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
    "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000";

static int pg_try_lock(struct vt_db *db, int64_t key)
{
    struct pg_db *c = conn(db);
    char k[24], hi[16], lo[16];
    uint64_t u = (uint64_t)key;
    snprintf(k, sizeof(k), "%lld", (long long)key);
    snprintf(hi, sizeof(hi), "%lu", (unsigned long)(u >> 32));
    snprintf(lo, sizeof(lo), "%lu", (unsigned long)(u & 0xffffffffu));
    const char *vals[3] = {k, hi, lo};
    if (revive(c))
        return VT_ESTORE;
    if (c->lock_ready != c->generation + 1) {
        PGresult *r = PQexec(c->conn, SQL_LOCK_SETUP);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            c->lock_ready = c->generation + 1;
        PQclear(r);
    }
    PGresult *r = PQexecParams(c->conn, SQL_TRY_LOCK, 3, NULL, vals, NULL, NULL, 0);
    int rc = result_rc(c, r);
    if (rc == 0)
        rc = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

/* A lost connection has no lock left to let go of: it is not made again for
 * this. */
static int pg_unlock(struct vt_db *db, int64_t key)
{
    struct pg_db *c = conn(db);
    if (PQstatus(c->conn) != CONNECTION_OK)
        return 0;
    char k[24];
    snprintf(k, sizeof(k), "%lld", (long long)key);
    const char *vals[1] = {k};
    PGresult *r = PQexecParams(c->conn, "SELECT pg_catalog.pg_advisory_unlock($1::bigint)", 1, NULL,
                               vals, NULL, NULL, 0);
    int rc = result_rc(c, r);
    PQclear(r);
    return rc;
}

/* ---- full-text search: tsvector and tsquery ---- */

/* Each word quoted as a tsquery literal ('word':*, prefix-matched; a word
 * never holds a quote or a backslash: db.c splits on everything but letters,
 * digits and non-ASCII) and the words ANDed. */
static bool pg_fts_query(const char *const *words, const size_t *lens, size_t n, char *out,
                         size_t cap)
{
    size_t o = 0, k;
    out[0] = '\0';
    for (k = 0; k < n; k++) {
        if (o + lens[k] + 8 >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s'%.*s':*", k ? " & " : "", (int)lens[k],
                              words[k]);
    }
    return k > 0;
}

/* The index is a table of the indexed rows' ids and their tsvector, doc,
 * in the text search configuration ventanilla_es (unaccented Spanish). */
static int pg_fts_ids_sql(const char *index, int param, char *out, size_t cap)
{
    int n = snprintf(
        out, cap, "SELECT id FROM %s WHERE doc @@ to_tsquery('ventanilla_es', CAST(?%d AS TEXT))",
        index, param);
    return n < 0 || (size_t)n >= cap ? VT_EINVAL : 0;
}

const struct vt_db_driver vt_db_driver_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .table_exists = pg_table_exists,
    .tables = pg_tables,
    .copy_to = pg_copy_to,
    .begin = pg_begin,
    .try_lock = pg_try_lock,
    .unlock = pg_unlock,
    .bind_int = pg_bind_int,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .changes = pg_changes,
    .last_insert_id = pg_last_insert_id,
    .returning_id = true,
    .reset = pg_reset,
    .col_null = pg_col_null,
    .col_int = pg_col_int,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .col_type = pg_col_type,
    .notify = pg_notify,
    .listen = pg_listen,
    .wait_notify = pg_wait_notify,
    .fts_query = pg_fts_query,
    .fts_ids_sql = pg_fts_ids_sql,
};
