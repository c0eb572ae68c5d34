/* api.c - the JSON API and the operational endpoints: POST /api/v1/items,
 * POST /api/v1/track, /healthz and /metrics.
 *
 * Owns: the JSON shapes of the answers.
 * Must not: hold SQL (store) or validation rules (intake).
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "domain/casework.h"
#include "core/error.h"
#include "core/form.h"
#include "domain/hearing.h"
#include "http/http.h"
#include "domain/intake.h"
#include "core/log.h"
#include "api/app.h"
#include "http/reply.h"
#include "core/text.h"
#include "api/api.h"
#include "api/live.h"
#include "outbox/outbox.h"
#include "core/buf.h"

static void render_created(struct vt_http_request *req, struct vt_item *it, int result)
{
    if (result) {
        struct vt_intake_error e = {503, "unavailable", "",
                                    "No pudimos guardar su solicitud. Intente de nuevo en un "
                                    "momento."};
        vt_http_header(req, "Retry-After", "5");
        vt_app_intake_error(req, &e);
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
    vt_reply_json(req, 201, o);
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

/* ---- kind "hearing_question": {"kind","hearing","body","show_name"?,
 * "requester"?:{"name"?,"email"?,"phone"?}}, filed by vt_hearing_question_run
 * like the web page's form (channels/web/hearing.c). ---- */

struct hq_job {
    struct vt_hearing_question q;
    char code[64];
    char *text, *name, *email, *phone;
};

static void hq_free(struct hq_job *j)
{
    if (!j)
        return;
    vt_item_free(j->q.item);
    free(j->text);
    free(j->name);
    free(j->email);
    free(j->phone);
    free(j);
}

static int hq_run(struct vt_store_tx *tx, void *ctx)
{
    struct hq_job *j = ctx;
    int rc = vt_hearing_question_run(tx, &j->q);
    if (rc || j->q.outcome || (!j->email && !j->phone))
        return rc;
    return vt_hearing_question_contact(tx, j->q.item, j->phone, j->email,
                                       j->email ? "email" : "whatsapp");
}

static void hq_done(struct vt_http_request *req, void *ctx, int result)
{
    struct hq_job *j = ctx;
    if (req->orphan) {
    } else if (result || j->q.outcome == 0) {
        render_created(req, j->q.item, result);
    } else {
        struct vt_intake_error e = {422, "invalid", "hearing", ""};
        snprintf(e.message, sizeof(e.message), "%s",
                 j->q.outcome == VT_ENOTFOUND
                     ? "No encontramos esa audiencia pública."
                     : "La recepción de preguntas para esta audiencia no está abierta.");
        vt_app_intake_error(req, &e);
    }
    hq_free(j);
}

static int hq_error(struct vt_intake_error *e, int status, const char *code, const char *field,
                    const char *msg)
{
    *e = (struct vt_intake_error){status, code, "", ""};
    snprintf(e->field, sizeof(e->field), "%s", field);
    snprintf(e->message, sizeof(e->message), "%s", msg);
    return VT_EINVAL;
}

/* A string member of o at path (absent: *out NULL); 0 or an error in e. */
static int hq_string(const cJSON *o, const char *key, const char *path, size_t max, char **out,
                     struct vt_intake_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return hq_error(e, 422, "wrong_type", path, "Este campo debe ser un texto.");
    size_t n = strlen(v->valuestring);
    if (!vt_utf8_valid(v->valuestring, n))
        return hq_error(e, 400, "invalid_utf8", path, "El texto no es UTF-8 válido.");
    if (n > max)
        return hq_error(e, 422, "too_long", path, "El texto es demasiado largo.");
    if (!(*out = strdup(v->valuestring)))
        return VT_ENOMEM;
    return 0;
}

static int hq_parse(const cJSON *root, struct hq_job *j, struct vt_intake_error *e)
{
    static const char *const top[] = {"kind", "hearing", "body", "show_name", "requester", NULL};
    static const char *const who[] = {"name", "email", "phone", NULL};
    const cJSON *k, *req = cJSON_GetObjectItemCaseSensitive(root, "requester");
    cJSON_ArrayForEach(k, root)
    {
        size_t i = 0;
        while (top[i] && strcmp(top[i], k->string) != 0)
            i++;
        if (!top[i])
            return hq_error(e, 422, "unknown_field", k->string, "Este campo no existe.");
    }
    if (req && !cJSON_IsNull(req)) {
        if (!cJSON_IsObject(req))
            return hq_error(e, 422, "wrong_type", "requester", "Debe ser un objeto.");
        cJSON_ArrayForEach(k, req)
        {
            size_t i = 0;
            while (who[i] && strcmp(who[i], k->string) != 0)
                i++;
            if (!who[i]) {
                char path[64];
                snprintf(path, sizeof(path), "requester.%s", k->string);
                return hq_error(e, 422, "unknown_field", path, "Este campo no existe.");
            }
        }
    } else {
        req = NULL;
    }
    char *code = NULL;
    int rc = hq_string(root, "hearing", "hearing", 63, &code, e);
    if (rc)
        return rc;
    if (!code || !vt_hearing_code_ok(code)) {
        free(code);
        return hq_error(e, 422, code ? "invalid" : "missing", "hearing",
                        "Indique el código de la audiencia pública.");
    }
    snprintf(j->code, sizeof(j->code), "%s", code);
    free(code);
    if ((rc = hq_string(root, "body", "body", 8000, &j->text, e)))
        return rc;
    if (!j->text || strspn(j->text, " \t\r\n") == strlen(j->text) ||
        vt_utf8_chars(j->text, strlen(j->text)) > 2000)
        return hq_error(e, 422, j->text ? "too_long" : "missing", "body",
                        "Escriba la pregunta (máximo 2000 caracteres).");
    if (req && ((rc = hq_string(req, "name", "requester.name", 200, &j->name, e)) ||
                (rc = hq_string(req, "email", "requester.email", 254, &j->email, e)) ||
                (rc = hq_string(req, "phone", "requester.phone", 30, &j->phone, e))))
        return rc;
    if (j->email && (!strchr(j->email, '@') || strchr(j->email, ' ')))
        return hq_error(e, 422, "invalid", "requester.email", "El correo no es válido.");
    const cJSON *show = cJSON_GetObjectItemCaseSensitive(root, "show_name");
    if (show && !cJSON_IsBool(show))
        return hq_error(e, 422, "wrong_type", "show_name", "Debe ser true o false.");
    j->q.show_name = cJSON_IsTrue(show);
    return 0;
}

/* 1 when the JSON body asks for kind hearing_question (answered here), else
 * 0: the ordinary intake takes it. */
static int post_hearing_question(struct vt_http_request *req)
{
    cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!cJSON_IsObject(root) || !cJSON_IsString(kind) ||
        strcmp(kind->valuestring, "hearing_question") != 0) {
        cJSON_Delete(root);
        return 0;
    }
    struct vt_intake_error e = {0};
    struct hq_job *j = calloc(1, sizeof(*j));
    int rc = j ? hq_parse(root, j, &e) : VT_ENOMEM;
    cJSON_Delete(root);
    if (rc) {
        if (rc == VT_ENOMEM)
            e = (struct vt_intake_error){503, "unavailable", "", "Intente de nuevo en un momento."};
        vt_log(VT_LOG_INFO, "intake_rejected", "status=%d code=%s field=%s", e.status, e.code,
               vt_log_name(e.field));
        hq_free(j);
        vt_app_intake_error(req, &e);
        return 1;
    }
    j->q.cfg = vt_app_config(req->app);
    j->q.code = j->code;
    j->q.text = j->text;
    j->q.name = j->name;
    j->q.source = "web";
    j->q.channel = "web";
    if (vt_app_run(req, hq_run, j, hq_done) != 0)
        hq_free(j);
    return 1;
}

static void post_items(struct vt_http_request *req)
{
    const struct vt_intake_ctx *ctx = vt_app_intake(req->app);
    struct vt_intake_error e = {0};
    struct vt_item *it = NULL;
    struct vt_form form = {0};
    int rc;
    if (vt_http_content_is(req, "application/json")) {
        if ((long long)req->body_len <= ctx->cfg->max_json_bytes && post_hearing_question(req))
            return;
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
               vt_log_name(e.field));
        vt_form_cleanup(&form);
        vt_app_intake_error(req, &e);
        return;
    }
    vt_app_submit(req, it, &form, render_created);
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
        {"respuesta_entregada", "Le entregamos la carta con la respuesta."},
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
int vt_api_track_lookup(struct vt_app *srv, const char *radicado, const char *code,
                        struct vt_track *out)
{
    unsigned char hash[32];
    if (!radicado || !code || strlen(radicado) > 40 || strlen(code) > 40)
        return VT_ENOTFOUND;
    vt_item_tracking_hash(code, hash);
    int rc = vt_store_track(vt_app_reader(srv), radicado, hash, out);
    if (rc == 0)
        vt_casework_answer(vt_app_reader(srv), radicado, &out->answer, &out->answered_at);
    return rc;
}

/* The tracking code is a secret: it never travels in a URL, where browsers,
 * proxies and server logs keep it. */
static const char TRACK_USE_POST[] =
    "Por seguridad, el código de consulta no se envía en la dirección (URL). Envíe el número "
    "de radicado y el código con POST, en JSON {\"radicado\", \"code\"} o en un formulario.";

/* The radicado and code of a POST /api/v1/track body: JSON {"radicado",
 * "code"} or a form (radicado, code or codigo). 0 with *rad and *code
 * pointing into root or form (the caller frees both), or an error answered. */
static int track_input(struct vt_http_request *req, cJSON **root, struct vt_form *form,
                       const char **rad, const char **code)
{
    struct vt_intake_error e = {0};
    *rad = *code = NULL;
    if (vt_http_content_is(req, "application/json")) {
        *root = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
        if (!cJSON_IsObject(*root)) {
            vt_reply_error(req, 400, "malformed_json", "body",
                            "El cuerpo no es un objeto JSON válido: envíe "
                            "{\"radicado\", \"code\"}.");
            return VT_EINVAL;
        }
        const cJSON *v;
        cJSON_ArrayForEach(v, *root)
        {
            bool known = strcmp(v->string, "radicado") == 0 || strcmp(v->string, "code") == 0;
            if (!known) {
                vt_reply_error(req, 422, "unknown_field", NULL,
                                "Solo se reciben los campos «radicado» y «code».");
                return VT_EINVAL;
            }
            if (!cJSON_IsString(v)) {
                char msg[120];
                snprintf(msg, sizeof(msg), "«%s» debe ser un texto.", v->string);
                vt_reply_error(req, 422, "wrong_type", v->string, msg);
                return VT_EINVAL;
            }
            *(strcmp(v->string, "radicado") == 0 ? rad : code) = v->valuestring;
        }
    } else if (vt_http_content_is(req, "application/x-www-form-urlencoded") ||
               vt_http_content_is(req, "multipart/form-data")) {
        if (vt_api_parse_form(req, form, &e)) {
            vt_app_intake_error(req, &e);
            return VT_EINVAL;
        }
        const struct vt_form_field *r = vt_form_get(form, "radicado");
        const struct vt_form_field *c = vt_form_get(form, "code");
        if (!c)
            c = vt_form_get(form, "codigo");
        *rad = r && !r->filename ? r->value : NULL;
        *code = c && !c->filename ? c->value : NULL;
    } else {
        vt_reply_error(req, 415, "unsupported_media_type", "body",
                        "Envíe JSON {\"radicado\", \"code\"} (application/json) o un formulario.");
        return VT_EINVAL;
    }
    if (!*rad || !**rad || !*code || !**code) {
        vt_reply_error(req, 422, "missing", !*rad || !**rad ? "radicado" : "code",
                        "Escriba el número de radicado y el código de consulta.");
        return VT_EINVAL;
    }
    return 0;
}

static void track_json(struct vt_http_request *req, const struct vt_track *t)
{
    char at[32];
    cJSON *o = cJSON_CreateObject(), *hist;
    cJSON_AddStringToObject(o, "radicado", t->radicado);
    cJSON_AddStringToObject(o, "status", t->status);
    cJSON_AddStringToObject(o, "type", t->type);
    vt_time_format_iso(t->received_at, at);
    cJSON_AddStringToObject(o, "received_at", at);
    if (t->due_date[0])
        cJSON_AddStringToObject(o, "due_date", t->due_date);
    else
        cJSON_AddNullToObject(o, "due_date");
    hist = cJSON_AddArrayToObject(o, "history");
    for (size_t i = 0; i < t->n_events; i++) {
        cJSON *e = cJSON_CreateObject();
        vt_time_format_iso(t->events[i].at, at);
        cJSON_AddStringToObject(e, "at", at);
        cJSON_AddStringToObject(e, "action", t->events[i].action);
        cJSON_AddStringToObject(e, "description", vt_api_action_description(t->events[i].action));
        cJSON_AddItemToArray(hist, e);
    }
    if (t->answer) {
        cJSON *a = cJSON_AddObjectToObject(o, "answer");
        cJSON_AddStringToObject(a, "text", t->answer);
        vt_time_format_iso(t->answered_at, at);
        cJSON_AddStringToObject(a, "at", at);
    } else {
        cJSON_AddNullToObject(o, "answer");
    }
    vt_reply_json(req, 200, o);
}

/* POST /api/v1/track: the public status by radicado and code, limited per
 * client address (tracking.rate_limit_*). GET answers 405 whatever its query
 * says, so that a code put in a URL reveals nothing. */
static void track(struct vt_http_request *req)
{
    if (!req->post) {
        vt_http_header(req, "Allow", "POST");
        vt_reply_error(req, 405, "method_not_allowed", NULL, TRACK_USE_POST);
        return;
    }
    int retry;
    if (!vt_app_track_allow(req->app, req, &retry)) {
        char ra[16], msg[160];
        snprintf(ra, sizeof(ra), "%d", retry);
        snprintf(msg, sizeof(msg),
                 "Ha hecho muchas consultas seguidas. Espere %d segundos e intente de nuevo.",
                 retry);
        vt_http_header(req, "Retry-After", ra);
        vt_log(VT_LOG_WARN, "rate_limited", "path=%s", req->path);
        vt_reply_error(req, 429, "rate_limited", NULL, msg);
        return;
    }
    cJSON *root = NULL;
    struct vt_form form = {0};
    const char *rad, *code;
    struct vt_track t;
    if (track_input(req, &root, &form, &rad, &code) == 0) {
        if (vt_api_track_lookup(req->app, rad, code, &t) == 0) {
            track_json(req, &t);
            vt_track_cleanup(&t);
        } else {
            vt_reply_error(req, 404, "not_found", NULL,
                            "No encontramos una solicitud con ese radicado y ese código.");
        }
    }
    cJSON_Delete(root);
    vt_form_cleanup(&form);
}

static void get_healthz(struct vt_http_request *req)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    vt_http_respond(req, 200, "application/json", ok, sizeof(ok) - 1);
}

/* The Prometheus text of /metrics; caller frees. Loop thread. */
static char *metrics_text(struct vt_app *app)
{
    struct vt_buf b = {0};
    struct vt_store_stats st;
    vt_store_stats(app->store, &st);
    vt_buf_puts(&b, "# HELP ventanilla_intakes_total Items committed, by channel.\n"
                    "# TYPE ventanilla_intakes_total counter\n");
    for (int c = 0; vt_app_channel_names[c]; c++)
        vt_buf_printf(&b, "ventanilla_intakes_total{channel=\"%s\"} %llu\n", vt_app_channel_names[c],
                      (unsigned long long)atomic_load(&app->intakes[c]));
    static const char *batch_le[] = {"1", "4", "16", "64", "256", "1024", "4096", "+Inf"};
    static const char *lat_le[] = {"0.001", "0.002", "0.005", "0.01",
                                   "0.025", "0.05",  "0.1",   "+Inf"};
    vt_buf_puts(&b, "# HELP ventanilla_commit_batch_size Jobs per group commit.\n"
                    "# TYPE ventanilla_commit_batch_size histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < 8; i++) {
        cum += st.batch_hist[i];
        vt_buf_printf(&b, "ventanilla_commit_batch_size_bucket{le=\"%s\"} %llu\n", batch_le[i],
                      cum);
    }
    vt_buf_printf(
        &b, "ventanilla_commit_batch_size_sum %llu\nventanilla_commit_batch_size_count %llu\n",
        (unsigned long long)st.jobs, (unsigned long long)st.batches);
    vt_buf_printf(&b,
                  "# HELP ventanilla_commit_batches_total Group commits.\n"
                  "# TYPE ventanilla_commit_batches_total counter\n"
                  "ventanilla_commit_batches_total %llu\n",
                  (unsigned long long)st.batches);
    vt_buf_puts(&b, "# HELP ventanilla_commit_latency_seconds Time from BEGIN to durable COMMIT.\n"
                    "# TYPE ventanilla_commit_latency_seconds histogram\n");
    cum = 0;
    for (int i = 0; i < 8; i++) {
        cum += st.latency_hist[i];
        vt_buf_printf(&b, "ventanilla_commit_latency_seconds_bucket{le=\"%s\"} %llu\n", lat_le[i],
                      cum);
    }
    vt_buf_printf(&b,
                  "ventanilla_commit_latency_seconds_sum %.6f\n"
                  "ventanilla_commit_latency_seconds_count %llu\n",
                  st.latency_sum, (unsigned long long)st.batches);
    vt_buf_printf(&b,
                  "# HELP ventanilla_websocket_clients Connected /live clients.\n"
                  "# TYPE ventanilla_websocket_clients gauge\n"
                  "ventanilla_websocket_clients %d\n",
                  vt_live_clients(app->live));
    struct vt_count oc[16];
    size_t n_oc = 0;
    if (vt_outbox_counts(app->reader, oc, 16, &n_oc) == 0) {
        vt_buf_puts(&b, "# HELP ventanilla_outbox_messages Outbound messages by delivery status.\n"
                        "# TYPE ventanilla_outbox_messages gauge\n");
        for (size_t i = 0; i < n_oc; i++)
            vt_buf_printf(&b, "ventanilla_outbox_messages{status=\"%s\"} %lld\n", oc[i].key,
                          (long long)oc[i].n);
    }
    struct vt_http_stats hs;
    vt_http_stats(app->http, &hs);
    vt_buf_printf(&b,
                  "# HELP ventanilla_http_body_bytes Request body bytes held in memory.\n"
                  "# TYPE ventanilla_http_body_bytes gauge\n"
                  "ventanilla_http_body_bytes %zu\n"
                  "# HELP ventanilla_http_body_budget_bytes server.body_budget_bytes.\n"
                  "# TYPE ventanilla_http_body_budget_bytes gauge\n"
                  "ventanilla_http_body_budget_bytes %zu\n"
                  "# HELP ventanilla_http_busy_total Requests answered 503: their bodies would "
                  "pass the budget.\n"
                  "# TYPE ventanilla_http_busy_total counter\n"
                  "ventanilla_http_busy_total %llu\n"
                  "# HELP ventanilla_connections_refused_total Connections closed when accepted: "
                  "their address held server.max_connections_per_ip.\n"
                  "# TYPE ventanilla_connections_refused_total counter\n"
                  "ventanilla_connections_refused_total %llu\n",
                  hs.body_bytes, hs.body_budget, hs.busy, hs.refused);
    vt_buf_puts(&b, "# HELP ventanilla_http_responses_total HTTP responses by status class.\n"
                    "# TYPE ventanilla_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        vt_buf_printf(&b, "ventanilla_http_responses_total{code=\"%dxx\"} %llu\n", c,
                      hs.responses[c]);
    return vt_buf_steal(&b, NULL);
}


static void get_metrics(struct vt_http_request *req)
{
    const char *token = vt_app_config(req->app)->metrics_token;
    if (token && *token) {
        const char *given =
            strncmp(req->authorization, "Bearer ", 7) == 0 ? req->authorization + 7 : "";
        if (strlen(token) != strlen(given) || sodium_memcmp(token, given, strlen(token)) != 0) {
            struct vt_intake_error e = {401, "unauthorized", "", "Falta el token de métricas."};
            vt_app_intake_error(req, &e);
            return;
        }
    }
    char *s = metrics_text(req->app);
    vt_http_respond(req, 200, "text/plain; version=0.0.4", s ? s : "", s ? strlen(s) : 0);
    free(s);
}

int vt_api_register(struct vt_http *http)
{
    const struct vt_config *cfg = vt_app_config(vt_http_app(http));
    int rc = vt_http_route(http, "/api/v1/items", VT_ROUTE_POST | VT_ROUTE_RATE_LIMITED,
                           (size_t)cfg->max_body_bytes, post_items);
    rc = rc ? rc : vt_http_route(http, "/api/v1/track", VT_ROUTE_GET | VT_ROUTE_POST, 4096, track);
    rc = rc ? rc : vt_http_route(http, "/healthz", VT_ROUTE_GET, 0, get_healthz);
    return rc ? rc : vt_http_route(http, "/metrics", VT_ROUTE_GET, 0, get_metrics);
}
