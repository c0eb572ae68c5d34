/* casework.c - staff actions on items and the legal arithmetic behind them
 * (casework.h). Every write of the staff columns and the responses tables is
 * here (queue.c and delivery.c read them).
 */
#include "domain/casework.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"
#include "domain/delivery.h"
#include "core/error.h"
#include "core/item.h"
#include "core/log.h"
#include "domain/survey.h"

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

static const struct rule {
    const char *action;
    unsigned roles;
    const char *from; /* space-separated statuses; "*" any */
    const char *to;   /* NULL: unchanged */
} rules[] = {
    {"assign", R_AGENTE | R_COORD, "radicado en_tramite", "en_tramite"},
    {"reclassify", R_AGENTE | R_COORD, "radicado en_tramite pendiente_completar", NULL},
    {"request_completion", R_AGENTE | R_COORD, "radicado en_tramite", "pendiente_completar"},
    {"complete", R_AGENTE | R_COORD, "pendiente_completar", "en_tramite"},
    {"extend", R_COORD, "radicado en_tramite", NULL},
    {"transfer", R_AGENTE | R_COORD, "radicado en_tramite", "trasladado"},
    {"note", R_AGENTE | R_COORD, "*", NULL},
    {"respond", R_AGENTE | R_COORD, "radicado en_tramite respondido", "respondido"},
    {"close", R_AGENTE | R_COORD, "radicado en_tramite respondido", "cerrado"},
    {"reopen", R_COORD, "respondido cerrado desistido trasladado", "en_tramite"},
    {"deliver_letter", R_AGENTE | R_COORD, "*", NULL},
};

/* The Spanish name of an action, for staff messages. */
static const char *action_label(const char *action)
{
    static const char *const names[][2] = {
        {"assign", "asignar"},
        {"reclassify", "reclasificar"},
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
 * do_extend and do_request_completion enforce). */
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


/* ---- the item row ---- */

struct row {
    int64_t id, assignee_id, received_at;
    char radicado[48], kind[24], status[24], type[24], pclass[24], group[64];
    char dependencia[101], filed[11], due[11], orig_due[11], deadline[11], reply[16];
    int term_days; /* -1: none */
    bool reclassified;
    char person_type[16], email[1024], phone[96], address[1232];
};

static const char SQL_ROW_BY_RADICADO[] =
    "SELECT i.id, i.kind, i.status, COALESCE(i.type, ''), COALESCE(i.petition_class, ''), "
    "i.stakeholder_group, COALESCE(i.dependencia, ''), COALESCE(i.assignee_id, 0), i.filed_date, "
    "COALESCE(i.due_date, ''), COALESCE(i.original_due_date, ''), "
    "COALESCE(i.completion_deadline, ''), COALESCE(i.reply_channel, ''), "
    "COALESCE(i.term_days, -1), i.reclassified, COALESCE(r.person_type, 'anonimo'), "
    "COALESCE(r.email, ''), COALESCE(r.phone, ''), i.received_at, i.radicado, "
    "COALESCE(r.address, '') FROM items i LEFT JOIN requesters r ON r.item_id = i.id "
    "WHERE i.radicado = ?1";
static const char SQL_ROW_BY_ID[] =
    "SELECT i.id, i.kind, i.status, COALESCE(i.type, ''), COALESCE(i.petition_class, ''), "
    "i.stakeholder_group, COALESCE(i.dependencia, ''), COALESCE(i.assignee_id, 0), i.filed_date, "
    "COALESCE(i.due_date, ''), COALESCE(i.original_due_date, ''), "
    "COALESCE(i.completion_deadline, ''), COALESCE(i.reply_channel, ''), "
    "COALESCE(i.term_days, -1), i.reclassified, COALESCE(r.person_type, 'anonimo'), "
    "COALESCE(r.email, ''), COALESCE(r.phone, ''), i.received_at, i.radicado, "
    "COALESCE(r.address, '') FROM items i LEFT JOIN requesters r ON r.item_id = i.id "
    "WHERE i.id = ?1";

static void col(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static int read_row(sqlite3_stmt *st, struct row *r)
{
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_reset(st);
        return s == SQLITE_DONE ? VT_ENOTFOUND : VT_ESTORE;
    }
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    col(st, 1, r->kind, sizeof(r->kind));
    col(st, 2, r->status, sizeof(r->status));
    col(st, 3, r->type, sizeof(r->type));
    col(st, 4, r->pclass, sizeof(r->pclass));
    col(st, 5, r->group, sizeof(r->group));
    col(st, 6, r->dependencia, sizeof(r->dependencia));
    r->assignee_id = sqlite3_column_int64(st, 7);
    col(st, 8, r->filed, sizeof(r->filed));
    col(st, 9, r->due, sizeof(r->due));
    col(st, 10, r->orig_due, sizeof(r->orig_due));
    col(st, 11, r->deadline, sizeof(r->deadline));
    col(st, 12, r->reply, sizeof(r->reply));
    r->term_days = sqlite3_column_int(st, 13);
    r->reclassified = sqlite3_column_int(st, 14) != 0;
    col(st, 15, r->person_type, sizeof(r->person_type));
    col(st, 16, r->email, sizeof(r->email));
    col(st, 17, r->phone, sizeof(r->phone));
    r->received_at = sqlite3_column_int64(st, 18);
    col(st, 19, r->radicado, sizeof(r->radicado));
    col(st, 20, r->address, sizeof(r->address));
    sqlite3_reset(st);
    return 0;
}

static int load_row(struct vt_store_tx *tx, const char *radicado, int64_t id, struct row *r)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, radicado ? SQL_ROW_BY_RADICADO : SQL_ROW_BY_ID);
    if (!st)
        return VT_ESTORE;
    if (radicado)
        sqlite3_bind_text(st, 1, radicado, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, id);
    return read_row(st, r);
}

/* ---- results ---- */

static int refuse(struct vt_case_result *res, int status, const char *code, const char *field,
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

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

static int exec_stmt(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : VT_ESTORE;
}

/* Appends the action's audit event; payload (owned) is freed. */
static int event(struct vt_store_tx *tx, const struct row *r, const struct vt_staff *who,
                 const char *action, cJSON *payload, int is_public)
{
    char actor[80];
    if (who)
        snprintf(actor, sizeof(actor), "staff:%s", who->username);
    else
        snprintf(actor, sizeof(actor), "sistema");
    char *s = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!s)
        return VT_ENOMEM;
    int rc = vt_store_tx_event(tx, r->id, actor, action, s, is_public);
    free(s);
    return rc;
}

static const char SQL_STATUS[] = "UPDATE items SET status = ?2, updated_at = ?3 WHERE id = ?1";

static int set_status(struct vt_store_tx *tx, struct row *r, const char *status)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_STATUS);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, vt_store_tx_now(tx));
    snprintf(r->status, sizeof(r->status), "%s", status);
    return exec_stmt(st);
}

/* ---- notices to the requester ---- */

/* The channel the requester chose for replies when it is one we send on
 * (email, WhatsApp) and they gave its address; else NULL. */
static const char *requested_channel(const struct row *r, const char **recipient)
{
    *recipient = NULL;
    if (strcmp(r->reply, "email") == 0 && r->email[0]) {
        *recipient = r->email;
        return "email";
    }
    if (strcmp(r->reply, "whatsapp") == 0 && r->phone[0]) {
        *recipient = r->phone;
        return "whatsapp";
    }
    return NULL;
}

static const char SQL_OUTBOX_MARK[] = "SELECT COALESCE(max(id), 0) FROM outbox";
static const char SQL_OUTBOX_SINCE[] =
    "SELECT id FROM outbox WHERE item_id = ?1 AND id > ?2 ORDER BY id";

/* The newest outbox row before a channel's notify() queues more. */
static int outbox_mark(struct vt_store_tx *tx, int64_t *mark)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_OUTBOX_MARK);
    if (!st)
        return VT_ESTORE;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : VT_ESTORE;
    *mark = rc ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

/* The rows queued for item r since mark, into res (this transaction's own). */
static int outbox_since(struct vt_store_tx *tx, const struct row *r, int64_t mark,
                        struct vt_case_result *res)
{
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_OUTBOX_SINCE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, mark);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (res && res->n_outbox < sizeof(res->outbox_ids) / sizeof(res->outbox_ids[0]))
            res->outbox_ids[res->n_outbox++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? 0 : VT_ESTORE;
}

/* Queues a notice (an extension, a transfer, a completion request...; not
 * an answer, which do_respond delivers) to the requester on the channel they
 * chose. *via (and res->notice, res may be NULL) gets what happened: the
 * channel when it was queued (res->outbox_ids the rows); "consulta" when they
 * chose no channel we send on, so their status page is where they read it;
 * "no_enviado" when their channel is postal, does not run here or refused
 * the address. Nothing is ever said to be sent that was not queued. */
static int notify(const struct vt_domain *dom, struct vt_store_tx *tx, const struct row *r,
                  const char *kind, const char *subject, const char *text,
                  const struct vt_notice_file *files, size_t n_files, const char **via,
                  struct vt_case_result *res)
{
    const char *recipient;
    const char *ch = requested_channel(r, &recipient);
    bool asked = strcmp(r->reply, "email") == 0 || strcmp(r->reply, "whatsapp") == 0 ||
                 strcmp(r->reply, "postal") == 0;
    *via = asked ? "no_enviado" : "consulta";
    const struct vt_sender *c = ch ? vt_domain_sender(dom, ch) : NULL;
    int rc = 0;
    if (c) {
        int64_t mark;
        if ((rc = outbox_mark(tx, &mark)))
            return rc;
        struct vt_notice n = {r->id, r->radicado, recipient, kind, subject,
                              text,  files,       n_files,   0,    NULL};
        rc = c->notify(dom->cfg, tx, &n);
        if (rc == 0) {
            *via = ch;
            rc = outbox_since(tx, r, mark, res);
        } else if (rc == VT_EINVAL || rc == VT_ENOTFOUND) {
            rc = 0; /* not an address of that channel, or it does not run here */
        }
    }
    if (res)
        snprintf(res->notice, sizeof(res->notice), "%s", *via);
    return rc;
}

/* Notes the change for the live feed (after the commit). */
static int note_change(struct vt_store_tx *tx, const struct row *r, const char *old_status,
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

static void date_es(const char *iso, char out[16])
{
    vt_date_format_es(iso, out);
}

/* ---- the actions ---- */

static const char SQL_DEP_OK[] = "SELECT 1 FROM dependencias WHERE code = ?1 AND active = 1";
static const char SQL_ASSIGNEE[] =
    "SELECT id, role, COALESCE(dependencia, '') FROM users WHERE username = ?1 AND disabled = 0";
static const char SQL_ASSIGN[] =
    "UPDATE items SET dependencia = ?2, assignee_id = ?3, updated_at = ?4 WHERE id = ?1";

static int do_assign(struct vt_store_tx *tx, const struct vt_config *cfg,
                     const struct vt_staff *who, struct row *r, const struct vt_case_action *a,
                     struct vt_case_result *res)
{
    if (blank(a->dependencia))
        return refuse(res, 422, "invalid", "dependencia", "Elija la dependencia.");
    bool known = strcmp(a->dependencia, cfg->staff.triage_dependencia) == 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_DEP_OK);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, a->dependencia, -1, SQLITE_STATIC);
    known = sqlite3_step(st) == SQLITE_ROW || known;
    sqlite3_reset(st);
    if (!known)
        return refuse(res, 422, "invalid", "dependencia",
                      "La dependencia %s no existe o está inactiva.", a->dependencia);
    /* An agente routes what nobody holds yet, or what it holds itself;
     * taking an item from a colleague is a coordinador's call. */
    if (who->role == VT_ROLE_AGENTE && r->assignee_id && r->assignee_id != who->id)
        return refuse(
            res, 403, "forbidden", NULL,
            "Esta solicitud ya tiene responsable. Solo un coordinador puede reasignarla.");
    int64_t assignee = 0;
    if (!blank(a->assignee)) {
        if (!(st = vt_store_tx_stmt(tx, SQL_ASSIGNEE)))
            return VT_ESTORE;
        sqlite3_bind_text(st, 1, a->assignee, -1, SQLITE_STATIC);
        bool ok = false;
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *role = (const char *)sqlite3_column_text(st, 1);
            const char *dep = (const char *)sqlite3_column_text(st, 2);
            ok = (strcmp(role, "agente") == 0 || strcmp(role, "coordinador") == 0) &&
                 strcmp(dep, a->dependencia) == 0;
            assignee = sqlite3_column_int64(st, 0);
        }
        sqlite3_reset(st);
        if (!ok)
            return refuse(res, 422, "invalid", "assignee",
                          "%s no es un agente o coordinador activo de la dependencia %s.",
                          a->assignee, a->dependencia);
    }
    if (!(st = vt_store_tx_stmt(tx, SQL_ASSIGN)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, a->dependencia, -1, SQLITE_STATIC);
    if (assignee)
        sqlite3_bind_int64(st, 3, assignee);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc == 0 && strcmp(r->status, "radicado") == 0)
        rc = set_status(tx, r, "en_tramite");
    if (rc)
        return rc;
    snprintf(r->dependencia, sizeof(r->dependencia), "%s", a->dependencia);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "dependencia", a->dependencia);
    if (assignee)
        cJSON_AddStringToObject(p, "assignee", a->assignee);
    else
        cJSON_AddNullToObject(p, "assignee");
    return event(tx, r, who, "asignado", p, 0);
}

static const char SQL_RECLASSIFY[] =
    "UPDATE items SET original_type = CASE WHEN reclassified THEN original_type ELSE type END, "
    "original_petition_class = CASE WHEN reclassified THEN original_petition_class "
    "ELSE petition_class END, "
    "original_group = CASE WHEN reclassified THEN original_group ELSE stakeholder_group END, "
    "reclassified = 1, type = ?2, petition_class = ?3, stakeholder_group = ?4, term_days = ?5, "
    "due_date = ?6, needs_triage = 0, classified_by = 'staff', updated_at = ?7, "
    "identity_reserved = CASE WHEN ?2 = 'denuncia' THEN 1 ELSE identity_reserved END "
    "WHERE id = ?1";

static int do_reclassify(struct vt_store_tx *tx, const struct vt_config *cfg,
                         const struct vt_staff *who, struct row *r, const struct vt_case_action *a,
                         struct vt_case_result *res)
{
    if (strcmp(r->kind, "pqrsd") != 0)
        return refuse(res, 409, "invalid_transition", NULL, "Solo se reclasifican PQRSD.");
    if (blank(a->type) && blank(a->petition_class) && blank(a->group))
        return refuse(res, 422, "invalid", "type", "Indique el tipo, la clase o el grupo nuevos.");
    const char *type = blank(a->type) ? r->type : vt_item_enum(vt_item_types, a->type);
    if (!type)
        return refuse(res, 422, "invalid", "type", "El tipo %s no existe.", a->type);
    const char *pclass = NULL;
    if (strcmp(type, "peticion") == 0) {
        pclass = blank(a->petition_class) ? (r->pclass[0] ? r->pclass : "general")
                                          : vt_item_enum(vt_item_classes, a->petition_class);
        if (!pclass)
            return refuse(res, 422, "invalid", "petition_class", "La clase %s no existe.",
                          a->petition_class);
    } else if (!blank(a->petition_class)) {
        return refuse(res, 422, "invalid", "petition_class", "Solo las peticiones tienen clase.");
    }
    const char *group = blank(a->group) ? r->group : a->group;
    if (!vt_classify_group_known(&cfg->rules, group))
        return refuse(res, 422, "invalid", "group", "El grupo %s no existe.", a->group);
    /* The legal term follows the corrected type, counted from the same filing
     * day; an extension or a pause already set keep their own dates. */
    int term = vt_item_term_days(cfg, r->kind, type, pclass);
    char due[11] = "";
    vt_date_t filed;
    if (r->orig_due[0] || strcmp(r->status, "pendiente_completar") == 0) {
        snprintf(due, sizeof(due), "%s", r->due);
        term = r->term_days;
    } else if (term >= 0 && vt_date_parse(r->filed, &filed) == 0) {
        vt_date_format(vt_calendar_add_business_days(&cfg->calendar, filed, term), due);
    }
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_RECLASSIFY);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    if (pclass)
        sqlite3_bind_text(st, 3, pclass, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, group, -1, SQLITE_STATIC);
    if (term >= 0)
        sqlite3_bind_int(st, 5, term);
    else
        sqlite3_bind_null(st, 5);
    if (due[0])
        sqlite3_bind_text(st, 6, due, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject(), *from = cJSON_AddObjectToObject(p, "from"),
          *to = cJSON_AddObjectToObject(p, "to");
    cJSON_AddStringToObject(from, "type", r->type);
    cJSON_AddStringToObject(from, "petition_class", r->pclass);
    cJSON_AddStringToObject(from, "group", r->group);
    cJSON_AddStringToObject(from, "due_date", r->due);
    cJSON_AddStringToObject(to, "type", type);
    cJSON_AddStringToObject(to, "petition_class", pclass ? pclass : "");
    cJSON_AddStringToObject(to, "group", group);
    cJSON_AddStringToObject(to, "due_date", due);
    return event(tx, r, who, "reclasificado", p, 0);
}

static const char SQL_PAUSE[] =
    "UPDATE items SET completion_requested_on = ?2, completion_deadline = ?3, updated_at = ?4 "
    "WHERE id = ?1";

static int do_request_completion(const struct vt_domain *dom, struct vt_store_tx *tx,
                                 const struct vt_staff *who, struct row *r,
                                 const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (blank(a->text))
        return refuse(res, 422, "invalid", "text",
                      "Escriba qué información o documentos le faltan a la solicitud.");
    if (r->term_days < 0)
        return refuse(res, 409, "invalid_transition", NULL,
                      "Esta solicitud no tiene término legal que suspender.");
    vt_date_t filed, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->filed, &filed))
        return VT_ESTORE;
    vt_date_t limit = vt_casework_completion_ask_limit(&cfg->calendar, filed);
    char lim[11], es[16];
    vt_date_format(limit, lim);
    if (vt_date_cmp(today, limit) > 0) {
        date_es(lim, es);
        return refuse(res, 409, "invalid_transition", NULL,
                      "La ley permite pedir que se complete la solicitud solo dentro de los 10 "
                      "días hábiles siguientes a su radicación (hasta el %s).",
                      es);
    }
    char asked[11], deadline[11];
    vt_date_format(today, asked);
    vt_date_format(vt_casework_completion_deadline(today, cfg->staff.completion_wait_days),
                   deadline);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_PAUSE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, asked, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, deadline, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc || (rc = set_status(tx, r, "pendiente_completar")))
        return rc;
    char subject[128], *text = NULL;
    date_es(deadline, es);
    snprintf(subject, sizeof(subject), "Radicado %s: necesitamos que complete su solicitud",
             r->radicado);
    if (asprintf(&text,
                 "Para dar trámite a su solicitud %s necesitamos lo siguiente:\n\n%s\n\nTiene "
                 "plazo hasta el %s para enviarlo respondiendo a este mensaje. Mientras tanto el "
                 "plazo de respuesta queda suspendido y vuelve a empezar cuando recibamos lo que "
                 "falta. Si no lo recibimos a tiempo, la solicitud se archivará por desistimiento "
                 "(artículo 17 de la Ley 1755 de 2015); podrá presentarla de nuevo cuando quiera.",
                 r->radicado, a->text, es) < 0)
        return VT_ENOMEM;
    const char *via;
    rc = notify(dom, tx, r, "completar", subject, text, NULL, 0, &via, res);
    free(text);
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", a->text);
    cJSON_AddStringToObject(p, "deadline", deadline);
    cJSON_AddStringToObject(p, "paused_due_date", r->due);
    cJSON_AddStringToObject(p, "notified_by", via);
    return event(tx, r, who, "completar_solicitado", p, 1);
}

static const char SQL_RESUME[] =
    "UPDATE items SET due_date = ?2, completion_deadline = NULL, updated_at = ?3 WHERE id = ?1";

/* The requester completed the item (or staff say they did in person). */
static int resume(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                  struct row *r, const char *note, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    char due[11];
    vt_date_format(vt_casework_resumed_due(&cfg->calendar, vt_store_tx_now(tx), r->term_days), due);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_RESUME);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, due, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc || (rc = set_status(tx, r, "en_tramite")))
        return rc;
    char subject[128], text[600], es[16];
    date_es(due, es);
    snprintf(subject, sizeof(subject), "Radicado %s: recibimos lo que faltaba", r->radicado);
    snprintf(text, sizeof(text),
             "Recibimos la información que faltaba en su solicitud %s. El plazo de respuesta "
             "empezó de nuevo: le responderemos a más tardar el %s.",
             r->radicado, es);
    const char *via;
    if ((rc = notify(dom, tx, r, "completada", subject, text, NULL, 0, &via, res)))
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "due_date", due);
    cJSON_AddStringToObject(p, "previous_due_date", r->due);
    if (note && *note)
        cJSON_AddStringToObject(p, "note", note);
    cJSON_AddStringToObject(p, "by", who ? "staff" : "requester");
    snprintf(r->due, sizeof(r->due), "%s", due);
    return event(tx, r, who, "completada", p, 1);
}

static const char SQL_EXTEND[] =
    "UPDATE items SET original_due_date = due_date, due_date = ?2, updated_at = ?3 WHERE id = ?1";

static int do_extend(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                     struct row *r, const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (r->term_days < 0 || !r->due[0])
        return refuse(res, 409, "invalid_transition", NULL,
                      "Esta solicitud no tiene término legal que prorrogar.");
    if (r->orig_due[0])
        return refuse(res, 409, "invalid_transition", NULL,
                      "El término ya se prorrogó una vez; la ley no permite otra prórroga.");
    if (blank(a->reason))
        return refuse(res, 422, "invalid", "reason",
                      "Escriba el motivo de la prórroga: se le informará al ciudadano.");
    vt_date_t due, wanted, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->due, &due))
        return VT_ESTORE;
    char es[16];
    if (vt_date_cmp(today, due) > 0) {
        date_es(r->due, es);
        return refuse(res, 409, "invalid_transition", NULL,
                      "El término venció el %s. La prórroga debe informarse antes de que venza.",
                      es);
    }
    if (!a->due_date || vt_date_parse(a->due_date, &wanted))
        return refuse(res, 422, "invalid", "due_date",
                      "Escriba la nueva fecha de respuesta (AAAA-MM-DD).");
    vt_date_t limit = vt_casework_extension_limit(&cfg->calendar, due, r->term_days);
    char lim[11];
    vt_date_format(limit, lim);
    if (vt_date_cmp(wanted, due) <= 0) {
        date_es(r->due, es);
        return refuse(res, 422, "invalid", "due_date",
                      "La nueva fecha debe ser posterior a la fecha de vencimiento actual (%s).",
                      es);
    }
    if (vt_date_cmp(wanted, limit) > 0) {
        date_es(lim, es);
        return refuse(res, 422, "invalid", "due_date",
                      "La prórroga no puede pasar del doble del término inicial: la fecha más "
                      "lejana posible es el %s.",
                      es);
    }
    if (!vt_calendar_is_business_day(&cfg->calendar, wanted))
        return refuse(res, 422, "invalid", "due_date", "La nueva fecha debe ser un día hábil.");
    char nd[11];
    vt_date_format(wanted, nd);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_EXTEND);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, nd, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc)
        return rc;
    char subject[128], *text = NULL;
    date_es(nd, es);
    snprintf(subject, sizeof(subject), "Radicado %s: nueva fecha de respuesta", r->radicado);
    if (asprintf(&text,
                 "No podremos responder su solicitud %s en el plazo inicial por este motivo:\n\n"
                 "%s\n\nLe responderemos a más tardar el %s (parágrafo del artículo 14 de la Ley "
                 "1755 de 2015).",
                 r->radicado, a->reason, es) < 0)
        return VT_ENOMEM;
    const char *via;
    rc = notify(dom, tx, r, "prorroga", subject, text, NULL, 0, &via, res);
    free(text);
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "reason", a->reason);
    cJSON_AddStringToObject(p, "from", r->due);
    cJSON_AddStringToObject(p, "to", nd);
    cJSON_AddStringToObject(p, "limit", lim);
    cJSON_AddStringToObject(p, "notified_by", via);
    snprintf(r->orig_due, sizeof(r->orig_due), "%s", r->due);
    snprintf(r->due, sizeof(r->due), "%s", nd);
    return event(tx, r, who, "prorrogado", p, 1);
}

static const char SQL_BODY[] = "SELECT subject, body FROM items WHERE id = ?1";

static int do_transfer(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                       struct row *r, const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (blank(a->entity) || strlen(a->entity) > 200)
        return refuse(res, 422, "invalid", "entity",
                      "Escriba el nombre de la entidad competente (hasta 200 caracteres).");
    if (blank(a->reason))
        return refuse(res, 422, "invalid", "reason",
                      "Explique por qué la entidad no es competente: se le informará al "
                      "ciudadano.");
    if (a->entity_email && *a->entity_email &&
        (!strchr(a->entity_email, '@') || strlen(a->entity_email) > 254 ||
         strpbrk(a->entity_email, " \r\n<>,;")))
        return refuse(res, 422, "invalid", "entity_email",
                      "El correo de la entidad competente no es válido.");
    vt_date_t filed, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->filed, &filed))
        return VT_ESTORE;
    bool in_term = vt_casework_transfer_in_term(&cfg->calendar, filed, today);
    int rc = set_status(tx, r, "trasladado");
    if (rc)
        return rc;
    char subject[160], *text = NULL;
    snprintf(subject, sizeof(subject), "Radicado %s: trasladamos su solicitud", r->radicado);
    if (asprintf(&text,
                 "Su solicitud %s trata un asunto que no es de nuestra competencia, por este "
                 "motivo:\n\n%s\n\nLa trasladamos a %s, que le responderá; el plazo de respuesta "
                 "empieza a contar cuando esa entidad la reciba (artículo 21 de la Ley 1755 de "
                 "2015).",
                 r->radicado, a->reason, a->entity) < 0)
        return VT_ENOMEM;
    const char *via;
    rc = notify(dom, tx, r, "traslado", subject, text, NULL, 0, &via, res);
    free(text);
    if (rc)
        return rc;
    /* The forward itself, by email, when the competent entity's address is known. */
    const char *forwarded = "no";
    const struct vt_sender *mail = vt_domain_sender(dom, "email");
    if (a->entity_email && *a->entity_email && mail) {
        sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_BODY);
        if (!st)
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, r->id);
        char *fwd = NULL;
        if (sqlite3_step(st) == SQLITE_ROW &&
            asprintf(&fwd,
                     "%s traslada por competencia la solicitud %s (artículo 21 de la Ley 1755 de "
                     "2015).\n\nMotivo: %s\n\nAsunto: %s\n\n%s",
                     cfg->entity_name, r->radicado, a->reason, sqlite3_column_text(st, 0),
                     sqlite3_column_text(st, 1)) < 0)
            fwd = NULL;
        sqlite3_reset(st);
        if (!fwd)
            return VT_ENOMEM;
        snprintf(subject, sizeof(subject), "Traslado por competencia: solicitud %s", r->radicado);
        struct vt_notice n = {
            r->id, r->radicado, a->entity_email, "traslado_entidad", subject, fwd, NULL, 0,
            0,     NULL};
        rc = mail->notify(dom->cfg, tx, &n);
        free(fwd);
        if (rc && rc != VT_ENOTFOUND && rc != VT_EINVAL)
            return rc;
        forwarded = rc ? "no" : "email";
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "entity", a->entity);
    if (a->entity_email && *a->entity_email)
        cJSON_AddStringToObject(p, "entity_email", a->entity_email);
    cJSON_AddStringToObject(p, "reason", a->reason);
    cJSON_AddBoolToObject(p, "within_5_days", in_term);
    cJSON_AddStringToObject(p, "forwarded_by", forwarded);
    cJSON_AddStringToObject(p, "notified_by", via);
    return event(tx, r, who, "trasladado", p, 1);
}

static const char SQL_RESPONSE[] =
    "INSERT INTO responses (item_id, user_id, text, channel, published, at, access, outbox_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_RESPONSE_FILE[] =
    "INSERT INTO response_files (response_id, sha256, size, content_type, filename) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

/* The way the answer goes (delivery.h): staff's choice, checked against what
 * the requester's data and the running channels allow, or the plan's
 * default. NULL having refused. */
static const struct vt_delivery_option *delivery_of(const struct vt_domain *dom, const struct row *r,
                                                    const struct vt_case_action *a,
                                                    struct vt_delivery_plan *plan,
                                                    struct vt_case_result *res)
{
    struct vt_delivery_facts f = {r->person_type, r->reply, r->email, r->phone, r->address};
    vt_delivery_plan(&f, vt_delivery_probe_domain, (void *)dom, plan);
    const struct vt_delivery_option *o;
    if (!blank(a->delivery)) {
        if (!(o = vt_delivery_find(plan, a->delivery))) {
            refuse(res, 422, "invalid", "delivery",
                   "La forma de entrega «%.40s» no existe: use email, whatsapp, carta, consulta o "
                   "publicacion.",
                   a->delivery);
            return NULL;
        }
        if (!o->available) {
            refuse(res, 422, "invalid", "delivery", "No se puede entregar por %s. %s",
                   vt_delivery_label(o->name), o->why);
            return NULL;
        }
        return o;
    }
    if (plan->dflt < 0) {
        const struct vt_delivery_option *q = &plan->opt[plan->requested];
        refuse(res, 422, "invalid", "delivery",
               "El ciudadano pidió la respuesta por %s, pero no puede llegarle así. %s Elija otra "
               "forma de entrega.",
               vt_delivery_label(q->name), q->why);
        return NULL;
    }
    return &plan->opt[plan->dflt];
}

static int do_respond(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                      struct row *r, const struct vt_case_action *a, struct vt_case_result *res)
{
    if (blank(a->text))
        return refuse(res, 422, "invalid", "text", "Escriba la respuesta.");
    /* The decision on access is what the Decreto 1081 report counts; only a
     * petition for documents or information has one. */
    bool documents = strcmp(r->type, "peticion") == 0 && strcmp(r->pclass, "documentos") == 0;
    const char *access = NULL;
    if (a->access && *a->access) {
        static const char *const decisions[] = {"concedido", "parcial", "negado", NULL};
        if (!documents)
            return refuse(res, 422, "invalid", "access",
                          "Solo la respuesta a una petición de documentos o información "
                          "concede o niega el acceso.");
        if (!(access = vt_item_enum(decisions, a->access)))
            return refuse(res, 422, "invalid", "access",
                          "El acceso debe ser concedido, parcial o negado.");
    } else if (documents) {
        access = "concedido";
    }
    struct vt_delivery_plan plan;
    const struct vt_delivery_option *how = delivery_of(dom, r, a, &plan, res);
    if (!how)
        return VT_EINVAL;
    size_t nf = a->n_files < 16 ? a->n_files : 16;
    int rc;
    /* By email or WhatsApp: queued now, in this transaction; the rows it
     * queued are what the action reports as "en cola". */
    if (how->recipient && (strcmp(how->name, "email") == 0 || strcmp(how->name, "whatsapp") == 0)) {
        char subject[128];
        snprintf(subject, sizeof(subject), "Respuesta a su solicitud %s", r->radicado);
        struct vt_notice_file files[16];
        char paths[16][4200];
        for (size_t i = 0; i < nf; i++) {
            const struct vt_case_file *f = &a->files[i];
            snprintf(paths[i], sizeof(paths[i]), "%s/attachments/%.2s/%s", dom->data_dir,
                     f->sha256, f->sha256);
            files[i] = (struct vt_notice_file){paths[i], f->filename, f->content_type};
        }
        int64_t mark;
        if ((rc = outbox_mark(tx, &mark)))
            return rc;
        struct vt_notice n = {
            r->id, r->radicado, how->recipient, "respuesta", subject, a->text, files, nf, 0, NULL};
        rc = vt_domain_notify(dom, tx, how->name, &n);
        if (rc == VT_EINVAL || rc == VT_ENOTFOUND)
            return refuse(res, 422, "invalid", "delivery",
                          "No se pudo poner la respuesta en cola por %s. Elija otra forma de "
                          "entrega.",
                          vt_delivery_label(how->name));
        if (rc || (rc = outbox_since(tx, r, mark, res)))
            return rc;
        if (res->n_outbox == 0)
            return VT_ESTORE; /* the channel said it queued, but there is no row */
    }
    bool published = strcmp(how->name, "publicacion") == 0;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_RESPONSE);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, who->id);
    sqlite3_bind_text(st, 3, a->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, how->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, published);
    sqlite3_bind_int64(st, 6, vt_store_tx_now(tx));
    if (access)
        sqlite3_bind_text(st, 7, access, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    if (res->n_outbox)
        sqlite3_bind_int64(st, 8, res->outbox_ids[0]);
    else
        sqlite3_bind_null(st, 8);
    if ((rc = exec_stmt(st)))
        return rc;
    int64_t response_id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
    for (size_t i = 0; i < nf; i++) {
        if (!(st = vt_store_tx_stmt(tx, SQL_RESPONSE_FILE)))
            return VT_ESTORE;
        sqlite3_bind_int64(st, 1, response_id);
        sqlite3_bind_text(st, 2, a->files[i].sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a->files[i].size);
        sqlite3_bind_text(st, 4, a->files[i].content_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->files[i].filename, -1, SQLITE_STATIC);
        if ((rc = exec_stmt(st)))
            return rc;
    }
    if ((rc = set_status(tx, r, "respondido")))
        return rc;
    snprintf(res->notice, sizeof(res->notice), "%s", how->name);
    res->response_id = response_id;
    /* No address in the audit trail: it cannot be purged. */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "response_id", (double)response_id);
    cJSON_AddStringToObject(p, "channel", how->name);
    cJSON_AddStringToObject(p, "requested", plan.opt[plan.requested].name);
    cJSON_AddBoolToObject(p, "published", published);
    cJSON_AddNumberToObject(p, "attachments", (double)nf);
    cJSON *ids = cJSON_AddArrayToObject(p, "outbox_ids");
    for (size_t i = 0; i < res->n_outbox; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)res->outbox_ids[i]));
    if (access)
        cJSON_AddStringToObject(p, "access", access);
    return event(tx, r, who, "respondido", p, 1);
}

static const char SQL_PENDING_LETTER[] =
    "SELECT id FROM responses WHERE item_id = ?1 AND channel = 'carta' AND delivered_at IS NULL "
    "AND (?2 = 0 OR id = ?2) ORDER BY id LIMIT 1";
static const char SQL_LETTER_DELIVERED[] =
    "UPDATE responses SET delivered_at = ?2, delivered_by = ?3, delivery_method = ?4, "
    "delivery_note = ?5 WHERE id = ?1";

/* A printed answer was handed over or mailed: the letter is delivered. */
static int do_deliver_letter(struct vt_store_tx *tx, const struct vt_staff *who, struct row *r,
                             const struct vt_case_action *a, struct vt_case_result *res)
{
    static const char *const methods[] = {"entrega_personal", "correo_postal", NULL};
    const char *method = blank(a->method) ? "entrega_personal" : vt_item_enum(methods, a->method);
    if (!method)
        return refuse(res, 422, "invalid", "method",
                      "Indique cómo se entregó: entrega_personal o correo_postal.");
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_PENDING_LETTER);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, a->response_id);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!id)
        return refuse(res, 409, "invalid_transition", a->response_id ? "response_id" : NULL,
                      a->response_id ? "Esa respuesta no es una carta pendiente de entrega."
                                     : "Esta solicitud no tiene cartas de respuesta pendientes "
                                       "de entrega.");
    if (!(st = vt_store_tx_stmt(tx, SQL_LETTER_DELIVERED)))
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, vt_store_tx_now(tx));
    sqlite3_bind_int64(st, 3, who->id);
    sqlite3_bind_text(st, 4, method, -1, SQLITE_STATIC);
    if (blank(a->note))
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_text(st, 5, a->note, -1, SQLITE_STATIC);
    int rc = exec_stmt(st);
    if (rc)
        return rc;
    snprintf(res->notice, sizeof(res->notice), "carta");
    res->response_id = id;
    /* The note (who received it, a tracking number) stays in the response
     * row, which a purge can erase; the audit trail gets no personal data. */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "response_id", (double)id);
    cJSON_AddStringToObject(p, "method", method);
    return event(tx, r, who, "respuesta_entregada", p, 1);
}

static int do_note(struct vt_store_tx *tx, const struct vt_staff *who, struct row *r,
                   const struct vt_case_action *a, struct vt_case_result *res)
{
    if (blank(a->text))
        return refuse(res, 422, "invalid", "text", "Escriba la nota.");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", a->text);
    return event(tx, r, who, "nota", p, 0);
}

static int do_close(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                    struct row *r, const struct vt_case_action *a, struct vt_case_result *res)
{
    bool answered = strcmp(r->status, "respondido") == 0;
    if (!answered && blank(a->reason))
        return refuse(res, 422, "invalid", "reason",
                      "La solicitud no tiene respuesta: escriba por qué se cierra (por ejemplo, "
                      "si está duplicada).");
    int rc = set_status(tx, r, "cerrado");
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddBoolToObject(p, "answered", answered);
    if (!blank(a->reason))
        cJSON_AddStringToObject(p, "reason", a->reason);
    if ((rc = event(tx, r, who, "cerrado", p, 1)))
        return rc;
    /* An answered item closed: its requester is asked how we did. */
    const char *recipient;
    const char *ch = requested_channel(r, &recipient);
    if (!answered || !ch)
        return 0;
    return vt_survey_invite(dom, tx, r->id, r->radicado, ch, recipient, r->group, r->dependencia);
}

static const char SQL_REOPEN[] =
    "UPDATE items SET completion_deadline = NULL, updated_at = ?2 WHERE id = ?1";

static int do_reopen(struct vt_store_tx *tx, const struct vt_staff *who, struct row *r,
                     const struct vt_case_action *a, struct vt_case_result *res)
{
    if (blank(a->reason))
        return refuse(res, 422, "invalid", "reason", "Escriba por qué se reabre la solicitud.");
    char from[24];
    snprintf(from, sizeof(from), "%s", r->status);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_REOPEN);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, vt_store_tx_now(tx));
    int rc = exec_stmt(st);
    if (rc || (rc = set_status(tx, r, "en_tramite")))
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "from", from);
    cJSON_AddStringToObject(p, "reason", a->reason);
    return event(tx, r, who, "reabierto", p, 1);
}

/* A hearing question not answered live is answered in writing through the
 * staff queue: it takes assign, note, respond, close and reopen unless its
 * moderation (hearing_questions) already settled it. Every other action, and
 * every other kind, stays PQRSD-only. */
static const char SQL_HEARING_STATUS[] = "SELECT status FROM hearing_questions WHERE item_id = ?1";

static bool hearing_question_ok(struct vt_store_tx *tx, const struct row *r, const char *action)
{
    static const char *const allowed[] = {"assign", "note",           "respond", "close",
                                          "reopen", "deliver_letter", NULL};
    if (strcmp(r->kind, "hearing_question") != 0 || !action || !vt_item_enum(allowed, action))
        return false;
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_HEARING_STATUS);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, r->id);
    bool ok = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        ok = s && strcmp(s, "rechazada") != 0 && strcmp(s, "fusionada") != 0 &&
             strcmp(s, "respondida_en_vivo") != 0;
    }
    sqlite3_reset(st);
    return ok;
}

int vt_casework_apply(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_staff *who,
                      const char *radicado, const struct vt_case_action *a,
                      struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    memset(res, 0, sizeof(*res));
    struct row r;
    int rc = load_row(tx, radicado, 0, &r);
    if (rc == VT_ENOTFOUND || (rc == 0 && !vt_staff_in_scope(cfg, who, r.dependencia)))
        return refuse(res, 404, "not_found", NULL,
                      "No existe la solicitud %s o no está a su cargo.", radicado);
    if (rc)
        return rc;
    if (strcmp(r.kind, "pqrsd") != 0 && !hearing_question_ok(tx, &r, a->action))
        return refuse(res, 409, "invalid_transition", NULL,
                      "Esta función es para PQRSD; las preguntas de audiencia tienen su propio "
                      "trámite.");
    const struct rule *rule = rule_of(a->action);
    if (!rule)
        return refuse(res, 422, "invalid", "action", "La acción %s no existe.",
                      a->action ? a->action : "");
    if (!(rule->roles & (1u << who->role)))
        return refuse(res, 403, "forbidden", NULL, "Su rol (%s) no permite %s.",
                      vt_role_name(who->role), action_label(a->action));
    if (!from_ok(rule, r.status))
        return refuse(res, 409, "invalid_transition", NULL,
                      "No se puede %s una solicitud en estado «%s».", action_label(a->action),
                      vt_item_label(r.status));
    const char *act = rule->action;
    snprintf(res->old_status, sizeof(res->old_status), "%s", r.status);
    char old_dep[101];
    snprintf(old_dep, sizeof(old_dep), "%s", r.dependencia);
    if (strcmp(act, "assign") == 0)
        rc = do_assign(tx, cfg, who, &r, a, res);
    else if (strcmp(act, "reclassify") == 0)
        rc = do_reclassify(tx, cfg, who, &r, a, res);
    else if (strcmp(act, "request_completion") == 0)
        rc = do_request_completion(dom, tx, who, &r, a, res);
    else if (strcmp(act, "complete") == 0)
        rc = resume(dom, tx, who, &r, a->note ? a->note : a->text, res);
    else if (strcmp(act, "extend") == 0)
        rc = do_extend(dom, tx, who, &r, a, res);
    else if (strcmp(act, "transfer") == 0)
        rc = do_transfer(dom, tx, who, &r, a, res);
    else if (strcmp(act, "note") == 0)
        rc = do_note(tx, who, &r, a, res);
    else if (strcmp(act, "respond") == 0)
        rc = do_respond(dom, tx, who, &r, a, res);
    else if (strcmp(act, "close") == 0)
        rc = do_close(dom, tx, who, &r, a, res);
    else if (strcmp(act, "deliver_letter") == 0)
        rc = do_deliver_letter(tx, who, &r, a, res);
    else
        rc = do_reopen(tx, who, &r, a, res);
    if (rc == 0)
        rc = note_change(tx, &r, res->old_status, old_dep, who, act);
    if (rc == 0) {
        res->status = 200;
        res->item_id = r.id;
        snprintf(res->new_status, sizeof(res->new_status), "%s", r.status);
        snprintf(res->dependencia, sizeof(res->dependencia), "%s", r.dependencia);
    }
    return rc;
}

int vt_casework_citizen_replied(const struct vt_domain *dom, struct vt_store_tx *tx, int64_t item_id)
{
    struct row r;
    int rc = load_row(tx, NULL, item_id, &r);
    if (rc == VT_ENOTFOUND)
        return 0;
    if (rc || strcmp(r.status, "pendiente_completar") != 0)
        return rc;
    rc = resume(dom, tx, NULL, &r, NULL, NULL);
    return rc ? rc : note_change(tx, &r, "pendiente_completar", r.dependencia, NULL, "completada");
}

static const char SQL_LAPSED[] =
    "SELECT id FROM items WHERE status = 'pendiente_completar' AND completion_deadline < ?1 "
    "LIMIT 500";

int vt_casework_sweep(const struct vt_domain *dom, struct vt_store_tx *tx, vt_date_t today, int *n)
{
    *n = 0;
    char day[11];
    vt_date_format(today, day);
    sqlite3_stmt *st = vt_store_tx_stmt(tx, SQL_LAPSED);
    if (!st)
        return VT_ESTORE;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    int64_t ids[500];
    size_t k = 0;
    while (k < 500 && sqlite3_step(st) == SQLITE_ROW)
        ids[k++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (size_t i = 0; i < k; i++) {
        struct row r;
        int rc = load_row(tx, NULL, ids[i], &r);
        if (rc || (rc = set_status(tx, &r, "desistido")))
            return rc;
        char subject[128], text[700], es[16];
        date_es(r.deadline, es);
        snprintf(subject, sizeof(subject), "Radicado %s: solicitud archivada", r.radicado);
        snprintf(text, sizeof(text),
                 "Su solicitud %s se archivó por desistimiento tácito: le pedimos completarla y "
                 "no recibimos lo que faltaba hasta el %s (artículo 17 de la Ley 1755 de 2015). "
                 "Puede presentarla de nuevo cuando quiera.",
                 r.radicado, es);
        const char *via;
        if ((rc = notify(dom, tx, &r, "desistimiento", subject, text, NULL, 0, &via, NULL)))
            return rc;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "deadline", r.deadline);
        cJSON_AddStringToObject(p, "notified_by", via);
        if ((rc = event(tx, &r, NULL, "desistido", p, 1)) ||
            (rc = note_change(tx, &r, "pendiente_completar", r.dependencia, NULL, "desistido")))
            return rc;
        (*n)++;
    }
    return 0;
}

static const char SQL_ANSWER[] =
    "SELECT r.text, r.at FROM responses r JOIN items i ON i.id = r.item_id "
    "WHERE i.radicado = ?1 ORDER BY r.id DESC LIMIT 1";

void vt_casework_answer(struct vt_store_reader *rd, const char *radicado, char **text, int64_t *at)
{
    *text = NULL;
    *at = 0;
    sqlite3_stmt *st = vt_store_reader_stmt(rd, SQL_ANSWER);
    if (!st)
        return;
    sqlite3_bind_text(st, 1, radicado, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *text = strdup((const char *)sqlite3_column_text(st, 0));
        *at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
}

static const char SQL_PUBLISHED[] =
    "SELECT i.radicado, r.at, r.text FROM responses r JOIN items i ON i.id = r.item_id "
    "WHERE r.published = 1 AND r.at >= ?1 AND NOT EXISTS (SELECT 1 FROM requesters q "
    "WHERE q.item_id = i.id AND q.person_type <> 'anonimo') "
    "ORDER BY r.at DESC, r.id DESC LIMIT ?2";

size_t vt_casework_published(struct vt_store_reader *rd, int64_t since_ms, struct vt_published *out,
                             size_t cap)
{
    sqlite3_stmt *st = vt_store_reader_stmt(rd, SQL_PUBLISHED);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
    size_t n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
        col(st, 0, out[n].radicado, sizeof(out[n].radicado));
        out[n].at = sqlite3_column_int64(st, 1);
        if (!(out[n].text = strdup((const char *)sqlite3_column_text(st, 2))))
            break;
        n++;
    }
    sqlite3_reset(st);
    return n;
}

void vt_casework_published_free(struct vt_published *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].text);
}
