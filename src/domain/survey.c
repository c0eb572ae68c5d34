/* survey.c - survey definitions (checked and stored, in versions), invitations
 * and answers (survey.h); the figures are survey_figures.c. */
#include "domain/survey.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"
#include "domain/domain.h"
#include "domain/followups.h"
#include "store/db.h"
#include "domain/intake.h"

static const char *const question_types[] = {"rating",   "nps",  "yes_no", "single",
                                             "multiple", "text", NULL};

/* ---- definitions ---- */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool text_ok(const char *s, size_t max_chars, bool allow_empty)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    return (allow_empty || n > 0) && vt_utf8_valid(s, n) && vt_utf8_chars(s, n) <= max_chars;
}

static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int vt_survey_check_definition(const cJSON *def, char *why, size_t whylen)
{
    if (!cJSON_IsObject(def)) {
        snprintf(why, whylen, "La definición debe ser un objeto JSON.");
        return VT_EINVAL;
    }
    if (!text_ok(jstr(def, "title"), 200, false)) {
        snprintf(why, whylen, "Falta el título (hasta 200 caracteres).");
        return VT_EINVAL;
    }
    const char *intro = jstr(def, "intro");
    if (cJSON_GetObjectItemCaseSensitive(def, "intro") && !text_ok(intro, 1000, true)) {
        snprintf(why, whylen, "La introducción puede tener hasta 1.000 caracteres.");
        return VT_EINVAL;
    }
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(def, "questions");
    int n = cJSON_IsArray(qs) ? cJSON_GetArraySize(qs) : 0;
    if (n < 1 || n > 30) {
        snprintf(why, whylen, "Una encuesta tiene de 1 a 30 preguntas.");
        return VT_EINVAL;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *q = cJSON_GetArrayItem(qs, i);
        const char *id = jstr(q, "id"), *type = jstr(q, "type");
        if (!cJSON_IsObject(q) || !id_ok(id)) {
            snprintf(why, whylen,
                     "La pregunta %d necesita un id de 1 a 32 letras minúsculas, "
                     "números o _.",
                     i + 1);
            return VT_EINVAL;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(jstr(cJSON_GetArrayItem(qs, k), "id"), id) == 0) {
                snprintf(why, whylen, "Dos preguntas tienen el id %s.", id);
                return VT_EINVAL;
            }
        if (!vt_item_enum(question_types, type)) {
            snprintf(why, whylen,
                     "La pregunta %s tiene un tipo desconocido: use rating, nps, yes_no, single, "
                     "multiple o text.",
                     id);
            return VT_EINVAL;
        }
        if (!text_ok(jstr(q, "text"), 500, false)) {
            snprintf(why, whylen, "Falta el texto de la pregunta %s (hasta 500 caracteres).", id);
            return VT_EINVAL;
        }
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(q, "required");
        if (req && !cJSON_IsBool(req)) {
            snprintf(why, whylen, "required de la pregunta %s debe ser true o false.", id);
            return VT_EINVAL;
        }
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
        bool choice = strcmp(type, "single") == 0 || strcmp(type, "multiple") == 0;
        int no = cJSON_IsArray(opts) ? cJSON_GetArraySize(opts) : -1;
        if (choice && (no < 2 || no > 20)) {
            snprintf(why, whylen, "La pregunta %s necesita de 2 a 20 opciones.", id);
            return VT_EINVAL;
        }
        if (!choice && opts) {
            snprintf(why, whylen, "Solo las preguntas single y multiple llevan opciones (%s).", id);
            return VT_EINVAL;
        }
        for (int k = 0; k < no; k++) {
            const cJSON *o = cJSON_GetArrayItem(opts, k);
            if (!cJSON_IsString(o) || !text_ok(o->valuestring, 200, false)) {
                snprintf(why, whylen, "Las opciones de %s son textos de hasta 200 caracteres.", id);
                return VT_EINVAL;
            }
        }
    }
    return 0;
}

/* ---- answers ---- */

static int bad(char *field, size_t flen, const char *id, char *why, size_t whylen, const char *msg)
{
    snprintf(field, flen, "q_%s", id);
    snprintf(why, whylen, "%s", msg);
    return VT_EINVAL;
}

/* The whole number in s within [lo, hi], or -1. */
static int number_in(const char *s, int lo, int hi)
{
    char *end;
    long v = s && *s ? strtol(s, &end, 10) : -1;
    return (s && *s && !*end && v >= lo && v <= hi) ? (int)v : -1;
}

int vt_survey_read_answers(const cJSON *def, const char *(*get)(void *ctx, const char *name, int i),
                           void *ctx, cJSON **answers, int *csat, int *nps, char *field,
                           size_t flen, char *why, size_t whylen)
{
    *csat = *nps = -1;
    cJSON *out = cJSON_CreateObject();
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions"))
    {
        const char *id = jstr(q, "id"), *type = jstr(q, "type");
        bool required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "required"));
        char name[40];
        snprintf(name, sizeof(name), "q_%s", id);
        const char *v = get(ctx, name, 0);
        bool empty = !v || !*v || strspn(v, " \t\r\n") == strlen(v);
        if (empty && strcmp(type, "multiple") != 0) {
            if (required) {
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen, "Esta pregunta es obligatoria.");
            }
            continue;
        }
        if (v && !vt_utf8_valid(v, strlen(v))) {
            cJSON_Delete(out);
            return bad(field, flen, id, why, whylen, "La respuesta llegó dañada.");
        }
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
        if (strcmp(type, "rating") == 0 || strcmp(type, "nps") == 0) {
            bool rating = strcmp(type, "rating") == 0;
            int n = number_in(v, rating ? 1 : 0, rating ? 5 : 10);
            if (n < 0) {
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen,
                           rating ? "Elija un número del 1 al 5." : "Elija un número del 0 al 10.");
            }
            cJSON_AddNumberToObject(out, id, n);
            int *first = rating ? csat : nps;
            if (*first < 0)
                *first = n;
        } else if (strcmp(type, "yes_no") == 0) {
            if (strcmp(v, "si") != 0 && strcmp(v, "no") != 0) {
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen, "Responda sí o no.");
            }
            cJSON_AddBoolToObject(out, id, strcmp(v, "si") == 0);
        } else if (strcmp(type, "single") == 0) {
            int k = number_in(v, 0, cJSON_GetArraySize(opts) - 1);
            if (k < 0) {
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen, "Elija una de las opciones.");
            }
            cJSON_AddStringToObject(out, id, cJSON_GetArrayItem(opts, k)->valuestring);
        } else if (strcmp(type, "multiple") == 0) {
            cJSON *arr = cJSON_CreateArray();
            bool seen[20] = {false};
            for (int i = 0; (v = get(ctx, name, i)) != NULL && i < 40; i++) {
                int k = number_in(v, 0, cJSON_GetArraySize(opts) - 1);
                if (k < 0) {
                    cJSON_Delete(arr);
                    cJSON_Delete(out);
                    return bad(field, flen, id, why, whylen, "Elija entre las opciones dadas.");
                }
                seen[k] = true;
            }
            for (int k = 0; k < cJSON_GetArraySize(opts) && k < 20; k++)
                if (seen[k])
                    cJSON_AddItemToArray(
                        arr, cJSON_CreateString(cJSON_GetArrayItem(opts, k)->valuestring));
            if (required && cJSON_GetArraySize(arr) == 0) {
                cJSON_Delete(arr);
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen, "Elija al menos una opción.");
            }
            if (cJSON_GetArraySize(arr))
                cJSON_AddItemToObject(out, id, arr);
            else
                cJSON_Delete(arr);
        } else { /* text */
            if (vt_utf8_chars(v, strlen(v)) > 2000) {
                cJSON_Delete(out);
                return bad(field, flen, id, why, whylen,
                           "La respuesta puede tener hasta 2.000 caracteres.");
            }
            cJSON_AddStringToObject(out, id, v);
        }
    }
    *answers = out;
    return 0;
}

bool vt_survey_is_detractor(const struct vt_config *cfg, int csat, int nps)
{
    return (csat >= 1 && csat <= cfg->surveys.detractor_csat_max) ||
           (nps >= 0 && nps <= cfg->surveys.detractor_nps_max);
}

/* ---- finding a survey ---- */

void vt_survey_form_cleanup(struct vt_survey_form *f)
{
    if (f) {
        cJSON_Delete(f->definition);
        f->definition = NULL;
    }
}

static const char SQL_BY_TOKEN[] =
    "SELECT s.id, i.id, s.current_version, s.code, s.purpose, v.definition, i.expires_at, "
    "COALESCE(i.used_at, 0), COALESCE(i.item_id, 0), i.channel "
    "FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id "
    "JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE i.token_hash = ?1";
static const char SQL_BY_CODE[] =
    "SELECT s.id, 0, s.current_version, s.code, s.purpose, v.definition, 0, 0, 0, 'web' "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE s.code = ?1 AND s.active = 1 AND s.purpose IN ('public', 'event')";

static void token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

static int read_form(struct vt_db_stmt *st, struct vt_survey_form *out)
{
    int rc = VT_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    if (vt_db_step(st) == VT_DB_ROW) {
        out->survey_id = vt_db_col_int(st, 0);
        out->invitation_id = vt_db_col_int(st, 1);
        out->version = (int)vt_db_col_int(st, 2);
        vt_db_col_copy(st, 3, out->code, sizeof(out->code));
        vt_db_col_copy(st, 4, out->purpose, sizeof(out->purpose));
        out->definition = cJSON_Parse(vt_db_col_str(st, 5));
        out->expires_at = vt_db_col_int(st, 6);
        out->used_at = vt_db_col_int(st, 7);
        out->source_item_id = vt_db_col_int(st, 8);
        vt_db_col_copy(st, 9, out->channel, sizeof(out->channel));
        rc = out->definition ? 0 : VT_ESTORE;
    }
    vt_db_reset(st);
    return rc;
}

static bool token_ok(const char *t)
{
    if (!t || strlen(t) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return false;
    return true;
}

int vt_survey_find(struct vt_store_reader *r, const char *token, const char *code,
                   struct vt_survey_form *out)
{
    memset(out, 0, sizeof(*out));
    if (token && !token_ok(token))
        return VT_ENOTFOUND;
    struct vt_db_stmt *st =
        vt_db_prepare(vt_store_reader_db(r), token ? SQL_BY_TOKEN : SQL_BY_CODE);
    if (!st)
        return VT_ESTORE;
    unsigned char h[32];
    if (token) {
        token_hash(token, h);
        vt_db_bind_blob(st, 1, h, 32);
    } else {
        vt_db_bind_text(st, 1, code ? code : "");
    }
    return read_form(st, out);
}

/* ---- invitations ---- */

static const char SQL_SURVEY_BY_CODE[] =
    "SELECT id FROM surveys WHERE code = ?1 AND active = 1 AND purpose = 'after_item'";
static const char SQL_INVITED[] =
    "SELECT 1 FROM survey_invitations WHERE survey_id = ?1 AND item_id = ?2";
static const char SQL_INVITE[] =
    "INSERT INTO survey_invitations (survey_id, item_id, token_hash, channel, created_at, "
    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int vt_survey_invite(const struct vt_domain *dom, struct vt_store_tx *tx, int64_t item_id,
                     const char *radicado, const char *channel, const char *recipient,
                     const char *group, const char *dependencia)
{
    (void)group;
    (void)dependencia;
    const struct vt_config *cfg = dom->cfg;
    const struct vt_sender *ch = recipient ? vt_domain_sender(dom, channel) : NULL;
    if (!cfg->surveys.after_item[0] || !ch)
        return 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SURVEY_BY_CODE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, cfg->surveys.after_item);
    int64_t survey = vt_db_step(st) == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    if (!survey || !(st = vt_db_prepare(vt_store_tx_db(tx), SQL_INVITED)))
        return survey ? VT_ESTORE : 0;
    vt_db_bind_int(st, 1, survey);
    vt_db_bind_int(st, 2, item_id);
    bool invited = vt_db_step(st) == VT_DB_ROW;
    vt_db_reset(st);
    if (invited) /* once per item, also when it is closed again after a reopening */
        return 0;
    int64_t now = vt_store_tx_now(tx);
    int64_t expires = now + (int64_t)cfg->surveys.link_days * 86400000;
    unsigned char raw[32], h[32];
    char token[65], until[11], until_es[16], text[900], subject[160];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
    token_hash(token, h);
    vt_date_format(vt_date_from_unix_ms(expires), until);
    vt_date_format_es(until, until_es);
    snprintf(subject, sizeof(subject), "Radicado %s: ¿cómo lo atendimos?", radicado);
    /* The link's token is the notice's secret: written into the message
     * only when it is sent, and erased from the outbox once delivered. */
    snprintf(text, sizeof(text),
             "Cerramos su solicitud %s. Queremos saber cómo lo atendimos: son cuatro preguntas "
             "cortas en este enlace, que sirve una sola vez hasta el %s:\n\n%s/encuesta/{codigo}"
             "\n\nGracias por ayudarnos a mejorar.",
             radicado, until_es, cfg->public_url);
    struct vt_notice n = {
        item_id,    radicado, recipient,
        "encuesta", subject,  text,
        NULL,       0,        now + (int64_t)cfg->surveys.invite_delay_minutes * 60000,
        token};
    int rc = ch->notify(cfg, tx, &n);
    if (rc == VT_ENOTFOUND || rc == VT_EINVAL)
        return 0; /* the channel is not running or the address is not one of it */
    if (rc || !(st = vt_db_prepare(vt_store_tx_db(tx), SQL_INVITE)))
        return rc ? rc : VT_ESTORE;
    vt_db_bind_int(st, 1, survey);
    vt_db_bind_int(st, 2, item_id);
    vt_db_bind_blob(st, 3, h, 32);
    vt_db_bind_text(st, 4, channel);
    vt_db_bind_int(st, 5, now);
    vt_db_bind_int(st, 6, expires);
    int r = vt_db_run(st);
    sodium_memzero(token, sizeof(token));
    return r ? VT_ESTORE : 0;
}

/* ---- answers (writer thread) ---- */

static const char SQL_BY_INVITATION[] =
    "SELECT s.id, i.id, s.current_version, s.code, s.purpose, v.definition, i.expires_at, "
    "COALESCE(i.used_at, 0), COALESCE(i.item_id, 0), i.channel "
    "FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id "
    "JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE i.id = ?1";
static const char SQL_USE[] =
    "UPDATE survey_invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL";
static const char SQL_SOURCE[] = "SELECT stakeholder_group, dependencia FROM items WHERE id = ?1";
static const char SQL_ANSWER_ADD[] =
    "INSERT INTO survey_answers (item_id, survey_id, version, invitation_id, source_item_id, "
    "answers, csat, nps, detractor) "
    "VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6, nullif(?7, -1), nullif(?8, -1), ?9)";

static const char SQL_INVITATION_OF_ITEM[] =
    "SELECT id FROM survey_invitations WHERE item_id = ?1 ORDER BY id DESC LIMIT 1";

int vt_survey_invitation_of_item(struct vt_store_tx *tx, int64_t item_id, int64_t *invitation_id)
{
    *invitation_id = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_INVITATION_OF_ITEM);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    int r = vt_db_step(st);
    if (r == VT_DB_ROW)
        *invitation_id = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return r == VT_DB_ROW ? 0 : r == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
}

int vt_survey_find_invitation(struct vt_store_tx *tx, int64_t invitation_id,
                              struct vt_survey_form *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_BY_INVITATION);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, invitation_id);
    return read_form(st, out);
}

/* The answers as readable text: the item's body. */
static char *answers_text(const cJSON *def, const cJSON *answers)
{
    struct vt_buf b = {0};
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions"))
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(answers, jstr(q, "id"));
        if (!a)
            continue;
        vt_buf_printf(&b, "%s\n", jstr(q, "text"));
        if (cJSON_IsNumber(a))
            vt_buf_printf(&b, "%d", a->valueint);
        else if (cJSON_IsBool(a))
            vt_buf_puts(&b, cJSON_IsTrue(a) ? "Sí" : "No");
        else if (cJSON_IsString(a))
            vt_buf_puts(&b, a->valuestring);
        else if (cJSON_IsArray(a)) {
            const cJSON *e;
            bool first = true;
            cJSON_ArrayForEach(e, a)
            {
                vt_buf_printf(&b, "%s%s", first ? "" : "; ", e->valuestring);
                first = false;
            }
        }
        vt_buf_puts(&b, "\n\n");
    }
    return vt_buf_steal(&b, NULL);
}

int vt_survey_answer_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_survey_answer *a = ctx;
    const struct vt_config *cfg = a->cfg;
    a->outcome = VT_ENOTFOUND;
    /* The statements of vt_survey_find, on the write connection: the answer
     * is checked inside the job that saves it. */
    struct vt_db *db = vt_store_tx_db(tx);
    struct vt_db_stmt *st = vt_db_prepare(db, a->token           ? SQL_BY_TOKEN
                                              : a->invitation_id ? SQL_BY_INVITATION
                                                                 : SQL_BY_CODE);
    if (!st)
        return VT_ESTORE;
    unsigned char h[32];
    if (a->token) {
        if (!token_ok(a->token)) {
            vt_db_reset(st);
            return 0;
        }
        token_hash(a->token, h);
        vt_db_bind_blob(st, 1, h, 32);
    } else if (a->invitation_id) {
        vt_db_bind_int(st, 1, a->invitation_id);
    } else {
        vt_db_bind_text(st, 1, a->code ? a->code : "");
    }
    struct vt_survey_form f;
    int rc = read_form(st, &f);
    if (rc == VT_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    int64_t now = vt_store_tx_now(tx);
    if (f.invitation_id && f.used_at) {
        a->outcome = VT_EEXIST;
        goto done;
    }
    if (f.invitation_id && now > f.expires_at) {
        a->outcome = VT_ERANGE;
        goto done;
    }
    if (f.invitation_id) {
        /* Single use: the UPDATE only wins while the link is unused. */
        if (!(st = vt_db_prepare(db, SQL_USE))) {
            rc = VT_ESTORE;
            goto done;
        }
        vt_db_bind_int(st, 1, f.invitation_id);
        vt_db_bind_int(st, 2, now);
        int r = vt_db_run(st);
        if (r || vt_db_changes(st) != 1) {
            rc = r ? VT_ESTORE : 0;
            a->outcome = VT_EEXIST;
            goto done;
        }
    }
    /* Classified like any other item: the group of the item it is about, a
     * group the respondent declared, or the default. */
    char group[64] = "", dependencia[101] = "", by[32] = "default";
    if (f.source_item_id && (st = vt_db_prepare(db, SQL_SOURCE))) {
        vt_db_bind_int(st, 1, f.source_item_id);
        if (vt_db_step(st) == VT_DB_ROW) {
            vt_db_col_copy(st, 0, group, sizeof(group));
            const char *d = vt_db_col_text(st, 1);
            snprintf(dependencia, sizeof(dependencia), "%s", d ? d : cfg->staff.triage_dependencia);
            snprintf(by, sizeof(by), "item");
        }
        vt_db_reset(st);
    }
    if (!group[0] && a->declared_group && vt_classify_group_known(&cfg->rules, a->declared_group)) {
        snprintf(group, sizeof(group), "%s", a->declared_group);
        snprintf(by, sizeof(by), "declared");
    }
    if (!group[0])
        snprintf(group, sizeof(group), "%s", cfg->rules.default_group);
    struct vt_item *it = vt_item_new();
    char *body = answers_text(f.definition, a->answers);
    const char *title = jstr(f.definition, "title");
    if (!it || !body || !(it->subject = strdup(title ? title : f.code))) {
        free(body);
        vt_item_free(it);
        rc = VT_ENOMEM;
        goto done;
    }
    it->kind = "survey_response";
    it->channel = a->channel ? a->channel : f.channel;
    it->body = body;
    it->req.person_type = "anonimo";
    it->status = "recibida";
    snprintf(it->group, sizeof(it->group), "%s", group);
    snprintf(it->classified_by, sizeof(it->classified_by), "%s", by);
    if ((rc = vt_intake_file(cfg, tx, it, NULL))) {
        vt_item_free(it);
        goto done;
    }
    vt_item_free(a->item); /* a job run again after a failed batch */
    a->item_id = it->id;
    a->item = it; /* alive until the job is done: the committed hook reads it */
    a->detractor = vt_survey_is_detractor(cfg, a->csat, a->nps);
    char *answers = cJSON_PrintUnformatted(a->answers);
    if (!answers || !(st = vt_db_prepare(db, SQL_ANSWER_ADD))) {
        free(answers);
        rc = answers ? VT_ESTORE : VT_ENOMEM;
        goto done;
    }
    vt_db_bind_int(st, 1, a->item_id);
    vt_db_bind_int(st, 2, f.survey_id);
    vt_db_bind_int(st, 3, f.version);
    vt_db_bind_int(st, 4, f.invitation_id); /* 0: none (a public survey) */
    vt_db_bind_int(st, 5, f.source_item_id);
    vt_db_bind_text(st, 6, answers);
    vt_db_bind_int(st, 7, a->csat < 0 ? -1 : a->csat); /* -1: not asked */
    vt_db_bind_int(st, 8, a->nps < 0 ? -1 : a->nps);
    vt_db_bind_int(st, 9, a->detractor);
    int r = vt_db_run(st);
    free(answers);
    if (r) {
        rc = VT_ESTORE;
        goto done;
    }
    /* A detractor we can reach again (the answer is about an item of theirs)
     * opens a follow-up task; an anonymous public answer only counts. */
    if (a->detractor && f.source_item_id) {
        if ((rc = vt_followups_open(tx, a->item_id, f.source_item_id, dependencia, now)))
            goto done;
        a->followup = true;
        char payload[200];
        snprintf(payload, sizeof(payload),
                 "{\"answer_item_id\":%lld,\"csat\":%d,\"nps\":%d,\"dependencia\":\"%s\"}",
                 (long long)a->item_id, a->csat, a->nps, dependencia);
        if ((rc = vt_store_tx_event(tx, f.source_item_id, "sistema", "seguimiento_detractor",
                                    payload, 0)))
            goto done;
    }
    char payload[160];
    snprintf(payload, sizeof(payload), "{\"survey\":\"%s\",\"version\":%d,\"source_item_id\":%lld}",
             f.code, f.version, (long long)f.source_item_id);
    if ((rc = vt_store_tx_event(tx, a->item_id, "ciudadano:encuesta", "encuesta_respondida",
                                payload, 0)))
        goto done;
    a->outcome = 0;
done:
    vt_survey_form_cleanup(&f);
    return rc;
}

/* ---- the surveys themselves (admins) ---- */

static const char SQL_LIST[] =
    "SELECT s.code, s.purpose, s.active, s.current_version, v.definition, "
    "(SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id) "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "ORDER BY s.code";
static const char SQL_VERSIONS[] =
    "SELECT s.code, s.purpose, s.active, s.current_version, v.version, v.definition, v.created_at "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id WHERE s.code = ?1 "
    "ORDER BY v.version";

/* The definition JSON text of column i, parsed (null when it does not parse). */
static cJSON *definition_of(struct vt_db_stmt *st, int i)
{
    cJSON *def = cJSON_Parse(vt_db_col_str(st, i));
    return def ? def : cJSON_CreateNull();
}

cJSON *vt_survey_list(struct vt_store_reader *r)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LIST);
    if (!st)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "code", vt_db_col_str(st, 0));
        cJSON_AddStringToObject(s, "purpose", vt_db_col_str(st, 1));
        cJSON_AddBoolToObject(s, "active", vt_db_col_int(st, 2) != 0);
        cJSON_AddNumberToObject(s, "version", (double)vt_db_col_int(st, 3));
        cJSON_AddItemToObject(s, "definition", definition_of(st, 4));
        cJSON_AddNumberToObject(s, "answers", (double)vt_db_col_int(st, 5));
        cJSON_AddItemToArray(arr, s);
    }
    vt_db_reset(st);
    if (rc != VT_DB_DONE) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

int vt_survey_versions(struct vt_store_reader *r, const char *code, cJSON **out)
{
    *out = NULL;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_VERSIONS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, code);
    cJSON *o = NULL, *versions = NULL;
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        if (!o) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", vt_db_col_str(st, 0));
            cJSON_AddStringToObject(o, "purpose", vt_db_col_str(st, 1));
            cJSON_AddBoolToObject(o, "active", vt_db_col_int(st, 2) != 0);
            cJSON_AddNumberToObject(o, "current_version", (double)vt_db_col_int(st, 3));
            versions = cJSON_AddArrayToObject(o, "versions");
        }
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "version", (double)vt_db_col_int(st, 4));
        cJSON_AddItemToObject(v, "definition", definition_of(st, 5));
        char at[32];
        vt_time_format_iso(vt_db_col_int(st, 6), at);
        cJSON_AddStringToObject(v, "created_at", at);
        cJSON_AddItemToArray(versions, v);
    }
    vt_db_reset(st);
    if (rc != VT_DB_DONE) {
        cJSON_Delete(o);
        return VT_ESTORE;
    }
    *out = o;
    return o ? 0 : VT_ENOTFOUND;
}

static const char SQL_GET[] = "SELECT id, purpose, current_version FROM surveys WHERE code = ?1";
static const char SQL_CREATE[] =
    "INSERT INTO surveys (code, purpose, current_version, created_at, updated_at) "
    "VALUES (?1, ?2, 1, ?3, ?3) RETURNING id";
static const char SQL_BUMP[] =
    "UPDATE surveys SET current_version = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_VERSION_ADD[] =
    "INSERT INTO survey_versions (survey_id, version, definition, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_ACTIVE[] = "UPDATE surveys SET active = ?2, updated_at = ?3 WHERE id = ?1";

/* A new survey (version 1) or a new version of one; *version set. */
static int save_version(struct vt_db *db, struct vt_survey_save *j, int64_t id, int version,
                        int64_t now)
{
    struct vt_db_stmt *st;
    if (!id) {
        if (!(st = vt_db_prepare(db, SQL_CREATE)))
            return VT_ESTORE;
        vt_db_bind_text(st, 1, j->code);
        vt_db_bind_text(st, 2, j->purpose);
        vt_db_bind_int(st, 3, now);
        int r = vt_db_step(st);
        id = r == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
        vt_db_reset(st);
        if (!id)
            return VT_ESTORE;
        j->version = 1;
    } else {
        /* An edit is a new version: the answers given keep theirs. */
        j->version = version + 1;
        if (!(st = vt_db_prepare(db, SQL_BUMP)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, id);
        vt_db_bind_int(st, 2, j->version);
        vt_db_bind_int(st, 3, now);
        if (vt_db_run(st))
            return VT_ESTORE;
    }
    if (!(st = vt_db_prepare(db, SQL_VERSION_ADD)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_int(st, 2, j->version);
    vt_db_bind_text(st, 3, j->definition);
    vt_db_bind_int(st, 4, now);
    return vt_db_run(st) ? VT_ESTORE : 0;
}

int vt_survey_save_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_survey_save *j = ctx;
    struct vt_db *db = vt_store_tx_db(tx);
    int64_t now = vt_store_tx_now(tx);
    j->outcome = 0;
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_GET);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, j->code);
    int64_t id = 0;
    int version = 0;
    char purpose[16] = "";
    int r = vt_db_step(st);
    if (r == VT_DB_ROW) {
        id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, purpose, sizeof(purpose));
        version = (int)vt_db_col_int(st, 2);
    }
    vt_db_reset(st);
    if (r < 0)
        return r;
    const char *action;
    int rc;
    if (j->set_active) {
        if (!id) {
            j->outcome = VT_ENOTFOUND;
            return 0;
        }
        if (!(st = vt_db_prepare(db, SQL_ACTIVE)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, id);
        vt_db_bind_int(st, 2, j->active);
        vt_db_bind_int(st, 3, now);
        if (vt_db_run(st))
            return VT_ESTORE;
        action = "encuesta_activada";
        j->version = version;
    } else if (id && strcmp(purpose, j->purpose) != 0) {
        j->outcome = VT_EINVAL;
        return 0;
    } else {
        if ((rc = save_version(db, j, id, version, now)))
            return rc;
        action = "encuesta_guardada";
    }
    char payload[160];
    snprintf(payload, sizeof(payload), "{\"code\":\"%s\",\"version\":%d,\"active\":%s}", j->code,
             j->version, j->set_active ? (j->active ? "true" : "false") : "null");
    return vt_store_tx_event(tx, 0, j->actor, action, payload, 0);
}
