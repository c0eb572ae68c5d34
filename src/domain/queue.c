/* queue.c - the staff queue and item record (queue.h).
 *
 * The queue is one static statement whose filters are all optional
 * parameters ("?N IS NULL OR ..."), so it is prepared once and cached like
 * every other statement; SQLite still uses the FTS index for q.
 */
#include "domain/queue.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/calendar.h"
#include "domain/casework.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"

#define ROW_COLUMNS                                                                                \
    "SELECT i.radicado, i.kind, i.type, i.petition_class, i.channel, i.status, i.subject, "        \
    "i.stakeholder_group, i.dependencia, u.username, i.received_at, i.due_date, i.needs_triage, "  \
    "i.original_due_date, i.id "

static const char SQL_ROW_BY_ID[] =
    ROW_COLUMNS "FROM items i LEFT JOIN users u ON u.id = i.assignee_id WHERE i.id = ?1";


static void add_text(cJSON *o, const char *name, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (t)
        cJSON_AddStringToObject(o, name, (const char *)t);
    else
        cJSON_AddNullToObject(o, name);
}

/* A queue row from a statement with ROW_COLUMNS. */
static cJSON *row_json(sqlite3_stmt *st, const char *today)
{
    cJSON *o = cJSON_CreateObject();
    add_text(o, "radicado", st, 0);
    add_text(o, "kind", st, 1);
    add_text(o, "type", st, 2);
    add_text(o, "petition_class", st, 3);
    add_text(o, "channel", st, 4);
    const char *status = (const char *)sqlite3_column_text(st, 5);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "status_label", vt_item_label(status));
    add_text(o, "subject", st, 6);
    add_text(o, "group", st, 7);
    add_text(o, "dependencia", st, 8);
    add_text(o, "assignee", st, 9);
    char at[32];
    vt_time_format_iso(sqlite3_column_int64(st, 10), at);
    cJSON_AddStringToObject(o, "received_at", at);
    const char *due = (const char *)sqlite3_column_text(st, 11);
    add_text(o, "due_date", st, 11);
    bool runs = vt_casework_term_runs(status);
    cJSON_AddBoolToObject(o, "overdue", runs && due && strcmp(due, today) < 0);
    cJSON_AddBoolToObject(o, "paused", strcmp(status, "pendiente_completar") == 0);
    cJSON_AddBoolToObject(o, "needs_triage", sqlite3_column_int(st, 12) != 0);
    cJSON_AddBoolToObject(o, "extended", sqlite3_column_type(st, 13) != SQLITE_NULL);
    return o;
}

static void today_str(char out[11])
{
    vt_date_format(vt_date_from_unix_ms(vt_clock_now_ms()), out);
}

bool vt_queue_fts_query(const char *q, char *out, size_t cap)
{
    size_t o = 0, words = 0;
    const unsigned char *p = (const unsigned char *)q;
    out[0] = '\0';
    while (*p && words < 12) {
        while (*p && *p < 0x80 &&
               !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++;
        const unsigned char *w = p;
        while (*p && (*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z')))
            p++;
        size_t n = (size_t)(p - w);
        if (!n)
            continue;
        /* A very long word is searched by its first 64 bytes (whole characters). */
        if (n > 64) {
            n = 64;
            while (n > 0 && (w[n] & 0xC0) == 0x80)
                n--;
        }
        if (o + n + 6 >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"*", words ? " " : "", (int)n, w);
        words++;
    }
    return words > 0;
}

/* Counting every match of a broad filter on a big store costs more than the
 * page itself; staff need "more than 10,000", not the exact figure. */
#define QUEUE_COUNT_MAX 10000

/* The queue's statement holds only the filters given, so SQLite can walk
 * items_queue or items_queue_status (migrations 0008, 0009) in the queue's
 * order and stop after a page ("(due_date IS NULL) = 0" spells out for the
 * planner what a due-date range implies, so it can use the index's second
 * key);
 * with free text it starts from the FTS matches. Parameters keep fixed
 * numbers whatever the filters: ?1 kind, ?2 status, ?3 type, ?4 class,
 * ?5 channel, ?6 group, ?7 dependencia, ?8 assignee, ?9 today (overdue),
 * ?10 due-soon limit, ?11 today, ?12 FTS query, ?13 the text as a radicado,
 * ?14 limit, ?15 offset, ?20 all scope, ?21 triage, ?22 own dependencia. */
static void build_sql(struct vt_buf *b, const struct vt_queue_filter *f, bool fts, bool within,
                      const struct vt_staff *who, bool count)
{
    /* A count stops at QUEUE_COUNT_MAX + 1 rows: past that, "more than". */
    vt_buf_puts(b, count ? "SELECT count(*) FROM (SELECT 1 " : ROW_COLUMNS);
    if (fts)
        vt_buf_puts(b, "FROM (SELECT rowid AS id FROM items_fts WHERE items_fts MATCH ?12 "
                       "UNION SELECT id FROM items WHERE radicado = ?13) m "
                       "CROSS JOIN items i ON i.id = m.id ");
    else
        vt_buf_puts(b, "FROM items i ");
    vt_buf_puts(b, "LEFT JOIN users u ON u.id = i.assignee_id WHERE i.kind = ?1 ");
    static const struct {
        size_t off;
        const char *sql;
    } eq[] = {
        {offsetof(struct vt_queue_filter, status), "AND i.status = ?2 "},
        {offsetof(struct vt_queue_filter, type), "AND i.type = ?3 "},
        {offsetof(struct vt_queue_filter, petition_class), "AND i.petition_class = ?4 "},
        {offsetof(struct vt_queue_filter, channel), "AND i.channel = ?5 "},
        {offsetof(struct vt_queue_filter, group), "AND i.stakeholder_group = ?6 "},
        {offsetof(struct vt_queue_filter, dependencia), "AND COALESCE(i.dependencia, ?21) = ?7 "},
    };
    for (size_t k = 0; k < sizeof(eq) / sizeof(eq[0]); k++) {
        const char *v = *(const char *const *)((const char *)f + eq[k].off);
        if (v && *v)
            vt_buf_puts(b, eq[k].sql);
    }
    if (f->assignee && *f->assignee)
        vt_buf_puts(b, strcmp(f->assignee, "none") == 0 ? "AND i.assignee_id IS NULL "
                                                        : "AND u.username = ?8 ");
    if (f->overdue)
        vt_buf_puts(b, "AND i.status IN ('radicado', 'en_tramite') AND (i.due_date IS NULL) = 0 "
                       "AND i.due_date < ?9 ");
    if (within)
        vt_buf_puts(b, "AND i.status IN ('radicado', 'en_tramite') AND (i.due_date IS NULL) = 0 "
                       "AND i.due_date BETWEEN ?11 AND ?10 ");
    if (who->role != VT_ROLE_GERENTE)
        vt_buf_puts(b, "AND COALESCE(i.dependencia, ?21) = ?22 ");
    if (count)
        vt_buf_printf(b, "LIMIT %d)", QUEUE_COUNT_MAX + 1);
    else
        vt_buf_puts(b, "ORDER BY i.due_date IS NULL, i.due_date, i.radicado LIMIT ?14 OFFSET ?15");
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Binds every parameter the statement has; the ones it does not have are
 * skipped (sqlite3_bind_parameter_index finds none). */
static void bind_filter(sqlite3_stmt *st, const struct vt_config *cfg, const struct vt_staff *who,
                        const struct vt_queue_filter *f, const char *fts, const char *today,
                        const char *within)
{
    const char *v[23] = {NULL};
    v[1] = f->kind && *f->kind ? f->kind : "pqrsd";
    v[2] = f->status, v[3] = f->type, v[4] = f->petition_class, v[5] = f->channel;
    v[6] = f->group, v[7] = f->dependencia, v[8] = f->assignee;
    v[9] = today, v[10] = within, v[11] = today, v[12] = fts, v[13] = f->q;
    v[21] = cfg->staff.triage_dependencia, v[22] = who->dependencia;
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        int k = name && name[0] == '?' ? atoi(name + 1) : 0;
        if (k > 0 && k < 23)
            bind_opt(st, i, v[k]);
    }
}

int vt_queue_list(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const struct vt_queue_filter *f, cJSON **out)
{
    char fts[1024], today[11], within[11] = "";
    if (f->q && *f->q &&
        (!vt_utf8_valid(f->q, strlen(f->q)) || !vt_queue_fts_query(f->q, fts, sizeof(fts))))
        return VT_EINVAL;
    today_str(today);
    if (f->due_within >= 0) {
        vt_date_t t;
        vt_date_parse(today, &t);
        vt_date_format(vt_calendar_add_business_days(&cfg->calendar, t, f->due_within), within);
    }
    const char *q = f->q && *f->q ? fts : NULL;
    struct vt_buf count_sql = {0}, page_sql = {0};
    build_sql(&count_sql, f, q != NULL, within[0] != '\0', who, true);
    build_sql(&page_sql, f, q != NULL, within[0] != '\0', who, false);
    sqlite3_stmt *cnt = count_sql.data ? vt_store_reader_stmt_text(r, count_sql.data) : NULL;
    sqlite3_stmt *st = page_sql.data ? vt_store_reader_stmt_text(r, page_sql.data) : NULL;
    vt_buf_cleanup(&count_sql);
    vt_buf_cleanup(&page_sql);
    if (!cnt || !st)
        return VT_ESTORE;
    bind_filter(cnt, cfg, who, f, q, today, within[0] ? within : NULL);
    long long total = sqlite3_step(cnt) == SQLITE_ROW ? sqlite3_column_int64(cnt, 0) : -1;
    sqlite3_reset(cnt);
    sqlite3_clear_bindings(cnt);
    if (total < 0)
        return VT_ESTORE;
    bind_filter(st, cfg, who, f, q, today, within[0] ? within : NULL);
    sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, "?14"), f->per_page);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "?15"),
                       (sqlite3_int64)(f->page - 1) * f->per_page);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddItemToArray(items, row_json(st, today));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (s != SQLITE_DONE) {
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
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_ROW_BY_ID);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, item_id);
    cJSON *o = NULL;
    char today[11];
    today_str(today);
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = row_json(st, today);
        const unsigned char *d = sqlite3_column_text(st, 8);
        snprintf(dependencia, dlen, "%s", d ? (const char *)d : "");
    }
    sqlite3_reset(st);
    return o;
}

/* ---- one item ---- */

static const char SQL_ITEM[] =
    "SELECT i.id, i.dependencia, i.type, i.body, i.original_type, i.original_petition_class, "
    "i.original_group, i.reclassified, i.term_days, i.filed_date, i.completion_deadline, "
    "i.original_due_date, i.reply_channel, i.classified_by, i.kind, i.status, "
    "i.identity_reserved, i.reserve_requested FROM items i WHERE i.radicado = ?1";
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
static cJSON *response_json(sqlite3_stmt *st, const char *radicado, bool sees, int *pending)
{
    cJSON *e = cJSON_CreateObject();
    int64_t rid = sqlite3_column_int64(st, 0);
    char at[32];
    cJSON_AddNumberToObject(e, "id", (double)rid);
    add_text(e, "text", st, 1);
    add_text(e, "channel", st, 2);
    cJSON_AddBoolToObject(e, "published", sqlite3_column_int(st, 3) != 0);
    vt_time_format_iso(sqlite3_column_int64(st, 4), at);
    cJSON_AddStringToObject(e, "at", at);
    add_text(e, "by", st, 5);
    add_text(e, "access", st, 6);
    const char *ch = (const char *)sqlite3_column_text(st, 2);
    bool letter = strcmp(ch, "carta") == 0, delivered = sqlite3_column_type(st, 9) != SQLITE_NULL;
    const char *state = sqlite3_column_type(st, 8) != SQLITE_NULL
                            ? (const char *)sqlite3_column_text(st, 8)
                        : letter ? (delivered ? "entregada" : "pendiente_entrega")
                        : strcmp(ch, "consulta") == 0    ? "en_consulta"
                        : sqlite3_column_int(st, 3) != 0 ? "publicada"
                                                         : "sin_envio";
    cJSON *d = cJSON_AddObjectToObject(e, "delivery");
    cJSON_AddStringToObject(d, "status", state);
    if (sqlite3_column_type(st, 7) != SQLITE_NULL)
        cJSON_AddNumberToObject(d, "outbox_id", (double)sqlite3_column_int64(st, 7));
    else
        cJSON_AddNullToObject(d, "outbox_id");
    if (delivered) {
        vt_time_format_iso(sqlite3_column_int64(st, 9), at);
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

static void add_files(cJSON *arr, sqlite3_stmt *st, const char *radicado)
{
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *a = cJSON_CreateObject();
        add_text(a, "filename", st, 0);
        add_text(a, "sha256", st, 1);
        cJSON_AddNumberToObject(a, "size", (double)sqlite3_column_int64(st, 2));
        add_text(a, "content_type", st, 3);
        char url[200];
        snprintf(url, sizeof(url), "/api/v1/items/%s/attachments/%s", radicado,
                 (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(a, "url", url);
        cJSON_AddItemToArray(arr, a);
    }
    sqlite3_reset(st);
}

int vt_queue_item(struct vt_store_reader *r, const struct vt_config *cfg,
                  const struct vt_staff *who, const char *radicado, cJSON **out)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_ITEM);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return VT_ENOTFOUND;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    const unsigned char *dep = sqlite3_column_text(st, 1);
    if (!vt_staff_in_scope(cfg, who, (const char *)dep)) {
        sqlite3_reset(st);
        return VT_ENOTFOUND;
    }
    char status[24], filed[11], orig_due[11];
    snprintf(status, sizeof(status), "%s", sqlite3_column_text(st, 15));
    char dependencia[101];
    cJSON *o = vt_queue_row(r, cfg, id, dependencia, sizeof(dependencia));
    if (!o) {
        sqlite3_reset(st);
        return VT_ESTORE;
    }
    add_text(o, "body", st, 3);
    if (sqlite3_column_int(st, 7)) {
        cJSON *orig = cJSON_AddObjectToObject(o, "original");
        add_text(orig, "type", st, 4);
        add_text(orig, "petition_class", st, 5);
        add_text(orig, "group", st, 6);
    } else {
        cJSON_AddNullToObject(o, "original");
    }
    if (sqlite3_column_type(st, 8) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "term_days");
    else
        cJSON_AddNumberToObject(o, "term_days", sqlite3_column_int(st, 8));
    add_text(o, "filed_date", st, 9);
    snprintf(filed, sizeof(filed), "%s",
             sqlite3_column_text(st, 9) ? (const char *)sqlite3_column_text(st, 9) : "");
    snprintf(orig_due, sizeof(orig_due), "%s",
             sqlite3_column_text(st, 11) ? (const char *)sqlite3_column_text(st, 11) : "");
    int term_days = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
    add_text(o, "completion_deadline", st, 10);
    add_text(o, "original_due_date", st, 11);
    add_text(o, "reply_channel", st, 12);
    add_text(o, "classified_by", st, 13);
    /* Once a denuncia, or asked by the requester: reserved whatever its type now. */
    bool reserved = sqlite3_column_int(st, 16) != 0;
    cJSON_AddBoolToObject(o, "identity_reserved", reserved);
    cJSON_AddBoolToObject(o, "reserve_requested", sqlite3_column_int(st, 17) != 0);
    sqlite3_reset(st);
    bool sees = vt_staff_sees_identity(cfg, who, reserved);

    /* The requester, unless the identity is reserved for other roles. */
    if (!sees) {
        cJSON *q = cJSON_AddObjectToObject(o, "requester");
        cJSON_AddBoolToObject(q, "restricted", true);
    } else if ((st = vt_store_reader_stmt(r, SQL_REQUESTER))) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *q = cJSON_AddObjectToObject(o, "requester");
            static const char *const names[] = {"person_type", "name",  "id_type", "id_number",
                                                "email",       "phone", "address", "municipality"};
            for (int i = 0; i < 8; i++)
                add_text(q, names[i], st, i);
            cJSON_AddBoolToObject(q, "purged", sqlite3_column_type(st, 8) != SQLITE_NULL);
        } else {
            cJSON_AddNullToObject(o, "requester");
        }
        sqlite3_reset(st);
    }
    cJSON *arr = cJSON_AddArrayToObject(o, "attachments");
    if ((st = vt_store_reader_stmt(r, SQL_ATTACHMENTS))) {
        sqlite3_bind_int64(st, 1, id);
        add_files(arr, st, radicado);
    }
    /* The timeline is the audit trail itself. */
    arr = cJSON_AddArrayToObject(o, "timeline");
    if ((st = vt_store_reader_stmt(r, SQL_EVENTS))) {
        sqlite3_bind_int64(st, 1, id);
        char at[32];
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *e = cJSON_CreateObject();
            vt_time_format_iso(sqlite3_column_int64(st, 0), at);
            cJSON_AddStringToObject(e, "at", at);
            const char *actor = (const char *)sqlite3_column_text(st, 1);
            cJSON_AddStringToObject(e, "actor",
                                    strncmp(actor, "staff:", 6) == 0 ? actor + 6 : actor);
            const char *action = (const char *)sqlite3_column_text(st, 2);
            cJSON_AddStringToObject(e, "action", action);
            cJSON_AddStringToObject(e, "description", describe(action));
            cJSON *details = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
            cJSON_AddItemToObject(e, "details", details ? details : cJSON_CreateNull());
            cJSON_AddItemToArray(arr, e);
        }
        sqlite3_reset(st);
    }
    arr = cJSON_AddArrayToObject(o, "responses");
    int pending_letters = 0;
    sqlite3_stmt *files = vt_store_reader_stmt(r, SQL_RESPONSE_FILES);
    if ((st = vt_store_reader_stmt(r, SQL_RESPONSES)) && files) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *e = response_json(st, radicado, sees, &pending_letters);
            sqlite3_bind_int64(files, 1, sqlite3_column_int64(st, 0));
            add_files(cJSON_AddArrayToObject(e, "attachments"), files, radicado);
            cJSON_AddItemToArray(arr, e);
        }
        sqlite3_reset(st);
    }
    arr = cJSON_AddArrayToObject(o, "messages");
    if ((st = vt_store_reader_stmt(r, SQL_MESSAGES))) {
        sqlite3_bind_int64(st, 1, id);
        char at[32];
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "id", (double)sqlite3_column_int64(st, 0));
            add_text(m, "channel", st, 1);
            add_text(m, "kind", st, 2);
            add_text(m, "status", st, 3);
            cJSON_AddNumberToObject(m, "attempts", sqlite3_column_int(st, 4));
            vt_time_format_iso(sqlite3_column_int64(st, 5), at);
            cJSON_AddStringToObject(m, "created_at", at);
            vt_time_format_iso(sqlite3_column_int64(st, 6), at);
            cJSON_AddStringToObject(m, "updated_at", at);
            add_text(m, "last_error", st, 7);
            add_text(m, "via_template", st, 8);
            cJSON_AddItemToArray(arr, m);
        }
        sqlite3_reset(st);
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
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_DEP_OF);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_ROW &&
              vt_staff_in_scope(cfg, who, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (!ok || !(st = vt_store_reader_stmt(r, SQL_FILE_OF)))
        return VT_ENOTFOUND;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
    int rc = VT_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(content_type, tlen, "%s", sqlite3_column_text(st, 0));
        snprintf(filename, flen, "%s", sqlite3_column_text(st, 1));
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

static const char SQL_DUE_BETWEEN[] =
    "SELECT id FROM items WHERE status IN ('radicado', 'en_tramite') AND due_date > ?1 "
    "AND due_date <= ?2 ORDER BY due_date LIMIT ?3";

size_t vt_queue_due_between(struct vt_store_reader *r, const char *after, const char *upto,
                            int64_t *ids, size_t cap)
{
    sqlite3_stmt *st = vt_store_reader_stmt(r, SQL_DUE_BETWEEN);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, upto, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    size_t n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}
