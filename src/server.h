/* server.h - the daemon: one struct vt_server made by `ventanilla serve` and
 * passed down to every module that needs the others.
 *
 * Owns: the configuration, the store, the HTTP loop, the live feed, the loop
 * thread's read connection, sniffer and rate limiter, and the counters behind
 * /metrics.
 * Must not: hold request logic; handlers live in api.c and channels/.
 */
#ifndef VT_SERVER_H
#define VT_SERVER_H
#include <stdbool.h>

#include "core/config.h"
#include "http/http.h"
#include "domain/intake.h"
#include "core/item.h"
#include "api/live.h"
#include "outbox/outbox.h"
#include "store/store.h"

struct vt_server;

/* Runs the daemon until SIGTERM/SIGINT. Returns a process exit code. */
int vt_server_main(struct vt_config *cfg, const char *data_dir, int port);

const struct vt_config *vt_server_config(struct vt_server *srv);
struct vt_http *vt_server_http(struct vt_server *srv);
struct vt_live *vt_server_live(struct vt_server *srv);
/* Loop thread only. */
struct vt_store_reader *vt_server_reader(struct vt_server *srv);
const struct vt_intake_ctx *vt_server_intake(struct vt_server *srv);
/* The store and the outbox, for channels (any thread). */
struct vt_store *vt_server_store(struct vt_server *srv);
struct vt_outbox *vt_server_outbox(struct vt_server *srv);
/* Staff sessions (auth.h). */
struct vt_auth *vt_server_auth(struct vt_server *srv);
/* DATA_DIR, where attachments are stored. */
const char *vt_server_data_dir(struct vt_server *srv);
/* A channel's own state, kept by the server for it: set in the channel's
 * start(), read by its handlers, cleared in stop(). NULL when unset. */
void *vt_server_channel_data(struct vt_server *srv, const char *channel);
void vt_server_set_channel_data(struct vt_server *srv, const char *channel, void *data);

/* Runs run(tx, ctx) inside a store transaction (writer thread); once it has
 * committed or failed, complete(req, ctx, result) runs on the loop thread,
 * also when the client left (req->orphan set: answer nothing, free ctx).
 * Returns 0, or VT_ESHUTDOWN having answered 503 itself (complete not called,
 * ctx still the caller's). */
int vt_server_run(struct vt_http_request *req, int (*run)(struct vt_store_tx *tx, void *ctx),
                  void *ctx, void (*complete)(struct vt_http_request *req, void *ctx, int result));

/* Hands item to the store; when it is committed (or failed) render runs on
 * the loop thread with result 0 or VT_E*, unless the client left. The server
 * takes ownership of item and of keep (freed with vt_form_cleanup; it holds
 * attachment bytes the item borrows). Returns 0, or VT_ESHUTDOWN having
 * answered 503 itself. */
int vt_server_submit(struct vt_http_request *req, struct vt_item *item, struct vt_form *keep,
                     void (*render)(struct vt_http_request *req, struct vt_item *item, int result));

/* Rate limit for public intake: true to go on; false having answered 429. */
bool vt_server_rate_allow(struct vt_server *srv, struct vt_http_request *req);
/* Rate limit for public tracking lookups (/api/v1/track, /consulta), one
 * bucket per client address shared by both: true to go on; false with the
 * seconds to wait in *retry_after (the caller answers 429). Loop thread. */
bool vt_server_track_allow(struct vt_server *srv, const struct vt_http_request *req,
                           int *retry_after);
/* Standard answers, JSON under /api/ and /webhooks/ and HTML elsewhere. */
void vt_server_not_found(struct vt_http_request *req);
void vt_server_too_large(struct vt_http_request *req);
/* 503 with Retry-After: request bodies in flight fill server.body_budget_bytes. */
void vt_server_busy(struct vt_http_request *req);
/* 500: a handler finished without answering. */
void vt_server_internal_error(struct vt_http_request *req);
/* Every JSON error goes through these two: the body is built with cJSON, so
 * its length and its UTF-8 are always right. err's fields are copied. */
void vt_server_json_error(struct vt_http_request *req, const struct vt_intake_error *err);
/* The same from its parts: {"error": {"code", "field" (null when NULL or
 * ""), "message" (Spanish)}}. */
void vt_server_error(struct vt_http_request *req, int status, const char *code, const char *field,
                     const char *message);
/* 503 with Retry-After: the store could not read or write. */
void vt_server_store_failed(struct vt_http_request *req);
/* Answers o (owned, freed here) as JSON with status. */
struct cJSON;
void vt_server_json(struct vt_http_request *req, int status, struct cJSON *o);
/* True when req's body is declared JSON; else answers 415 and returns false.
 * Staff endpoints take JSON only: a cross-site form cannot send
 * application/json without a CORS preflight we never grant (login CSRF). */
bool vt_server_require_json(struct vt_http_request *req);
/* Counts a response for /metrics (loop thread). */
void vt_server_count_response(struct vt_server *srv, int status);
/* The Prometheus text of /metrics; caller frees. */
char *vt_server_metrics_text(struct vt_server *srv);

#endif
