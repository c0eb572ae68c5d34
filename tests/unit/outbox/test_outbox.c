/* test_outbox.c - the durable outbox on a real store with a scripted
 * transport: delivery, retries with backoff, dead letters, staff retry, the
 * email copy when WhatsApp cannot carry a message, delivery statuses arriving
 * before the send's own result, the tracking code substituted at send time
 * and erased after, and recovery of messages left "sending" by a crash. */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/item.h"
#include "outbox/outbox.h"
#include "store/store.h"
#include "vt_test.h"

static struct vt_config cfg;
static struct vt_outbox *ob;
static struct vt_store *store;
static char dir[256];

static void stamp(void *ctx, struct vt_item *it)
{
    (void)ctx;
    vt_item_stamp(&cfg, it);
}

static void woke(void *ctx)
{
    (void)ctx;
    vt_outbox_wake(ob);
}

/* ---- the scripted transport: the recipient says how to behave ---- */

static atomic_int calls_retry2, calls_total;
static int64_t order_seen[64];
static atomic_int n_order;
static char seen_body[4096];
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

struct early {
    char pid[160];
};

static int early_status(struct vt_store_tx *tx, void *ctx)
{
    struct early *e = ctx;
    return vt_outbox_provider_status(tx, "whatsapp", e->pid, "delivered", 0, NULL);
}

static void scripted(void *ctx, struct vt_store_reader *r, const struct vt_outbox_msg *m,
                     struct vt_send_result *res)
{
    (void)ctx;
    (void)r;
    atomic_fetch_add(&calls_total, 1);
    snprintf(res->provider_id, sizeof(res->provider_id), "p-%lld", (long long)m->id);
    if (strcmp(m->recipient, "ok") == 0) {
        res->outcome = VT_SEND_OK;
        pthread_mutex_lock(&seen_lock);
        snprintf(seen_body, sizeof(seen_body), "%s", m->body);
        pthread_mutex_unlock(&seen_lock);
    } else if (strcmp(m->recipient, "retry2") == 0) {
        res->outcome = atomic_fetch_add(&calls_retry2, 1) < 2 ? VT_SEND_RETRY : VT_SEND_OK;
    } else if (strcmp(m->recipient, "always") == 0) {
        res->outcome = VT_SEND_RETRY;
        snprintf(res->error, sizeof(res->error), "graph: HTTP 503");
    } else if (strcmp(m->recipient, "refuse") == 0) {
        res->outcome = VT_SEND_REFUSED;
        snprintf(res->error, sizeof(res->error), "graph: HTTP 400, error 100");
    } else if (strcmp(m->recipient, "nowindow") == 0) {
        res->outcome = VT_SEND_NO_WINDOW;
        snprintf(res->error, sizeof(res->error), "outside the 24-hour window");
        snprintf(res->fallback_text, sizeof(res->fallback_text), "Radicamos su queja.");
    } else if (strcmp(m->recipient, "order") == 0) {
        int k = atomic_fetch_add(&n_order, 1);
        if (k < 64)
            order_seen[k] = m->id;
        res->outcome = VT_SEND_OK;
    } else if (strcmp(m->recipient, "early") == 0) {
        /* Meta's "delivered" webhook beats our own record of the send. */
        struct early e;
        snprintf(e.pid, sizeof(e.pid), "%s", res->provider_id);
        vt_store_run(store, early_status, &e);
        res->outcome = VT_SEND_OK;
    }
    if (res->outcome != VT_SEND_OK)
        res->provider_id[0] = '\0';
}

static const struct vt_outbox_transport transport = {"whatsapp", NULL, NULL, NULL, scripted, NULL};

/* ---- queueing ---- */

struct queue {
    const char *recipient, *body, *secret, *fallback;
    bool with_item;
    int64_t item_id;
};

static int queue_run(struct vt_store_tx *tx, void *ctx)
{
    struct queue *q = ctx;
    struct vt_item *it = NULL;
    int rc = 0;
    if (q->with_item) {
        it = vt_item_new();
        it->kind = "pqrsd";
        it->type = "queja";
        it->channel = "whatsapp";
        it->status = "radicado";
        it->subject = strdup("Queja por WhatsApp");
        it->body = strdup("No me atendieron");
        it->req.person_type = "natural";
        it->req.email = strdup("ciudadana@correo-prueba.example.com");
        it->term_days = 15;
        snprintf(it->group, sizeof(it->group), "ciudadania");
        snprintf(it->classified_by, sizeof(it->classified_by), "default");
        vt_item_new_tracking_code(it);
        if ((rc = vt_store_tx_item_insert(tx, it)))
            goto done;
        q->item_id = it->id;
    }
    struct vt_outbound m = {q->item_id,       "whatsapp", q->recipient, "ack", q->body,
                            "[\"{codigo}\"]", q->secret,  q->fallback,  0};
    rc = vt_outbox_add(tx, &m);
done:
    vt_item_free(it); /* the committed hook is not set here, so nothing else holds it */
    return rc;
}

static int64_t queue_fb(const char *recipient, const char *body, const char *secret, bool with_item,
                        const char *fallback)
{
    struct queue q = {recipient, body, secret, fallback, with_item, 0};
    ASSERT_EQ(vt_store_run(store, queue_run, &q), 0);
    return q.item_id;
}

static int64_t queue(const char *recipient, const char *body, const char *secret, bool with_item)
{
    struct queue q = {recipient, body, secret, NULL, with_item, 0};
    ASSERT_EQ(vt_store_run(store, queue_run, &q), 0);
    return q.item_id;
}

/* ---- reading the database as staff would ---- */

static sqlite3 *db;

static int wait_rows(const char *sql, int want, int seconds)
{
    int n = -1;
    for (int i = 0; i < seconds * 50; i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            return -1;
        n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (n == want)
            return n;
        usleep(20000);
    }
    return n;
}

static void text_of(const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void test_backoff(void)
{
    struct vt_outbox_config c = {.backoff_base_ms = 1000, .backoff_max_ms = 60000};
    for (int a = 1; a <= 12; a++) {
        int64_t full = 1000;
        for (int i = 1; i < a && full < 60000; i++)
            full *= 2;
        if (full > 60000)
            full = 60000;
        int64_t lo = vt_outbox_backoff_ms(&c, a, 0), hi = vt_outbox_backoff_ms(&c, a, UINT32_MAX);
        ASSERT_EQ(lo, full / 2);
        ASSERT_TRUE(hi >= lo && hi <= full);
    }
    /* Jitter spreads retries: many draws are not all alike. */
    int64_t first = vt_outbox_backoff_ms(&c, 5, randombytes_random());
    bool differ = false;
    for (int i = 0; i < 20 && !differ; i++)
        differ = vt_outbox_backoff_ms(&c, 5, randombytes_random()) != first;
    ASSERT_TRUE(differ);
}

int main(void)
{
    if (sodium_init() < 0 || vt_config_defaults(&cfg))
        return 1;
    test_backoff();

    snprintf(dir, sizeof(dir), "/tmp/vt-test-outbox-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    char err[300];
    ASSERT_EQ(vt_store_migrate(&(struct vt_store_place){.data_dir = dir}, err, sizeof(err)), 0);
    cfg.outbox.max_attempts = 3;
    cfg.outbox.backoff_base_ms = 10;
    cfg.outbox.backoff_max_ms = 40;
    struct vt_store_options opt = {
        {.data_dir = dir}, 64, {.stamp = stamp, .outbox_added = woke}, NULL};
    ASSERT_EQ(vt_store_open(&opt, &store, err, sizeof(err)), 0);
    ob = vt_outbox_new(&cfg, store);
    ASSERT_EQ(vt_outbox_register(ob, &transport), 0);

    /* A message left "sending" by a crash is sent again at start. */
    queue("ok", "{\"text\":{\"body\":\"antes del fallo\"}}", NULL, false);
    char path[400];
    snprintf(path, sizeof(path), "%s/ventanilla.db", dir);
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ASSERT_EQ(
        sqlite3_exec(db, "UPDATE outbox SET status = 'sending', attempts = 1", NULL, NULL, NULL),
        SQLITE_OK);
    ASSERT_EQ(vt_outbox_start(ob), 0);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 2", 1, 5),
              1);

    /* Plain success: the tracking code reaches the transport, then is erased. */
    int64_t item = queue("ok", "{\"text\":{\"body\":\"Código: {codigo}\"}}", "ABCD2345EF", true);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE status = 'sent'", 2, 5), 2);
    pthread_mutex_lock(&seen_lock);
    ASSERT_TRUE(strstr(seen_body, "Código: ABCD2345EF") != NULL);
    pthread_mutex_unlock(&seen_lock);
    /* Kept while a "failed" may still come; erased once Meta says delivered. */
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE secret = 'ABCD2345EF'", 1, 1), 1);
    char buf[400];
    text_of("SELECT provider_id FROM outbox WHERE secret = 'ABCD2345EF'", buf, sizeof(buf));
    struct early delivered;
    memcpy(delivered.pid, buf, sizeof(delivered.pid) - 1);
    delivered.pid[sizeof(delivered.pid) - 1] = '\0';
    ASSERT_EQ(vt_store_run(store, early_status, &delivered), 0);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE secret IS NOT NULL", 0, 1), 0);
    snprintf(buf, sizeof(buf),
             "SELECT count(*) FROM audit_events WHERE item_id = %lld AND action = "
             "'mensaje_enviado'",
             (long long)item);
    ASSERT_EQ(wait_rows(buf, 1, 2), 1);

    /* Two retries, then sent: three attempts. */
    queue("retry2", "{}", NULL, false);
    ASSERT_EQ(
        wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'retry2' AND status = 'sent' "
                  "AND attempts = 3",
                  1, 5),
        1);

    /* Always failing: dead after max_attempts, with the error kept. */
    queue("always", "{}", NULL, true);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'always' AND status = "
                        "'dead' AND attempts = 3",
                        1, 5),
              1);
    text_of("SELECT last_error FROM outbox WHERE recipient = 'always'", buf, sizeof(buf));
    ASSERT_STREQ(buf, "graph: HTTP 503");
    ASSERT_EQ(
        wait_rows("SELECT count(*) FROM audit_events WHERE action = 'mensaje_no_entregado'", 1, 2),
        1);

    /* Refused: dead at once; staff retry puts it back; a sent one cannot be retried. */
    queue("refuse", "{}", NULL, false);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'refuse' AND status = "
                        "'dead' AND attempts = 1",
                        1, 5),
              1);
    text_of("SELECT id FROM outbox WHERE recipient = 'refuse'", buf, sizeof(buf));
    int64_t refused = atoll(buf);
    int before = atomic_load(&calls_total);
    ASSERT_EQ(vt_outbox_retry(store, refused), 0);
    for (int i = 0; i < 250 && atomic_load(&calls_total) == before; i++)
        usleep(20000);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'refuse' AND status = "
                        "'dead' AND attempts = 1",
                        1, 5),
              1);
    ASSERT_TRUE(atomic_load(&calls_total) > before);
    text_of("SELECT id FROM outbox WHERE recipient = 'ok' AND status = 'sent'", buf, sizeof(buf));
    ASSERT_EQ(vt_outbox_retry(store, atoll(buf)), VT_EINVAL);
    ASSERT_EQ(vt_outbox_retry(store, 999999), VT_ENOTFOUND);
    /* Its code erased once delivered, a message that failed afterwards (a
     * bounce) cannot go again: it would carry the placeholder, not the code. */
    char sql[300];
    snprintf(sql, sizeof(sql), "UPDATE outbox SET status = 'failed' WHERE provider_id = '%s'",
             delivered.pid);
    ASSERT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql), "SELECT id FROM outbox WHERE provider_id = '%s'", delivered.pid);
    text_of(sql, buf, sizeof(buf));
    ASSERT_EQ(vt_outbox_retry(store, atoll(buf)), VT_EINVAL);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outbox WHERE provider_id = '%s' AND status = 'failed' AND "
             "secret IS NULL",
             delivered.pid);
    ASSERT_EQ(wait_rows(sql, 1, 1), 1);

    /* No window and no template: undeliverable, and an email copy for the requester. */
    queue_fb("nowindow", "{\"text\":{\"body\":\"*Radicamos* su queja: {codigo}\"}}", "QWERTY2345",
             true, "Radicamos su queja. Código: {codigo}");
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'nowindow' AND status = "
                        "'undeliverable'",
                        1, 5),
              1);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE channel = 'email' AND recipient = "
                        "'ciudadana@correo-prueba.example.com' AND status = 'pending' AND body "
                        "LIKE '%Radicamos su queja. Código: {codigo}%' AND secret = 'QWERTY2345' "
                        "AND body NOT LIKE '%QWERTY2345%'",
                        1, 2),
              1);
    /* Without an email transport the copy waits; it is never sent on WhatsApp. */
    usleep(200000);
    ASSERT_EQ(
        wait_rows("SELECT count(*) FROM outbox WHERE channel = 'email' AND attempts = 0", 1, 1), 1);

    /* A status reported before the send's own result is applied once it is recorded. */
    queue("early", "{}", NULL, false);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'early' AND status = "
                        "'delivered'",
                        1, 5),
              1);

    /* With several sender threads, one citizen's messages still go in order. */
    for (int i = 0; i < 40; i++)
        queue(i % 2 ? "order" : "ok", "{}", NULL, false);
    ASSERT_EQ(wait_rows("SELECT count(*) FROM outbox WHERE recipient = 'order' AND status = 'sent'",
                        20, 5),
              20);
    ASSERT_EQ(atomic_load(&n_order), 20);
    for (int i = 1; i < 20; i++)
        ASSERT_TRUE(order_seen[i] > order_seen[i - 1]);

    vt_outbox_free(ob);
    vt_store_close(store);
    sqlite3_close(db);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    vt_config_cleanup(&cfg);
    VT_TEST_END();
}
