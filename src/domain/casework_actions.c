/* casework_actions.c - what each staff action does once casework.c let it
 * through (casework_int.h): its own fields and legal limits, the change to
 * the item (through casework_db.c), the notice to the requester and the
 * audit event.
 *
 * Owns: the Spanish texts of the notices and of the actions' refusals, and
 * notify_and_audit, the one way an action tells the requester something and
 * records how it went. Must not: run SQL (casework_db.c does) or check role
 * and status (casework.c's rules table does, before any action runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/item.h"
#include "domain/casework_int.h"
#include "domain/classifier.h"
#include "domain/delivery.h"
#include "domain/dependencias.h"
#include "domain/survey.h"
#include "domain/users.h"

/* ---- shared helpers ---- */

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* Appends the action's audit event as who (NULL: the system); payload is
 * freed. 0 or VT_E*. */
static int event(struct vt_store_tx *tx, const struct vt_case_row *r, const struct vt_staff *who,
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

static void date_es(const char *iso, char out[16])
{
    vt_date_format_es(iso, out);
}

/* ---- notices to the requester ---- */

/* The channel the requester chose for replies when it is one we send on
 * (email, WhatsApp) and they gave its address; else NULL. */
static const char *requested_channel(const struct vt_case_row *r, const char **recipient)
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

/* Queues a notice (an extension, a transfer, a completion request...; not
 * an answer, which do_respond delivers) to the requester on the channel they
 * chose. *via (and res->notice, res may be NULL) gets what happened: the
 * channel when it was queued (res->outbox_ids the rows); "consulta" when they
 * chose no channel we send on, so their status page is where they read it;
 * "no_enviado" when their channel is postal, does not run here or refused
 * the address. Nothing is ever said to be sent that was not queued. */
static int notify(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_case_row *r,
                  const char *kind, const char *subject, const char *text, const char **via,
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
        if ((rc = vt_casework__db_outbox_mark(tx, &mark)))
            return rc;
        struct vt_notice n = {r->id, r->radicado, recipient, kind, subject, text, NULL, 0, 0, NULL};
        rc = c->notify(dom->cfg, tx, &n);
        if (rc == 0) {
            *via = ch;
            rc = vt_casework__db_outbox_since(tx, r->id, mark, res);
        } else if (rc == VT_EINVAL || rc == VT_ENOTFOUND) {
            rc = 0; /* not an address of that channel, or it does not run here */
        }
    }
    if (res)
        snprintf(res->notice, sizeof(res->notice), "%s", *via);
    return rc;
}

/* A notice to the requester and the public audit event that records it. */
struct told {
    const char *kind, *subject, *text; /* the notice (notify) */
    const char *event;                 /* the audit action */
    cJSON *payload;                    /* the event's; owned */
    bool say_how;                      /* append "notified_by": how the notice went */
    /* May be NULL: runs once the notice is queued, before the event, and may
     * add to the payload (a transfer's forward to the competent entity). */
    int (*then)(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_case_row *r,
                cJSON *payload, void *ctx);
    void *ctx;
};

/* The step the notices share: queue t's notice (notify), run t->then, then
 * append t's event as who (NULL: the system), its payload saying how the
 * notice went. The payload is freed whatever happens. 0 or VT_E*. */
static int notify_and_audit(const struct vt_domain *dom, struct vt_store_tx *tx,
                            const struct vt_staff *who, const struct vt_case_row *r,
                            const struct told *t, struct vt_case_result *res)
{
    const char *via;
    int rc = notify(dom, tx, r, t->kind, t->subject, t->text, &via, res);
    if (rc == 0 && t->then)
        rc = t->then(dom, tx, r, t->payload, t->ctx);
    if (rc) {
        cJSON_Delete(t->payload);
        return rc;
    }
    if (t->say_how)
        cJSON_AddStringToObject(t->payload, "notified_by", via);
    return event(tx, r, who, t->event, t->payload, 1);
}

/* ---- the actions ---- */

int vt_casework__do_assign(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (blank(a->dependencia))
        return vt_casework__refuse(res, 422, "invalid", "dependencia", "Elija la dependencia.");
    bool known = strcmp(a->dependencia, cfg->staff.triage_dependencia) == 0;
    bool active = false;
    int rc = vt_dependencias_active(tx, a->dependencia, &active);
    if (rc)
        return rc;
    if (!known && !active)
        return vt_casework__refuse(res, 422, "invalid", "dependencia",
                                   "La dependencia %s no existe o está inactiva.", a->dependencia);
    /* An agente routes what nobody holds yet, or what it holds itself;
     * taking an item from a colleague is a coordinador's call. */
    if (who->role == VT_ROLE_AGENTE && r->assignee_id && r->assignee_id != who->id)
        return vt_casework__refuse(
            res, 403, "forbidden", NULL,
            "Esta solicitud ya tiene responsable. Solo un coordinador puede reasignarla.");
    int64_t assignee = 0;
    if (!blank(a->assignee)) {
        struct vt_user_row u;
        rc = vt_users_find(tx, a->assignee, &u);
        if (rc && rc != VT_ENOTFOUND)
            return rc;
        bool ok = rc == 0 &&
                  (strcmp(u.role, "agente") == 0 || strcmp(u.role, "coordinador") == 0) &&
                  strcmp(u.dependencia, a->dependencia) == 0;
        if (rc == 0)
            assignee = u.id;
        if (!ok)
            return vt_casework__refuse(
                res, 422, "invalid", "assignee",
                "%s no es un agente o coordinador activo de la dependencia %s.", a->assignee,
                a->dependencia);
    }
    rc = vt_casework__db_assign(tx, r->id, a->dependencia, assignee);
    if (rc == 0 && strcmp(r->status, "radicado") == 0)
        rc = vt_casework__db_set_status(tx, r, "en_tramite");
    if (rc)
        return rc;
    snprintf(r->dependencia, sizeof(r->dependencia), "%s", a->dependencia);
    /* Routing to a dependencia other than triage teaches the classifier. */
    if (!known &&
        (rc = vt_classifier_label(tx, r->id, "dependencia", a->dependencia, who->username)))
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "dependencia", a->dependencia);
    if (assignee)
        cJSON_AddStringToObject(p, "assignee", a->assignee);
    else
        cJSON_AddNullToObject(p, "assignee");
    return event(tx, r, who, "asignado", p, 0);
}

int vt_casework__do_reclassify(const struct vt_domain *dom, struct vt_store_tx *tx,
                               const struct vt_staff *who, struct vt_case_row *r,
                               const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (strcmp(r->kind, "pqrsd") != 0)
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "Solo se reclasifican PQRSD.");
    if (blank(a->type) && blank(a->petition_class) && blank(a->group))
        return vt_casework__refuse(res, 422, "invalid", "type",
                                   "Indique el tipo, la clase o el grupo nuevos.");
    const char *type = blank(a->type) ? r->type : vt_item_enum(vt_item_types, a->type);
    if (!type)
        return vt_casework__refuse(res, 422, "invalid", "type", "El tipo %s no existe.", a->type);
    const char *pclass = NULL;
    if (strcmp(type, "peticion") == 0) {
        pclass = blank(a->petition_class) ? (r->pclass[0] ? r->pclass : "general")
                                          : vt_item_enum(vt_item_classes, a->petition_class);
        if (!pclass)
            return vt_casework__refuse(res, 422, "invalid", "petition_class",
                                       "La clase %s no existe.", a->petition_class);
    } else if (!blank(a->petition_class)) {
        return vt_casework__refuse(res, 422, "invalid", "petition_class",
                                   "Solo las peticiones tienen clase.");
    }
    const char *group = blank(a->group) ? r->group : a->group;
    if (!vt_classify_group_known(&cfg->rules, group))
        return vt_casework__refuse(res, 422, "invalid", "group", "El grupo %s no existe.",
                                   a->group);
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
    int rc = vt_casework__db_reclassify(tx, r->id, type, pclass, group, term, due);
    /* What staff set teaches the classifier (classifier_labels): the labels
     * they gave, and a peticion's class when they gave its type. */
    if (!rc && !blank(a->type))
        rc = vt_classifier_label(tx, r->id, "type", type, who->username);
    if (!rc && pclass && (!blank(a->petition_class) || !blank(a->type)))
        rc = vt_classifier_label(tx, r->id, "petition_class", pclass, who->username);
    if (!rc && !blank(a->group))
        rc = vt_classifier_label(tx, r->id, "group", group, who->username);
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

int vt_casework__do_request_completion(const struct vt_domain *dom, struct vt_store_tx *tx,
                                       const struct vt_staff *who, struct vt_case_row *r,
                                       const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (blank(a->text))
        return vt_casework__refuse(
            res, 422, "invalid", "text",
            "Escriba qué información o documentos le faltan a la solicitud.");
    if (r->term_days < 0)
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "Esta solicitud no tiene término legal que suspender.");
    vt_date_t filed, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->filed, &filed))
        return VT_ESTORE;
    vt_date_t limit = vt_casework_completion_ask_limit(&cfg->calendar, filed);
    char lim[11], es[16];
    vt_date_format(limit, lim);
    if (vt_date_cmp(today, limit) > 0) {
        date_es(lim, es);
        return vt_casework__refuse(
            res, 409, "invalid_transition", NULL,
            "La ley permite pedir que se complete la solicitud solo dentro de los 10 "
            "días hábiles siguientes a su radicación (hasta el %s).",
            es);
    }
    char asked[11], deadline[11];
    vt_date_format(today, asked);
    vt_date_format(vt_casework_completion_deadline(today, cfg->staff.completion_wait_days),
                   deadline);
    int rc = vt_casework__db_pause(tx, r->id, asked, deadline);
    if (rc || (rc = vt_casework__db_set_status(tx, r, "pendiente_completar")))
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
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", a->text);
    cJSON_AddStringToObject(p, "deadline", deadline);
    cJSON_AddStringToObject(p, "paused_due_date", r->due);
    struct told t = {"completar", subject, text, "completar_solicitado", p, true, NULL, NULL};
    rc = notify_and_audit(dom, tx, who, r, &t, res);
    free(text);
    return rc;
}

int vt_casework__resume(const struct vt_domain *dom, struct vt_store_tx *tx,
                        const struct vt_staff *who, struct vt_case_row *r, const char *note,
                        struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    char due[11];
    vt_date_format(vt_casework_resumed_due(&cfg->calendar, vt_store_tx_now(tx), r->term_days), due);
    int rc = vt_casework__db_resume(tx, r->id, due);
    if (rc || (rc = vt_casework__db_set_status(tx, r, "en_tramite")))
        return rc;
    char subject[128], text[600], es[16];
    date_es(due, es);
    snprintf(subject, sizeof(subject), "Radicado %s: recibimos lo que faltaba", r->radicado);
    snprintf(text, sizeof(text),
             "Recibimos la información que faltaba en su solicitud %s. El plazo de respuesta "
             "empezó de nuevo: le responderemos a más tardar el %s.",
             r->radicado, es);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "due_date", due);
    cJSON_AddStringToObject(p, "previous_due_date", r->due);
    if (note && *note)
        cJSON_AddStringToObject(p, "note", note);
    cJSON_AddStringToObject(p, "by", who ? "staff" : "requester");
    /* The event of a completion never said how its notice went: it still does not. */
    struct told t = {"completada", subject, text, "completada", p, false, NULL, NULL};
    rc = notify_and_audit(dom, tx, who, r, &t, res);
    if (rc == 0)
        snprintf(r->due, sizeof(r->due), "%s", due);
    return rc;
}

int vt_casework__do_complete(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res)
{
    return vt_casework__resume(dom, tx, who, r, a->note ? a->note : a->text, res);
}

int vt_casework__do_extend(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (r->term_days < 0 || !r->due[0])
        return vt_casework__refuse(res, 409, "invalid_transition", NULL,
                                   "Esta solicitud no tiene término legal que prorrogar.");
    if (r->orig_due[0])
        return vt_casework__refuse(
            res, 409, "invalid_transition", NULL,
            "El término ya se prorrogó una vez; la ley no permite otra prórroga.");
    if (blank(a->reason))
        return vt_casework__refuse(
            res, 422, "invalid", "reason",
            "Escriba el motivo de la prórroga: se le informará al ciudadano.");
    vt_date_t due, wanted, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->due, &due))
        return VT_ESTORE;
    char es[16];
    if (vt_date_cmp(today, due) > 0) {
        date_es(r->due, es);
        return vt_casework__refuse(
            res, 409, "invalid_transition", NULL,
            "El término venció el %s. La prórroga debe informarse antes de que venza.", es);
    }
    if (!a->due_date || vt_date_parse(a->due_date, &wanted))
        return vt_casework__refuse(res, 422, "invalid", "due_date",
                                   "Escriba la nueva fecha de respuesta (AAAA-MM-DD).");
    vt_date_t limit = vt_casework_extension_limit(&cfg->calendar, due, r->term_days);
    char lim[11];
    vt_date_format(limit, lim);
    if (vt_date_cmp(wanted, due) <= 0) {
        date_es(r->due, es);
        return vt_casework__refuse(
            res, 422, "invalid", "due_date",
            "La nueva fecha debe ser posterior a la fecha de vencimiento actual (%s).", es);
    }
    if (vt_date_cmp(wanted, limit) > 0) {
        date_es(lim, es);
        return vt_casework__refuse(
            res, 422, "invalid", "due_date",
            "La prórroga no puede pasar del doble del término inicial: la fecha más "
            "lejana posible es el %s.",
            es);
    }
    if (!vt_calendar_is_business_day(&cfg->calendar, wanted))
        return vt_casework__refuse(res, 422, "invalid", "due_date",
                                   "La nueva fecha debe ser un día hábil.");
    char nd[11];
    vt_date_format(wanted, nd);
    int rc = vt_casework__db_extend(tx, r->id, nd);
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
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "reason", a->reason);
    cJSON_AddStringToObject(p, "from", r->due);
    cJSON_AddStringToObject(p, "to", nd);
    cJSON_AddStringToObject(p, "limit", lim);
    struct told t = {"prorroga", subject, text, "prorrogado", p, true, NULL, NULL};
    rc = notify_and_audit(dom, tx, who, r, &t, res);
    free(text);
    if (rc == 0) {
        snprintf(r->orig_due, sizeof(r->orig_due), "%s", r->due);
        snprintf(r->due, sizeof(r->due), "%s", nd);
    }
    return rc;
}

/* The transfer's forward of the item to the competent entity, by email when
 * its address is known and email runs here; adds "forwarded_by". */
static int forward(const struct vt_domain *dom, struct vt_store_tx *tx, const struct vt_case_row *r,
                   cJSON *payload, void *ctx)
{
    const struct vt_case_action *a = ctx;
    const char *forwarded = "no";
    const struct vt_sender *mail = vt_domain_sender(dom, "email");
    if (a->entity_email && *a->entity_email && mail) {
        char *subj = NULL, *body = NULL, *fwd = NULL;
        int rc = vt_casework__db_body(tx, r->id, &subj, &body);
        if (rc)
            return rc;
        if (!subj ||
            asprintf(&fwd,
                     "%s traslada por competencia la solicitud %s (artículo 21 de la Ley 1755 de "
                     "2015).\n\nMotivo: %s\n\nAsunto: %s\n\n%s",
                     dom->cfg->entity_name, r->radicado, a->reason, subj, body) < 0)
            fwd = NULL;
        free(subj);
        free(body);
        if (!fwd)
            return VT_ENOMEM;
        char subject[160];
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
    cJSON_AddStringToObject(payload, "forwarded_by", forwarded);
    return 0;
}

int vt_casework__do_transfer(const struct vt_domain *dom, struct vt_store_tx *tx,
                             const struct vt_staff *who, struct vt_case_row *r,
                             const struct vt_case_action *a, struct vt_case_result *res)
{
    const struct vt_config *cfg = dom->cfg;
    if (blank(a->entity) || strlen(a->entity) > 200)
        return vt_casework__refuse(
            res, 422, "invalid", "entity",
            "Escriba el nombre de la entidad competente (hasta 200 caracteres).");
    if (blank(a->reason))
        return vt_casework__refuse(
            res, 422, "invalid", "reason",
            "Explique por qué la entidad no es competente: se le informará al "
            "ciudadano.");
    if (a->entity_email && *a->entity_email &&
        (!strchr(a->entity_email, '@') || strlen(a->entity_email) > 254 ||
         strpbrk(a->entity_email, " \r\n<>,;")))
        return vt_casework__refuse(res, 422, "invalid", "entity_email",
                                   "El correo de la entidad competente no es válido.");
    vt_date_t filed, today = vt_date_from_unix_ms(vt_store_tx_now(tx));
    if (vt_date_parse(r->filed, &filed))
        return VT_ESTORE;
    bool in_term = vt_casework_transfer_in_term(&cfg->calendar, filed, today);
    int rc = vt_casework__db_set_status(tx, r, "trasladado");
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
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "entity", a->entity);
    if (a->entity_email && *a->entity_email)
        cJSON_AddStringToObject(p, "entity_email", a->entity_email);
    cJSON_AddStringToObject(p, "reason", a->reason);
    cJSON_AddBoolToObject(p, "within_5_days", in_term);
    struct told t = {"traslado", subject, text, "trasladado", p, true, forward, (void *)a};
    rc = notify_and_audit(dom, tx, who, r, &t, res);
    free(text);
    return rc;
}

int vt_casework__desist(const struct vt_domain *dom, struct vt_store_tx *tx, struct vt_case_row *r)
{
    int rc = vt_casework__db_set_status(tx, r, "desistido");
    if (rc)
        return rc;
    char subject[128], text[700], es[16];
    date_es(r->deadline, es);
    snprintf(subject, sizeof(subject), "Radicado %s: solicitud archivada", r->radicado);
    snprintf(text, sizeof(text),
             "Su solicitud %s se archivó por desistimiento tácito: le pedimos completarla y "
             "no recibimos lo que faltaba hasta el %s (artículo 17 de la Ley 1755 de 2015). "
             "Puede presentarla de nuevo cuando quiera.",
             r->radicado, es);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "deadline", r->deadline);
    struct told t = {"desistimiento", subject, text, "desistido", p, true, NULL, NULL};
    return notify_and_audit(dom, tx, NULL, r, &t, NULL);
}

/* ---- answers ---- */

/* The way the answer goes (delivery.h): staff's choice, checked against what
 * the requester's data and the running channels allow, or the plan's
 * default. NULL having refused. */
static const struct vt_delivery_option *delivery_of(const struct vt_domain *dom,
                                                    const struct vt_case_row *r,
                                                    const struct vt_case_action *a,
                                                    struct vt_delivery_plan *plan,
                                                    struct vt_case_result *res)
{
    struct vt_delivery_facts f = {r->person_type, r->reply, r->email, r->phone, r->address};
    vt_delivery_plan(&f, vt_delivery_probe_domain, (void *)dom, plan);
    const struct vt_delivery_option *o;
    if (!blank(a->delivery)) {
        if (!(o = vt_delivery_find(plan, a->delivery))) {
            vt_casework__refuse(
                res, 422, "invalid", "delivery",
                "La forma de entrega «%.40s» no existe: use email, whatsapp, carta, consulta o "
                "publicacion.",
                a->delivery);
            return NULL;
        }
        if (!o->available) {
            vt_casework__refuse(res, 422, "invalid", "delivery", "No se puede entregar por %s. %s",
                                vt_delivery_label(o->name), o->why);
            return NULL;
        }
        return o;
    }
    if (plan->dflt < 0) {
        const struct vt_delivery_option *q = &plan->opt[plan->requested];
        vt_casework__refuse(
            res, 422, "invalid", "delivery",
            "El ciudadano pidió la respuesta por %s, pero no puede llegarle así. %s Elija otra "
            "forma de entrega.",
            vt_delivery_label(q->name), q->why);
        return NULL;
    }
    return &plan->opt[plan->dflt];
}

/* Queues the answer by email or WhatsApp to how->recipient, in this
 * transaction; the rows it queued go into res. */
static int send_answer(const struct vt_domain *dom, struct vt_store_tx *tx,
                       const struct vt_case_row *r, const struct vt_case_action *a,
                       const struct vt_delivery_option *how, size_t nf, struct vt_case_result *res)
{
    char subject[128];
    snprintf(subject, sizeof(subject), "Respuesta a su solicitud %s", r->radicado);
    struct vt_notice_file files[16];
    for (size_t i = 0; i < nf; i++) {
        const struct vt_case_file *f = &a->files[i];
        files[i] = (struct vt_notice_file){f->sha256, f->filename, f->content_type};
    }
    int64_t mark;
    int rc = vt_casework__db_outbox_mark(tx, &mark);
    if (rc)
        return rc;
    struct vt_notice n = {
        r->id, r->radicado, how->recipient, "respuesta", subject, a->text, files, nf, 0, NULL};
    rc = vt_domain_notify(dom, tx, how->name, &n);
    if (rc == VT_EINVAL || rc == VT_ENOTFOUND)
        return vt_casework__refuse(
            res, 422, "invalid", "delivery",
            "No se pudo poner la respuesta en cola por %s. Elija otra forma de "
            "entrega.",
            vt_delivery_label(how->name));
    if (rc || (rc = vt_casework__db_outbox_since(tx, r->id, mark, res)))
        return rc;
    if (res->n_outbox == 0)
        return VT_ESTORE; /* the channel said it queued, but there is no row */
    return 0;
}

int vt_casework__do_respond(const struct vt_domain *dom, struct vt_store_tx *tx,
                            const struct vt_staff *who, struct vt_case_row *r,
                            const struct vt_case_action *a, struct vt_case_result *res)
{
    if (blank(a->text))
        return vt_casework__refuse(res, 422, "invalid", "text", "Escriba la respuesta.");
    /* The decision on access is what the Decreto 1081 report counts; only a
     * petition for documents or information has one. */
    bool documents = strcmp(r->type, "peticion") == 0 && strcmp(r->pclass, "documentos") == 0;
    const char *access = NULL;
    if (a->access && *a->access) {
        static const char *const decisions[] = {"concedido", "parcial", "negado", NULL};
        if (!documents)
            return vt_casework__refuse(
                res, 422, "invalid", "access",
                "Solo la respuesta a una petición de documentos o información "
                "concede o niega el acceso.");
        if (!(access = vt_item_enum(decisions, a->access)))
            return vt_casework__refuse(res, 422, "invalid", "access",
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
    if (how->recipient && (strcmp(how->name, "email") == 0 || strcmp(how->name, "whatsapp") == 0) &&
        (rc = send_answer(dom, tx, r, a, how, nf, res)))
        return rc;
    bool published = strcmp(how->name, "publicacion") == 0;
    int64_t response_id;
    rc =
        vt_casework__db_respond(tx, r->id, who->id, a->text, how->name, published, access,
                                res->n_outbox ? res->outbox_ids[0] : 0, a->files, nf, &response_id);
    if (rc || (rc = vt_casework__db_set_status(tx, r, "respondido")))
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

/* A printed answer was handed over or mailed: the letter is delivered. */
int vt_casework__do_deliver_letter(const struct vt_domain *dom, struct vt_store_tx *tx,
                                   const struct vt_staff *who, struct vt_case_row *r,
                                   const struct vt_case_action *a, struct vt_case_result *res)
{
    (void)dom;
    static const char *const methods[] = {"entrega_personal", "correo_postal", NULL};
    const char *method = blank(a->method) ? "entrega_personal" : vt_item_enum(methods, a->method);
    if (!method)
        return vt_casework__refuse(res, 422, "invalid", "method",
                                   "Indique cómo se entregó: entrega_personal o correo_postal.");
    int64_t id;
    int rc = vt_casework__db_pending_letter(tx, r->id, a->response_id, &id);
    if (rc)
        return rc;
    if (!id)
        return vt_casework__refuse(
            res, 409, "invalid_transition", a->response_id ? "response_id" : NULL,
            a->response_id ? "Esa respuesta no es una carta pendiente de entrega."
                           : "Esta solicitud no tiene cartas de respuesta pendientes "
                             "de entrega.");
    if ((rc = vt_casework__db_letter_delivered(tx, id, who->id, method,
                                               blank(a->note) ? NULL : a->note)))
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

/* ---- notes, closing, reopening ---- */

int vt_casework__do_note(const struct vt_domain *dom, struct vt_store_tx *tx,
                         const struct vt_staff *who, struct vt_case_row *r,
                         const struct vt_case_action *a, struct vt_case_result *res)
{
    (void)dom;
    if (blank(a->text))
        return vt_casework__refuse(res, 422, "invalid", "text", "Escriba la nota.");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", a->text);
    return event(tx, r, who, "nota", p, 0);
}

int vt_casework__do_close(const struct vt_domain *dom, struct vt_store_tx *tx,
                          const struct vt_staff *who, struct vt_case_row *r,
                          const struct vt_case_action *a, struct vt_case_result *res)
{
    bool answered = strcmp(r->status, "respondido") == 0;
    if (!answered && blank(a->reason))
        return vt_casework__refuse(
            res, 422, "invalid", "reason",
            "La solicitud no tiene respuesta: escriba por qué se cierra (por ejemplo, "
            "si está duplicada).");
    int rc = vt_casework__db_set_status(tx, r, "cerrado");
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

int vt_casework__do_reopen(const struct vt_domain *dom, struct vt_store_tx *tx,
                           const struct vt_staff *who, struct vt_case_row *r,
                           const struct vt_case_action *a, struct vt_case_result *res)
{
    (void)dom;
    if (blank(a->reason))
        return vt_casework__refuse(res, 422, "invalid", "reason",
                                   "Escriba por qué se reabre la solicitud.");
    char from[24];
    snprintf(from, sizeof(from), "%s", r->status);
    int rc = vt_casework__db_reopen(tx, r->id);
    if (rc || (rc = vt_casework__db_set_status(tx, r, "en_tramite")))
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "from", from);
    cJSON_AddStringToObject(p, "reason", a->reason);
    return event(tx, r, who, "reabierto", p, 1);
}
