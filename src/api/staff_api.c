/* staff_api.c - the staff JSON API and page (docs/staff-api.md): the queue,
 * one item, its files, how an answer would reach its requester and the
 * printable letter of an answer, actions, dependencias, users, and GET /staff.
 *
 * Owns: the table of which roles may call which endpoint (policy[] below;
 * scope within a role is casework.c's and queue.c's), the parsing of action
 * bodies and the JSON shapes of the answers.
 * Must not: hold SQL (queue.c reads items, casework.c writes them; users.c
 * and dependencias.c own their tables).
 */
#include "api/staff_api.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/attach.h"
#include "api/auth.h"
#include "domain/classifier.h"
#include "domain/casework.h"
#include "domain/delivery.h"
#include "domain/dependencias.h"
#include "core/error.h"
#include "api/live.h"
#include "core/log.h"
#include "domain/queue.h"
#include "domain/users.h"
#include "api/app.h"
#include "http/reply.h"
#include "core/text.h"
#include "core/web_assets.h"

/* ---- who may call what ---- */

enum endpoint { E_QUEUE, E_ITEM, E_ACTIONS, E_DEPS_LIST, E_DEPS_WRITE, E_USERS, E_COUNT };

#define R(role) (1u << VT_ROLE_##role)
static const unsigned policy[E_COUNT] = {
    [E_QUEUE] = R(AGENTE) | R(COORDINADOR) | R(GERENTE),
    [E_ITEM] = R(AGENTE) | R(COORDINADOR) | R(GERENTE),
    [E_ACTIONS] = R(AGENTE) | R(COORDINADOR),
    [E_DEPS_LIST] = R(AGENTE) | R(COORDINADOR) | R(GERENTE) | R(MODERADOR) | R(ADMIN),
    [E_DEPS_WRITE] = R(ADMIN),
    [E_USERS] = R(AGENTE) | R(COORDINADOR) | R(ADMIN),
};

/* The session's staff member if the role may call endpoint; else answered. */
static bool allow(struct vt_http_request *req, enum endpoint ep, bool write, struct vt_staff *who)
{
    return vt_auth_require(req, policy[ep], write, who);
}

static bool valid_radicado(const char *s, size_t n)
{
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
            return false;
    return true;
}

/* ---- the queue ---- */

/* The queue's parameters, from the query string (GET) or a JSON object
 * (POST /api/v1/items/search, which keeps search words out of URLs and so
 * out of proxies' logs). */
struct params {
    const struct vt_form *query; /* or */
    const cJSON *json;
    char num[4][16]; /* numbers of json as text */
    int n_num;
};

static const char *param(struct params *p, const char *name)
{
    if (p->query) {
        const struct vt_form_field *f = vt_form_get(p->query, name);
        return f && f->value_len ? f->value : NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->json, name);
    if (cJSON_IsString(v))
        return *v->valuestring ? v->valuestring : NULL;
    if ((cJSON_IsNumber(v) || cJSON_IsBool(v)) && p->n_num < 4) {
        char *out = p->num[p->n_num++];
        if (cJSON_IsBool(v))
            snprintf(out, 16, "%s", cJSON_IsTrue(v) ? "1" : "0");
        else if (v->valuedouble == (double)(long)v->valuedouble)
            snprintf(out, 16, "%ld", (long)v->valuedouble);
        else
            snprintf(out, 16, "x"); /* not a whole number: refused below */
        return out;
    }
    return NULL;
}

static bool int_param(struct vt_http_request *req, struct params *p, const char *name, int lo,
                      int hi, int *out)
{
    const char *v = param(p, name);
    if (!v)
        return true;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s debe ser un número entre %d y %d.", name, lo, hi);
        vt_reply_error(req, 422, "invalid", name, msg);
        return false;
    }
    *out = (int)n;
    return true;
}

static void queue(struct vt_http_request *req, const struct vt_staff *who, struct params *p)
{
    struct vt_queue_filter f = {
        .kind = param(p, "kind"),
        .status = param(p, "status"),
        .type = param(p, "type"),
        .petition_class = param(p, "class"),
        .channel = param(p, "channel"),
        .group = param(p, "group"),
        .dependencia = param(p, "dependencia"),
        .assignee = param(p, "assignee"),
        .q = param(p, "q"),
        .due_within = -1,
        .page = 1,
        .per_page = 25,
    };
    const char *overdue = param(p, "overdue");
    f.overdue = overdue && (strcmp(overdue, "1") == 0 || strcmp(overdue, "true") == 0);
    if (!int_param(req, p, "page", 1, 100000, &f.page) ||
        !int_param(req, p, "per_page", 1, 100, &f.per_page) ||
        !int_param(req, p, "due_within", 0, 365, &f.due_within))
        return;
    if (f.q && strlen(f.q) > 200) {
        vt_reply_error(req, 422, "invalid", "q", "La búsqueda puede tener hasta 200 caracteres.");
        return;
    }
    cJSON *o = NULL;
    int rc = vt_queue_list(vt_app_reader(req->app), vt_app_config(req->app), who, &f, &o);
    if (rc == VT_EINVAL) {
        vt_reply_error(req, 422, "invalid", "q",
                       "Escriba al menos una palabra o un número para buscar.");
        return;
    }
    if (rc) {
        vt_reply_store_failed(req);
        return;
    }
    vt_reply_json(req, 200, o);
}

static void get_queue(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!allow(req, E_QUEUE, false, &who))
        return;
    struct params p = {.query = &req->query};
    queue(req, &who, &p);
}

static void post_search(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!allow(req, E_QUEUE, true, &who) || !vt_reply_require_json(req))
        return;
    static const char *const known[] = {"kind",       "status",      "type",     "class", "channel",
                                        "group",      "dependencia", "assignee", "q",     "overdue",
                                        "due_within", "page",        "per_page", NULL};
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const cJSON *v;
    const char *unknown = NULL;
    cJSON_ArrayForEach(v, o)
    {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = v->string && strcmp(v->string, known[i]) == 0;
        if (!ok && !unknown)
            unknown = v->string ? v->string : "";
    }
    if (!cJSON_IsObject(o) || unknown) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s%.60s", o ? "Filtro desconocido: " : "Envíe un objeto JSON.",
                 unknown ? unknown : "");
        vt_reply_error(req, 422, "invalid", unknown ? unknown : "body", msg);
        cJSON_Delete(o);
        return;
    }
    struct params p = {.json = o};
    queue(req, &who, &p);
    cJSON_Delete(o);
}

/* ---- one item, its files, its actions ---- */

static void get_item(struct vt_http_request *req, struct vt_staff *who, const char *radicado)
{
    cJSON *o = NULL;
    int rc = vt_queue_item(vt_app_reader(req->app), vt_app_config(req->app), who, radicado, &o);
    if (rc == VT_ENOTFOUND) {
        vt_reply_error(req, 404, "not_found", NULL,
                       "No existe esa solicitud o no está a su cargo.");
        return;
    }
    if (rc) {
        vt_reply_store_failed(req);
        return;
    }
    vt_reply_json(req, 200, o);
}

/* The filename for Content-Disposition: printable ASCII without quotes. */
static void safe_filename(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 1 < n; in++)
        out[o++] = ((unsigned char)*in < 0x20 || (unsigned char)*in >= 0x7f || *in == '"' ||
                    *in == '\\' || *in == ';')
                       ? '_'
                       : *in;
    out[o] = '\0';
}

static void get_file(struct vt_http_request *req, struct vt_staff *who, const char *radicado,
                     const char *sha)
{
    char type[128], name[256];
    bool hex = strlen(sha) == 64;
    for (size_t i = 0; hex && i < 64; i++)
        hex = (sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f');
    if (!hex || vt_queue_attachment(vt_app_reader(req->app), vt_app_config(req->app), who, radicado,
                                    sha, type, sizeof(type), name, sizeof(name))) {
        vt_reply_error(req, 404, "not_found", NULL, "No existe ese archivo o no está a su cargo.");
        return;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = vt_store_reader_blob(vt_app_reader(req->app), sha, &data, &len);
    if (rc == VT_ENOTFOUND) {
        vt_reply_error(req, 404, "not_found", NULL, "El archivo no está guardado en el servidor.");
        return;
    }
    if (rc) {
        vt_log(VT_LOG_ERROR, "attachment_read_failed", "error=\"%s\"", vt_strerror(rc));
        vt_reply_error(req, 503, "unavailable", NULL,
                       "No se pudo leer el archivo. Intente de nuevo en unos minutos.");
        return;
    }
    char disp[400], safe[256];
    safe_filename(name, safe, sizeof(safe));
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", safe);
    vt_http_header(req, "Content-Disposition", disp);
    vt_http_respond(req, 200, type, (const char *)data, len);
    free(data);
}

struct action_job {
    struct vt_staff who;
    char radicado[48];
    cJSON *body;
    struct vt_case_action a;
    struct vt_case_file files[16];
    struct {
        unsigned char *data;
        size_t len;
    } raw[16];
    struct vt_case_result res;
    struct vt_app *srv;
};

static void action_job_free(struct action_job *j)
{
    for (size_t i = 0; i < 16; i++)
        free(j->raw[i].data);
    cJSON_Delete(j->body);
    free(j);
}

/* Writer thread: the answer's files first (stored before the commit of the
 * rows naming them), then the action. */
static int action_run(struct vt_store_tx *tx, void *ctx)
{
    struct action_job *j = ctx;
    for (size_t i = 0; i < j->a.n_files; i++)
        if (vt_store_tx_blob_put(tx, j->files[i].sha256, j->raw[i].data, j->raw[i].len))
            return VT_EIO;
    return vt_casework_apply(vt_app_domain(j->srv), tx, &j->who, j->radicado, &j->a, &j->res);
}

/* What the action told the requester, for a message that is true: the UI
 * says "en cola de envío" only when outbox_ids is not empty. */
static cJSON *result_json(const struct action_job *j, bool sees)
{
    const struct vt_case_result *res = &j->res;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "action", j->a.action);
    bool respond = strcmp(j->a.action, "respond") == 0;
    const char *n = res->notice;
    const char *outcome = !n[0]                           ? "none"
                          : res->n_outbox                 ? "queued"
                          : strcmp(n, "publicacion") == 0 ? "published"
                          : strcmp(n, "carta") == 0
                              ? (respond ? "letter_pending" : "letter_delivered")
                          : strcmp(n, "consulta") == 0 ? "status_page"
                                                       : "not_sent";
    cJSON_AddStringToObject(o, "outcome", outcome);
    if (n[0])
        cJSON_AddStringToObject(o, "delivery", n);
    else
        cJSON_AddNullToObject(o, "delivery");
    cJSON *ids = cJSON_AddArrayToObject(o, "outbox_ids");
    for (size_t i = 0; i < res->n_outbox; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)res->outbox_ids[i]));
    if (res->response_id) {
        cJSON_AddNumberToObject(o, "response_id", (double)res->response_id);
        if (respond && strcmp(n, "carta") == 0 && sees) {
            char url[160];
            snprintf(url, sizeof(url), "/api/v1/items/%s/responses/%lld/carta", j->radicado,
                     (long long)res->response_id);
            cJSON_AddStringToObject(o, "letter_url", url);
        }
    }
    char msg[400];
    const char *label = vt_delivery_label(n);
    if (strcmp(outcome, "queued") == 0)
        snprintf(msg, sizeof(msg), "%s quedó en cola de envío por %s.",
                 respond ? "La respuesta" : "El aviso al ciudadano", label);
    else if (strcmp(outcome, "published") == 0)
        snprintf(msg, sizeof(msg),
                 "La respuesta quedó publicada en la página de respuestas y en "
                 "la consulta del radicado. No se envió ningún mensaje.");
    else if (strcmp(outcome, "letter_pending") == 0 && sees)
        snprintf(msg, sizeof(msg),
                 "No se envió ningún mensaje: imprima la carta y márquela como "
                 "entregada cuando la entregue o la envíe por correo postal.");
    else if (strcmp(outcome, "letter_pending") == 0)
        snprintf(msg, sizeof(msg),
                 "No se envió ningún mensaje: la carta la imprime una persona autorizada para ver "
                 "la identidad del solicitante.");
    else if (strcmp(outcome, "letter_delivered") == 0)
        snprintf(msg, sizeof(msg), "Quedó registrada la entrega de la carta.");
    else if (strcmp(outcome, "status_page") == 0)
        snprintf(msg, sizeof(msg),
                 "No se envió ningún mensaje: el ciudadano lo ve en la página "
                 "de consulta con su radicado y su código.");
    else if (strcmp(outcome, "not_sent") == 0)
        snprintf(msg, sizeof(msg),
                 "No se envió ningún aviso al ciudadano: su medio de respuesta "
                 "no está disponible aquí. Lo ve en la página de consulta.");
    else
        msg[0] = '\0';
    cJSON_AddStringToObject(o, "message", msg);
    return o;
}

static void action_done(struct vt_http_request *req, void *ctx, int result)
{
    struct action_job *j = ctx;
    if (req->orphan) {
        action_job_free(j);
        return;
    }
    if (result == 0) {
        vt_log(VT_LOG_INFO, "staff_action", "action=%s user_id=%lld item_id=%lld status=%s",
               j->a.action, (long long)j->who.id, (long long)j->res.item_id, j->res.new_status);
        cJSON *o = NULL;
        int rc = vt_queue_item(vt_app_reader(req->app), vt_app_config(req->app), &j->who,
                               j->radicado, &o);
        if (rc == VT_ENOTFOUND) {
            /* Routed to another dependencia: done, and no longer this user's. */
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "radicado", j->radicado);
            cJSON_AddStringToObject(o, "status", j->res.new_status);
            cJSON_AddStringToObject(o, "dependencia", j->res.dependencia);
            cJSON_AddBoolToObject(o, "out_of_scope", true);
            rc = 0;
        }
        if (rc) {
            vt_reply_store_failed(req);
        } else {
            /* The letter link only for those the item view shows the requester to. */
            const cJSON *rq = cJSON_GetObjectItemCaseSensitive(o, "requester");
            bool sees = rq && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq, "restricted"));
            cJSON_AddItemToObject(o, "result", result_json(j, sees));
            vt_reply_json(req, 200, o);
        }
    } else if (j->res.status) {
        vt_reply_error(req, j->res.status, j->res.code, j->res.field, j->res.message);
    } else {
        vt_log(VT_LOG_ERROR, "staff_action_failed", "action=%s error=\"%s\"", j->a.action,
               vt_strerror(result));
        vt_reply_store_failed(req);
    }
    action_job_free(j);
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Decodes, sniffs and checks the answer's attachments; false having answered. */
static bool take_files(struct vt_http_request *req, struct action_job *j)
{
    const struct vt_config *cfg = vt_app_config(req->app);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j->body, "attachments");
    if (!arr || cJSON_IsNull(arr))
        return true;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > cfg->attachment_max_count ||
        cJSON_GetArraySize(arr) > 16) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Puede adjuntar hasta %d archivos.",
                 cfg->attachment_max_count < 16 ? cfg->attachment_max_count : 16);
        vt_reply_error(req, 422, "invalid", "attachments", msg);
        return false;
    }
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, arr)
    {
        const char *name = str_field(e, "filename"), *b64 = str_field(e, "content_base64");
        if (!name || !*name || strlen(name) > 200 || !b64) {
            vt_reply_error(req, 422, "invalid", "attachments",
                           "Cada archivo necesita filename y content_base64.");
            return false;
        }
        size_t cap = strlen(b64) / 4 * 3 + 3, len = 0;
        unsigned char *data = malloc(cap ? cap : 1);
        if (!data || sodium_base642bin(data, cap, b64, strlen(b64), " \r\n", &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0) {
            free(data);
            vt_reply_error(req, 422, "invalid", "attachments",
                           "Un archivo no está bien codificado en base64.");
            return false;
        }
        j->raw[i].data = data;
        j->raw[i].len = len;
        if ((long long)len > cfg->attachment_max_bytes || len == 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "Cada archivo debe pesar entre 1 byte y %lld MB.",
                     cfg->attachment_max_bytes / (1024 * 1024));
            vt_reply_error(req, 422, "invalid", "attachments", msg);
            return false;
        }
        struct vt_case_file *f = &j->files[i];
        vt_sniff(vt_app_intake(req->app)->sniffer, data, len, f->content_type,
                 sizeof(f->content_type));
        bool ok = false;
        for (size_t k = 0; k < cfg->n_allowed_types; k++)
            ok = ok || strcmp(cfg->allowed_types[k], f->content_type) == 0;
        if (!ok) {
            char msg[300];
            snprintf(msg, sizeof(msg), "El archivo %.100s es de un tipo no permitido (%.60s).",
                     name, f->content_type);
            vt_reply_error(req, 422, "invalid", "attachments", msg);
            return false;
        }
        vt_attach_sha256(data, len, f->sha256);
        f->size = (int64_t)len;
        snprintf(f->filename, sizeof(f->filename), "%s", name);
        i++;
    }
    j->a.files = j->files;
    j->a.n_files = i;
    return true;
}

static void post_action(struct vt_http_request *req, struct vt_staff *who, const char *radicado)
{
    if (!vt_reply_require_json(req))
        return;
    struct action_job *j = calloc(1, sizeof(*j));
    if (!j) {
        vt_reply_store_failed(req);
        return;
    }
    j->who = *who;
    j->srv = req->app;
    snprintf(j->radicado, sizeof(j->radicado), "%s", radicado);
    j->body = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    if (!cJSON_IsObject(j->body) || !str_field(j->body, "action")) {
        action_job_free(j);
        vt_reply_error(req, 422, "invalid", "action",
                       "Envíe un objeto JSON con el campo action (assign, respond, ...).");
        return;
    }
    static const char *const text_fields[] = {
        "dependencia", "assignee", "type",     "petition_class", "group",
        "text",        "reason",   "due_date", "entity",         "entity_email",
        "note",        "access",   "delivery", "method"};
    for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->body, text_fields[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
            char msg[120];
            snprintf(msg, sizeof(msg), "%s debe ser texto.", text_fields[i]);
            vt_reply_error(req, 422, "invalid", text_fields[i], msg);
            action_job_free(j);
            return;
        }
        if (v && cJSON_IsString(v) && strlen(v->valuestring) > 20000) {
            vt_reply_error(req, 422, "invalid", text_fields[i],
                           "El texto es demasiado largo (máximo 20.000 caracteres).");
            action_job_free(j);
            return;
        }
    }
    j->a = (struct vt_case_action){
        .action = str_field(j->body, "action"),
        .dependencia = str_field(j->body, "dependencia"),
        .assignee = str_field(j->body, "assignee"),
        .type = str_field(j->body, "type"),
        .petition_class = str_field(j->body, "petition_class"),
        .group = str_field(j->body, "group"),
        .text = str_field(j->body, "text"),
        .reason = str_field(j->body, "reason"),
        .due_date = str_field(j->body, "due_date"),
        .entity = str_field(j->body, "entity"),
        .entity_email = str_field(j->body, "entity_email"),
        .note = str_field(j->body, "note"),
        .access = str_field(j->body, "access"),
        .delivery = str_field(j->body, "delivery"),
        .method = str_field(j->body, "method"),
    };
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(j->body, "response_id");
    if (rid && !cJSON_IsNull(rid)) {
        if (!cJSON_IsNumber(rid) || rid->valuedouble < 1 || rid->valuedouble > 9e15 ||
            rid->valuedouble != (double)(int64_t)rid->valuedouble) {
            vt_reply_error(req, 422, "invalid", "response_id",
                           "response_id debe ser el número de una respuesta.");
            action_job_free(j);
            return;
        }
        j->a.response_id = (int64_t)rid->valuedouble;
    }
    if (strcmp(j->a.action, "respond") == 0 && !take_files(req, j)) {
        action_job_free(j);
        return;
    }
    if (vt_app_run(req, action_run, j, action_done) != 0)
        action_job_free(j);
}

static void get_delivery(struct vt_http_request *req, struct vt_staff *who, const char *radicado)
{
    cJSON *o = NULL;
    int rc = vt_delivery_get(vt_app_domain(req->app), vt_app_reader(req->app), who, radicado, &o);
    if (rc == VT_ENOTFOUND)
        vt_reply_error(req, 404, "not_found", NULL,
                       "No existe esa solicitud o no está a su cargo.");
    else if (rc)
        vt_reply_store_failed(req);
    else
        vt_reply_json(req, 200, o);
}

/* GET .../responses/{id}/carta: the printable letter (HTML; every response is no-store). */
static void get_letter(struct vt_http_request *req, struct vt_staff *who, const char *radicado,
                       const char *rest)
{
    char *end;
    long long id = strtoll(rest, &end, 10);
    struct vt_buf b = {0};
    int rc = (rest[0] >= '1' && rest[0] <= '9' && strcmp(end, "/carta") == 0 && id > 0)
                 ? vt_delivery_letter(vt_app_domain(req->app), vt_app_reader(req->app), who,
                                      radicado, id, &b)
                 : VT_ENOTFOUND;
    if (rc == 0)
        vt_http_respond(req, 200, "text/html; charset=utf-8", b.data ? b.data : "", b.len);
    else if (rc == VT_EPERM)
        vt_reply_error(req, 403, "forbidden", NULL,
                       "La identidad de quien presentó esta solicitud es reservada: la carta "
                       "la imprime una persona con un rol autorizado para verla.");
    else if (rc == VT_ENOTFOUND)
        vt_reply_error(req, 404, "not_found", NULL,
                       "No existe esa respuesta o la solicitud no está a su cargo.");
    else
        vt_reply_store_failed(req);
    vt_buf_cleanup(&b);
}

/* /api/v1/items/{radicado}[/actions | /attachments/{sha256} | /delivery |
 * /responses/{id}/carta] */
static void item_routes(struct vt_http_request *req)
{
    const char *rest = req->path + strlen("/api/v1/items/");
    size_t n = strcspn(rest, "/");
    char radicado[48];
    if (!valid_radicado(rest, n)) {
        vt_reply_not_found(req);
        return;
    }
    snprintf(radicado, sizeof(radicado), "%.*s", (int)n, rest);
    const char *sub = rest + n;
    struct vt_staff who;
    if (!req->post && *sub == '\0') {
        if (allow(req, E_ITEM, false, &who))
            get_item(req, &who, radicado);
    } else if (!req->post && strncmp(sub, "/attachments/", 13) == 0) {
        if (allow(req, E_ITEM, false, &who))
            get_file(req, &who, radicado, sub + 13);
    } else if (!req->post && strcmp(sub, "/delivery") == 0) {
        if (allow(req, E_ITEM, false, &who))
            get_delivery(req, &who, radicado);
    } else if (!req->post && strncmp(sub, "/responses/", 11) == 0) {
        if (allow(req, E_ITEM, false, &who))
            get_letter(req, &who, radicado, sub + 11);
    } else if (req->post && strcmp(sub, "/actions") == 0) {
        if (allow(req, E_ACTIONS, true, &who))
            post_action(req, &who, radicado);
    } else {
        vt_reply_not_found(req);
    }
}

/* ---- dependencias and users ---- */

/* One dependencia of the list (vt_dependencias_list). */
struct deps_ctx {
    cJSON *arr;
    const char *triage;
    bool has_triage;
};

static void add_dep(void *ctx, const char *code, const char *name, bool active)
{
    struct deps_ctx *c = ctx;
    cJSON *d = cJSON_CreateObject();
    c->has_triage = c->has_triage || strcmp(code, c->triage) == 0;
    cJSON_AddStringToObject(d, "code", code);
    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddBoolToObject(d, "active", active);
    cJSON_AddItemToArray(c->arr, d);
}

static void get_deps(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!allow(req, E_DEPS_LIST, false, &who))
        return;
    cJSON *o = cJSON_CreateObject();
    struct deps_ctx c = {cJSON_AddArrayToObject(o, "dependencias"),
                         vt_app_config(req->app)->staff.triage_dependencia, false};
    if (vt_dependencias_list(vt_app_reader(req->app), add_dep, &c)) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    if (!c.has_triage) { /* the triage office exists even before an admin names it */
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "code", c.triage);
        cJSON_AddStringToObject(d, "name", "Atención al ciudadano");
        cJSON_AddBoolToObject(d, "active", true);
        cJSON_AddItemToArray(c.arr, d);
    }
    cJSON_AddStringToObject(o, "triage", c.triage);
    vt_reply_json(req, 200, o);
}

struct dep_job {
    struct vt_staff who;
    char code[64], name[201];
    bool active;
};

static int dep_run(struct vt_store_tx *tx, void *ctx)
{
    struct dep_job *j = ctx;
    return vt_dependencias_save(tx, j->who.username, j->code, j->name, j->active);
}

static void dep_done(struct vt_http_request *req, void *ctx, int result)
{
    struct dep_job *j = ctx;
    /* The classifier routes only to active dependencias: it knows at once
     * on this instance (the others within a minute: learner.h). */
    if (!result)
        vt_classifier_refresh_routable(vt_app_reader(req->app));
    if (!req->orphan) {
        if (result) {
            vt_reply_store_failed(req);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", j->code);
            cJSON_AddStringToObject(o, "name", j->name);
            cJSON_AddBoolToObject(o, "active", j->active);
            vt_reply_json(req, 200, o);
        }
    }
    free(j);
}

static void post_deps(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!allow(req, E_DEPS_WRITE, true, &who) || !vt_reply_require_json(req))
        return;
    cJSON *o = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
    const char *code = str_field(o, "code"), *name = str_field(o, "name");
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(o, "active");
    bool code_ok = code && *code && strlen(code) <= 63;
    for (const char *p = code; code_ok && *p; p++)
        code_ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    bool name_ok = name && vt_utf8_valid(name, strlen(name)) &&
                   vt_utf8_chars(name, strlen(name)) <= 200 &&
                   strspn(name, " \t\r\n") < strlen(name);
    const char *triage = vt_app_config(req->app)->staff.triage_dependencia;
    bool deactivates_triage =
        code_ok && strcmp(code, triage) == 0 && active && cJSON_IsFalse(active);
    const char *bad = !cJSON_IsObject(o)                ? "body"
                      : !code_ok                        ? "code"
                      : !name_ok                        ? "name"
                      : active && !cJSON_IsBool(active) ? "active"
                      : deactivates_triage              ? "active"
                                                        : NULL;
    if (bad) {
        cJSON_Delete(o);
        vt_reply_error(
            req, 422, "invalid", bad,
            strcmp(bad, "code") == 0
                ? "El código de la dependencia lleva de 1 a 63 letras minúsculas, números o _."
            : strcmp(bad, "name") == 0
                ? "Escriba el nombre de la dependencia (hasta 200 caracteres)."
            : deactivates_triage
                ? "La dependencia de reparto recibe las solicitudes nuevas: no se puede desactivar."
            : strcmp(bad, "active") == 0 ? "active debe ser true o false."
                                         : "Envíe un objeto JSON con code, name y active.");
        return;
    }
    struct dep_job *j = calloc(1, sizeof(*j));
    if (!j) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    j->who = who;
    snprintf(j->code, sizeof(j->code), "%s", code);
    snprintf(j->name, sizeof(j->name), "%s", name);
    j->active = !active || cJSON_IsTrue(active);
    cJSON_Delete(o);
    if (vt_app_run(req, dep_run, j, dep_done) != 0)
        free(j);
}

/* One user of the list (vt_users_list). */
static void add_user(void *ctx, const char *username, const char *role, const char *dependencia)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "username", username);
    cJSON_AddStringToObject(u, "role", role);
    if (dependencia)
        cJSON_AddStringToObject(u, "dependencia", dependencia);
    else
        cJSON_AddNullToObject(u, "dependencia");
    cJSON_AddItemToArray(ctx, u);
}

static void get_users(struct vt_http_request *req)
{
    struct vt_staff who;
    if (!allow(req, E_USERS, false, &who))
        return;
    const struct vt_form_field *df = vt_form_get(&req->query, "dependencia");
    const char *dep = df && df->value_len ? df->value : NULL;
    /* Agentes and coordinadores see their own office's colleagues only. */
    if (who.role != VT_ROLE_ADMIN) {
        if (dep && strcmp(dep, who.dependencia) != 0) {
            vt_reply_error(req, 403, "forbidden", "dependencia",
                           "Solo puede ver las personas de su propia dependencia.");
            return;
        }
        dep = who.dependencia;
    }
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "users");
    if (vt_users_list(vt_app_reader(req->app), dep, add_user, arr)) {
        cJSON_Delete(o);
        vt_reply_store_failed(req);
        return;
    }
    vt_reply_json(req, 200, o);
}

/* ---- the page ---- */

static void get_staff_page(struct vt_http_request *req)
{
    for (const struct vt_web_asset *a = vt_web_assets; a->name; a++)
        if (strcmp(a->name, "staff.html") == 0) {
            vt_http_respond(req, 200, "text/html; charset=utf-8", (const char *)a->data, a->size);
            return;
        }
    vt_reply_not_found(req);
}

int vt_staff_api_register(struct vt_http *http)
{
    const struct vt_config *cfg = vt_app_config(vt_http_app(http));
    size_t max = (size_t)cfg->max_body_bytes;
    int rc = vt_http_route(http, "/api/v1/items", VT_ROUTE_GET, 0, get_queue);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/items/search", VT_ROUTE_POST | VT_ROUTE_STAFF, 8192,
                            post_search);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/items/",
                            VT_ROUTE_GET | VT_ROUTE_POST | VT_ROUTE_PREFIX | VT_ROUTE_STAFF, max,
                            item_routes);
    rc = rc ? rc : vt_http_route(http, "/api/v1/dependencias", VT_ROUTE_GET, 0, get_deps);
    rc = rc ? rc
            : vt_http_route(http, "/api/v1/dependencias", VT_ROUTE_POST | VT_ROUTE_STAFF, 4096,
                            post_deps);
    rc = rc ? rc : vt_http_route(http, "/api/v1/users", VT_ROUTE_GET, 0, get_users);
    rc = rc ? rc : vt_http_route(http, "/staff", VT_ROUTE_GET, 0, get_staff_page);
    return rc;
}
