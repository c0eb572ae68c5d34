/* survey_api.c - the staff API of surveys: definitions for admins (list,
 * create, new version, export/import as JSON), the satisfaction figures for
 * gerentes, and the detractor follow-up tasks for the dependencias.
 *
 *   GET  /api/v1/surveys                    admin, gerente: every survey, current version
 *   POST /api/v1/surveys                    admin: {code, purpose, definition} creates;
 *                                           on an existing code, a new version
 *   GET  /api/v1/surveys/{code}             admin, gerente: every version (the export)
 *   POST /api/v1/surveys/{code}/active      admin: {"active": bool}
 *   GET  /api/v1/surveys/figures?from&to&by gerente
 *   GET  /api/v1/followups                  agente, coordinador (their dependencia), gerente
 *   POST /api/v1/followups/{id}/close       agente, coordinador: {"note"}
 *
 * Owns: the routes, the checks of what a request carries and the answers.
 * Must not: hold SQL (domain/survey.c and domain/followups.c keep it).
 */
#include "api/survey_api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/auth.h"
#include "core/calendar.h"
#include "core/error.h"
#include "domain/followups.h"
#include "domain/survey.h"
#include "http/reply.h"

#define R(role) (1u << VT_ROLE_##role)

/* ---- definitions ---- */

static void get_surveys(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN) | R(GERENTE), false, &who))
        return;
    cJSON *arr = vt_survey_list(vt_app_reader(req->app));
    if (!arr) {
        vt_reply_store_failed(req);
        return;
    }
    /* A survey answered without an invitation has a public link. */
    cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "code"));
        const char *purpose = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "purpose"));
        char link[160];
        snprintf(link, sizeof(link), "%s/encuesta/p/%s", vt_app_config(req->app)->public_url,
                 code ? code : "");
        if (!purpose || strcmp(purpose, "after_item") != 0)
            cJSON_AddStringToObject(s, "public_link", link);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "surveys", arr);
    vt_reply_json(req, 200, o);
}

static void get_survey(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN) | R(GERENTE), false, &who))
        return;
    cJSON *o = NULL;
    int rc = vt_survey_versions(vt_app_reader(req->app), code, &o);
    if (rc == VT_ENOTFOUND) {
        vt_reply_error(req, 404, "not_found", NULL, "No existe esa encuesta.");
        return;
    }
    if (rc) {
        vt_reply_store_failed(req);
        return;
    }
    /* The export is what POST /api/v1/surveys imports: code, purpose and
     * the current definition at the top level. */
    cJSON *versions = cJSON_GetObjectItemCaseSensitive(o, "versions");
    cJSON *cur = cJSON_GetArrayItem(versions, cJSON_GetArraySize(versions) - 1);
    cJSON_AddItemToObject(o, "definition",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cur, "definition"), 1));
    vt_reply_json(req, 200, o);
}

/* A save job and the definition text it borrows; save comes first, so the
 * job is also the vt_survey_save_run's context. */
struct def_job {
    struct vt_survey_save save;
    char *definition; /* owned JSON text */
};

static void def_done(struct vt_http_request *req, void *ctx, int result)
{
    struct def_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->save.outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL, "No existe esa encuesta.");
        else if (j->save.outcome == VT_EINVAL)
            vt_reply_error(req, 409, "conflict", "purpose",
                           "Ya existe una encuesta con ese código y otro propósito.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", j->save.code);
            cJSON_AddNumberToObject(o, "version", j->save.version);
            vt_reply_json(req, j->save.version == 1 && !j->save.set_active ? 201 : 200, o);
        }
    }
    free(j->definition);
    free(j);
}

static bool code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void post_survey(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN), true, &who) || !vt_reply_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
    const cJSON *purpose = cJSON_GetObjectItemCaseSensitive(o, "purpose");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(o, "definition");
    static const char *const purposes[] = {"after_item", "event", "public", NULL};
    char why[300] = "";
    const char *field = NULL;
    if (!cJSON_IsObject(o)) {
        field = "body";
        snprintf(why, sizeof(why), "Envíe un objeto JSON con code, purpose y definition.");
    } else if (!cJSON_IsString(code) || !code_ok(code->valuestring)) {
        field = "code";
        snprintf(why, sizeof(why), "El código lleva de 1 a 63 letras minúsculas, números o _.");
    } else if (!cJSON_IsString(purpose) || !vt_item_enum(purposes, purpose->valuestring)) {
        field = "purpose";
        snprintf(why, sizeof(why), "El propósito es after_item, event o public.");
    } else if (vt_survey_check_definition(def, why, sizeof(why))) {
        field = "definition";
    }
    if (field) {
        vt_reply_error(req, 422, "invalid", field, why);
        cJSON_Delete(o);
        return;
    }
    struct def_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->definition = cJSON_PrintUnformatted(def))) {
        free(j);
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    j->save.definition = j->definition;
    snprintf(j->save.actor, sizeof(j->save.actor), "staff:%s", who.username);
    snprintf(j->save.code, sizeof(j->save.code), "%s", code->valuestring);
    snprintf(j->save.purpose, sizeof(j->save.purpose), "%s", purpose->valuestring);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_survey_save_run, j, def_done) != 0) {
        free(j->definition);
        free(j);
    }
}

static void post_active(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN), true, &who) || !vt_reply_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(o, "active");
    if (!cJSON_IsBool(active)) {
        cJSON_Delete(o);
        vt_reply_error(req, 422, "invalid", "active",
                       "Envíe {\"active\": true} o {\"active\": false}.");
        return;
    }
    struct def_job *j = calloc(1, sizeof(*j));
    if (!j) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    snprintf(j->save.actor, sizeof(j->save.actor), "staff:%s", who.username);
    j->save.set_active = true;
    j->save.active = cJSON_IsTrue(active);
    snprintf(j->save.code, sizeof(j->save.code), "%s", code);
    cJSON_Delete(o);
    if (vt_app_run(req, vt_survey_save_run, j, def_done) != 0)
        free(j);
}

/* ---- figures ---- */

static bool date_param(struct vt_http_request *req, const char *name, vt_date_t *out)
{
    const struct vt_form_field *f = vt_form_get(&req->query, name);
    if (f && f->value_len && vt_date_parse(f->value, out) == 0)
        return true;
    char msg[120];
    snprintf(msg, sizeof(msg), "Escriba %s como AAAA-MM-DD.", name);
    vt_reply_error(req, 422, "invalid", name, msg);
    return false;
}

/* Unix ms of the start of a local (UTC-5) day. */
static int64_t day_start_ms(vt_date_t d)
{
    return (vt_date_to_days(d) * 86400 + 5 * 3600) * 1000;
}

static void get_figures(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(GERENTE), false, &who))
        return;
    vt_date_t from, to;
    if (!date_param(req, "from", &from) || !date_param(req, "to", &to))
        return;
    if (vt_date_cmp(from, to) > 0) {
        vt_reply_error(req, 422, "invalid", "to",
                       "La fecha final debe ser igual o posterior a la inicial.");
        return;
    }
    const struct vt_form_field *by = vt_form_get(&req->query, "by");
    cJSON *o = NULL;
    int rc = vt_survey_figures(vt_app_reader(req->app), vt_app_config(req->app), day_start_ms(from),
                               day_start_ms(vt_date_add_days(to, 1)),
                               by && by->value_len ? by->value : "survey", &o);
    if (rc == VT_EINVAL) {
        vt_reply_error(req, 422, "invalid", "by",
                       "Agrupe por survey, channel, group, dependencia o month.");
        return;
    }
    if (rc) {
        vt_reply_store_failed(req);
        return;
    }
    char f[11], t[11];
    vt_date_format(from, f);
    vt_date_format(to, t);
    cJSON_AddStringToObject(o, "from", f);
    cJSON_AddStringToObject(o, "to", t);
    vt_reply_json(req, 200, o);
}

/* ---- follow-ups ---- */

static void get_followups(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(AGENTE) | R(COORDINADOR) | R(GERENTE), false, &who))
        return;
    const struct vt_form_field *status = vt_form_get(&req->query, "status");
    cJSON *arr = vt_followups_list(vt_app_reader(req->app), &who,
                                   vt_app_config(req->app)->staff.triage_dependencia,
                                   status && status->value_len ? status->value : NULL);
    if (!arr) {
        vt_reply_store_failed(req);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "followups", arr);
    vt_reply_json(req, 200, o);
}

struct close_job {
    struct vt_followups_close c; /* first: the job is vt_followups_close_run's context */
    char *note;                  /* owned */
};

static void close_done(struct vt_http_request *req, void *ctx, int result)
{
    struct close_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->c.outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL,
                           "No existe ese seguimiento o no está a su cargo.");
        else if (j->c.outcome == VT_ESTATE)
            vt_reply_error(req, 409, "invalid_transition", NULL,
                           "Ese seguimiento ya está cerrado.");
        else
            vt_http_respond(req, 204, "application/json", "", 0);
    }
    free(j->note);
    free(j);
}

static void post_close(struct vt_http_request *req, int64_t id)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(AGENTE) | R(COORDINADOR), true, &who) ||
        !vt_reply_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(o, "note");
    if (!cJSON_IsString(note) || !*note->valuestring || strlen(note->valuestring) > 4000) {
        cJSON_Delete(o);
        vt_reply_error(req, 422, "invalid", "note",
                       "Escriba qué se hizo con el ciudadano (hasta 4.000 caracteres).");
        return;
    }
    struct close_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->note = strdup(note->valuestring))) {
        free(j);
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    cJSON_Delete(o);
    j->c.who = who;
    j->c.id = id;
    j->c.note = j->note;
    j->c.triage = vt_app_config(req->app)->staff.triage_dependencia;
    if (vt_app_run(req, vt_followups_close_run, j, close_done) != 0) {
        free(j->note);
        free(j);
    }
}

/* ---- routing ---- */

static void survey_routes(struct vt_http_request *req)
{
    const char *rest = req->path + strlen("/api/v1/surveys/");
    if (!req->post && strcmp(rest, "figures") == 0) {
        get_figures(req);
        return;
    }
    char code[64];
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof(code)) {
        vt_reply_not_found(req);
        return;
    }
    snprintf(code, sizeof(code), "%.*s", (int)n, rest);
    if (!req->post && rest[n] == '\0')
        get_survey(req, code);
    else if (req->post && strcmp(rest + n, "/active") == 0)
        post_active(req, code);
    else
        vt_reply_not_found(req);
}

static void followup_routes(struct vt_http_request *req)
{
    const char *rest = req->path + strlen("/api/v1/followups/");
    char *end;
    long long id = strtoll(rest, &end, 10);
    if (req->post && id > 0 && strcmp(end, "/close") == 0)
        post_close(req, id);
    else
        vt_reply_not_found(req);
}

int vt_survey_api_register(struct vt_http *http)
{
    int rc = vt_http_route(http, "/api/v1/surveys", VT_ROUTE_GET, 0, get_surveys);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/surveys", VT_ROUTE_POST | VT_ROUTE_STAFF, 262144,
                            post_survey);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/surveys/",
                            VT_ROUTE_GET | VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_STAFF, 4096,
                            survey_routes);
    rc = rc ? rc : vt_http_route(http, "/api/v1/followups", VT_ROUTE_GET, 0, get_followups);
    rc =
        rc ? rc
           : vt_http_route(http, "/api/v1/followups/",
                           VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_STAFF, 8192, followup_routes);
    return rc;
}
