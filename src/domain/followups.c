/* followups.c - the follow-up of detractors (followups.h). */
#include "domain/followups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/error.h"
#include "store/db.h"

static const char SQL_OPEN[] =
    "INSERT INTO followups (answer_item_id, source_item_id, dependencia, created_at) "
    "VALUES (?1, nullif(?2, 0), ?3, ?4)";

int vt_followups_open(struct vt_store_tx *tx, int64_t answer_item_id, int64_t source_item_id,
                      const char *dependencia, int64_t now)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OPEN);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, answer_item_id);
    vt_db_bind_int(st, 2, source_item_id);
    vt_db_bind_text(st, 3, dependencia && *dependencia ? dependencia : NULL);
    vt_db_bind_int(st, 4, now);
    return vt_db_run(st) == 0 ? 0 : VT_ESTORE;
}

/* ?1 = 1: every task (a gerente); else those of dependencia ?3, a task
 * without one being the triage dependencia's (?2). ?4: a status or NULL. */
static const char SQL_LIST[] =
    "SELECT f.id, f.status, COALESCE(f.dependencia, ''), f.created_at, f.note, src.radicado, "
    "a.csat, a.nps, ans.body FROM followups f "
    "JOIN survey_answers a ON a.item_id = f.answer_item_id "
    "JOIN items ans ON ans.id = f.answer_item_id "
    "LEFT JOIN items src ON src.id = f.source_item_id "
    "WHERE (?1 = 1 OR COALESCE(f.dependencia, ?2) = ?3) "
    "AND (CAST(?4 AS TEXT) IS NULL OR f.status = ?4) "
    "ORDER BY CASE WHEN f.status = 'cerrado' THEN 1 ELSE 0 END, f.created_at LIMIT 200";

cJSON *vt_followups_list(struct vt_store_reader *r, const struct vt_staff *who, const char *triage,
                         const char *status)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LIST);
    if (!st)
        return NULL;
    vt_db_bind_int(st, 1, who->role == VT_ROLE_GERENTE);
    vt_db_bind_text(st, 2, triage);
    vt_db_bind_text(st, 3, who->dependencia);
    vt_db_bind_text(st, 4, status); /* NULL: any */
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = vt_db_step(st)) == VT_DB_ROW) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "id", (double)vt_db_col_int(st, 0));
        cJSON_AddStringToObject(f, "status", vt_db_col_str(st, 1));
        cJSON_AddStringToObject(f, "dependencia", vt_db_col_str(st, 2));
        char at[32];
        vt_time_format_iso(vt_db_col_int(st, 3), at);
        cJSON_AddStringToObject(f, "created_at", at);
        const char *note = vt_db_col_text(st, 4);
        if (note)
            cJSON_AddStringToObject(f, "note", note);
        const char *rad = vt_db_col_text(st, 5);
        if (rad)
            cJSON_AddStringToObject(f, "radicado", rad);
        else
            cJSON_AddNullToObject(f, "radicado");
        for (int c = 6; c <= 7; c++)
            if (vt_db_col_null(st, c))
                cJSON_AddNullToObject(f, c == 6 ? "csat" : "nps");
            else
                cJSON_AddNumberToObject(f, c == 6 ? "csat" : "nps", (double)vt_db_col_int(st, c));
        cJSON_AddStringToObject(f, "answers", vt_db_col_str(st, 8));
        cJSON_AddItemToArray(arr, f);
    }
    vt_db_reset(st);
    if (rc != VT_DB_DONE) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

static const char SQL_GET[] =
    "SELECT status, COALESCE(dependencia, ?2), source_item_id FROM followups WHERE id = ?1";
static const char SQL_CLOSE[] =
    "UPDATE followups SET status = 'cerrado', note = ?2, closed_at = ?3, closed_by = ?4 "
    "WHERE id = ?1";

int vt_followups_close_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_followups_close *j = ctx;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_GET);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, j->id);
    vt_db_bind_text(st, 2, j->triage);
    j->outcome = VT_ENOTFOUND;
    int64_t source = 0;
    int rc = vt_db_step(st);
    if (rc == VT_DB_ROW) {
        bool mine = strcmp(vt_db_col_str(st, 1), j->who.dependencia) == 0;
        bool open = strcmp(vt_db_col_str(st, 0), "abierto") == 0;
        j->outcome = !mine ? VT_ENOTFOUND : !open ? VT_ESTATE : 0;
        source = vt_db_col_int(st, 2);
    }
    vt_db_reset(st);
    if (rc < 0)
        return rc;
    if (j->outcome)
        return 0;
    if (!(st = vt_db_prepare(vt_store_tx_db(tx), SQL_CLOSE)))
        return VT_ESTORE;
    vt_db_bind_int(st, 1, j->id);
    vt_db_bind_text(st, 2, j->note);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    vt_db_bind_int(st, 4, j->who.id);
    if (vt_db_run(st) != 0)
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "followup_id", (double)j->id);
    cJSON_AddStringToObject(p, "note", j->note);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    char actor[80];
    snprintf(actor, sizeof(actor), "staff:%s", j->who.username);
    rc = s ? vt_store_tx_event(tx, source, actor, "seguimiento_cerrado", s, 0) : VT_ENOMEM;
    free(s);
    return rc;
}
