/* store.c - the store's public functions (store.h), dispatched to the backend
 * through struct vt_store_backend (store_backend.h). Commands that work on a
 * data directory rather than an open store use the default backend. */
#include <stdlib.h>

#include "store_backend.h"

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
