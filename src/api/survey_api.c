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
 * Owns: the JSON shapes; the SQL stays in survey.c except the listing
 * queries kept here with their shapes.
 */
#include "api/survey_api.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "core/calendar.h"
#include "domain/casework.h"
#include "core/error.h"
#include "api/app.h"
#include "http/reply.h"
#include "domain/survey.h"

#define R(role) (1u << VT_ROLE_##role)

/* ---- definitions ---- */

static const char SQL_LIST[] =
    "SELECT s.code, s.purpose, s.active, s.current_version, v.definition, "
    "(SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id) "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "ORDER BY s.code";
static const char SQL_VERSIONS[] =
    "SELECT s.code, s.purpose, s.active, s.current_version, v.version, v.definition, v.created_at "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id WHERE s.code = ?1 "
    "ORDER BY v.version";

static void get_surveys(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN) | R(GERENTE), false, &who))
        return;
    sqlite3_stmt *st = vt_store_reader_stmt(vt_app_reader(req->app), SQL_LIST);
    if (!st) {
        vt_reply_store_failed(req);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "surveys");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "code", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(s, "purpose", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddBoolToObject(s, "active", sqlite3_column_int(st, 2) != 0);
        cJSON_AddNumberToObject(s, "version", sqlite3_column_int(st, 3));
        cJSON *def = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
        cJSON_AddItemToObject(s, "definition", def ? def : cJSON_CreateNull());
        cJSON_AddNumberToObject(s, "answers", (double)sqlite3_column_int64(st, 5));
        char link[160];
        snprintf(link, sizeof(link), "%s/encuesta/p/%s", vt_app_config(req->app)->public_url,
                 (const char *)sqlite3_column_text(st, 0));
        if (strcmp((const char *)sqlite3_column_text(st, 1), "after_item") != 0)
            cJSON_AddStringToObject(s, "public_link", link);
        cJSON_AddItemToArray(arr, s);
    }
    sqlite3_reset(st);
    vt_reply_json(req, 200, o);
}

static void get_survey(struct vt_http_request *req, const char *code)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(ADMIN) | R(GERENTE), false, &who))
        return;
    sqlite3_stmt *st = vt_store_reader_stmt(vt_app_reader(req->app), SQL_VERSIONS);
    if (!st) {
        vt_reply_store_failed(req);
        return;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    cJSON *o = NULL, *versions = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!o) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(o, "purpose", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddBoolToObject(o, "active", sqlite3_column_int(st, 2) != 0);
            cJSON_AddNumberToObject(o, "current_version", sqlite3_column_int(st, 3));
            versions = cJSON_AddArrayToObject(o, "versions");
        }
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "version", sqlite3_column_int(st, 4));
        cJSON *def = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
        cJSON_AddItemToObject(v, "definition", def ? def : cJSON_CreateNull());
        char at[32];
        vt_time_format_iso(sqlite3_column_int64(st, 6), at);
        cJSON_AddStringToObject(v, "created_at", at);
        cJSON_AddItemToArray(versions, v);
    }
    sqlite3_reset(st);
    if (!o) {
        vt_reply_error(req, 404, "not_found", NULL, "No existe esa encuesta.");
        return;
    }
    /* The export is what POST /api/v1/surveys imports: code, purpose and
     * the current definition at the top level. */
    cJSON *cur = cJSON_GetArrayItem(versions, cJSON_GetArraySize(versions) - 1);
    cJSON_AddItemToObject(o, "definition",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cur, "definition"), 1));
    vt_reply_json(req, 200, o);
}

struct def_job {
    struct vt_staff who;
    char code[64], purpose[16];
    char *definition; /* owned JSON text */
    int version;      /* set by the job */
    bool active;
    bool set_active; /* the /active call */
    int outcome;     /* VT_ENOTFOUND, VT_EINVAL (purpose differs) */
};

static const char SQL_GET[] = "SELECT id, purpose, current_version FROM surveys WHERE code = ?1";
static const char SQL_CREATE[] =
    "INSERT INTO surveys (code, purpose, current_version, created_at, updated_at) "
    "VALUES (?1, ?2, 1, ?3, ?3)";
static const char SQL_BUMP[] =
    "UPDATE surveys SET current_version = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_VERSION_ADD[] =
    "INSERT INTO survey_versions (survey_id, version, definition, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_ACTIVE[] = "UPDATE surveys SET active = ?2, updated_at = ?3 WHERE id = ?1";

static int def_run(struct vt_store_tx *tx, void *ctx)
{
    struct def_job *j = ctx;
    int64_t now = vt_store_tx_now(tx);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_GET);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, j->code, -1, SQLITE_STATIC);
    int64_t id = 0;
    int version = 0;
    char purpose[16] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(purpose, sizeof(purpose), "%s", sqlite3_column_text(st, 1));
        version = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    const char *action;
    if (j->set_active) {
        if (!id) {
            j->outcome = VT_ENOTFOUND;
            return 0;
        }
        if (!(st = vt_store_tx_stmt(tx, SQL_ACTIVE)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, j->active);
        sqlite3_bind_int64(st, 3, now);
        action = "encuesta_activada";
        j->version = version;
    } else if (id && strcmp(purpose, j->purpose) != 0) {
        j->outcome = VT_EINVAL;
        return 0;
    } else {
        if (!id) {
            if (!(st = vt_store_tx_stmt(tx, SQL_CREATE)))
                return VT_ESTORE;
            sqlite3_bind_text(st, 1, j->code, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, j->purpose, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now);
            if (sqlite3_step(st) != SQLITE_DONE) {
                sqlite3_reset(st);
                return VT_ESTORE;
            }
            sqlite3_reset(st);
            id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
            j->version = 1;
        } else {
            /* An edit is a new version: the answers given keep theirs. */
            j->version = version + 1;
            if (!(st = vt_store_tx_stmt(tx, SQL_BUMP)))
                return VT_ESTORE;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int(st, 2, j->version);
            sqlite3_bind_int64(st, 3, now);
            if (sqlite3_step(st) != SQLITE_DONE) {
                sqlite3_reset(st);
                return VT_ESTORE;
            }
            sqlite3_reset(st);
        }
        if (!(st = vt_store_tx_stmt(tx, SQL_VERSION_ADD)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, j->version);
        sqlite3_bind_text(st, 3, j->definition, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        action = "encuesta_guardada";
    }
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return VT_ESTORE;
    char actor[80], payload[160];
    snprintf(actor, sizeof(actor), "staff:%s", j->who.username);
    snprintf(payload, sizeof(payload), "{\"code\":\"%s\",\"version\":%d,\"active\":%s}", j->code,
             j->version, j->set_active ? (j->active ? "true" : "false") : "null");
    return vt_store_tx_event(tx, 0, actor, action, payload, 0);
}

static void def_done(struct vt_http_request *req, void *ctx, int result)
{
    struct def_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL, "No existe esa encuesta.");
        else if (j->outcome == VT_EINVAL)
            vt_reply_error(req, 409, "conflict", "purpose",
                            "Ya existe una encuesta con ese código y otro propósito.");
        else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", j->code);
            cJSON_AddNumberToObject(o, "version", j->version);
            vt_reply_json(req, j->version == 1 && !j->set_active ? 201 : 200, o);
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
    j->who = who;
    snprintf(j->code, sizeof(j->code), "%s", code->valuestring);
    snprintf(j->purpose, sizeof(j->purpose), "%s", purpose->valuestring);
    cJSON_Delete(o);
    if (vt_app_run(req, def_run, j, def_done) != 0) {
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
    j->who = who;
    j->set_active = true;
    j->active = cJSON_IsTrue(active);
    snprintf(j->code, sizeof(j->code), "%s", code);
    cJSON_Delete(o);
    if (vt_app_run(req, def_run, j, def_done) != 0)
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
    int rc = vt_survey_figures(vt_app_reader(req->app), vt_app_config(req->app),
                               day_start_ms(from), day_start_ms(vt_date_add_days(to, 1)),
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

static const char SQL_FOLLOWUPS[] =
    "SELECT f.id, f.status, COALESCE(f.dependencia, ''), f.created_at, f.note, src.radicado, "
    "a.csat, a.nps, ans.body FROM followups f "
    "JOIN survey_answers a ON a.item_id = f.answer_item_id "
    "JOIN items ans ON ans.id = f.answer_item_id "
    "LEFT JOIN items src ON src.id = f.source_item_id "
    "WHERE (?1 = 1 OR COALESCE(f.dependencia, ?2) = ?3) AND (?4 IS NULL OR f.status = ?4) "
    "ORDER BY f.status = 'cerrado', f.created_at LIMIT 200";

static void get_followups(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!vt_auth_require(req, R(AGENTE) | R(COORDINADOR) | R(GERENTE), false, &who))
        return;
    sqlite3_stmt *st = vt_store_reader_stmt(vt_app_reader(req->app), SQL_FOLLOWUPS);
    if (!st) {
        vt_reply_store_failed(req);
        return;
    }
    const struct vt_form_field *status = vt_form_get(&req->query, "status");
    sqlite3_bind_int(st, 1, who.role == VT_ROLE_GERENTE);
    sqlite3_bind_text(st, 2, vt_app_config(req->app)->staff.triage_dependencia, -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, who.dependencia, -1, SQLITE_TRANSIENT);
    if (status && status->value_len)
        sqlite3_bind_text(st, 4, status->value, -1, SQLITE_TRANSIENT);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "followups");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "id", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(f, "status", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(f, "dependencia", (const char *)sqlite3_column_text(st, 2));
        char at[32];
        vt_time_format_iso(sqlite3_column_int64(st, 3), at);
        cJSON_AddStringToObject(f, "created_at", at);
        const unsigned char *note = sqlite3_column_text(st, 4);
        if (note)
            cJSON_AddStringToObject(f, "note", (const char *)note);
        const unsigned char *rad = sqlite3_column_text(st, 5);
        if (rad)
            cJSON_AddStringToObject(f, "radicado", (const char *)rad);
        else
            cJSON_AddNullToObject(f, "radicado");
        for (int c = 6; c <= 7; c++)
            if (sqlite3_column_type(st, c) == SQLITE_NULL)
                cJSON_AddNullToObject(f, c == 6 ? "csat" : "nps");
            else
                cJSON_AddNumberToObject(f, c == 6 ? "csat" : "nps", sqlite3_column_int(st, c));
        cJSON_AddStringToObject(f, "answers", (const char *)sqlite3_column_text(st, 8));
        cJSON_AddItemToArray(arr, f);
    }
    sqlite3_reset(st);
    vt_reply_json(req, 200, o);
}

struct close_job {
    struct vt_staff who;
    int64_t id;
    char *note;
    const char *triage;
    int outcome;
};

static const char SQL_FOLLOWUP_GET[] =
    "SELECT status, COALESCE(dependencia, ?2), source_item_id FROM followups WHERE id = ?1";
static const char SQL_FOLLOWUP_CLOSE[] =
    "UPDATE followups SET status = 'cerrado', note = ?2, closed_at = ?3, closed_by = ?4 "
    "WHERE id = ?1";

static int close_run(struct vt_store_tx *tx, void *ctx)
{
    struct close_job *j = ctx;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_FOLLOWUP_GET);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->triage, -1, SQLITE_STATIC);
    j->outcome = VT_ENOTFOUND;
    int64_t source = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        bool mine = strcmp((const char *)sqlite3_column_text(st, 1), j->who.dependencia) == 0;
        bool open = strcmp((const char *)sqlite3_column_text(st, 0), "abierto") == 0;
        j->outcome = !mine ? VT_ENOTFOUND : !open ? VT_ESTATE : 0;
        source = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (j->outcome)
        return 0;
    if (!(st = vt_store_tx_stmt(tx, SQL_FOLLOWUP_CLOSE)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, vt_store_tx_now(tx));
    sqlite3_bind_int64(st, 4, j->who.id);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "followup_id", (double)j->id);
    cJSON_AddStringToObject(p, "note", j->note);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    char actor[80];
    snprintf(actor, sizeof(actor), "staff:%s", j->who.username);
    int rc = s ? vt_store_tx_event(tx, source, actor, "seguimiento_cerrado", s, 0) : VT_ENOMEM;
    free(s);
    return rc;
}

static void close_done(struct vt_http_request *req, void *ctx, int result)
{
    struct close_job *j = ctx;
    if (!req->orphan) {
        if (result)
            vt_reply_store_failed(req);
        else if (j->outcome == VT_ENOTFOUND)
            vt_reply_error(req, 404, "not_found", NULL,
                            "No existe ese seguimiento o no está a su cargo.");
        else if (j->outcome == VT_ESTATE)
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
    j->who = who;
    j->id = id;
    j->triage = vt_app_config(req->app)->staff.triage_dependencia;
    if (vt_app_run(req, close_run, j, close_done) != 0) {
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
