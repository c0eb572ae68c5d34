/* relay.c - the live feed across instances (relay.h): the live_relay rows
 * the writer adds, their pruning, and the relay thread that reads the other
 * instances' rows and hands them to its hooks.
 *
 * Owns: the SQL of live_relay, the relay thread and its connection (opened,
 * listened on and closed by that thread only), its position (the highest id
 * it has read).
 * Must not: make lws calls or wait on other threads: its hooks only queue.
 */
#include "store/relay.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/log.h"
#include "store/db.h"

#define POLL_MS 2000 /* a read at least this often, notified or not */
#define SLICE_MS 250 /* a wait's slice: how soon the thread sees a stop */
#define GAP_MS 20    /* reads at most this often: a busy store's notifications coalesce */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000
#define READ_MAX 500              /* rows per read (SQL_READ's LIMIT); a read loops for more */
#define RETAIN_MS (3600 * 1000LL) /* rows older than this are pruned */
#define PRUNE_MAX 20000           /* rows per prune (SQL_PRUNE's LIMIT): bounded time in the lock */

static const char SQL_INSERT[] =
    "INSERT INTO live_relay (instance, event, item_id, old_status, new_status, "
    "old_dependencia, actor, action, hearing, facts, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_MAX[] = "SELECT COALESCE(MAX(id), 0) FROM live_relay";
/* The rows past the position, by the primary key alone: a filed row carries
 * what the feed shows of its batch's items (the status each was filed in,
 * not today's: a later change moves it), so the read never joins items,
 * whose size would set its cost (a hash join over every item, planned on a
 * young table's statistics, took 10 ms a read at 20,000 items). */
static const char SQL_READ[] =
    "SELECT id, instance, event, item_id, old_status, new_status, old_dependencia, actor, "
    "action, hearing, facts FROM live_relay WHERE id > ?1 ORDER BY id LIMIT 500";
static const char SQL_OLDEST[] = "SELECT created_at FROM live_relay ORDER BY id LIMIT 1";
/* The oldest PRUNE_MAX rows by id, of which those older than ?1: a bounded
 * scan of the primary key, never of the whole table. */
static const char SQL_PRUNE[] =
    "DELETE FROM live_relay WHERE id IN (SELECT id FROM (SELECT id, created_at FROM live_relay "
    "ORDER BY id LIMIT 20000) oldest WHERE created_at < ?1)";

struct vt_relay {
    char *instance;
    char *conninfo;
    struct vt_store_place place;
    struct vt_relay_hooks hooks;
    pthread_t thread;
    bool started;
    atomic_bool stop;

    /* The relay thread's. */
    struct vt_db *db;
    int64_t position; /* -1 until the first connection took the newest id */
};

/* ---- the writer's side ---- */

/* One row: the facts of a batch's filed items (JSON), an item change (c),
 * or a wall (hearing). */
static int insert_row(struct vt_db *db, const char *instance, int64_t now, const char *event,
                      const char *facts, const struct vt_item_change *c, const char *hearing)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_INSERT);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, instance);
    vt_db_bind_text(st, 2, event);
    if (c)
        vt_db_bind_int(st, 3, c->item_id);
    else
        vt_db_bind_null(st, 3);
    vt_db_bind_text(st, 4, c ? c->old_status : NULL);
    vt_db_bind_text(st, 5, c ? c->new_status : NULL);
    vt_db_bind_text(st, 6, c ? c->old_dependencia : NULL);
    vt_db_bind_text(st, 7, c ? c->actor : NULL);
    vt_db_bind_text(st, 8, c ? c->action : NULL);
    vt_db_bind_text(st, 9, hearing);
    vt_db_bind_text(st, 10, facts);
    vt_db_bind_int(st, 11, now);
    return vt_db_run(st) ? VT_ESTORE : 0;
}

/* The public facts the feed shows of each item, as JSON text; NULL when out
 * of memory. */
static char *facts_json(struct vt_item *const *items, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        const struct vt_item *it = items[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddNumberToObject(o, "id", (double)it->id);
        cJSON_AddStringToObject(o, "radicado", it->radicado);
        cJSON_AddStringToObject(o, "kind", it->kind);
        if (it->type)
            cJSON_AddStringToObject(o, "type", it->type);
        cJSON_AddStringToObject(o, "channel", it->channel);
        cJSON_AddStringToObject(o, "group", it->group);
        cJSON_AddStringToObject(o, "status", it->status);
        cJSON_AddStringToObject(o, "due", it->due_date);
        cJSON_AddNumberToObject(o, "received_at", (double)it->received_at);
    }
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

int vt_relay__write(struct vt_db *db, const char *instance, int64_t now,
                    struct vt_item *const *items, size_t n_items,
                    const struct vt_item_change *changes, size_t n_changes, const char (*walls)[64],
                    size_t n_walls)
{
    int rc = 0;
    if (n_items) {
        char *facts = facts_json(items, n_items);
        rc = facts ? insert_row(db, instance, now, "filed", facts, NULL, NULL) : VT_ENOMEM;
        free(facts);
    }
    for (size_t i = 0; i < n_changes && rc == 0; i++)
        rc = insert_row(db, instance, now, "changed", NULL, &changes[i], NULL);
    for (size_t i = 0; i < n_walls && rc == 0; i++)
        rc = insert_row(db, instance, now, "wall", NULL, NULL, walls[i]);
    if (rc == 0 && (n_items || n_changes || n_walls))
        rc = vt_db_notify(db, VT_RELAY_CHANNEL) ? VT_ESTORE : 0;
    return rc;
}

int vt_relay__prune(struct vt_db *db, int64_t now)
{
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_OLDEST);
    if (!st)
        return VT_ESTORE;
    int r = vt_db_step(st);
    int64_t oldest = r == VT_DB_ROW ? vt_db_col_int(st, 0) : now;
    vt_db_reset(st);
    if (r < 0)
        return VT_ESTORE;
    if (oldest >= now - RETAIN_MS)
        return 0;
    if (vt_db_begin(db, true))
        return VT_ESTORE;
    int rc = (st = vt_db_prepare(db, SQL_PRUNE)) ? 0 : VT_ESTORE;
    if (rc == 0) {
        vt_db_bind_int(st, 1, now - RETAIN_MS);
        rc = vt_db_run(st) ? VT_ESTORE : 0;
    }
    if (rc == 0 && vt_db_commit(db))
        rc = VT_ESTORE;
    if (rc) {
        vt_log(VT_LOG_WARN, "relay_prune_failed", "error=\"%s\"", vt_db_errmsg(db));
        vt_db_rollback(db);
    }
    return rc;
}

/* ---- the relay thread ---- */

/* A filed item as the feed's hook gets it: the strings it points to. */
struct filed {
    struct vt_item it;
    char kind[24], type[24], channel[16], status[24];
};

struct read_buf {
    struct filed filed[READ_MAX];
    struct vt_item *items[READ_MAX];
    size_t n_items;
    struct vt_item_change changes[READ_MAX];
    size_t n_changes;
};

/* Tells what was gathered, items before changes (as the writer's hooks do
 * for one batch). */
static void flush(struct vt_relay *r, struct read_buf *b)
{
    if (b->n_items && r->hooks.items)
        r->hooks.items(r->hooks.ctx, b->items, b->n_items);
    if (b->n_changes && r->hooks.changes)
        r->hooks.changes(r->hooks.ctx, b->changes, b->n_changes);
    b->n_items = b->n_changes = 0;
}

/* A string member of o into out ("" when absent or not a string). */
static void json_copy(const cJSON *o, const char *key, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int64_t json_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* A filed row's items into b, told in READ_MAX slices when a batch was
 * larger. */
static void take_filed(struct vt_relay *r, const char *facts, struct read_buf *b)
{
    cJSON *a = cJSON_Parse(facts);
    if (!cJSON_IsArray(a)) {
        vt_log(VT_LOG_WARN, "relay_row_unreadable", "event=filed");
        cJSON_Delete(a);
        return;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, a)
    {
        if (b->n_items == READ_MAX)
            flush(r, b);
        struct filed *f = &b->filed[b->n_items];
        memset(f, 0, sizeof(*f));
        f->it.id = json_int(o, "id");
        json_copy(o, "radicado", f->it.radicado, sizeof(f->it.radicado));
        json_copy(o, "kind", f->kind, sizeof(f->kind));
        json_copy(o, "type", f->type, sizeof(f->type));
        json_copy(o, "channel", f->channel, sizeof(f->channel));
        json_copy(o, "group", f->it.group, sizeof(f->it.group));
        json_copy(o, "status", f->status, sizeof(f->status));
        json_copy(o, "due", f->it.due_date, sizeof(f->it.due_date));
        f->it.received_at = json_int(o, "received_at");
        f->it.kind = f->kind;
        f->it.type = f->type[0] ? f->type : NULL;
        f->it.channel = f->channel;
        f->it.status = f->status;
        f->it.term_days = -1;
        b->items[b->n_items++] = &f->it;
    }
    cJSON_Delete(a);
}

/* One row of SQL_READ into b, or to the wall hook (after what came before). */
static void take_row(struct vt_relay *r, struct vt_db_stmt *st, struct read_buf *b)
{
    const char *event = vt_db_col_str(st, 2);
    if (strcmp(event, "filed") == 0) {
        take_filed(r, vt_db_col_str(st, 10), b);
    } else if (strcmp(event, "changed") == 0) {
        if (b->n_changes == READ_MAX)
            flush(r, b);
        struct vt_item_change *c = &b->changes[b->n_changes++];
        memset(c, 0, sizeof(*c));
        c->item_id = vt_db_col_int(st, 3);
        vt_db_col_copy(st, 4, c->old_status, sizeof(c->old_status));
        vt_db_col_copy(st, 5, c->new_status, sizeof(c->new_status));
        vt_db_col_copy(st, 6, c->old_dependencia, sizeof(c->old_dependencia));
        vt_db_col_copy(st, 7, c->actor, sizeof(c->actor));
        vt_db_col_copy(st, 8, c->action, sizeof(c->action));
    } else if (strcmp(event, "wall") == 0 && r->hooks.wall) {
        flush(r, b);
        r->hooks.wall(r->hooks.ctx, vt_db_col_str(st, 9));
    }
}

/* Reads every row past the position and tells the other instances'. 0, or
 * VT_ESTORE when the connection failed (the position stays at the last row
 * told, so the next connection goes on from there). */
static int read_new(struct vt_relay *r, struct read_buf *b)
{
    for (;;) {
        struct vt_db_stmt *st = vt_db_prepare(r->db, SQL_READ);
        if (!st)
            return VT_ESTORE;
        vt_db_bind_int(st, 1, r->position);
        size_t rows = 0;
        int rc;
        while ((rc = vt_db_step(st)) == VT_DB_ROW) {
            rows++;
            r->position = vt_db_col_int(st, 0);
            if (strcmp(vt_db_col_str(st, 1), r->instance) != 0)
                take_row(r, st, b);
        }
        vt_db_reset(st);
        flush(r, b);
        if (rc != VT_DB_DONE)
            return VT_ESTORE;
        if (rows < READ_MAX)
            return 0;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Opens the listening connection; the first one also takes the position. */
static int connect_relay(struct vt_relay *r)
{
    char path[16], err[300];
    struct vt_db_options opt;
    vt_migrate_db_options(&r->place, path, sizeof(path), &opt);
    opt.read_only = true;
    /* Named for the administrators, and per process: which instance's relay
     * a backend serves (tests end one of them on purpose). */
    char name[48];
    snprintf(name, sizeof(name), "ventanilla-relay %ld", (long)getpid());
    opt.name = name;
    if (vt_db_open(&opt, &r->db, err, sizeof(err))) {
        vt_log(VT_LOG_WARN, "relay_connect_failed", "error=\"%s\"", err);
        return VT_ESTORE;
    }
    if (vt_db_listen(r->db, VT_RELAY_CHANNEL))
        goto fail;
    if (r->position < 0) {
        struct vt_db_stmt *st = vt_db_prepare(r->db, SQL_MAX);
        int rc = st ? vt_db_step(st) : VT_ESTORE;
        if (rc == VT_DB_ROW)
            r->position = vt_db_col_int(st, 0);
        vt_db_reset(st);
        if (rc != VT_DB_ROW)
            goto fail;
    }
    return 0;
fail:
    vt_log(VT_LOG_WARN, "relay_connect_failed", "error=\"%s\"", vt_db_errmsg(r->db));
    vt_db_close(r->db);
    r->db = NULL;
    return VT_ESTORE;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *relay_main(void *arg)
{
    struct vt_relay *r = arg;
    struct read_buf *b = malloc(sizeof(*b));
    int backoff = 0;
    int64_t last_read = mono_ms();
    bool lost = false, wanted = true; /* wanted: a read is owed (notified, or a reconnect) */
    if (!b) {
        vt_log(VT_LOG_ERROR, "relay_failed", "error=\"out of memory\"");
        return NULL;
    }
    b->n_items = b->n_changes = 0;
    while (!atomic_load(&r->stop)) {
        if (!r->db) {
            for (int t = 0; t < backoff && !atomic_load(&r->stop); t += SLICE_MS)
                sleep_ms(SLICE_MS);
            if (atomic_load(&r->stop))
                break;
            if (connect_relay(r)) {
                backoff = !backoff                       ? BACKOFF_MIN_MS
                          : backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                         : backoff * 2;
                continue;
            }
            if (lost)
                vt_log(VT_LOG_INFO, "relay_reconnected", "position=%lld", (long long)r->position);
            wanted = true; /* the catch-up after a reconnect */
        }
        int64_t since = mono_ms() - last_read;
        int rc = 0;
        if ((wanted || since >= POLL_MS) && since >= GAP_MS) {
            rc = read_new(r, b);
            last_read = mono_ms();
            wanted = false;
        } else {
            /* Notifications that come within GAP_MS of a read wait for the
             * next one, which reads every row they announced at once. */
            int64_t left = (wanted ? GAP_MS : POLL_MS) - since;
            rc =
                vt_db_wait_notify(r->db, (int)(left < SLICE_MS ? (left > 0 ? left : 1) : SLICE_MS));
            if (rc == VT_DB_NOTIFIED)
                wanted = true;
        }
        if (rc < 0) {
            vt_log(VT_LOG_WARN, "relay_connection_lost", "error=\"%s\"", vt_db_errmsg(r->db));
            vt_db_close(r->db);
            r->db = NULL;
            lost = true;
            backoff = BACKOFF_MIN_MS;
        }
    }
    vt_db_close(r->db);
    r->db = NULL;
    free(b);
    return NULL;
}

int vt_relay_new(const struct vt_store_place *place, const char *instance,
                 const struct vt_relay_hooks *hooks, struct vt_relay **out)
{
    *out = NULL;
    if (!vt_store_place_pg(place))
        return 0;
    int rc = VT_ENOMEM;
    struct vt_relay *r = calloc(1, sizeof(*r));
    if (!r || !(r->instance = strdup(instance)) ||
        (place->conninfo && !(r->conninfo = strdup(place->conninfo))))
        goto fail;
    r->place = *place;
    r->place.conninfo = r->conninfo;
    r->place.data_dir = NULL; /* PostgreSQL's connection needs none */
    r->hooks = *hooks;
    r->position = -1;
    atomic_init(&r->stop, false);
    /* The position is taken now, not when the thread starts: what the
     * caller reads next (the dashboard's counts) is no older than it. */
    if ((rc = connect_relay(r)))
        goto fail;
    *out = r;
    return 0;
fail:
    if (r) {
        vt_db_close(r->db);
        free(r->instance);
        free(r->conninfo);
    }
    free(r);
    return rc;
}

int vt_relay_start(struct vt_relay *r)
{
    if (!r)
        return 0;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0)
        return VT_ENOMEM;
    r->started = true;
    return 0;
}

void vt_relay_free(struct vt_relay *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    if (r->started)
        pthread_join(r->thread, NULL);
    vt_db_close(r->db);
    free(r->instance);
    free(r->conninfo);
    free(r);
}
