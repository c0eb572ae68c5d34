/* queue.c - the staff queue and item record (queue.h).
 *
 * The queue's statement is built for the filters given (and cached by its
 * text, so each combination is prepared once per reader): the database
 * walks items_queue or items_queue_status in the queue's order and stops
 * after a page; with free text it starts from the full-text matches, whose
 * SQL and query text the database interface supplies (vt_db_fts_ids_sql,
 * vt_db_fts_query).
 */
#include "domain/queue.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"
#include "domain/casework.h"
#include "domain/classifier.h"
#include "store/db.h"

#define ROW_COLUMNS                                                                                \
    "SELECT i.radicado, i.kind, i.type, i.petition_class, i.channel, i.status, i.subject, "        \
    "i.stakeholder_group, i.dependencia, u.username, i.received_at, i.due_date, i.needs_triage, "  \
    "i.original_due_date, i.id "

static const char SQL_ROW_BY_ID[] =
    ROW_COLUMNS "FROM items i LEFT JOIN users u ON u.id = i.assignee_id WHERE i.id = ?1";

static void add_text(cJSON *o, const char *name, struct vt_db_stmt *st, int i)
{
    const char *t = vt_db_col_text(st, i);
    if (t)
        cJSON_AddStringToObject(o, name, t);
    else
        cJSON_AddNullToObject(o, name);
}

/* A queue row from a statement with ROW_COLUMNS. */
static cJSON *row_json(struct vt_db_stmt *st, const char *today)
{
    cJSON *o = cJSON_CreateObject();
    add_text(o, "radicado", st, 0);
    add_text(o, "kind", st, 1);
    add_text(o, "type", st, 2);
    add_text(o, "petition_class", st, 3);
    add_text(o, "channel", st, 4);
    const char *status = vt_db_col_text(st, 5);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "status_label", vt_item_label(status));
    add_text(o, "subject", st, 6);
    add_text(o, "group", st, 7);
    add_text(o, "dependencia", st, 8);
    add_text(o, "assignee", st, 9);
    char at[32];
    vt_time_format_iso(vt_db_col_int(st, 10), at);
    cJSON_AddStringToObject(o, "received_at", at);
    const char *due = vt_db_col_text(st, 11);
    add_text(o, "due_date", st, 11);
    bool runs = vt_casework_term_runs(status);
    cJSON_AddBoolToObject(o, "overdue", runs && due && strcmp(due, today) < 0);
    cJSON_AddBoolToObject(o, "paused", strcmp(status, "pendiente_completar") == 0);
    cJSON_AddBoolToObject(o, "needs_triage", vt_db_col_int(st, 12) != 0);
    cJSON_AddBoolToObject(o, "extended", !vt_db_col_null(st, 13));
    return o;
}

static void today_str(char out[11])
{
    vt_date_format(vt_date_from_unix_ms(vt_clock_now_ms()), out);
}

/* Counting every match of a broad filter on a big store costs more than the
 * page itself; staff need "more than 10,000", not the exact figure. */
#define QUEUE_COUNT_MAX 10000

/* The queue's parameters, as build_sql writes them (?N with these numbers);
 * query_add renumbers them densely in the order they first appear, since
 * every number from 1 to N must be used in a statement (store/db.h). */
enum {
    P_KIND = 1,
    P_STATUS,
    P_TYPE,
    P_CLASS,
    P_CHANNEL,
    P_GROUP,
    P_DEP,
    P_ASSIGNEE,
    P_OVERDUE_TODAY, /* today, for overdue */
    P_SOON,          /* last day of the due-soon window */
    P_TODAY,         /* today, first day of the due-soon window */
    P_FTS,           /* the full-text query */
    P_RADICADO,      /* the free text as a radicado */
    P_LIMIT,
    P_OFFSET,
    P_TRIAGE,  /* the triage dependencia, for items not routed yet */
    P_OWN_DEP, /* the staff member's dependencia (scope) */
    P_N
};

/* A statement being built: its text and its parameters' numbering. */
struct query {
    struct vt_buf sql;
    int dense[P_N];   /* a parameter's number in sql, 0 when not used */
    int logical[P_N]; /* the parameter behind ?1..?n */
    int n;
};

/* Appends frag, renumbering its ?N (P_*) densely. */
static void query_add(struct query *q, const char *frag)
{
    const char *p = frag, *mark;
    while ((mark = strchr(p, '?'))) {
        vt_buf_append(&q->sql, p, (size_t)(mark - p));
        const char *d = mark + 1;
        int k = 0;
        while (*d >= '0' && *d <= '9' && k < P_N)
            k = k * 10 + (*d++ - '0');
        if (k <= 0 || k >= P_N) { /* not one of ours (never happens): as written */
            vt_buf_append(&q->sql, mark, (size_t)(d - mark));
            p = d;
            continue;
        }
        if (!q->dense[k]) {
            q->dense[k] = ++q->n;
            q->logical[q->n] = k;
        }
        vt_buf_printf(&q->sql, "?%d", q->dense[k]);
        p = d;
    }
    vt_buf_puts(&q->sql, p);
}

/* The queue's statement holds only the filters given, so the database can
 * walk items_queue or items_queue_status (migrations 0008, 0009) in the
 * queue's order and stop after a page ("(due_date IS NULL) = FALSE" spells
 * out for the planner what a due-date range implies, so it can use the
 * index's second key); with free text it starts from the full-text matches.
 * 0, or VT_ESTORE when the full-text SQL does not fit. */
static int build_sql(struct vt_db *db, struct query *q, const struct vt_queue_filter *f, bool fts,
                     bool within, const struct vt_staff *who, bool count)
{
    /* A count stops at QUEUE_COUNT_MAX + 1 rows: past that, "more than" (the
     * subquery is named: PostgreSQL before 16 wants it). */
    query_add(q, count ? "SELECT count(*) FROM (SELECT 1 " : ROW_COLUMNS);
    if (fts) {
        char match[256];
        if (vt_db_fts_ids_sql(db, "items_fts", P_FTS, match, sizeof(match)))
            return VT_ESTORE;
        /* CROSS JOIN makes SQLite walk the matches and look each item up
         * (bench/README.md); PostgreSQL takes no ON after a CROSS JOIN, so
         * the join's condition is in the WHERE, where SQLite uses it alike. */
        query_add(q, "FROM (");
        query_add(q, match);
        query_add(q, " UNION SELECT id FROM items WHERE radicado = ?13) m "
                     "CROSS JOIN items i ");
    } else {
        query_add(q, "FROM items i ");
    }
    query_add(q, "LEFT JOIN users u ON u.id = i.assignee_id WHERE i.kind = ?1 ");
    if (fts)
        query_add(q, "AND i.id = m.id ");
    static const struct {
        size_t off;
        const char *sql;
    } eq[] = {
        {offsetof(struct vt_queue_filter, status), "AND i.status = ?2 "},
        {offsetof(struct vt_queue_filter, type), "AND i.type = ?3 "},
        {offsetof(struct vt_queue_filter, petition_class), "AND i.petition_class = ?4 "},
        {offsetof(struct vt_queue_filter, channel), "AND i.channel = ?5 "},
        {offsetof(struct vt_queue_filter, group), "AND i.stakeholder_group = ?6 "},
        {offsetof(struct vt_queue_filter, dependencia), "AND COALESCE(i.dependencia, ?16) = ?7 "},
    };
    for (size_t k = 0; k < sizeof(eq) / sizeof(eq[0]); k++) {
        const char *v = *(const char *const *)((const char *)f + eq[k].off);
        if (v && *v)
            query_add(q, eq[k].sql);
    }
    if (f->assignee && *f->assignee)
        query_add(q, strcmp(f->assignee, "none") == 0 ? "AND i.assignee_id IS NULL "
                                                      : "AND u.username = ?8 ");
    if (f->overdue)
        query_add(q, "AND i.status IN ('radicado', 'en_tramite') "
                     "AND (i.due_date IS NULL) = FALSE AND i.due_date < ?9 ");
    if (within)
        query_add(q, "AND i.status IN ('radicado', 'en_tramite') "
                     "AND (i.due_date IS NULL) = FALSE AND i.due_date BETWEEN ?11 AND ?10 ");
    if (who->role != VT_ROLE_GERENTE)
        query_add(q, "AND COALESCE(i.dependencia, ?16) = ?17 ");
    if (count) {
        char limit[32];
        snprintf(limit, sizeof(limit), "LIMIT %d) c", QUEUE_COUNT_MAX + 1);
        query_add(q, limit);
    } else {
        query_add(q, "ORDER BY i.due_date IS NULL, i.due_date, i.radicado LIMIT ?14 OFFSET ?15");
    }
    return q->sql.data ? 0 : VT_ENOMEM;
}

/* Binds every parameter q uses; a filter not given binds NULL. The text
 * stays the caller's until the statement is reset. */
static void bind_filter(struct vt_db_stmt *st, const struct query *q, const struct vt_config *cfg,
                        const struct vt_staff *who, const struct vt_queue_filter *f,
                        const char *fts, const char *today, const char *within)
{
    const char *v[P_N] = {NULL};
    v[P_KIND] = f->kind && *f->kind ? f->kind : "pqrsd";
    v[P_STATUS] = f->status, v[P_TYPE] = f->type, v[P_CLASS] = f->petition_class;
    v[P_CHANNEL] = f->channel, v[P_GROUP] = f->group, v[P_DEP] = f->dependencia;
    v[P_ASSIGNEE] = f->assignee, v[P_OVERDUE_TODAY] = today, v[P_SOON] = within;
    v[P_TODAY] = today, v[P_FTS] = fts, v[P_RADICADO] = f->q;
    v[P_TRIAGE] = cfg->staff.triage_dependencia, v[P_OWN_DEP] = who->dependencia;
    for (int i = 1; i <= q->n; i++) {
        int k = q->logical[i];
        if (k == P_LIMIT)
            vt_db_bind_int(st, i, f->per_page);
        else if (k == P_OFFSET)
            vt_db_bind_int(st, i, (int64_t)(f->page - 1) * f->per_page);
        else
            vt_db_bind_text(st, i, v[k] && *v[k] ? v[k] : NULL);
    }
}

int vt_queue_list(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const struct vt_queue_filter *f, cJSON **out)
{
    struct vt_db *db = vt_store_reader_db(r);
    char fts[1024], today[11], within[11] = "";
    if (f->q && *f->q &&
        (!vt_utf8_valid(f->q, strlen(f->q)) || !vt_db_fts_query(db, f->q, fts, sizeof(fts))))
        return VT_EINVAL;
    today_str(today);
    if (f->due_within >= 0) {
        vt_date_t t;
        vt_date_parse(today, &t);
        vt_date_format(vt_calendar_add_business_days(&cfg->calendar, t, f->due_within), within);
    }
    const char *q = f->q && *f->q ? fts : NULL;
    struct query count_q = {0}, page_q = {0};
    int rc = build_sql(db, &count_q, f, q != NULL, within[0] != '\0', who, true);
    if (rc == 0)
        rc = build_sql(db, &page_q, f, q != NULL, within[0] != '\0', who, false);
    struct vt_db_stmt *cnt = rc == 0 ? vt_db_prepare_text(db, count_q.sql.data) : NULL;
    struct vt_db_stmt *st = rc == 0 ? vt_db_prepare_text(db, page_q.sql.data) : NULL;
    vt_buf_cleanup(&count_q.sql);
    vt_buf_cleanup(&page_q.sql);
    if (!cnt || !st)
        return VT_ESTORE;
    bind_filter(cnt, &count_q, cfg, who, f, q, today, within[0] ? within : NULL);
    long long total = vt_db_step(cnt) == VT_DB_ROW ? vt_db_col_int(cnt, 0) : -1;
    vt_db_reset(cnt);
    if (total < 0)
        return VT_ESTORE;
    bind_filter(st, &page_q, cfg, who, f, q, today, within[0] ? within : NULL);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    int s;
    while ((s = vt_db_step(st)) == VT_DB_ROW)
        cJSON_AddItemToArray(items, row_json(st, today));
    vt_db_reset(st);
    if (s != VT_DB_DONE) {
        cJSON_Delete(o);
        return VT_ESTORE;
    }
    cJSON_AddNumberToObject(o, "page", f->page);
    cJSON_AddNumberToObject(o, "per_page", f->per_page);
    cJSON_AddNumberToObject(o, "total",
                            (double)(total > QUEUE_COUNT_MAX ? QUEUE_COUNT_MAX : total));
    cJSON_AddBoolToObject(o, "total_exact", total <= QUEUE_COUNT_MAX);
    *out = o;
    return 0;
}

cJSON *vt_queue_row(struct vt_store_reader *r, const struct vt_config *cfg, int64_t item_id,
                    char *dependencia, size_t dlen)
{
    (void)cfg;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ROW_BY_ID);
    if (!st)
        return NULL;
    vt_db_bind_int(st, 1, item_id);
    cJSON *o = NULL;
    char today[11];
    today_str(today);
    if (vt_db_step(st) == VT_DB_ROW) {
        o = row_json(st, today);
        vt_db_col_copy(st, 8, dependencia, dlen);
    }
    vt_db_reset(st);
    return o;
}

/* ---- one item ---- */

static const char SQL_ITEM[] =
    "SELECT i.id, i.dependencia, i.type, i.body, i.original_type, i.original_petition_class, "
    "i.original_group, i.reclassified, i.term_days, i.filed_date, i.completion_deadline, "
    "i.original_due_date, i.reply_channel, i.classified_by, i.kind, i.status, "
    "i.identity_reserved, i.reserve_requested, i.classifier FROM items i WHERE i.radicado = ?1";
static const char SQL_LABELS[] =
    "SELECT task, label FROM classifier_labels WHERE item_id = ?1 ORDER BY task";
static const char SQL_REQUESTER[] =
    "SELECT person_type, name, id_type, id_number, email, phone, address, municipality, "
    "purged_at FROM requesters WHERE item_id = ?1";
static const char SQL_ATTACHMENTS[] =
    "SELECT filename, sha256, size, content_type FROM attachments WHERE item_id = ?1 ORDER BY id";
static const char SQL_EVENTS[] =
    "SELECT at, actor, action, payload FROM audit_events WHERE item_id = ?1 ORDER BY id";
static const char SQL_MESSAGES[] =
    "SELECT id, channel, kind, status, attempts, created_at, updated_at, last_error, via_template "
    "FROM outbox WHERE item_id = ?1 AND kind <> 'read' ORDER BY id";
static const char SQL_RESPONSES[] =
    "SELECT r.id, r.text, r.channel, r.published, r.at, u.username, r.access, r.outbox_id, "
    "o.status, r.delivered_at, r.delivery_method, r.delivery_note, du.username FROM responses r "
    "JOIN users u ON u.id = r.user_id LEFT JOIN outbox o ON o.id = r.outbox_id "
    "LEFT JOIN users du ON du.id = r.delivered_by WHERE r.item_id = ?1 ORDER BY r.id";
static const char SQL_RESPONSE_FILES[] =
    "SELECT filename, sha256, size, content_type FROM response_files WHERE response_id = ?1";

/* What staff read for an audit action. */
static const char *describe(const char *action)
{
    static const struct {
        const char *action, *text;
    } d[] = {
        {"radicado", "Se radicó la solicitud."},
        {"mensaje_ciudadano", "El ciudadano envió un mensaje."},
        {"adjunto_agregado", "Se agregó un archivo."},
        {"asignado", "Se asignó a una dependencia."},
        {"reclasificado", "Se corrigió la clasificación."},
        {"clasificacion_revisada", "Se revisaron las sugerencias del clasificador."},
        {"completar_solicitado", "Se pidió al ciudadano completar la solicitud; el término quedó "
                                 "suspendido."},
        {"completada", "El ciudadano completó la solicitud; el término empezó de nuevo."},
        {"prorrogado", "Se prorrogó el término de respuesta."},
        {"trasladado", "Se trasladó a la entidad competente."},
        {"nota", "Nota interna."},
        {"respondido", "Se respondió al ciudadano."},
        {"respuesta_entregada", "Se entregó al ciudadano la carta con la respuesta."},
        {"cerrado", "Se cerró la solicitud."},
        {"reabierto", "Se reabrió la solicitud."},
        {"desistido", "Se archivó por desistimiento tácito."},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (strcmp(d[i].action, action) == 0)
            return d[i].text;
    return action;
}

/* One answer from a SQL_RESPONSES row, with how it reached the requester.
 * A letter still to deliver counts in *pending. */
static cJSON *response_json(struct vt_db_stmt *st, const char *radicado, bool sees, int *pending)
{
    cJSON *e = cJSON_CreateObject();
    int64_t rid = vt_db_col_int(st, 0);
    char at[32];
    cJSON_AddNumberToObject(e, "id", (double)rid);
    add_text(e, "text", st, 1);
    add_text(e, "channel", st, 2);
    cJSON_AddBoolToObject(e, "published", vt_db_col_int(st, 3) != 0);
    vt_time_format_iso(vt_db_col_int(st, 4), at);
    cJSON_AddStringToObject(e, "at", at);
    add_text(e, "by", st, 5);
    add_text(e, "access", st, 6);
    const char *ch = vt_db_col_text(st, 2);
    bool letter = strcmp(ch, "carta") == 0, delivered = !vt_db_col_null(st, 9);
    const char *state = !vt_db_col_null(st, 8) ? vt_db_col_text(st, 8)
                        : letter               ? (delivered ? "entregada" : "pendiente_entrega")
                        : strcmp(ch, "consulta") == 0 ? "en_consulta"
                        : vt_db_col_int(st, 3) != 0   ? "publicada"
                                                      : "sin_envio";
    cJSON *d = cJSON_AddObjectToObject(e, "delivery");
    cJSON_AddStringToObject(d, "status", state);
    if (!vt_db_col_null(st, 7))
        cJSON_AddNumberToObject(d, "outbox_id", (double)vt_db_col_int(st, 7));
    else
        cJSON_AddNullToObject(d, "outbox_id");
    if (delivered) {
        vt_time_format_iso(vt_db_col_int(st, 9), at);
        cJSON_AddStringToObject(d, "delivered_at", at);
    } else {
        cJSON_AddNullToObject(d, "delivered_at");
    }
    add_text(d, "method", st, 10);
    add_text(d, "delivered_by", st, 12);
    /* Staff's note may name who received the letter. */
    if (sees)
        add_text(d, "note", st, 11);
    else
        cJSON_AddNullToObject(d, "note");
    /* The letter names the requester: only for those who may see them. */
    if (sees) {
        char url[160];
        snprintf(url, sizeof(url), "/api/v1/items/%s/responses/%lld/carta", radicado,
                 (long long)rid);
        cJSON_AddStringToObject(d, "letter_url", url);
    } else {
        cJSON_AddNullToObject(d, "letter_url");
    }
    if (letter && !delivered)
        (*pending)++;
    return e;
}

static void add_files(cJSON *arr, struct vt_db_stmt *st, const char *radicado)
{
    while (vt_db_step(st) == VT_DB_ROW) {
        cJSON *a = cJSON_CreateObject();
        add_text(a, "filename", st, 0);
        add_text(a, "sha256", st, 1);
        cJSON_AddNumberToObject(a, "size", (double)vt_db_col_int(st, 2));
        add_text(a, "content_type", st, 3);
        char url[200];
        snprintf(url, sizeof(url), "/api/v1/items/%s/attachments/%s", radicado,
                 vt_db_col_text(st, 1));
        cJSON_AddStringToObject(a, "url", url);
        cJSON_AddItemToArray(arr, a);
    }
    vt_db_reset(st);
}

int vt_queue_item(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const char *radicado, cJSON **out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_ITEM);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, radicado);
    if (vt_db_step(st) != VT_DB_ROW) {
        vt_db_reset(st);
        return VT_ENOTFOUND;
    }
    int64_t id = vt_db_col_int(st, 0);
    if (!vt_staff_in_scope(cfg, who, vt_db_col_text(st, 1))) {
        vt_db_reset(st);
        return VT_ENOTFOUND;
    }
    char status[24], filed[11], orig_due[11];
    vt_db_col_copy(st, 15, status, sizeof(status));
    char dependencia[101];
    cJSON *o = vt_queue_row(r, cfg, id, dependencia, sizeof(dependencia));
    if (!o) {
        vt_db_reset(st);
        return VT_ESTORE;
    }
    add_text(o, "body", st, 3);
    if (vt_db_col_int(st, 7)) {
        cJSON *orig = cJSON_AddObjectToObject(o, "original");
        add_text(orig, "type", st, 4);
        add_text(orig, "petition_class", st, 5);
        add_text(orig, "group", st, 6);
    } else {
        cJSON_AddNullToObject(o, "original");
    }
    if (vt_db_col_null(st, 8))
        cJSON_AddNullToObject(o, "term_days");
    else
        cJSON_AddNumberToObject(o, "term_days", vt_db_col_int(st, 8));
    add_text(o, "filed_date", st, 9);
    vt_db_col_copy(st, 9, filed, sizeof(filed));
    vt_db_col_copy(st, 11, orig_due, sizeof(orig_due));
    int term_days = vt_db_col_null(st, 8) ? -1 : (int)vt_db_col_int(st, 8);
    add_text(o, "completion_deadline", st, 10);
    add_text(o, "original_due_date", st, 11);
    add_text(o, "reply_channel", st, 12);
    add_text(o, "classified_by", st, 13);
    /* Once a denuncia, or asked by the requester: reserved whatever its type now. */
    bool reserved = vt_db_col_int(st, 16) != 0;
    cJSON_AddBoolToObject(o, "identity_reserved", reserved);
    cJSON_AddBoolToObject(o, "reserve_requested", vt_db_col_int(st, 17) != 0);
    /* What the learned classifier suggested at filing (classifier.h), and
     * what staff have set or confirmed since. */
    cJSON *sug = vt_db_col_null(st, 18) ? NULL : vt_classifier_stored_json(vt_db_col_str(st, 18));
    cJSON_AddItemToObject(o, "suggestions", sug ? sug : cJSON_CreateNull());
    vt_db_reset(st);
    cJSON *reviewed = cJSON_AddObjectToObject(o, "reviewed");
    if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_LABELS))) {
        vt_db_bind_int(st, 1, id);
        while (vt_db_step(st) == VT_DB_ROW)
            cJSON_AddStringToObject(reviewed, vt_db_col_str(st, 0), vt_db_col_str(st, 1));
        vt_db_reset(st);
    }
    bool sees = vt_staff_sees_identity(cfg, who, reserved);

    /* The requester, unless the identity is reserved for other roles. */
    if (!sees) {
        cJSON *q = cJSON_AddObjectToObject(o, "requester");
        cJSON_AddBoolToObject(q, "restricted", true);
    } else if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_REQUESTER))) {
        vt_db_bind_int(st, 1, id);
        if (vt_db_step(st) == VT_DB_ROW) {
            cJSON *q = cJSON_AddObjectToObject(o, "requester");
            static const char *const names[] = {"person_type", "name",  "id_type", "id_number",
                                                "email",       "phone", "address", "municipality"};
            for (int i = 0; i < 8; i++)
                add_text(q, names[i], st, i);
            cJSON_AddBoolToObject(q, "purged", !vt_db_col_null(st, 8));
        } else {
            cJSON_AddNullToObject(o, "requester");
        }
        vt_db_reset(st);
    }
    cJSON *arr = cJSON_AddArrayToObject(o, "attachments");
    if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_ATTACHMENTS))) {
        vt_db_bind_int(st, 1, id);
        add_files(arr, st, radicado);
    }
    /* The timeline is the audit trail itself. */
    arr = cJSON_AddArrayToObject(o, "timeline");
    if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_EVENTS))) {
        vt_db_bind_int(st, 1, id);
        char at[32];
        while (vt_db_step(st) == VT_DB_ROW) {
            cJSON *e = cJSON_CreateObject();
            vt_time_format_iso(vt_db_col_int(st, 0), at);
            cJSON_AddStringToObject(e, "at", at);
            const char *actor = vt_db_col_text(st, 1);
            cJSON_AddStringToObject(e, "actor",
                                    strncmp(actor, "staff:", 6) == 0 ? actor + 6 : actor);
            const char *action = vt_db_col_text(st, 2);
            cJSON_AddStringToObject(e, "action", action);
            cJSON_AddStringToObject(e, "description", describe(action));
            cJSON *details = cJSON_Parse(vt_db_col_text(st, 3));
            cJSON_AddItemToObject(e, "details", details ? details : cJSON_CreateNull());
            cJSON_AddItemToArray(arr, e);
        }
        vt_db_reset(st);
    }
    arr = cJSON_AddArrayToObject(o, "responses");
    int pending_letters = 0;
    struct vt_db_stmt *files = vt_db_prepare(vt_store_reader_db(r), SQL_RESPONSE_FILES);
    if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_RESPONSES)) && files) {
        vt_db_bind_int(st, 1, id);
        while (vt_db_step(st) == VT_DB_ROW) {
            cJSON *e = response_json(st, radicado, sees, &pending_letters);
            vt_db_bind_int(files, 1, vt_db_col_int(st, 0));
            add_files(cJSON_AddArrayToObject(e, "attachments"), files, radicado);
            cJSON_AddItemToArray(arr, e);
        }
        vt_db_reset(st);
    }
    arr = cJSON_AddArrayToObject(o, "messages");
    if ((st = vt_db_prepare(vt_store_reader_db(r), SQL_MESSAGES))) {
        vt_db_bind_int(st, 1, id);
        char at[32];
        while (vt_db_step(st) == VT_DB_ROW) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "id", (double)vt_db_col_int(st, 0));
            add_text(m, "channel", st, 1);
            add_text(m, "kind", st, 2);
            add_text(m, "status", st, 3);
            cJSON_AddNumberToObject(m, "attempts", vt_db_col_int(st, 4));
            vt_time_format_iso(vt_db_col_int(st, 5), at);
            cJSON_AddStringToObject(m, "created_at", at);
            vt_time_format_iso(vt_db_col_int(st, 6), at);
            cJSON_AddStringToObject(m, "updated_at", at);
            add_text(m, "last_error", st, 7);
            add_text(m, "via_template", st, 8);
            cJSON_AddItemToArray(arr, m);
        }
        vt_db_reset(st);
    }
    const char *acts[16];
    const cJSON *due = cJSON_GetObjectItemCaseSensitive(o, "due_date");
    struct vt_case_facts facts = {status,   term_days,
                                  filed,    cJSON_IsString(due) ? due->valuestring : "",
                                  orig_due, pending_letters};
    size_t n = vt_casework_allowed(&cfg->calendar, who, &facts,
                                   vt_date_from_unix_ms(vt_clock_now_ms()), acts, 16);
    arr = cJSON_AddArrayToObject(o, "actions");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(acts[i]));
    *out = o;
    return 0;
}

static const char SQL_FILE_OF[] =
    "SELECT a.content_type, a.filename FROM attachments a JOIN items i ON i.id = a.item_id "
    "WHERE i.radicado = ?1 AND a.sha256 = ?2 "
    "UNION ALL SELECT f.content_type, f.filename FROM response_files f "
    "JOIN responses r ON r.id = f.response_id JOIN items i ON i.id = r.item_id "
    "WHERE i.radicado = ?1 AND f.sha256 = ?2 LIMIT 1";
static const char SQL_DEP_OF[] = "SELECT dependencia FROM items WHERE radicado = ?1";

int vt_queue_attachment(struct vt_store_reader *r, const struct vt_config *cfg,
                        const struct vt_staff *who, const char *radicado, const char *sha256,
                        char *content_type, size_t tlen, char *filename, size_t flen)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_DEP_OF);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, radicado);
    bool ok = vt_db_step(st) == VT_DB_ROW && vt_staff_in_scope(cfg, who, vt_db_col_text(st, 0));
    vt_db_reset(st);
    if (!ok || !(st = vt_db_prepare(vt_store_reader_db(r), SQL_FILE_OF)))
        return VT_ENOTFOUND;
    vt_db_bind_text(st, 1, radicado);
    vt_db_bind_text(st, 2, sha256);
    int rc = VT_ENOTFOUND;
    if (vt_db_step(st) == VT_DB_ROW) {
        vt_db_col_copy(st, 0, content_type, tlen);
        vt_db_col_copy(st, 1, filename, flen);
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

static const char SQL_DUE_BETWEEN[] =
    "SELECT id FROM items WHERE status IN ('radicado', 'en_tramite') AND due_date > ?1 "
    "AND due_date <= ?2 ORDER BY due_date LIMIT ?3";

size_t vt_queue_due_between(struct vt_store_reader *r, const char *after, const char *upto,
                            int64_t *ids, size_t cap)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_DUE_BETWEEN);
    if (!st)
        return 0;
    vt_db_bind_text(st, 1, after);
    vt_db_bind_text(st, 2, upto);
    vt_db_bind_int(st, 3, (int64_t)cap);
    size_t n = 0;
    while (n < cap && vt_db_step(st) == VT_DB_ROW)
        ids[n++] = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return n;
}
