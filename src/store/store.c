/* store.c - the store's writer thread, group commit and jobs, the
 * transaction API of the jobs, and the readers (store.h), written once
 * against the database interface (db.h).
 *
 * Owns: the write connection (writer thread only), the job queue, the
 * radicado counters and the audit chain's head inside a batch, the commit
 * statistics, and the SQL of items, requesters, attachments, audit events
 * and inbound_seen as the writer inserts them.
 * Must not: make domain decisions (those come through the hooks), or speak
 * any database's own API: a driver runs this file as it is.
 *
 * Invariants:
 *  1. Only the writer thread writes items, requesters, attachments, audit
 *     events, radicado counters and the audit head, always in one transaction
 *     per batch (group commit: one durable commit for many intakes).
 *  2. A job's done callback runs only after its batch is durably committed
 *     (the driver's commit returned: SQLite WAL with synchronous=FULL) or has
 *     failed; nothing is acknowledged before.
 *  3. Radicado counters and the audit head are read inside the transaction
 *     that advances them, so numbers stay gap-free even if a batch fails.
 *  4. Each job runs inside a SAVEPOINT: a failing job rolls back alone and
 *     takes no number.
 *  5. An item's attachment bytes are stored before the rows that name them,
 *     in the same transaction (PostgreSQL: attachment_blobs) or durably
 *     before it commits (SQLite: files, attach.h).
 *  6. The write connection is opened with vt_db_options.maintain: the driver
 *     keeps the database tidy off the writer's thread (SQLite checkpoints the
 *     WAL on a thread and connection of its own), so commits pay only for
 *     the log append and its sync.
 *
 * A batch (commit_batch):
 *
 *   BEGIN (write) --> audit head read
 *     --> per job: SAVEPOINT job, run or insert_item (its attachments'
 *                  bytes first: attach.h), RELEASE
 *                  (failure: ROLLBACK TO, counters and head restored)
 *     --> counters and head written --> COMMIT --> hooks --> done callbacks
 *   any failure from BEGIN to COMMIT: ROLLBACK, every job fails.
 */
#include "store/store.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/error.h"
#include "core/log.h"
#include "store/attach.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/relay.h"

static const char SQL_COUNTER_GET[] = "SELECT last FROM radicado_counters WHERE year = ?1";
static const char SQL_COUNTER_PUT[] = "INSERT INTO radicado_counters (year, last) VALUES (?1, ?2) "
                                      "ON CONFLICT (year) DO UPDATE SET last = excluded.last";
static const char SQL_HEAD_GET[] = "SELECT last_event_id, last_hash FROM audit_head WHERE id = 1";
static const char SQL_HEAD_PUT[] =
    "INSERT INTO audit_head (id, last_event_id, last_hash) VALUES (1, ?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET last_event_id = excluded.last_event_id, "
    "last_hash = excluded.last_hash";
/* identity_reserved: asked for, or a denuncia (whose reporter the law
 * protects). ?20 is cast so that PostgreSQL deduces one type for it from the
 * SQL alone (the binds are in bind_item, shared by two statements). */
#define ITEM_INSERT                                                                                \
    "INSERT INTO items (kind, radicado, radicado_year, radicado_seq, tracking_hash, type, "        \
    "petition_class, channel, subject, body, status, received_at, filed_date, term_days, "         \
    "due_date, stakeholder_group, classified_by, reply_channel, needs_triage, "                    \
    "reserve_requested, identity_reserved, dependencia, classifier) VALUES (?1, ?2, ?3, ?4, ?5, "  \
    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "                      \
    "CASE WHEN CAST(?20 AS BIGINT) <> 0 OR ?6 = 'denuncia' THEN 1 ELSE 0 END, "                    \
    "CAST(?21 AS TEXT), CAST(?22 AS TEXT))"
static const char SQL_ITEM_INSERT[] = ITEM_INSERT;
/* Where the driver says RETURNING and data-modifying WITH are cheap
 * (PostgreSQL): the item and its requester in one statement, one round trip
 * inside the write lock instead of three (the item, lastval(), the
 * requester). SQLite never prepares it. */
static const char SQL_ITEM_REQUESTER_INSERT[] =
    "WITH i AS (" ITEM_INSERT " RETURNING id) "
    "INSERT INTO requesters (item_id, person_type, name, id_type, id_number, email, phone, "
    "address, municipality, data_consent, characterization) "
    "SELECT id, CAST(?23 AS TEXT), CAST(?24 AS TEXT), CAST(?25 AS TEXT), CAST(?26 AS TEXT), "
    "CAST(?27 AS TEXT), CAST(?28 AS TEXT), CAST(?29 AS TEXT), CAST(?30 AS TEXT), "
    "CAST(?31 AS BIGINT), CAST(?32 AS TEXT) FROM i RETURNING item_id";
static const char SQL_REQUESTER_INSERT[] =
    "INSERT INTO requesters (item_id, person_type, name, id_type, id_number, email, phone, "
    "address, municipality, data_consent, characterization) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    "?7, ?8, ?9, ?10, ?11)";
static const char SQL_ATTACHMENT_INSERT[] =
    "INSERT INTO attachments (item_id, sha256, size, content_type, filename) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO audit_events (id, item_id, at, actor, action, payload, public, prev_hash, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_SEEN[] = "INSERT INTO inbound_seen (channel, event_id, at) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
static const char SQL_CONTACT[] = "SELECT group_id FROM contacts WHERE key_type = ?1 AND key = ?2";

/* The writer's statements, prepared at open so a broken schema fails there. */
static const char *const writer_sql[] = {
    SQL_COUNTER_GET,      SQL_COUNTER_PUT,       SQL_HEAD_GET,     SQL_HEAD_PUT, SQL_ITEM_INSERT,
    SQL_REQUESTER_INSERT, SQL_ATTACHMENT_INSERT, SQL_EVENT_INSERT, SQL_SEEN,
};

/* Each job's savepoint. */
#define JOB_SAVEPOINT "job"

struct counter {
    int year;
    int64_t last;
    int64_t saved; /* value at the item's savepoint */
};

struct vt_store {
    struct vt_store_options opt;
    char *data_dir;                    /* NULL: none (PostgreSQL) */
    char *conninfo;                    /* PostgreSQL's, or NULL */
    char *key_file;                    /* the audit key file's path from the config, or NULL */
    char instance[128 + PATH_MAX + 2]; /* vt_store_instance */
    struct vt_db *db;                  /* the write connection: writer thread only */
    struct vt_blobs *blobs;            /* attachment bytes (thread-safe) */
    unsigned char audit_key[VT_AUDIT_KEY_BYTES];

    pthread_t writer;
    pthread_mutex_t lock; /* guards queue, stopping and stats */
    pthread_cond_t wake;  /* the writer waits on it for jobs */
    struct vt_store_job *head, *tail;
    bool stopping;
    struct vt_store_stats stats;

    int64_t last_stamp; /* writer thread: receipt times never go backwards */
    bool shared;        /* vt_store_shared: the live relay's rows are written */
    int64_t next_prune; /* writer thread: when the live relay is pruned next (Unix ms) */
};

struct vt_store_reader {
    struct vt_db *db;
    struct vt_blobs *blobs; /* the store's */
};

struct head {
    int64_t last_id;
    char last_hash[65];
};

/* One batch's transaction, handed to run callbacks. */
struct vt_store_tx {
    struct vt_store *s;
    struct counter counters[4];
    size_t n_counters;
    struct head h;
    struct vt_item **items; /* inserted in this batch, for the committed hook */
    size_t n_items, cap_items;
    bool outbox_added;
    struct vt_item_change *changes; /* noted by jobs, for the changed hook */
    size_t n_changes, cap_changes;
    char (*walls)[64]; /* hearing walls changed, for the live relay (shared store only) */
    size_t n_walls, cap_walls;
    int64_t now; /* the current job's clock */
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

/* s, or NULL when it is NULL or empty (stored as SQL NULL). */
static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* Runs one of the store's own writes. Any failure is VT_ESTORE, whatever the
 * driver's code: callers of the transaction API have always been told so. */
static int run(struct vt_db_stmt *st)
{
    return vt_db_run(st) ? VT_ESTORE : 0;
}

/* ---- writer thread ---- */

static struct counter *counter_for(struct vt_store *s, struct counter *c, size_t *n, int year)
{
    for (size_t i = 0; i < *n; i++)
        if (c[i].year == year)
            return &c[i];
    if (*n == 4)
        return NULL; /* four years in one batch cannot happen; refuse rather than guess */
    struct vt_db_stmt *st = vt_db_prepare(s->db, SQL_COUNTER_GET);
    if (!st)
        return NULL;
    vt_db_bind_int(st, 1, year);
    int64_t last = 0;
    int r = vt_db_step(st);
    if (r == VT_DB_ROW)
        last = vt_db_col_int(st, 0);
    vt_db_reset(st);
    if (r < 0)
        return NULL;
    c[*n] = (struct counter){year, last, last};
    return &c[(*n)++];
}

static int64_t store_now(struct vt_store *s)
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

/* Appends ev to the chain whose head is h, advancing h. */
static int append_event(struct vt_store *s, struct head *h, const struct vt_audit_event *ev_in)
{
    struct vt_audit_event ev = *ev_in;
    char hash[65];
    ev.id = h->last_id + 1;
    vt_audit_hash(s->audit_key, h->last_hash, &ev, hash);
    struct vt_db_stmt *st = vt_db_prepare(s->db, SQL_EVENT_INSERT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, ev.id);
    if (ev.item_id)
        vt_db_bind_int(st, 2, ev.item_id);
    else
        vt_db_bind_null(st, 2);
    vt_db_bind_int(st, 3, ev.at);
    vt_db_bind_text(st, 4, ev.actor);
    vt_db_bind_text(st, 5, ev.action);
    vt_db_bind_text(st, 6, ev.payload);
    vt_db_bind_int(st, 7, ev.is_public);
    vt_db_bind_text(st, 8, h->last_hash);
    vt_db_bind_text(st, 9, hash);
    int rc = run(st);
    if (rc == 0) {
        h->last_id = ev.id;
        memcpy(h->last_hash, hash, sizeof(hash));
    }
    return rc;
}

static int insert_attachment(struct vt_db *db, int64_t item_id, const char *sha256, int64_t size,
                             const char *content_type, const char *filename)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_ATTACHMENT_INSERT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_text(st, 2, sha256);
    vt_db_bind_int(st, 3, size);
    vt_db_bind_text(st, 4, content_type);
    vt_db_bind_text(st, 5, filename ? filename : "");
    return run(st);
}

/* The item's columns, ?1..?20 of ITEM_INSERT. */
static void bind_item(struct vt_db_stmt *st, const struct vt_item *it, bool numbered)
{
    vt_db_bind_text(st, 1, it->kind);
    vt_db_bind_text(st, 2, nonempty(it->radicado));
    if (numbered) {
        vt_db_bind_int(st, 3, it->year);
        vt_db_bind_int(st, 4, it->seq);
        vt_db_bind_blob(st, 5, it->tracking_hash, 32);
    } else {
        vt_db_bind_null(st, 3);
        vt_db_bind_null(st, 4);
        vt_db_bind_null(st, 5);
    }
    vt_db_bind_text(st, 6, nonempty(it->type));
    vt_db_bind_text(st, 7, nonempty(it->petition_class));
    vt_db_bind_text(st, 8, it->channel);
    vt_db_bind_text(st, 9, it->subject ? it->subject : "");
    vt_db_bind_text(st, 10, it->body ? it->body : "");
    vt_db_bind_text(st, 11, it->status);
    vt_db_bind_int(st, 12, it->received_at);
    vt_db_bind_text(st, 13, it->filed_date);
    if (it->term_days >= 0)
        vt_db_bind_int(st, 14, it->term_days);
    else
        vt_db_bind_null(st, 14);
    vt_db_bind_text(st, 15, nonempty(it->due_date));
    vt_db_bind_text(st, 16, it->group);
    vt_db_bind_text(st, 17, it->classified_by);
    vt_db_bind_text(st, 18, nonempty(it->reply_channel));
    vt_db_bind_int(st, 19, it->needs_triage);
    vt_db_bind_int(st, 20, it->req.reserve_requested);
    vt_db_bind_text(st, 21, nonempty(it->dependencia));
    vt_db_bind_text(st, 22, it->classifier);
}

/* The requester's columns after item_id, from parameter first on. */
static void bind_requester(struct vt_db_stmt *st, const struct vt_item *it, int first)
{
    const struct vt_requester *r = &it->req;
    vt_db_bind_text(st, first, r->person_type ? r->person_type : "anonimo");
    vt_db_bind_text(st, first + 1, nonempty(r->name));
    vt_db_bind_text(st, first + 2, nonempty(r->id_type));
    vt_db_bind_text(st, first + 3, nonempty(r->id_number));
    vt_db_bind_text(st, first + 4, nonempty(r->email));
    vt_db_bind_text(st, first + 5, nonempty(r->phone));
    vt_db_bind_text(st, first + 6, nonempty(r->address));
    vt_db_bind_text(st, first + 7, nonempty(r->municipality));
    vt_db_bind_int(st, first + 8, r->data_consent);
    vt_db_bind_text(st, first + 9, nonempty(r->characterization));
}

/* Inserts the item's row and its requester's; sets it->id. In one statement
 * where the driver says RETURNING is cheap (vt_db_returning_id: PostgreSQL,
 * where lastval() and a second insert would be two more round trips under
 * the write lock); otherwise two, the id from vt_db_last_insert_id (SQLite's
 * RETURNING would cost the writer about 27,000 instructions per item). */
static int insert_item_rows(struct vt_db *db, struct vt_item *it, bool numbered)
{
    struct vt_db_stmt *st;
    if (vt_db_returning_id(db)) {
        if (!(st = vt_db_prepare(db, SQL_ITEM_REQUESTER_INSERT)))
            return VT_ESTORE;
        bind_item(st, it, numbered);
        bind_requester(st, it, 23);
        int r = vt_db_step(st);
        it->id = r == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
        vt_db_reset(st);
        return r == VT_DB_ROW && it->id > 0 ? 0 : VT_ESTORE;
    }
    if (!(st = vt_db_prepare(db, SQL_ITEM_INSERT)))
        return VT_ESTORE;
    bind_item(st, it, numbered);
    if (run(st))
        return VT_ESTORE;
    it->id = vt_db_last_insert_id(db);
    if (!(st = vt_db_prepare(db, SQL_REQUESTER_INSERT)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, it->id);
    bind_requester(st, it, 2);
    return run(st);
}

/* Inserts one item with its requester, attachments and "radicado" event. */
static int insert_item(struct vt_store_tx *tx, struct vt_item *it)
{
    struct vt_store *s = tx->s;
    int64_t now = store_now(s);
    it->received_at = now;
    it->year = vt_date_from_unix_ms(now).year;
    it->seq = 0;
    it->radicado[0] = '\0';
    struct counter *c = NULL;
    int rc;
    if (strcmp(it->kind, "survey_response") != 0) {
        if (!(c = counter_for(s, tx->counters, &tx->n_counters, it->year)))
            return VT_ESTORE;
        c->saved = c->last;
        it->seq = ++c->last;
    }
    s->opt.hooks.stamp(s->opt.hooks.ctx, it);

    /* The bytes before the rows naming them; NULL data: stored already
     * (e.g. by the WhatsApp media fetcher). */
    for (size_t i = 0; i < it->n_att; i++) {
        const struct vt_attachment *a = &it->att[i];
        if ((a->data || a->size == 0) &&
            (rc = vt_blobs_put(s->blobs, s->db, a->sha256, a->data, a->size)))
            goto fail;
    }
    if ((rc = insert_item_rows(s->db, it, c != NULL)))
        goto fail;
    for (size_t i = 0; i < it->n_att; i++) {
        const struct vt_attachment *a = &it->att[i];
        if ((rc = insert_attachment(s->db, it->id, a->sha256, (int64_t)a->size, a->content_type,
                                    a->filename)))
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
    rc = append_event(s, &tx->h, &ev);
    free(payload);
    if (rc)
        goto fail;
    if (it->dependencia[0] && it->route_payload) { /* filed routed by the classifier */
        struct vt_audit_event r = {
            0, it->id, it->received_at, "sistema:clasificador", "asignado", it->route_payload, 0};
        if ((rc = append_event(s, &tx->h, &r)))
            goto fail;
    }
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

static int remember_item(struct vt_store_tx *tx, struct vt_item *it)
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
/* Runs one job inside the batch's transaction. With a savepoint (safe), a
 * failing job rolls back only its own work; without one (an intake in a
 * batch of intakes, commit_batch's first try), a failure leaves the
 * transaction for the caller to roll back and run again with savepoints.
 * A savepoint and its release are two round trips per intake on
 * PostgreSQL, inside the write lock. */
static void run_job(struct vt_store_tx *tx, struct vt_store_job *j, bool safe)
{
    struct vt_store *s = tx->s;
    struct counter saved_counters[4];
    size_t saved_n = tx->n_counters, saved_items = tx->n_items, saved_changes = tx->n_changes;
    size_t saved_walls = tx->n_walls;
    struct head saved_head = tx->h;
    bool saved_outbox = tx->outbox_added;
    memcpy(saved_counters, tx->counters, sizeof(saved_counters));
    if (safe && vt_db_savepoint(s->db, JOB_SAVEPOINT)) {
        j->result = VT_ESTORE;
        return;
    }
    tx->now = store_now(s);
    if (j->run) {
        j->result = j->run(tx, j->ctx);
    } else {
        j->result = insert_item(tx, j->item);
        if (j->result == 0)
            j->result = remember_item(tx, j->item);
    }
    if (!safe)
        return;
    if (j->result) {
        vt_db_rollback_to(s->db, JOB_SAVEPOINT);
        memcpy(tx->counters, saved_counters, sizeof(saved_counters));
        tx->n_counters = saved_n;
        tx->n_items = saved_items;
        tx->h = saved_head;
        tx->outbox_added = saved_outbox;
        tx->n_changes = saved_changes;
        tx->n_walls = saved_walls;
    }
    vt_db_release(s->db, JOB_SAVEPOINT);
}

/* Reads the audit chain's head into h (genesis when there is none yet). */
static void read_head(struct vt_db *db, struct head *h)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_HEAD_GET);
    if (st && vt_db_step(st) == VT_DB_ROW) {
        h->last_id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, h->last_hash, sizeof(h->last_hash));
    }
    vt_db_reset(st);
}

/* Writes the batch's radicado counters and, when it moved, the audit head. */
static int write_counters_and_head(struct vt_store_tx *tx, int64_t head_before)
{
    struct vt_db *db = tx->s->db;
    struct vt_db_stmt *st;
    for (size_t i = 0; i < tx->n_counters; i++) {
        if (!(st = vt_db_prepare(db, SQL_COUNTER_PUT)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, tx->counters[i].year);
        vt_db_bind_int(st, 2, tx->counters[i].last);
        if (run(st))
            return VT_ESTORE;
    }
    if (tx->h.last_id == head_before)
        return 0;
    if (!(st = vt_db_prepare(db, SQL_HEAD_PUT)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, tx->h.last_id);
    vt_db_bind_text(st, 2, tx->h.last_hash);
    return run(st);
}

/* After BEGIN: takes from the queue the jobs that arrived while BEGIN waited
 * (on PostgreSQL, for another instance's write lock), up to batch_max, so
 * that the batch grows with the wait instead of each instance committing
 * ever smaller ones. */
static void top_up(struct vt_store *s, struct vt_store_job *batch, size_t *n)
{
    struct vt_store_job *last = batch;
    while (last->next)
        last = last->next;
    pthread_mutex_lock(&s->lock);
    while (s->head && *n < (size_t)s->opt.batch_max) {
        struct vt_store_job *j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        j->next = NULL;
        j->result = 0;
        last->next = j;
        last = j;
        (*n)++;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Whether every job of the batch is an intake (no run callback). */
static bool intakes_only(const struct vt_store_job *batch)
{
    for (const struct vt_store_job *j = batch; j; j = j->next)
        if (!j->item || j->run)
            return false;
    return true;
}

/* Forgets what a rolled-back try of the batch did (keeps the arrays). */
static void tx_clear(struct vt_store_tx *tx)
{
    tx->n_counters = 0;
    tx->h = (struct head){0, VT_AUDIT_GENESIS};
    tx->n_items = 0;
    tx->outbox_added = false;
    tx->n_changes = 0;
    tx->n_walls = 0;
}

/* Commits one batch. Every job gets its result; done is called after. */
static void commit_batch(struct vt_store *s, struct vt_store_job *batch, size_t n)
{
    double t0 = mono_s();
    struct vt_store_tx tx = {.s = s, .h = {0, VT_AUDIT_GENESIS}};
    int rc = 0;

    for (struct vt_store_job *j = batch; j; j = j->next)
        j->result = 0;

    if (vt_db_begin(s->db, true)) {
        rc = VT_ESTORE;
        goto finish;
    }
    top_up(s, batch, &n);
    /* A batch of intakes runs first without a savepoint per job; if one of
     * them fails, the whole transaction is rolled back and run again with
     * savepoints, so that only the failing one fails. Jobs with a run
     * callback always have their savepoint: they may fail by design and
     * may keep what they did in their context. */
    bool safe = !intakes_only(batch);
    int64_t head_before;
    for (;;) {
        read_head(s->db, &tx.h);
        head_before = tx.h.last_id;
        bool failed = false;
        for (struct vt_store_job *j = batch; j; j = j->next)
            if (j->result == 0) {
                run_job(&tx, j, safe);
                failed = failed || j->result != 0;
            }
        if (safe || !failed)
            break;
        vt_log(VT_LOG_WARN, "batch_retried",
               "jobs=%zu note=\"an intake failed; each gets a savepoint\"", n);
        vt_db_rollback(s->db);
        tx_clear(&tx);
        for (struct vt_store_job *j = batch; j; j = j->next)
            j->result = 0;
        safe = true;
        if (vt_db_begin(s->db, true)) {
            rc = VT_ESTORE;
            goto finish;
        }
    }
    rc = write_counters_and_head(&tx, head_before);
    /* Other instances' live feeds learn of this batch from its relay rows,
     * committed with it (relay.h). */
    if (rc == 0 && s->shared)
        rc = vt_relay__write(s->db, s->instance, real_now_ms(), tx.items, tx.n_items, tx.changes,
                             tx.n_changes, (const char(*)[64])tx.walls, tx.n_walls);
    if (rc == 0 && vt_db_commit(s->db))
        rc = VT_ESTORE;
    if (rc)
        vt_db_rollback(s->db);
finish:
    if (rc) {
        vt_log(VT_LOG_ERROR, "commit_failed", "error=\"%s\"", vt_db_errmsg(s->db));
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
    free(tx.walls);
    while (batch) {
        struct vt_store_job *next = batch->next;
        batch->next = NULL;
        batch->done(batch);
        batch = next;
    }
}

static void *writer_main(void *arg)
{
    struct vt_store *s = arg;
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
        if (s->shared) {
            int64_t now = real_now_ms();
            if (now >= s->next_prune) {
                vt_relay__prune(s->db, now);
                s->next_prune = now + 5000;
            }
        }
    }
    return NULL;
}

/* ---- the transaction API (run callbacks, writer thread) ---- */

int64_t vt_store_tx_now(struct vt_store_tx *tx)
{
    return tx->now;
}

int vt_store_tx_item_insert(struct vt_store_tx *tx, struct vt_item *it)
{
    int rc = insert_item(tx, it);
    return rc ? rc : remember_item(tx, it);
}

int vt_store_tx_event(struct vt_store_tx *tx, int64_t item_id, const char *actor,
                      const char *action, const char *payload, int is_public)
{
    struct vt_audit_event ev = {0, item_id, tx->now, actor, action, payload, is_public};
    return append_event(tx->s, &tx->h, &ev);
}

int vt_store_tx_blob_put(struct vt_store_tx *tx, const char *sha256, const void *data, size_t len)
{
    return vt_blobs_put(tx->s->blobs, tx->s->db, sha256, data, len);
}

int vt_store_tx_attachment_add(struct vt_store_tx *tx, int64_t item_id, const char *sha256,
                               int64_t size, const char *content_type, const char *filename)
{
    return insert_attachment(tx->s->db, item_id, sha256, size, content_type, filename);
}

int vt_store_tx_seen(struct vt_store_tx *tx, const char *channel, const char *event_id)
{
    struct vt_db_stmt *st = vt_db_prepare(tx->s->db, SQL_SEEN);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, channel);
    vt_db_bind_text(st, 2, event_id);
    vt_db_bind_int(st, 3, tx->now);
    int r = vt_db_step(st);
    int64_t inserted = r == VT_DB_DONE ? vt_db_changes(st) : 0;
    vt_db_reset(st);
    if (r != VT_DB_DONE)
        return VT_ESTORE;
    return inserted == 0 ? VT_EEXIST : 0;
}

int vt_store_tx_item_changed(struct vt_store_tx *tx, const struct vt_item_change *c)
{
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

int vt_store_tx_wall_changed(struct vt_store_tx *tx, const char *code)
{
    if (!tx->s->shared)
        return 0; /* the job's caller tells this instance's feed; no other to tell */
    if (tx->n_walls == tx->cap_walls) {
        size_t cap = tx->cap_walls ? tx->cap_walls * 2 : 4;
        char(*p)[64] = realloc(tx->walls, cap * sizeof(*p));
        if (!p)
            return VT_ENOMEM;
        tx->walls = p;
        tx->cap_walls = cap;
    }
    snprintf(tx->walls[tx->n_walls++], sizeof(tx->walls[0]), "%s", code);
    return 0;
}

void vt_store_tx_outbox_added(struct vt_store_tx *tx)
{
    tx->outbox_added = true;
}

struct vt_db *vt_store_tx_db(struct vt_store_tx *tx)
{
    return tx->s->db;
}

/* Looks key up in the contacts registry on db. */
static int contact_lookup(struct vt_db *db, const char *key_type, const char *key, char *group,
                          size_t group_len)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_CONTACT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, key_type);
    vt_db_bind_text(st, 2, key);
    int r = vt_db_step(st), ret = VT_ENOTFOUND;
    if (r == VT_DB_ROW) {
        vt_db_col_copy(st, 0, group, group_len);
        ret = 0;
    } else if (r != VT_DB_DONE) {
        ret = VT_ESTORE;
    }
    vt_db_reset(st);
    return ret;
}

int vt_store_tx_contact_lookup(void *tx, const char *key_type, const char *key, char *group,
                               size_t group_len)
{
    return contact_lookup(((struct vt_store_tx *)tx)->s->db, key_type, key, group, group_len);
}

/* ---- the store's life ---- */

static void store_free(struct vt_store *s)
{
    vt_db_close(s->db); /* its statements, its checkpointer, then the connection */
    vt_blobs_free(s->blobs);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    sodium_memzero(s->audit_key, sizeof(s->audit_key));
    free(s->data_dir);
    free(s->conninfo);
    free(s->key_file);
    free(s);
}

int vt_store_open(const struct vt_store_options *opt, struct vt_store **out, char *err,
                  size_t errlen)
{
    struct vt_store *s = calloc(1, sizeof(*s));
    const struct vt_store_place *p = &opt->place;
    bool has_dir = p->data_dir && p->data_dir[0];
    int rc;
    if (!s)
        return VT_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if ((has_dir && !(s->data_dir = strdup(p->data_dir))) ||
        (p->conninfo && !(s->conninfo = strdup(p->conninfo))) ||
        (p->audit_key && p->audit_key[0] && !(s->key_file = strdup(p->audit_key)))) {
        rc = VT_ENOMEM;
        goto fail;
    }
    s->opt = *opt;
    s->opt.place.data_dir = s->data_dir;
    s->opt.place.conninfo = s->conninfo;
    s->opt.place.audit_key = s->key_file;
    s->opt.place.backend = vt_store_place_pg(p) ? "postgresql" : "sqlite";
    s->opt.instance_name = NULL;
    if (!has_dir && !vt_store_place_pg(p)) {
        snprintf(err, errlen, "SQLite needs a data directory");
        rc = VT_EINVAL;
        goto fail;
    }
    char host[128] = "", real[PATH_MAX];
    gethostname(host, sizeof(host) - 1);
    if (opt->instance_name && opt->instance_name[0]) {
        snprintf(s->instance, sizeof(s->instance), "%s", opt->instance_name);
    } else if (has_dir) {
        snprintf(s->instance, sizeof(s->instance), "%s:%s", host,
                 realpath(s->data_dir, real) ? real : s->data_dir);
    } else {
        snprintf(err, errlen,
                 "without a data directory this instance needs a name: set "
                 "server.instance_name");
        rc = VT_EINVAL;
        goto fail;
    }
    if (s->opt.batch_max < 1)
        s->opt.batch_max = 1;
    s->shared = vt_store_place_pg(&s->opt.place);
    if (!(s->blobs = vt_blobs_new(&s->opt.place))) {
        rc = VT_ENOMEM;
        goto fail;
    }
    if ((rc = vt_migrate_open_current(&s->opt.place, true, &s->db, err, errlen)))
        goto fail;
    if ((rc = vt_store_key_load(&s->opt.place, s->audit_key, err, errlen)))
        goto fail;
    for (size_t i = 0; i < sizeof(writer_sql) / sizeof(writer_sql[0]); i++)
        if (!vt_db_prepare(s->db, writer_sql[i])) {
            snprintf(err, errlen, "cannot prepare statement: %s", vt_db_errmsg(s->db));
            rc = VT_ESTORE;
            goto fail;
        }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        rc = VT_ENOMEM;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_free(s);
    return rc;
}

void vt_store_close(struct vt_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
    store_free(s);
}

int vt_store_submit(struct vt_store *s, struct vt_store_job *job)
{
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
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void vt_store_stats(struct vt_store *s, struct vt_store_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

/* vt_store_run: a job whose done callback wakes the waiting thread. */
struct waiter {
    struct vt_store_job job;
    int (*fn)(struct vt_store_tx *, void *);
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
};

static int waiter_run(struct vt_store_tx *tx, void *ctx)
{
    struct waiter *w = ctx;
    return w->fn(tx, w->ctx);
}

static void waiter_done(struct vt_store_job *job)
{
    struct waiter *w = job->ctx;
    pthread_mutex_lock(&w->lock);
    w->finished = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int vt_store_run(struct vt_store *s, int (*fn)(struct vt_store_tx *tx, void *ctx), void *ctx)
{
    struct waiter w = {.fn = fn, .ctx = ctx};
    w.job.run = waiter_run;
    w.job.ctx = &w;
    w.job.done = waiter_done;
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    int rc = vt_store_submit(s, &w.job);
    if (rc == 0) {
        pthread_mutex_lock(&w.lock);
        while (!w.finished)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = w.job.result;
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return rc;
}

/* ---- readers ---- */

const char *vt_store_instance(const struct vt_store *s)
{
    return s->instance;
}

bool vt_store_shared(const struct vt_store *s)
{
    return vt_store_place_pg(&s->opt.place);
}

struct vt_store_reader *vt_store_reader_new(struct vt_store *s)
{
    struct vt_store_reader *r = calloc(1, sizeof(*r));
    char path[4200], err[300];
    if (!r)
        return NULL;
    struct vt_db_options opt;
    vt_migrate_db_options(&s->opt.place, path, sizeof(path), &opt);
    if (vt_db_open(&opt, &r->db, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "reader_open_failed", "error=\"%s\"", err);
        free(r);
        return NULL;
    }
    r->blobs = s->blobs;
    return r;
}

void vt_store_reader_free(struct vt_store_reader *r)
{
    if (!r)
        return;
    vt_db_close(r->db);
    free(r);
}

struct vt_db *vt_store_reader_db(struct vt_store_reader *r)
{
    return r->db;
}

int vt_store_reader_blob(struct vt_store_reader *r, const char *sha256, unsigned char **data,
                         size_t *len)
{
    return vt_blobs_get(r->blobs, r->db, sha256, data, len);
}

struct vt_blobs *vt_store_blobs(struct vt_store *s)
{
    return s->blobs;
}

int vt_store_contact_lookup(void *reader, const char *key_type, const char *key, char *group,
                            size_t group_len)
{
    return contact_lookup(((struct vt_store_reader *)reader)->db, key_type, key, group, group_len);
}
