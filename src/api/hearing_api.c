/* hearing_api.c - the staff API of public hearings (hearing.h):
 *
 *   POST /api/v1/hearings                       admin, moderador: create (warns when
 *                                               convoked less than 15 days before)
 *   GET  /api/v1/hearings                       any staff role
 *   GET  /api/v1/hearings/{code}/questions?status=   moderador
 *   POST /api/v1/hearings/{code}/questions      any staff role but admin: a question
 *                                               from the mailbox, social networks or a card
 *   POST /api/v1/hearings/{code}/questions/{radicado}/moderate   moderador
 *   GET  /api/v1/hearings/{code}/report         any staff role: the answers report as
 *                                               JSON (the printable page and the CSV are
 *                                               public: /audiencia/{code}/respuestas[.csv])
 *   POST /api/v1/hearings/{code}/commitments    moderador, coordinador, admin
 *   GET  /api/v1/hearings/{code}/commitments    any staff role
 *   POST /api/v1/commitments/{id}/progress      coordinador of the commitment's dependencia
 *
 * A hearing may name its evaluation survey (survey_code, a survey of purpose
 * event) on create.
 *
 * Owns: the JSON shapes. The SQL and the state machine are hearing.c's; the
 * wall is told after each moderation's commit (vt_live_wall_changed).
 */
#include "api/hearing_api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "core/calendar.h"
#include "core/error.h"
#include "domain/hearing.h"
#include "domain/intake.h"
#include "api/live.h"
#include "api/app.h"
#include "http/reply.h"
#include "core/text.h"

#define R(role) (1u << VT_ROLE_##role)
#define MIN_NOTICE_DAYS 15

/* A string member of o within max bytes of valid UTF-8: its value, "" when
 * absent and optional, or NULL having answered 422. */
static const char *text_member(struct vt_http_request *req, const cJSON *o, const char *key,
                               size_t max, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char msg[160];
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return "";
        snprintf(msg, sizeof(msg), "Falta el campo «%s».", key);
        vt_reply_error(req, 422, "missing", key, msg);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        snprintf(msg, sizeof(msg), "El campo «%s» debe ser texto.", key);
        vt_reply_error(req, 422, "wrong_type", key, msg);
        return NULL;
    }
    size_t n = strlen(v->valuestring);
    if (!vt_utf8_valid(v->valuestring, n)) {
        vt_reply_error(req, 400, "invalid_utf8", key, "El texto no es UTF-8 válido.");
        return NULL;
    }
    if (n > max || (required && n == 0)) {
        snprintf(msg, sizeof(msg), n ? "El campo «%s» es demasiado largo." : "Falta el campo «%s».",
                 key);
        vt_reply_error(req, 422, n ? "too_long" : "missing", key, msg);
        return NULL;
    }
    return v->valuestring;
}

static cJSON *body_object(struct vt_http_request *req)
{
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        vt_reply_error(req, 400, "malformed_json", "body", "Envíe un objeto JSON.");
        return NULL;
    }
    return o;
}

/* ---- hearings ---- */

struct create_job {
    struct vt_hearing_create c;
    int notice_days;
};

static void create_done(struct vt_http_request *req, void *ctx, int result)
{
    struct create_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->c.outcome == VT_EINVAL)
            vt_reply_error(req, 422, "invalid", "survey_code",
                            "No existe una encuesta de evento con ese código.");
        else if (j->c.outcome == VT_EEXIST)
            vt_reply_error(req, 409, "conflict", "code",
                            "Ya existe una audiencia con ese código.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", j->c.h.code);
            cJSON *w = cJSON_AddArrayToObject(o, "warnings");
            if (j->notice_days < MIN_NOTICE_DAYS) {
                char msg[200];
                snprintf(msg, sizeof(msg),
                         "La convocatoria se hizo %d días antes de la audiencia; deben ser al "
                         "menos %d días calendario.",
                         j->notice_days, MIN_NOTICE_DAYS);
                cJSON_AddItemToArray(w, cJSON_CreateString(msg));
            }
            vt_reply_json(req, 201, o);
        }
    }
    free(j);
}

static bool time_member(struct vt_http_request *req, const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
        *out = (int64_t)v->valuedouble;
        return true;
    }
    char msg[160];
    snprintf(msg, sizeof(msg), "El campo «%s» es la hora en milisegundos Unix.", key);
    vt_reply_error(req, 422, "invalid", key, msg);
    return false;
}

static void post_hearing(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN) | R(MODERADOR), true, &who) || !vt_reply_require_json(req))
        return;
    cJSON *o = body_object(req);
    if (!o)
        return;
    struct create_job *j = calloc(1, sizeof(*j));
    if (!j) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    struct vt_hearing *h = &j->c.h;
    const char *code, *name, *date, *place, *stream, *convoked, *survey;
    vt_date_t d;
    if (!(code = text_member(req, o, "code", 63, true)))
        goto fail;
    if (!vt_hearing_code_ok(code)) {
        vt_reply_error(req, 422, "invalid", "code",
                        "El código lleva de 1 a 63 letras minúsculas, números o _.");
        goto fail;
    }
    if (!(name = text_member(req, o, "name", 200, true)) ||
        !(date = text_member(req, o, "date", 10, true)))
        goto fail;
    if (vt_date_parse(date, &d)) {
        vt_reply_error(req, 422, "invalid", "date", "Escriba la fecha como AAAA-MM-DD.");
        goto fail;
    }
    if (!(convoked = text_member(req, o, "convoked_on", 10, true)))
        goto fail;
    if (vt_date_parse(convoked, &d)) {
        vt_reply_error(req, 422, "invalid", "convoked_on", "Escriba la fecha como AAAA-MM-DD.");
        goto fail;
    }
    if (!(place = text_member(req, o, "place", 200, false)) ||
        !(stream = text_member(req, o, "stream_url", 400, false)) ||
        !time_member(req, o, "questions_open_at", &h->open_at) ||
        !time_member(req, o, "questions_close_at", &h->close_at) ||
        !(survey = text_member(req, o, "survey_code", 63, false)))
        goto fail;
    if (h->close_at <= h->open_at) {
        vt_reply_error(req, 422, "invalid", "questions_close_at",
                        "El cierre de preguntas debe ser posterior a su apertura.");
        goto fail;
    }
    snprintf(h->code, sizeof(h->code), "%s", code);
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->date, sizeof(h->date), "%s", date);
    snprintf(h->place, sizeof(h->place), "%s", place);
    snprintf(h->stream_url, sizeof(h->stream_url), "%s", stream);
    snprintf(h->convoked_on, sizeof(h->convoked_on), "%s", convoked);
    snprintf(h->survey_code, sizeof(h->survey_code), "%s", survey);
    snprintf(j->c.actor, sizeof(j->c.actor), "staff:%s", who.username);
    j->notice_days = vt_hearing_notice_days(convoked, date);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_hearing_create_run, j, create_done) != 0)
        free(j);
    return;
fail:
    cJSON_Delete(o);
    free(j);
}

static void get_hearings(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, ~0u, false, &who))
        return;
    cJSON *arr = vt_hearing_list(vt_app_reader(req->app));
    if (!arr) {
        vt_reply_store_failed(req);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "hearings", arr);
    vt_reply_json(req, 200, o);
}

/* ---- questions ---- */

static const char *const statuses[] = {
    "pendiente", "aprobada", "rechazada", "fusionada", "seleccionada", "respondida_en_vivo", NULL};
static const char *const sources[] = {"buzon", "redes", "tarjeta", "whatsapp",
                                      "email", "web",   "staff",   NULL};

static void get_questions(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(MODERADOR), false, &who))
        return;
    const struct vt_form_field *f = vt_form_get(&req->query, "status");
    const char *status = f && f->value_len ? vt_item_enum(statuses, f->value) : NULL;
    if (f && f->value_len && !status) {
        vt_reply_error(req, 422, "unknown_value", "status", "Ese estado de pregunta no existe.");
        return;
    }
    struct vt_hearing h;
    int rc = vt_hearing_find(vt_app_reader(req->app), code, &h);
    if (rc == VT_ENOTFOUND) {
        vt_reply_error(req, 404, "not_found", NULL, "No existe esa audiencia.");
        return;
    }
    /* ?topic= narrows to one topic group ("" or absent: every question). */
    const struct vt_form_field *t = vt_form_get(&req->query, "topic");
    const char *topic = t && t->value_len ? t->value : NULL;
    cJSON *arr = rc ? NULL : vt_hearing_questions(vt_app_reader(req->app), code, status, topic);
    cJSON *topics = arr ? vt_hearing_topics(vt_app_reader(req->app), code) : NULL;
    if (!arr || !topics) {
        cJSON_Delete(arr);
        vt_reply_store_failed(req);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "hearing", code);
    cJSON_AddItemToObject(o, "questions", arr);
    cJSON_AddItemToObject(o, "topics", topics);
    vt_reply_json(req, 200, o);
}

struct question_job {
    struct vt_hearing_question q;
    char code[64], source[16];
    char *text, *name;
};

static void question_done(struct vt_http_request *req, void *ctx, int result)
{
    struct question_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->q.outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", "hearing", "No existe esa audiencia.");
        else if (j->q.outcome == VT_ERANGE)
            vt_reply_error(req, 422, "invalid", "hearing",
                            "La recepción de preguntas para esta audiencia no está abierta.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "radicado", j->q.item->radicado);
            cJSON_AddStringToObject(o, "status", "pendiente");
            cJSON_AddStringToObject(o, "due_date", j->q.item->due_date);
            vt_reply_json(req, 201, o);
        }
    }
    vt_item_free(j->q.item);
    free(j->text);
    free(j->name);
    free(j);
}

static void post_question(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(AGENTE) | R(COORDINADOR) | R(GERENTE) | R(MODERADOR), true, &who) ||
        !vt_reply_require_json(req))
        return;
    cJSON *o = body_object(req);
    if (!o)
        return;
    const char *text, *source, *name;
    if (!(text = text_member(req, o, "text", 2000, true)) ||
        !(source = text_member(req, o, "source", 15, true))) {
        cJSON_Delete(o);
        return;
    }
    const char *src = vt_item_enum(sources, source);
    if (!src) {
        cJSON_Delete(o);
        vt_reply_error(req, 422, "unknown_value", "source",
                        "El origen es buzon, redes, tarjeta, whatsapp, email, web o staff.");
        return;
    }
    if (!(name = text_member(req, o, "name", 200, false))) {
        cJSON_Delete(o);
        return;
    }
    const cJSON *show = cJSON_GetObjectItemCaseSensitive(o, "show_name");
    if (show && !cJSON_IsBool(show)) {
        cJSON_Delete(o);
        vt_reply_error(req, 422, "wrong_type", "show_name",
                        "El campo «show_name» es true o false.");
        return;
    }
    struct question_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->text = strdup(text)) || !(j->name = strdup(name))) {
        if (j)
            free(j->text);
        free(j);
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    snprintf(j->code, sizeof(j->code), "%s", code);
    j->q = (struct vt_hearing_question){
        .cfg = vt_app_config(req->app),
        .code = j->code,
        .text = j->text,
        .name = j->name,
        .source = src,
        .channel = "staff",
        .show_name = cJSON_IsTrue(show),
    };
    snprintf(j->q.actor, sizeof(j->q.actor), "staff:%s", who.username);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_hearing_question_run, j, question_done) != 0) {
        free(j->text);
        free(j->name);
        free(j);
    }
}

static void moderate_done(struct vt_http_request *req, void *ctx, int result)
{
    struct vt_hearing_moderation *m = ctx;
    if (result == 0 && m->outcome == 0)
        vt_live_wall_changed(vt_app_live(req->app), m->code);
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (m->outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL,
                            "No existe esa pregunta en esta audiencia.");
        else if (m->outcome == VT_EINVAL) {
            char msg[200];
            snprintf(msg, sizeof(msg), "Una pregunta en estado %s no admite esa acción.",
                     m->from_status);
            vt_reply_error(req, 409, "conflict", "action", msg);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "radicado", m->radicado);
            cJSON_AddStringToObject(o, "status", m->to_status);
            vt_reply_json(req, 200, o);
        }
    }
    free(m);
}

static void post_moderate(struct vt_http_request *req, const char *code, const char *radicado)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(MODERADOR), true, &who) || !vt_reply_require_json(req))
        return;
    cJSON *o = body_object(req);
    if (!o)
        return;
    static const char *const actions[] = {"approve",       "reject", "merge", "select",
                                          "answered_live", "topic",  NULL};
    const char *action = text_member(req, o, "action", 15, true);
    const char *reason = "", *into = "", *topic = "";
    if (!action)
        goto fail;
    if (!vt_item_enum(actions, action)) {
        vt_reply_error(req, 422, "unknown_value", "action",
                        "La acción es approve, reject, merge, select, answered_live o topic.");
        goto fail;
    }
    if (strcmp(action, "reject") == 0 && !(reason = text_member(req, o, "reason", 500, true)))
        goto fail;
    if (strcmp(action, "merge") == 0 && !(into = text_member(req, o, "into", 47, true)))
        goto fail;
    if (strcmp(action, "topic") == 0 && !(topic = text_member(req, o, "topic", 100, true)))
        goto fail;
    struct vt_hearing_moderation *m = calloc(1, sizeof(*m));
    if (!m) {
        vt_reply_store_failed(req);
        goto fail;
    }
    snprintf(m->code, sizeof(m->code), "%s", code);
    snprintf(m->radicado, sizeof(m->radicado), "%s", radicado);
    snprintf(m->action, sizeof(m->action), "%s", action);
    snprintf(m->reason, sizeof(m->reason), "%s", reason);
    snprintf(m->into, sizeof(m->into), "%s", into);
    snprintf(m->topic, sizeof(m->topic), "%s", topic);
    snprintf(m->actor, sizeof(m->actor), "staff:%s", who.username);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_hearing_moderate_run, m, moderate_done) != 0)
        free(m);
    return;
fail:
    cJSON_Delete(o);
}

/* ---- after the event: the answers report and the commitments ---- */

static bool hearing_exists(struct vt_http_request *req, const char *code)
{
    struct vt_hearing h;
    int rc = vt_hearing_find(vt_app_reader(req->app), code, &h);
    if (rc == VT_ENOTFOUND)
        vt_reply_error(req, 404, "not_found", NULL, "No existe esa audiencia.");
    else if (rc)
        vt_reply_store_failed(req);
    return rc == 0;
}

static void get_report(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, ~0u, false, &who) || !hearing_exists(req, code))
        return;
    cJSON *o = vt_hearing_report(vt_app_reader(req->app), code);
    cJSON *c = o ? vt_hearing_commitments(vt_app_reader(req->app), code) : NULL;
    if (!c) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    cJSON_AddStringToObject(o, "hearing", code);
    cJSON_AddItemToObject(o, "commitments", c);
    vt_reply_json(req, 200, o);
}

static void get_commitments(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, ~0u, false, &who) || !hearing_exists(req, code))
        return;
    cJSON *arr = vt_hearing_commitments(vt_app_reader(req->app), code);
    if (!arr) {
        vt_reply_store_failed(req);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "hearing", code);
    cJSON_AddItemToObject(o, "commitments", arr);
    vt_reply_json(req, 200, o);
}

static void commitment_done(struct vt_http_request *req, void *ctx, int result)
{
    struct vt_hearing_commitment *c = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (c->outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL, "No existe esa audiencia.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)c->id);
            cJSON_AddStringToObject(o, "status", "abierto");
            vt_reply_json(req, 201, o);
        }
    }
    free(c);
}

static void post_commitment(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(MODERADOR) | R(COORDINADOR) | R(ADMIN), true, &who) ||
        !vt_reply_require_json(req))
        return;
    cJSON *o = body_object(req);
    if (!o)
        return;
    const char *text, *dep, *due;
    vt_date_t d;
    if (!(text = text_member(req, o, "text", 1000, true)) ||
        !(dep = text_member(req, o, "dependencia", 100, true)) ||
        !(due = text_member(req, o, "due_date", 10, true)))
        goto fail;
    if (vt_date_parse(due, &d)) {
        vt_reply_error(req, 422, "invalid", "due_date", "Escriba la fecha como AAAA-MM-DD.");
        goto fail;
    }
    struct vt_hearing_commitment *c = calloc(1, sizeof(*c));
    if (!c) {
        vt_reply_store_failed(req);
        goto fail;
    }
    snprintf(c->code, sizeof(c->code), "%s", code);
    snprintf(c->text, sizeof(c->text), "%s", text);
    snprintf(c->dependencia, sizeof(c->dependencia), "%s", dep);
    snprintf(c->due_date, sizeof(c->due_date), "%s", due);
    snprintf(c->actor, sizeof(c->actor), "staff:%s", who.username);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_hearing_commitment_run, c, commitment_done) != 0)
        free(c);
    return;
fail:
    cJSON_Delete(o);
}

static void progress_done(struct vt_http_request *req, void *ctx, int result)
{
    struct vt_hearing_progress *g = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (g->outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL, "No existe ese compromiso.");
        else if (g->outcome == VT_EPERM)
            vt_reply_error(req, 403, "forbidden", NULL,
                            "Solo la coordinación de la dependencia responsable reporta el "
                            "avance de este compromiso.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)g->commitment_id);
            cJSON_AddNumberToObject(o, "percent", g->percent);
            cJSON_AddStringToObject(o, "status", g->status);
            vt_reply_json(req, 201, o);
        }
    }
    free(g);
}

static void post_progress(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(COORDINADOR), true, &who) || !vt_reply_require_json(req))
        return;
    const char *rest = req->path + strlen("/api/v1/commitments/");
    char *end = NULL;
    long long id = strtoll(rest, &end, 10);
    if (id <= 0 || end == rest || strcmp(end, "/progress") != 0) {
        vt_reply_not_found(req);
        return;
    }
    cJSON *o = body_object(req);
    if (!o)
        return;
    const char *text = text_member(req, o, "text", 1000, true);
    const cJSON *pct = cJSON_GetObjectItemCaseSensitive(o, "percent");
    if (!text)
        goto fail;
    if (!cJSON_IsNumber(pct) || pct->valuedouble < 0 || pct->valuedouble > 100 ||
        pct->valuedouble != (double)(int)pct->valuedouble) {
        vt_reply_error(req, 422, "invalid", "percent",
                        "El avance es un número entero de 0 a 100.");
        goto fail;
    }
    struct vt_hearing_progress *g = calloc(1, sizeof(*g));
    if (!g) {
        vt_reply_store_failed(req);
        goto fail;
    }
    g->commitment_id = id;
    g->percent = (int)pct->valuedouble;
    snprintf(g->text, sizeof(g->text), "%s", text);
    snprintf(g->dependencia, sizeof(g->dependencia), "%s", who.dependencia);
    snprintf(g->actor, sizeof(g->actor), "staff:%s", who.username);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_hearing_progress_run, g, progress_done) != 0)
        free(g);
    return;
fail:
    cJSON_Delete(o);
}

/* ---- routing ---- */

static void hearing_routes(struct vt_http_request *req)
{
    const char *rest = req->path + strlen("/api/v1/hearings/");
    char code[64], radicado[48];
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof(code)) {
        vt_reply_not_found(req);
        return;
    }
    snprintf(code, sizeof(code), "%.*s", (int)n, rest);
    rest += n;
    if (strcmp(rest, "/questions") == 0) {
        if (req->post)
            post_question(req, code);
        else
            get_questions(req, code);
        return;
    }
    if (strcmp(rest, "/report") == 0 && !req->post) {
        get_report(req, code);
        return;
    }
    if (strcmp(rest, "/commitments") == 0) {
        if (req->post)
            post_commitment(req, code);
        else
            get_commitments(req, code);
        return;
    }
    const char *p = "/questions/";
    size_t m = strlen(p);
    if (req->post && strncmp(rest, p, m) == 0) {
        rest += m;
        n = strcspn(rest, "/");
        if (n > 0 && n < sizeof(radicado) && strcmp(rest + n, "/moderate") == 0) {
            snprintf(radicado, sizeof(radicado), "%.*s", (int)n, rest);
            post_moderate(req, code, radicado);
            return;
        }
    }
    vt_reply_not_found(req);
}

int vt_hearing_api_register(struct vt_http *http)
{
    int rc = vt_http_route(http, "/api/v1/hearings", VT_ROUTE_GET, 0, get_hearings);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/hearings", VT_ROUTE_POST | VT_ROUTE_STAFF, 16384,
                            post_hearing);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/hearings/",
                            VT_ROUTE_GET | VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_STAFF, 16384,
                            hearing_routes);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/commitments/",
                            VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_STAFF, 16384, post_progress);
    return rc;
}
