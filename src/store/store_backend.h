/* store_backend.h - the table of functions a store backend implements.
 *
 * store.c dispatches every vt_store_* call through one of these; the SQLite
 * backend (store_sqlite.c) is the only one today. A PostgreSQL backend for
 * deployments with several daemons implements the same table, keeping the
 * same guarantees: acknowledgement only after a durable commit, gap-free
 * radicados in commit order, one audit chain. Only store.c and backends
 * include this header.
 */
#ifndef VT_STORE_BACKEND_H
#define VT_STORE_BACKEND_H

#include "store/store.h"

struct vt_store_backend;

/* The first member of every backend's store and reader. */
struct vt_store {
    const struct vt_store_backend *be;
};
struct vt_store_reader {
    const struct vt_store_backend *be;
};
struct vt_store_tx {
    const struct vt_store_backend *be;
};

struct vt_store_backend {
    const char *name;
    int (*migrate)(const char *data_dir, char *err, size_t errlen);
    int (*open)(const struct vt_store_options *opt, struct vt_store **out, char *err,
                size_t errlen);
    void (*close)(struct vt_store *s);
    int (*submit)(struct vt_store *s, struct vt_store_job *job);
    void (*stats)(struct vt_store *s, struct vt_store_stats *out);
    struct vt_store_reader *(*reader_new)(struct vt_store *s);
    void (*reader_free)(struct vt_store_reader *r);
    int (*contact_lookup)(struct vt_store_reader *r, const char *key_type, const char *key,
                          char *group, size_t group_len);
    int (*track)(struct vt_store_reader *r, const char *radicado, const unsigned char hash[32],
                 struct vt_track *out);
    int (*snapshot)(struct vt_store_reader *r, const char *today, const char *soon_limit,
                    struct vt_snapshot *out);
    int (*due_counts)(struct vt_store_reader *r, const char *today, const char *soon_limit,
                      long long *overdue, long long *due_soon);
    int (*audit_verify)(const char *data_dir, int64_t *n_events, int64_t *bad_id, char *err,
                        size_t errlen);
    int (*contacts_import)(const char *data_dir, const struct vt_contact *rows, size_t n, char *err,
                           size_t errlen);
    int (*backup)(const char *data_dir, const char *dest_file, char *err, size_t errlen);
    int (*summary)(const char *db_file, struct vt_store_summary *out,
                   int (*each_file)(void *ctx, const char *sha256), void *ctx, char *err,
                   size_t errlen);
    struct sqlite3_stmt *(*reader_stmt)(struct vt_store_reader *r, const char *sql);
    struct sqlite3_stmt *(*reader_stmt_text)(struct vt_store_reader *r, const char *sql);
    /* The transaction API of store.h, on the writer thread. */
    int64_t (*tx_now)(struct vt_store_tx *tx);
    int (*tx_item_insert)(struct vt_store_tx *tx, struct vt_item *it);
    int (*tx_event)(struct vt_store_tx *tx, int64_t item_id, const char *actor, const char *action,
                    const char *payload, int is_public);
    int (*tx_attachment_add)(struct vt_store_tx *tx, int64_t item_id, const char *sha256,
                             int64_t size, const char *content_type, const char *filename);
    int (*tx_seen)(struct vt_store_tx *tx, const char *channel, const char *event_id);
    void (*tx_outbox_added)(struct vt_store_tx *tx);
    int (*tx_item_changed)(struct vt_store_tx *tx, const struct vt_item_change *c);
    struct sqlite3_stmt *(*tx_stmt)(struct vt_store_tx *tx, const char *sql);
    int (*tx_contact_lookup)(struct vt_store_tx *tx, const char *key_type, const char *key,
                             char *group, size_t group_len);
    struct vt_db *(*tx_db)(struct vt_store_tx *tx);
    struct vt_db *(*reader_db)(struct vt_store_reader *r);
};

extern const struct vt_store_backend vt_store_sqlite;

#endif
