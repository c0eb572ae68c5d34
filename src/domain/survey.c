/* survey.c - survey definitions, invitations, answers and figures (survey.h). */
#include "domain/survey.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "domain/domain.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"

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

static int read_form(sqlite3_stmt *st, struct vt_survey_form *out)
{
    int rc = VT_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->survey_id = sqlite3_column_int64(st, 0);
        out->invitation_id = sqlite3_column_int64(st, 1);
        out->version = sqlite3_column_int(st, 2);
        snprintf(out->code, sizeof(out->code), "%s", sqlite3_column_text(st, 3));
        snprintf(out->purpose, sizeof(out->purpose), "%s", sqlite3_column_text(st, 4));
        out->definition = cJSON_Parse((const char *)sqlite3_column_text(st, 5));
        out->expires_at = sqlite3_column_int64(st, 6);
        out->used_at = sqlite3_column_int64(st, 7);
        out->source_item_id = sqlite3_column_int64(st, 8);
        snprintf(out->channel, sizeof(out->channel), "%s", sqlite3_column_text(st, 9));
        rc = out->definition ? 0 : VT_ESTORE;
    }
    sqlite3_reset(st);
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
    sqlite3_stmt *st = vt_store_reader_stmt(r, token ? SQL_BY_TOKEN : SQL_BY_CODE);
    if (!st)
        return VT_ESTORE;
    unsigned char h[32];
    if (token) {
        token_hash(token, h);
        sqlite3_bind_blob(st, 1, h, 32, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_text(st, 1, code ? code : "", -1, SQLITE_TRANSIENT);
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
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_SURVEY_BY_CODE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, cfg->surveys.after_item, -1, SQLITE_STATIC);
    int64_t survey = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!survey || !(st = vt_store_tx_stmt(tx, SQL_INVITED)))
        return survey ? VT_ESTORE : 0;
    sqlite3_bind_int64(st, 1, survey);
    sqlite3_bind_int64(st, 2, item_id);
    bool invited = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
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
    if (rc || !(st = vt_store_tx_stmt(tx, SQL_INVITE)))
        return rc ? rc : VT_ESTORE;
    sqlite3_bind_int64(st, 1, survey);
    sqlite3_bind_int64(st, 2, item_id);
    sqlite3_bind_blob(st, 3, h, 32, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sodium_memzero(token, sizeof(token));
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

/* ---- answers (writer thread) ---- */

static const char SQL_TX_BY_TOKEN[] =
    "SELECT s.id, i.id, s.current_version, s.code, s.purpose, v.definition, i.expires_at, "
    "COALESCE(i.used_at, 0), COALESCE(i.item_id, 0), i.channel "
    "FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id "
    "JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE i.token_hash = ?1";
static const char SQL_TX_BY_INVITATION[] =
    "SELECT s.id, i.id, s.current_version, s.code, s.purpose, v.definition, i.expires_at, "
    "COALESCE(i.used_at, 0), COALESCE(i.item_id, 0), i.channel "
    "FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id "
    "JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE i.id = ?1";
static const char SQL_TX_BY_CODE[] =
    "SELECT s.id, 0, s.current_version, s.code, s.purpose, v.definition, 0, 0, 0, 'web' "
    "FROM surveys s JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version "
    "WHERE s.code = ?1 AND s.active = 1 AND s.purpose IN ('public', 'event')";
static const char SQL_USE[] =
    "UPDATE survey_invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL";
static const char SQL_SOURCE[] = "SELECT stakeholder_group, dependencia FROM items WHERE id = ?1";
static const char SQL_ANSWER_ADD[] =
    "INSERT INTO survey_answers (item_id, survey_id, version, invitation_id, source_item_id, "
    "answers, csat, nps, detractor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_FOLLOWUP_ADD[] =
    "INSERT INTO followups (answer_item_id, source_item_id, dependencia, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";

static const char SQL_INVITATION_OF_ITEM[] =
    "SELECT id FROM survey_invitations WHERE item_id = ?1 ORDER BY id DESC LIMIT 1";

int vt_survey_invitation_of_item(struct vt_store_tx *tx, int64_t item_id, int64_t *invitation_id)
{
    *invitation_id = 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_INVITATION_OF_ITEM);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, item_id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *invitation_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? VT_ENOTFOUND : VT_ESTORE;
}

int vt_survey_find_invitation(struct vt_store_tx *tx, int64_t invitation_id,
                              struct vt_survey_form *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_TX_BY_INVITATION);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, invitation_id);
    return read_form(st, out);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
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
    sqlite3_stmt *st = vt_store_tx_stmt(tx, a->token           ? SQL_TX_BY_TOKEN
                                            : a->invitation_id ? SQL_TX_BY_INVITATION
                                                               : SQL_TX_BY_CODE);
    if (!st)
        return VT_ESTORE;
    unsigned char h[32];
    if (a->token) {
        if (!token_ok(a->token)) {
            sqlite3_reset(st);
            return 0;
        }
        token_hash(a->token, h);
        sqlite3_bind_blob(st, 1, h, 32, SQLITE_TRANSIENT);
    } else if (a->invitation_id) {
        sqlite3_bind_int64(st, 1, a->invitation_id);
    } else {
        sqlite3_bind_text(st, 1, a->code ? a->code : "", -1, SQLITE_STATIC);
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
        if (!(st = vt_store_tx_stmt(tx, SQL_USE))) {
            rc = VT_ESTORE;
            goto done;
        }
        sqlite3_bind_int64(st, 1, f.invitation_id);
        sqlite3_bind_int64(st, 2, now);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        if (r != SQLITE_DONE || sqlite3_changes(sqlite3_db_handle(st)) != 1) {
            rc = r == SQLITE_DONE ? 0 : VT_ESTORE;
            a->outcome = VT_EEXIST;
            goto done;
        }
    }
    /* Classified like any other item: the group of the item it is about, a
     * group the respondent declared, or the default. */
    char group[64] = "", dependencia[101] = "", by[32] = "default";
    if (f.source_item_id && (st = vt_store_tx_stmt(tx, SQL_SOURCE))) {
        sqlite3_bind_int64(st, 1, f.source_item_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(group, sizeof(group), "%s", sqlite3_column_text(st, 0));
            const unsigned char *d = sqlite3_column_text(st, 1);
            snprintf(dependencia, sizeof(dependencia), "%s",
                     d ? (const char *)d : cfg->staff.triage_dependencia);
            snprintf(by, sizeof(by), "item");
        }
        sqlite3_reset(st);
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
    if ((rc = vt_store_tx_item_insert(tx, it))) {
        vt_item_free(it);
        goto done;
    }
    vt_item_free(a->item); /* a job run again after a failed batch */
    a->item_id = it->id;
    a->item = it; /* alive until the job is done: the committed hook reads it */
    a->detractor = vt_survey_is_detractor(cfg, a->csat, a->nps);
    char *answers = cJSON_PrintUnformatted(a->answers);
    if (!answers || !(st = vt_store_tx_stmt(tx, SQL_ANSWER_ADD))) {
        free(answers);
        rc = answers ? VT_ESTORE : VT_ENOMEM;
        goto done;
    }
    sqlite3_bind_int64(st, 1, a->item_id);
    sqlite3_bind_int64(st, 2, f.survey_id);
    sqlite3_bind_int(st, 3, f.version);
    bind_id_or_null(st, 4, f.invitation_id);
    bind_id_or_null(st, 5, f.source_item_id);
    sqlite3_bind_text(st, 6, answers, -1, SQLITE_TRANSIENT);
    if (a->csat >= 0)
        sqlite3_bind_int(st, 7, a->csat);
    else
        sqlite3_bind_null(st, 7);
    if (a->nps >= 0)
        sqlite3_bind_int(st, 8, a->nps);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int(st, 9, a->detractor);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    free(answers);
    if (r != SQLITE_DONE) {
        rc = VT_ESTORE;
        goto done;
    }
    /* A detractor we can reach again (the answer is about an item of theirs)
     * opens a follow-up task; an anonymous public answer only counts. */
    if (a->detractor && f.source_item_id) {
        if (!(st = vt_store_tx_stmt(tx, SQL_FOLLOWUP_ADD))) {
            rc = VT_ESTORE;
            goto done;
        }
        sqlite3_bind_int64(st, 1, a->item_id);
        bind_id_or_null(st, 2, f.source_item_id);
        if (dependencia[0])
            sqlite3_bind_text(st, 3, dependencia, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, now);
        r = sqlite3_step(st);
        sqlite3_reset(st);
        if (r != SQLITE_DONE) {
            rc = VT_ESTORE;
            goto done;
        }
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

/* ---- figures ---- */

#define FIGURES(KEY)                                                                               \
    "SELECT " KEY " AS k, count(*), "                                                              \
    "sum(a.csat >= 4), count(a.csat), sum(a.nps >= 9), sum(a.nps <= ?3), count(a.nps) "            \
    "FROM survey_answers a JOIN items i ON i.id = a.item_id JOIN surveys s ON s.id = a.survey_id " \
    "LEFT JOIN items src ON src.id = a.source_item_id "                                            \
    "WHERE i.received_at >= ?1 AND i.received_at < ?2 GROUP BY k ORDER BY k"

static const char SQL_FIG_SURVEY[] = FIGURES("s.code");
static const char SQL_FIG_CHANNEL[] = FIGURES("i.channel");
static const char SQL_FIG_GROUP[] = FIGURES("i.stakeholder_group");
static const char SQL_FIG_DEP[] = FIGURES("COALESCE(src.dependencia, ?4)");
static const char SQL_FIG_MONTH[] = FIGURES("strftime('%Y-%m', i.received_at / 1000 - 18000, "
                                            "'unixepoch')");
static const char SQL_FIG_TOTAL[] = FIGURES("'total'");
/* Invitations by the same keys (not by channel: an email invitation is
 * answered on the web page), for each row's response rate. */
#define INVITATIONS(KEY)                                                                           \
    "SELECT " KEY " AS k, count(*), count(v.used_at) FROM survey_invitations v "                   \
    "JOIN surveys s ON s.id = v.survey_id LEFT JOIN items src ON src.id = v.item_id "              \
    "WHERE v.created_at >= ?1 AND v.created_at < ?2 GROUP BY k"
static const char SQL_INV_SURVEY[] = INVITATIONS("s.code");
static const char SQL_INV_GROUP[] = INVITATIONS("src.stakeholder_group");
static const char SQL_INV_DEP[] = INVITATIONS("COALESCE(src.dependencia, ?4)");
static const char SQL_INV_MONTH[] = INVITATIONS("strftime('%Y-%m', v.created_at / 1000 - 18000, "
                                                "'unixepoch')");

static void add_rate(cJSON *o, long long sent, long long used)
{
    cJSON_AddNumberToObject(o, "invitations", (double)sent);
    cJSON_AddNumberToObject(o, "invitations_answered", (double)used);
    if (sent)
        cJSON_AddNumberToObject(o, "response_rate", (double)((used * 1000 + sent / 2) / sent) / 10);
    else
        cJSON_AddNullToObject(o, "response_rate");
}

/* Adds each key's invitations and response rate to its row (a row with no
 * answers yet is added). */
static int rates_by_key(struct vt_store_reader *r, const struct vt_config *cfg, const char *sql,
                        int64_t from_ms, int64_t to_ms, cJSON *rows)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, sql);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    if (sql == SQL_INV_DEP)
        sqlite3_bind_text(st, 4, cfg->staff.triage_dependencia, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *k = sqlite3_column_text(st, 0);
        const char *key = k ? (const char *)k : "";
        cJSON *row = NULL, *e;
        cJSON_ArrayForEach(e, rows)
        {
            const cJSON *rk = cJSON_GetObjectItemCaseSensitive(e, "key");
            if (cJSON_IsString(rk) && strcmp(rk->valuestring, key) == 0)
                row = e;
        }
        if (!row) {
            row = cJSON_CreateObject();
            cJSON_AddStringToObject(row, "key", key);
            cJSON_AddNumberToObject(row, "answers", 0);
            cJSON_AddNullToObject(row, "csat");
            cJSON_AddNumberToObject(row, "csat_n", 0);
            cJSON_AddNullToObject(row, "nps");
            cJSON_AddNumberToObject(row, "nps_n", 0);
            cJSON_AddNumberToObject(row, "promoters", 0);
            cJSON_AddNumberToObject(row, "detractors", 0);
            cJSON_AddItemToArray(rows, row);
        }
        add_rate(row, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    return 0;
}

static const char SQL_INVITATIONS[] =
    "SELECT count(*), count(used_at) FROM survey_invitations WHERE created_at >= ?1 AND "
    "created_at < ?2";

static cJSON *figure_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    const unsigned char *k = sqlite3_column_text(st, 0);
    cJSON_AddStringToObject(o, "key", k ? (const char *)k : "");
    long long n = sqlite3_column_int64(st, 1), csat_ok = sqlite3_column_int64(st, 2),
              csat_n = sqlite3_column_int64(st, 3), prom = sqlite3_column_int64(st, 4),
              detr = sqlite3_column_int64(st, 5), nps_n = sqlite3_column_int64(st, 6);
    cJSON_AddNumberToObject(o, "answers", (double)n);
    /* Percentages with one decimal; null without a sample. */
    if (csat_n)
        cJSON_AddNumberToObject(o, "csat", (double)((csat_ok * 1000 + csat_n / 2) / csat_n) / 10);
    else
        cJSON_AddNullToObject(o, "csat");
    cJSON_AddNumberToObject(o, "csat_n", (double)csat_n);
    if (nps_n) {
        long long tenths =
            ((prom - detr) * 1000 + (prom >= detr ? nps_n / 2 : -(nps_n / 2))) / nps_n;
        cJSON_AddNumberToObject(o, "nps", (double)tenths / 10);
    } else
        cJSON_AddNullToObject(o, "nps");
    cJSON_AddNumberToObject(o, "nps_n", (double)nps_n);
    cJSON_AddNumberToObject(o, "promoters", (double)prom);
    cJSON_AddNumberToObject(o, "detractors", (double)detr);
    return o;
}

int vt_survey_figures(struct vt_store_reader *r, const struct vt_config *cfg, int64_t from_ms,
                      int64_t to_ms, const char *by, cJSON **out)
{
    static const struct {
        const char *by, *sql;
    } kinds[] = {{"survey", SQL_FIG_SURVEY},
                 {"channel", SQL_FIG_CHANNEL},
                 {"group", SQL_FIG_GROUP},
                 {"dependencia", SQL_FIG_DEP},
                 {"month", SQL_FIG_MONTH}};
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (by && strcmp(kinds[i].by, by) == 0)
            sql = kinds[i].sql;
    if (!sql)
        return VT_EINVAL;
    cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON_AddStringToObject(o, "by", by);
    const char *const sqls[2] = {sql, SQL_FIG_TOTAL};
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *st = vt_store_reader_stmt(r, sqls[pass]);
        if (!st) {
            cJSON_Delete(o);
            return VT_ESTORE;
        }
        sqlite3_bind_int64(st, 1, from_ms);
        sqlite3_bind_int64(st, 2, to_ms);
        sqlite3_bind_int(st, 3, cfg->surveys.detractor_nps_max);
        if (pass == 0 && sqls[pass] == SQL_FIG_DEP)
            sqlite3_bind_text(st, 4, cfg->staff.triage_dependencia, -1, SQLITE_STATIC);
        bool any = false;
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *row = figure_row(st);
            any = true;
            if (pass == 0)
                cJSON_AddItemToArray(rows, row);
            else
                cJSON_AddItemToObject(o, "total", row);
        }
        sqlite3_reset(st);
        if (pass == 1 && !any)
            cJSON_AddNullToObject(o, "total");
    }
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_INVITATIONS);
    if (!st) {
        cJSON_Delete(o);
        return VT_ESTORE;
    }
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    if (sqlite3_step(st) == SQLITE_ROW)
        add_rate(o, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    static const struct {
        const char *by, *sql;
    } per_row[] = {{"survey", SQL_INV_SURVEY},
                   {"group", SQL_INV_GROUP},
                   {"dependencia", SQL_INV_DEP},
                   {"month", SQL_INV_MONTH}};
    for (size_t i = 0; i < sizeof(per_row) / sizeof(per_row[0]); i++)
        if (strcmp(per_row[i].by, by) == 0 &&
            rates_by_key(r, cfg, per_row[i].sql, from_ms, to_ms, rows) != 0) {
            cJSON_Delete(o);
            return VT_ESTORE;
        }
    *out = o;
    return 0;
}
