/* http.h - the HTTP side of the libwebsockets loop: routing, request bodies,
 * responses, and deferred responses that another thread completes.
 *
 * Owns: the lws context and every HTTP connection. All lws calls happen on the
 * loop thread (vt_http_run); other threads only call vt_http_wake().
 * Must not: know what a route does; handlers live in api.c and channels/.
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

#include "core/buf.h"
#include "core/form.h"

struct vt_server;
struct vt_http;
struct lws;

struct vt_http_request {
    struct vt_server *srv;
    bool post;            /* POST, else GET */
    char path[256];       /* decoded path, without the query */
    struct vt_form query; /* decoded query parameters */
    char content_type[256];
    char authorization[256]; /* the Authorization header, for /metrics */
    char signature[128];     /* X-Hub-Signature-256, for provider webhooks */
    const char *cookie;      /* the Cookie header(s), for staff sessions; "" when none */
    char csrf[80];           /* X-CSRF-Token */
    char peer[64];           /* client IP (X-Forwarded-For when trusted) */
    bool https;              /* over TLS, ours or a trusted proxy's (X-Forwarded-Proto) */
    char *body;              /* NUL-terminated, body_len bytes; NULL for GET */
    size_t body_len;

    /* The response, set by vt_http_respond. */
    int status;
    const char *resp_type;
    struct vt_buf resp;
    char extra_headers[768]; /* "Name: value\r\n" lines */

    /* Deferred completion. */
    void (*on_complete)(struct vt_http_request *req);
    void *user;  /* the handler's */
    int result;  /* set by whoever calls vt_http_wake */
    bool orphan; /* the client went away before the response */

    /* Private to http.c. */
    struct lws *wsi;
    struct vt_http *http;
    struct vt_http_request *next_done;
    bool too_large, busy, responded, close_after;
    bool unwritten;   /* counted in the loop's unwritten responses until written or dropped */
    char *cookie_buf; /* what cookie points to when there is one */
    size_t body_cap;
    size_t limit;
    size_t held;        /* body bytes counted in the server's budget */
    long long declared; /* Content-Length, -1 when none */
};

typedef void (*vt_http_handler_fn)(struct vt_http_request *req);

/* Route flags. VT_ROUTE_STAFF: a POST needs a staff session and its CSRF token;
 * the gate (vt_http_set_gate) checks them from the headers, before a byte of
 * the body is read, and an unauthenticated POST is answered and its connection
 * closed. The handler still checks the role. */
enum {
    VT_ROUTE_GET = 1,
    VT_ROUTE_POST = 2,
    VT_ROUTE_PREFIX = 4,
    VT_ROUTE_RATE_LIMITED = 8,
    VT_ROUTE_STAFF = 16,
};

/* What the HTTP side holds now, for /metrics (loop thread). */
struct vt_http_stats {
    size_t body_bytes;          /* request body bytes held in memory */
    size_t body_budget;         /* server.body_budget_bytes */
    unsigned long long busy;    /* requests answered 503: over the body budget */
    unsigned long long refused; /* connections closed at accept: per-IP cap */
};

/* Creates the lws context listening on listen:port (0: any free port). */
struct vt_http *vt_http_new(struct vt_server *srv, const char *listen, int port, char *err,
                            size_t errlen);
/* Frees it (the loop must have stopped); NULL ok. */
void vt_http_free(struct vt_http *h);
/* The port actually bound. */
int vt_http_port(struct vt_http *h);
/* Installs the check of VT_ROUTE_STAFF routes: gate(req) returns true to go
 * on, or false having answered req (401, 403). Before any such route is added. */
void vt_http_set_gate(struct vt_http *h, bool (*gate)(struct vt_http_request *req));
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

/* True when req's Content-Type is mime (parameters such as charset aside). */
bool vt_http_content_is(const struct vt_http_request *req, const char *mime);

/* Sets the response (loop thread, in a handler or on_complete). body is copied. */
void vt_http_respond(struct vt_http_request *req, int status, const char *content_type,
                     const char *body, size_t len);
/* Adds a response header line (without CRLF). */
void vt_http_header(struct vt_http_request *req, const char *name, const char *value);
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
/* The server the context was made for. */
struct vt_server *vt_http_server(struct vt_http *h);

#endif
