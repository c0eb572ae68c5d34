/* server.c - the daemon's lifetime: start, serve, drain on SIGTERM, stop
 * (server.h). Also the hooks the store calls at commit time and /metrics.
 *
 * Threads: main runs the lws loop (the loop thread); the store runs its
 * writer thread. Counters touched by both are atomics.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/attach.h"
#include "api/auth.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "domain/casework.h"
#include "domain/channel.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "domain/queue.h"
#include "core/ratelimit.h"

static const char *const channel_names[] = {"web", "email", "whatsapp", "staff", NULL};

struct vt_server {
    struct vt_config *cfg;
    char *data_dir;
    struct vt_store *store;
    struct vt_http *http;
    struct vt_live *live;
    struct vt_store_reader *reader; /* loop thread */
    struct vt_sniffer *sniffer;     /* loop thread */
    struct vt_ratelimit *rl;        /* loop thread */
    struct vt_ratelimit *track_rl;  /* public tracking lookups; loop thread */
    struct vt_intake_ctx intake;
    struct vt_outbox *outbox;
    struct vt_auth *auth;
    void *channel_data[4]; /* by channel_names */
    lws_sorted_usec_list_t due_timer;
    char due_limit[11];            /* the due-soon window's last day at the last refresh */
    struct vt_store_job sweep_job; /* desistimiento sweep; one at a time */
    atomic_bool sweeping;

    atomic_ullong intakes[4];        /* by channel_names */
    unsigned long long responses[6]; /* by status class 1xx..5xx; loop thread */
};

/* Signal handlers can reach only this. */
static struct vt_http *volatile signal_target;

const struct vt_config *vt_server_config(struct vt_server *srv)
{
    return srv->cfg;
}
struct vt_http *vt_server_http(struct vt_server *srv)
{
    return srv->http;
}
struct vt_live *vt_server_live(struct vt_server *srv)
{
    return srv->live;
}
struct vt_store_reader *vt_server_reader(struct vt_server *srv)
{
    return srv->reader;
}
const struct vt_intake_ctx *vt_server_intake(struct vt_server *srv)
{
    return &srv->intake;
}
struct vt_store *vt_server_store(struct vt_server *srv)
{
    return srv->store;
}
struct vt_outbox *vt_server_outbox(struct vt_server *srv)
{
    return srv->outbox;
}
struct vt_auth *vt_server_auth(struct vt_server *srv)
{
    return srv->auth;
}
const char *vt_server_data_dir(struct vt_server *srv)
{
    return srv->data_dir;
}

static int channel_index(const char *channel)
{
    for (int c = 0; channel_names[c]; c++)
        if (strcmp(channel_names[c], channel) == 0)
            return c;
    return -1;
}

void *vt_server_channel_data(struct vt_server *srv, const char *channel)
{
    int c = channel_index(channel);
    return c < 0 ? NULL : srv->channel_data[c];
}

void vt_server_set_channel_data(struct vt_server *srv, const char *channel, void *data)
{
    int c = channel_index(channel);
    if (c >= 0)
        srv->channel_data[c] = data;
}

/* ---- store hooks (writer thread) ---- */

static void stamp(void *ctx, struct vt_item *it)
{
    struct vt_server *srv = ctx;
    vt_item_stamp(srv->cfg, it);
}

static void committed(void *ctx, struct vt_item *const *items, size_t n)
{
    struct vt_server *srv = ctx;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; channel_names[c]; c++)
            if (strcmp(items[i]->channel, channel_names[c]) == 0)
                atomic_fetch_add(&srv->intakes[c], 1);
    vt_live_publish(srv->live, items, n);
}

static void changed(void *ctx, const struct vt_item_change *c, size_t n)
{
    struct vt_server *srv = ctx;
    vt_live_publish_changes(srv->live, c, n);
}

static void outbox_added(void *ctx)
{
    struct vt_server *srv = ctx;
    vt_outbox_wake(srv->outbox);
}

/* ---- submissions ---- */

struct pending {
    struct vt_store_job job;
    struct vt_item *item;
    struct vt_form keep;
    void (*render)(struct vt_http_request *, struct vt_item *, int);
    struct vt_http_request *req;
};

static void job_done(struct vt_store_job *job)
{
    struct pending *p = job->ctx;
    p->req->result = job->result;
    vt_http_wake(p->req); /* on_complete runs on the loop thread */
}

static void submit_complete(struct vt_http_request *req)
{
    struct pending *p = req->user;
    if (!req->orphan) {
        if (req->result == 0)
            vt_log(VT_LOG_DEBUG, "intake", "radicado=%s channel=%s kind=%s attachments=%zu",
                   p->item->radicado, p->item->channel, p->item->kind, p->item->n_att);
        else
            vt_log(VT_LOG_ERROR, "intake_failed", "channel=%s error=\"%s\"", p->item->channel,
                   vt_strerror(req->result));
        p->render(req, p->item, req->result);
    }
    vt_item_free(p->item);
    vt_form_cleanup(&p->keep);
    free(p);
    req->user = NULL;
}

static void unavailable(struct vt_http_request *req)
{
    vt_http_header(req, "Retry-After", "5");
    vt_server_error(req, 503, "unavailable", NULL,
                    "El servicio se está reiniciando. Intente de nuevo en un momento.");
}

int vt_server_submit(struct vt_http_request *req, struct vt_item *item, struct vt_form *keep,
                     void (*render)(struct vt_http_request *, struct vt_item *, int))
{
    struct vt_server *srv = req->srv;
    struct pending *p = calloc(1, sizeof(*p));
    if (!p || vt_http_stopping(srv->http)) {
        free(p);
        vt_item_free(item);
        vt_form_cleanup(keep);
        unavailable(req);
        return VT_ESHUTDOWN;
    }
    p->item = item;
    if (keep) {
        p->keep = *keep;
        memset(keep, 0, sizeof(*keep));
    }
    p->render = render;
    p->req = req;
    p->job.item = item;
    p->job.done = job_done;
    p->job.ctx = p;
    req->user = p;
    vt_http_defer(req, submit_complete);
    if (vt_store_submit(srv->store, &p->job) != 0) {
        /* Not queued: answer now through the same path. */
        req->result = VT_ESHUTDOWN;
        vt_http_wake(req);
    }
    return 0;
}

struct run_pending {
    struct vt_store_job job;
    int (*run)(struct vt_store_tx *, void *);
    void *ctx;
    void (*complete)(struct vt_http_request *, void *, int);
    struct vt_http_request *req;
};

static void run_done(struct vt_store_job *job)
{
    struct run_pending *p = job->ctx;
    p->req->result = job->result;
    vt_http_wake(p->req);
}

static int run_trampoline(struct vt_store_tx *tx, void *ctx);

static void run_complete(struct vt_http_request *req)
{
    struct run_pending *p = req->user;
    req->user = NULL;
    p->complete(req, p->ctx, req->result);
    free(p);
}

int vt_server_run(struct vt_http_request *req, int (*run)(struct vt_store_tx *tx, void *ctx),
                  void *ctx, void (*complete)(struct vt_http_request *req, void *ctx, int result))
{
    struct vt_server *srv = req->srv;
    struct run_pending *p = calloc(1, sizeof(*p));
    if (!p || vt_http_stopping(srv->http)) {
        free(p);
        unavailable(req);
        return VT_ESHUTDOWN;
    }
    p->run = run;
    p->ctx = ctx;
    p->complete = complete;
    p->req = req;
    p->job.run = run_trampoline;
    p->job.ctx = p;
    p->job.done = run_done;
    req->user = p;
    vt_http_defer(req, run_complete);
    if (vt_store_submit(srv->store, &p->job) != 0) {
        req->result = VT_ESHUTDOWN;
        vt_http_wake(req);
    }
    return 0;
}

static int run_trampoline(struct vt_store_tx *tx, void *ctx)
{
    struct run_pending *p = ctx;
    return p->run(tx, p->ctx);
}

/* ---- standard answers ---- */

static bool wants_json(const struct vt_http_request *req)
{
    return strncmp(req->path, "/api/", 5) == 0 || strncmp(req->path, "/webhooks/", 10) == 0;
}

static void page_error(struct vt_http_request *req, int status, const char *title, const char *text)
{
    struct vt_buf b = {0};
    vt_buf_printf(&b,
                  "<!doctype html><html lang=\"es-CO\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>%s</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
                  "<body><main><h1>%s</h1><p>%s</p><p><a href=\"/\">Ir al formulario</a></p>"
                  "</main></body></html>",
                  title, title, text);
    vt_http_respond(req, status, "text/html; charset=utf-8", b.data, b.len);
    vt_buf_cleanup(&b);
}

void vt_server_json_error(struct vt_http_request *req, const struct vt_intake_error *err)
{
    char *s = vt_intake_error_json(err);
    vt_http_respond(req, err->status, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
}

void vt_server_error(struct vt_http_request *req, int status, const char *code, const char *field,
                     const char *message)
{
    struct vt_intake_error e = {status, code, "", ""};
    snprintf(e.field, sizeof(e.field), "%s", field ? field : "");
    snprintf(e.message, sizeof(e.message), "%s", message);
    vt_server_json_error(req, &e);
}

void vt_server_store_failed(struct vt_http_request *req)
{
    vt_http_header(req, "Retry-After", "5");
    vt_server_error(req, 503, "unavailable", NULL,
                    "No pudimos leer o guardar los datos. Intente de nuevo.");
}

void vt_server_json(struct vt_http_request *req, int status, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    vt_http_respond(req, status, "application/json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    cJSON_Delete(o);
}

void vt_server_not_found(struct vt_http_request *req)
{
    if (wants_json(req)) {
        struct vt_intake_error e = {404, "not_found", "", "No existe esa dirección."};
        vt_server_json_error(req, &e);
    } else {
        page_error(req, 404, "Página no encontrada", "La dirección que abrió no existe.");
    }
}

void vt_server_too_large(struct vt_http_request *req)
{
    if (wants_json(req)) {
        struct vt_intake_error e = {413, "too_large", "body", ""};
        snprintf(e.message, sizeof(e.message),
                 "La solicitud es demasiado grande. Los archivos pueden pesar hasta %lld MB.",
                 req->srv->cfg->attachment_max_bytes / (1024 * 1024));
        vt_server_json_error(req, &e);
    } else {
        page_error(req, 413, "Archivos demasiado grandes",
                   "Lo que envió supera el tamaño permitido. Adjunte archivos más livianos e "
                   "intente de nuevo.");
    }
}

void vt_server_busy(struct vt_http_request *req)
{
    vt_http_header(req, "Retry-After", "5");
    if (wants_json(req))
        vt_server_error(req, 503, "busy", NULL,
                        "El servicio está recibiendo muchos datos en este momento. Intente de "
                        "nuevo en unos segundos.");
    else
        page_error(req, 503, "Servicio ocupado",
                   "El servicio está recibiendo muchos datos en este momento. Intente de nuevo "
                   "en unos segundos: lo que escribió no se guardó.");
}

void vt_server_internal_error(struct vt_http_request *req)
{
    if (wants_json(req))
        vt_server_error(req, 500, "internal", NULL,
                        "Ocurrió un error interno. Intente de nuevo en un momento.");
    else
        page_error(req, 500, "Error interno",
                   "Ocurrió un error interno. Intente de nuevo en un momento.");
}

bool vt_server_rate_allow(struct vt_server *srv, struct vt_http_request *req)
{
    int retry;
    if (vt_ratelimit_take(srv->rl, req->peer, vt_clock_now_ms(), &retry))
        return true;
    char ra[16];
    snprintf(ra, sizeof(ra), "%d", retry);
    vt_http_header(req, "Retry-After", ra);
    vt_log(VT_LOG_WARN, "rate_limited", "path=%s", req->path);
    if (wants_json(req)) {
        struct vt_intake_error e = {429, "rate_limited", "", ""};
        snprintf(e.message, sizeof(e.message),
                 "Ha enviado muchas solicitudes seguidas. Espere %d segundos e intente de nuevo.",
                 retry);
        vt_server_json_error(req, &e);
    } else {
        char text[200];
        snprintf(text, sizeof(text),
                 "Ha enviado muchas solicitudes seguidas. Espere %d segundos e intente de nuevo.",
                 retry);
        page_error(req, 429, "Espere un momento", text);
    }
    return false;
}

bool vt_server_track_allow(struct vt_server *srv, const struct vt_http_request *req,
                           int *retry_after)
{
    return vt_ratelimit_take(srv->track_rl, req->peer, vt_clock_now_ms(), retry_after);
}

bool vt_server_require_json(struct vt_http_request *req)
{
    if (vt_http_content_is(req, "application/json"))
        return true;
    struct vt_intake_error e = {415, "unsupported_media_type", "body",
                                "Envíe JSON (Content-Type: application/json)."};
    vt_server_json_error(req, &e);
    return false;
}

void vt_server_count_response(struct vt_server *srv, int status)
{
    int c = status / 100;
    if (c >= 1 && c <= 5)
        srv->responses[c]++;
}

/* ---- /metrics ---- */

char *vt_server_metrics_text(struct vt_server *srv)
{
    struct vt_buf b = {0};
    struct vt_store_stats st;
    vt_store_stats(srv->store, &st);
    vt_buf_puts(&b, "# HELP ventanilla_intakes_total Items committed, by channel.\n"
                    "# TYPE ventanilla_intakes_total counter\n");
    for (int c = 0; channel_names[c]; c++)
        vt_buf_printf(&b, "ventanilla_intakes_total{channel=\"%s\"} %llu\n", channel_names[c],
                      (unsigned long long)atomic_load(&srv->intakes[c]));
    static const char *batch_le[] = {"1", "4", "16", "64", "256", "1024", "4096", "+Inf"};
    static const char *lat_le[] = {"0.001", "0.002", "0.005", "0.01",
                                   "0.025", "0.05",  "0.1",   "+Inf"};
    vt_buf_puts(&b, "# HELP ventanilla_commit_batch_size Jobs per group commit.\n"
                    "# TYPE ventanilla_commit_batch_size histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < 8; i++) {
        cum += st.batch_hist[i];
        vt_buf_printf(&b, "ventanilla_commit_batch_size_bucket{le=\"%s\"} %llu\n", batch_le[i],
                      cum);
    }
    vt_buf_printf(
        &b, "ventanilla_commit_batch_size_sum %llu\nventanilla_commit_batch_size_count %llu\n",
        (unsigned long long)st.jobs, (unsigned long long)st.batches);
    vt_buf_printf(&b,
                  "# HELP ventanilla_commit_batches_total Group commits.\n"
                  "# TYPE ventanilla_commit_batches_total counter\n"
                  "ventanilla_commit_batches_total %llu\n",
                  (unsigned long long)st.batches);
    vt_buf_puts(&b, "# HELP ventanilla_commit_latency_seconds Time from BEGIN to durable COMMIT.\n"
                    "# TYPE ventanilla_commit_latency_seconds histogram\n");
    cum = 0;
    for (int i = 0; i < 8; i++) {
        cum += st.latency_hist[i];
        vt_buf_printf(&b, "ventanilla_commit_latency_seconds_bucket{le=\"%s\"} %llu\n", lat_le[i],
                      cum);
    }
    vt_buf_printf(&b,
                  "ventanilla_commit_latency_seconds_sum %.6f\n"
                  "ventanilla_commit_latency_seconds_count %llu\n",
                  st.latency_sum, (unsigned long long)st.batches);
    vt_buf_printf(&b,
                  "# HELP ventanilla_websocket_clients Connected /live clients.\n"
                  "# TYPE ventanilla_websocket_clients gauge\n"
                  "ventanilla_websocket_clients %d\n",
                  vt_live_clients(srv->live));
    struct vt_count oc[16];
    size_t n_oc = 0;
    if (vt_outbox_counts(srv->reader, oc, 16, &n_oc) == 0) {
        vt_buf_puts(&b, "# HELP ventanilla_outbox_messages Outbound messages by delivery status.\n"
                        "# TYPE ventanilla_outbox_messages gauge\n");
        for (size_t i = 0; i < n_oc; i++)
            vt_buf_printf(&b, "ventanilla_outbox_messages{status=\"%s\"} %lld\n", oc[i].key,
                          (long long)oc[i].n);
    }
    struct vt_http_stats hs;
    vt_http_stats(srv->http, &hs);
    vt_buf_printf(&b,
                  "# HELP ventanilla_http_body_bytes Request body bytes held in memory.\n"
                  "# TYPE ventanilla_http_body_bytes gauge\n"
                  "ventanilla_http_body_bytes %zu\n"
                  "# HELP ventanilla_http_body_budget_bytes server.body_budget_bytes.\n"
                  "# TYPE ventanilla_http_body_budget_bytes gauge\n"
                  "ventanilla_http_body_budget_bytes %zu\n"
                  "# HELP ventanilla_http_busy_total Requests answered 503: their bodies would "
                  "pass the budget.\n"
                  "# TYPE ventanilla_http_busy_total counter\n"
                  "ventanilla_http_busy_total %llu\n"
                  "# HELP ventanilla_connections_refused_total Connections closed when accepted: "
                  "their address held server.max_connections_per_ip.\n"
                  "# TYPE ventanilla_connections_refused_total counter\n"
                  "ventanilla_connections_refused_total %llu\n",
                  hs.body_bytes, hs.body_budget, hs.busy, hs.refused);
    vt_buf_puts(&b, "# HELP ventanilla_http_responses_total HTTP responses by status class.\n"
                    "# TYPE ventanilla_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        vt_buf_printf(&b, "ventanilla_http_responses_total{code=\"%dxx\"} %llu\n", c,
                      srv->responses[c]);
    return vt_buf_steal(&b, NULL);
}

/* ---- due-date counts, refreshed every minute ---- */

static void due_window(const struct vt_config *cfg, char today[11], char limit[11])
{
    vt_date_t d = vt_date_from_unix_ms(vt_clock_now_ms());
    vt_date_format(d, today);
    vt_date_format(vt_calendar_add_business_days(&cfg->calendar, d, cfg->due_soon_days), limit);
}

/* Writer thread: items whose time to complete ran out become desistido. */
static int sweep_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_server *srv = ctx;
    int n = 0;
    int rc = vt_casework_sweep(srv, tx, vt_date_from_unix_ms(vt_store_tx_now(tx)), &n);
    if (rc == 0 && n)
        vt_log(VT_LOG_INFO, "desistimiento", "items=%d", n);
    return rc;
}

static void sweep_done(struct vt_store_job *job)
{
    struct vt_server *srv = job->ctx;
    atomic_store(&srv->sweeping, false);
}

static void refresh_due(lws_sorted_usec_list_t *sul)
{
    struct vt_server *srv = lws_container_of(sul, struct vt_server, due_timer);
    char today[11], limit[11];
    long long overdue, soon;
    due_window(srv->cfg, today, limit);
    if (vt_store_due_counts(srv->reader, today, limit, &overdue, &soon) == 0)
        vt_live_set_due_counts(srv->live, overdue, soon);
    /* Items the window reached since the last refresh (a new day began). */
    if (srv->due_limit[0] && strcmp(limit, srv->due_limit) > 0) {
        int64_t ids[256];
        size_t n = vt_queue_due_between(srv->reader, srv->due_limit, limit, ids, 256);
        for (size_t i = 0; i < n; i++)
            vt_live_staff_due_soon(srv->live, ids[i]);
    }
    snprintf(srv->due_limit, sizeof(srv->due_limit), "%s", limit);
    if (!atomic_exchange(&srv->sweeping, true)) {
        srv->sweep_job = (struct vt_store_job){.run = sweep_run, .ctx = srv, .done = sweep_done};
        if (vt_store_submit(srv->store, &srv->sweep_job) != 0)
            atomic_store(&srv->sweeping, false);
    }
    lws_sul_schedule(vt_http_context(srv->http), 0, &srv->due_timer, refresh_due,
                     (lws_usec_t)srv->cfg->staff.due_refresh_seconds * LWS_US_PER_SEC);
}

/* ---- lifetime ---- */

static void on_signal(int sig)
{
    (void)sig;
    if (signal_target)
        vt_http_stop(signal_target);
}

/* One daemon per data directory: the audit chain has one writer. */
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

static int start_http(struct vt_server *srv, int port, char *err, size_t errlen);

int vt_server_main(struct vt_config *cfg, const char *data_dir, int port)
{
    struct vt_server *srv = calloc(1, sizeof(*srv));
    char err[512] = "";
    int code = 1, lock_fd = -1;
    if (!srv || sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto done;
    srv->cfg = cfg;
    if (!(srv->data_dir = strdup(data_dir)))
        goto done;
    vt_log_set_level(cfg->log_level);
    if ((lock_fd = lock_data_dir(data_dir)) < 0) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"another ventanilla uses %s\"", data_dir);
        goto done;
    }
    struct vt_store_options opt = {
        .data_dir = data_dir,
        .batch_max = cfg->batch_max,
        .hooks = {.ctx = srv,
                  .stamp = stamp,
                  .committed = committed,
                  .outbox_added = outbox_added,
                  .changed = changed},
    };
    if (vt_store_open(&opt, &srv->store, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"%s\"", err);
        goto done;
    }
    if (!(srv->reader = vt_store_reader_new(srv->store)) || !(srv->sniffer = vt_sniffer_new()) ||
        !(srv->rl = vt_ratelimit_new(cfg->rate_limit_per_minute, cfg->rate_limit_burst)) ||
        !(srv->track_rl =
              vt_ratelimit_new(cfg->track_rate_limit_per_minute, cfg->track_rate_limit_burst))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"cannot open readers\"");
        goto done;
    }
    srv->intake = (struct vt_intake_ctx){cfg, srv->reader, srv->sniffer};
    struct vt_snapshot snap;
    char today[11], limit[11];
    due_window(cfg, today, limit);
    if (vt_store_snapshot(srv->reader, today, limit, &snap) ||
        !(srv->live = vt_live_new(srv, &snap))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"cannot read the dashboard counts\"");
        goto done;
    }
    if (!(srv->outbox = vt_outbox_new(cfg, srv->store)) || !(srv->auth = vt_auth_new(srv))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"out of memory\"");
        goto done;
    }
    if (start_http(srv, port, err, sizeof(err))) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"%s\"", err);
        goto done;
    }
    /* After the channels registered their transports. */
    int orc = vt_outbox_start(srv->outbox);
    if (orc) {
        vt_log(VT_LOG_ERROR, "start_failed", "error=\"outbox: %s\"", vt_strerror(orc));
        goto done;
    }
    signal_target = srv->http;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The first refresh (and desistimiento sweep) right after start. */
    lws_sul_schedule(vt_http_context(srv->http), 0, &srv->due_timer, refresh_due, LWS_US_PER_SEC);
    vt_log(VT_LOG_INFO, "listening", "port=%d address=%s items=%lld", vt_http_port(srv->http),
           cfg->listen, (long long)snap.total);

    vt_http_run(srv->http);

    vt_log(VT_LOG_INFO, "stopping", "reason=signal");
    signal_target = NULL;
    code = 0;
done:
    if (srv) {
        /* The senders use the channels' transports and wait on the store, so
         * they stop first; the channels' own threads next; then the store,
         * which finishes every commit already handed to it (its hooks may
         * still wake the stopped outbox, which is freed only after). */
        vt_outbox_stop(srv->outbox);
        vt_auth_free(srv->auth); /* its worker waits on the store */
        srv->auth = NULL;
        for (const struct vt_channel *const *c = vt_channels; *c; c++)
            if ((*c)->stop && srv->http)
                (*c)->stop(srv);
        vt_store_close(srv->store);
        srv->store = NULL;
        vt_outbox_free(srv->outbox);
        srv->outbox = NULL;
        vt_http_free(srv->http);
        vt_live_free(srv->live);
        vt_store_reader_free(srv->reader);
        vt_sniffer_free(srv->sniffer);
        vt_ratelimit_free(srv->rl);
        vt_ratelimit_free(srv->track_rl);
        free(srv->data_dir);
        free(srv);
    }
    if (lock_fd >= 0)
        close(lock_fd);
    if (code == 0)
        vt_log(VT_LOG_INFO, "stopped", "code=0");
    return code;
}

#include "api/api.h"
#include "api/staff_api.h"
#include "api/survey_api.h"
#include "api/hearing_api.h"
#include "domain/report.h"

/* VT_ROUTE_STAFF POSTs, from their headers: the session and its CSRF token. */
static bool staff_gate(struct vt_http_request *req)
{
    struct vt_staff who;
    return vt_auth_check(req, true, &who) == 0;
}

static int start_http(struct vt_server *srv, int port, char *err, size_t errlen)
{
    if (!(srv->http = vt_http_new(srv, srv->cfg->listen, port, err, errlen)))
        return VT_EIO;
    vt_http_set_gate(srv->http, staff_gate);
    vt_api_register(srv->http);
    if (vt_auth_register(srv->http) || vt_staff_api_register(srv->http) ||
        vt_report_register(srv->http) || vt_survey_api_register(srv->http) ||
        vt_hearing_api_register(srv->http)) {
        snprintf(err, errlen, "too many routes");
        return VT_ECONFIG;
    }
    for (const struct vt_channel *const *c = vt_channels; *c; c++)
        if ((*c)->start(srv, srv->http)) {
            snprintf(err, errlen, "channel %s did not start", (*c)->name);
            return VT_ECONFIG;
        }
    return 0;
}
