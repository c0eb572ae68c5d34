/* delivery.c - the ways an answer may reach its requester, and the letter
 * (delivery.h). Read-side SQL of the delivery endpoint and the letter is here.
 */
#include "domain/delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/error.h"
#include "core/item.h"
#include "core/text.h"
#include "domain/domain.h"
#include "store/db.h"

const char *const vt_delivery_names[] = {"email",    "whatsapp",    "carta",
                                         "consulta", "publicacion", NULL};

const char *vt_delivery_label(const char *name)
{
    static const char *const labels[][2] = {
        {"email", "Correo electrónico"},
        {"whatsapp", "WhatsApp"},
        {"carta", "Carta impresa (correo postal o entrega en persona)"},
        {"consulta", "Página de consulta del ciudadano (con su código)"},
        {"publicacion", "Publicación en la página de respuestas"},
    };
    for (size_t i = 0; name && i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strcmp(labels[i][0], name) == 0)
            return labels[i][1];
    return name ? name : "";
}

/* ---- the plan ---- */

static void set(struct vt_delivery_option *o, bool available, const char *recipient,
                const char *why)
{
    o->available = available;
    o->recipient = available ? recipient : NULL;
    snprintf(o->why, sizeof(o->why), "%s", why);
}

/* email or whatsapp: given, running, and taking the address. */
static void channel_option(struct vt_delivery_option *o, const char *address,
                           vt_delivery_probe probe, void *ctx)
{
    bool mail = strcmp(o->name, "email") == 0;
    if (!address[0]) {
        set(o, false, NULL,
            mail ? "No dio un correo electrónico." : "No dio un número de celular.");
        return;
    }
    int rc = probe ? probe(ctx, o->name, address) : VT_ENOTFOUND;
    if (rc == 0)
        set(o, true, address,
            mail ? "Se envía por correo electrónico a la dirección que dio; queda en cola de envío."
                 : "Se envía por WhatsApp al número que dio; queda en cola de envío.");
    else if (rc == VT_EINVAL)
        set(o, false, NULL,
            mail ? "El correo que dio no es una dirección a la que se pueda enviar."
                 : "El número que dio no sirve para WhatsApp.");
    else
        set(o, false, NULL,
            mail ? "El canal de correo electrónico no está activo en esta entidad: la respuesta no "
                   "se puede enviar por correo."
                 : "El canal de WhatsApp no está activo en esta entidad: la respuesta no se puede "
                   "enviar por WhatsApp.");
}

void vt_delivery_plan(const struct vt_delivery_facts *f, vt_delivery_probe probe, void *ctx,
                      struct vt_delivery_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    for (int i = 0; i < VT_DELIVERY_N; i++)
        plan->opt[i].name = vt_delivery_names[i];
    bool anonymous = strcmp(f->person_type, "anonimo") == 0;
    bool any_address = f->email[0] || f->phone[0] || f->address[0];
    const char *reply = f->reply_channel[0] ? f->reply_channel : "web";

    channel_option(&plan->opt[VT_DELIVERY_EMAIL], f->email, probe, ctx);
    channel_option(&plan->opt[VT_DELIVERY_WHATSAPP], f->phone, probe, ctx);

    struct vt_delivery_option *o = &plan->opt[VT_DELIVERY_CARTA];
    if (f->address[0])
        set(o, true, f->address,
            "Se imprime una carta para enviarla por correo postal a la dirección que dio o "
            "entregarla en persona. Queda pendiente hasta que marque la entrega.");
    else if (!anonymous)
        set(o, true, NULL,
            "Se imprime una carta para entregarla en persona (no dio dirección postal). Queda "
            "pendiente hasta que marque la entrega.");
    else
        set(o, false, NULL,
            "La solicitud es anónima y no dio dirección: no hay a quién dirigir "
            "una carta.");

    o = &plan->opt[VT_DELIVERY_CONSULTA];
    if (anonymous)
        set(o, false, NULL,
            "La solicitud es anónima: la respuesta se publica (artículo 69 del CPACA) y se ve "
            "también en la página de consulta.");
    else if (strcmp(reply, "web") == 0)
        set(o, true, NULL,
            "No se envía ningún mensaje: como pidió, el ciudadano ve la respuesta en la página de "
            "consulta con su radicado y su código. No se publica.");
    else if (!any_address)
        set(o, true, NULL,
            "No dio cómo contactarle: ve la respuesta en la página de consulta con su radicado y "
            "su código. No se envía ningún mensaje ni se publica.");
    else
        set(o, false, NULL,
            "Pidió que le hicieran llegar la respuesta: dejarla solo en la página de consulta no "
            "se la entrega.");

    o = &plan->opt[VT_DELIVERY_PUBLICACION];
    if (anonymous)
        set(o, true, NULL,
            "Solicitud anónima: la respuesta se publica en la página de respuestas y en la "
            "consulta del radicado (artículo 69 del CPACA). No escriba datos personales en ella.");
    else
        set(o, false, NULL,
            "No se publica: quien presentó la solicitud se identificó. Solo se publican las "
            "respuestas a solicitudes anónimas.");

    int req = strcmp(reply, "email") == 0      ? VT_DELIVERY_EMAIL
              : strcmp(reply, "whatsapp") == 0 ? VT_DELIVERY_WHATSAPP
              : strcmp(reply, "postal") == 0   ? VT_DELIVERY_CARTA
              : anonymous                      ? VT_DELIVERY_PUBLICACION
                                               : VT_DELIVERY_CONSULTA;
    plan->requested = req;
    plan->opt[req].requested = true;
    /* When the way asked for cannot be used: published for an anonymous
     * requester, a letter for anyone who gave their name; never silently. */
    plan->dflt = plan->opt[req].available                 ? req
                 : anonymous                              ? VT_DELIVERY_PUBLICACION
                 : plan->opt[VT_DELIVERY_CARTA].available ? VT_DELIVERY_CARTA
                                                          : -1;
}

int vt_delivery_probe_domain(void *dom, const char *channel, const char *recipient)
{
    return vt_domain_can_notify(dom, channel, recipient);
}

const struct vt_delivery_option *vt_delivery_find(const struct vt_delivery_plan *plan,
                                                  const char *name)
{
    for (int i = 0; name && i < VT_DELIVERY_N; i++)
        if (strcmp(plan->opt[i].name, name) == 0)
            return &plan->opt[i];
    return NULL;
}

/* ---- what staff read ---- */

static const char SQL_FACTS[] =
    "SELECT i.id, i.dependencia, COALESCE(i.reply_channel, ''), i.identity_reserved, "
    "COALESCE(r.person_type, 'anonimo'), COALESCE(r.email, ''), COALESCE(r.phone, ''), "
    "COALESCE(r.address, ''), COALESCE(r.name, ''), COALESCE(r.municipality, '') "
    "FROM items i LEFT JOIN requesters r ON r.item_id = i.id WHERE i.radicado = ?1";

struct facts_row {
    int64_t id;
    bool reserved;
    char reply[16], person_type[16], email[256], phone[48], address[320], name[224], town[112];
    struct vt_delivery_facts f;
};

/* The item's facts if it exists and is in who's scope: 0, VT_ENOTFOUND, VT_ESTORE. */
static int load_facts(const struct vt_domain *dom, struct vt_store_reader *r,
                      const struct vt_staff *who, const char *radicado, struct facts_row *out)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_FACTS);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, radicado);
    int rc = VT_ENOTFOUND;
    if (vt_db_step(st) == VT_DB_ROW && vt_staff_in_scope(dom->cfg, who, vt_db_col_text(st, 1))) {
        out->id = vt_db_col_int(st, 0);
        vt_db_col_copy(st, 2, out->reply, sizeof(out->reply));
        out->reserved = vt_db_col_int(st, 3) != 0;
        vt_db_col_copy(st, 4, out->person_type, sizeof(out->person_type));
        vt_db_col_copy(st, 5, out->email, sizeof(out->email));
        vt_db_col_copy(st, 6, out->phone, sizeof(out->phone));
        vt_db_col_copy(st, 7, out->address, sizeof(out->address));
        vt_db_col_copy(st, 8, out->name, sizeof(out->name));
        vt_db_col_copy(st, 9, out->town, sizeof(out->town));
        out->f = (struct vt_delivery_facts){out->person_type, out->reply, out->email, out->phone,
                                            out->address};
        rc = 0;
    }
    vt_db_reset(st);
    return rc;
}

int vt_delivery_get(const struct vt_domain *dom, struct vt_store_reader *r,
                    const struct vt_staff *who, const char *radicado, cJSON **out)
{
    struct facts_row *fr = calloc(1, sizeof(*fr));
    if (!fr)
        return VT_ESTORE;
    int rc = load_facts(dom, r, who, radicado, fr);
    if (rc) {
        free(fr);
        return rc;
    }
    const struct vt_config *cfg = dom->cfg;
    bool sees = vt_staff_sees_identity(cfg, who, fr->reserved);
    struct vt_delivery_plan plan;
    vt_delivery_plan(&fr->f, vt_delivery_probe_domain, (void *)dom, &plan);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "radicado", radicado);
    cJSON_AddStringToObject(o, "reply_channel", fr->reply[0] ? fr->reply : "web");
    cJSON_AddStringToObject(o, "requested", plan.opt[plan.requested].name);
    if (plan.dflt >= 0)
        cJSON_AddStringToObject(o, "default", plan.opt[plan.dflt].name);
    else
        cJSON_AddNullToObject(o, "default");
    cJSON_AddBoolToObject(o, "identity_visible", sees);
    cJSON *arr = cJSON_AddArrayToObject(o, "options");
    for (int i = 0; i < VT_DELIVERY_N; i++) {
        const struct vt_delivery_option *p = &plan.opt[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "delivery", p->name);
        cJSON_AddStringToObject(e, "label", vt_delivery_label(p->name));
        cJSON_AddBoolToObject(e, "available", p->available);
        cJSON_AddBoolToObject(e, "requested", p->requested);
        cJSON_AddStringToObject(e, "explanation", p->why);
        /* The address only for those who may see who the requester is. */
        if (sees && p->recipient) {
            char addr[480];
            if (i == VT_DELIVERY_CARTA && fr->town[0])
                snprintf(addr, sizeof(addr), "%s, %s", p->recipient, fr->town);
            else
                snprintf(addr, sizeof(addr), "%s", p->recipient);
            cJSON_AddStringToObject(e, "address", addr);
        } else {
            cJSON_AddNullToObject(e, "address");
        }
        cJSON_AddItemToArray(arr, e);
    }
    /* One sentence for the answer form. */
    const struct vt_delivery_option *req = &plan.opt[plan.requested];
    char summary[1200];
    if (plan.dflt == plan.requested)
        snprintf(summary, sizeof(summary), "%s", req->why);
    else if (plan.dflt >= 0)
        snprintf(summary, sizeof(summary), "Pidió la respuesta por %s, pero: %s %s",
                 vt_delivery_label(req->name), req->why, plan.opt[plan.dflt].why);
    else
        snprintf(summary, sizeof(summary),
                 "Pidió la respuesta por %s, pero: %s Elija otra forma de entrega.",
                 vt_delivery_label(req->name), req->why);
    cJSON_AddStringToObject(o, "summary", summary);
    free(fr);
    *out = o;
    return 0;
}

/* ---- the letter ---- */

static const char SQL_LETTER[] =
    "SELECT r.text, r.at FROM responses r WHERE r.id = ?1 AND r.item_id = ?2";
/* In the order they were attached: SQLite reads them through the
 * response_files_response index, whose equal keys are in insertion (rowid)
 * order. The table has no id column to order by in SQL both databases
 * accept (the schema is not changed here). */
static const char SQL_LETTER_FILES[] = "SELECT filename FROM response_files WHERE response_id = ?1";

static void esc(struct vt_buf *b, const char *s)
{
    vt_html_escape(b, s ? s : "");
}

int vt_delivery_letter(const struct vt_domain *dom, struct vt_store_reader *r,
                       const struct vt_staff *who, const char *radicado, int64_t response_id,
                       struct vt_buf *b)
{
    static const char *const months[] = {"enero",      "febrero", "marzo",     "abril",
                                         "mayo",       "junio",   "julio",     "agosto",
                                         "septiembre", "octubre", "noviembre", "diciembre"};
    const struct vt_config *cfg = dom->cfg;
    struct facts_row *fr = calloc(1, sizeof(*fr));
    if (!fr)
        return VT_ESTORE;
    int rc = load_facts(dom, r, who, radicado, fr);
    if (rc)
        goto done;
    /* A letter names the requester: only for those who may see who it is. */
    rc = VT_EPERM;
    if (!vt_staff_sees_identity(cfg, who, fr->reserved))
        goto done;
    rc = VT_ESTORE;
    struct vt_db *db = vt_store_reader_db(r);
    struct vt_db_stmt *st = vt_db_prepare(db, SQL_LETTER);
    struct vt_db_stmt *files = vt_db_prepare(db, SQL_LETTER_FILES);
    if (!st || !files)
        goto done;
    vt_db_bind_int(st, 1, response_id);
    vt_db_bind_int(st, 2, fr->id);
    rc = VT_ENOTFOUND;
    if (vt_db_step(st) != VT_DB_ROW) {
        vt_db_reset(st);
        goto done;
    }
    vt_date_t day = vt_date_from_unix_ms(vt_db_col_int(st, 1));
    bool anonymous = strcmp(fr->person_type, "anonimo") == 0;
    vt_buf_puts(b, "<!doctype html>\n<html lang=\"es-CO\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>Carta de respuesta ");
    esc(b, radicado);
    vt_buf_puts(b,
                "</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" "
                "href=\"/static/style.css\"><link rel=\"stylesheet\" "
                "href=\"/static/staff.css\"></head><body class=\"carta\"><main "
                "class=\"carta\" id=\"carta\"><p class=\"carta-aviso\">Imprima esta carta con "
                "la opción Imprimir del navegador. Después de entregarla o enviarla por correo "
                "postal, márquela como entregada en la solicitud.</p><p class=\"carta-entidad\">");
    esc(b, cfg->entity_name);
    vt_buf_printf(b, "</p><p class=\"carta-fecha\">%d de %s de %d</p>", day.day,
                  months[(day.month - 1) % 12], day.year);
    vt_buf_puts(b, "<p class=\"carta-destinatario\" id=\"carta-destinatario\">");
    if (anonymous || !fr->name[0]) {
        vt_buf_puts(b, "Ciudadano o ciudadana");
    } else {
        vt_buf_puts(b, "Señor(a)<br>");
        esc(b, fr->name);
    }
    if (fr->address[0]) {
        vt_buf_puts(b, "<br>");
        esc(b, fr->address);
    }
    if (fr->town[0]) {
        vt_buf_puts(b, "<br>");
        esc(b, fr->town);
    }
    vt_buf_puts(b, "</p><p class=\"carta-asunto\"><strong>Asunto:</strong> Respuesta a su "
                   "solicitud con radicado ");
    esc(b, radicado);
    vt_buf_puts(b, "</p><div class=\"carta-texto\" id=\"carta-texto\">");
    esc(b, vt_db_col_text(st, 0));
    vt_buf_puts(b, "</div>");
    vt_db_reset(st);
    vt_db_bind_int(files, 1, response_id);
    bool any = false;
    while (vt_db_step(files) == VT_DB_ROW) {
        vt_buf_puts(b, any ? "</li><li>" : "<p class=\"carta-anexos\">Anexos:</p><ul><li>");
        esc(b, vt_db_col_text(files, 0));
        any = true;
    }
    vt_db_reset(files);
    if (any)
        vt_buf_puts(b, "</li></ul>");
    vt_buf_puts(b, "<p class=\"carta-firma\">Atentamente,</p><p>");
    esc(b, cfg->entity_name);
    vt_buf_puts(b, "</p><p class=\"carta-recibido\">Recibí: ______________________________ "
                   "Fecha: ______________</p></main></body></html>\n");
    rc = 0;
done:
    free(fr);
    return rc;
}
