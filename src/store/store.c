/* store.c - the store's public functions (store.h), dispatched to the backend
 * through struct vt_store_backend (store_backend.h). Commands that work on a
 * data directory rather than an open store use the default backend. */
#include <pthread.h>
#include <stdlib.h>

#include "core/error.h"
#include "store/migrations.h"

#include "store/store_backend.h"

static const struct vt_store_backend *const default_backend = &vt_store_sqlite;

int vt_store_migrate(const char *data_dir, char *err, size_t errlen)
{
    return default_backend->migrate(data_dir, err, errlen);
}

int vt_store_open(const struct vt_store_options *opt, struct vt_store **out, char *err,
                  size_t errlen)
{
    return default_backend->open(opt, out, err, errlen);
}

void vt_store_close(struct vt_store *s)
{
    if (s)
        s->be->close(s);
}

int vt_store_submit(struct vt_store *s, struct vt_store_job *job)
{
    return s->be->submit(s, job);
}

void vt_store_stats(struct vt_store *s, struct vt_store_stats *out)
{
    s->be->stats(s, out);
}

struct vt_store_reader *vt_store_reader_new(struct vt_store *s)
{
    return s->be->reader_new(s);
}

void vt_store_reader_free(struct vt_store_reader *r)
{
    if (r)
        r->be->reader_free(r);
}

int vt_store_contact_lookup(void *reader, const char *key_type, const char *key, char *group,
                            size_t group_len)
{
    struct vt_store_reader *r = reader;
    return r->be->contact_lookup(r, key_type, key, group, group_len);
}

int vt_store_track(struct vt_store_reader *r, const char *radicado, const unsigned char hash[32],
                   struct vt_track *out)
{
    return r->be->track(r, radicado, hash, out);
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

int vt_store_snapshot(struct vt_store_reader *r, const char *today, const char *soon_limit,
                      struct vt_snapshot *out)
{
    return r->be->snapshot(r, today, soon_limit, out);
}

int vt_store_due_counts(struct vt_store_reader *r, const char *today, const char *soon_limit,
                        long long *overdue, long long *due_soon)
{
    return r->be->due_counts(r, today, soon_limit, overdue, due_soon);
}

int vt_store_audit_verify(const char *data_dir, int64_t *n_events, int64_t *bad_id, char *err,
                          size_t errlen)
{
    return default_backend->audit_verify(data_dir, n_events, bad_id, err, errlen);
}

int vt_store_contacts_import(const char *data_dir, const struct vt_contact *rows, size_t n,
                             char *err, size_t errlen)
{
    return default_backend->contacts_import(data_dir, rows, n, err, errlen);
}

int vt_store_backup(const char *data_dir, const char *dest_file, char *err, size_t errlen)
{
    return default_backend->backup(data_dir, dest_file, err, errlen);
}

int vt_store_summary(const char *db_file, struct vt_store_summary *out,
                     int (*each_file)(void *ctx, const char *sha256), void *ctx, char *err,
                     size_t errlen)
{
    return default_backend->summary(db_file, out, each_file, ctx, err, errlen);
}

int vt_store_schema_latest(void)
{
    int v = 0;
    for (const struct vt_migration *m = vt_migrations; m->name; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

struct sqlite3_stmt *vt_store_reader_stmt_text(struct vt_store_reader *r, const char *sql)
{
    return r->be->reader_stmt_text(r, sql);
}

struct sqlite3_stmt *vt_store_reader_stmt(struct vt_store_reader *r, const char *sql)
{
    return r->be->reader_stmt(r, sql);
}

int64_t vt_store_tx_now(struct vt_store_tx *tx)
{
    return tx->be->tx_now(tx);
}

int vt_store_tx_item_insert(struct vt_store_tx *tx, struct vt_item *it)
{
    return tx->be->tx_item_insert(tx, it);
}

int vt_store_tx_event(struct vt_store_tx *tx, int64_t item_id, const char *actor,
                      const char *action, const char *payload, int is_public)
{
    return tx->be->tx_event(tx, item_id, actor, action, payload, is_public);
}

int vt_store_tx_attachment_add(struct vt_store_tx *tx, int64_t item_id, const char *sha256,
                               int64_t size, const char *content_type, const char *filename)
{
    return tx->be->tx_attachment_add(tx, item_id, sha256, size, content_type, filename);
}

int vt_store_tx_seen(struct vt_store_tx *tx, const char *channel, const char *event_id)
{
    return tx->be->tx_seen(tx, channel, event_id);
}

int vt_store_tx_item_changed(struct vt_store_tx *tx, const struct vt_item_change *c)
{
    return tx->be->tx_item_changed(tx, c);
}

void vt_store_tx_outbox_added(struct vt_store_tx *tx)
{
    tx->be->tx_outbox_added(tx);
}

struct sqlite3_stmt *vt_store_tx_stmt(struct vt_store_tx *tx, const char *sql)
{
    return tx->be->tx_stmt(tx, sql);
}

int vt_store_tx_contact_lookup(void *tx, const char *key_type, const char *key, char *group,
                               size_t group_len)
{
    struct vt_store_tx *t = tx;
    return t->be->tx_contact_lookup(t, key_type, key, group, group_len);
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

struct vt_db *vt_store_tx_db(struct vt_store_tx *tx)
{
    return tx->be->tx_db(tx);
}

struct vt_db *vt_store_reader_db(struct vt_store_reader *r)
{
    return r->be->reader_db(r);
}
