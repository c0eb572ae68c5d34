/* hearing.c - hearings, their questions and the moderation of the question
 * wall (hearing.h). */
#include "hearing.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "error.h"

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
    "questions_close_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_HEARING_ID[] =
    "SELECT id, questions_open_at, questions_close_at, name FROM hearings WHERE code = ?1";

int vt_hearing_create_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_hearing_create *j = ctx;
    const struct vt_hearing *h = &j->h;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_HEARING_ID);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, h->code, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r == SQLITE_ROW) {
        j->outcome = VT_EEXIST;
        return 0;
    }
    if (!(st = vt_store_tx_stmt(tx, SQL_HEARING_ADD)))
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, h->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->place, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, h->stream_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, h->convoked_on, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, h->open_at);
    sqlite3_bind_int64(st, 8, h->close_at);
    sqlite3_bind_int64(st, 9, vt_store_tx_now(tx));
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "code", h->code);
    cJSON_AddStringToObject(p, "date", h->date);
    cJSON_AddStringToObject(p, "convoked_on", h->convoked_on);
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
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_HEARING_ID);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, q->code, -1, SQLITE_STATIC);
    int64_t hid = 0, open_at = 0, close_at = 0;
    char hname[201] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        hid = sqlite3_column_int64(st, 0);
        open_at = sqlite3_column_int64(st, 1);
        close_at = sqlite3_column_int64(st, 2);
        snprintf(hname, sizeof(hname), "%s", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_reset(st);
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
    it->status = "radicado";
    it->term_days = vt_item_term_days(q->cfg, it->kind, NULL, NULL);
    snprintf(it->group, sizeof(it->group), "%s", q->cfg->rules.default_group);
    snprintf(it->classified_by, sizeof(it->classified_by), "hearing");
    vt_item_new_tracking_code(it);
    if ((rc = vt_store_tx_item_insert(tx, it))) {
        vt_item_free(it);
        return rc;
    }
    q->item = it;
    if (!(st = vt_store_tx_stmt(tx, SQL_QUESTION_ADD)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, it->id);
    sqlite3_bind_int64(st, 2, hid);
    sqlite3_bind_text(st, 3, q->source, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, q->show_name && q->name && q->name[0]);
    if (q->name && q->name[0])
        sqlite3_bind_text(st, 5, q->name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return VT_ESTORE;
    char payload[200];
    snprintf(payload, sizeof(payload), "{\"hearing\":\"%s\",\"source\":\"%s\"}", q->code,
             q->source);
    return vt_store_tx_event(tx, it->id, q->actor[0] ? q->actor : "ciudadano:web",
                             "pregunta_audiencia", payload, 0);
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
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_QUESTION_OF);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, radicado, -1, SQLITE_STATIC);
    *id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(status, slen, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return *id ? 0 : VT_ENOTFOUND;
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
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_MODERATE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, m->to_status, -1, SQLITE_STATIC);
    if (strcmp(m->action, "reject") == 0)
        sqlite3_bind_text(st, 3, m->reason, -1, SQLITE_STATIC);
    if (into)
        sqlite3_bind_int64(st, 4, into);
    if (strcmp(m->action, "topic") == 0)
        sqlite3_bind_text(st, 5, m->topic, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, vt_store_tx_now(tx));
    sqlite3_bind_text(st, 7, m->actor, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
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
    return rc;
}

/* ---- readers ---- */

static const char SQL_FIND[] =
    "SELECT code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at FROM hearings WHERE code = ?1";
static const char SQL_ALL[] =
    "SELECT code, name, date, place, stream_url, convoked_on, questions_open_at, "
    "questions_close_at, (SELECT count(*) FROM hearing_questions q WHERE q.hearing_id = h.id) "
    "FROM hearings h ORDER BY date DESC, code";

static void col(char *out, size_t n, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static void row_hearing(sqlite3_stmt *st, struct vt_hearing *h)
{
    col(h->code, sizeof(h->code), st, 0);
    col(h->name, sizeof(h->name), st, 1);
    col(h->date, sizeof(h->date), st, 2);
    col(h->place, sizeof(h->place), st, 3);
    col(h->stream_url, sizeof(h->stream_url), st, 4);
    col(h->convoked_on, sizeof(h->convoked_on), st, 5);
    h->open_at = sqlite3_column_int64(st, 6);
    h->close_at = sqlite3_column_int64(st, 7);
}

int vt_hearing_find(struct vt_store_reader *r, const char *code, struct vt_hearing *out)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_FIND);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = VT_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        row_hearing(st, out);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

cJSON *vt_hearing_list(struct vt_store_reader *r)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_ALL);
    if (!st)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW) {
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
        cJSON_AddNumberToObject(o, "questions", (double)sqlite3_column_int64(st, 8));
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_reset(st);
    return arr;
}

static const char SQL_QUESTIONS[] =
    "SELECT i.radicado, i.body, q.source, q.show_name, q.display_name, q.status, q.reason, "
    "(SELECT radicado FROM items m WHERE m.id = q.merged_into), q.topic, i.received_at, "
    "q.moderated_by FROM hearing_questions q JOIN items i ON i.id = q.item_id "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 AND (?2 IS NULL OR q.status = ?2) "
    "ORDER BY i.received_at, i.id";

static void add_text_or_null(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (t)
        cJSON_AddStringToObject(o, key, (const char *)t);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *vt_hearing_questions(struct vt_store_reader *r, const char *code, const char *status)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_QUESTIONS);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    if (status)
        sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
    cJSON *arr = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        add_text_or_null(o, "radicado", st, 0);
        add_text_or_null(o, "text", st, 1);
        add_text_or_null(o, "source", st, 2);
        cJSON_AddBoolToObject(o, "show_name", sqlite3_column_int(st, 3) != 0);
        add_text_or_null(o, "name", st, 4);
        add_text_or_null(o, "status", st, 5);
        add_text_or_null(o, "reason", st, 6);
        add_text_or_null(o, "merged_into", st, 7);
        add_text_or_null(o, "topic", st, 8);
        char at[32];
        vt_time_format_iso(sqlite3_column_int64(st, 9), at);
        cJSON_AddStringToObject(o, "received_at", at);
        add_text_or_null(o, "moderated_by", st, 10);
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_reset(st);
    return arr;
}

static const char SQL_WALL[] =
    "SELECT i.radicado, i.body, q.status, q.topic, CASE WHEN q.show_name THEN q.display_name END "
    "FROM hearing_questions q JOIN items i ON i.id = q.item_id "
    "JOIN hearings h ON h.id = q.hearing_id WHERE h.code = ?1 "
    "AND q.status IN ('aprobada', 'seleccionada') "
    "ORDER BY q.status = 'seleccionada' DESC, i.received_at, i.id";

char *vt_hearing_wall_json(struct vt_store_reader *r, const char *code)
{
    struct vt_hearing h;
    if (vt_hearing_find(r, code, &h))
        return NULL;
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_WALL);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", "wall");
    cJSON_AddStringToObject(o, "hearing", h.code);
    cJSON_AddStringToObject(o, "name", h.name);
    cJSON *arr = cJSON_AddArrayToObject(o, "questions");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *q = cJSON_CreateObject();
        add_text_or_null(q, "radicado", st, 0);
        add_text_or_null(q, "text", st, 1);
        add_text_or_null(q, "status", st, 2);
        add_text_or_null(q, "topic", st, 3);
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            add_text_or_null(q, "name", st, 4);
        cJSON_AddItemToArray(arr, q);
    }
    sqlite3_reset(st);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
