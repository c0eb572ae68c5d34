/* hearing.c - hearings, their questions and the moderation of the question
 * wall (hearing.h). */
#include "domain/hearing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/error.h"
#include "store/db.h"
#include "domain/intake.h"

bool vt_hearing_code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int vt_hearing_notice_days(const char *convoked_on, const char *date)
{
    vt_date_t a, b;
    if (vt_date_parse(convoked_on, &a) || vt_date_parse(date, &b))
        return -1000000;
    return (int)(vt_date_to_days(b) - vt_date_to_days(a));
}

static const char SQL_HEARING_ADD[] =
    "INSERT INTO hearings (code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at, created_at, survey_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "nullif(?10, ''))";
static const char SQL_HEARING_ID[] =
    "SELECT id, questions_open_at, questions_close_at, name FROM hearings WHERE code = ?1";

/* The evaluation survey of a hearing is one made for events. */
static const char SQL_EVENT_SURVEY[] =
    "SELECT 1 FROM surveys WHERE code = ?1 AND purpose = 'event'";

int vt_hearing_create_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_create *j = ctx;
    const struct vt_hearing *h = &j->h;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_HEARING_ID);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, h->code);
    int r = vt_db_step(st);
    vt_db_reset(st);
    if (r < 0)
        return r;
    if (r == VT_DB_ROW) {
        j->outcome = VT_EEXIST;
        return 0;
    }
    if (h->survey_code[0]) {
        if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_EVENT_SURVEY)))
            return VT_ESTORE;
        vt_db_bind_text(st, 1, h->survey_code);
        r = vt_db_step(st);
        vt_db_reset(st);
        if (r < 0)
            return r;
        if (r != VT_DB_ROW) {
            j->outcome = VT_EINVAL;
            return 0;
        }
    }
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_HEARING_ADD)))
        return VT_ESTORE;
    vt_db_bind_text(st, 1, h->code);
    vt_db_bind_text(st, 2, h->name);
    vt_db_bind_text(st, 3, h->date);
    vt_db_bind_text(st, 4, h->place);
    vt_db_bind_text(st, 5, h->stream_url);
    vt_db_bind_text(st, 6, h->convoked_on);
    vt_db_bind_int(st, 7, h->open_at);
    vt_db_bind_int(st, 8, h->close_at);
    vt_db_bind_int(st, 9, vt_store_tx_now(tx));
    vt_db_bind_text(st, 10, h->survey_code);
    if (vt_db_run(st))
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "code", h->code);
    cJSON_AddStringToObject(p, "date", h->date);
    cJSON_AddStringToObject(p, "convoked_on", h->convoked_on);
    if (h->survey_code[0])
        cJSON_AddStringToObject(p, "survey", h->survey_code);
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!payload)
        return VT_ENOMEM;
    int rc = vt_store_tx_event(tx, 0, j->actor, "audiencia_creada", payload, 0);
    free(payload);
    return rc;
}

static const char SQL_QUESTION_ADD[] =
    "INSERT INTO hearing_questions (item_id, hearing_id, source, show_name, display_name, status) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 'pendiente')";

int vt_hearing_question_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_question *q = ctx;
    int rc = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_HEARING_ID);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, q->code);
    int64_t hid = 0, open_at = 0, close_at = 0;
    char hname[201] = "";
    int r = vt_db_step(st);
    if (r == VT_DB_ROW) {
        hid = vt_db_col_int(st, 0);
        open_at = vt_db_col_int(st, 1);
        close_at = vt_db_col_int(st, 2);
        vt_db_col_copy(st, 3, hname, sizeof(hname));
    }
    vt_db_reset(st);
    if (r < 0)
        return r;
    q->outcome = 0;
    if (!hid) {
        q->outcome = VT_ENOTFOUND;
        return 0;
    }
    int64_t now = vt_store_tx_now(tx);
    if (now < open_at || now >= close_at) {
        q->outcome = VT_ERANGE;
        return 0;
    }
    vt_item_free(q->item); /* a job run again after a failed batch */
    q->item = NULL;
    struct vt_item *it = vt_item_new();
    char subject[260];
    snprintf(subject, sizeof(subject), "Pregunta para la audiencia: %s", hname);
    if (!it || !(it->subject = strdup(subject)) || !(it->body = strdup(q->text)) ||
        (q->name && q->name[0] && !(it->req.name = strdup(q->name)))) {
        vt_item_free(it);
        return VT_ENOMEM;
    }
    it->kind = "hearing_question";
    it->channel = q->channel;
    it->req.person_type = q->name && q->name[0] ? "natural" : "anonimo";
    it->req.data_consent = q->name && q->name[0];
    /* A question is heard from the public at large: not classified. */
    snprintf(it->group, sizeof(it->group), "%s", q->cfg->rules.default_group);
    snprintf(it->classified_by, sizeof(it->classified_by), "hearing");
    if ((rc = vt_intake_file(q->cfg, tx, it, NULL))) {
        vt_item_free(it);
        return rc;
    }
    q->item = it;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_QUESTION_ADD)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, it->id);
    vt_db_bind_int(st, 2, hid);
    vt_db_bind_text(st, 3, q->source);
    vt_db_bind_int(st, 4, q->show_name && q->name && q->name[0]);
    vt_db_bind_text(st, 5, q->name && q->name[0] ? q->name : NULL);
    if (vt_db_run(st))
        return VT_ESTORE;
    char payload[200], actor[80];
    snprintf(payload, sizeof(payload), "{\"hearing\":\"%s\",\"source\":\"%s\"}", q->code,
             q->source);
    /* A citizen's question is theirs on the channel it came by. */
    snprintf(actor, sizeof(actor), "%s", q->actor[0] ? q->actor : "");
    if (!actor[0])
        snprintf(actor, sizeof(actor), "ciudadano:%s", q->channel ? q->channel : "web");
    return vt_store_tx_event(tx, it->id, actor, "pregunta_audiencia", payload, 0);
}

static const char SQL_QUESTION_OF[] =
    "SELECT q.item_id, q.status FROM hearing_questions q JOIN items i ON i.id = q.item_id "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 AND i.radicado = ?2";
static const char SQL_MODERATE[] =
    "UPDATE hearing_questions SET status = ?2, reason = coalesce(?3, reason), "
    "merged_into = coalesce(?4, merged_into), topic = coalesce(?5, topic), moderated_at = ?6, "
    "moderated_by = ?7 WHERE item_id = ?1";

static int question_of(struct vt_store_tx *tx, const char *code, const char *radicado, int64_t *id,
                       char *status, size_t slen)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_QUESTION_OF);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, code);
    vt_db_bind_text(st, 2, radicado);
    *id = 0;
    int r = vt_db_step(st);
    if (r == VT_DB_ROW) {
        *id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 1, status, slen);
    }
    vt_db_reset(st);
    return r < 0 ? r : *id ? 0 : VT_ENOTFOUND;
}

/* The moderation table: action, the status it needs (NULL: any), where it goes
 * (NULL: stays). */
static const struct {
    const char *action, *from, *to;
} moves[] = {
    {"approve", "pendiente", "aprobada"},
    {"reject", "pendiente", "rechazada"},
    {"merge", "pendiente", "fusionada"},
    {"select", "aprobada", "seleccionada"},
    {"answered_live", "seleccionada", "respondida_en_vivo"},
    {"topic", NULL, NULL},
};

int vt_hearing_moderate_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_moderation *m = ctx;
    int64_t id = 0, into = 0;
    char into_status[24];
    m->outcome = 0;
    int rc = question_of(tx, m->code, m->radicado, &id, m->from_status, sizeof(m->from_status));
    if (rc == VT_ENOTFOUND) {
        m->outcome = VT_ENOTFOUND;
        return 0;
    }
    if (rc)
        return rc;
    size_t k = 0;
    while (k < sizeof(moves) / sizeof(moves[0]) && strcmp(moves[k].action, m->action) != 0)
        k++;
    if (k == sizeof(moves) / sizeof(moves[0]) ||
        (moves[k].from && strcmp(moves[k].from, m->from_status) != 0)) {
        m->outcome = VT_EINVAL;
        return 0;
    }
    if (strcmp(m->action, "merge") == 0) {
        rc = question_of(tx, m->code, m->into, &into, into_status, sizeof(into_status));
        if (rc == VT_ENOTFOUND || into == id) {
            m->outcome = VT_ENOTFOUND;
            return 0;
        }
        if (rc)
            return rc;
    }
    snprintf(m->to_status, sizeof(m->to_status), "%s", moves[k].to ? moves[k].to : m->from_status);
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_MODERATE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, m->to_status);
    /* NULL keeps the column as it is (coalesce in SQL_MODERATE). */
    vt_db_bind_text(st, 3, strcmp(m->action, "reject") == 0 ? m->reason : NULL);
    if (into)
        vt_db_bind_int(st, 4, into);
    else
        vt_db_bind_null(st, 4);
    vt_db_bind_text(st, 5, strcmp(m->action, "topic") == 0 ? m->topic : NULL);
    vt_db_bind_int(st, 6, vt_store_tx_now(tx));
    vt_db_bind_text(st, 7, m->actor);
    if (vt_db_run(st))
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "hearing", m->code);
    cJSON_AddStringToObject(p, "action", m->action);
    cJSON_AddStringToObject(p, "from", m->from_status);
    cJSON_AddStringToObject(p, "to", m->to_status);
    if (strcmp(m->action, "reject") == 0)
        cJSON_AddStringToObject(p, "reason", m->reason);
    if (into)
        cJSON_AddStringToObject(p, "into", m->into);
    if (strcmp(m->action, "topic") == 0)
        cJSON_AddStringToObject(p, "topic", m->topic);
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!payload)
        return VT_ENOMEM;
    rc = vt_store_tx_event(tx, id, m->actor, "pregunta_moderada", payload, 0);
    free(payload);
    if (rc == 0)
        rc = vt_store_tx_wall_changed(tx, m->code);
    return rc;
}

/* ---- after the event: commitments ---- */

static const char SQL_COMMITMENT_ADD[] =
    "INSERT INTO commitments (hearing_id, text, dependencia, due_date, created_at, created_by) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";

int vt_hearing_commitment_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_commitment *c = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_HEARING_ID);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, c->code);
    int r = vt_db_step(st);
    int64_t hid = r == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    if (r < 0)
        return r;
    c->outcome = hid ? 0 : VT_ENOTFOUND;
    if (!hid)
        return 0;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_COMMITMENT_ADD)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, hid);
    vt_db_bind_text(st, 2, c->text);
    vt_db_bind_text(st, 3, c->dependencia);
    vt_db_bind_text(st, 4, c->due_date);
    vt_db_bind_int(st, 5, vt_store_tx_now(tx));
    vt_db_bind_text(st, 6, c->actor);
    r = vt_db_step(st);
    c->id = r == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    if (r != VT_DB_ROW)
        return r < 0 ? r : VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "hearing", c->code);
    cJSON_AddNumberToObject(p, "commitment", (double)c->id);
    cJSON_AddStringToObject(p, "dependencia", c->dependencia);
    cJSON_AddStringToObject(p, "due_date", c->due_date);
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!payload)
        return VT_ENOMEM;
    int rc = vt_store_tx_event(tx, 0, c->actor, "compromiso_creado", payload, 0);
    free(payload);
    return rc;
}

static const char SQL_COMMITMENT_DEP[] = "SELECT dependencia FROM commitments WHERE id = ?1";
static const char SQL_PROGRESS_ADD[] =
    "INSERT INTO commitment_progress (commitment_id, at, text, percent, by_user) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_COMMITMENT_STATUS[] = "UPDATE commitments SET status = ?2 WHERE id = ?1";

int vt_hearing_progress_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_progress *g = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_COMMITMENT_DEP);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, g->commitment_id);
    char dep[101] = "";
    int r = vt_db_step(st);
    bool found = r == VT_DB_ROW;
    if (found)
        vt_db_col_copy(st, 0, dep, sizeof(dep));
    vt_db_reset(st);
    if (r < 0)
        return r;
    g->outcome = !found ? VT_ENOTFOUND : strcmp(dep, g->dependencia) != 0 ? VT_EPERM : 0;
    if (g->outcome)
        return 0;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_PROGRESS_ADD)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, g->commitment_id);
    vt_db_bind_int(st, 2, vt_store_tx_now(tx));
    vt_db_bind_text(st, 3, g->text);
    vt_db_bind_int(st, 4, g->percent);
    vt_db_bind_text(st, 5, g->actor);
    if (vt_db_run(st))
        return VT_ESTORE;
    snprintf(g->status, sizeof(g->status), "%s", g->percent >= 100 ? "cumplido" : "abierto");
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_COMMITMENT_STATUS)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, g->commitment_id);
    vt_db_bind_text(st, 2, g->status);
    if (vt_db_run(st))
        return VT_ESTORE;
    char payload[160];
    snprintf(payload, sizeof(payload), "{\"commitment\":%lld,\"percent\":%d,\"status\":\"%s\"}",
             (long long)g->commitment_id, g->percent, g->status);
    return vt_store_tx_event(tx, 0, g->actor, "compromiso_avance", payload, 0);
}

/* ---- readers ---- */

static const char SQL_FIND[] =
    "SELECT code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at, coalesce(survey_code, '') FROM hearings WHERE code = ?1";
static const char SQL_ALL[] =
    "SELECT code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at, (SELECT count(*) FROM hearing_questions q WHERE q.hearing_id = h.id) "
    "FROM hearings h ORDER BY date DESC, code";

static void row_hearing(struct vt_db_stmt *st, struct vt_hearing *h)
{
    vt_db_col_copy(st, 0, h->code, sizeof(h->code));
    vt_db_col_copy(st, 1, h->name, sizeof(h->name));
    vt_db_col_copy(st, 2, h->date, sizeof(h->date));
    vt_db_col_copy(st, 3, h->place, sizeof(h->place));
    vt_db_col_copy(st, 4, h->stream_url, sizeof(h->stream_url));
    vt_db_col_copy(st, 5, h->convoked_on, sizeof(h->convoked_on));
    h->open_at = vt_db_col_int(st, 6);
    h->close_at = vt_db_col_int(st, 7);
    h->survey_code[0] = '\0';
}

int vt_hearing_find(struct vt_store_reader *r, const char *code, struct vt_hearing *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_FIND);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, code);
    int rc = VT_ENOTFOUND;
    if (vt_db_step(st) == VT_DB_ROW) {
        row_hearing(st, out);
        vt_db_col_copy(st, 8, out->survey_code, sizeof(out->survey_code));
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

cJSON *vt_hearing_list(struct vt_store_reader *r)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ALL);
    if (!st)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    while (vt_db_step(st) == VT_DB_ROW) {
        struct vt_hearing h;
        row_hearing(st, &h);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", h.code);
        cJSON_AddStringToObject(o, "name", h.name);
        cJSON_AddStringToObject(o, "date", h.date);
        cJSON_AddStringToObject(o, "place", h.place);
        cJSON_AddStringToObject(o, "stream_url", h.stream_url);
        cJSON_AddStringToObject(o, "convoked_on", h.convoked_on);
        cJSON_AddNumberToObject(o, "questions_open_at", (double)h.open_at);
        cJSON_AddNumberToObject(o, "questions_close_at", (double)h.close_at);
        cJSON_AddNumberToObject(o, "questions", (double)vt_db_col_int(st, 8));
        cJSON_AddItemToArray(arr, o);
    }
    vt_db_reset(st);
    return arr;
}

static const char SQL_QUESTIONS[] =
    "SELECT i.radicado, i.body, q.source, q.show_name, q.display_name, q.status, q.reason, "
    "(SELECT radicado FROM items m WHERE m.id = q.merged_into), q.topic, i.received_at, "
    "q.moderated_by FROM hearing_questions q JOIN items i ON i.id = q.item_id "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 "
    "AND (CAST(?2 AS TEXT) IS NULL OR q.status = ?2) "
    "AND (CAST(?3 AS TEXT) IS NULL OR q.topic = ?3) ORDER BY i.received_at, i.id";
/* The moderators' grouping: questions by topic ("" for none yet), by status. */
static const char SQL_TOPICS[] =
    "SELECT coalesce(q.topic, ''), q.status, count(*) FROM hearing_questions q "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 "
    "GROUP BY coalesce(q.topic, ''), q.status ORDER BY coalesce(q.topic, ''), q.status";

static void add_text_or_null(cJSON *o, const char *key, struct vt_db_stmt *st, int i)
{
    const char *t = vt_db_col_text(st, i);
    if (t)
        cJSON_AddStringToObject(o, key, t);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *vt_hearing_topics(struct vt_store_reader *r, const char *code)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_TOPICS);
    if (!st)
        return NULL;
    vt_db_bind_text(st, 1, code);
    cJSON *arr = cJSON_CreateArray(), *cur = NULL;
    while (vt_db_step(st) == VT_DB_ROW) {
        const char *topic = vt_db_col_text(st, 0);
        const cJSON *name = cur ? cJSON_GetObjectItemCaseSensitive(cur, "topic") : NULL;
        if (!cur || strcmp(name->valuestring, topic) != 0) {
            cur = cJSON_CreateObject();
            cJSON_AddStringToObject(cur, "topic", topic);
            cJSON_AddNumberToObject(cur, "questions", 0);
            cJSON_AddObjectToObject(cur, "by_status");
            cJSON_AddItemToArray(arr, cur);
        }
        int n = (int)vt_db_col_int(st, 2);
        cJSON *total = cJSON_GetObjectItemCaseSensitive(cur, "questions");
        cJSON_SetNumberValue(total, total->valuedouble + n);
        cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(cur, "by_status"),
                                vt_db_col_text(st, 1), n);
    }
    vt_db_reset(st);
    return arr;
}

cJSON *vt_hearing_questions(struct vt_store_reader *r, const char *code, const char *status,
                            const char *topic)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_QUESTIONS);
    if (!st)
        return NULL;
    vt_db_bind_text(st, 1, code);
    vt_db_bind_text(st, 2, status); /* NULL: any */
    vt_db_bind_text(st, 3, topic);
    cJSON *arr = cJSON_CreateArray();
    while (vt_db_step(st) == VT_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        add_text_or_null(o, "radicado", st, 0);
        add_text_or_null(o, "text", st, 1);
        add_text_or_null(o, "source", st, 2);
        cJSON_AddBoolToObject(o, "show_name", vt_db_col_int(st, 3) != 0);
        add_text_or_null(o, "name", st, 4);
        add_text_or_null(o, "status", st, 5);
        add_text_or_null(o, "reason", st, 6);
        add_text_or_null(o, "merged_into", st, 7);
        add_text_or_null(o, "topic", st, 8);
        char at[32];
        vt_time_format_iso(vt_db_col_int(st, 9), at);
        cJSON_AddStringToObject(o, "received_at", at);
        add_text_or_null(o, "moderated_by", st, 10);
        cJSON_AddItemToArray(arr, o);
    }
    vt_db_reset(st);
    return arr;
}

static const char SQL_COMMITMENTS[] =
    "SELECT c.id, c.text, c.dependencia, c.due_date, c.status, "
    "coalesce((SELECT p.percent FROM commitment_progress p WHERE p.commitment_id = c.id "
    "ORDER BY p.at DESC, p.id DESC LIMIT 1), 0) FROM commitments c "
    "JOIN hearings h ON h.id = c.hearing_id WHERE h.code = ?1 ORDER BY c.due_date, c.id";
static const char SQL_PROGRESS[] =
    "SELECT at, text, percent, by_user FROM commitment_progress WHERE commitment_id = ?1 "
    "ORDER BY at, id";

cJSON *vt_hearing_commitments(struct vt_store_reader *r, const char *code)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_COMMITMENTS);
    struct vt_db_stmt *pg = vt_db_prepare(vt_store_reader_db(r), SQL_PROGRESS);
    if (!st || !pg)
        return NULL;
    vt_db_bind_text(st, 1, code);
    cJSON *arr = cJSON_CreateArray();
    while (vt_db_step(st) == VT_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        int64_t id = vt_db_col_int(st, 0);
        cJSON_AddNumberToObject(o, "id", (double)id);
        add_text_or_null(o, "text", st, 1);
        add_text_or_null(o, "dependencia", st, 2);
        add_text_or_null(o, "due_date", st, 3);
        add_text_or_null(o, "status", st, 4);
        cJSON_AddNumberToObject(o, "percent", (int)vt_db_col_int(st, 5));
        cJSON *ps = cJSON_AddArrayToObject(o, "progress");
        vt_db_bind_int(pg, 1, id);
        while (vt_db_step(pg) == VT_DB_ROW) {
            cJSON *p = cJSON_CreateObject();
            char at[32];
            vt_time_format_iso(vt_db_col_int(pg, 0), at);
            cJSON_AddStringToObject(p, "at", at);
            add_text_or_null(p, "text", pg, 1);
            cJSON_AddNumberToObject(p, "percent", (int)vt_db_col_int(pg, 2));
            add_text_or_null(p, "by", pg, 3);
            cJSON_AddItemToArray(ps, p);
        }
        vt_db_reset(pg);
        cJSON_AddItemToArray(arr, o);
    }
    vt_db_reset(st);
    return arr;
}

/* The report's rows: the question, its moderation and its last written
 * response (the one the staff queue sent). */
static const char SQL_REPORT[] =
    "SELECT i.radicado, i.body, q.source, i.stakeholder_group, q.status, q.topic, "
    "CASE WHEN q.show_name = 1 THEN q.display_name END, q.reason, "
    "(SELECT radicado FROM items m WHERE m.id = q.merged_into), "
    "(SELECT text FROM responses s WHERE s.item_id = i.id ORDER BY s.at DESC, s.id DESC LIMIT 1), "
    "(SELECT at FROM responses s WHERE s.item_id = i.id ORDER BY s.at DESC, s.id DESC LIMIT 1), "
    "q.moderated_at, coalesce(i.due_date, '') FROM hearing_questions q "
    "JOIN items i ON i.id = q.item_id JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 "
    "ORDER BY i.received_at, i.id";

static void count(cJSON *o, const char *key)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key ? key : "");
    if (n)
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    else
        cJSON_AddNumberToObject(o, key ? key : "", 1);
}

/* What the public may see of a question, once its moderation is known. */
enum shown { SHOWN, IN_REVIEW, NOT_ADMITTED };

/* A question's own standing: rejected is not admitted; approved, selected or
 * answered (live or in writing) is public; pending waits for review; a merged
 * one follows the question it was merged into (shown_of). */
static enum shown own_standing(const cJSON *q)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "status"));
    if (s && strcmp(s, "rechazada") == 0)
        return NOT_ADMITTED;
    if (cJSON_GetObjectItemCaseSensitive(q, "answer_kind"))
        return SHOWN;
    if (s && (strcmp(s, "aprobada") == 0 || strcmp(s, "seleccionada") == 0 ||
              strcmp(s, "respondida_en_vivo") == 0))
        return SHOWN;
    return IN_REVIEW;
}

/* Follows the merges from q to the question at the end of the chain (a
 * chain longer than the hearing's questions is a cycle: kept in review). */
static enum shown shown_of(const cJSON *all, const cJSON *q)
{
    int left = cJSON_GetArraySize(all);
    while (left-- >= 0) {
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "status"));
        const char *into = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "merged_into"));
        if (!s || strcmp(s, "fusionada") != 0 || !into ||
            cJSON_GetObjectItemCaseSensitive(q, "answer_kind"))
            return own_standing(q);
        const cJSON *next = NULL, *m;
        cJSON_ArrayForEach(m, all)
        {
            const char *r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "radicado"));
            if (r && strcmp(r, into) == 0)
                next = m;
        }
        if (!next)
            return IN_REVIEW;
        q = next;
    }
    return IN_REVIEW;
}

cJSON *vt_hearing_report(struct vt_store_reader *r, const char *code)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_REPORT);
    if (!st)
        return NULL;
    vt_db_bind_text(st, 1, code);
    cJSON *all = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    cJSON *by_source = cJSON_AddObjectToObject(o, "by_source");
    cJSON *by_group = cJSON_AddObjectToObject(o, "by_group");
    while (vt_db_step(st) == VT_DB_ROW) {
        cJSON *q = cJSON_CreateObject();
        const char *status = vt_db_col_text(st, 4);
        bool rejected = status && strcmp(status, "rechazada") == 0;
        add_text_or_null(q, "radicado", st, 0);
        add_text_or_null(q, "source", st, 2);
        add_text_or_null(q, "group", st, 3);
        add_text_or_null(q, "status", st, 4);
        add_text_or_null(q, "topic", st, 5);
        if (!vt_db_col_null(st, 6))
            add_text_or_null(q, "name", st, 6);
        if (rejected)
            add_text_or_null(q, "reason", st, 7);
        else
            add_text_or_null(q, "text", st, 1);
        if (!vt_db_col_null(st, 8))
            add_text_or_null(q, "merged_into", st, 8);
        char at[32];
        if (!vt_db_col_null(st, 9)) {
            cJSON_AddStringToObject(q, "answer_kind", "escrita");
            add_text_or_null(q, "answer", st, 9);
            vt_time_format_iso(vt_db_col_int(st, 10), at);
            cJSON_AddStringToObject(q, "answered_at", at);
        } else if (status && strcmp(status, "respondida_en_vivo") == 0) {
            cJSON_AddStringToObject(q, "answer_kind", "en_vivo");
            vt_time_format_iso(vt_db_col_int(st, 11), at);
            cJSON_AddStringToObject(q, "answered_at", at);
        }
        add_text_or_null(q, "due_date", st, 12);
        count(by_source, vt_db_col_text(st, 2));
        count(by_group, vt_db_col_text(st, 3));
        cJSON_AddItemToArray(all, q);
    }
    vt_db_reset(st);
    /* Only what moderation let through is published; the rest is counted. */
    cJSON *arr = cJSON_AddArrayToObject(o, "questions");
    cJSON *reasons = cJSON_CreateObject();
    int received = cJSON_GetArraySize(all), in_review = 0, not_admitted = 0;
    for (int i = 0; i < received; i++) {
        const cJSON *q = cJSON_GetArrayItem(all, i);
        enum shown s = shown_of(all, q);
        if (s == SHOWN) {
            cJSON_AddItemToArray(arr, cJSON_Duplicate(q, 1));
        } else if (s == IN_REVIEW) {
            in_review++;
        } else {
            not_admitted++;
            const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "reason"));
            count(reasons, why && *why ? why : "Unida a una pregunta no admitida");
        }
    }
    cJSON_Delete(all);
    cJSON_AddNumberToObject(o, "received", received);
    cJSON_AddNumberToObject(o, "in_review", in_review);
    cJSON_AddNumberToObject(o, "not_admitted", not_admitted);
    cJSON_AddItemToObject(o, "not_admitted_by_reason", reasons);
    return o;
}

static const char SQL_WALL[] =
    "SELECT i.radicado, i.body, q.status, q.topic, "
    "CASE WHEN q.show_name = 1 THEN q.display_name END "
    "FROM hearing_questions q JOIN items i ON i.id = q.item_id "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 "
    "AND q.status IN ('aprobada', 'seleccionada') "
    "ORDER BY CASE WHEN q.status = 'seleccionada' THEN 0 ELSE 1 END, i.received_at DESC, "
    "i.id DESC LIMIT 60";

char *vt_hearing_wall_json(struct vt_store_reader *r, const char *code)
{
    struct vt_hearing h;
    if (vt_hearing_find(r, code, &h))
        return NULL;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_WALL);
    if (!st)
        return NULL;
    vt_db_bind_text(st, 1, code);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", "wall");
    cJSON_AddStringToObject(o, "hearing", h.code);
    cJSON_AddStringToObject(o, "name", h.name);
    cJSON *arr = cJSON_AddArrayToObject(o, "questions");
    while (vt_db_step(st) == VT_DB_ROW) {
        cJSON *q = cJSON_CreateObject();
        add_text_or_null(q, "radicado", st, 0);
        add_text_or_null(q, "text", st, 1);
        add_text_or_null(q, "status", st, 2);
        add_text_or_null(q, "topic", st, 3);
        if (!vt_db_col_null(st, 4))
            add_text_or_null(q, "name", st, 4);
        cJSON_AddItemToArray(arr, q);
    }
    vt_db_reset(st);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- the open window, for the channels that have no code (WhatsApp's menu,
 * the email hearing address) ---- */

static const char SQL_OPEN_NOW[] =
    "SELECT code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at FROM hearings WHERE questions_open_at <= ?1 AND questions_close_at > ?1 "
    "ORDER BY questions_close_at, code LIMIT 1";

int vt_hearing_open_now(struct vt_store_tx *tx, struct vt_hearing *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OPEN_NOW);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, vt_store_tx_now(tx));
    int rc = VT_ENOTFOUND;
    if (vt_db_step(st) == VT_DB_ROW) {
        row_hearing(st, out);
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

static const char SQL_CONTACT_PERSON[] =
    "UPDATE requesters SET phone = coalesce(?2, phone), email = coalesce(?3, email) "
    "WHERE item_id = ?1";
static const char SQL_CONTACT_REPLY[] = "UPDATE items SET reply_channel = ?2 WHERE id = ?1";

int vt_hearing_question_contact(struct vt_store_tx *tx, struct vt_item *it, const char *phone,
                                const char *email, const char *reply_channel)
{
    if ((phone && !(it->req.phone = strdup(phone))) || (email && !(it->req.email = strdup(email))))
        return VT_ENOMEM;
    it->reply_channel = reply_channel;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONTACT_PERSON);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, it->id);
    vt_db_bind_text(st, 2, phone);
    vt_db_bind_text(st, 3, email);
    int r = vt_db_step(st);
    vt_db_reset(st);
    if (r != VT_DB_DONE || !(st = vt_db_prepare(vt_store_tx_db(tx), SQL_CONTACT_REPLY)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, it->id);
    vt_db_bind_text(st, 2, reply_channel);
    r = vt_db_step(st);
    vt_db_reset(st);
    return r == VT_DB_DONE ? 0 : VT_ESTORE;
}
