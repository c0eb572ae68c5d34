/* casework_classify.c - the "classify" action: staff accept or correct what
 * the learned classifier suggested (type, petition class, stakeholder group,
 * dependencia) in one action. Each given value that differs from the item's
 * is applied as reclassify and assign would (their checks, rows and events);
 * every given value becomes a label the next model learns from
 * (classifier_labels); and one event, "clasificacion_revisada", records what
 * was suggested, what staff set, and which suggestions they accepted or
 * corrected.
 *
 * Owns: that action and the event. Must not: decide the legal term or the
 * routing rules itself (reclassify and assign do).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/casework_int.h"
#include "domain/classifier.h"
#include "store/db.h"

static bool blank(const char *s)
{
    return !s || !*s;
}

static const char SQL_SUGGESTION[] = "SELECT classifier FROM items WHERE id = ?1";

/* The item's stored suggestion, or NULL. */
static cJSON *suggestion(struct vt_store_tx *tx, int64_t id)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SUGGESTION);
    if (!st)
        return NULL;
    vt_db_bind_int(st, 1, id);
    cJSON *s = NULL;
    if (vt_db_step(st) == VT_DB_ROW && !vt_db_col_null(st, 0))
        s = vt_classifier_stored_json(vt_db_col_str(st, 0));
    vt_db_reset(st);
    return s;
}

static const char *suggested(const cJSON *s, const char *task)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, task);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(t, "label");
    return cJSON_IsString(l) ? l->valuestring : NULL;
}

int vt_casework__do_classify(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res)
{
    if (strcmp(r->kind, "pqrsd") != 0)
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "Solo se clasifican PQRSD.");
    if (blank(a->type) && blank(a->petition_class) && blank(a->group) && blank(a->dependencia))
        return vt_casework__refuse(res, 422, "invalid", "type",
                                   "Indique qué confirma o corrige: el tipo, la clase, el grupo o "
                                   "la dependencia.");
    /* Routing follows assign's rule: not while the requester completes it. */
    if (!blank(a->dependencia) && strcmp(a->dependencia, r->dependencia) != 0 &&
        strcmp(r->status, "radicado") != 0 && strcmp(r->status, "en_tramite") != 0)
        return vt_casework__refuse(res, 409, "invalid_transition", "dependencia",
                                   "No se puede cambiar la dependencia de una solicitud en estado "
                                   "«%s».",
                                   vt_item_label(r->status));
    /* What the item had, then the changes through reclassify and assign. */
    char was[VT_TASKS][101];
    snprintf(was[VT_TASK_TYPE], sizeof(was[0]), "%s", r->type);
    snprintf(was[VT_TASK_CLASS], sizeof(was[0]), "%s", r->pclass);
    snprintf(was[VT_TASK_GROUP], sizeof(was[0]), "%s", r->group);
    snprintf(was[VT_TASK_DEPENDENCIA], sizeof(was[0]), "%s", r->dependencia);
    const char *want[VT_TASKS] = {a->type, a->petition_class, a->group, a->dependencia};
    bool relabel = false;
    for (int t = VT_TASK_TYPE; t <= VT_TASK_GROUP; t++)
        relabel = relabel || (!blank(want[t]) && strcmp(want[t], was[t]) != 0);
    int rc;
    if (relabel) {
        struct vt_case_action b = {.action = "reclassify",
                                   .type = a->type,
                                   .petition_class = a->petition_class,
                                   .group = a->group};
        if ((rc = vt_casework__do_reclassify(dom, tx, who, r, &b, res)))
            return rc;
    }
    if (!blank(a->dependencia) && strcmp(a->dependencia, r->dependencia) != 0) {
        struct vt_case_action b = {.action = "assign", .dependencia = a->dependencia};
        if ((rc = vt_casework__do_assign(dom, tx, who, r, &b, res)))
            return rc;
    }
    /* The values now: a class only for a peticion. */
    const char *now[VT_TASKS];
    for (int t = 0; t < VT_TASKS; t++)
        now[t] = blank(want[t]) ? NULL : want[t];
    if (now[VT_TASK_TYPE] && strcmp(now[VT_TASK_TYPE], "peticion") != 0)
        now[VT_TASK_CLASS] = NULL;
    if (!now[VT_TASK_TYPE] && strcmp(was[VT_TASK_TYPE], "peticion") != 0)
        now[VT_TASK_CLASS] = NULL;

    cJSON *sug = suggestion(tx, r->id);
    cJSON *p = cJSON_CreateObject();
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(sug, "model");
    if (cJSON_IsString(model))
        cJSON_AddStringToObject(p, "model", model->valuestring);
    else
        cJSON_AddNullToObject(p, "model");
    cJSON *set = cJSON_AddObjectToObject(p, "set"), *acc = cJSON_AddArrayToObject(p, "accepted"),
          *cor = cJSON_AddArrayToObject(p, "corrected");
    rc = 0;
    for (int t = 0; t < VT_TASKS && !rc; t++) {
        if (!now[t])
            continue;
        cJSON_AddStringToObject(set, vt_task_names[t], now[t]);
        const char *s = suggested(sug, vt_task_names[t]);
        if (s)
            cJSON_AddItemToArray(strcmp(s, now[t]) == 0 ? acc : cor,
                                 cJSON_CreateString(vt_task_names[t]));
        rc = vt_classifier_label(tx, r->id, vt_task_names[t], now[t], who->username);
    }
    cJSON_Delete(sug);
    char *text = rc ? NULL : cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (rc)
        return rc;
    if (!text)
        return VT_ENOMEM;
    char actor[80];
    snprintf(actor, sizeof(actor), "staff:%s", who->username);
    rc = vt_store_tx_event(tx, r->id, actor, "clasificacion_revisada", text, 0);
    free(text);
    return rc;
}
