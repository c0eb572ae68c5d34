/* app.c - the application's shared context (app.h): channel state, the
 * two ways to the store's writer and the public rate limits. */
#include "api/app.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "http/reply.h"

const char *const vt_app_channel_names[] = {"web", "email", "whatsapp", "staff", NULL};

static int channel_index(const char *channel)
{
    for (int c = 0; vt_app_channel_names[c]; c++)
        if (strcmp(vt_app_channel_names[c], channel) == 0)
            return c;
    return -1;
}

void *vt_app_channel_data(struct vt_app *app, const char *channel)
{
    int c = channel_index(channel);
    return c < 0 ? NULL : app->channel_data[c];
}

void vt_app_set_channel_data(struct vt_app *app, const char *channel, void *data)
{
    int c = channel_index(channel);
    if (c >= 0)
        app->channel_data[c] = data;
}

void vt_app_intake_error(struct vt_http_request *req, const struct vt_intake_error *err)
{
    vt_reply_error(req, err->status, err->code, err->field, err->message);
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
    vt_reply_error(req, 503, "unavailable", NULL,
                   "El servicio se está reiniciando. Intente de nuevo en un momento.");
}

int vt_app_submit(struct vt_http_request *req, struct vt_item *item, struct vt_form *keep,
                  void (*render)(struct vt_http_request *, struct vt_item *, int))
{
    struct vt_app *app = req->app;
    struct pending *p = calloc(1, sizeof(*p));
    if (!p || vt_http_stopping(app->http)) {
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
    if (vt_store_submit(app->store, &p->job) != 0) {
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

int vt_app_run(struct vt_http_request *req, int (*run)(struct vt_store_tx *tx, void *ctx),
               void *ctx, void (*complete)(struct vt_http_request *req, void *ctx, int result))
{
    struct vt_app *app = req->app;
    struct run_pending *p = calloc(1, sizeof(*p));
    if (!p || vt_http_stopping(app->http)) {
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
    if (vt_store_submit(app->store, &p->job) != 0) {
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

/* ---- public rate limits ---- */

bool vt_app_rate_gate(struct vt_http_request *req)
{
    struct vt_app *app = req->app;
    int retry;
    if (vt_ratelimit_take(app->rl, req->peer, vt_clock_now_ms(), &retry))
        return true;
    char ra[16];
    snprintf(ra, sizeof(ra), "%d", retry);
    vt_http_header(req, "Retry-After", ra);
    vt_log(VT_LOG_WARN, "rate_limited", "path=%s", req->path);
    char text[200];
    snprintf(text, sizeof(text),
             "Ha enviado muchas solicitudes seguidas. Espere %d segundos e intente de nuevo.",
             retry);
    vt_reply_problem(req, 429, "rate_limited", "Espere un momento", text);
    return false;
}

bool vt_app_track_allow(struct vt_app *app, const struct vt_http_request *req, int *retry_after)
{
    return vt_ratelimit_take(app->track_rl, req->peer, vt_clock_now_ms(), retry_after);
}
