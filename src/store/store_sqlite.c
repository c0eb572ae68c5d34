/* store_sqlite.c - the SQLite backend of the store (store.h).
 *
 * Owns: the database file DATA_DIR/ventanilla.db, the write connection and the
 * writer thread, the prepared statements, the migration runner, the online
 * copy a backup takes (sq_backup) and the reading of such a copy.
 * Must not: make domain decisions; those come through the hooks.
 *
 * Invariants:
 *  1. Only the writer thread writes items, requesters, attachments, audit
 *     events, radicado counters and the audit head, always in one transaction
 *     per batch (group commit: one fsync for many intakes).
 *  2. A job's done callback runs only after its batch is durably committed
 *     (WAL, synchronous=FULL) or has failed; nothing is acknowledged before.
 *  3. Radicado counters and the audit head are read inside the transaction
 *     that advances them, so numbers stay gap-free even if a batch fails.
 *  4. Each item runs inside a SAVEPOINT: a failing item rolls back alone and
 *     takes no number.
 *  5. Checkpoints run on their own thread and connection (PASSIVE, never
 *     blocking the writer), woken by the write connection's WAL hook. The
 *     writer's commits then pay only for the WAL append and its fsync, and
 *     the WAL file is reused from its start instead of growing.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/attach.h"
#include "store/audit.h"
#include "core/calendar.h"
#include "core/error.h"
#include "store/migrations.h"
#include "store/db.h"
#include "store/driver_sqlite.h"
#include "store/store_backend.h"

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_COUNTER_GET,
    S_COUNTER_PUT,
    S_HEAD_GET,
    S_HEAD_PUT,
    S_ITEM_INSERT,
    S_REQUESTER_INSERT,
    S_ATTACHMENT_INSERT,
    S_EVENT_INSERT,
    S_SEEN,
    S_COUNT
};

static const char *const writer_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT item",
    [S_RELEASE] = "RELEASE item",
    [S_ROLLBACK_TO] = "ROLLBACK TO item",
    [S_COUNTER_GET] = "SELECT last FROM radicado_counters WHERE year = ?1",
    [S_COUNTER_PUT] = "INSERT INTO radicado_counters (year, last) VALUES (?1, ?2) "
                      "ON CONFLICT (year) DO UPDATE SET last = excluded.last",
    [S_HEAD_GET] = "SELECT last_event_id, last_hash FROM audit_head WHERE id = 1",
    [S_HEAD_PUT] = "INSERT INTO audit_head (id, last_event_id, last_hash) VALUES (1, ?1, ?2) "
                   "ON CONFLICT (id) DO UPDATE SET last_event_id = excluded.last_event_id, "
                   "last_hash = excluded.last_hash",
    [S_ITEM_INSERT] =
        "INSERT INTO items (kind, radicado, radicado_year, radicado_seq, tracking_hash, type, "
        "petition_class, channel, subject, body, status, received_at, filed_date, term_days, "
        "due_date, stakeholder_group, classified_by, reply_channel, needs_triage, "
        "reserve_requested, identity_reserved) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20 OR COALESCE(?6 = 'denuncia', 0))",
    [S_REQUESTER_INSERT] =
        "INSERT INTO requesters (item_id, person_type, name, id_type, id_number, email, phone, "
        "address, municipality, data_consent, characterization) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
        "?7, ?8, ?9, ?10, ?11)",
    [S_ATTACHMENT_INSERT] = "INSERT INTO attachments (item_id, sha256, size, content_type, "
                            "filename) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_EVENT_INSERT] = "INSERT INTO audit_events (id, item_id, at, actor, action, payload, "
                       "public, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_SEEN] = "INSERT INTO inbound_seen (channel, event_id, at) VALUES (?1, ?2, ?3) "
               "ON CONFLICT DO NOTHING",
};

/* Prepared statements of other modules, keyed by the address of their SQL
 * text (a string literal), one cache per connection. */
#define CACHE_MAX 96
struct stmt_cache {
    const char *sql[CACHE_MAX];
    sqlite3_stmt *st[CACHE_MAX];
    size_t n;
};

static sqlite3_stmt *cache_get(struct stmt_cache *c, sqlite3 *db, const char *sql)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->sql[i] == sql) {
            sqlite3_reset(c->st[i]);
            sqlite3_clear_bindings(c->st[i]);
            return c->st[i];
        }
    sqlite3_stmt *st = NULL;
    if (c->n == CACHE_MAX ||
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "level=error event=prepare_failed error=\"%s\"\n",
                c->n == CACHE_MAX ? "statement cache full" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    c->sql[c->n] = sql;
    c->st[c->n++] = st;
    return st;
}

static void cache_cleanup(struct stmt_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        sqlite3_finalize(c->st[i]);
    c->n = 0;
}

/* Statements built at run time (the queue's filters), keyed by their text;
 * the least recently used goes when the cache is full. */
#define TEXT_CACHE_MAX 48
struct text_cache {
    char *sql[TEXT_CACHE_MAX];
    sqlite3_stmt *st[TEXT_CACHE_MAX];
    uint64_t used[TEXT_CACHE_MAX], clock;
    size_t n;
};

static sqlite3_stmt *text_cache_get(struct text_cache *c, sqlite3 *db, const char *sql)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->sql[i], sql) == 0) {
            sqlite3_reset(c->st[i]);
            sqlite3_clear_bindings(c->st[i]);
            c->used[i] = ++c->clock;
            return c->st[i];
        }
    sqlite3_stmt *st = NULL;
    char *copy = strdup(sql);
    if (!copy ||
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "level=error event=prepare_failed error=\"%s\"\n",
                copy ? sqlite3_errmsg(db) : "out of memory");
        free(copy);
        sqlite3_finalize(st);
        return NULL;
    }
    size_t slot = c->n;
    if (c->n == TEXT_CACHE_MAX) {
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->used[i] < c->used[slot])
                slot = i;
        sqlite3_finalize(c->st[slot]);
        free(c->sql[slot]);
    } else {
        c->n++;
    }
    c->sql[slot] = copy;
    c->st[slot] = st;
    c->used[slot] = ++c->clock;
    return st;
}

static void text_cache_cleanup(struct text_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_finalize(c->st[i]);
        free(c->sql[i]);
    }
    c->n = 0;
}

struct counter {
    int year;
    int64_t last;
    int64_t saved; /* value at the item's savepoint */
};

struct sq_store {
    struct vt_store base; /* first: the backend table */
    struct vt_store_options opt;
    char *data_dir;
    sqlite3 *db; /* the write connection: writer thread only */
    struct vt_db *vdb; /* the same through db.h, for the modules */
    sqlite3_stmt *st[S_COUNT];
    struct stmt_cache cache; /* other modules' statements on db */
    unsigned char audit_key[VT_AUDIT_KEY_BYTES];

    pthread_t writer;
    pthread_mutex_t lock; /* guards queue, stopping and stats */
    pthread_cond_t wake;
    struct vt_store_job *head, *tail;
    bool stopping;
    struct vt_store_stats stats;

    pthread_t checkpointer;
    sqlite3 *ckpt_db; /* checkpointer thread only */
    bool ckpt_wanted; /* guarded by lock */

    int64_t last_stamp; /* writer thread: receipt times never go backwards */
};

struct sq_reader {
    struct vt_store_reader base; /* first: the backend table */
    sqlite3 *db;
    struct vt_db *vdb; /* the same through db.h, for the modules */
    sqlite3_stmt *contact, *track_item, *track_events;
    struct stmt_cache cache;
    struct text_cache text_cache;
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void db_path(const char *data_dir, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/ventanilla.db", data_dir);
}

/* The database and its -wal and -shm files are the owner's alone, whatever
 * the umask: SQLite creates a new database 0644 and gives -wal and -shm the
 * database's own mode, so the file is made 0600 before SQLite first opens it,
 * and one an older version left readable to others is brought down to 0600
 * (with its -wal and -shm) when the store opens. Errors are left to the open. */
static void own_db_files(const char *path, bool create)
{
    if (create) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4300];
        struct stat st;
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (stat(p, &st) == 0 && (st.st_mode & 0077))
            chmod(p, st.st_mode & 0700);
    }
}

/* Opens a connection with the pragmas every connection needs. A data
 * directory it creates is the owner's alone (0700). */
static int open_db(const char *data_dir, bool create, sqlite3 **out, char *err, size_t errlen)
{
    char path[4200];
    db_path(data_dir, path, sizeof(path));
    if (create && mkdir(data_dir, 0700) != 0 && access(data_dir, W_OK) != 0) {
        snprintf(err, errlen, "cannot create data directory %s", data_dir);
        return VT_EIO;
    }
    if (create)
        own_db_files(path, true);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return VT_ESTORE;
    }
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                     "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 1000;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return VT_ESTORE;
    }
    *out = db;
    return 0;
}

static int latest_known_version(void)
{
    int v = 0;
    for (const struct vt_migration *m = vt_migrations; m->name; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

/* The schema version recorded in the database, 0 for a new one. */
static int current_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    *version = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'schema_migrations'",
                           -1, &st, NULL) != SQLITE_OK)
        return VT_ESTORE;
    int exists = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!exists)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK)
        return VT_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* A database written by a newer program must not be touched by this one. */
static int refuse_newer(int version, char *err, size_t errlen)
{
    if (version <= latest_known_version())
        return 0;
    snprintf(err, errlen,
             "the database schema is version %d but this program knows up to %d; use a newer "
             "ventanilla",
             version, latest_known_version());
    return VT_EVERSION;
}

static int sq_migrate(const char *data_dir, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *rec = NULL;
    int rc = open_db(data_dir, true, &db, err, errlen), version;
    if (rc)
        return rc;
    unsigned char key[VT_AUDIT_KEY_BYTES];
    if (vt_audit_key_load(data_dir, 1, key)) {
        snprintf(err, errlen, "cannot create the audit key in %s", data_dir);
        rc = VT_EIO;
        goto fail;
    }
    sodium_memzero(key, sizeof(key));
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto sqlfail;
    if ((rc = current_version(db, &version)))
        goto fail;
    if ((rc = refuse_newer(version, err, errlen)))
        goto fail;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &rec, NULL) != SQLITE_OK)
        goto sqlfail;
    for (const struct vt_migration *m = vt_migrations; m->name; m++) {
        if (m->version <= version)
            continue;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
            goto sqlfail;
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", m->name, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            rc = VT_ESTORE;
            goto fail;
        }
        sqlite3_reset(rec);
        sqlite3_bind_int(rec, 1, m->version);
        sqlite3_bind_text(rec, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(rec, 3, real_now_ms());
        if (sqlite3_step(rec) != SQLITE_DONE ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %s failed: %s", m->name, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            rc = VT_ESTORE;
            goto fail;
        }
    }
    sqlite3_finalize(rec);
    sqlite3_close(db);
    return 0;
sqlfail:
    snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    rc = VT_ESTORE;
fail:
    sqlite3_finalize(rec);
    sqlite3_close(db);
    return rc;
}

/* Opens an existing, current database (not creating it). */
static int open_current(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
    char path[4200];
    db_path(data_dir, path, sizeof(path));
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen, "no database at %s; run `ventanilla migrate` first", path);
        return VT_ENOTFOUND;
    }
    own_db_files(path, false);
    int rc = open_db(data_dir, false, out, err, errlen), version;
    if (rc)
        return rc;
    if ((rc = current_version(*out, &version)))
        goto fail;
    if ((rc = refuse_newer(version, err, errlen)))
        goto fail;
    if (version < latest_known_version()) {
        snprintf(err, errlen, "the database schema is version %d, not %d; run `ventanilla migrate`",
                 version, latest_known_version());
        rc = VT_EVERSION;
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(*out);
    *out = NULL;
    return rc;
}

/* ---- writer thread ---- */

static struct counter *counter_for(struct sq_store *s, struct counter *c, size_t *n, int year)
{
    for (size_t i = 0; i < *n; i++)
        if (c[i].year == year)
            return &c[i];
    if (*n == 4)
        return NULL; /* four years in one batch cannot happen; refuse rather than guess */
    sqlite3_stmt *st = s->st[S_COUNTER_GET];
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, year);
    int64_t last = 0;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        last = sqlite3_column_int64(st, 0);
    else if (r != SQLITE_DONE)
        return NULL;
    sqlite3_reset(st);
    c[*n] = (struct counter){year, last, last};
    return &c[(*n)++];
}

static int step_done(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

struct head {
    int64_t last_id;
    char last_hash[65];
};

/* One batch's transaction, handed to run callbacks as struct vt_store_tx. */
struct sq_tx {
    struct vt_store_tx base; /* first: the backend table */
    struct sq_store *s;
    struct counter counters[4];
    size_t n_counters;
    struct head h;
    struct vt_item **items; /* inserted in this batch, for the committed hook */
    size_t n_items, cap_items;
    bool outbox_added;
    struct vt_item_change *changes; /* noted by jobs, for the changed hook */
    size_t n_changes, cap_changes;
    int64_t now; /* the current job's clock */
};

static int64_t store_now(struct sq_store *s)
{
    int64_t now = s->opt.hooks.now_ms ? s->opt.hooks.now_ms(s->opt.hooks.ctx) : real_now_ms();
    return now < s->last_stamp ? s->last_stamp : now;
}

/* The payload of the "radicado" audit event: the item's immutable facts. */
static char *created_payload(const struct vt_item *it)
{
    cJSON *o = cJSON_CreateObject();
    char hash[65];
    sodium_bin2hex(hash, sizeof(hash), it->tracking_hash, sizeof(it->tracking_hash));
    cJSON_AddNumberToObject(o, "item_id", (double)it->id);
    cJSON_AddStringToObject(o, "kind", it->kind);
    if (it->radicado[0])
        cJSON_AddStringToObject(o, "radicado", it->radicado);
    if (it->type)
        cJSON_AddStringToObject(o, "type", it->type);
    if (it->petition_class)
        cJSON_AddStringToObject(o, "petition_class", it->petition_class);
    cJSON_AddStringToObject(o, "channel", it->channel);
    cJSON_AddNumberToObject(o, "received_at", (double)it->received_at);
    cJSON_AddStringToObject(o, "filed_date", it->filed_date);
    if (it->due_date[0])
        cJSON_AddStringToObject(o, "due_date", it->due_date);
    cJSON_AddStringToObject(o, "stakeholder_group", it->group);
    cJSON_AddStringToObject(o, "classified_by", it->classified_by);
    cJSON_AddStringToObject(o, "tracking_hash", hash);
    cJSON_AddNumberToObject(o, "attachments", (double)it->n_att);
    if (it->req.reserve_requested)
        cJSON_AddBoolToObject(o, "reserve_requested", true);
    char *p = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return p;
}

static int append_event(struct sq_store *s, struct head *h, const struct vt_audit_event *ev_in)
{
    struct vt_audit_event ev = *ev_in;
    char hash[65];
    ev.id = h->last_id + 1;
    vt_audit_hash(s->audit_key, h->last_hash, &ev, hash);
    sqlite3_stmt *st = s->st[S_EVENT_INSERT];
    sqlite3_bind_int64(st, 1, ev.id);
    if (ev.item_id)
        sqlite3_bind_int64(st, 2, ev.item_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, ev.at);
    sqlite3_bind_text(st, 4, ev.actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev.action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ev.payload, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, ev.is_public);
    sqlite3_bind_text(st, 8, h->last_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, hash, -1, SQLITE_STATIC);
    int rc = step_done(st);
    sqlite3_clear_bindings(st);
    if (rc == 0) {
        h->last_id = ev.id;
        memcpy(h->last_hash, hash, sizeof(hash));
    }
    return rc;
}

/* Inserts one item with its requester, attachments and "radicado" event. */
static int insert_item(struct sq_tx *tx, struct vt_item *it)
{
    struct sq_store *s = tx->s;
    struct counter *counters = tx->counters;
    size_t *n_counters = &tx->n_counters;
    struct head *h = &tx->h;
    int64_t now = store_now(s);
    it->received_at = now;
    it->year = vt_date_from_unix_ms(now).year;
    it->seq = 0;
    it->radicado[0] = '\0';
    struct counter *c = NULL;
    if (strcmp(it->kind, "survey_response") != 0) {
        if (!(c = counter_for(s, counters, n_counters, it->year)))
            return VT_ESTORE;
        c->saved = c->last;
        it->seq = ++c->last;
    }
    s->opt.hooks.stamp(s->opt.hooks.ctx, it);

    sqlite3_stmt *st = s->st[S_ITEM_INSERT];
    sqlite3_bind_text(st, 1, it->kind, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, it->radicado);
    if (c) {
        sqlite3_bind_int(st, 3, it->year);
        sqlite3_bind_int64(st, 4, it->seq);
        sqlite3_bind_blob(st, 5, it->tracking_hash, 32, SQLITE_STATIC);
    }
    bind_text_or_null(st, 6, it->type);
    bind_text_or_null(st, 7, it->petition_class);
    sqlite3_bind_text(st, 8, it->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, it->subject ? it->subject : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, it->body ? it->body : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, it->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, it->received_at);
    sqlite3_bind_text(st, 13, it->filed_date, -1, SQLITE_STATIC);
    if (it->term_days >= 0)
        sqlite3_bind_int(st, 14, it->term_days);
    bind_text_or_null(st, 15, it->due_date);
    sqlite3_bind_text(st, 16, it->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 17, it->classified_by, -1, SQLITE_STATIC);
    bind_text_or_null(st, 18, it->reply_channel);
    sqlite3_bind_int(st, 19, it->needs_triage);
    sqlite3_bind_int(st, 20, it->req.reserve_requested);
    int rc = step_done(st);
    sqlite3_clear_bindings(st);
    if (rc)
        goto fail;
    it->id = sqlite3_last_insert_rowid(s->db);

    const struct vt_requester *r = &it->req;
    st = s->st[S_REQUESTER_INSERT];
    sqlite3_bind_int64(st, 1, it->id);
    sqlite3_bind_text(st, 2, r->person_type ? r->person_type : "anonimo", -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, r->name);
    bind_text_or_null(st, 4, r->id_type);
    bind_text_or_null(st, 5, r->id_number);
    bind_text_or_null(st, 6, r->email);
    bind_text_or_null(st, 7, r->phone);
    bind_text_or_null(st, 8, r->address);
    bind_text_or_null(st, 9, r->municipality);
    sqlite3_bind_int(st, 10, r->data_consent);
    bind_text_or_null(st, 11, r->characterization);
    rc = step_done(st);
    sqlite3_clear_bindings(st);
    if (rc)
        goto fail;

    for (size_t i = 0; i < it->n_att; i++) {
        const struct vt_attachment *a = &it->att[i];
        st = s->st[S_ATTACHMENT_INSERT];
        sqlite3_bind_int64(st, 1, it->id);
        sqlite3_bind_text(st, 2, a->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)a->size);
        sqlite3_bind_text(st, 4, a->content_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->filename ? a->filename : "", -1, SQLITE_STATIC);
        rc = step_done(st);
        sqlite3_clear_bindings(st);
        if (rc)
            goto fail;
    }

    char *payload = created_payload(it);
    if (!payload) {
        rc = VT_ENOMEM;
        goto fail;
    }
    char actor[64];
    snprintf(actor, sizeof(actor), "ciudadano:%s", it->channel);
    struct vt_audit_event ev = {0, it->id, it->received_at, actor, "radicado", payload, 1};
    rc = append_event(s, h, &ev);
    free(payload);
    if (rc)
        goto fail;
    s->last_stamp = now;
    return 0;
fail:
    if (c)
        c->last = c->saved;
    return rc;
}

static void hist_add(uint64_t *hist, const double *bounds, size_t nb, double v)
{
    size_t i = 0;
    while (i < nb && v > bounds[i])
        i++;
    hist[i]++;
}

static int remember_item(struct sq_tx *tx, struct vt_item *it)
{
    if (tx->n_items == tx->cap_items) {
        size_t cap = tx->cap_items ? tx->cap_items * 2 : 64;
        struct vt_item **p = realloc(tx->items, cap * sizeof(*p));
        if (!p)
            return VT_ENOMEM;
        tx->items = p;
        tx->cap_items = cap;
    }
    tx->items[tx->n_items++] = it;
    return 0;
}

/* Runs one job inside its own SAVEPOINT; a failure rolls back only its work
 * and restores the counters and the audit head it advanced. */
static void run_job(struct sq_tx *tx, struct vt_store_job *j)
{
    struct sq_store *s = tx->s;
    struct counter saved_counters[4];
    size_t saved_n = tx->n_counters, saved_items = tx->n_items, saved_changes = tx->n_changes;
    struct head saved_head = tx->h;
    bool saved_outbox = tx->outbox_added;
    memcpy(saved_counters, tx->counters, sizeof(saved_counters));
    if (step_done(s->st[S_SAVEPOINT])) {
        j->result = VT_ESTORE;
        return;
    }
    tx->now = store_now(s);
    if (j->run) {
        j->result = j->run(&tx->base, j->ctx);
    } else {
        j->result = insert_item(tx, j->item);
        if (j->result == 0)
            j->result = remember_item(tx, j->item);
    }
    if (j->result) {
        step_done(s->st[S_ROLLBACK_TO]);
        memcpy(tx->counters, saved_counters, sizeof(saved_counters));
        tx->n_counters = saved_n;
        tx->n_items = saved_items;
        tx->h = saved_head;
        tx->outbox_added = saved_outbox;
        tx->n_changes = saved_changes;
    }
    step_done(s->st[S_RELEASE]);
}

/* Commits one batch. Every job gets its result; done is called after. */
static void commit_batch(struct sq_store *s, struct vt_store_job *batch, size_t n)
{
    double t0 = mono_s();
    struct sq_tx tx = {.base = {&vt_store_sqlite}, .s = s, .h = {0, VT_AUDIT_GENESIS}};
    int rc = 0;

    /* Attachment files first: they must be durable before the rows naming them. */
    for (struct vt_store_job *j = batch; j; j = j->next) {
        j->result = 0;
        for (size_t i = 0; j->item && i < j->item->n_att && j->result == 0; i++) {
            const struct vt_attachment *a = &j->item->att[i];
            j->result = vt_attach_write(s->data_dir, a->data, a->size, a->sha256);
        }
    }

    if (step_done(s->st[S_BEGIN])) {
        rc = VT_ESTORE;
        goto finish;
    }
    sqlite3_stmt *st = s->st[S_HEAD_GET];
    if (sqlite3_step(st) == SQLITE_ROW) {
        tx.h.last_id = sqlite3_column_int64(st, 0);
        snprintf(tx.h.last_hash, sizeof(tx.h.last_hash), "%s",
                 (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    int64_t head_before = tx.h.last_id;
    for (struct vt_store_job *j = batch; j; j = j->next)
        if (j->result == 0)
            run_job(&tx, j);
    for (size_t i = 0; i < tx.n_counters && rc == 0; i++) {
        st = s->st[S_COUNTER_PUT];
        sqlite3_bind_int(st, 1, tx.counters[i].year);
        sqlite3_bind_int64(st, 2, tx.counters[i].last);
        rc = step_done(st);
    }
    if (rc == 0 && tx.h.last_id != head_before) {
        st = s->st[S_HEAD_PUT];
        sqlite3_bind_int64(st, 1, tx.h.last_id);
        sqlite3_bind_text(st, 2, tx.h.last_hash, -1, SQLITE_STATIC);
        rc = step_done(st);
    }
    if (rc == 0)
        rc = step_done(s->st[S_COMMIT]);
    if (rc)
        step_done(s->st[S_ROLLBACK]);
finish:
    if (rc) {
        fprintf(stderr, "level=error event=commit_failed error=\"%s\"\n", sqlite3_errmsg(s->db));
        for (struct vt_store_job *j = batch; j; j = j->next)
            if (j->result == 0)
                j->result = rc;
        tx.n_items = 0;
        tx.outbox_added = false;
        tx.n_changes = 0;
    }
    double dt = mono_s() - t0;
    static const double batch_bounds[7] = {1, 4, 16, 64, 256, 1024, 4096};
    static const double lat_bounds[7] = {0.001, 0.002, 0.005, 0.010, 0.025, 0.050, 0.100};
    pthread_mutex_lock(&s->lock);
    s->stats.batches++;
    s->stats.items += tx.n_items;
    s->stats.jobs += n;
    hist_add(s->stats.batch_hist, batch_bounds, 7, (double)n);
    hist_add(s->stats.latency_hist, lat_bounds, 7, dt);
    s->stats.latency_sum += dt;
    pthread_mutex_unlock(&s->lock);

    if (tx.n_items && s->opt.hooks.committed)
        s->opt.hooks.committed(s->opt.hooks.ctx, tx.items, tx.n_items);
    if (tx.outbox_added && s->opt.hooks.outbox_added)
        s->opt.hooks.outbox_added(s->opt.hooks.ctx);
    if (tx.n_changes && s->opt.hooks.changed)
        s->opt.hooks.changed(s->opt.hooks.ctx, tx.changes, tx.n_changes);
    free(tx.items);
    free(tx.changes);
    while (batch) {
        struct vt_store_job *next = batch->next;
        batch->next = NULL;
        batch->done(batch);
        batch = next;
    }
}

/* ---- the transaction API (run callbacks, writer thread) ---- */

static int64_t sq_tx_now(struct vt_store_tx *base)
{
    return ((struct sq_tx *)base)->now;
}

static int sq_tx_item_insert(struct vt_store_tx *base, struct vt_item *it)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    for (size_t i = 0; i < it->n_att; i++) {
        /* Usually already durable (the media worker wrote them); cheap if so. */
        int rc =
            vt_attach_write(tx->s->data_dir, it->att[i].data, it->att[i].size, it->att[i].sha256);
        if (rc && it->att[i].data)
            return rc;
    }
    int rc = insert_item(tx, it);
    return rc ? rc : remember_item(tx, it);
}

static int sq_tx_event(struct vt_store_tx *base, int64_t item_id, const char *actor,
                       const char *action, const char *payload, int is_public)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    struct vt_audit_event ev = {0, item_id, tx->now, actor, action, payload, is_public};
    return append_event(tx->s, &tx->h, &ev);
}

static int sq_tx_attachment_add(struct vt_store_tx *base, int64_t item_id, const char *sha256,
                                int64_t size, const char *content_type, const char *filename)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    sqlite3_stmt *st = tx->s->st[S_ATTACHMENT_INSERT];
    sqlite3_bind_int64(st, 1, item_id);
    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_text(st, 4, content_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, filename ? filename : "", -1, SQLITE_STATIC);
    int rc = step_done(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sq_tx_seen(struct vt_store_tx *base, const char *channel, const char *event_id)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    sqlite3_stmt *st = tx->s->st[S_SEEN];
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, tx->now);
    int rc = step_done(st);
    sqlite3_clear_bindings(st);
    if (rc)
        return rc;
    return sqlite3_changes(tx->s->db) == 0 ? VT_EEXIST : 0;
}

static int sq_tx_item_changed(struct vt_store_tx *base, const struct vt_item_change *c)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    if (tx->n_changes == tx->cap_changes) {
        size_t cap = tx->cap_changes ? tx->cap_changes * 2 : 8;
        struct vt_item_change *p = realloc(tx->changes, cap * sizeof(*p));
        if (!p)
            return VT_ENOMEM;
        tx->changes = p;
        tx->cap_changes = cap;
    }
    tx->changes[tx->n_changes++] = *c;
    return 0;
}

static void sq_tx_outbox_added(struct vt_store_tx *base)
{
    ((struct sq_tx *)base)->outbox_added = true;
}

static sqlite3_stmt *sq_tx_stmt(struct vt_store_tx *base, const char *sql)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    return cache_get(&tx->s->cache, tx->s->db, sql);
}

static int sq_tx_contact_lookup(struct vt_store_tx *base, const char *key_type, const char *key,
                                char *group, size_t group_len)
{
    struct sq_tx *tx = (struct sq_tx *)base;
    sqlite3_stmt *st = cache_get(&tx->s->cache, tx->s->db,
                                 "SELECT group_id FROM contacts WHERE key_type = ?1 AND key = ?2");
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, key_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), ret = VT_ENOTFOUND;
    if (r == SQLITE_ROW) {
        snprintf(group, group_len, "%s", (const char *)sqlite3_column_text(st, 0));
        ret = 0;
    } else if (r != SQLITE_DONE) {
        ret = VT_ESTORE;
    }
    sqlite3_reset(st);
    return ret;
}

/* Write connection's WAL hook (writer thread, after each commit). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sq_store *s = arg;
    (void)db;
    (void)name;
    if (pages >= 1000) {
        pthread_mutex_lock(&s->lock);
        s->ckpt_wanted = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->ckpt_wanted && !s->stopping)
            pthread_cond_wait(&s->wake, &s->lock);
        if (s->stopping)
            break;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->lock);
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *writer_main(void *arg)
{
    struct sq_store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->wake, &s->lock);
        if (!s->head && s->stopping) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        struct vt_store_job *batch = s->head, *last = s->head;
        size_t n = 1;
        while (last->next && n < (size_t)s->opt.batch_max) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->lock);
        commit_batch(s, batch, n);
    }
    return NULL;
}

static int sq_open(const struct vt_store_options *opt, struct vt_store **out, char *err,
                   size_t errlen)
{
    struct sq_store *s = calloc(1, sizeof(*s));
    int rc;
    if (!s || !(s->data_dir = strdup(opt->data_dir))) {
        free(s);
        return VT_ENOMEM;
    }
    s->base.be = &vt_store_sqlite;
    s->opt = *opt;
    s->opt.data_dir = s->data_dir;
    if (s->opt.batch_max < 1)
        s->opt.batch_max = 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if ((rc = open_current(s->data_dir, &s->db, err, errlen)))
        goto fail;
    if (!(s->vdb = vt_db_sqlite_adopt(s->db))) {
        rc = VT_ENOMEM;
        goto fail;
    }
    if (vt_audit_key_load(s->data_dir, 0, s->audit_key)) {
        snprintf(err, errlen, "cannot read %s/audit.key; run `ventanilla migrate`", s->data_dir);
        rc = VT_EIO;
        goto fail;
    }
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare statement: %s", sqlite3_errmsg(s->db));
            rc = VT_ESTORE;
            goto fail;
        }
    if ((rc = open_db(s->data_dir, false, &s->ckpt_db, err, errlen)))
        goto fail;
    sqlite3_wal_hook(s->db, wal_hook, s); /* replaces SQLite's automatic checkpoints */
    if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) != 0) {
        rc = VT_ENOMEM;
        goto fail;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->checkpointer, NULL);
        rc = VT_ENOMEM;
        goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    vt_db_close(s->vdb);
    sqlite3_close(s->ckpt_db);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->data_dir);
    free(s);
    return rc;
}

static void sq_close(struct vt_store *base)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
    pthread_join(s->checkpointer, NULL);
    sqlite3_close(s->ckpt_db);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    cache_cleanup(&s->cache);
    vt_db_close(s->vdb); /* its statements before the connection */
    sqlite3_close(s->db); /* the last connection checkpoints and removes the WAL */
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    sodium_memzero(s->audit_key, sizeof(s->audit_key));
    free(s->data_dir);
    free(s);
}

static int sq_submit(struct vt_store *base, struct vt_store_job *job)
{
    struct sq_store *s = (struct sq_store *)base;
    job->next = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return VT_ESHUTDOWN;
    }
    if (s->tail)
        s->tail->next = job;
    else
        s->head = job;
    s->tail = job;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void sq_stats(struct vt_store *base, struct vt_store_stats *out)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

/* ---- readers ---- */

static void sq_reader_free(struct vt_store_reader *base);

static struct vt_store_reader *sq_reader_new(struct vt_store *base)
{
    struct sq_store *s = (struct sq_store *)base;
    struct sq_reader *r = calloc(1, sizeof(*r));
    char err[300];
    if (!r)
        return NULL;
    r->base.be = &vt_store_sqlite;
    if (open_db(s->data_dir, false, &r->db, err, sizeof(err)) ||
        !(r->vdb = vt_db_sqlite_adopt(r->db)))
        goto fail;
    if (sqlite3_prepare_v3(r->db, "SELECT group_id FROM contacts WHERE key_type = ?1 AND key = ?2",
                           -1, SQLITE_PREPARE_PERSISTENT, &r->contact, NULL) ||
        sqlite3_prepare_v3(r->db,
                           "SELECT id, tracking_hash, kind, coalesce(type, ''), "
                           "coalesce(petition_class, ''), status, received_at, "
                           "coalesce(due_date, '') FROM items WHERE radicado = ?1",
                           -1, SQLITE_PREPARE_PERSISTENT, &r->track_item, NULL) ||
        sqlite3_prepare_v3(r->db,
                           "SELECT at, action FROM audit_events WHERE item_id = ?1 AND "
                           "public = 1 ORDER BY id",
                           -1, SQLITE_PREPARE_PERSISTENT, &r->track_events, NULL))
        goto fail;
    return &r->base;
fail:
    sq_reader_free(&r->base);
    return NULL;
}

static void sq_reader_free(struct vt_store_reader *base)
{
    struct sq_reader *r = (struct sq_reader *)base;
    sqlite3_finalize(r->contact);
    sqlite3_finalize(r->track_item);
    sqlite3_finalize(r->track_events);
    cache_cleanup(&r->cache);
    text_cache_cleanup(&r->text_cache);
    vt_db_close(r->vdb); /* its statements before the connection */
    sqlite3_close(r->db);
    free(r);
}

static int sq_contact_lookup(struct vt_store_reader *base, const char *key_type, const char *key,
                             char *group, size_t group_len)
{
    struct sq_reader *r = (struct sq_reader *)base;
    sqlite3_stmt *st = r->contact;
    sqlite3_bind_text(st, 1, key_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int ret = VT_ENOTFOUND;
    if (rc == SQLITE_ROW) {
        snprintf(group, group_len, "%s", (const char *)sqlite3_column_text(st, 0));
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = VT_ESTORE;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static int sq_track(struct vt_store_reader *base, const char *radicado,
                    const unsigned char hash[32], struct vt_track *out)
{
    struct sq_reader *r = (struct sq_reader *)base;
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = r->track_item;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_STATIC);
    int rc = VT_ENOTFOUND;
    int64_t id = 0;
    unsigned char stored[32] = {0};
    bool have = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        have = sqlite3_column_bytes(st, 1) == 32;
        if (have)
            memcpy(stored, sqlite3_column_blob(st, 1), 32);
        id = sqlite3_column_int64(st, 0);
        snprintf(out->radicado, sizeof(out->radicado), "%s", radicado);
        copy_col(out->kind, sizeof(out->kind), st, 2);
        copy_col(out->type, sizeof(out->type), st, 3);
        copy_col(out->petition_class, sizeof(out->petition_class), st, 4);
        copy_col(out->status, sizeof(out->status), st, 5);
        out->received_at = sqlite3_column_int64(st, 6);
        copy_col(out->due_date, sizeof(out->due_date), st, 7);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* Compare even for an unknown radicado, so timing says nothing either. */
    int match = sodium_memcmp(stored, hash, 32) == 0;
    if (!have || !match) {
        memset(out, 0, sizeof(*out));
        return VT_ENOTFOUND;
    }
    st = r->track_events;
    sqlite3_bind_int64(st, 1, id);
    rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct vt_track_event *e = realloc(out->events, (out->n_events + 1) * sizeof(*e));
        if (!e) {
            rc = VT_ENOMEM;
            break;
        }
        out->events = e;
        e = &out->events[out->n_events++];
        memset(e, 0, sizeof(*e));
        e->at = sqlite3_column_int64(st, 0);
        copy_col(e->action, sizeof(e->action), st, 1);
    }
    sqlite3_reset(st);
    if (rc)
        vt_track_cleanup(out);
    return rc;
}

static struct vt_db *sq_tx_db(struct vt_store_tx *base)
{
    return ((struct sq_tx *)base)->s->vdb;
}

static struct vt_db *sq_reader_db(struct vt_store_reader *base)
{
    return ((struct sq_reader *)base)->vdb;
}

static sqlite3_stmt *sq_reader_stmt(struct vt_store_reader *base, const char *sql)
{
    struct sq_reader *r = (struct sq_reader *)base;
    return cache_get(&r->cache, r->db, sql);
}

static sqlite3_stmt *sq_reader_stmt_text(struct vt_store_reader *base, const char *sql)
{
    struct sq_reader *r = (struct sq_reader *)base;
    return text_cache_get(&r->text_cache, r->db, sql);
}

static int group_counts(sqlite3 *db, const char *sql, struct vt_count *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return VT_ESTORE;
    while (sqlite3_step(st) == SQLITE_ROW && *n < cap) {
        copy_col(out[*n].key, sizeof(out[*n].key), st, 0);
        out[*n].n = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Statuses in which an item still runs against its legal term. */
/* The statuses whose term runs (casework.h: vt_casework_term_runs). */
#define OPEN_STATUSES "('radicado', 'en_tramite')"

static int sq_due_counts(struct vt_store_reader *base, const char *today, const char *soon_limit,
                         long long *overdue, long long *due_soon);

static int sq_snapshot(struct vt_store_reader *base, const char *today, const char *soon_limit,
                       struct vt_snapshot *out)
{
    struct sq_reader *r = (struct sq_reader *)base;
    memset(out, 0, sizeof(*out));
    int rc = group_counts(r->db, "SELECT channel, count(*) FROM items GROUP BY channel",
                          out->by_channel, 16, &out->n_channel);
    rc = rc ? rc
            : group_counts(r->db, "SELECT coalesce(type, kind), count(*) FROM items GROUP BY 1",
                           out->by_type, 16, &out->n_type);
    rc = rc ? rc
            : group_counts(r->db, "SELECT stakeholder_group, count(*) FROM items GROUP BY 1",
                           out->by_group, 32, &out->n_group);
    rc = rc ? rc
            : group_counts(r->db, "SELECT status, count(*) FROM items GROUP BY 1", out->by_status,
                           16, &out->n_status);
    if (rc)
        return rc;
    for (size_t i = 0; i < out->n_channel; i++)
        out->total += out->by_channel[i].n;
    long long overdue, soon;
    rc = sq_due_counts(base, today, soon_limit, &overdue, &soon);
    out->overdue = overdue;
    out->due_soon = soon;
    return rc;
}

static int sq_due_counts(struct vt_store_reader *base, const char *today, const char *soon_limit,
                         long long *overdue, long long *due_soon)
{
    struct sq_reader *r = (struct sq_reader *)base;
    sqlite3_stmt *st = NULL;
    *overdue = *due_soon = 0;
    if (sqlite3_prepare_v2(
            r->db,
            "SELECT count(*) FILTER (WHERE due_date < ?1), count(*) FILTER "
            "(WHERE due_date BETWEEN ?1 AND ?2) FROM items WHERE status IN " OPEN_STATUSES
            " AND due_date IS NOT NULL",
            -1, &st, NULL) != SQLITE_OK)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, soon_limit, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *overdue = sqlite3_column_int64(st, 0);
        *due_soon = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- command-line operations on a closed store ---- */

static int sq_audit_verify(const char *data_dir, int64_t *n_events, int64_t *bad_id, char *err,
                           size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char key[VT_AUDIT_KEY_BYTES];
    char prev[65] = VT_AUDIT_GENESIS;
    int64_t last_id = 0;
    int rc = open_current(data_dir, &db, err, errlen);
    *n_events = 0;
    *bad_id = 0;
    if (rc)
        return rc;
    if (vt_audit_key_load(data_dir, 0, key)) {
        snprintf(err, errlen, "cannot read %s/audit.key", data_dir);
        rc = VT_EIO;
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT id, coalesce(item_id, 0), at, actor, action, payload, public, "
                           "prev_hash, hash FROM audit_events ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = VT_ESTORE;
        goto done;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct vt_audit_event ev = {
            sqlite3_column_int64(st, 0),
            sqlite3_column_int64(st, 1),
            sqlite3_column_int64(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            (const char *)sqlite3_column_text(st, 5),
            sqlite3_column_int(st, 6),
        };
        const char *row_prev = (const char *)sqlite3_column_text(st, 7);
        const char *row_hash = (const char *)sqlite3_column_text(st, 8);
        char hash[65];
        *bad_id = ev.id;
        if (ev.id != last_id + 1) {
            snprintf(err, errlen, "event %lld is missing (deleted or renumbered)",
                     (long long)(last_id + 1));
            *bad_id = last_id + 1;
            rc = VT_ETAMPER;
            goto done;
        }
        if (!row_prev || strcmp(row_prev, prev) != 0) {
            snprintf(err, errlen, "its previous hash does not match event %lld",
                     (long long)last_id);
            rc = VT_ETAMPER;
            goto done;
        }
        vt_audit_hash(key, prev, &ev, hash);
        if (!row_hash || strcmp(row_hash, hash) != 0) {
            snprintf(err, errlen, "its contents do not match its hash (altered or forged)");
            rc = VT_ETAMPER;
            goto done;
        }
        memcpy(prev, hash, sizeof(prev));
        last_id = ev.id;
        (*n_events)++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (step != SQLITE_DONE) {
        rc = VT_ESTORE;
        goto done;
    }
    /* The head catches a deleted tail. */
    int64_t head_id = 0;
    char head_hash[65] = VT_AUDIT_GENESIS;
    if (sqlite3_prepare_v2(db, "SELECT last_event_id, last_hash FROM audit_head WHERE id = 1", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = VT_ESTORE;
        goto done;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        head_id = sqlite3_column_int64(st, 0);
        copy_col(head_hash, sizeof(head_hash), st, 1);
    }
    if (head_id != last_id || strcmp(head_hash, prev) != 0) {
        *bad_id = last_id + 1;
        snprintf(err, errlen, "the chain ends at event %lld but its head records event %lld",
                 (long long)last_id, (long long)head_id);
        rc = VT_ETAMPER;
        goto done;
    }
    *bad_id = 0;
done:
    sodium_memzero(key, sizeof(key));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static int sq_contacts_import(const char *data_dir, const struct vt_contact *rows, size_t n,
                              char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = open_current(data_dir, &db, err, errlen);
    if (rc)
        return rc;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO contacts (key_type, key, group_id, label) VALUES "
                           "(?1, ?2, ?3, ?4) ON CONFLICT (key_type, key) DO UPDATE SET "
                           "group_id = excluded.group_id, label = excluded.label",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, rows[i].key_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rows[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rows[i].group, -1, SQLITE_STATIC);
        bind_text_or_null(st, 4, rows[i].label);
        if (step_done(st))
            goto sqlfail;
        sqlite3_clear_bindings(st);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto sqlfail;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
sqlfail:
    snprintf(err, errlen, "cannot import contacts: %s", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return VT_ESTORE;
}

/* ---- backups ---- */

static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4300];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

/* The copy is SQLite's online backup in one step: in WAL mode that is one
 * read transaction, which never blocks the daemon's writer (it only keeps
 * the checkpointer from recycling the WAL until it ends, so the WAL grows
 * for the copy's length). Stepping in chunks would end the read transaction
 * between steps, and SQLite restarts a backup whose source another process
 * changed meanwhile: under steady intake it would never finish. */
static int sq_backup(const char *data_dir, const char *dest_file, char *err, size_t errlen)
{
    char src_path[4200];
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b = NULL;
    sqlite3_stmt *st = NULL;
    int rc = VT_ESTORE, r = SQLITE_OK;
    db_path(data_dir, src_path, sizeof(src_path));
    if (access(src_path, F_OK) != 0) {
        snprintf(err, errlen, "there is no database at %s", src_path);
        return VT_ENOTFOUND;
    }
    int fd = open(dest_file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dest_file, strerror(errno));
        return errno == EEXIST ? VT_EEXIST : VT_EIO;
    }
    close(fd);
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", src_path,
                 src ? sqlite3_errmsg(src) : "no memory");
        goto fail;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_open_v2(dest_file, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        !(b = sqlite3_backup_init(dst, "main", src, "main"))) {
        snprintf(err, errlen, "cannot start the copy into %s: %s", dest_file,
                 dst ? sqlite3_errmsg(dst) : "no memory");
        goto fail;
    }
    /* BUSY: the source could not be read at this moment (a checkpoint or a
     * recovery in progress); the busy handler is not used for it. */
    for (int tries = 0;; tries++) {
        r = sqlite3_backup_step(b, -1);
        if ((r != SQLITE_BUSY && r != SQLITE_LOCKED) || tries == 300)
            break;
        sqlite3_sleep(100);
    }
    sqlite3_backup_finish(b);
    if (r != SQLITE_DONE) {
        snprintf(err, errlen, "copying %s failed: %s", src_path, sqlite3_errstr(r));
        goto fail;
    }
    sqlite3_close(src);
    src = NULL;
    /* The copy carries the source's WAL flag in its header: reopened, it is
     * turned into a plain rollback-journal file that needs nothing beside
     * it, and checked. */
    sqlite3_close(dst);
    dst = NULL;
    if (sqlite3_open_v2(dest_file, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(dst, "PRAGMA journal_mode = DELETE", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "delete") != 0) {
        snprintf(err, errlen, "cannot finish the copy %s: %s", dest_file,
                 dst ? sqlite3_errmsg(dst) : "no memory");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "cannot check the copy %s: %s", dest_file, sqlite3_errmsg(dst));
        goto fail;
    }
    const char *ok = (const char *)sqlite3_column_text(st, 0);
    if (!ok || strcmp(ok, "ok") != 0) {
        snprintf(err, errlen, "the copy failed SQLite's integrity check: %.300s",
                 ok ? ok : "no answer");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "cannot close the copy %s", dest_file);
        dst = NULL;
        goto fail;
    }
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite3_close(dst);
    sqlite3_close(src);
    remove_db_files(dest_file);
    return rc;
}

/* A file: URI for path (RFC 3986: anything but unreserved characters and
 * '/' percent-encoded), so a path with '?' or '#' names the file it says. */
static int file_uri(const char *path, const char *query, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    int w = snprintf(out, n, "file:");
    if (w < 0 || (size_t)w >= n)
        return VT_ERANGE;
    o = (size_t)w;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
        if (o + 4 >= n)
            return VT_ERANGE;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    w = snprintf(out + o, n - o, "?%s", query);
    return w < 0 || (size_t)w >= n - o ? VT_ERANGE : 0;
}

/* The rows that name attachment files, in every table that has them. */
static const char *const file_tables[][2] = {
    {"attachments", "SELECT sha256 FROM attachments"},
    {"response_files", "SELECT sha256 FROM response_files"},
    {"wa_media", "SELECT sha256 FROM wa_media WHERE sha256 IS NOT NULL"},
};

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

static int sq_summary(const char *db_file, struct vt_store_summary *out,
                      int (*each_file)(void *ctx, const char *sha256), void *ctx, char *err,
                      size_t errlen)
{
    char uri[13000];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = VT_ESTORE;
    memset(out, 0, sizeof(*out));
    /* immutable: no lock, no journal, nothing written beside the file. */
    if (file_uri(db_file, "immutable=1", uri, sizeof(uri))) {
        snprintf(err, errlen, "the path %s is too long", db_file);
        return VT_ESTORE;
    }
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto sqlfail;
    if (!table_exists(db, "schema_migrations") || !table_exists(db, "items") ||
        !table_exists(db, "audit_events")) {
        snprintf(err, errlen, "%s is not a ventanilla database", db_file);
        goto fail;
    }
    static const char *const counts =
        "SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations), "
        "(SELECT count(*) FROM items), (SELECT count(*) FROM audit_events), "
        "(SELECT coalesce(max(last_event_id), 0) FROM audit_head), "
        "(SELECT last_hash FROM audit_head WHERE id = 1), "
        "(SELECT radicado FROM items WHERE radicado IS NOT NULL "
        "ORDER BY radicado_year DESC, radicado_seq DESC LIMIT 1)";
    if (sqlite3_prepare_v2(db, counts, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto sqlfail;
    out->schema_version = sqlite3_column_int(st, 0);
    out->items = sqlite3_column_int64(st, 1);
    out->audit_events = sqlite3_column_int64(st, 2);
    out->audit_head_id = sqlite3_column_int64(st, 3);
    copy_col(out->audit_head_hash, sizeof(out->audit_head_hash), st, 4);
    copy_col(out->last_radicado, sizeof(out->last_radicado), st, 5);
    sqlite3_finalize(st);
    st = NULL;
    /* One UNION of the tables this copy's schema has: each name once. */
    char sql[512] = "";
    for (size_t t = 0; t < sizeof(file_tables) / sizeof(file_tables[0]); t++)
        if (table_exists(db, file_tables[t][0]))
            snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s%s", sql[0] ? " UNION " : "",
                     file_tables[t][1]);
    if (each_file && sql[0]) {
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            goto sqlfail;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *sha = (const char *)sqlite3_column_text(st, 0);
            int r = each_file(ctx, sha ? sha : "");
            if (r) {
                rc = r;
                goto fail;
            }
        }
        if (step != SQLITE_DONE)
            goto sqlfail;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
sqlfail:
    snprintf(err, errlen, "cannot read %s: %s", db_file, db ? sqlite3_errmsg(db) : "no memory");
fail:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

const struct vt_store_backend vt_store_sqlite = {
    .name = "sqlite",
    .migrate = sq_migrate,
    .open = sq_open,
    .close = sq_close,
    .submit = sq_submit,
    .stats = sq_stats,
    .reader_new = sq_reader_new,
    .reader_free = sq_reader_free,
    .contact_lookup = sq_contact_lookup,
    .track = sq_track,
    .snapshot = sq_snapshot,
    .due_counts = sq_due_counts,
    .audit_verify = sq_audit_verify,
    .contacts_import = sq_contacts_import,
    .backup = sq_backup,
    .summary = sq_summary,
    .reader_stmt = sq_reader_stmt,
    .reader_stmt_text = sq_reader_stmt_text,
    .tx_now = sq_tx_now,
    .tx_item_insert = sq_tx_item_insert,
    .tx_event = sq_tx_event,
    .tx_attachment_add = sq_tx_attachment_add,
    .tx_seen = sq_tx_seen,
    .tx_outbox_added = sq_tx_outbox_added,
    .tx_item_changed = sq_tx_item_changed,
    .tx_stmt = sq_tx_stmt,
    .tx_contact_lookup = sq_tx_contact_lookup,
    .tx_db = sq_tx_db,
    .reader_db = sq_reader_db,
};
