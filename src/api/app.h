/* app.h - the application's shared context: what the API handlers and the
 * channels reach the rest of the daemon through. One struct vt_app is made
 * by the daemon (src/daemon.c) at start; every request carries it
 * (req->app) and so does every channel's start().
 *
 * Owns: nothing it did not get: the daemon opens the store, the outbox, the
 * HTTP server, the live feed and the login workers, and closes them. Here
 * are the accessors, the two ways a handler reaches the store's writer
 * (vt_app_submit for an intake, vt_app_run for any other change) and the
 * public rate limits.
 * Must not: hold request logic (handlers live in api/ and channels/).
 *
 * Threads: the fields are set before the loop starts and read-only after;
 * the reader, sniffer and rate limiters belong to the loop thread; the
 * intake counters are atomics bumped by the writer thread.
 */
#ifndef VT_APP_H
#define VT_APP_H
#include <stdatomic.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/item.h"
#include "domain/domain.h"
#include "domain/intake.h"
#include "http/http.h"
#include "store/store.h"

struct vt_live;
struct vt_outbox;
struct vt_auth;
struct vt_ratelimit;
struct vt_sniffer;

/* The channels counted in /metrics, and whose state the app keeps. */
#define VT_APP_CHANNELS 4

struct vt_app {
    const struct vt_config *cfg;
    const char *data_dir; /* SQLite: holds ventanilla.db, audit.key and attachments/;
                             PostgreSQL: NULL when none was given */
    struct vt_store *store;
    struct vt_http *http;
    struct vt_live *live;
    struct vt_outbox *outbox;
    struct vt_auth *auth;
    struct vt_domain domain;        /* cfg and the channels that send */
    struct vt_store_reader *reader; /* loop thread */
    struct vt_sniffer *sniffer;     /* loop thread */
    struct vt_ratelimit *rl;        /* public intake; loop thread */
    struct vt_ratelimit *track_rl;  /* public tracking lookups; loop thread */
    struct vt_intake_ctx intake;
    void *channel_data[VT_APP_CHANNELS]; /* by vt_app_channel_names */
    atomic_ullong intakes[VT_APP_CHANNELS];
};

/* "web", "email", "whatsapp", "staff", NULL. */
extern const char *const vt_app_channel_names[];

static inline const struct vt_config *vt_app_config(const struct vt_app *app)
{
    return app->cfg;
}
/* The shared context of the domain (casework, delivery, surveys). */
static inline const struct vt_domain *vt_app_domain(const struct vt_app *app)
{
    return &app->domain;
}

static inline struct vt_store *vt_app_store(struct vt_app *app)
{
    return app->store;
}
static inline struct vt_http *vt_app_http(struct vt_app *app)
{
    return app->http;
}
static inline struct vt_live *vt_app_live(struct vt_app *app)
{
    return app->live;
}
static inline struct vt_outbox *vt_app_outbox(struct vt_app *app)
{
    return app->outbox;
}
static inline struct vt_auth *vt_app_auth(struct vt_app *app)
{
    return app->auth;
}
/* The loop thread's read connection. */
static inline struct vt_store_reader *vt_app_reader(struct vt_app *app)
{
    return app->reader;
}
static inline const struct vt_intake_ctx *vt_app_intake(struct vt_app *app)
{
    return &app->intake;
}

/* A channel's own state, kept for it: set in the channel's start(), read by
 * its handlers, cleared in stop(). NULL when unset. */
void *vt_app_channel_data(struct vt_app *app, const char *channel);
void vt_app_set_channel_data(struct vt_app *app, const char *channel, void *data);

/* Runs run(tx, ctx) inside a store transaction (writer thread); once it has
 * committed or failed, complete(req, ctx, result) runs on the loop thread,
 * also when the client left (req->orphan set: answer nothing, free ctx).
 * Returns 0, or VT_ESHUTDOWN having answered 503 itself (complete not called,
 * ctx still the caller's). */
int vt_app_run(struct vt_http_request *req, int (*run)(struct vt_store_tx *tx, void *ctx),
               void *ctx, void (*complete)(struct vt_http_request *req, void *ctx, int result));

/* Hands item to the store; when it is committed (or failed) render runs on
 * the loop thread with result 0 or VT_E*, unless the client left. Takes
 * ownership of item and of keep (freed with vt_form_cleanup; it holds
 * attachment bytes the item borrows). Returns 0, or VT_ESHUTDOWN having
 * answered 503 itself. */
int vt_app_submit(struct vt_http_request *req, struct vt_item *item, struct vt_form *keep,
                  void (*render)(struct vt_http_request *req, struct vt_item *item, int result));

/* The gate of VT_ROUTE_RATE_LIMITED routes (public intake): true to go on;
 * false having answered 429 with Retry-After. */
bool vt_app_rate_gate(struct vt_http_request *req);
/* Rate limit for public tracking lookups (/api/v1/track, /consulta), one
 * bucket per client address shared by both: true to go on; false with the
 * seconds to wait in *retry_after (the caller answers 429). Loop thread. */
bool vt_app_track_allow(struct vt_app *app, const struct vt_http_request *req, int *retry_after);

/* Answers an intake's error (its status, code, field and message). */
void vt_app_intake_error(struct vt_http_request *req, const struct vt_intake_error *err);

#endif
