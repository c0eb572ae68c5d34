/* api.c - the JSON API and the operational endpoints: POST /api/v1/items,
 * GET /api/v1/track, /healthz and /metrics.
 *
 * Owns: the JSON shapes of the answers.
 * Must not: hold SQL (store) or validation rules (intake).
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "casework.h"
#include "error.h"
#include "form.h"
#include "http.h"
#include "intake.h"
#include "log.h"
#include "server.h"
#include "api.h"

static void render_created(struct vt_http_request *req, struct vt_item *it, int result)
{
    if (result) {
        struct vt_intake_error e = {503, "unavailable", "",
                                    "No pudimos guardar su solicitud. Intente de nuevo en un "
                                    "momento."};
        vt_http_header(req, "Retry-After", "5");
        vt_server_json_error(req, &e);
        return;
    }
    char at[32];
    vt_time_format_iso(it->received_at, at);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "radicado", it->radicado);
    cJSON_AddStringToObject(o, "tracking_code", it->tracking_code);
    cJSON_AddStringToObject(o, "received_at", at);
    if (it->due_date[0])
        cJSON_AddStringToObject(o, "due_date", it->due_date);
    else
        cJSON_AddNullToObject(o, "due_date");
    cJSON_AddStringToObject(o, "status", it->status);
    cJSON_AddStringToObject(o, "stakeholder_group", it->group);
    cJSON_AddStringToObject(o, "classified_by", it->classified_by);
    if (it->n_att) {
        cJSON *arr = cJSON_AddArrayToObject(o, "attachments");
        for (size_t i = 0; i < it->n_att; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "filename", it->att[i].filename);
            cJSON_AddStringToObject(a, "sha256", it->att[i].sha256);
            cJSON_AddNumberToObject(a, "size", (double)it->att[i].size);
            cJSON_AddStringToObject(a, "content_type", it->att[i].content_type);
            cJSON_AddItemToArray(arr, a);
        }
    }
    char loc[96];
    snprintf(loc, sizeof(loc), "/api/v1/items/%s", it->radicado);
    vt_http_header(req, "Location", loc);
    vt_server_json(req, 201, o);
}

/* Parses a form body of either encoding; 0 or an error already in e. */
int vt_api_parse_form(struct vt_http_request *req, struct vt_form *form, struct vt_intake_error *e)
{
    int rc;
    if (vt_http_content_is(req, "application/x-www-form-urlencoded"))
        rc = vt_form_parse_urlencoded(req->body, req->body_len, 64, form);
    else
        rc = vt_form_parse_multipart(req->content_type, req->body, req->body_len, 64, form);
    if (rc == VT_ETOOBIG) {
        *e = (struct vt_intake_error){413, "too_large", "attachments",
                                      "Demasiados campos o archivos."};
        return rc;
    }
    if (rc) {
        *e = (struct vt_intake_error){400, "malformed_form", "body",
                                      "El formulario llegó incompleto o dañado. Intente de nuevo."};
        return rc;
    }
    return 0;
}

static void post_items(struct vt_http_request *req)
{
    const struct vt_intake_ctx *ctx = vt_server_intake(req->srv);
    struct vt_intake_error e = {0};
    struct vt_item *it = NULL;
    struct vt_form form = {0};
    int rc;
    if (vt_http_content_is(req, "application/json")) {
        rc = vt_intake_from_json(ctx, req->body, req->body_len, "web", &it, &e);
    } else if (vt_http_content_is(req, "application/x-www-form-urlencoded") ||
               vt_http_content_is(req, "multipart/form-data")) {
        rc = vt_api_parse_form(req, &form, &e);
        if (rc == 0)
            rc = vt_intake_from_form(ctx, &form, "web", &it, &e);
    } else {
        e = (struct vt_intake_error){415, "unsupported_media_type", "body",
                                     "Envíe JSON (application/json) o un formulario."};
        rc = VT_EINVAL;
    }
    if (rc) {
        vt_log(VT_LOG_INFO, "intake_rejected", "status=%d code=%s field=%s", e.status, e.code,
               e.field);
        vt_form_cleanup(&form);
        vt_server_json_error(req, &e);
        return;
    }
    vt_server_submit(req, it, &form, render_created);
}

const char *vt_api_action_description(const char *action)
{
    static const char *const d[][2] = {
        {"radicado", "Recibimos su solicitud y le asignamos un número de radicado."},
        {"completar_solicitado", "Le pedimos completar la solicitud. El plazo de respuesta está "
                                 "suspendido hasta que recibamos lo que falta."},
        {"completada", "Recibimos lo que faltaba. El plazo de respuesta empezó de nuevo."},
        {"prorrogado", "Ampliamos el plazo de respuesta y le informamos el motivo."},
        {"trasladado", "Trasladamos su solicitud a la entidad competente."},
        {"respondido", "Respondimos su solicitud."},
        {"cerrado", "Cerramos su solicitud."},
        {"reabierto", "Volvimos a abrir su solicitud."},
        {"desistido", "Archivamos su solicitud porque no recibimos lo que faltaba."},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (strcmp(d[i][0], action) == 0)
            return d[i][1];
    return action;
}

/* Builds the public status of an item, or NULL when not found. Shared with
 * the web channel's /consulta page through vt_api_track_lookup. */
int vt_api_track_lookup(struct vt_server *srv, const char *radicado, const char *code,
                        struct vt_track *out)
{
    unsigned char hash[32];
    if (!radicado || !code || strlen(radicado) > 40 || strlen(code) > 40)
        return VT_ENOTFOUND;
    vt_item_tracking_hash(code, hash);
    int rc = vt_store_track(vt_server_reader(srv), radicado, hash, out);
    if (rc == 0)
        vt_casework_answer(vt_server_reader(srv), radicado, &out->answer, &out->answered_at);
    return rc;
}

static void get_track(struct vt_http_request *req)
{
    const struct vt_form_field *r = vt_form_get(&req->query, "radicado");
    const struct vt_form_field *c = vt_form_get(&req->query, "code");
    if (!r || !r->value_len || !c || !c->value_len) {
        struct vt_intake_error e = {422, "missing", "", ""};
        snprintf(e.field, sizeof(e.field), "%s", (!r || !r->value_len) ? "radicado" : "code");
        snprintf(e.message, sizeof(e.message),
                 "Escriba el número de radicado y el código de "
                 "consulta.");
        vt_server_json_error(req, &e);
        return;
    }
    struct vt_track t;
    if (vt_api_track_lookup(req->srv, r->value, c->value, &t)) {
        struct vt_intake_error e = {404, "not_found", "",
                                    "No encontramos una solicitud con ese "
                                    "radicado y ese código."};
        vt_server_json_error(req, &e);
        return;
    }
    char at[32];
    cJSON *o = cJSON_CreateObject(), *hist;
    cJSON_AddStringToObject(o, "radicado", t.radicado);
    cJSON_AddStringToObject(o, "status", t.status);
    cJSON_AddStringToObject(o, "type", t.type);
    vt_time_format_iso(t.received_at, at);
    cJSON_AddStringToObject(o, "received_at", at);
    if (t.due_date[0])
        cJSON_AddStringToObject(o, "due_date", t.due_date);
    else
        cJSON_AddNullToObject(o, "due_date");
    hist = cJSON_AddArrayToObject(o, "history");
    for (size_t i = 0; i < t.n_events; i++) {
        cJSON *e = cJSON_CreateObject();
        vt_time_format_iso(t.events[i].at, at);
        cJSON_AddStringToObject(e, "at", at);
        cJSON_AddStringToObject(e, "action", t.events[i].action);
        cJSON_AddStringToObject(e, "description", vt_api_action_description(t.events[i].action));
        cJSON_AddItemToArray(hist, e);
    }
    if (t.answer) {
        cJSON *a = cJSON_AddObjectToObject(o, "answer");
        cJSON_AddStringToObject(a, "text", t.answer);
        vt_time_format_iso(t.answered_at, at);
        cJSON_AddStringToObject(a, "at", at);
    } else {
        cJSON_AddNullToObject(o, "answer");
    }
    vt_track_cleanup(&t);
    vt_server_json(req, 200, o);
}

static void get_healthz(struct vt_http_request *req)
{
    vt_http_respond(req, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

static void get_metrics(struct vt_http_request *req)
{
    const char *token = vt_server_config(req->srv)->metrics_token;
    if (token && *token) {
        const char *given =
            strncmp(req->authorization, "Bearer ", 7) == 0 ? req->authorization + 7 : "";
        if (strlen(token) != strlen(given) || sodium_memcmp(token, given, strlen(token)) != 0) {
            struct vt_intake_error e = {401, "unauthorized", "", "Falta el token de métricas."};
            vt_server_json_error(req, &e);
            return;
        }
    }
    char *s = vt_server_metrics_text(req->srv);
    vt_http_respond(req, 200, "text/plain; version=0.0.4", s ? s : "", s ? strlen(s) : 0);
    free(s);
}

void vt_api_register(struct vt_http *http)
{
    const struct vt_config *cfg = vt_server_config(vt_http_server(http));
    vt_http_route(http, "/api/v1/items", VT_ROUTE_POST | VT_ROUTE_RATE_LIMITED,
                  (size_t)cfg->max_body_bytes, post_items);
    vt_http_route(http, "/api/v1/track", VT_ROUTE_GET, 0, get_track);
    vt_http_route(http, "/healthz", VT_ROUTE_GET, 0, get_healthz);
    vt_http_route(http, "/metrics", VT_ROUTE_GET, 0, get_metrics);
}
