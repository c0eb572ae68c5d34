/* web.c - the web channel: the citizen form at /, its acknowledgement, the
 * status page /consulta, the live dashboard /tablero and the static files.
 *
 * Owns: the routes of the web channel and the mapping of their requests to
 * intake and pages.
 * Must not: validate fields itself (intake.c does) or touch the store except
 * through vt_server_submit and vt_api_track_lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "channels/web/pages.h"
#include "channels/web/survey.h"
#include "src/casework.h"
#include "src/clock.h"
#include "src/api.h"
#include "src/channel.h"
#include "src/error.h"
#include "src/http.h"
#include "src/log.h"
#include "src/server.h"
#include "src/web_assets.h"

static void html(struct vt_http_request *req, int status, struct vt_buf *b)
{
    /* libwebsockets adds the security headers (CSP, X-Frame-Options, ...). */
    vt_http_respond(req, status, "text/html; charset=utf-8", b->data ? b->data : "", b->len);
    vt_buf_cleanup(b);
}

static void get_form(struct vt_http_request *req)
{
    struct vt_buf b = {0};
    vt_page_form(&b, vt_server_config(req->srv), NULL, NULL);
    html(req, 200, &b);
}

static void render_ack(struct vt_http_request *req, struct vt_item *it, int result)
{
    struct vt_buf b = {0};
    if (result) {
        struct vt_intake_error e = {503, "unavailable", "",
                                    "No pudimos guardar su solicitud por un problema nuestro. "
                                    "Intente de nuevo en un momento."};
        vt_page_form(&b, vt_server_config(req->srv), NULL, &e);
        vt_http_header(req, "Retry-After", "5");
        html(req, 503, &b);
        return;
    }
    vt_page_ack(&b, vt_server_config(req->srv), it);
    html(req, 200, &b);
}

static void post_form(struct vt_http_request *req)
{
    const struct vt_intake_ctx *ctx = vt_server_intake(req->srv);
    struct vt_intake_error e = {0};
    struct vt_form form = {0};
    struct vt_item *it = NULL;
    int rc = vt_api_parse_form(req, &form, &e);
    if (rc == 0)
        rc = vt_intake_from_form(ctx, &form, "web", &it, &e);
    if (rc) {
        vt_log(VT_LOG_INFO, "intake_rejected", "status=%d code=%s field=%s", e.status, e.code,
               e.field);
        struct vt_buf b = {0};
        vt_page_form(&b, ctx->cfg, &form, &e);
        vt_form_cleanup(&form);
        html(req, e.status, &b);
        return;
    }
    vt_server_submit(req, it, &form, render_ack);
}

static void consulta(struct vt_http_request *req)
{
    struct vt_form body = {0};
    const struct vt_form *f = &req->query;
    if (req->post) {
        struct vt_intake_error e;
        if (vt_api_parse_form(req, &body, &e) == 0)
            f = &body;
    }
    const struct vt_form_field *r = vt_form_get(f, "radicado"), *c = vt_form_get(f, "codigo");
    struct vt_buf b = {0};
    const struct vt_config *cfg = vt_server_config(req->srv);
    if (!r && !c) {
        vt_page_status(&b, cfg, NULL, 0);
        html(req, 200, &b);
    } else {
        struct vt_track t;
        if (r && c && vt_api_track_lookup(req->srv, r->value, c->value, &t) == 0) {
            vt_page_status(&b, cfg, &t, 0);
            vt_track_cleanup(&t);
            html(req, 200, &b);
        } else {
            vt_page_status(&b, cfg, NULL, 1);
            html(req, 404, &b);
        }
    }
    vt_form_cleanup(&body);
}

static void tablero(struct vt_http_request *req)
{
    struct vt_buf b = {0};
    vt_page_tablero(&b, vt_server_config(req->srv));
    html(req, 200, &b);
}

/* GET /respuestas: answers published in the last 30 days. */
static void published(struct vt_http_request *req)
{
    struct vt_published p[200];
    int64_t since = vt_clock_now_ms() - 30LL * 86400000;
    size_t n = vt_casework_published(vt_server_reader(req->srv), since, p, 200);
    struct vt_buf b = {0};
    vt_page_published(&b, vt_server_config(req->srv), p, n);
    vt_casework_published_free(p, n);
    html(req, 200, &b);
}

static const char *asset_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

static void static_file(struct vt_http_request *req)
{
    const char *name = req->path + strlen("/static/");
    for (const struct vt_web_asset *a = vt_web_assets; a->name; a++)
        if (strcmp(a->name, name) == 0) {
            vt_http_respond(req, 200, asset_type(a->name), (const char *)a->data, a->size);
            return;
        }
    vt_server_not_found(req);
}

static int web_start(struct vt_server *srv, struct vt_http *http)
{
    size_t max = (size_t)vt_server_config(srv)->max_body_bytes;
    int rc = vt_http_route(http, "/", VT_ROUTE_GET, 0, get_form);
    rc = rc ? rc : vt_http_route(http, "/", VT_ROUTE_POST | VT_ROUTE_RATE_LIMITED, max, post_form);
    rc = rc ? rc : vt_http_route(http, "/consulta", VT_ROUTE_GET | VT_ROUTE_POST, 4096, consulta);
    rc = rc ? rc : vt_http_route(http, "/tablero", VT_ROUTE_GET, 0, tablero);
    rc = rc ? rc : vt_http_route(http, "/respuestas", VT_ROUTE_GET, 0, published);
    rc = rc ? rc : vt_web_survey_register(http);
    rc = rc ? rc : vt_http_route(http, "/static/", VT_ROUTE_GET | VT_ROUTE_PREFIX, 0, static_file);
    return rc;
}

const struct vt_channel vt_channel_web = {"web", web_start, NULL, NULL};
