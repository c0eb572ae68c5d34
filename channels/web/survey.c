/* survey.c - the web channel's survey pages: /encuesta/{token} (an
 * invitation's single-use link) and /encuesta/p/{code} (a public or event
 * survey). Plain HTML forms: they work without JavaScript.
 *
 * Owns: the request handling of those pages. The rules (what a valid answer
 * is, single use, expiry, detractors) are src/domain/survey.c's.
 */
#include "channels/web/survey.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/web/pages.h"
#include "api/api.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/http.h"
#include "core/log.h"
#include "api/app.h"
#include "http/reply.h"
#include "domain/survey.h"

static void html(struct vt_http_request *req, int status, struct vt_buf *b)
{
    vt_http_respond(req, status, "text/html; charset=utf-8", b->data ? b->data : "", b->len);
    vt_buf_cleanup(b);
}

static void done_page(struct vt_http_request *req, int status, const char *title, const char *text)
{
    struct vt_buf b = {0};
    vt_page_survey_done(&b, vt_app_config(req->app), title, text);
    html(req, status, &b);
}

/* Why a survey cannot be answered, as a page; true when it was answered. */
static bool refuse_closed(struct vt_http_request *req, int outcome)
{
    if (outcome == VT_ENOTFOUND)
        done_page(req, 404, "Encuesta no encontrada",
                  "No encontramos esta encuesta. Revise que el enlace esté completo.");
    else if (outcome == VT_EEXIST)
        done_page(req, 409, "Encuesta ya respondida",
                  "Este enlace ya se usó para responder la encuesta. ¡Gracias por su tiempo!");
    else if (outcome == VT_ERANGE)
        done_page(req, 410, "El enlace venció",
                  "El plazo para responder esta encuesta terminó. Si quiere contarnos algo, "
                  "puede radicar una sugerencia en nuestra página.");
    else
        return false;
    return true;
}

/* Splits /encuesta/{token} and /encuesta/p/{code}. */
static void target(const char *path, const char **token, const char **code)
{
    const char *rest = path + strlen("/encuesta/");
    *token = *code = NULL;
    if (strncmp(rest, "p/", 2) == 0)
        *code = rest + 2;
    else
        *token = rest;
}

static const char *form_value(void *ctx, const char *name, int i)
{
    const struct vt_form *f = ctx;
    for (size_t k = 0; k < f->n; k++)
        if (strcmp(f->fields[k].name, name) == 0 && i-- == 0)
            return f->fields[k].value;
    return NULL;
}

struct answer_job {
    struct vt_survey_answer a;
    char token[80], code[80], group[64];
};

static void answer_done(struct vt_http_request *req, void *ctx, int result)
{
    struct answer_job *j = ctx;
    if (!req->orphan) {
        if (result) {
            vt_log(VT_LOG_ERROR, "survey_answer_failed", "error=\"%s\"", vt_strerror(result));
            vt_http_header(req, "Retry-After", "5");
            done_page(req, 503, "No pudimos guardar sus respuestas",
                      "Intente de nuevo en un momento; no se guardó nada.");
        } else if (!refuse_closed(req, j->a.outcome)) {
            vt_log(VT_LOG_INFO, "survey_answered", "item_id=%lld detractor=%d",
                   (long long)j->a.item_id, j->a.detractor);
            done_page(req, 200, "¡Gracias por responder!",
                      j->a.followup
                          ? "Lamentamos que su experiencia no haya sido buena. La dependencia que "
                            "atendió su solicitud revisará su caso para mejorar."
                          : "Guardamos sus respuestas. Nos ayudan a mejorar la atención.");
        }
    }
    cJSON_Delete(j->a.answers);
    vt_item_free(j->a.item);
    free(j);
}

/* GET /encuesta/p/{code}/qr.svg: the public link of an event or public
 * survey as a QR code (libqrencode), to print on posters and slides. */
static void qr_svg(struct vt_http_request *req, const char *code)
{
    struct vt_survey_form f;
    if (vt_survey_find(vt_app_reader(req->app), NULL, code, &f) != 0) {
        refuse_closed(req, VT_ENOTFOUND);
        return;
    }
    vt_survey_form_cleanup(&f);
    char url[400];
    snprintf(url, sizeof(url), "%s/encuesta/p/%s", vt_app_config(req->app)->public_url, code);
    QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        done_page(req, 503, "Servicio no disponible", "No pudimos dibujar el código QR.");
        return;
    }
    /* One unit per module and a quiet zone of four, scaled by the viewer. */
    int size = qr->width + 8;
    struct vt_buf b = {0};
    vt_buf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                  "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"Código QR de la "
                  "encuesta\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path d=\"",
                  size, size, size, size);
    for (int y = 0; y < qr->width; y++)
        for (int x = 0; x < qr->width; x++)
            if (qr->data[y * qr->width + x] & 1)
                vt_buf_printf(&b, "M%d %dh1v1h-1z", x + 4, y + 4);
    vt_buf_puts(&b, "\" fill=\"#000\"/></svg>\n");
    QRcode_free(qr);
    vt_http_respond(req, 200, "image/svg+xml", b.data ? b.data : "", b.len);
    vt_buf_cleanup(&b);
}

static void survey_page(struct vt_http_request *req)
{
    const char *token, *code;
    target(req->path, &token, &code);
    size_t cl = code ? strlen(code) : 0;
    if (code && !req->post && cl > 7 && strcmp(code + cl - 7, "/qr.svg") == 0) {
        char c[64];
        snprintf(c, sizeof(c), "%.*s", (int)(cl - 7 < 63 ? cl - 7 : 63), code);
        qr_svg(req, c);
        return;
    }
    struct vt_survey_form f;
    int rc = vt_survey_find(vt_app_reader(req->app), token, code, &f);
    if (rc) {
        if (rc == VT_ENOTFOUND)
            refuse_closed(req, VT_ENOTFOUND);
        else
            done_page(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    int64_t now = vt_clock_now_ms();
    if (f.invitation_id && (f.used_at || now > f.expires_at)) {
        refuse_closed(req, f.used_at ? VT_EEXIST : VT_ERANGE);
        vt_survey_form_cleanup(&f);
        return;
    }
    struct vt_form form = {0};
    struct vt_intake_error e = {0};
    if (!req->post) {
        struct vt_buf b = {0};
        vt_page_survey(&b, vt_app_config(req->app), f.definition, req->path, NULL, NULL, NULL);
        html(req, 200, &b);
        vt_survey_form_cleanup(&f);
        return;
    }
    if (vt_api_parse_form(req, &form, &e)) {
        vt_survey_form_cleanup(&f);
        done_page(req, e.status, "No pudimos leer sus respuestas", e.message);
        return;
    }
    cJSON *answers = NULL;
    int csat, nps;
    char field[48] = "", why[200] = "";
    if (vt_survey_read_answers(f.definition, form_value, &form, &answers, &csat, &nps, field,
                               sizeof(field), why, sizeof(why))) {
        struct vt_buf b = {0};
        vt_page_survey(&b, vt_app_config(req->app), f.definition, req->path, &form, field, why);
        html(req, 422, &b);
        vt_form_cleanup(&form);
        vt_survey_form_cleanup(&f);
        return;
    }
    vt_survey_form_cleanup(&f);
    struct answer_job *j = calloc(1, sizeof(*j));
    if (!j) {
        cJSON_Delete(answers);
        vt_form_cleanup(&form);
        done_page(req, 503, "Servicio no disponible", "Intente de nuevo en un momento.");
        return;
    }
    const char *group = form_value(&form, "grupo", 0);
    snprintf(j->group, sizeof(j->group), "%s", group ? group : "");
    vt_form_cleanup(&form);
    if (token)
        snprintf(j->token, sizeof(j->token), "%s", token);
    else
        snprintf(j->code, sizeof(j->code), "%s", code);
    j->a = (struct vt_survey_answer){
        .cfg = vt_app_config(req->app),
        .token = token ? j->token : NULL,
        .code = token ? NULL : j->code,
        .channel = "web",
        .declared_group = j->group[0] ? j->group : NULL,
        .answers = answers,
        .csat = csat,
        .nps = nps,
    };
    if (vt_app_run(req, vt_survey_answer_run, j, answer_done) != 0) {
        cJSON_Delete(answers);
        free(j);
    }
}

int vt_web_survey_register(struct vt_http *http)
{
    return vt_http_route(http, "/encuesta/",
                         VT_ROUTE_GET | VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_RATE_LIMITED,
                         65536, survey_page);
}
