/* conversation.c - the WhatsApp conversation (conversation.h). */
#include "channels/whatsapp/conversation.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channels/whatsapp/db.h"
#include "channels/whatsapp/messages.h"
#include "src/casework.h"
#include "src/calendar.h"
#include "src/classify.h"
#include "src/error.h"
#include "src/outbox.h"
#include "src/text.h"

/* One message being handled: the event, its sender's conversation and what
 * the handler decided. */
struct turn {
    struct vt_store_tx *tx;
    struct vt_wa_apply *a;
    const struct vt_wa_event *ev;
    struct vt_wa_conv conv;
    cJSON *draft;
    char state[32];
    char phone[40]; /* "+" wa_id, as the requester's phone */
    char fold[256]; /* the text folded for keyword matching */
};

/* ---- small helpers ---- */

static const char *dstr(const cJSON *d, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void dset(cJSON *d, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(d, k);
    if (v)
        cJSON_AddStringToObject(d, k, v);
}

static void set_state(struct turn *t, const char *s)
{
    snprintf(t->state, sizeof(t->state), "%s", s);
}

static void clear_draft(struct turn *t)
{
    cJSON_Delete(t->draft);
    t->draft = cJSON_CreateObject();
}

/* Queues body (owned, freed here) for the sender. */
static int send_body(struct turn *t, const char *kind, char *body, int64_t item_id,
                     const char *params, const char *secret, const char *fallback)
{
    if (!body)
        return VT_ENOMEM;
    struct vt_outbound m = {item_id, "whatsapp", t->ev->from, kind, body,
                            params,  secret,     fallback,    0};
    int rc = vt_outbox_add(t->tx, &m);
    free(body);
    return rc;
}

static int say(struct turn *t, const char *text)
{
    return send_body(t, "prompt", vt_wa_msg_text(text), 0, NULL, NULL, NULL);
}

static int buttons(struct turn *t, const char *text, const struct vt_wa_choice *c, size_t n)
{
    return send_body(t, "prompt", vt_wa_msg_buttons(text, c, n), 0, NULL, NULL, NULL);
}

static bool is_reply(const struct turn *t, const char *id)
{
    return strcmp(t->ev->reply_id, id) == 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static const char *type_label_lower(const char *type)
{
    static const struct {
        const char *code, *label;
    } l[] = {{"peticion", "petición"},        {"queja", "queja"},
             {"reclamo", "reclamo"},          {"sugerencia", "sugerencia"},
             {"denuncia", "denuncia"},        {"felicitacion", "felicitación"},
             {"hearing_question", "pregunta"}};
    for (size_t i = 0; type && i < sizeof(l) / sizeof(l[0]); i++)
        if (strcmp(l[i].code, type) == 0)
            return l[i].label;
    return "solicitud";
}

/* ---- the menus ---- */

static const struct vt_wa_choice main_menu[] = {
    {"menu.pqrsd", "Radicar una PQRSD", "Petición, queja, reclamo, sugerencia o denuncia"},
    {"menu.status", "Consultar un trámite", "Estado de una solicitud ya radicada"},
    {"menu.hearing", "Audiencia pública", "Enviar una pregunta para la rendición de cuentas"},
    {"menu.survey", "Encuesta", "Contarnos cómo lo atendimos"},
};

static int show_menu(struct turn *t, bool welcome)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "%s%s%s¿Qué quiere hacer? Toque *Ver opciones* y elija una.\n\nEn cualquier momento "
             "puede escribir *menú* para volver aquí o *cancelar* para empezar de nuevo.",
             welcome ? "Hola, le damos la bienvenida al canal de atención al ciudadano de " : "",
             welcome ? t->a->cfg->entity_name : "", welcome ? ".\n\n" : "");
    set_state(t, "menu");
    return send_body(t, "prompt", vt_wa_msg_list(text, "Ver opciones", main_menu, 4), 0, NULL, NULL,
                     NULL);
}

static const struct vt_wa_choice type_menu[] = {
    {"type.peticion", "Petición", "Pedir algo a la entidad (15 días hábiles)"},
    {"type.peticion.documentos", "Pedir documentos", "Copias o información (10 días hábiles)"},
    {"type.peticion.consulta", "Consulta", "Una opinión o concepto (30 días hábiles)"},
    {"type.queja", "Queja", "Por la conducta de un servidor público"},
    {"type.reclamo", "Reclamo", "Por un servicio mal prestado o un derecho"},
    {"type.sugerencia", "Sugerencia", "Una propuesta para mejorar"},
    {"type.denuncia", "Denuncia", "Una conducta irregular o de corrupción"},
    {"type.felicitacion", "Felicitación", "Reconocer un buen servicio"},
};

static int ask_type(struct turn *t)
{
    set_state(t, "pqrsd.type");
    return send_body(t, "prompt",
                     vt_wa_msg_list("¿Qué tipo de solicitud quiere radicar?", "Elegir tipo",
                                    type_menu, sizeof(type_menu) / sizeof(type_menu[0])),
                     0, NULL, NULL, NULL);
}

static int ask_description(struct turn *t)
{
    char text[300];
    snprintf(text, sizeof(text),
             "Escriba su %s en un mensaje: qué pasó o qué necesita, dónde y cuándo.",
             type_label_lower(dstr(t->draft, "type")));
    set_state(t, "pqrsd.description");
    return say(t, text);
}

static const struct vt_wa_choice att_buttons[] = {{"att.done", "Continuar", NULL},
                                                  {"flow.cancel", "Cancelar", NULL}};

static int ask_attachments(struct turn *t, const char *lead)
{
    char text[500];
    snprintf(
        text, sizeof(text),
        "%s¿Quiere adjuntar fotos, audios o documentos? Envíelos ahora, uno por mensaje (hasta "
        "%d). Cuando termine, o si no tiene, toque *Continuar*.",
        lead ? lead : "", t->a->cfg->attachment_max_count);
    set_state(t, "pqrsd.attachments");
    return buttons(t, text, att_buttons, 2);
}

static int ask_identity(struct turn *t)
{
    static const struct vt_wa_choice c[] = {{"id.named", "Con mis datos", NULL},
                                            {"id.anon", "Anónima", NULL},
                                            {"flow.cancel", "Cancelar", NULL}};
    set_state(t, "pqrsd.identity");
    return buttons(t,
                   "¿Quiere radicar con su nombre y documento, o de forma anónima?\n\nSi es "
                   "anónima, no le pediremos datos; la respuesta se publica en la página de la "
                   "entidad y también le llegará por este chat.",
                   c, 3);
}

static int ask_consent(struct turn *t)
{
    static const struct vt_wa_choice c[] = {{"consent.yes", "Sí, autorizo", NULL},
                                            {"consent.no", "No autorizo", NULL},
                                            {"flow.cancel", "Cancelar", NULL}};
    char text[VT_WA_BODY_MAX * 4];
    const char *name = dstr(t->draft, "name");
    snprintf(text, sizeof(text),
             "Aviso de tratamiento de datos personales (Ley 1581 de 2012): %s es responsable de "
             "sus datos (%s%s). Los usaremos solo para tramitar y responder "
             "esta solicitud y para medir la calidad del servicio. Los datos sensibles y los de "
             "niñas, niños y adolescentes son opcionales. Usted puede conocer, actualizar, "
             "rectificar y pedir que se supriman sus datos.\n\n¿Autoriza el tratamiento de sus "
             "datos? Con cualquiera de las dos respuestas radicamos su solicitud.",
             t->a->cfg->entity_name,
             !name                     ? "solo su número de WhatsApp"
             : dstr(t->draft, "email") ? "nombre, documento, número de WhatsApp y correo"
                                       : "nombre, documento y número de WhatsApp",
             "");
    set_state(t, "pqrsd.consent");
    return buttons(t, text, c, 3);
}

/* ---- filing ---- */

static char *summary_subject(const char *type, const char *desc)
{
    char cut[300], out[400];
    vt_wa_cut(desc, 80, cut, sizeof(cut));
    for (char *p = cut; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    snprintf(out, sizeof(out), "%s por WhatsApp: %s", vt_item_label(type), cut);
    return strdup(out);
}

static int file_pqrsd(struct turn *t, bool consent)
{
    const struct vt_config *cfg = t->a->cfg;
    const char *type = vt_item_enum(vt_item_types, dstr(t->draft, "type"));
    const char *desc = dstr(t->draft, "description");
    if (!type || !desc)
        return ask_type(t); /* a draft from before a crash or an edit: start again */
    struct vt_item *it = vt_item_new();
    if (!it)
        return VT_ENOMEM;
    struct vt_item **items = realloc(t->a->items, (t->a->n_items + 1) * sizeof(*items));
    if (!items) {
        vt_item_free(it);
        return VT_ENOMEM;
    }
    t->a->items = items;
    items[t->a->n_items++] = it; /* freed with the job, committed or not */

    bool anon = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->draft, "anon"));
    it->kind = "pqrsd";
    it->type = type;
    it->petition_class = strcmp(type, "peticion") == 0
                             ? (vt_item_enum(vt_item_classes, dstr(t->draft, "class")) ?: "general")
                             : NULL;
    it->channel = "whatsapp";
    it->reply_channel = "whatsapp";
    it->status = "radicado";
    it->subject = summary_subject(type, desc);
    it->body = strdup(desc);
    it->req.person_type = anon ? "anonimo" : "natural";
    if (!anon) {
        const char *v;
        if ((v = dstr(t->draft, "name")))
            it->req.name = strdup(v);
        if ((v = vt_item_enum(vt_item_id_types, dstr(t->draft, "id_type"))))
            it->req.id_type = strdup(v);
        if ((v = dstr(t->draft, "id_number")))
            it->req.id_number = strdup(v);
        if ((v = dstr(t->draft, "email")))
            it->req.email = strdup(v);
    }
    it->req.phone = strdup(t->phone);
    it->req.data_consent = consent;
    if (t->ev->profile_name[0]) {
        cJSON *ch = cJSON_CreateObject();
        cJSON_AddStringToObject(ch, "channel_used", "whatsapp");
        it->req.characterization = cJSON_PrintUnformatted(ch);
        cJSON_Delete(ch);
    }
    if (!it->subject || !it->body || !it->req.phone)
        return VT_ENOMEM;
    it->term_days = vt_item_term_days(cfg, it->kind, it->type, it->petition_class);
    vt_item_new_tracking_code(it);

    struct vt_classify_input in = {NULL,          it->req.person_type, it->req.email,
                                   it->req.phone, it->req.id_number,   it->subject,
                                   it->body};
    struct vt_classification cl;
    int rc = vt_classify(&cfg->rules, vt_store_tx_contact_lookup, t->tx, &in, &cl);
    if (rc)
        return rc;
    snprintf(it->group, sizeof(it->group), "%s", cl.group);
    snprintf(it->classified_by, sizeof(it->classified_by), "%s", cl.rule);
    if ((rc = vt_store_tx_item_insert(t->tx, it)))
        return rc;

    /* Media sent during the draft belong to the item now. */
    int attached = 0;
    if ((rc = vt_wa_db_media_link(t->tx, t->ev->from, NULL, it->id)) ||
        (rc = vt_wa_db_media_attach_ready(t->tx, it->id, &attached)))
        return rc;

    char received[32], due[16] = "", text[1200], params[300];
    vt_time_format_es(it->received_at, received);
    if (it->due_date[0])
        vt_date_format_es(it->due_date, due);
    char term[200];
    if (it->due_date[0])
        snprintf(term, sizeof(term), "Fecha límite de respuesta: %s (%d días hábiles)", due,
                 it->term_days);
    else
        snprintf(term, sizeof(term), "Las felicitaciones no tienen plazo de respuesta");
    snprintf(text, sizeof(text),
             "Radicamos su %s.\n\nRadicado: *%s*\nFecha de recibo: %s\n%s\nCódigo de "
             "seguimiento: *{codigo}*\n\nGuarde el radicado y el código: con ellos puede "
             "consultar el estado aquí (escriba *menú* y elija *Consultar un trámite*) o en la "
             "página de la entidad. Le responderemos por este chat.",
             type_label_lower(type), it->radicado, received, term);
    /* The same acknowledgement for an email copy, without chat instructions. */
    char mail[1200];
    snprintf(mail, sizeof(mail),
             "%s recibió su %s enviada por WhatsApp.\n\nRadicado: %s\nFecha de recibo: %s\n%s\n"
             "Código de seguimiento: {codigo}\n\nGuarde el radicado y el código: con ellos puede "
             "consultar el estado de su solicitud en la página de la entidad.",
             cfg->entity_name, type_label_lower(type), it->radicado, received, term);
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateString(it->radicado));
    cJSON_AddItemToArray(p, cJSON_CreateString(due[0] ? due : "sin plazo"));
    cJSON_AddItemToArray(p, cJSON_CreateString("{codigo}"));
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    snprintf(params, sizeof(params), "%s", ps ? ps : "[]");
    free(ps);
    rc = send_body(t, "ack", vt_wa_msg_text(text), it->id, params, it->tracking_code, mail);
    if (rc)
        return rc;
    clear_draft(t);
    set_state(t, "idle");
    return 0;
}

/* ---- status ---- */

static int status_reply(struct turn *t, const struct vt_wa_item *w)
{
    char text[700], received[32], due[16] = "";
    vt_time_format_es(w->received_at, received);
    if (w->due_date[0])
        vt_date_format_es(w->due_date, due);
    snprintf(text, sizeof(text),
             "Trámite *%s*\nTipo: %s\nRecibido: %s\nEstado: %s%s%s\n\nEscriba *menú* para volver "
             "a las opciones.",
             w->radicado, vt_item_label(w->type), received, vt_item_label(w->status),
             due[0] ? "\nFecha límite de respuesta: " : "", due);
    set_state(t, "idle");
    return say(t, text);
}

static int show_status_menu(struct turn *t)
{
    struct vt_wa_item own[9];
    size_t n = 0;
    int rc = vt_wa_db_open_items(t->tx, t->phone, own, 9, &n);
    if (rc)
        return rc;
    set_state(t, "status");
    char ask[300];
    snprintf(ask, sizeof(ask),
             "Escriba el radicado y el código de seguimiento separados por un espacio, por "
             "ejemplo: %s%s2026-000123 ABCD2345EF",
             t->a->cfg->radicado_prefix, t->a->cfg->radicado_prefix[0] ? "-" : "");
    if (n == 0)
        return say(t, ask);
    struct vt_wa_choice c[9];
    char ids[9][80], titles[9][48], desc[9][200];
    for (size_t i = 0; i < n; i++) {
        char when[32];
        vt_time_format_es(own[i].received_at, when);
        snprintf(ids[i], sizeof(ids[i]), "status.item.%s", own[i].radicado);
        /* A row title holds 24 characters: the year and number always fit and
         * tell items apart; the whole radicado goes in the description. */
        size_t rl = strlen(own[i].radicado);
        snprintf(titles[i], sizeof(titles[i]), "%s",
                 rl > 24 ? own[i].radicado + rl - 24 : own[i].radicado);
        snprintf(desc[i], sizeof(desc[i]), "%s%s%s, %.10s: %s", rl > 24 ? own[i].radicado : "",
                 rl > 24 ? " - " : "", vt_item_label(own[i].type), when,
                 vt_item_label(own[i].status));
        c[i] = (struct vt_wa_choice){ids[i], titles[i], desc[i]};
    }
    char text[700];
    snprintf(text, sizeof(text),
             "Tiene %zu trámite%s abierto%s desde este número. Toque *Ver trámites* para elegir "
             "uno.\n\nPara otro trámite: %s",
             n, n == 1 ? "" : "s", n == 1 ? "" : "s", ask);
    return send_body(t, "prompt", vt_wa_msg_list(text, "Ver trámites", c, n), 0, NULL, NULL, NULL);
}

/* "2026-000123 ABCD2345EF" (any spacing, optional prefix) -> radicado, code. */
static bool parse_track(const char *s, char *rad, size_t radlen, char *code, size_t codelen)
{
    char buf[200];
    vt_wa_cut(s, sizeof(buf), buf, sizeof(buf));
    char *save = NULL, *a = strtok_r(buf, " \t\n,;", &save), *b = strtok_r(NULL, " \t\n,;", &save);
    if (!a || !b || strtok_r(NULL, " \t\n,;", &save) || !strchr(a, '-') || strlen(a) >= radlen ||
        strlen(b) >= codelen)
        return false;
    for (char *p = a; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(rad, radlen, "%s", a);
    snprintf(code, codelen, "%s", b);
    return true;
}

static int on_status(struct turn *t)
{
    if (has_prefix(t->ev->reply_id, "status.item.")) {
        struct vt_wa_item w;
        int rc = vt_wa_db_own_item(t->tx, t->phone, t->ev->reply_id + 12, &w);
        if (rc == 0)
            return status_reply(t, &w);
        if (rc != VT_ENOTFOUND)
            return rc;
    }
    char rad[48], code[64];
    if (t->ev->type == VT_WA_MSG_TEXT &&
        parse_track(t->ev->text, rad, sizeof(rad), code, sizeof(code))) {
        unsigned char hash[32];
        vt_item_tracking_hash(code, hash);
        struct vt_wa_item w;
        int rc = vt_wa_db_track(t->tx, rad, hash, &w);
        if (rc == 0)
            return status_reply(t, &w);
        if (rc != VT_ENOTFOUND)
            return rc;
    }
    return say(t, "No encontramos un trámite con ese radicado y código. Revíselos e intente de "
                  "nuevo (por ejemplo: 2026-000123 ABCD2345EF), o escriba *menú*.");
}

/* ---- adding to an open item ---- */

static int offer_add(struct turn *t, const struct vt_wa_item *w)
{
    static const struct vt_wa_choice c[] = {{"item.add", "Sí, agregarlo", NULL},
                                            {"menu.open", "Ver el menú", NULL}};
    char text[500], when[32];
    vt_time_format_es(w->received_at, when);
    snprintf(text, sizeof(text),
             "Tiene abierto el trámite *%s* (%s, recibido el %.10s). ¿Quiere agregar este "
             "mensaje a ese trámite?",
             w->radicado, type_label_lower(w->type), when);
    dset(t->draft, "pending_item", w->radicado);
    dset(t->draft, "pending_wamid", t->ev->id);
    dset(t->draft, "pending_text",
         t->ev->text[0] ? t->ev->text : (t->ev->media_id[0] ? "(archivo adjunto)" : ""));
    set_state(t, "offer");
    return buttons(t, text, c, 2);
}

static int accept_add(struct turn *t)
{
    const char *rad = dstr(t->draft, "pending_item");
    struct vt_wa_item w;
    int rc = rad ? vt_wa_db_own_item(t->tx, t->phone, rad, &w) : VT_ENOTFOUND;
    if (rc == VT_ENOTFOUND) {
        clear_draft(t);
        return show_menu(t, false);
    }
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "channel", "whatsapp");
    cJSON_AddStringToObject(p, "wamid", dstr(t->draft, "pending_wamid") ?: "");
    cJSON_AddStringToObject(p, "text", dstr(t->draft, "pending_text") ?: "");
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!ps)
        return VT_ENOMEM;
    rc = vt_store_tx_event(t->tx, w.id, "ciudadano:whatsapp", "mensaje_ciudadano", ps, 0);
    free(ps);
    if (rc == 0 && t->a->srv) /* an item waiting for completion takes up its term again */
        rc = vt_casework_citizen_replied(t->a->srv, t->tx, w.id);
    int attached = 0;
    const char *wamid = dstr(t->draft, "pending_wamid");
    if (rc == 0 && wamid)
        rc = vt_wa_db_media_link(t->tx, t->ev->from, wamid, w.id);
    if (rc == 0)
        rc = vt_wa_db_media_attach_ready(t->tx, w.id, &attached);
    if (rc)
        return rc;
    char text[300];
    snprintf(text, sizeof(text),
             "Agregamos su mensaje al trámite *%s*. Le avisaremos por aquí cuando haya respuesta.",
             w.radicado);
    clear_draft(t);
    set_state(t, "idle");
    return say(t, text);
}

/* ---- the states ---- */

static bool is_media(const struct vt_wa_event *ev)
{
    return ev->type >= VT_WA_MSG_IMAGE && ev->type <= VT_WA_MSG_STICKER;
}

static int on_menu(struct turn *t)
{
    const char *id = t->ev->reply_id;
    const char *f = t->fold;
    if (strcmp(id, "menu.pqrsd") == 0 || strcmp(f, "1") == 0) {
        clear_draft(t);
        int rc = vt_wa_db_media_discard(t->tx, t->ev->from);
        return rc ? rc : ask_type(t);
    }
    if (strcmp(id, "menu.status") == 0 || strcmp(f, "2") == 0)
        return show_status_menu(t);
    if (strcmp(id, "menu.hearing") == 0 || strcmp(f, "3") == 0) {
        set_state(t, "idle");
        return say(t, "Por ahora no hay una audiencia pública abierta para recibir preguntas. "
                      "Cuando la entidad la convoque, podrá enviar su pregunta por aquí. Escriba "
                      "*menú* para ver las demás opciones.");
    }
    if (strcmp(id, "menu.survey") == 0 || strcmp(f, "4") == 0) {
        set_state(t, "idle");
        return say(t, "Por ahora no hay una encuesta abierta. Cuando respondamos una de sus "
                      "solicitudes le invitaremos a contarnos cómo lo atendimos. Escriba *menú* "
                      "para ver las demás opciones.");
    }
    return show_menu(t, false);
}

static int on_type(struct turn *t)
{
    const char *id = t->ev->reply_id;
    const char *type = NULL, *klass = NULL;
    if (has_prefix(id, "type.")) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", id + 5);
        char *dot = strchr(buf, '.');
        if (dot)
            *dot++ = '\0';
        type = vt_item_enum(vt_item_types, buf);
        klass = dot ? vt_item_enum(vt_item_classes, dot) : NULL;
    } else if (t->ev->type == VT_WA_MSG_TEXT) {
        /* A typed type name: "queja", "Petición". */
        for (const char *const *p = vt_item_types; *p; p++)
            if (strcmp(t->fold, *p) == 0)
                type = *p;
    }
    if (!type)
        return ask_type(t);
    dset(t->draft, "type", type);
    dset(t->draft, "class", strcmp(type, "peticion") == 0 ? (klass ? klass : "general") : NULL);
    return ask_description(t);
}

static int add_media(struct turn *t, bool *full)
{
    int n = 0, rc = vt_wa_db_media_unfiled(t->tx, t->ev->from, &n);
    *full = rc == 0 && n >= t->a->cfg->attachment_max_count;
    if (rc || *full)
        return rc;
    if ((rc = vt_wa_db_media_add(t->tx, t->ev)) == 0)
        t->a->media_added = true;
    return rc;
}

static int append_description(struct turn *t, const char *more)
{
    const char *cur = dstr(t->draft, "description");
    size_t max = (size_t)t->a->cfg->max_body_chars;
    size_t n = (cur ? strlen(cur) + 1 : 0) + strlen(more) + 1;
    char *s = malloc(n);
    if (!s)
        return VT_ENOMEM;
    snprintf(s, n, "%s%s%s", cur ? cur : "", cur ? "\n" : "", more);
    if (vt_utf8_chars(s, strlen(s)) > max) {
        free(s);
        return 1; /* too long: not an error of ours */
    }
    dset(t->draft, "description", s);
    free(s);
    return 0;
}

static void location_text(const struct vt_wa_event *ev, char *out, size_t n)
{
    char place[512];
    vt_wa_cut(ev->text, sizeof(place), place, sizeof(place));
    snprintf(out, n, "Ubicación: %.6f, %.6f%s%s", ev->latitude, ev->longitude,
             place[0] ? " - " : "", place);
}

static int on_description(struct turn *t)
{
    if (t->ev->type == VT_WA_MSG_TEXT) {
        char trimmed[VT_WA_TEXT_MAX];
        snprintf(trimmed, sizeof(trimmed), "%s", t->ev->text);
        size_t len = strlen(trimmed);
        while (len && isspace((unsigned char)trimmed[len - 1]))
            trimmed[--len] = '\0';
        if (len < 3)
            return say(t, "La descripción es muy corta. Cuéntenos en un mensaje qué pasó o qué "
                          "necesita.");
        int rc = append_description(t, trimmed);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            char text[200];
            snprintf(text, sizeof(text),
                     "La descripción pasa de %d caracteres. Escríbala más corta, en un solo "
                     "mensaje.",
                     t->a->cfg->max_body_chars);
            return say(t, text);
        }
        return ask_attachments(t, NULL);
    }
    if (is_media(t->ev)) {
        bool full;
        int rc = add_media(t, &full);
        if (rc)
            return rc;
        return say(t, "Recibimos el archivo. Ahora escriba en un mensaje la descripción de su "
                      "solicitud.");
    }
    return ask_description(t);
}

static int on_attachments(struct turn *t)
{
    if (is_reply(t, "att.done"))
        return ask_identity(t);
    if (is_media(t->ev)) {
        bool full;
        int rc = add_media(t, &full);
        if (rc)
            return rc;
        if (full) {
            char text[200];
            snprintf(text, sizeof(text),
                     "Ya tiene %d archivos, el máximo. No guardamos este último. ",
                     t->a->cfg->attachment_max_count);
            return ask_attachments(t, text);
        }
        return ask_attachments(t, "Archivo recibido. ");
    }
    if (t->ev->type == VT_WA_MSG_LOCATION || t->ev->type == VT_WA_MSG_TEXT) {
        char loc[VT_WA_TEXT_MAX + 64];
        if (t->ev->type == VT_WA_MSG_LOCATION)
            location_text(t->ev, loc, sizeof(loc));
        else
            snprintf(loc, sizeof(loc), "%s", t->ev->text);
        int rc = append_description(t, loc);
        if (rc < 0)
            return rc;
        return ask_attachments(t, rc ? "La descripción ya está en el máximo de caracteres. "
                                     : "Agregamos eso a la descripción. ");
    }
    return ask_attachments(t, NULL);
}

static int on_identity(struct turn *t)
{
    if (is_reply(t, "id.named") || strcmp(t->fold, "con mis datos") == 0) {
        dset(t->draft, "anon", NULL);
        set_state(t, "pqrsd.name");
        return say(t, "Escriba su nombre completo.");
    }
    if (is_reply(t, "id.anon") || strcmp(t->fold, "anonima") == 0 ||
        strcmp(t->fold, "anonimo") == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->draft, "anon");
        cJSON_AddTrueToObject(t->draft, "anon");
        return ask_consent(t);
    }
    return ask_identity(t);
}

static int on_name(struct turn *t)
{
    size_t chars = vt_utf8_chars(t->ev->text, strlen(t->ev->text));
    if (t->ev->type != VT_WA_MSG_TEXT || chars < 3 || chars > 120)
        return say(t, "Escriba su nombre completo (entre 3 y 120 caracteres).");
    dset(t->draft, "name", t->ev->text);
    set_state(t, "pqrsd.id");
    return say(t, "Escriba su tipo y número de documento, por ejemplo: *CC 1020304050*. Tipos: "
                  "CC, CE, TI, RC, PA, PPT, PEP o NIT.");
}

/* Reads "CC 1020304050", "C.C. 1.020.304.050", "cc1020304050", "PA AB123456"
 * or a bare number (a cédula): type into type, letters and digits into num. */
static size_t parse_id(const char *text, char type[8], char num[40])
{
    char buf[128];
    size_t k = 0;
    for (const char *p = text; *p && k + 1 < sizeof(buf); p++)
        if (*p != '.') /* "C.C." is "CC"; "1.020.304" is "1020304" */
            buf[k++] = (char)toupper((unsigned char)*p);
    buf[k] = '\0';
    snprintf(type, 8, "CC");
    const char *rest = buf;
    size_t lead = strcspn(buf, " \t-");
    char first[16] = "";
    if (lead < sizeof(first)) {
        memcpy(first, buf, lead);
        first[lead] = '\0';
    }
    const char *named = vt_item_enum(vt_item_id_types, first);
    if (named) {
        snprintf(type, 8, "%s", named);
        rest = buf + lead;
    } else {
        /* The type glued to the number: "CC1020304050". Longest names first. */
        static const char *const glued[] = {"NIT", "PPT", "PEP", "CC", "CE",
                                            "TI",  "RC",  "PA",  NULL};
        for (int i = 0; glued[i]; i++) {
            size_t n = strlen(glued[i]);
            if (strncmp(buf, glued[i], n) == 0 && isdigit((unsigned char)buf[n])) {
                snprintf(type, 8, "%s", glued[i]);
                rest = buf + n;
                break;
            }
        }
    }
    size_t j = 0;
    for (const char *p = rest; *p && j + 1 < 40; p++)
        if (isalnum((unsigned char)*p))
            num[j++] = *p;
    num[j] = '\0';
    return j;
}

static int on_id(struct turn *t)
{
    char type[8], num[40];
    size_t j = parse_id(t->ev->type == VT_WA_MSG_TEXT ? t->ev->text : "", type, num);
    if (j < 3 || j > 20)
        return say(t, "No entendimos el documento. Escriba el tipo y el número, por ejemplo: *CC "
                      "1020304050*.");
    dset(t->draft, "id_type", type);
    dset(t->draft, "id_number", num);
    static const struct vt_wa_choice c[] = {{"email.skip", "Omitir", NULL}};
    set_state(t, "pqrsd.email");
    return buttons(t,
                   "Si quiere recibir también la respuesta por correo electrónico, escriba su "
                   "correo. Si no, toque *Omitir*.",
                   c, 1);
}

static bool email_like(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || strlen(s) > 254)
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p))
            return false;
    return at[1] != '.' && s[strlen(s) - 1] != '.';
}

static int on_email(struct turn *t)
{
    if (is_reply(t, "email.skip") || strcmp(t->fold, "omitir") == 0) {
        dset(t->draft, "email", NULL);
        return ask_consent(t);
    }
    if (t->ev->type == VT_WA_MSG_TEXT && email_like(t->ev->text)) {
        dset(t->draft, "email", t->ev->text);
        return ask_consent(t);
    }
    static const struct vt_wa_choice c[] = {{"email.skip", "Omitir", NULL}};
    return buttons(t,
                   "Ese correo no parece válido. Escríbalo de nuevo (por ejemplo: "
                   "nombre@correo.com) o toque *Omitir*.",
                   c, 1);
}

static int on_consent(struct turn *t)
{
    if (is_reply(t, "consent.yes") || strcmp(t->fold, "si") == 0)
        return file_pqrsd(t, true);
    if (is_reply(t, "consent.no") || strcmp(t->fold, "no") == 0)
        return file_pqrsd(t, false);
    return ask_consent(t);
}

static int on_idle(struct turn *t)
{
    if (t->ev->type == VT_WA_MSG_TEXT || is_media(t->ev) || t->ev->type == VT_WA_MSG_LOCATION) {
        struct vt_wa_item own[1];
        size_t n = 0;
        int rc = vt_wa_db_open_items(t->tx, t->phone, own, 1, &n);
        if (rc)
            return rc;
        if (n == 1) {
            if (is_media(t->ev)) {
                bool full;
                if ((rc = add_media(t, &full)))
                    return rc;
            }
            if (t->ev->type == VT_WA_MSG_LOCATION) {
                char loc[VT_WA_TEXT_MAX];
                location_text(t->ev, loc, sizeof(loc));
                struct vt_wa_event copy = *t->ev;
                snprintf(copy.text, sizeof(copy.text), "%s", loc);
                const struct vt_wa_event *orig = t->ev;
                t->ev = &copy;
                rc = offer_add(t, &own[0]);
                t->ev = orig;
                return rc;
            }
            return offer_add(t, &own[0]);
        }
    }
    return show_menu(t, false);
}

/* ---- one message ---- */

static char *summary_json(const struct vt_wa_event *ev)
{
    cJSON *o = cJSON_CreateObject();
    if (ev->text[0])
        cJSON_AddStringToObject(o, "text", ev->text);
    if (ev->reply_id[0])
        cJSON_AddStringToObject(o, "reply_id", ev->reply_id);
    if (ev->media_id[0]) {
        cJSON_AddStringToObject(o, "media_id", ev->media_id);
        cJSON_AddStringToObject(o, "mime_type", ev->mime_type);
        if (ev->filename[0])
            cJSON_AddStringToObject(o, "filename", ev->filename);
    }
    if (ev->has_location) {
        cJSON_AddNumberToObject(o, "latitude", ev->latitude);
        cJSON_AddNumberToObject(o, "longitude", ev->longitude);
    }
    if (ev->context_id[0])
        cJSON_AddStringToObject(o, "context", ev->context_id);
    if (ev->timestamp)
        cJSON_AddNumberToObject(o, "timestamp", (double)ev->timestamp);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int dispatch(struct turn *t)
{
    const struct vt_wa_event *ev = t->ev;
    const char *id = ev->reply_id;
    if (ev->type == VT_WA_MSG_REACTION)
        return 0; /* recorded; a reaction asks nothing */
    if (ev->type == VT_WA_MSG_UNKNOWN)
        return say(t, "No podemos leer ese tipo de mensaje. Por favor escriba un texto o envíe una "
                      "foto, un audio o un documento.");
    if (strcmp(t->fold, "cancelar") == 0 || strcmp(id, "flow.cancel") == 0) {
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
        clear_draft(t);
        set_state(t, "idle");
        return say(t, "Listo, cancelamos lo que estaba haciendo y no guardamos nada. Escriba "
                      "*menú* cuando quiera empezar de nuevo.");
    }
    if (strcmp(t->state, "offer") == 0 && strcmp(id, "item.add") != 0) {
        /* The offer was declined: a file sent with the message goes nowhere. */
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
    }
    if (strcmp(t->fold, "menu") == 0 || strcmp(id, "menu.open") == 0)
        return show_menu(t, false);
    if (!t->conv.exists)
        return show_menu(t, true);
    if (has_prefix(id, "menu."))
        return on_menu(t); /* a menu tapped again later still works */
    const char *s = t->state;
    if (strcmp(s, "menu") == 0)
        return on_menu(t);
    if (strcmp(s, "pqrsd.type") == 0)
        return on_type(t);
    if (strcmp(s, "pqrsd.description") == 0)
        return on_description(t);
    if (strcmp(s, "pqrsd.attachments") == 0)
        return on_attachments(t);
    if (strcmp(s, "pqrsd.identity") == 0)
        return on_identity(t);
    if (strcmp(s, "pqrsd.name") == 0)
        return on_name(t);
    if (strcmp(s, "pqrsd.id") == 0)
        return on_id(t);
    if (strcmp(s, "pqrsd.email") == 0)
        return on_email(t);
    if (strcmp(s, "pqrsd.consent") == 0)
        return on_consent(t);
    if (strcmp(s, "status") == 0)
        return on_status(t);
    if (strcmp(s, "offer") == 0) {
        if (strcmp(id, "item.add") == 0)
            return accept_add(t);
        clear_draft(t);
    }
    return on_idle(t);
}

static int on_message(struct vt_store_tx *tx, struct vt_wa_apply *a, const struct vt_wa_event *ev)
{
    char *summary = summary_json(ev);
    if (!summary)
        return VT_ENOMEM;
    int rc = vt_wa_db_message_add(tx, ev, summary);
    free(summary);
    if (rc)
        return rc;
    struct turn t = {.tx = tx, .a = a, .ev = ev};
    snprintf(t.phone, sizeof(t.phone), "+%s", ev->from);
    if ((rc = vt_wa_db_conv_get(tx, ev->from, &t.conv)))
        goto done;
    snprintf(t.state, sizeof(t.state), "%s", t.conv.state);
    t.draft = cJSON_Parse(t.conv.draft);
    if (!cJSON_IsObject(t.draft)) {
        cJSON_Delete(t.draft);
        t.draft = cJSON_CreateObject();
    }
    const char *src = ev->type == VT_WA_MSG_TEXT ? ev->text : "";
    char trimmed[256];
    vt_wa_cut(src, sizeof(trimmed), trimmed, sizeof(trimmed));
    vt_fold_es(trimmed, t.fold, sizeof(t.fold));
    size_t fl = strlen(t.fold);
    while (fl && (isspace((unsigned char)t.fold[fl - 1]) || t.fold[fl - 1] == '.' ||
                  t.fold[fl - 1] == '!'))
        t.fold[--fl] = '\0';
    char *f = t.fold;
    while (isspace((unsigned char)*f))
        f++;
    memmove(t.fold, f, strlen(f) + 1);

    if ((rc = dispatch(&t)))
        goto done;
    /* Mark the citizen's message read: they see the blue ticks. */
    if (ev->type != VT_WA_MSG_REACTION &&
        (rc = send_body(&t, "read", vt_wa_msg_read(ev->id), 0, NULL, NULL, NULL)))
        goto done;
    char *draft = cJSON_PrintUnformatted(t.draft);
    if (!draft) {
        rc = VT_ENOMEM;
        goto done;
    }
    /* The window opens at the citizen's message time; the receipt time when
     * Meta's clock is ahead of ours or absent. */
    int64_t at = vt_store_tx_now(tx);
    if (ev->timestamp > 0 && ev->timestamp * 1000 < at)
        at = ev->timestamp * 1000;
    rc = vt_wa_db_conv_put(tx, ev->from, t.state, draft, at);
    free(draft);
done:
    cJSON_Delete(t.draft);
    vt_wa_conv_cleanup(&t.conv);
    return rc;
}

int vt_wa_apply_run(struct vt_store_tx *tx, void *ctx)
{
    struct vt_wa_apply *a = ctx;
    for (size_t i = 0; i < a->batch->n; i++) {
        const struct vt_wa_event *ev = &a->batch->ev[i];
        char key[VT_WA_ID_MAX + 20];
        if (ev->kind == VT_WA_EV_STATUS)
            snprintf(key, sizeof(key), "%s/%s", ev->id, ev->status);
        else
            snprintf(key, sizeof(key), "%s", ev->id);
        int rc = vt_store_tx_seen(tx, "whatsapp", key);
        if (rc == VT_EEXIST) {
            a->duplicates++;
            continue;
        }
        if (rc)
            return rc;
        if (ev->kind == VT_WA_EV_STATUS)
            rc = vt_outbox_provider_status(tx, "whatsapp", ev->id, ev->status, ev->error_code,
                                           ev->error_title);
        else
            rc = on_message(tx, a, ev);
        if (rc)
            return rc;
        a->applied++;
    }
    return 0;
}

void vt_wa_apply_cleanup(struct vt_wa_apply *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_items; i++)
        vt_item_free(a->items[i]);
    free(a->items);
    a->items = NULL;
    a->n_items = 0;
}
