/* web.c - the web channel: the citizen form at /, its acknowledgement, the
 * status page /consulta, the live dashboard /tablero and the static files,
 * among them Debian's Chart.js (libjs-chart.js) at /static/vendor/chart.js.
 *
 * Owns: the routes of the web channel and the mapping of their requests to
 * intake and pages; the copy of Chart.js read from disk at start.
 * Must not: validate fields itself (intake.c does) or touch the store except
 * through vt_app_submit and vt_api_track_lookup; put or accept a tracking
 * code in a URL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "channels/web/pages.h"
#include "channels/web/hearing.h"
#include "channels/web/survey.h"
#include "domain/casework.h"
#include "domain/hearing.h"
#include "core/clock.h"
#include "api/api.h"
#include "api/auth.h"
#include "channels/channel.h"
#include "core/error.h"
#include "http/http.h"
#include "core/log.h"
#include "api/app.h"
#include "http/reply.h"
#include "core/text.h"
#include "core/web_assets.h"

static void html(struct vt_http_request *req, int status, struct vt_buf *b)
{
    /* libwebsockets adds the security headers (CSP, X-Frame-Options, ...). */
    vt_http_respond(req, status, "text/html; charset=utf-8", b->data ? b->data : "", b->len);
    vt_buf_cleanup(b);
}

/* The hearings whose question window is open now (caller frees). */
static cJSON *open_hearings(struct vt_app *srv)
{
    cJSON *all = vt_hearing_list(vt_app_reader(srv)), *open = cJSON_CreateArray(), *h;
    double now = (double)vt_clock_now_ms();
    cJSON_ArrayForEach(h, all)
    {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(h, "questions_open_at");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(h, "questions_close_at");
        if (cJSON_IsNumber(from) && cJSON_IsNumber(to) && from->valuedouble <= now &&
            now < to->valuedouble)
            cJSON_AddItemToArray(open, cJSON_Duplicate(h, 1));
    }
    cJSON_Delete(all);
    return open;
}

static void get_form(struct vt_http_request *req)
{
    struct vt_buf b = {0};
    cJSON *hearings = open_hearings(req->app);
    vt_page_form(&b, vt_app_config(req->app), NULL, NULL, hearings);
    cJSON_Delete(hearings);
    html(req, 200, &b);
}

static void render_ack(struct vt_http_request *req, struct vt_item *it, int result)
{
    struct vt_buf b = {0};
    if (result) {
        struct vt_intake_error e = {503, "unavailable", "",
                                    "No pudimos guardar su solicitud por un problema nuestro. "
                                    "Intente de nuevo en un momento."};
        vt_page_form(&b, vt_app_config(req->app), NULL, &e, NULL);
        vt_http_header(req, "Retry-After", "5");
        html(req, 503, &b);
        return;
    }
    vt_page_ack(&b, vt_app_config(req->app), it);
    html(req, 200, &b);
}

static void post_form(struct vt_http_request *req)
{
    const struct vt_intake_ctx *ctx = vt_app_intake(req->app);
    struct vt_intake_error e = {0};
    struct vt_form form = {0};
    struct vt_item *it = NULL;
    int rc = vt_api_parse_form(req, &form, &e);
    if (rc == 0)
        rc = vt_intake_from_form(ctx, &form, "web", &it, &e);
    if (rc) {
        vt_log(VT_LOG_INFO, "intake_rejected", "status=%d code=%s field=%s", e.status, e.code,
               vt_log_name(e.field));
        struct vt_buf b = {0};
        vt_page_form(&b, ctx->cfg, &form, &e, NULL);
        vt_form_cleanup(&form);
        html(req, e.status, &b);
        return;
    }
    vt_app_submit(req, it, &form, render_ack);
}

/* GET /consulta: the lookup form. A tracking code in the query string (old
 * links, or a form sent by GET) is refused without a lookup and without
 * logging it: the code is a secret and a URL is kept by browsers and proxies.
 * POST /consulta: the lookup, limited per client address like
 * /api/v1/track (the same bucket); after an error the form keeps the radicado
 * typed, never the code. */
static void consulta(struct vt_http_request *req)
{
    const struct vt_config *cfg = vt_app_config(req->app);
    struct vt_buf b = {0};
    if (!req->post) {
        bool code_in_url = vt_form_get(&req->query, "codigo") || vt_form_get(&req->query, "code");
        if (code_in_url)
            vt_log(VT_LOG_INFO, "tracking_code_in_url", "path=/consulta effect=\"refused\"");
        vt_page_status(&b, cfg, NULL, NULL,
                       code_in_url ? "Por seguridad, el código de consulta ya no se recibe en la "
                                     "dirección de la página. Escriba el número de radicado y el "
                                     "código en este formulario."
                                   : NULL);
        html(req, code_in_url ? 400 : 200, &b);
        return;
    }
    struct vt_form f = {0};
    struct vt_intake_error e;
    int status = 200;
    const char *alert = NULL;
    char wait[160];
    const struct vt_form_field *r = NULL, *c = NULL;
    bool parsed = vt_api_parse_form(req, &f, &e) == 0;
    if (parsed) {
        r = vt_form_get(&f, "radicado");
        c = vt_form_get(&f, "codigo");
    }
    const char *rad = r && !r->filename && vt_utf8_valid(r->value, r->value_len) ? r->value : NULL;
    int retry;
    if (!vt_app_track_allow(req->app, req, &retry)) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry);
        vt_http_header(req, "Retry-After", ra);
        vt_log(VT_LOG_WARN, "rate_limited", "path=%s", req->path);
        snprintf(wait, sizeof(wait),
                 "Ha hecho muchas consultas seguidas. Espere %d segundos e intente de nuevo.",
                 retry);
        status = 429;
        alert = wait;
    } else if (!parsed) {
        status = e.status;
        alert = e.message;
    } else if (!r || !r->value_len || !c || !c->value_len) {
        status = 422;
        alert = "Escriba el número de radicado y el código de consulta.";
    } else {
        struct vt_track t;
        if (vt_api_track_lookup(req->app, r->value, c->value, &t) == 0) {
            vt_page_status(&b, cfg, &t, NULL, NULL);
            vt_track_cleanup(&t);
            vt_form_cleanup(&f);
            html(req, 200, &b);
            return;
        }
        status = 404;
        alert = "No encontramos una solicitud con ese radicado y ese código. Revise que estén "
                "escritos igual que en el acuse de recibo.";
    }
    vt_page_status(&b, cfg, NULL, rad, alert);
    vt_form_cleanup(&f);
    html(req, status, &b);
}

/* Where Debian's libjs-chart.js puts its self-contained (UMD) build; the
 * environment variable VT_CHARTJS names another file (tests, other
 * distributions). */
#define CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#define CHARTJS_MAX (8 << 20)

/* The web channel's state (vt_app_channel_data "web"). */
struct web_state {
    char *chartjs; /* the library's text, NULL when it could not be read */
    size_t chartjs_len;
};

/* Reads the chart library once, at start. Missing is not fatal: /tablero
 * then shows the charts' tables, and this is said once in the log. */
static void load_chartjs(struct web_state *st)
{
    const char *path = getenv("VT_CHARTJS");
    if (!path || !*path)
        path = CHARTJS_PATH;
    FILE *f = fopen(path, "rb");
    long len = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len <= CHARTJS_MAX &&
        fseek(f, 0, SEEK_SET) == 0 && (st->chartjs = malloc((size_t)len))) {
        if (fread(st->chartjs, 1, (size_t)len, f) == (size_t)len) {
            st->chartjs_len = (size_t)len;
        } else {
            free(st->chartjs);
            st->chartjs = NULL;
        }
    }
    int err = errno;
    if (f)
        fclose(f);
    if (!st->chartjs)
        vt_log(VT_LOG_WARN, "chartjs_missing",
               "path=\"%s\" error=\"%s\" effect=\"/tablero shows tables instead of charts; "
               "apt-get install libjs-chart.js\"",
               path,
               !f                  ? strerror(err)
               : len > CHARTJS_MAX ? "too large"
                                   : "cannot read");
}

/* GET /tablero: the managers' charts for a gerente's session (the cookie
 * is checked again by the live feed for the figures themselves), else the
 * public counts and the way to sign in. */
static void tablero(struct vt_http_request *req)
{
    struct vt_staff who;
    bool manager =
        vt_auth_cookie_staff(req->app, req->cookie, &who) == 0 && who.role == VT_ROLE_GERENTE;
    const struct web_state *st = vt_app_channel_data(req->app, "web");
    struct vt_buf b = {0};
    vt_page_tablero(&b, vt_app_config(req->app), manager, st && st->chartjs);
    html(req, 200, &b);
}

/* GET /static/vendor/chart.js */
static void vendor_chartjs(struct vt_http_request *req)
{
    const struct web_state *st = vt_app_channel_data(req->app, "web");
    if (!st || !st->chartjs) {
        vt_reply_not_found(req);
        return;
    }
    vt_http_respond(req, 200, "text/javascript; charset=utf-8", st->chartjs, st->chartjs_len);
}

/* GET /respuestas: answers published in the last 30 days. */
static void published(struct vt_http_request *req)
{
    struct vt_published p[200];
    int64_t since = vt_clock_now_ms() - 30LL * 86400000;
    size_t n = vt_casework_published(vt_app_reader(req->app), since, p, 200);
    struct vt_buf b = {0};
    vt_page_published(&b, vt_app_config(req->app), p, n);
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

/* GET /static/NAME: the embedded file of that exact name ("style.css",
 * "staff/main.js"), else 404. NAME (libwebsockets has collapsed ".." and "//"
 * in it) is only compared with the table's names, never given to the file
 * system: nothing but an embedded file is ever served. */
static void static_file(struct vt_http_request *req)
{
    const char *name = req->path + strlen("/static/");
    for (const struct vt_web_asset *a = vt_web_assets; a->name; a++)
        if (strcmp(a->name, name) == 0) {
            vt_http_respond(req, 200, asset_type(a->name), (const char *)a->data, a->size);
            return;
        }
    vt_reply_not_found(req);
}

static int web_start(struct vt_app *srv, struct vt_http *http)
{
    size_t max = (size_t)vt_app_config(srv)->max_body_bytes;
    struct web_state *st = calloc(1, sizeof(*st));
    if (!st)
        return VT_ENOMEM;
    load_chartjs(st);
    vt_app_set_channel_data(srv, "web", st);
    int rc = vt_http_route(http, "/", VT_ROUTE_GET, 0, get_form);
    rc = rc ? rc : vt_http_route(http, "/", VT_ROUTE_POST | VT_ROUTE_RATE_LIMITED, max, post_form);
    rc = rc ? rc : vt_http_route(http, "/consulta", VT_ROUTE_GET | VT_ROUTE_POST, 4096, consulta);
    rc = rc ? rc : vt_http_route(http, "/tablero", VT_ROUTE_GET, 0, tablero);
    rc = rc ? rc : vt_http_route(http, "/respuestas", VT_ROUTE_GET, 0, published);
    rc = rc ? rc : vt_web_survey_register(http);
    rc = rc ? rc : vt_web_hearing_register(http);
    rc = rc ? rc : vt_http_route(http, "/static/vendor/chart.js", VT_ROUTE_GET, 0, vendor_chartjs);
    rc = rc ? rc : vt_http_route(http, "/static/", VT_ROUTE_GET | VT_ROUTE_PREFIX, 0, static_file);
    return rc;
}

static void web_stop(struct vt_app *srv)
{
    struct web_state *st = vt_app_channel_data(srv, "web");
    vt_app_set_channel_data(srv, "web", NULL);
    if (st)
        free(st->chartjs);
    free(st);
}

const struct vt_channel vt_channel_web = {"web", web_start, web_stop, NULL};
