/* casework_db.c - every statement casework runs (casework_int.h): the item
 * row an action loads and changes, the answers and their letters, the
 * outbox rows an action queued, and the two reads of answers for citizens
 * (casework.h).
 *
 * Owns: the SQL of the staff columns of items and of the responses tables,
 * in the subset of store/db.h (numbered parameters, RETURNING, dates
 * computed in C and bound). Must not: decide anything; the actions do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "domain/casework_int.h"
#include "store/db.h"

/* ---- the item row ---- */

#define ROW_SELECT                                                                                 \
    "SELECT i.id, i.kind, i.status, COALESCE(i.type, ''), COALESCE(i.petition_class, ''), "        \
    "i.stakeholder_group, COALESCE(i.dependencia, ''), COALESCE(i.assignee_id, 0), i.filed_date, " \
    "COALESCE(i.due_date, ''), COALESCE(i.original_due_date, ''), "                                \
    "COALESCE(i.completion_deadline, ''), COALESCE(i.reply_channel, ''), "                         \
    "COALESCE(i.term_days, -1), i.reclassified, COALESCE(r.person_type, 'anonimo'), "              \
    "COALESCE(r.email, ''), COALESCE(r.phone, ''), i.received_at, i.radicado, "                    \
    "COALESCE(r.address, '') FROM items i LEFT JOIN requesters r ON r.item_id = i.id "

static const char SQL_ROW_BY_RADICADO[] = ROW_SELECT "WHERE i.radicado = ?1";
static const char SQL_ROW_BY_ID[] = ROW_SELECT "WHERE i.id = ?1";

int vt_casework__db_load(struct vt_store_tx *tx, const char *radicado, int64_t id,
                         struct vt_case_row *r)
{
    struct vt_db_stmt *st =
        vt_db_prepare(vt_store_tx_db(tx), radicado ? SQL_ROW_BY_RADICADO : SQL_ROW_BY_ID);
    if (!st)
        return VT_ESTORE;
    if (radicado)
        vt_db_bind_text(st, 1, radicado);
    else
        vt_db_bind_int(st, 1, id);
    int s = vt_db_step(st);
    if (s != VT_DB_ROW) {
        vt_db_reset(st);
        return s == VT_DB_DONE ? VT_ENOTFOUND : VT_ESTORE;
    }
    memset(r, 0, sizeof(*r));
    r->id = vt_db_col_int(st, 0);
    vt_db_col_copy(st, 1, r->kind, sizeof(r->kind));
    vt_db_col_copy(st, 2, r->status, sizeof(r->status));
    vt_db_col_copy(st, 3, r->type, sizeof(r->type));
    vt_db_col_copy(st, 4, r->pclass, sizeof(r->pclass));
    vt_db_col_copy(st, 5, r->group, sizeof(r->group));
    vt_db_col_copy(st, 6, r->dependencia, sizeof(r->dependencia));
    r->assignee_id = vt_db_col_int(st, 7);
    vt_db_col_copy(st, 8, r->filed, sizeof(r->filed));
    vt_db_col_copy(st, 9, r->due, sizeof(r->due));
    vt_db_col_copy(st, 10, r->orig_due, sizeof(r->orig_due));
    vt_db_col_copy(st, 11, r->deadline, sizeof(r->deadline));
    vt_db_col_copy(st, 12, r->reply, sizeof(r->reply));
    r->term_days = (int)vt_db_col_int(st, 13);
    r->reclassified = vt_db_col_int(st, 14) != 0;
    vt_db_col_copy(st, 15, r->person_type, sizeof(r->person_type));
    vt_db_col_copy(st, 16, r->email, sizeof(r->email));
    vt_db_col_copy(st, 17, r->phone, sizeof(r->phone));
    r->received_at = vt_db_col_int(st, 18);
    vt_db_col_copy(st, 19, r->radicado, sizeof(r->radicado));
    vt_db_col_copy(st, 20, r->address, sizeof(r->address));
    vt_db_reset(st);
    return 0;
}

static const char SQL_STATUS[] = "UPDATE items SET status = ?2, updated_at = ?3 WHERE id = ?1";

int vt_casework__db_set_status(struct vt_store_tx *tx, struct vt_case_row *r, const char *status)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_STATUS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, r->id);
    vt_db_bind_text(st, 2, status);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    snprintf(r->status, sizeof(r->status), "%s", status);
    return vt_db_run(st);
}

static const char SQL_HEARING_STATUS[] = "SELECT status FROM hearing_questions WHERE item_id = ?1";

int vt_casework__db_hearing_status(struct vt_store_tx *tx, int64_t item_id, char *out, size_t cap)
{
    out[0] = '\0';
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_HEARING_STATUS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    int s = vt_db_step(st);
    if (s == VT_DB_ROW)
        vt_db_col_copy(st, 0, out, cap);
    vt_db_reset(st);
    return s == VT_DB_ROW ? 0 : s == VT_DB_DONE ? VT_ENOTFOUND : s;
}

/* ---- the actions' changes ---- */

static const char SQL_ASSIGN[] =
    "UPDATE items SET dependencia = ?2, assignee_id = ?3, updated_at = ?4 WHERE id = ?1";

int vt_casework__db_assign(struct vt_store_tx *tx, int64_t id, const char *dependencia,
                           int64_t assignee)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ASSIGN);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, dependencia);
    if (assignee)
        vt_db_bind_int(st, 3, assignee);
    else
        vt_db_bind_null(st, 3);
    vt_db_bind_int(st, 4, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_RECLASSIFY[] =
    "UPDATE items SET original_type = CASE WHEN reclassified <> 0 THEN original_type ELSE type "
    "END, original_petition_class = CASE WHEN reclassified <> 0 THEN original_petition_class "
    "ELSE petition_class END, "
    "original_group = CASE WHEN reclassified <> 0 THEN original_group ELSE stakeholder_group END, "
    "reclassified = 1, type = ?2, petition_class = ?3, stakeholder_group = ?4, term_days = ?5, "
    "due_date = ?6, needs_triage = 0, classified_by = 'staff', updated_at = ?7, "
    "identity_reserved = CASE WHEN ?2 = 'denuncia' THEN 1 ELSE identity_reserved END "
    "WHERE id = ?1";

int vt_casework__db_reclassify(struct vt_store_tx *tx, int64_t id, const char *type,
                               const char *pclass, const char *group, int term, const char *due)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_RECLASSIFY);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, type);
    vt_db_bind_text(st, 3, pclass);
    vt_db_bind_text(st, 4, group);
    if (term >= 0)
        vt_db_bind_int(st, 5, term);
    else
        vt_db_bind_null(st, 5);
    vt_db_bind_text(st, 6, due && due[0] ? due : NULL);
    vt_db_bind_int(st, 7, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_PAUSE[] =
    "UPDATE items SET completion_requested_on = ?2, completion_deadline = ?3, updated_at = ?4 "
    "WHERE id = ?1";

int vt_casework__db_pause(struct vt_store_tx *tx, int64_t id, const char *asked,
                          const char *deadline)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_PAUSE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, asked);
    vt_db_bind_text(st, 3, deadline);
    vt_db_bind_int(st, 4, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_RESUME[] =
    "UPDATE items SET due_date = ?2, completion_deadline = NULL, updated_at = ?3 WHERE id = ?1";

int vt_casework__db_resume(struct vt_store_tx *tx, int64_t id, const char *due)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_RESUME);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, due);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_EXTEND[] =
    "UPDATE items SET original_due_date = due_date, due_date = ?2, updated_at = ?3 WHERE id = ?1";

int vt_casework__db_extend(struct vt_store_tx *tx, int64_t id, const char *due)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_EXTEND);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_text(st, 2, due);
    vt_db_bind_int(st, 3, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_REOPEN[] =
    "UPDATE items SET completion_deadline = NULL, updated_at = ?2 WHERE id = ?1";

int vt_casework__db_reopen(struct vt_store_tx *tx, int64_t id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_REOPEN);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    vt_db_bind_int(st, 2, vt_store_tx_now(tx));
    return vt_db_run(st);
}

static const char SQL_BODY[] = "SELECT subject, body FROM items WHERE id = ?1";

int vt_casework__db_body(struct vt_store_tx *tx, int64_t id, char **subject, char **body)
{
    *subject = *body = NULL;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_BODY);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, id);
    int s = vt_db_step(st);
    int rc = s < 0 ? s : 0;
    if (s == VT_DB_ROW) {
        *subject = strdup(vt_db_col_str(st, 0));
        *body = strdup(vt_db_col_str(st, 1));
        if (!*subject || !*body) {
            free(*subject);
            free(*body);
            *subject = *body = NULL;
            rc = VT_ENOMEM;
        }
    }
    vt_db_reset(st);
    return rc;
}

/* ---- answers ---- */

static const char SQL_RESPONSE[] =
    "INSERT INTO responses (item_id, user_id, text, channel, published, at, access, outbox_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";
static const char SQL_RESPONSE_FILE[] =
    "INSERT INTO response_files (response_id, sha256, size, content_type, filename) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

int vt_casework__db_respond(struct vt_store_tx *tx, int64_t item_id, int64_t user_id,
                            const char *text, const char *channel, bool published,
                            const char *access, int64_t outbox_id, const struct vt_case_file *files,
                            size_t n_files, int64_t *response_id)
{
    struct vt_db *db = vt_store_tx_db(tx);
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_RESPONSE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_int(st, 2, user_id);
    vt_db_bind_text(st, 3, text);
    vt_db_bind_text(st, 4, channel);
    vt_db_bind_int(st, 5, published);
    vt_db_bind_int(st, 6, vt_store_tx_now(tx));
    vt_db_bind_text(st, 7, access);
    if (outbox_id)
        vt_db_bind_int(st, 8, outbox_id);
    else
        vt_db_bind_null(st, 8);
    int s = vt_db_step(st);
    int64_t id = s == VT_DB_ROW ? vt_db_col_int(st, 0) : 0;
    vt_db_reset(st);
    if (s != VT_DB_ROW)
        return s < 0 ? s : VT_ESTORE;
    for (size_t i = 0; i < n_files; i++) {
        if (!(st = vt_db_prepare(db, SQL_RESPONSE_FILE)))
            return VT_ESTORE;
        vt_db_bind_int(st, 1, id);
        vt_db_bind_text(st, 2, files[i].sha256);
        vt_db_bind_int(st, 3, files[i].size);
        vt_db_bind_text(st, 4, files[i].content_type);
        vt_db_bind_text(st, 5, files[i].filename);
        int rc = vt_db_run(st);
        if (rc)
            return rc;
    }
    *response_id = id;
    return 0;
}

static const char SQL_PENDING_LETTER[] =
    "SELECT id FROM responses WHERE item_id = ?1 AND channel = 'carta' AND delivered_at IS NULL "
    "AND (?2 = 0 OR id = ?2) ORDER BY id LIMIT 1";

int vt_casework__db_pending_letter(struct vt_store_tx *tx, int64_t item_id, int64_t response_id,
                                   int64_t *id)
{
    *id = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_PENDING_LETTER);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_int(st, 2, response_id);
    int s = vt_db_step(st);
    if (s == VT_DB_ROW)
        *id = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return s < 0 ? s : 0;
}

static const char SQL_LETTER_DELIVERED[] =
    "UPDATE responses SET delivered_at = ?2, delivered_by = ?3, delivery_method = ?4, "
    "delivery_note = ?5 WHERE id = ?1";

int vt_casework__db_letter_delivered(struct vt_store_tx *tx, int64_t response_id, int64_t user_id,
                                     const char *method, const char *note)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_LETTER_DELIVERED);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, response_id);
    vt_db_bind_int(st, 2, vt_store_tx_now(tx));
    vt_db_bind_int(st, 3, user_id);
    vt_db_bind_text(st, 4, method);
    vt_db_bind_text(st, 5, note);
    return vt_db_run(st);
}

/* ---- the outbox rows an action queued ---- */

static const char SQL_OUTBOX_MARK[] = "SELECT COALESCE(max(id), 0) FROM outbox";
static const char SQL_OUTBOX_SINCE[] =
    "SELECT id FROM outbox WHERE item_id = ?1 AND id > ?2 ORDER BY id";

int vt_casework__db_outbox_mark(struct vt_store_tx *tx, int64_t *mark)
{
    *mark = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OUTBOX_MARK);
    if (!st)
        return VT_ESTORE;
    int rc = vt_db_step(st) == VT_DB_ROW ? 0 : VT_ESTORE;
    if (rc == 0)
        *mark = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return rc;
}

int vt_casework__db_outbox_since(struct vt_store_tx *tx, int64_t item_id, int64_t mark,
                                 struct vt_case_result *res)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_OUTBOX_SINCE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_int(st, 1, item_id);
    vt_db_bind_int(st, 2, mark);
    int s;
    while ((s = vt_db_step(st)) == VT_DB_ROW)
        if (res && res->n_outbox < sizeof(res->outbox_ids) / sizeof(res->outbox_ids[0]))
            res->outbox_ids[res->n_outbox++] = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return s == VT_DB_DONE ? 0 : VT_ESTORE;
}

/* ---- the sweep ---- */

static const char SQL_LAPSED[] =
    "SELECT id FROM items WHERE status = 'pendiente_completar' AND completion_deadline < ?1 "
    "LIMIT 500";

int vt_casework__db_lapsed(struct vt_store_tx *tx, const char *day, int64_t *ids, int cap)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_LAPSED);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, day);
    int k = 0;
    while (k < cap && vt_db_step(st) == VT_DB_ROW)
        ids[k++] = vt_db_col_int(st, 0);
    vt_db_reset(st);
    return k;
}

/* ---- what citizens read (reader's thread) ---- */

static const char SQL_ANSWER[] =
    "SELECT r.text, r.at FROM responses r JOIN items i ON i.id = r.item_id "
    "WHERE i.radicado = ?1 ORDER BY r.id DESC LIMIT 1";

void vt_casework_answer(struct vt_store_reader *rd, const char *radicado, char **text, int64_t *at)
{
    *text = NULL;
    *at = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(rd), SQL_ANSWER);
    if (!st)
        return;
    vt_db_bind_text(st, 1, radicado);
    if (vt_db_step(st) == VT_DB_ROW) {
        *text = strdup(vt_db_col_str(st, 0));
        *at = vt_db_col_int(st, 1);
    }
    vt_db_reset(st);
}

static const char SQL_PUBLISHED[] =
    "SELECT i.radicado, r.at, r.text FROM responses r JOIN items i ON i.id = r.item_id "
    "WHERE r.published = 1 AND r.at >= ?1 AND NOT EXISTS (SELECT 1 FROM requesters q "
    "WHERE q.item_id = i.id AND q.person_type <> 'anonimo') "
    "ORDER BY r.at DESC, r.id DESC LIMIT ?2";

size_t vt_casework_published(struct vt_store_reader *rd, int64_t since_ms, struct vt_published *out,
                             size_t cap)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(rd), SQL_PUBLISHED);
    if (!st)
        return 0;
    vt_db_bind_int(st, 1, since_ms);
    vt_db_bind_int(st, 2, (int64_t)cap);
    size_t n = 0;
    while (n < cap && vt_db_step(st) == VT_DB_ROW) {
        vt_db_col_copy(st, 0, out[n].radicado, sizeof(out[n].radicado));
        out[n].at = vt_db_col_int(st, 1);
        if (!(out[n].text = strdup(vt_db_col_str(st, 2))))
            break;
        n++;
    }
    vt_db_reset(st);
    return n;
}

void vt_casework_published_free(struct vt_published *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].text);
}
