/* test_writer.c - the store's writer without the daemon: one batch holding
 * an intake, a job that fails after filing an item, and a job that files
 * one, noting a change and an inbound event. The failing job rolls back
 * alone (its number goes to the next item, its event, change, outbox flag
 * and seen row are forgotten), the hooks see only what committed, the
 * chain verifies; a batch of intakes only, run without savepoints, whose
 * failing intake makes the writer run it again with them, so that only that
 * one fails; then the contacts registry through a reader and a job,
 * and a backup copy read back by vt_store_summary. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/item.h"
#include "store/attach.h"
#include "store/db.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_config cfg;

/* What the hooks saw. Writer thread; read after vt_store_run returns. */
static char committed[8][48];
static size_t n_committed, n_outbox_wakes, n_changes;
static int64_t changed_item;

/* An intake whose subject is this gets the radicado of the first item of
 * the test: its row breaks the unique radicado, as a store error would. */
#define CLASHES "choca"
static char first_radicado[48];

static void stamp(void *ctx, struct vt_item *it)
{
    (void)ctx;
    vt_item_stamp(&cfg, it);
    if (strcmp(it->subject, CLASHES) == 0)
        snprintf(it->radicado, sizeof(it->radicado), "%s", first_radicado);
}

static void on_committed(void *ctx, struct vt_item *const *items, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n && n_committed < 8; i++)
        snprintf(committed[n_committed++], sizeof(committed[0]), "%s", items[i]->radicado);
}

static void on_outbox(void *ctx)
{
    (void)ctx;
    n_outbox_wakes++;
}

static void on_changed(void *ctx, const struct vt_item_change *c, size_t n)
{
    (void)ctx;
    n_changes += n;
    changed_item = c[0].item_id;
}

static struct vt_item *make_item(const char *type)
{
    struct vt_item *it = vt_item_new();
    it->kind = "pqrsd";
    it->type = type;
    it->channel = "web";
    it->status = "radicado";
    it->subject = strdup("Asunto");
    it->body = strdup("Cuerpo");
    it->req.person_type = "anonimo";
    it->term_days = vt_item_term_days(&cfg, "pqrsd", type, NULL);
    snprintf(it->group, sizeof(it->group), "ciudadania");
    snprintf(it->classified_by, sizeof(it->classified_by), "default");
    vt_item_new_tracking_code(it);
    return it;
}

/* A job of this test: the store's job first, then what its run and done
 * need (run gets the struct as its ctx). */
struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int left;
    bool gate_entered, gate_open; /* the gate job holds the writer in a batch */
};

struct tjob {
    struct vt_store_job job;
    struct waiter *w;
};

static void job_done(struct vt_store_job *job)
{
    struct waiter *w = ((struct tjob *)job)->w;
    pthread_mutex_lock(&w->m);
    w->left--;
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

static void submit(struct vt_store *s, struct tjob *t, struct waiter *w,
                   int (*run)(struct vt_store_tx *, void *), struct vt_item *it)
{
    *t = (struct tjob){.job = {.item = it, .run = run, .done = job_done}, .w = w};
    t->job.ctx = t;
    ASSERT_EQ(vt_store_submit(s, &t->job), 0);
}

/* Holds the writer inside its batch until the other jobs are queued, so
 * they commit together in the next one. */
static int gate_run(struct vt_store_tx *tx, void *ctx)
{
    (void)tx;
    struct waiter *w = ((struct tjob *)ctx)->w;
    pthread_mutex_lock(&w->m);
    w->gate_entered = true;
    pthread_cond_broadcast(&w->c);
    while (!w->gate_open)
        pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
    return 0;
}

static struct vt_item *failing_item, *filed_item;
static int failing_seen, filed_seen;

/* Files an item, sees an event, audits, notes a change and an outbound
 * message, then fails: none of it may stay. */
static int failing_run(struct vt_store_tx *tx, void *ctx)
{
    (void)ctx;
    if (vt_store_tx_item_insert(tx, failing_item))
        return VT_ESTORE;
    struct vt_item_change ch = {
        .item_id = failing_item->id, .old_status = "radicado", .new_status = "en_tramite"};
    failing_seen = vt_store_tx_seen(tx, "web", "event-1");
    vt_store_tx_event(tx, failing_item->id, "staff:x", "asignado", "{}", 0);
    vt_store_tx_item_changed(tx, &ch);
    vt_store_tx_outbox_added(tx);
    return VT_EINVAL;
}

static int filed_run(struct vt_store_tx *tx, void *ctx)
{
    (void)ctx;
    int rc = vt_store_tx_item_insert(tx, filed_item);
    if (rc)
        return rc;
    struct vt_item_change ch = {
        .item_id = filed_item->id, .old_status = "radicado", .new_status = "en_tramite"};
    filed_seen = vt_store_tx_seen(tx, "web", "event-1");
    rc = vt_store_tx_item_changed(tx, &ch);
    return rc ? rc : vt_store_tx_event(tx, filed_item->id, "staff:x", "asignado", "{}", 0);
}

static int seen_again(struct vt_store_tx *tx, void *ctx)
{
    (void)ctx;
    return vt_store_tx_seen(tx, "web", "event-1");
}

static int lookup_in_tx(struct vt_store_tx *tx, void *ctx)
{
    return vt_store_tx_contact_lookup(tx, "email", "alcaldia@example.org", ctx, 64);
}

static int count_files(void *ctx, const char *sha)
{
    (void)sha;
    (*(int *)ctx)++;
    return 0;
}

static int stop_walk(void *ctx, const char *sha)
{
    (void)ctx;
    (void)sha;
    return 42;
}

int main(void)
{
    char dir[] = "/tmp/vt-writer-XXXXXX", err[300] = "";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_TRUE(sodium_init() >= 0);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);

    struct vt_store *s = NULL;
    struct vt_store_options opt = {{.data_dir = dir},
                                   64,
                                   {.stamp = stamp,
                                    .committed = on_committed,
                                    .outbox_added = on_outbox,
                                    .changed = on_changed},
                                   NULL};
    ASSERT_EQ(vt_store_open(&opt, &s, err, sizeof(err)), 0);

    /* The gate's batch, then one batch of three once it opens. */
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 4, false, false};
    struct tjob jobs[4];
    submit(s, &jobs[0], &w, gate_run, NULL);
    pthread_mutex_lock(&w.m);
    while (!w.gate_entered)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);

    /* An item with an attachment, so the backup below has a file to name. */
    static const unsigned char pdf[] = "%PDF-1.4 not really a PDF";
    struct vt_item *intake = make_item("peticion");
    intake->att = calloc(1, sizeof(*intake->att));
    intake->n_att = 1;
    intake->att[0].data = pdf;
    intake->att[0].size = sizeof(pdf);
    intake->att[0].filename = strdup("carta.pdf");
    snprintf(intake->att[0].content_type, sizeof(intake->att[0].content_type), "application/pdf");
    vt_attach_sha256(pdf, sizeof(pdf), intake->att[0].sha256);
    failing_item = make_item("queja");
    filed_item = make_item("reclamo");
    submit(s, &jobs[1], &w, NULL, intake);
    submit(s, &jobs[2], &w, failing_run, NULL);
    submit(s, &jobs[3], &w, filed_run, NULL);
    pthread_mutex_lock(&w.m);
    w.gate_open = true;
    pthread_cond_broadcast(&w.c);
    while (w.left > 0)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);

    struct vt_store_stats after;
    vt_store_stats(s, &after);
    ASSERT_EQ(after.batches, 2); /* the gate's, then the three together */
    ASSERT_EQ(after.jobs, 4);
    ASSERT_EQ(after.items, 2); /* the failed job's item is not counted */
    ASSERT_EQ(jobs[0].job.result, 0);
    ASSERT_EQ(jobs[1].job.result, 0);
    ASSERT_EQ(jobs[2].job.result, VT_EINVAL);
    ASSERT_EQ(jobs[3].job.result, 0);
    int year = intake->year;
    char want[2][48];
    snprintf(want[0], sizeof(want[0]), "%d-000001", year);
    snprintf(want[1], sizeof(want[1]), "%d-000002", year);
    /* Gap-free: the failed job's number went to the next item. */
    ASSERT_STREQ(intake->radicado, want[0]);
    ASSERT_STREQ(filed_item->radicado, want[1]);
    ASSERT_EQ(failing_seen, 0);
    ASSERT_EQ(filed_seen, 0); /* the failed job's seen row was rolled back */
    /* The hooks saw what committed, and only that. */
    ASSERT_EQ(n_committed, 2);
    ASSERT_STREQ(committed[0], want[0]);
    ASSERT_STREQ(committed[1], want[1]);
    ASSERT_EQ(n_changes, 1);
    ASSERT_EQ(changed_item, filed_item->id);
    ASSERT_EQ(n_outbox_wakes, 0);
    /* A batch of intakes only runs without a savepoint per intake; when one
     * of them fails, the batch is run again with savepoints, so that only
     * that one fails and the numbers stay gap-free. */
    snprintf(first_radicado, sizeof(first_radicado), "%s", want[0]);
    struct waiter w2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 4, false, false};
    struct tjob more[4];
    struct vt_item *ok1 = make_item("peticion"), *clash = make_item("queja"),
                   *ok2 = make_item("sugerencia");
    free(clash->subject);
    clash->subject = strdup(CLASHES);
    submit(s, &more[0], &w2, gate_run, NULL);
    pthread_mutex_lock(&w2.m);
    while (!w2.gate_entered)
        pthread_cond_wait(&w2.c, &w2.m);
    pthread_mutex_unlock(&w2.m);
    submit(s, &more[1], &w2, NULL, ok1);
    submit(s, &more[2], &w2, NULL, clash);
    submit(s, &more[3], &w2, NULL, ok2);
    pthread_mutex_lock(&w2.m);
    w2.gate_open = true;
    pthread_cond_broadcast(&w2.c);
    while (w2.left > 0)
        pthread_cond_wait(&w2.c, &w2.m);
    pthread_mutex_unlock(&w2.m);
    struct vt_store_stats later;
    vt_store_stats(s, &later);
    ASSERT_EQ(later.batches, after.batches + 2); /* the gate's, then the three intakes */
    ASSERT_EQ(later.items, after.items + 2);
    ASSERT_EQ(more[1].job.result, 0);
    ASSERT_EQ(more[2].job.result, VT_ESTORE);
    ASSERT_EQ(more[3].job.result, 0);
    char want3[48], want4[48];
    snprintf(want3, sizeof(want3), "%d-000003", year);
    snprintf(want4, sizeof(want4), "%d-000004", year);
    ASSERT_STREQ(ok1->radicado, want3);
    ASSERT_STREQ(ok2->radicado, want4);
    ASSERT_EQ(n_committed, 4); /* the hooks saw the two that committed */
    ASSERT_STREQ(committed[2], want3);
    ASSERT_STREQ(committed[3], want4);
    vt_item_free(ok1);
    vt_item_free(clash);
    vt_item_free(ok2);

    /* The seen row that did commit holds. */
    ASSERT_EQ(vt_store_run(s, seen_again, NULL), VT_EEXIST);

    /* Tracking finds the filed item with its public event only. */
    struct vt_store_reader *r = vt_store_reader_new(s);
    ASSERT_TRUE(r != NULL);
    struct vt_track t;
    unsigned char h[32];
    vt_item_tracking_hash(filed_item->tracking_code, h);
    ASSERT_EQ(vt_store_track(r, filed_item->radicado, h, &t), 0);
    ASSERT_STREQ(t.type, "reclamo");
    ASSERT_EQ(t.n_events, 1);
    vt_track_cleanup(&t);
    vt_item_tracking_hash(failing_item->tracking_code, h);
    ASSERT_EQ(vt_store_track(r, filed_item->radicado, h, &t), VT_ENOTFOUND);
    long long overdue = -1, soon = -1;
    ASSERT_EQ(vt_store_due_counts(r, "2000-01-01", "2000-01-02", &overdue, &soon), 0);
    ASSERT_EQ(overdue, 0);
    ASSERT_EQ(soon, 0);

    /* Contacts: imported on the closed-store path, seen by a reader and by
     * a job (the daemon may run meanwhile: the import is one transaction). */
    char group[64] = "";
    ASSERT_EQ(vt_store_contact_lookup(r, "email", "alcaldia@example.org", group, sizeof(group)),
              VT_ENOTFOUND);
    struct vt_contact rows[] = {{"email", "alcaldia@example.org", "entidades", "Alcaldía"},
                                {"phone", "573001234567", "ciudadania", ""}};
    ASSERT_EQ(vt_store_contacts_import(&(struct vt_store_place){.data_dir = dir}, rows, 2, err,
                                       sizeof(err)),
              0);
    ASSERT_EQ(vt_store_contact_lookup(r, "email", "alcaldia@example.org", group, sizeof(group)), 0);
    ASSERT_STREQ(group, "entidades");
    group[0] = '\0';
    ASSERT_EQ(vt_store_run(s, lookup_in_tx, group), 0);
    ASSERT_STREQ(group, "entidades");
    vt_store_reader_free(r);

    /* A backup copy while the store is open, read back. */
    char dest[400];
    snprintf(dest, sizeof(dest), "%s/copy.db", dir);
    ASSERT_EQ(vt_store_backup(dir, dest, err, sizeof(err)), 0);
    ASSERT_EQ(vt_store_backup(dir, dest, err, sizeof(err)), VT_EEXIST);
    char nowhere[400];
    snprintf(nowhere, sizeof(nowhere), "%s/none", dir);
    ASSERT_EQ(vt_store_backup(nowhere, dest, err, sizeof(err)), VT_ENOTFOUND);
    char wal[420];
    snprintf(wal, sizeof(wal), "%s-wal", dest);
    ASSERT_TRUE(access(wal, F_OK) != 0); /* one self-contained file */
    struct stat sb;
    ASSERT_EQ(stat(dest, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    struct vt_store_summary sum;
    int files = 0;
    ASSERT_EQ(vt_store_summary(dest, &sum, count_files, &files, err, sizeof(err)), 0);
    ASSERT_EQ(sum.schema_version, vt_store_schema_latest());
    ASSERT_EQ(sum.items, 4);
    ASSERT_EQ(sum.audit_events, 5); /* four "radicado" events and the filed job's */
    ASSERT_EQ(sum.audit_head_id, 5);
    ASSERT_EQ(strlen(sum.audit_head_hash), 64);
    ASSERT_STREQ(sum.last_radicado, want4);
    ASSERT_EQ(files, 1);
    ASSERT_EQ(vt_store_summary(dest, &sum, stop_walk, NULL, err, sizeof(err)), 42);
    /* A file that is no ventanilla database is refused by name. */
    char other[400];
    snprintf(other, sizeof(other), "%s/other.db", dir);
    struct vt_db *db = NULL;
    struct vt_db_options dbo = {.path = other, .create = true};
    ASSERT_EQ(vt_db_open(&dbo, &db, err, sizeof(err)), 0);
    ASSERT_EQ(vt_db_exec(db, "CREATE TABLE items (id INTEGER)"), 0);
    vt_db_close(db);
    ASSERT_EQ(vt_store_summary(other, &sum, NULL, NULL, err, sizeof(err)), VT_ESTORE);
    ASSERT_TRUE(strstr(err, "not a ventanilla database") != NULL);

    vt_store_close(s);
    int64_t n = 0, bad = 0;
    ASSERT_EQ(vt_store_audit_verify(&(struct vt_store_place){.data_dir = dir}, &n, &bad, err,
                                    sizeof(err)),
              0);
    ASSERT_EQ(n, 5);

    vt_item_free(intake);
    vt_item_free(failing_item);
    vt_item_free(filed_item);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
