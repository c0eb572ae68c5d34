/* daemon.c - the daemon's lifetime (daemon.h): open the store, the outbox,
 * the live feed, the login workers and the HTTP server; register every route
 * (routes.c) and start the channels; serve until SIGTERM; then drain and
 * close in the order the threads below need.
 *
 * The threads and their owners (nothing else starts a thread):
 *  - main, the loop thread: every lws call (http/, api/live.c), the HTTP
 *    handlers, the app's reader, sniffer and rate limiters, the minute tick
 *    (refresh_due). Started by vt_daemon_main, stopped by SIGTERM/SIGINT.
 *  - the store's writer (store/store.c): the write connection, every
 *    transaction, and the store hooks below; its checkpointer (WAL).
 *  - the outbox's senders (outbox/outbox.c), each with its curl handles.
 *  - the login workers (api/auth.c): Argon2id checks off the loop.
 *  - the live feed's dashboard thread (api/live.c).
 *  - the live relay (store/relay.c), on PostgreSQL only: reads what the other
 *    instances sharing the database committed and queues it for the feed
 *    through the relay hooks below.
 *  - the learner (domain/learner.c): keeps the classifier's model equal to
 *    the store's active one and retrains it every classify.retrain_hours.
 *  - the channels' own: the email pollers (channels/email/poller.c) and the
 *    WhatsApp media fetchers (channels/whatsapp/media.c).
 * Cross-thread hand-offs go through queues and a wake-up (vt_http_wake,
 * lws_cancel_service), never shared mutable structs without a lock.
 */
#include "daemon.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/live.h"
#include "channels/channel.h"
#include "core/calendar.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "domain/casework.h"
#include "domain/classifier.h"
#include "domain/dependencias.h"
#include "domain/learner.h"
#include "domain/queue.h"
#include "domain/schedule.h"
#include "outbox/outbox.h"
#include "routes.h"
#include "store/relay.h"

struct daemon {
    struct vt_app app;
    char due_limit[11];            /* the due-soon window's last day at the last refresh */
    struct vt_store_job sweep_job; /* desistimiento sweep; one at a time */
    atomic_bool sweeping;
    const struct vt_sender *senders[8]; /* the channels that send; NULL-terminated */
    struct vt_relay *relay;             /* NULL on SQLite */
    struct vt_learner *learner;         /* NULL when classify.enabled is off */
};

/* Signal handlers can reach only this. */
static struct vt_http *volatile signal_target;

/* ---- store hooks (writer thread) ---- */

static void stamp(void *ctx, struct vt_item *it)
{
    struct vt_app *app = ctx;
    vt_item_stamp(app->cfg, it);
}

static void committed(void *ctx, struct vt_item *const *items, size_t n)
{
    struct vt_app *app = ctx;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; vt_app_channel_names[c]; c++)
            if (strcmp(items[i]->channel, vt_app_channel_names[c]) == 0)
                atomic_fetch_add(&app->intakes[c], 1);
    vt_live_publish(app->live, items, n);
}

static void changed(void *ctx, const struct vt_item_change *c, size_t n)
{
    struct vt_app *app = ctx;
    vt_live_publish_changes(app->live, c, n);
}

/* ---- live relay hooks (relay thread): the other instances' commits ---- */

static void relayed_items(void *ctx, struct vt_item *const *items, size_t n)
{
    struct vt_app *app = ctx;
    vt_live_publish(app->live, items, n); /* not this instance's intakes: no counter */
}

static void relayed_changes(void *ctx, const struct vt_item_change *c, size_t n)
{
    struct vt_app *app = ctx;
    vt_live_publish_changes(app->live, c, n);
}

static void relayed_wall(void *ctx, const char *code)
{
    struct vt_app *app = ctx;
    vt_live_publish_wall(app->live, code);
}

static void outbox_added(void *ctx)
{
    struct vt_app *app = ctx;
    vt_outbox_wake(app->outbox);
}

/* ---- due-date counts, refreshed every minute ---- */

static void due_window(const struct vt_config *cfg, char today[11], char limit[11])
{
    vt_date_t d = vt_date_from_unix_ms(vt_clock_now_ms());
    vt_date_format(d, today);
    vt_date_format(vt_calendar_add_business_days(&cfg->calendar, d, cfg->due_soon_days), limit);
}

/* Writer thread: items whose time to complete ran out become desistido, once
 * per refresh period across the instances on the database (schedule.h). */
static int sweep_run(struct vt_store_tx *tx, void *ctx)
{
    struct daemon *d = ctx;
    struct vt_store *store = d->app.store;
    int n = 0;
    int rc = vt_schedule_claim(tx, "desistimiento",
                               (int64_t)d->app.cfg->staff.due_refresh_seconds * 1000,
                               vt_store_instance(store), vt_store_shared(store));
    if (rc <= 0)
        return rc; /* another instance swept within the period */
    rc = vt_casework_sweep(vt_app_domain(&d->app), tx, vt_date_from_unix_ms(vt_store_tx_now(tx)),
                           &n);
    if (rc == 0 && n)
        vt_log(VT_LOG_INFO, "desistimiento", "items=%d", n);
    return rc;
}

static void sweep_done(struct vt_store_job *job)
{
    struct daemon *d = job->ctx;
    atomic_store(&d->sweeping, false);
}

/* Loop thread, every staff.due_refresh_seconds (the first a second after
 * start): the dashboard's due counts and the items a new day brought into the
 * due-soon window, for this instance's own subscribers; the desistimiento
 * sweep and the expired staff sessions, which write, once per period across
 * the instances (their jobs claim it first). */
static void refresh_due(void *ctx)
{
    struct daemon *d = ctx;
    struct vt_app *srv = &d->app;
    char today[11], limit[11];
    long long overdue, soon;
    due_window(srv->cfg, today, limit);
    if (vt_store_due_counts(srv->reader, today, limit, &overdue, &soon) == 0)
        vt_live_set_due_counts(srv->live, overdue, soon);
    /* Items the window reached since the last refresh (a new day began). */
    if (d->due_limit[0] && strcmp(limit, d->due_limit) > 0) {
        int64_t ids[256];
        size_t n = vt_queue_due_between(srv->reader, d->due_limit, limit, ids, 256);
        for (size_t i = 0; i < n; i++)
            vt_live_staff_due_soon(srv->live, ids[i]);
    }
    snprintf(d->due_limit, sizeof(d->due_limit), "%s", limit);
    if (!atomic_exchange(&d->sweeping, true)) {
        d->sweep_job = (struct vt_store_job){.run = sweep_run, .ctx = d, .done = sweep_done};
        if (vt_store_submit(srv->store, &d->sweep_job) != 0)
            atomic_store(&d->sweeping, false);
    }
    vt_auth_sweep(srv);
}

/* ---- lifetime ---- */

struct seed_job {
    const struct vt_config *cfg;
    size_t n;
};

/* Writer thread: the configured dependencias, on the first start. */
static int seed_dependencias(struct vt_store_tx *tx, void *ctx)
{
    struct seed_job *j = ctx;
    return vt_dependencias_seed(tx, j->cfg, &j->n);
}

static void on_signal(int sig)
{
    (void)sig;
    if (signal_target)
        vt_http_stop(signal_target);
}

/* One daemon per data directory: on SQLite the audit chain has one writer,
 * and on PostgreSQL the instance's name (vt_store_instance) is the data
 * directory's. */
static int lock_data_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/ventanilla.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd; /* held until the process exits */
}

/* Loop thread, each time another thread wakes it: the live feed's queue. */
static void drain_live(void *live)
{
    vt_live_drain(live);
}

static int start_http(struct vt_app *app, int port, char *err, size_t errlen)
{
    const struct vt_config *cfg = app->cfg;
    struct vt_http_options opt = {
        .listen = cfg->listen,
        .port = port,
        .trust_forwarded_for = cfg->trust_forwarded_for,
        .max_connections_per_ip = cfg->max_connections_per_ip,
        .header_timeout_seconds = cfg->header_timeout_seconds,
        .body_budget = (size_t)cfg->body_budget_bytes,
        .file_max_bytes = cfg->attachment_max_bytes,
        .protocol = vt_live_protocol(),
        .app = app,
    };
    if (!(app->http = vt_http_new(&opt, err, errlen)))
        return VT_EIO;
    vt_http_on_wake(app->http, drain_live, app->live);
    return vt_routes_register(app, app->http, err, errlen);
}

/* This instance's name without a data directory: server.instance_name, or
 * the host, listen address and port, which no other instance on the host can
 * share while this one runs. Empty (the store's default) with a data
 * directory; -1 when there is no stable name (port 0). */
static int instance_name(const struct vt_config *cfg, const char *data_dir, int port, char *out,
                         size_t cap)
{
    char host[128] = "";
    out[0] = '\0';
    if (cfg->instance_name[0]) {
        snprintf(out, cap, "%s", cfg->instance_name);
        return 0;
    }
    if (data_dir)
        return 0;
    if (port == 0)
        return -1;
    gethostname(host, sizeof(host) - 1);
    snprintf(out, cap, "%s:%s:%d", host, cfg->listen, port);
    return 0;
}

int vt_daemon_main(struct vt_config *cfg, const struct vt_store_place *place, int port)
{
    const char *data_dir = place->data_dir;
    char name[400];
    struct daemon *d = calloc(1, sizeof(*d));
    struct vt_app *app = d ? &d->app : NULL;
    char err[512] = "";
    int code = 1, lock_fd = -1;
    if (!d || sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto done;
    app->cfg = cfg;
    app->data_dir = data_dir;
    size_t ns = 0;
    for (const struct vt_channel *const *c = vt_channels; *c; c++)
        if ((*c)->sender && ns + 1 < sizeof(d->senders) / sizeof(d->senders[0]))
            d->senders[ns++] = (*c)->sender;
    app->domain = (struct vt_domain){cfg, d->senders};
    vt_log_set_level(cfg->log_level);
    if (data_dir && (lock_fd = lock_data_dir(data_dir)) < 0) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"another ventanilla uses %s\"", data_dir);
        goto done;
    }
    if (instance_name(cfg, data_dir, port, name, sizeof(name))) {
        vt_log(VT_LOG_ERROR, "start_failed",
               "error=\"without a data directory and on port 0 this instance has no stable "
               "name: set server.instance_name\"");
        goto done;
    }
    struct vt_store_options opt = {
        .place = *place,
        .batch_max = cfg->batch_max,
        .hooks = {.ctx = app,
                  .stamp = stamp,
                  .committed = committed,
                  .outbox_added = outbox_added,
                  .changed = changed},
        .instance_name = name,
    };
    if (vt_store_open(&opt, &app->store, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"%s\"", err);
        goto done;
    }
    if (!(app->reader = vt_store_reader_new(app->store)) || !(app->sniffer = vt_sniffer_new()) ||
        !(app->rl = vt_ratelimit_new(cfg->rate_limit_per_minute, cfg->rate_limit_burst)) ||
        !(app->track_rl =
              vt_ratelimit_new(cfg->track_rate_limit_per_minute, cfg->track_rate_limit_burst))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"cannot open readers\"");
        goto done;
    }
    app->intake = (struct vt_intake_ctx){cfg, app->reader, app->sniffer};
    struct seed_job sj = {cfg, 0};
    int lrc = vt_store_run(app->store, seed_dependencias, &sj);
    if (lrc) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"dependencias: %s\"", vt_strerror(lrc));
        goto done;
    }
    if (sj.n)
        vt_log(VT_LOG_INFO, "dependencias_created", "count=%zu", sj.n);
    lrc = vt_learner_first_model(cfg, app->store);
    if (lrc || vt_learner_start(cfg, app->store, &d->learner)) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"classifier: %s\"", vt_strerror(lrc));
        goto done;
    }
    /* The relay takes its position before the counts are read: another
     * instance's commit in the few milliseconds between them is counted
     * twice (read, then relayed) rather than missed by the feed. */
    struct vt_relay_hooks rh = {app, relayed_items, relayed_changes, relayed_wall};
    if (vt_relay_new(place, vt_store_instance(app->store), &rh, &d->relay)) {
        vt_log(VT_LOG_ERROR, "start_failed",
               "error=\"cannot reach the database for the live relay\"");
        goto done;
    }
    struct vt_snapshot snap;
    char today[11], limit[11];
    due_window(cfg, today, limit);
    if (vt_store_snapshot(app->reader, today, limit, &snap) ||
        !(app->live = vt_live_new(app, &snap))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"cannot read the dashboard counts\"");
        goto done;
    }
    if (!(app->outbox = vt_outbox_new(cfg, app->store)) || !(app->auth = vt_auth_new(app))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"out of memory\"");
        goto done;
    }
    if (start_http(app, port, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"%s\"", err);
        goto done;
    }
    /* The feed and the loop's wake are up: the relay may tell them now. */
    if (vt_relay_start(d->relay)) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"cannot start the live relay\"");
        goto done;
    }
    /* After the channels registered their transports. */
    int orc = vt_outbox_start(app->outbox);
    if (orc) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"outbox: %s\"", vt_strerror(orc));
        goto done;
    }
    signal_target = app->http;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The first refresh (and desistimiento sweep) right after start. */
    vt_http_tick(app->http, 1000, (long)cfg->staff.due_refresh_seconds * 1000, refresh_due, d);
    vt_log(VT_LOG_INFO, "listening", "port=%d address=%s items=%lld", vt_http_port(app->http),
           cfg->listen, (long long)snap.total);

    vt_http_run(app->http);

    vt_log(VT_LOG_INFO, "stopping", "reason=signal");
    signal_target = NULL;
    code = 0;
done:
    if (d) {
        /* The senders use the channels' transports and wait on the store, so
         * they stop first; the channels' own threads next; then the store,
         * which finishes every commit already handed to it (its hooks may
         * still wake the stopped outbox, which is freed only after). */
        vt_outbox_stop(app->outbox);
        vt_relay_free(d->relay); /* it queues to the feed and wakes the loop */
        d->relay = NULL;
        vt_auth_free(app->auth); /* its workers wait on the store */
        app->auth = NULL;
        vt_learner_stop(d->learner); /* it waits on the store */
        d->learner = NULL;
        if (app->http)
            vt_routes_stop(app);
        vt_store_close(app->store);
        app->store = NULL;
        vt_outbox_free(app->outbox);
        app->outbox = NULL;
        vt_http_free(app->http);
        vt_live_free(app->live);
        vt_store_reader_free(app->reader);
        vt_sniffer_free(app->sniffer);
        vt_ratelimit_free(app->rl);
        vt_ratelimit_free(app->track_rl);
        vt_classifier_shutdown();
        free(d);
    }
    if (lock_fd >= 0)
        close(lock_fd);
    if (code == 0)
        vt_log(VT_LOG_INFO, "stopped", "code=0");
    return code;
}
