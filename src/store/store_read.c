/* store_read.c - the store's reads on a reader connection (store.h): a
 * citizen tracking an item by radicado and code, and the dashboard's counts.
 *
 * Owns: the SQL of those reads, written once against db.h.
 * Must not: write; run on any thread but the reader's.
 */
#include "store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/db.h"

static const char SQL_TRACK_ITEM[] =
    "SELECT id, tracking_hash, kind, coalesce(type, ''), coalesce(petition_class, ''), status, "
    "received_at, coalesce(due_date, '') FROM items WHERE radicado = ?1";
static const char SQL_TRACK_EVENTS[] =
    "SELECT at, action FROM audit_events WHERE item_id = ?1 AND public = 1 ORDER BY id";

static const char SQL_BY_CHANNEL[] = "SELECT channel, count(*) FROM items GROUP BY channel";
static const char SQL_BY_TYPE[] = "SELECT coalesce(type, kind), count(*) FROM items GROUP BY 1";
static const char SQL_BY_GROUP[] =
    "SELECT stakeholder_group, count(*) FROM items GROUP BY stakeholder_group";
static const char SQL_BY_STATUS[] = "SELECT status, count(*) FROM items GROUP BY status";

/* The statuses whose term runs (casework.h: vt_casework_term_runs). */
#define OPEN_STATUSES "('radicado', 'en_tramite')"

static const char SQL_DUE[] =
    "SELECT count(*) FILTER (WHERE due_date < ?1), count(*) FILTER "
    "(WHERE due_date BETWEEN ?1 AND ?2) FROM items WHERE status IN " OPEN_STATUSES
    " AND due_date IS NOT NULL";

int vt_store_track(struct vt_store_reader *r, const char *radicado, const unsigned char hash[32],
                   struct vt_track *out)
{
    struct vt_db *db = vt_store_reader_db(r);
    memset(out, 0, sizeof(*out));
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_TRACK_ITEM);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, radicado);
    int rc = VT_ENOTFOUND;
    int64_t id = 0;
    unsigned char stored[32] = {0};
    bool have = false;
    if (vt_db_step(st) == VT_DB_ROW) {
        size_t len = 0;
        const void *blob = vt_db_col_blob(st, 1, &len);
        have = blob && len == 32;
        if (have)
            memcpy(stored, blob, 32);
        id = vt_db_col_int(st, 0);
        snprintf(out->radicado, sizeof(out->radicado), "%s", radicado);
        vt_db_col_copy(st, 2, out->kind, sizeof(out->kind));
        vt_db_col_copy(st, 3, out->type, sizeof(out->type));
        vt_db_col_copy(st, 4, out->petition_class, sizeof(out->petition_class));
        vt_db_col_copy(st, 5, out->status, sizeof(out->status));
        out->received_at = vt_db_col_int(st, 6);
        vt_db_col_copy(st, 7, out->due_date, sizeof(out->due_date));
    }
    vt_db_reset(st);
    /* Compare even for an unknown radicado, so timing says nothing either. */
    int match = sodium_memcmp(stored, hash, 32) == 0;
    if (!have || !match) {
        memset(out, 0, sizeof(*out));
        return VT_ENOTFOUND;
    }
    if (!(st = vt_db_prepare(db, SQL_TRACK_EVENTS))) {
        memset(out, 0, sizeof(*out));
        return VT_ESTORE;
    }
    vt_db_bind_int(st, 1, id);
    rc = 0;
    while (vt_db_step(st) == VT_DB_ROW) {
        struct vt_track_event *e = realloc(out->events, (out->n_events + 1) * sizeof(*e));
        if (!e) {
            rc = VT_ENOMEM;
            break;
        }
        out->events = e;
        e = &out->events[out->n_events++];
        memset(e, 0, sizeof(*e));
        e->at = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, e->action, sizeof(e->action));
    }
    vt_db_reset(st);
    if (rc)
        vt_track_cleanup(out);
    return rc;
}

void vt_track_cleanup(struct vt_track *t)
{
    if (!t)
        return;
    free(t->events);
    t->events = NULL;
    free(t->answer);
    t->answer = NULL;
    t->n_events = 0;
}

/* Fills out (at most cap rows) with the (key, count) rows of sql. */
static int group_counts(struct vt_db *db, const char *sql, struct vt_count *out, size_t cap,
                        size_t *n)
{
    *n = 0;
    struct vt_db_stmt *st = vt_db_prepare(db, sql);
    if (!st)
        return VT_ESTORE;
    while (*n < cap && vt_db_step(st) == VT_DB_ROW) {
        vt_db_col_copy(st, 0, out[*n].key, sizeof(out[*n].key));
        out[*n].n = vt_db_col_int(st, 1);
        (*n)++;
    }
    vt_db_reset(st);
    return 0;
}

int vt_store_snapshot(struct vt_store_reader *r, const char *today, const char *soon_limit,
                      struct vt_snapshot *out)
{
    struct vt_db *db = vt_store_reader_db(r);
    memset(out, 0, sizeof(*out));
    int rc = group_counts(db, SQL_BY_CHANNEL, out->by_channel, 16, &out->n_channel);
    rc = rc ? rc : group_counts(db, SQL_BY_TYPE, out->by_type, 16, &out->n_type);
    rc = rc ? rc : group_counts(db, SQL_BY_GROUP, out->by_group, 32, &out->n_group);
    rc = rc ? rc : group_counts(db, SQL_BY_STATUS, out->by_status, 16, &out->n_status);
    if (rc)
        return rc;
    for (size_t i = 0; i < out->n_channel; i++)
        out->total += out->by_channel[i].n;
    long long overdue, soon;
    rc = vt_store_due_counts(r, today, soon_limit, &overdue, &soon);
    out->overdue = overdue;
    out->due_soon = soon;
    return rc;
}

int vt_store_due_counts(struct vt_store_reader *r, const char *today, const char *soon_limit,
                        long long *overdue, long long *due_soon)
{
    *overdue = *due_soon = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_DUE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, today);
    vt_db_bind_text(st, 2, soon_limit);
    if (vt_db_step(st) == VT_DB_ROW) {
        *overdue = vt_db_col_int(st, 0);
        *due_soon = vt_db_col_int(st, 1);
    }
    vt_db_reset(st);
    return 0;
}
