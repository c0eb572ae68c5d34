/* http.c - the libwebsockets HTTP server (http.h).
 *
 * Owns: the lws context, the route table, per-connection request state, the
 * queue of requests completed by other threads, and the three guards against
 * a client that would hold what others need:
 *  - per-IP connections (server.max_connections_per_ip): counted from accept
 *    (LWS_CALLBACK_FILTER_NETWORK_CONNECTION, then WSI_CREATE / WSI_DESTROY,
 *    peers.h); one over the cap is closed before a byte is read. Behind a
 *    trusted proxy every connection is the proxy's, so there is no cap then.
 *  - the time to send a request's headers (server.header_timeout_seconds):
 *    lws's timeout for holding a header table, from the first byte.
 *  - request bodies in memory (server.body_budget_bytes), all requests
 *    together: a declared Content-Length that would pass it is answered 503
 *    with Retry-After at once, and a body that grows past it is dropped and
 *    answered 503 when it ends. Each route has its own maximum too (413), and
 *    a VT_ROUTE_STAFF POST is checked by the gate before its body is read.
 * Also a tick for the daemon's periodic jobs and a hook run when another
 * thread wakes the loop, so that nothing above calls lws for timers.
 * Must not: block the loop. Anything slow (commits) is deferred.
 */
#include "http/http.h"

#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "http/peers.h"
#include "http/reply.h"

/* Connections lws may hold (its fd table); the per-IP table is sized for it. */
#define MAX_FDS 4096

struct route {
    char path[64];
    int flags;
    size_t max_body;
    vt_http_handler_fn fn;
};

struct vt_http {
    struct vt_http_options opt;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct route routes[64];
    size_t n_routes;
    volatile sig_atomic_t stopping;
    int deferred;  /* requests waiting for another thread; loop thread */
    int unwritten; /* responses set but not yet written to their socket; loop thread */
    bool (*staff_gate)(struct vt_http_request *req);
    bool (*rate_gate)(struct vt_http_request *req);
    void (*tick_fn)(void *ctx), *tick_ctx;
    long tick_first_ms, tick_every_ms;
    lws_sorted_usec_list_t tick;
    void (*wake_fn)(void *ctx), *wake_ctx;
    unsigned long long responses[6]; /* by status class; loop thread */

    /* The guards (loop thread). */
    struct vt_peers *peers; /* NULL: no per-IP cap */
    int max_per_ip;
    struct vt_peer_key pending_key; /* admitted, its wsi not created yet */
    bool pending;
    size_t body_budget, body_held;
    unsigned long long busy, refused;
    time_t refused_logged;

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

/* Frees req's body and gives its bytes back to the budget. */
static void body_drop(struct vt_http_request *req)
{
    req->http->body_held -= req->held;
    req->held = 0;
    free(req->body);
    req->body = NULL;
    req->body_cap = 0;
}

static void request_free(struct vt_http_request *req)
{
    if (!req)
        return;
    body_drop(req);
    vt_form_cleanup(&req->query);
    vt_buf_cleanup(&req->resp);
    free(req->cookie_buf);
    free(req);
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
            vt_reply_internal_error(req);
    }
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
    int c = req->status / 100;
    if (c >= 1 && c <= 5)
        req->http->responses[c]++;
    return rc;
}

static void read_peer(struct lws *wsi, struct vt_http_request *req, bool trust_forwarded)
{
    req->peer[0] = '\0';
    if (trust_forwarded) {
        /* libwebsockets knows X-Forwarded-For as a token of its own: a custom
         * header lookup never finds it. */
        char xff[256];
        int n = lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
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

char *vt_http_cookie(struct lws *wsi)
{
    /* lws keeps repeated Cookie headers as fragments without a separator
     * (a continuation starts with a space). */
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
    if (total <= 0)
        return NULL;
    char *frag = malloc((size_t)total + 1);
    struct vt_buf b = {0};
    for (int i = 0; frag; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_COOKIE, i);
        if (n < 0)
            break;
        const char *p = frag + strspn(frag, " ;");
        size_t len = strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == ';'))
            len--;
        if (!len)
            continue;
        if ((b.len && vt_buf_puts(&b, "; ")) || vt_buf_append(&b, p, len)) {
            vt_buf_cleanup(&b);
            break;
        }
    }
    free(frag);
    if (!b.len) {
        vt_buf_cleanup(&b);
        return NULL;
    }
    return vt_buf_steal(&b, NULL);
}

bool vt_http_is_https(struct lws *wsi)
{
    struct vt_http *h = lws_context_user(lws_get_context(wsi));
    if (lws_is_ssl(wsi))
        return true;
    char proto[16];
    return h->opt.trust_forwarded_for &&
           lws_hdr_custom_copy(wsi, proto, sizeof(proto), "x-forwarded-proto:", 18) > 0 &&
           strcasecmp(proto, "https") == 0;
}

void vt_http_stats(struct vt_http *h, struct vt_http_stats *st)
{
    st->body_bytes = h->body_held;
    st->body_budget = h->body_budget;
    st->busy = h->busy;
    st->refused = h->refused;
    memcpy(st->responses, h->responses, sizeof(st->responses));
}

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: false to close the new connection,
 * its address already holding max_per_ip. WSI_CREATE records an admitted one. */
static bool admit(struct vt_http *h, const struct sockaddr *sa)
{
    h->pending = false;
    struct vt_peer_key key;
    if (!h->peers || !vt_peers_key(sa, &key))
        return true;
    if (vt_peers_full(h->peers) || vt_peers_count(h->peers, &key) >= h->max_per_ip) {
        h->refused++;
        time_t now = time(NULL);
        if (now - h->refused_logged >= 10) { /* at most one line every 10 s */
            h->refused_logged = now;
            vt_log(VT_LOG_WARN, "connection_refused", "reason=per_ip_cap max=%d refused_total=%llu",
                   h->max_per_ip, h->refused);
        }
        return false;
    }
    h->pending_key = key;
    h->pending = true;
    return true;
}

/* The Content-Length header's value, or -1 when absent or not a number. */
static long long content_length(struct lws *wsi)
{
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    char *end;
    unsigned long long v = strtoull(cl, &end, 10);
    if (end == cl || *end || cl[0] == '-' || v > (unsigned long long)LLONG_MAX)
        return -1;
    return (long long)v;
}

static void busy(struct vt_http_request *req)
{
    struct vt_http *h = req->http;
    h->busy++;
    vt_log(VT_LOG_WARN, "body_budget_full", "path=%s held=%zu budget=%zu", req->path, h->body_held,
           h->body_budget);
    req->close_after = true;
    vt_reply_busy(req);
}

/* 405 with the methods path takes. */
static void method_not_allowed(struct vt_http *h, struct vt_http_request *req)
{
    bool get = find_route(h, req->path, false), post = find_route(h, req->path, true);
    vt_http_header(req, "Allow", get && post ? "GET, POST" : get ? "GET" : "POST");
    vt_reply_error(req, 405, "method_not_allowed", NULL, "Método no permitido.");
}

/* Appends a body chunk, within the route's limit and the budget. */
static int body_append(struct vt_http_request *req, const void *in, size_t len)
{
    struct vt_http *h = req->http;
    if (req->body_len + len > req->limit) {
        req->too_large = true;
        body_drop(req);
        return 0;
    }
    if (h->body_held + len > h->body_budget) {
        req->busy = true;
        body_drop(req);
        return 0;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        /* The declared length at once (memory is touched only as it fills),
         * else doubling. */
        long long declared = req->declared;
        size_t cap = req->body_cap ? req->body_cap : 4096;
        if (declared >= 0 && (size_t)declared + 1 >= req->body_len + len + 1 &&
            (size_t)declared <= req->limit)
            cap = (size_t)declared + 1;
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
    req->held += len;
    h->body_held += len;
    return 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;
    struct vt_http *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        /* user is the accepted socket's lws_filter_network_conn_args. */
        const struct lws_filter_network_conn_args *a = user;
        return admit(h, (const struct sockaddr *)&a->cli_addr) ? 0 : -1;
    }
    case LWS_CALLBACK_WSI_CREATE:
        if (h->pending && h->peers) /* the connection admit() just let in */
            vt_peers_add(h->peers, wsi, &h->pending_key);
        h->pending = false;
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (h->peers)
            vt_peers_remove(h->peers, wsi);
        return 0;
    case LWS_CALLBACK_HTTP: {
        struct vt_http_request *req = calloc(1, sizeof(*req));
        if (!req)
            return -1;
        pss->req = req;
        req->app = h->opt.app;
        req->http = h;
        req->unwritten_count = &h->unwritten;
        req->file_max_bytes = h->opt.file_max_bytes;
        req->wsi = wsi;
        req->declared = -1;
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
        req->cookie_buf = vt_http_cookie(wsi);
        req->cookie = req->cookie_buf ? req->cookie_buf : "";
        if (lws_hdr_custom_copy(wsi, req->csrf, sizeof(req->csrf), "x-csrf-token:", 13) < 0)
            req->csrf[0] = '\0';
        read_peer(wsi, req, h->opt.trust_forwarded_for);
        read_query(wsi, req);
        if (!req->post && !get) {
            /* PUT, DELETE, PATCH, OPTIONS...: no route takes them. */
            req->close_after = true;
            if (path_known(h, req->path))
                method_not_allowed(h, req);
            else
                vt_reply_not_found(req);
            return 0;
        }
        const struct route *r = find_route(h, req->path, req->post);
        if (!r) {
            if (req->post)
                req->close_after = true;
            if (path_known(h, req->path))
                method_not_allowed(h, req);
            else
                vt_reply_not_found(req);
            return 0;
        }
        if ((r->flags & VT_ROUTE_RATE_LIMITED) && !h->rate_gate(req)) {
            req->close_after = req->post;
            return 0; /* the gate answered 429 */
        }
        req->limit = r->max_body;
        if (!req->post) {
            start_handler(req, r);
            return 0;
        }
        /* A POST: everything that can refuse it does so now, before any byte
         * of its body is read, and closes the connection (the client may be
         * sending megabytes we will not read). */
        if ((r->flags & VT_ROUTE_STAFF) && !h->staff_gate(req)) {
            req->close_after = true;
            return 0; /* the gate answered 401 or 403 */
        }
        req->declared = content_length(wsi);
        if (req->declared > (long long)r->max_body) {
            req->close_after = true;
            vt_reply_too_large(req);
            return 0;
        }
        if (req->declared > 0 && h->body_held + (size_t)req->declared > h->body_budget) {
            busy(req);
            return 0;
        }
        /* Remember the route for the body completion. */
        req->user = (void *)r;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 60);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY: {
        struct vt_http_request *req = pss->req;
        if (!req || req->responded || req->too_large || req->busy)
            return 0; /* read and dropped: the answer goes out at the end */
        return body_append(req, in, len);
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        struct vt_http_request *req = pss->req;
        if (!req || req->responded)
            return 0;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (req->too_large) {
            req->close_after = true;
            vt_reply_too_large(req);
            return 0;
        }
        if (req->busy) {
            busy(req);
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
        if (h->wake_fn)
            h->wake_fn(h->wake_ctx);
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

/* A soft limit of 1,024 open files (a common default) would make accept()
 * fail long before lws's table of MAX_FDS is full: raise it within the hard
 * limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = MAX_FDS + 1024; /* the database, attachments, outbound sockets */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        vt_log(VT_LOG_WARN, "fd_limit", "error=\"cannot raise the open-files limit\"");
}

struct vt_http *vt_http_new(const struct vt_http_options *opt, char *err, size_t errlen)
{
    struct vt_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->opt = *opt;
    const char *listen = opt->listen;
    int port = opt->port;
    pthread_mutex_init(&h->lock, NULL);
    lws_set_log_level(LLL_ERR | LLL_WARN, log_emit);
    h->body_budget = opt->body_budget;
    /* Behind a trusted proxy every connection comes from the proxy: the cap
     * would throttle everyone at once, so the proxy must limit clients. */
    h->max_per_ip = opt->trust_forwarded_for ? 0 : opt->max_connections_per_ip;
    if (h->max_per_ip > 0 && !(h->peers = vt_peers_new(MAX_FDS))) {
        snprintf(err, errlen, "out of memory");
        vt_http_free(h);
        return NULL;
    }
    raise_fd_limit();

    protocols[0] = (struct lws_protocols){"http", http_cb, sizeof(struct pss), 0, 0, NULL, 0};
    size_t np = 1;
    if (opt->protocol)
        protocols[np++] = *opt->protocol;
    protocols[np] = (struct lws_protocols){NULL, NULL, 0, 0, 0, NULL, 0};

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
    /* Header tables: 16 KiB each holds a Cookie header of 8 KiB (other apps
     * on the entity's domain set cookies too) besides the rest. A slow client
     * may hold one for header_timeout_seconds from its first byte. */
    info.max_http_header_pool = 1024;
    info.max_http_header_data = 16384;
    info.timeout_secs_ah_idle = (unsigned)opt->header_timeout_seconds;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    info.fd_limit_per_thread = MAX_FDS;
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
    if (h->ctx) {
        lws_sul_cancel(&h->tick);
        lws_context_destroy(h->ctx);
    }
    /* Requests completed after the loop stopped and never drained. */
    while (h->done_head) {
        struct vt_http_request *req = h->done_head;
        h->done_head = req->next_done;
        req->orphan = true;
        if (req->on_complete)
            req->on_complete(req);
        request_free(req);
    }
    vt_peers_free(h->peers);
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

void *vt_http_app(struct vt_http *h)
{
    return h->opt.app;
}


void vt_http_set_gate(struct vt_http *h, int flag, bool (*gate)(struct vt_http_request *req))
{
    if (flag == VT_ROUTE_STAFF)
        h->staff_gate = gate;
    else if (flag == VT_ROUTE_RATE_LIMITED)
        h->rate_gate = gate;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct vt_http *h = lws_container_of(sul, struct vt_http, tick);
    h->tick_fn(h->tick_ctx);
    lws_sul_schedule(h->ctx, 0, &h->tick, tick, (lws_usec_t)h->tick_every_ms * LWS_US_PER_MS);
}

void vt_http_tick(struct vt_http *h, long first_ms, long every_ms, void (*fn)(void *ctx),
                  void *ctx)
{
    h->tick_fn = fn;
    h->tick_ctx = ctx;
    h->tick_every_ms = every_ms;
    lws_sul_schedule(h->ctx, 0, &h->tick, tick, (lws_usec_t)first_ms * LWS_US_PER_MS);
}

void vt_http_on_wake(struct vt_http *h, void (*fn)(void *ctx), void *ctx)
{
    h->wake_fn = fn;
    h->wake_ctx = ctx;
}

int vt_http_route(struct vt_http *h, const char *path, int flags, size_t max_body,
                  vt_http_handler_fn fn)
{
    if (((flags & VT_ROUTE_STAFF) && !h->staff_gate) ||
        ((flags & VT_ROUTE_RATE_LIMITED) && !h->rate_gate))
        return VT_EINVAL;
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

