/* request.h - one HTTP request as a handler sees it, and how a handler
 * answers it. The server (http.c) fills the request and writes the answer;
 * reply.h builds the standard answers on top of vt_http_respond.
 *
 * Owns: the request's fields and its response buffer. Loop thread only.
 */
#ifndef VT_REQUEST_H
#define VT_REQUEST_H
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/form.h"

struct vt_http;
struct lws;

struct vt_http_request {
    void *app;            /* the application's context (vt_http_options.app); not read here */
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
    const char *resp_type; /* points into resp_type_buf: the caller's may not outlive the call */
    char resp_type_buf[160];
    struct vt_buf resp;
    char extra_headers[768]; /* "Name: value\r\n" lines */

    /* Deferred completion. */
    void (*on_complete)(struct vt_http_request *req);
    void *user;  /* the handler's */
    int result;  /* set by whoever calls vt_http_wake */
    bool orphan; /* the client went away before the response */

    /* Private to http/. */
    struct lws *wsi;
    int *unwritten_count;     /* the server's count of answers set but not written */
    long long file_max_bytes; /* the largest files taken, for a 413's message */
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

/* True when req's Content-Type is mime (parameters such as charset aside). */
bool vt_http_content_is(const struct vt_http_request *req, const char *mime);
/* Sets the response (loop thread, in a handler or on_complete). body is copied. */
void vt_http_respond(struct vt_http_request *req, int status, const char *content_type,
                     const char *body, size_t len);
/* Adds a response header line (without CRLF). */
void vt_http_header(struct vt_http_request *req, const char *name, const char *value);

#endif
