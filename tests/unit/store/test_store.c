/* test_store.c - the SQLite store without the daemon: migrations, radicados
 * across a year change, group commit, and audit verify catching each kind of
 * tampering. */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/config.h"
#include "core/error.h"
#include "core/item.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_config cfg;
static int64_t fake_now;

static int64_t clock_now(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void stamp(void *ctx, struct vt_item *it)
{
    (void)ctx;
    vt_item_stamp(&cfg, it);
}

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int left;
};

static void done(struct vt_store_job *job)
{
    struct waiter *w = job->ctx;
    pthread_mutex_lock(&w->m);
    w->left--;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

static struct vt_item *make_item(const char *type)
{
    struct vt_item *it = vt_item_new();
    it->kind = "pqrsd";
    it->type = type;
    it->channel = "web";
    it->status = "radicado";
    it->subject = strdup("Asunto");
    it->body = strdup("Cuerpo con 'comillas'; DROP TABLE items;--");
    it->req.person_type = "anonimo";
    it->term_days = vt_item_term_days(&cfg, "pqrsd", type, NULL);
    snprintf(it->group, sizeof(it->group), "ciudadania");
    snprintf(it->classified_by, sizeof(it->classified_by), "default");
    vt_item_new_tracking_code(it);
    return it;
}

/* Submits n items at once (one or more batches) and waits for all. */
static void submit_all(struct vt_store *s, struct vt_item **items, size_t n)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, (int)n};
    struct vt_store_job *jobs = calloc(n, sizeof(*jobs));
    for (size_t i = 0; i < n; i++) {
        jobs[i].item = items[i];
        jobs[i].done = done;
        jobs[i].ctx = &w;
        ASSERT_EQ(vt_store_submit(s, &jobs[i]), 0);
    }
    pthread_mutex_lock(&w.m);
    while (w.left > 0)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(jobs[i].result, 0);
    free(jobs);
}

static int64_t bogota(const char *iso)
{
    int64_t ms = 0;
    vt_time_parse_iso(iso, &ms);
    return ms;
}

static void exec_sql(const char *dir, const char *sql)
{
    char path[512];
    sqlite3 *db;
    snprintf(path, sizeof(path), "%s/ventanilla.db", dir);
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql: %s\n", err);
    ASSERT_EQ(rc, SQLITE_OK);
    sqlite3_free(err);
    sqlite3_close(db);
}

/* Copies the closed store into a fresh directory for one tampering case. */
static void copy_store(const char *from, const char *to)
{
    char cmd[4000];
    snprintf(cmd, sizeof(cmd),
             "rm -rf '%s' && mkdir -p '%s' && cp '%s'/ventanilla.db '%s'/audit.key '%s'/", to, to,
             from, from, to);
    ASSERT_EQ(system(cmd), 0);
}

static void expect_tamper(const char *dir, const char *sql, int64_t want_bad)
{
    char tdir[600], err[300];
    int64_t n, bad;
    snprintf(tdir, sizeof(tdir), "%s-t", dir);
    copy_store(dir, tdir);
    exec_sql(tdir, sql);
    ASSERT_EQ(vt_store_audit_verify(&(struct vt_store_place){.data_dir = tdir}, &n, &bad, err,
                                    sizeof(err)),
              VT_ETAMPER);
    ASSERT_EQ(bad, want_bad);
}

int main(void)
{
    char dir[] = "/tmp/vt-store-XXXXXX", err[300];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    ASSERT_TRUE(sodium_init() >= 0);
    ASSERT_EQ(vt_config_defaults(&cfg), 0);

    /* Migrations apply once and are recorded. */
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);

    struct vt_store *s = NULL;
    struct vt_store_options opt = {
        {.data_dir = dir}, 64, {.stamp = stamp, .now_ms = clock_now}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &s, err, sizeof(err)), 0);

    /* Three at the end of 2025 (Bogotá time), two just after midnight. */
    struct vt_item *items[5];
    fake_now = bogota("2025-12-31T23:59:58-05:00");
    for (int i = 0; i < 3; i++)
        items[i] = make_item("queja");
    submit_all(s, items, 3);
    fake_now = bogota("2026-01-01T00:00:01-05:00");
    items[3] = make_item("peticion");
    items[4] = make_item("felicitacion");
    submit_all(s, items + 3, 2);
    ASSERT_STREQ(items[0]->radicado, "2025-000001");
    ASSERT_STREQ(items[1]->radicado, "2025-000002");
    ASSERT_STREQ(items[2]->radicado, "2025-000003");
    ASSERT_STREQ(items[3]->radicado, "2026-000001");
    ASSERT_STREQ(items[4]->radicado, "2026-000002");
    /* Received after closing on 31 Dec 2025: filed on Friday 2 Jan (1 Jan is a
     * holiday); counting starts on Monday 5 Jan, skips Reyes Magos (Monday 12
     * Jan) and the weekends; the 15th business day is Monday 26 Jan 2026. */
    ASSERT_STREQ(items[0]->due_date, "2026-01-26");
    ASSERT_STREQ(items[4]->due_date, "");
    ASSERT_STREQ(items[3]->filed_date, "2026-01-02");

    /* Many at once: gap-free, in submission order. */
    struct vt_item *many[300];
    for (int i = 0; i < 300; i++)
        many[i] = make_item("reclamo");
    submit_all(s, many, 300);
    for (int i = 0; i < 300; i++) {
        char want[32];
        snprintf(want, sizeof(want), "2026-%06d", i + 3);
        ASSERT_STREQ(many[i]->radicado, want);
    }

    /* Tracking: right code finds it, wrong code and unknown radicado do not. */
    struct vt_store_reader *r = vt_store_reader_new(s);
    struct vt_track t;
    unsigned char h[32];
    vt_item_tracking_hash(items[3]->tracking_code, h);
    ASSERT_EQ(vt_store_track(r, "2026-000001", h, &t), 0);
    ASSERT_STREQ(t.type, "peticion");
    ASSERT_EQ(t.n_events, 1);
    vt_track_cleanup(&t);
    ASSERT_EQ(vt_store_track(r, "2025-000001", h, &t), VT_ENOTFOUND);
    ASSERT_EQ(vt_store_track(r, "2099-000001", h, &t), VT_ENOTFOUND);
    struct vt_snapshot snap;
    ASSERT_EQ(vt_store_snapshot(r, "2026-01-01", "2026-01-06", &snap), 0);
    ASSERT_EQ(snap.total, 305);
    vt_store_reader_free(r);

    for (int i = 0; i < 5; i++)
        vt_item_free(items[i]);
    for (int i = 0; i < 300; i++)
        vt_item_free(many[i]);
    vt_store_close(s);

    /* The chain verifies; each kind of tampering is caught at the right event. */
    int64_t n = 0, bad = 0;
    ASSERT_EQ(vt_store_audit_verify(&(struct vt_store_place){.data_dir = dir}, &n, &bad, err,
                                    sizeof(err)),
              0);
    ASSERT_EQ(n, 305);
    expect_tamper(dir, "UPDATE audit_events SET payload = '{}' WHERE id = 7", 7);
    expect_tamper(dir, "UPDATE audit_events SET actor = 'staff:x' WHERE id = 2", 2);
    expect_tamper(dir, "DELETE FROM audit_events WHERE id = 10", 10);
    expect_tamper(dir, "DELETE FROM audit_events WHERE id = 305", 305);
    expect_tamper(dir,
                  "INSERT INTO audit_events (id, item_id, at, actor, action, payload, public, "
                  "prev_hash, hash) SELECT 306, 1, 0, 'x', 'radicado', '{}', 1, hash, "
                  "'00' FROM audit_events WHERE id = 305",
                  306);

    /* A database newer than this program is refused. */
    exec_sql(dir, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)");
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)),
              VT_EVERSION);
    ASSERT_EQ(vt_store_open(&opt, &s, err, sizeof(err)), VT_EVERSION);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-t'", dir, dir);
    ASSERT_EQ(system(cmd), 0);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
