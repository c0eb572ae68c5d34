/* casework.c - the item's states after filing and who may move it between
 * them (casework.h): the rules table, the legal arithmetic, and the entry
 * points that load the item, check role, scope and state, and hand over to
 * the action (casework_actions.c). Every write of the staff columns and the
 * responses tables is in casework_db.c (queue.c and delivery.c read them).
 */
#include "domain/casework.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/casework_int.h"

const char *const vt_casework_statuses[] = {"radicado",   "en_tramite", "pendiente_completar",
                                            "respondido", "cerrado",    "desistido",
                                            "trasladado", NULL};

bool vt_casework_term_runs(const char *status)
{
    return strcmp(status, "radicado") == 0 || strcmp(status, "en_tramite") == 0;
}

/* ---- arithmetic ---- */

vt_date_t vt_casework_completion_ask_limit(const struct vt_calendar *cal, vt_date_t filed)
{
    return vt_calendar_add_business_days(cal, filed, 10);
}

vt_date_t vt_casework_completion_deadline(vt_date_t asked, int wait_days)
{
    return vt_date_add_days(asked, wait_days);
}

vt_date_t vt_casework_resumed_due(const struct vt_calendar *cal, int64_t completed_ms,
                                  int term_days)
{
    return vt_calendar_due_date(cal, completed_ms, term_days);
}

vt_date_t vt_casework_extension_limit(const struct vt_calendar *cal, vt_date_t due, int term_days)
{
    return vt_calendar_add_business_days(cal, due, term_days);
}

bool vt_casework_transfer_in_term(const struct vt_calendar *cal, vt_date_t filed, vt_date_t today)
{
    return vt_date_cmp(today, vt_calendar_add_business_days(cal, filed, 5)) <= 0;
}

/* ---- who may do what ---- */

enum { R_AGENTE = 1 << VT_ROLE_AGENTE, R_COORD = 1 << VT_ROLE_COORDINADOR };

typedef int action_fn(const struct vt_domain *dom, struct vt_store_tx *tx,
                      const struct vt_staff *who, struct vt_case_row *r,
                      const struct vt_case_action *a, struct vt_case_result *res);

static const struct rule {
    const char *action;
    unsigned roles;
    const char *from; /* space-separated statuses; "*" any */
    const char *to;   /* NULL: unchanged */
    action_fn *run;   /* casework_actions.c */
} rules[] = {
    {"assign", R_AGENTE | R_COORD, "radicado en_tramite", "en_tramite", vt_casework__do_assign},
    {"reclassify", R_AGENTE | R_COORD, "radicado en_tramite pendiente_completar", NULL,
     vt_casework__do_reclassify},
    {"classify", R_AGENTE | R_COORD, "radicado en_tramite pendiente_completar", NULL,
     vt_casework__do_classify},
    {"request_completion", R_AGENTE | R_COORD, "radicado en_tramite", "pendiente_completar",
     vt_casework__do_request_completion},
    {"complete", R_AGENTE | R_COORD, "pendiente_completar", "en_tramite", vt_casework__do_complete},
    {"extend", R_COORD, "radicado en_tramite", NULL, vt_casework__do_extend},
    {"transfer", R_AGENTE | R_COORD, "radicado en_tramite", "trasladado", vt_casework__do_transfer},
    {"note", R_AGENTE | R_COORD, "*", NULL, vt_casework__do_note},
    {"respond", R_AGENTE | R_COORD, "radicado en_tramite respondido", "respondido",
     vt_casework__do_respond},
    {"close", R_AGENTE | R_COORD, "radicado en_tramite respondido", "cerrado",
     vt_casework__do_close},
    {"reopen", R_COORD, "respondido cerrado desistido trasladado", "en_tramite",
     vt_casework__do_reopen},
    {"deliver_letter", R_AGENTE | R_COORD, "*", NULL, vt_casework__do_deliver_letter},
};

/* The Spanish name of an action, for staff messages. */
static const char *action_label(const char *action)
{
    static const char *const names[][2] = {
        {"assign", "asignar"},
        {"reclassify", "reclasificar"},
        {"classify", "revisar la clasificación de"},
        {"request_completion", "pedir que se complete"},
        {"complete", "marcar como completada"},
        {"extend", "prorrogar"},
        {"transfer", "trasladar"},
        {"note", "agregar una nota"},
        {"respond", "responder"},
        {"close", "cerrar"},
        {"reopen", "reabrir"},
        {"deliver_letter", "marcar la entrega de la carta"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], action) == 0)
            return names[i][1];
    return action;
}

static const struct rule *rule_of(const char *action)
{
    for (size_t i = 0; action && i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].action, action) == 0)
            return &rules[i];
    return NULL;
}

static bool from_ok(const struct rule *r, const char *status)
{
    if (strcmp(r->from, "*") == 0)
        return true;
    size_t n = strlen(status);
    for (const char *p = r->from; (p = strstr(p, status)); p += n)
        if ((p == r->from || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* The legal limits of an action beyond its status (the same ones
 * vt_casework__do_extend and vt_casework__do_request_completion enforce). */
static bool limits_ok(const struct vt_calendar *cal, const char *action,
                      const struct vt_case_facts *f, vt_date_t today)
{
    vt_date_t d;
    if (strcmp(action, "extend") == 0)
        return f->term_days >= 0 && f->due_date && vt_date_parse(f->due_date, &d) == 0 &&
               vt_date_cmp(today, d) <= 0 && !(f->original_due_date && *f->original_due_date);
    if (strcmp(action, "request_completion") == 0)
        return f->term_days >= 0 && f->filed_date && vt_date_parse(f->filed_date, &d) == 0 &&
               vt_date_cmp(today, vt_casework_completion_ask_limit(cal, d)) <= 0;
    return true;
}

size_t vt_casework_allowed(const struct vt_calendar *cal, const struct vt_staff *who,
                           const struct vt_case_facts *f, vt_date_t today, const char **out,
                           size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && n < cap; i++)
        if ((rules[i].roles & (1u << who->role)) && from_ok(&rules[i], f->status) &&
            (strcmp(rules[i].action, "deliver_letter") != 0 || f->pending_letters > 0) &&
            (!cal || limits_ok(cal, rules[i].action, f, today)))
            out[n++] = rules[i].action;
    return n;
}

/* ---- results ---- */

int vt_casework__refuse(struct vt_case_result *res, int status, const char *code, const char *field,
                        const char *fmt, ...)
{
    res->status = status;
    snprintf(res->code, sizeof(res->code), "%s", code);
    snprintf(res->field, sizeof(res->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    return status == 403   ? VT_EPERM
           : status == 404 ? VT_ENOTFOUND
           : status == 409 ? VT_ESTATE
                           : VT_EINVAL;
}

/* Notes the change for the live feed (after the commit). */
static int note_change(struct vt_store_tx *tx, const struct vt_case_row *r, const char *old_status,
                       const char *old_dependencia, const struct vt_staff *who, const char *action)
{
    struct vt_item_change c = {.item_id = r->id};
    snprintf(c.old_status, sizeof(c.old_status), "%s", old_status);
    snprintf(c.new_status, sizeof(c.new_status), "%s", r->status);
    snprintf(c.old_dependencia, sizeof(c.old_dependencia), "%s", old_dependencia);
    snprintf(c.actor, sizeof(c.actor), "%s", who ? who->username : "");
    snprintf(c.action, sizeof(c.action), "%s", action);
    return vt_store_tx_item_changed(tx, &c);
}

/* ---- the entry points ---- */

/* A hearing question not answered live is answered in writing through the
 * staff queue: it takes assign, note, respond, close and reopen unless its
 * moderation (hearing_questions) already settled it. Every other action, and
 * every other kind, stays PQRSD-only. */
static bool hearing_question_ok(struct vt_store_tx *tx, const struct vt_case_row *r,
                                const char *action)
{
    static const char *const allowed[] = {"assign", "note",           "respond", "close",
                                          "reopen", "deliver_letter", NULL};
    if (strcmp(r->kind, "hearing_question") != 0 || !action || !vt_item_enum(allowed, action))
        return false;
    char s[32];
    return vt_casework__db_hearing_status(tx, r->id, s, sizeof(s)) == 0 &&
           strcmp(s, "rechazada") != 0 && strcmp(s, "fusionada") != 0 &&
           strcmp(s, "respondida_en_vivo") != 0;
}

int vt_casework_apply(const struct vt_domain *dom, struct vt_store_tx *tx,
                      const struct vt_staff *who, const char *radicado,
                      const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    memset(res, 0, sizeof(*res));
    struct vt_case_row r;
    int rc = vt_casework__db_load(tx, radicado, 0, &r);
    if (rc == VT_ENOTFOUND || (rc == 0 && !vt_staff_in_scope(cfg, who, r.dependencia)))
        return vt_casework__refuse(res, 404, "not_found", NULL,
                                   "No existe la solicitud %s o no está a su cargo.", radicado);
    if (rc)
        return rc;
    if (strcmp(r.kind, "pqrsd") != 0 && !hearing_question_ok(tx, &r, a->action))
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "Esta función es para PQRSD; las preguntas de audiencia tienen "
                                   "su propio trámite.");
    const struct rule *rule = rule_of(a->action);
    if (!rule)
        return vt_casework__refuse(res, 422, "invalid", "action", "La acción %s no existe.",
                                   a->action ? a->action : "");
    if (!(rule->roles & (1u << who->role)))
        return vt_casework__refuse(res, 403, "forbidden", NULL, "Su rol (%s) no permite %s.",
                                   vt_role_name(who->role), action_label(a->action));
    if (!from_ok(rule, r.status))
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "No se puede %s una solicitud en estado «%s».",
                                   action_label(a->action), vt_item_label(r.status));
    snprintf(res->old_status, sizeof(res->old_status), "%s", r.status);
    char old_dep[101];
    snprintf(old_dep, sizeof(old_dep), "%s", r.dependencia);
    rc = rule->run(dom, tx, who, &r, a, res);
    if (rc == 0)
        rc = note_change(tx, &r, res->old_status, old_dep, who, rule->action);
    if (rc == 0) {
        res->status = 200;
        res->item_id = r.id;
        snprintf(res->new_status, sizeof(res->new_status), "%s", r.status);
        snprintf(res->dependencia, sizeof(res->dependencia), "%s", r.dependencia);
    }
    return rc;
}

int vt_casework_citizen_replied(const struct vt_domain *dom, struct vt_store_tx *tx,
                                int64_t item_id)
{
    struct vt_case_row r;
    int rc = vt_casework__db_load(tx, NULL, item_id, &r);
    if (rc == VT_ENOTFOUND)
        return 0;
    if (rc || strcmp(r.status, "pendiente_completar") != 0)
        return rc;
    rc = vt_casework__resume(dom, tx, NULL, &r, NULL, NULL);
    return rc ? rc : note_change(tx, &r, "pendiente_completar", r.dependencia, NULL, "completada");
}

int vt_casework_sweep(const struct vt_domain *dom, struct vt_store_tx *tx, vt_date_t today, int *n)
{
    *n = 0;
    char day[11];
    vt_date_format(today, day);
    int64_t ids[500];
    int k = vt_casework__db_lapsed(tx, day, ids, 500);
    if (k < 0)
        return k;
    for (int i = 0; i < k; i++) {
        struct vt_case_row r;
        int rc = vt_casework__db_load(tx, NULL, ids[i], &r);
        if (rc || (rc = vt_casework__desist(dom, tx, &r)) ||
            (rc = note_change(tx, &r, "pendiente_completar", r.dependencia, NULL, "desistido")))
            return rc;
        (*n)++;
    }
    return 0;
}
