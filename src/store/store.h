/* store.h - the traceable store: items, requesters, attachments, the audit
 * chain, radicado counters and the contacts registry.
 *
 * Owns: the SQL of the core tables, the write connection and the writer
 * thread that commits intakes in groups. It reaches the database only
 * through store/db.h, so any driver runs the same writer, group commit and
 * readers. Modules that own tables of their own (the outbox, a channel's
 * conversations) keep their SQL in one file each and run it on the
 * connection of the transaction or reader they are handed (vt_store_tx_db,
 * vt_store_reader_db).
 * Must not: know HTTP, channels or pages. Domain decisions that depend on the
 * commit time (due date, radicado text) come in through struct vt_store_hooks.
 *
 * Files: store.c (the writer thread, group commit, jobs and the transaction
 * API, readers), store_read.c (tracking, the dashboard's counts, contact
 * lookup), store_admin.c (audit verify, contacts import, backup copy and
 * summary: commands on a closed store), migrate.c (the schema).
 *
 * Threads: vt_store_submit() may be called from any thread. The writer thread
 * calls hooks.stamp, hooks.committed and each job's done callback. Readers
 * (struct vt_store_reader) belong to the thread that opened them.
 *
 * Job lifecycle:
 *
 *   submitted --(writer takes a batch)--> stamped --COMMIT ok--> done(result 0)
 *                                                 \--failure---> done(result <0)
 *
 * A job either carries an intake (item) or a run callback. run executes on
 * the writer thread inside the batch's transaction, within a SAVEPOINT of its
 * own: returning non-zero rolls back everything it did (items, events,
 * outbox rows) and fails only that job. It must not block on anything but
 * the database: no network, no waiting on other threads.
 */
#ifndef VT_STORE_H
#define VT_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/item.h"
#include "store/migrate.h"

struct vt_store;
struct vt_store_reader;

/* struct vt_item_change (core/item.h): a change to a filed item, told to
 * the live feed after its commit. */

struct vt_store_hooks {
    void *ctx;
    /* Writer thread, inside the transaction: the store has set received_at,
     * year and seq; fill filed_date, due_date and radicado. */
    void (*stamp)(void *ctx, struct vt_item *it);
    /* Writer thread, after a successful COMMIT, with the batch's items. */
    void (*committed)(void *ctx, struct vt_item *const *items, size_t n);
    /* Clock in Unix ms; NULL means the real clock. Tests set it. */
    int64_t (*now_ms)(void *ctx);
    /* Writer thread, after a COMMIT that added outbound messages. May be NULL. */
    void (*outbox_added)(void *ctx);
    /* Writer thread, after a COMMIT, with the item changes its jobs noted
     * (vt_store_tx_item_changed). May be NULL. */
    void (*changed)(void *ctx, const struct vt_item_change *c, size_t n);
};

struct vt_store_options {
    struct vt_store_place place; /* the database, attachments and the audit key */
    int batch_max;
    struct vt_store_hooks hooks;
    /* This instance's name (vt_store_instance); NULL or "": the host's name
     * and the data directory's real path, which needs a data directory. */
    const char *instance_name;
};

struct vt_store_tx;

struct vt_store_job {
    struct vt_item *item; /* borrowed; the submitter keeps it alive until done */
    /* Instead of item: work done inside the transaction (writer thread). */
    int (*run)(struct vt_store_tx *tx, void *ctx);
    int result;                             /* 0 or VT_E*, set before done is called */
    void (*done)(struct vt_store_job *job); /* writer thread */
    void *ctx;
    struct vt_store_job *next; /* queue link, the store's */
};

/* Commit statistics, read by /metrics. Updated by the writer thread. */
struct vt_store_stats {
    uint64_t batches, items, jobs; /* items: intakes committed; jobs: of any kind */
    uint64_t batch_hist[8];        /* batch sizes <=1,4,16,64,256,1024,4096,+Inf */
    uint64_t latency_hist[8];      /* commit latency <=1,2,5,10,25,50,100 ms,+Inf */
    double latency_sum;            /* seconds */
};

/* Opens the store (the schema must be current) and starts the writer thread.
 * Returns 0 and *out, or VT_EVERSION / VT_ESTORE / VT_EIO with err filled. */
int vt_store_open(const struct vt_store_options *opt, struct vt_store **out, char *err,
                  size_t errlen);
/* Finishes every submitted job, stops the writer thread and closes. NULL ok. */
void vt_store_close(struct vt_store *s);

/* Hands an intake to the writer thread. Returns 0 (done will be called) or
 * VT_ESHUTDOWN (done will not be called). */
int vt_store_submit(struct vt_store *s, struct vt_store_job *job);

/* Copies the commit statistics (thread-safe). */
void vt_store_stats(struct vt_store *s, struct vt_store_stats *out);

/* A read connection for the calling thread. NULL on failure. */
struct vt_store_reader *vt_store_reader_new(struct vt_store *s);

/* This instance's name among those that may share the database, the same
 * across restarts so an instance knows the claims its previous run left:
 * vt_store_options.instance_name, else the host's name and the data
 * directory's real path. */
const char *vt_store_instance(const struct vt_store *s);
/* Whether other instances may write the same database (PostgreSQL); on
 * SQLite the data directory's lock makes this instance the only one. */
bool vt_store_shared(const struct vt_store *s);
/* Closes it; NULL ok. */
void vt_store_reader_free(struct vt_store_reader *r);

/* Looks a contact up for the classifier (vt_contact_lookup_fn shape; ctx is a
 * struct vt_store_reader). */
int vt_store_contact_lookup(void *reader, const char *key_type, const char *key, char *group,
                            size_t group_len);

struct vt_track_event {
    int64_t at;
    char action[32];
    char description[200];
};

struct vt_track {
    char radicado[48];
    char kind[24], type[24], petition_class[24], status[24];
    int64_t received_at;
    char due_date[11];
    struct vt_track_event *events; /* owned by the struct; vt_track_cleanup frees */
    size_t n_events;
    char *answer; /* the latest answer staff gave, or NULL; owned, freed by vt_track_cleanup */
    int64_t answered_at;
};

/* Finds the item by radicado whose tracking hash equals hash (constant-time
 * compare). Returns 0, or VT_ENOTFOUND for an unknown radicado or a wrong
 * code alike. */
int vt_store_track(struct vt_store_reader *r, const char *radicado, const unsigned char hash[32],
                   struct vt_track *out);
void vt_track_cleanup(struct vt_track *t);

/* Counts for the live dashboard. Each map is a JSON-ready list of (key, n). */
struct vt_count {
    char key[64];
    int64_t n;
};
struct vt_snapshot {
    int64_t total, overdue, due_soon;
    struct vt_count by_channel[16], by_type[16], by_group[32], by_status[16];
    size_t n_channel, n_type, n_group, n_status;
};
/* Fills counts from the database; today and soon_limit are "YYYY-MM-DD"
 * (due_soon counts open items due in [today, soon_limit]). */
int vt_store_snapshot(struct vt_store_reader *r, const char *today, const char *soon_limit,
                      struct vt_snapshot *out);

/* Counts open items overdue (due before today) and due soon (today..soon_limit). */
int vt_store_due_counts(struct vt_store_reader *r, const char *today, const char *soon_limit,
                        long long *overdue, long long *due_soon);

/* Walks the audit chain; returns 0 and *n_events, or VT_ETAMPER with the first
 * bad event's id in *bad_id and a reason in err. data_dir as for open. */
int vt_store_audit_verify(const struct vt_store_place *place, int64_t *n_events, int64_t *bad_id,
                          char *err, size_t errlen);

/* ---- backups (`ventanilla backup` and `restore`, backup.h) ---- */

/* What a copy of the database holds, for a backup's manifest and a
 * restore's checks. */
struct vt_store_summary {
    int schema_version;
    int64_t items, audit_events;
    int64_t audit_head_id; /* 0: no event yet */
    char audit_head_hash[65];
    char last_radicado[48]; /* "" when no item has one */
};

/* Copies DATA_DIR's database into dest_file, which must not exist (it is
 * made 0600), as one consistent snapshot taken while a daemon may be
 * committing, without holding up its writer. The copy is one self-contained
 * file (no -wal) that passed the database's integrity check (vt_db_copy_to). Returns 0, or
 * VT_ENOTFOUND, VT_EEXIST, VT_EIO or VT_ESTORE with err filled (and
 * dest_file removed). */
int vt_store_backup(const char *data_dir, const char *dest_file, char *err, size_t errlen);

/* Reads a copy made by vt_store_backup without changing it: fills *out and
 * calls each_file(ctx, sha256) once for every attachment file its rows name
 * (each_file may be NULL; a non-zero return stops the walk and is
 * returned). The names are as stored: the caller checks them before using
 * one in a path. Returns 0 or VT_ESTORE with err filled. */
int vt_store_summary(const char *db_file, struct vt_store_summary *out,
                     int (*each_file)(void *ctx, const char *sha256), void *ctx, char *err,
                     size_t errlen);

/* Imports contacts in one transaction. rows[i] = {key_type, key, group, label}. */
struct vt_contact {
    const char *key_type, *key, *group, *label;
};
int vt_store_contacts_import(const struct vt_store_place *place, const struct vt_contact *rows,
                             size_t n, char *err, size_t errlen);

/* ---- inside a transaction (a job's run callback, writer thread) ---- */

struct vt_db;

/* The transaction's clock (Unix ms), the same for the whole job. */
int64_t vt_store_tx_now(struct vt_store_tx *tx);
/* Inserts an intake as a job's item would be: radicado, due date, requester,
 * attachments (their bytes, unless an attachment's data is NULL: stored
 * already) and the "radicado" event. The caller keeps it alive until the job's done; the live feed
 * gets it after the commit. 0 or VT_E*. */
int vt_store_tx_item_insert(struct vt_store_tx *tx, struct vt_item *it);
/* Links attachment bytes already stored (vt_store_tx_blob_put, vt_blobs_put)
 * to an existing item. 0 or VT_E*. */
int vt_store_tx_attachment_add(struct vt_store_tx *tx, int64_t item_id, const char *sha256,
                               int64_t size, const char *content_type, const char *filename);
/* Appends an audit event (item_id 0: none). payload is JSON text. 0 or VT_E*. */
int vt_store_tx_event(struct vt_store_tx *tx, int64_t item_id, const char *actor,
                      const char *action, const char *payload, int is_public);
/* Records (channel, event_id) as applied: 0 the first time, VT_EEXIST after. */
int vt_store_tx_seen(struct vt_store_tx *tx, const char *channel, const char *event_id);
/* Notes that the job changed the question wall of hearing code: the other
 * instances sharing the database tell their wall subscribers after the
 * commit (the job's caller tells this instance's, as before). Dropped if the
 * job rolls back; nothing on a store that is not shared. 0 or VT_ENOMEM. */
int vt_store_tx_wall_changed(struct vt_store_tx *tx, const char *code);
/* Tells the store this job queued outbound messages (wakes the sender after
 * the commit). */
void vt_store_tx_outbox_added(struct vt_store_tx *tx);
/* Notes a change to an item for hooks.changed after the commit (dropped if
 * the job rolls back). 0 or VT_ENOMEM. */
int vt_store_tx_item_changed(struct vt_store_tx *tx, const struct vt_item_change *c);
/* The write connection, through the database interface (store/db.h): a
 * module prepares its own SQL on it inside the job's transaction. */
struct vt_db *vt_store_tx_db(struct vt_store_tx *tx);
/* A reader's connection through db.h (the reader's thread only). */
struct vt_db *vt_store_reader_db(struct vt_store_reader *r);
/* Reads attachment bytes by SHA-256 on the reader's connection
 * (vt_blobs_get: *data malloc'd, the caller frees). 0, VT_ENOTFOUND or
 * VT_E*. */
int vt_store_reader_blob(struct vt_store_reader *r, const char *sha256, unsigned char **data,
                         size_t *len);
/* The store's attachment bytes (attach.h), for threads that store files
 * before the job naming them is submitted (a durable write of its own).
 * Owned by the store; valid until vt_store_close. */
struct vt_blobs *vt_store_blobs(struct vt_store *s);
/* Stores attachment bytes inside the job's transaction (before the rows
 * naming them). 0 or VT_E*. */
int vt_store_tx_blob_put(struct vt_store_tx *tx, const char *sha256, const void *data, size_t len);
/* Contact lookup on the write connection, for classifying inside a job
 * (vt_contact_lookup_fn shape; ctx is the struct vt_store_tx). */
int vt_store_tx_contact_lookup(void *tx, const char *key_type, const char *key, char *group,
                               size_t group_len);

/* Runs fn(tx, ctx) as a job and waits for its commit; any thread but the
 * writer. Returns fn's result, the commit's failure, or VT_ESHUTDOWN. */
int vt_store_run(struct vt_store *s, int (*fn)(struct vt_store_tx *tx, void *ctx), void *ctx);

#endif
