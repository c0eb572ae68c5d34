/* http.h - the HTTP side of the libwebsockets loop: routing, request bodies,
 * responses, and deferred responses that another thread completes.
 *
 * Owns: the lws context and every HTTP connection. All lws calls happen on the
 * loop thread (vt_http_run); other threads only call vt_http_wake().
 * Must not: know what a route does, or any domain: handlers live in api/ and
 * channels/, and the application's context is an opaque pointer to it.
 *
 * Request lifecycle:
 *
 *   headers --route found--> reading body --complete--> handler
 *   handler --vt_http_respond--> writing --done--> (keep-alive) next request
 *   handler --vt_http_defer--> waiting --vt_http_wake (any thread)--> on_complete
 *           (loop thread) --vt_http_respond--> writing
 *   client closes while waiting: the request is orphaned; on_complete still runs
 *   (with orphan set) so the handler can free what it holds, then it is freed.
 */
#ifndef VT_HTTP_H
#define VT_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

struct lws_protocols;


typedef void (*vt_http_handler_fn)(struct vt_http_request *req);

/* Route flags. VT_ROUTE_STAFF: a POST needs a staff session and its CSRF token;
 * the gate of that flag (vt_http_set_gate) checks them from the headers,
 * before a byte of the body is read, and an unauthenticated POST is answered
 * and its connection closed. The handler still checks the role.
 * VT_ROUTE_RATE_LIMITED: the gate of that flag takes from the client's
 * budget (public intake) before the body is read. */
enum {
    VT_ROUTE_GET = 1,
    VT_ROUTE_POST = 2,
    VT_ROUTE_PREFIX = 4,
    VT_ROUTE_RATE_LIMITED = 8,
    VT_ROUTE_STAFF = 16,
};

/* What the HTTP side holds now, for /metrics (loop thread). */
struct vt_http_stats {
    size_t body_bytes;               /* request body bytes held in memory */
    size_t body_budget;              /* server.body_budget_bytes */
    unsigned long long busy;         /* requests answered 503: over the body budget */
    unsigned long long refused;      /* connections closed at accept: per-IP cap */
    unsigned long long responses[6]; /* responses written, by status class 1xx..5xx */
};

/* How the server listens and guards itself (the server.* keys). */
struct vt_http_options {
    const char *listen;          /* address; "0.0.0.0" or "" for any */
    int port;                    /* 0: any free port */
    bool trust_forwarded_for;    /* X-Forwarded-For/-Proto come from our proxy */
    int max_connections_per_ip;  /* 0: no cap (always none behind a proxy) */
    int header_timeout_seconds;  /* to send a request's headers, from the first byte */
    size_t body_budget;          /* body bytes held by all requests together */
    long long file_max_bytes;    /* the largest files taken, for the 413 message */
    const struct lws_protocols *protocol; /* a WebSocket protocol served beside HTTP, or NULL */
    void *app;                   /* copied into every request */
};

/* Creates the lws context listening as opt says. NULL with err filled. */
struct vt_http *vt_http_new(const struct vt_http_options *opt, char *err, size_t errlen);
/* Frees it (the loop must have stopped); NULL ok. */
void vt_http_free(struct vt_http *h);
/* The port actually bound. */
int vt_http_port(struct vt_http *h);
/* Installs the check of routes with flag (VT_ROUTE_STAFF or
 * VT_ROUTE_RATE_LIMITED): gate(req) returns true to go on, or false having
 * answered req (401, 403, 429). Before any route with that flag is added. */
void vt_http_set_gate(struct vt_http *h, int flag, bool (*gate)(struct vt_http_request *req));
/* Runs fn(ctx) on the loop thread first_ms after the loop starts, then every
 * every_ms (the daemon's minute jobs). One tick per server. */
void vt_http_tick(struct vt_http *h, long first_ms, long every_ms, void (*fn)(void *ctx),
                  void *ctx);
/* Runs fn(ctx) on the loop thread whenever another thread wakes the loop
 * (after the deferred requests' completions): the live feed drains its
 * queue there. One such hook per server. */
void vt_http_on_wake(struct vt_http *h, void (*fn)(void *ctx), void *ctx);
/* Adds a route; flags are VT_ROUTE_*; max_body caps a POST body in bytes.
 * VT_EINVAL for a VT_ROUTE_STAFF route without a gate; VT_ETOOBIG when full. */
int vt_http_route(struct vt_http *h, const char *path, int flags, size_t max_body,
                  vt_http_handler_fn fn);
/* Runs the loop until vt_http_stop; loop thread. */
void vt_http_run(struct vt_http *h);
/* True once a stop was asked: handlers refuse new work. */
bool vt_http_stopping(struct vt_http *h);
/* Asks the loop to stop (async-signal-safe enough: sets a flag and wakes it). */
void vt_http_stop(struct vt_http *h);


/* The handler will answer later: on_complete runs on the loop thread after vt_http_wake. */
void vt_http_defer(struct vt_http_request *req, void (*on_complete)(struct vt_http_request *));
/* Any thread: schedules req's on_complete on the loop thread. */
void vt_http_wake(struct vt_http_request *req);

/* The Cookie headers of wsi's request joined with "; " (malloc'd, caller
 * frees), or NULL when there is none. Loop thread, while headers are held. */
char *vt_http_cookie(struct lws *wsi);
/* True when wsi's client reached us over TLS: ours, or a trusted proxy's
 * (server.trust_forwarded_for and X-Forwarded-Proto: https). */
bool vt_http_is_https(struct lws *wsi);
/* Fills st (loop thread). */
void vt_http_stats(struct vt_http *h, struct vt_http_stats *st);

/* The lws context, for the live module's protocol (loop thread only). */
struct lws_context *vt_http_context(struct vt_http *h);
/* The application's context given in the options. */
void *vt_http_app(struct vt_http *h);


#endif
