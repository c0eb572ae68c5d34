/* http.c - the libwebsockets HTTP server (http.h).
 *
 * Owns: the lws context, the route table, per-connection request state and
 * the queue of requests completed by other threads.
 * Must not: block the loop. Anything slow (commits) is deferred.
 */
#include "http.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "live.h"
#include "log.h"
#include "server.h"

struct route {
    char path[64];
    int flags;
    size_t max_body;
    vt_http_handler_fn fn;
};

struct vt_http {
    struct vt_server *srv;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct route routes[64];
    size_t n_routes;
    volatile sig_atomic_t stopping;
    int deferred;  /* requests waiting for another thread; loop thread */
    int unwritten; /* responses set but not yet written to their socket; loop thread */

    pthread_mutex_t lock; /* guards done_head */
    struct vt_http_request *done_head;
};

struct pss {
    struct vt_http_request *req;
};

static const struct route *find_route(struct vt_http *h, const char *path, bool post)
{
    const struct route *prefix_match = NULL;
    for (size_t i = 0; i < h->n_routes; i++) {
        const struct route *r = &h->routes[i];
        if (!(r->flags & (post ? VT_ROUTE_POST : VT_ROUTE_GET)))
            continue;
        if (strcmp(r->path, path) == 0)
            return r;
        if ((r->flags & VT_ROUTE_PREFIX) && strncmp(r->path, path, strlen(r->path)) == 0)
            prefix_match = r;
    }
    return prefix_match;
}

static bool path_known(struct vt_http *h, const char *path)
{
    return find_route(h, path, false) || find_route(h, path, true);
}

static void request_free(struct vt_http_request *req)
{
    if (!req)
        return;
    vt_form_cleanup(&req->query);
    free(req->body);
    vt_buf_cleanup(&req->resp);
    free(req);
}

void vt_http_respond(struct vt_http_request *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    req->status = status;
    req->resp_type = content_type;
    req->resp.len = 0;
    if (req->resp.data)
        req->resp.data[0] = '\0';
    vt_buf_append(&req->resp, body ? body : "", body ? len : 0);
    req->responded = true;
    if (req->wsi && !req->orphan) {
        if (!req->unwritten) {
            req->unwritten = true;
            req->http->unwritten++;
        }
        lws_callback_on_writable(req->wsi);
    }
}

void vt_http_header(struct vt_http_request *req, const char *name, const char *value)
{
    size_t used = strlen(req->extra_headers);
    snprintf(req->extra_headers + used, sizeof(req->extra_headers) - used, "%s: %s\r\n", name,
             value);
}

void vt_http_defer(struct vt_http_request *req, void (*on_complete)(struct vt_http_request *))
{
    req->on_complete = on_complete;
    req->http->deferred++;
}

void vt_http_wake(struct vt_http_request *req)
{
    struct vt_http *h = req->http;
    pthread_mutex_lock(&h->lock);
    req->next_done = h->done_head;
    h->done_head = req;
    pthread_mutex_unlock(&h->lock);
    lws_cancel_service(h->ctx);
}

/* Loop thread: runs on_complete of every request another thread finished. */
static void drain_done(struct vt_http *h)
{
    pthread_mutex_lock(&h->lock);
    struct vt_http_request *list = h->done_head;
    h->done_head = NULL;
    pthread_mutex_unlock(&h->lock);
    while (list) {
        struct vt_http_request *req = list;
        list = list->next_done;
        void (*fn)(struct vt_http_request *) = req->on_complete;
        req->on_complete = NULL;
        h->deferred--;
        fn(req);
        if (req->on_complete)
            continue; /* fn deferred the request again */
        if (req->orphan)
            request_free(req);
        else if (!req->responded)
            vt_http_respond(req, 500, "text/plain; charset=utf-8", "error interno\n", 14);
    }
}

static const char *reason_ok(int status)
{
    return (status >= 200 && status < 300) ? "ok" : "err";
}

/* Writes the whole response; returns -1 to close the connection. */
static int write_response(struct lws *wsi, struct vt_http_request *req)
{
    size_t hdr_cap = 1024 + sizeof(req->extra_headers);
    unsigned char *buf = malloc(LWS_PRE + hdr_cap + req->resp.len);
    if (!buf)
        return -1;
    unsigned char *start = buf + LWS_PRE, *p = start, *end = start + hdr_cap - 1;
    int rc = -1;
    if (lws_add_http_common_headers(wsi, (unsigned)req->status, req->resp_type,
                                    (lws_filepos_t)req->resp.len, &p, end))
        goto done;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        goto done;
    /* Every response: nothing inline or from elsewhere runs, no framing, no
     * referrer leaking a radicado, no content sniffing. */
    static const struct {
        const char *name, *value;
    } security[] = {
        {"content-security-policy:",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
         "form-action 'self'"},
        {"x-content-type-options:", "nosniff"},
        {"x-frame-options:", "deny"},
        {"referrer-policy:", "no-referrer"},
    };
    for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)security[i].name,
                                        (const unsigned char *)security[i].value,
                                        (int)strlen(security[i].value), &p, end))
            goto done;
    /* Extra "Name: value\r\n" lines, set by handlers. */
    char *line = req->extra_headers;
    while (*line) {
        char *eol = strstr(line, "\r\n"), *colon = strchr(line, ':');
        if (!eol || !colon || colon > eol)
            break;
        char name[64];
        snprintf(name, sizeof(name), "%.*s:", (int)(colon - line), line);
        const char *val = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)(eol - val), &p, end))
            goto done;
        line = eol + 2;
    }
    if (req->close_after && lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                                        (const unsigned char *)"close", 5, &p, end))
        goto done;
    if (lws_finalize_http_header(wsi, &p, end))
        goto done;
    /* Headers and body in one write: lws buffers what the socket cannot take. */
    memcpy(p, req->resp.data ? req->resp.data : "", req->resp.len);
    p += req->resp.len;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
        goto done;
    rc = 0;
done:
    free(buf);
    vt_server_count_response(req->srv, req->status);
    (void)reason_ok;
    return rc;
}

static void read_peer(struct lws *wsi, struct vt_http_request *req, bool trust_forwarded)
{
    req->peer[0] = '\0';
    if (trust_forwarded) {
        char xff[256];
        int n = lws_hdr_custom_copy(wsi, xff, sizeof(xff), "x-forwarded-for:", 16);
        if (n > 0) {
            /* The closest proxy appends the address it saw last. */
            char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ')
                last++;
            snprintf(req->peer, sizeof(req->peer), "%.63s", last);
        }
        char proto[16];
        req->https = lws_hdr_custom_copy(wsi, proto, sizeof(proto), "x-forwarded-proto:", 18) > 0 &&
                     strcasecmp(proto, "https") == 0;
    }
    req->https = req->https || lws_is_ssl(wsi);
    if (!req->peer[0])
        lws_get_peer_simple(wsi, req->peer, sizeof(req->peer));
}

static void read_query(struct lws *wsi, struct vt_http_request *req)
{
    char frag[2048];
    for (int i = 0; i < 32; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char *eq = strchr(frag, '=');
        struct vt_form_field *f = realloc(req->query.fields, (req->query.n + 1) * sizeof(*f));
        if (!f)
            break;
        req->query.fields = f;
        f = &f[req->query.n];
        memset(f, 0, sizeof(*f));
        f->name = strndup(frag, eq ? (size_t)(eq - frag) : strlen(frag));
        f->value = strdup(eq ? eq + 1 : "");
        if (!f->name || !f->value) {
            free(f->name);
            free(f->value);
            break;
        }
        f->value_len = strlen(f->value);
        req->query.n++;
    }
}

static void start_handler(struct vt_http_request *req, const struct route *r)
{
    r->fn(req);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;
    struct vt_http *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        struct vt_http_request *req = calloc(1, sizeof(*req));
        if (!req)
            return -1;
        pss->req = req;
        req->srv = h->srv;
        req->http = h;
        req->wsi = wsi;
        req->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
        snprintf(req->path, sizeof(req->path), "%s", (const char *)in);
        lws_hdr_copy(wsi, req->content_type, sizeof(req->content_type),
                     WSI_TOKEN_HTTP_CONTENT_TYPE);
        lws_hdr_copy(wsi, req->authorization, sizeof(req->authorization),
                     WSI_TOKEN_HTTP_AUTHORIZATION);
        if (lws_hdr_custom_copy(wsi, req->signature, sizeof(req->signature),
                                "x-hub-signature-256:", 20) < 0)
            req->signature[0] = '\0';
        if (lws_hdr_copy(wsi, req->cookie, sizeof(req->cookie), WSI_TOKEN_HTTP_COOKIE) < 0)
            req->cookie[0] = '\0';
        if (lws_hdr_custom_copy(wsi, req->csrf, sizeof(req->csrf), "x-csrf-token:", 13) < 0)
            req->csrf[0] = '\0';
        read_peer(wsi, req, vt_server_config(h->srv)->trust_forwarded_for);
        read_query(wsi, req);
        if (!req->post && !get) {
            req->close_after = true;
            vt_http_respond(req, 405, "application/json",
                            "{\"error\":{\"code\":\"method_not_allowed\",\"field\":null,"
                            "\"message\":\"Método no permitido.\"}}",
                            85);
            return 0;
        }
        const struct route *r = find_route(h, req->path, req->post);
        if (!r) {
            if (req->post)
                req->close_after = true;
            if (path_known(h, req->path))
                vt_http_respond(req, 405, "application/json",
                                "{\"error\":{\"code\":\"method_not_allowed\",\"field\":null,"
                                "\"message\":\"Método no permitido.\"}}",
                                85);
            else
                vt_server_not_found(req);
            return 0;
        }
        if ((r->flags & VT_ROUTE_RATE_LIMITED) && !vt_server_rate_allow(h->srv, req)) {
            req->close_after = req->post;
            return 0; /* vt_server_rate_allow responded */
        }
        req->limit = r->max_body;
        if (!req->post) {
            start_handler(req, r);
            return 0;
        }
        char cl[32];
        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
            strtoull(cl, NULL, 10) > r->max_body) {
            req->close_after = true;
            vt_server_too_large(req);
            return 0;
        }
        /* Remember the route for the body completion. */
        req->user = (void *)r;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 60);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY: {
        struct vt_http_request *req = pss->req;
        if (!req || req->responded || req->too_large)
            return 0;
        if (req->body_len + len > req->limit) {
            req->too_large = true;
            return 0;
        }
        if (req->body_len + len + 1 > req->body_cap) {
            size_t cap = req->body_cap ? req->body_cap : 4096;
            while (cap < req->body_len + len + 1)
                cap *= 2;
            char *b = realloc(req->body, cap);
            if (!b)
                return -1;
            req->body = b;
            req->body_cap = cap;
        }
        if (len)
            memcpy(req->body + req->body_len, in, len);
        req->body_len += len;
        req->body[req->body_len] = '\0';
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        struct vt_http_request *req = pss->req;
        if (!req || req->responded)
            return 0;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (req->too_large) {
            req->close_after = true;
            vt_server_too_large(req);
            return 0;
        }
        if (!req->body && !(req->body = calloc(1, 1)))
            return -1;
        const struct route *r = req->user;
        req->user = NULL;
        start_handler(req, r);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        struct vt_http_request *req = pss->req;
        if (!req || !req->responded)
            return 0;
        int rc = write_response(wsi, req);
        bool close = req->close_after;
        if (req->unwritten)
            h->unwritten--;
        pss->req = NULL;
        request_free(req);
        if (rc || close)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: {
        struct vt_http_request *req = pss ? pss->req : NULL;
        if (!req)
            return 0;
        pss->req = NULL;
        req->wsi = NULL;
        if (req->unwritten) {
            req->unwritten = false;
            h->unwritten--;
        }
        if (req->on_complete)
            req->orphan = true; /* freed after its on_complete runs */
        else
            request_free(req);
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1; /* WebSockets only on /live with the ventanilla-live subprotocol */
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        drain_done(h);
        vt_live_drain(vt_server_live(h->srv));
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[3];

static void log_emit(int level, const char *line)
{
    (void)level;
    vt_log(VT_LOG_DEBUG, "lws", "msg=\"%.*s\"", (int)strcspn(line, "\n\""), line);
}

struct vt_http *vt_http_new(struct vt_server *srv, const char *listen, int port, char *err,
                            size_t errlen)
{
    struct vt_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->srv = srv;
    pthread_mutex_init(&h->lock, NULL);
    lws_set_log_level(LLL_ERR | LLL_WARN, log_emit);

    protocols[0] = (struct lws_protocols){"http", http_cb, sizeof(struct pss), 0, 0, NULL, 0};
    protocols[1] = *vt_live_protocol();
    protocols[2] = (struct lws_protocols){NULL, NULL, 0, 0, 0, NULL, 0};

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = (listen && *listen && strcmp(listen, "0.0.0.0") != 0) ? listen : NULL;
    info.protocols = protocols;
    info.user = h;
    /* Security headers are ours (write_response): lws's best-practice set
     * allows WebSockets to any host (connect-src ws: wss:). */
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (info.iface && !strchr(info.iface, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.max_http_header_pool = 1024;
    info.max_http_header_data = 8192;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    info.fd_limit_per_thread = 4096;
    info.server_string = "ventanilla";
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        snprintf(err, errlen, "cannot listen on %s:%d", listen, port);
        vt_http_free(h);
        return NULL;
    }
    h->vhost = lws_get_vhost_by_name(h->ctx, "default");
    return h;
}

void vt_http_free(struct vt_http *h)
{
    if (!h)
        return;
    if (h->ctx)
        lws_context_destroy(h->ctx);
    /* Requests completed after the loop stopped and never drained. */
    while (h->done_head) {
        struct vt_http_request *req = h->done_head;
        h->done_head = req->next_done;
        req->orphan = true;
        if (req->on_complete)
            req->on_complete(req);
        request_free(req);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int vt_http_port(struct vt_http *h)
{
    return h->vhost ? lws_get_vhost_listen_port(h->vhost) : -1;
}

struct lws_context *vt_http_context(struct vt_http *h)
{
    return h->ctx;
}

struct vt_server *vt_http_server(struct vt_http *h)
{
    return h->srv;
}

int vt_http_route(struct vt_http *h, const char *path, int flags, size_t max_body,
                  vt_http_handler_fn fn)
{
    if (h->n_routes == sizeof(h->routes) / sizeof(h->routes[0]))
        return VT_ETOOBIG;
    struct route *r = &h->routes[h->n_routes++];
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->flags = flags;
    r->max_body = max_body;
    r->fn = fn;
    return 0;
}

void vt_http_run(struct vt_http *h)
{
    /* After a stop request the loop goes on until every deferred request has
     * been answered (their commits finish) and every answer written to its
     * socket, for at most 15 seconds: a 201 whose item was committed must
     * reach the citizen, or the citizen files it again. */
    time_t deadline = 0;
    for (;;) {
        if (h->stopping) {
            if (!deadline)
                deadline = time(NULL) + 15;
            if ((h->deferred == 0 && h->unwritten == 0) || time(NULL) > deadline)
                break;
        }
        if (lws_service(h->ctx, 0) < 0)
            break;
    }
}

bool vt_http_stopping(struct vt_http *h)
{
    return h->stopping != 0;
}

void vt_http_stop(struct vt_http *h)
{
    h->stopping = 1;
    lws_cancel_service(h->ctx);
}

bool vt_http_content_is(const struct vt_http_request *req, const char *mime)
{
    size_t n = strlen(mime);
    const char *t = req->content_type;
    return strncasecmp(t, mime, n) == 0 && (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}
