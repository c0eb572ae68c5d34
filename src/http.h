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

#include "buf.h"
#include "form.h"

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
    char cookie[1024];       /* the Cookie header, for staff sessions */
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
    bool too_large, responded, close_after;
    bool unwritten; /* counted in the loop's unwritten responses until written or dropped */
    size_t body_cap;
    size_t limit;
};

typedef void (*vt_http_handler_fn)(struct vt_http_request *req);

enum { VT_ROUTE_GET = 1, VT_ROUTE_POST = 2, VT_ROUTE_PREFIX = 4, VT_ROUTE_RATE_LIMITED = 8 };

/* Creates the lws context listening on listen:port (0: any free port). */
struct vt_http *vt_http_new(struct vt_server *srv, const char *listen, int port, char *err,
                            size_t errlen);
/* Frees it (the loop must have stopped); NULL ok. */
void vt_http_free(struct vt_http *h);
/* The port actually bound. */
int vt_http_port(struct vt_http *h);
/* Adds a route; flags are VT_ROUTE_*; max_body caps a POST body in bytes. */
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

/* The lws context, for the live module's protocol (loop thread only). */
struct lws_context *vt_http_context(struct vt_http *h);
/* The server the context was made for. */
struct vt_server *vt_http_server(struct vt_http *h);

#endif
