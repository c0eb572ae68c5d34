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
#include "domain/casework.h"
#include "core/calendar.h"
#include "core/classify.h"
#include "core/error.h"
#include "domain/hearing.h"
#include "outbox/outbox.h"
#include "domain/survey.h"
#include "core/text.h"
#include "core/buf.h"
#include "api/app.h"

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
    /* A pending survey invitation outlives the draft it waited beside. */
    cJSON *survey = cJSON_DetachItemFromObjectCaseSensitive(t->draft, "survey");
    cJSON_Delete(t->draft);
    t->draft = cJSON_CreateObject();
    if (survey && t->draft)
        cJSON_AddItemToObject(t->draft, "survey", survey);
    else
        cJSON_Delete(survey);
}

/* s folded for keyword matching (vt_fold_es), without the spaces around it
 * and a closing "." or "!". */
static void fold_trim(const char *s, char *out, size_t n)
{
    char cut[256];
    vt_wa_cut(s, sizeof(cut), cut, sizeof(cut));
    vt_fold_es(cut, out, n);
    size_t fl = strlen(out);
    while (fl && (isspace((unsigned char)out[fl - 1]) || out[fl - 1] == '.' || out[fl - 1] == '!'))
        out[--fl] = '\0';
    char *f = out;
    while (isspace((unsigned char)*f))
        f++;
    memmove(out, f, strlen(f) + 1);
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

/* Keeps it (NULL: no memory) alive until the job is done, committed or not:
 * the store's committed hook reads the items a job inserted. Frees it on
 * failure. 0 or VT_ENOMEM. */
static int keep_item(struct turn *t, struct vt_item *it)
{
    struct vt_item **items = it ? realloc(t->a->items, (t->a->n_items + 1) * sizeof(*items)) : NULL;
    if (!items) {
        vt_item_free(it);
        return VT_ENOMEM;
    }
    t->a->items = items;
    items[t->a->n_items++] = it;
    return 0;
}

/* The survey (below) is offered from the menu and after a PQRSD flow. */
static int survey_menu(struct turn *t);
static int survey_after_flow(struct turn *t);
static int survey_resolve(struct turn *t);

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
    if (keep_item(t, it))
        return VT_ENOMEM;

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
    return survey_after_flow(t);
}

/* ---- hearing questions ----
 *
 * menu.hearing --window open--> hearing.text --text--> hearing.name
 *   --"Sí, con mi nombre" / "Sin nombre"--> filed (hearing_file), idle.
 * Without a profile name there is nothing to show: hearing.text files at once.
 * The window is checked again when filing (vt_hearing_question_run). */

static const char HEARING_CLOSED[] =
    "Por ahora no hay una audiencia pública abierta para recibir preguntas. Cuando la entidad "
    "la convoque, podrá enviar su pregunta por aquí. Escriba *menú* para ver las demás opciones.";

static const struct vt_wa_choice hearing_name_buttons[] = {{"hq.name", "Sí, con mi nombre", NULL},
                                                           {"hq.anon", "Sin nombre", NULL}};

static int hearing_start(struct turn *t)
{
    struct vt_hearing h;
    int rc = vt_hearing_open_now(t->tx, &h);
    if (rc == VT_ENOTFOUND) {
        set_state(t, "idle");
        return say(t, HEARING_CLOSED);
    }
    if (rc)
        return rc;
    clear_draft(t);
    if ((rc = vt_wa_db_media_discard(t->tx, t->ev->from)))
        return rc;
    dset(t->draft, "hearing", h.code);
    char date[16], text[900];
    vt_date_format_es(h.date, date);
    snprintf(text, sizeof(text),
             "Audiencia pública: *%s* (%s%s%s).\n\nEscriba en un solo mensaje su pregunta para "
             "la audiencia (máximo 2000 caracteres). Escriba *cancelar* para salir.",
             h.name, date, h.place[0] ? ", " : "", h.place);
    set_state(t, "hearing.text");
    return say(t, text);
}

static int hearing_file(struct turn *t, bool show)
{
    const char *code = dstr(t->draft, "hearing");
    const char *text = dstr(t->draft, "question");
    if (!code || !text)
        return hearing_start(t); /* a draft from before a crash or an edit */
    const char *name = show && t->ev->profile_name[0] ? t->ev->profile_name : NULL;
    struct vt_hearing_question q = {.cfg = t->a->cfg,
                                    .code = code,
                                    .text = text,
                                    .name = name,
                                    .source = "whatsapp",
                                    .channel = "whatsapp",
                                    .show_name = name != NULL};
    int rc = vt_hearing_question_run(t->tx, &q);
    if (rc) {
        vt_item_free(q.item);
        return rc;
    }
    if (q.outcome) {
        clear_draft(t);
        set_state(t, "idle");
        return say(t, "La recepción de preguntas para esta audiencia ya cerró y no guardamos su "
                      "pregunta. Si quiere, puede radicar una petición: escriba *menú*.");
    }
    struct vt_item *it = q.item;
    if (keep_item(t, it))
        return VT_ENOMEM;
    if ((rc = vt_hearing_question_contact(t->tx, it, t->phone, NULL, "whatsapp")))
        return rc;
    char received[32], due[16] = "", msg[1200], mail[1200], params[300];
    vt_time_format_es(it->received_at, received);
    if (it->due_date[0])
        vt_date_format_es(it->due_date, due);
    snprintf(msg, sizeof(msg),
             "Recibimos su pregunta para la audiencia pública.\n\nRadicado: *%s*\nFecha de "
             "recibo: %s\nFecha límite de respuesta: %s (%d días hábiles)\nCódigo de "
             "seguimiento: *{codigo}*\n\n%s. Si no se responde en la audiencia, le "
             "responderemos por este chat.",
             it->radicado, received, due[0] ? due : "sin plazo", it->term_days,
             name ? "Su nombre puede aparecer en la pantalla de la audiencia"
                  : "Su nombre no aparecerá en la pantalla de la audiencia");
    snprintf(mail, sizeof(mail),
             "%s recibió su pregunta para la audiencia pública enviada por WhatsApp.\n\n"
             "Radicado: %s\nFecha de recibo: %s\nFecha límite de respuesta: %s\nCódigo de "
             "seguimiento: {codigo}",
             t->a->cfg->entity_name, it->radicado, received, due[0] ? due : "sin plazo");
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateString(it->radicado));
    cJSON_AddItemToArray(p, cJSON_CreateString(due[0] ? due : "sin plazo"));
    cJSON_AddItemToArray(p, cJSON_CreateString("{codigo}"));
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    snprintf(params, sizeof(params), "%s", ps ? ps : "[]");
    free(ps);
    if ((rc = send_body(t, "ack", vt_wa_msg_text(msg), it->id, params, it->tracking_code, mail)))
        return rc;
    clear_draft(t);
    set_state(t, "idle");
    return 0;
}

static int on_hearing_text(struct turn *t)
{
    const struct vt_wa_event *ev = t->ev;
    size_t n = ev->type == VT_WA_MSG_TEXT ? strlen(ev->text) : 0;
    if (!n || strspn(ev->text, " \t\r\n") == n)
        return say(t, "Escriba su pregunta como un mensaje de texto, o *cancelar* para salir.");
    if (n > 2000 || !vt_utf8_valid(ev->text, n))
        return say(t, "Su pregunta es demasiado larga: escríbala en máximo 2000 caracteres.");
    dset(t->draft, "question", ev->text);
    if (!ev->profile_name[0])
        return hearing_file(t, false);
    char text[400];
    snprintf(text, sizeof(text),
             "¿Quiere que su nombre (*%s*) aparezca con la pregunta en la pantalla de la "
             "audiencia?",
             ev->profile_name);
    set_state(t, "hearing.name");
    return buttons(t, text, hearing_name_buttons, 2);
}

static int on_hearing_name(struct turn *t)
{
    const char *f = t->fold;
    if (is_reply(t, "hq.name") || strcmp(f, "si") == 0 || strcmp(f, "si, con mi nombre") == 0)
        return hearing_file(t, true);
    if (is_reply(t, "hq.anon") || strcmp(f, "no") == 0 || strcmp(f, "sin nombre") == 0)
        return hearing_file(t, false);
    return buttons(t, "Elija una opción: ¿mostramos su nombre en la pantalla de la audiencia?",
                   hearing_name_buttons, 2);
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
        rc = vt_casework_citizen_replied(vt_app_domain(t->a->srv), t->tx, w.id);
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
    if (strcmp(id, "menu.hearing") == 0 || strcmp(f, "3") == 0)
        return hearing_start(t);
    if (strcmp(id, "menu.survey") == 0 || strcmp(f, "4") == 0)
        return survey_menu(t);
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

static int ask_name(struct turn *t)
{
    set_state(t, "pqrsd.name");
    return say(t, "Escriba su nombre completo.");
}

static int ask_id(struct turn *t)
{
    set_state(t, "pqrsd.id");
    return say(t, "Escriba su tipo y número de documento, por ejemplo: *CC 1020304050*. Tipos: "
                  "CC, CE, TI, RC, PA, PPT, PEP o NIT.");
}

static int ask_email(struct turn *t, bool again)
{
    static const struct vt_wa_choice c[] = {{"email.skip", "Omitir", NULL}};
    set_state(t, "pqrsd.email");
    return buttons(t,
                   again ? "Ese correo no parece válido. Escríbalo de nuevo (por ejemplo: "
                           "nombre@correo.com) o toque *Omitir*."
                         : "Si quiere recibir también la respuesta por correo electrónico, "
                           "escriba su correo. Si no, toque *Omitir*.",
                   c, 1);
}

static int on_identity(struct turn *t)
{
    if (is_reply(t, "id.named") || strcmp(t->fold, "con mis datos") == 0) {
        dset(t->draft, "anon", NULL);
        return ask_name(t);
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
    return ask_id(t);
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
    return ask_email(t, false);
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
    return ask_email(t, true);
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

/* ---- the survey ----
 *
 * An invitation (wa_notify, kind "encuesta") leaves a mark in the draft,
 * which clear_draft and vt_wa_db_conv_expect_reply keep:
 *
 *   draft.survey = {"item": the closed PQRSD, "inv": the invitation's id
 *                   (looked up on the citizen's next message: wa_notify runs
 *                   before src/survey.c inserts the invitation), "due": when
 *                   the invitation is sent (Unix ms), "quiet": true once the
 *                   citizen said "Ahora no" or it was offered again,
 *                   while answering (state "survey"): "q": the question asked,
 *                   "step": the NPS half picked (1: 0-5, 2: 6-10),
 *                   "a": {"question id": the value as the web form sends it}}
 *
 * Reply ids: survey.start.ID and survey.later.ID (ID: the item, so the
 * buttons of an older invitation work too), survey.q.QUESTION.VALUE and
 * survey.q.QUESTION.omitir. */

#define SQ "survey.q."

static const cJSON *questions(const cJSON *def)
{
    return cJSON_GetObjectItemCaseSensitive(def, "questions");
}

static bool required(const cJSON *q)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "required"));
}

static int64_t jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void jset(cJSON *o, const char *k, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    if (v)
        cJSON_AddItemToObject(o, k, v);
}

/* The whole number s in [lo, hi], or -1. */
static int whole_in(const char *s, int lo, int hi)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
        return -1;
    int v = atoi(s);
    return v >= lo && v <= hi ? v : -1;
}

/* "\n1. Option" for each option, into b. */
static void numbered(struct vt_buf *b, const cJSON *opts)
{
    int k = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, opts)
    {
        vt_buf_printf(b, "\n%d. %s", ++k, o->valuestring);
    }
}

char *vt_wa__survey_question(const cJSON *def, int i, int step, const char *lead)
{
    const cJSON *q = cJSON_GetArrayItem(questions(def), i);
    const char *id = dstr(q, "id"), *type = dstr(q, "type"), *text = dstr(q, "text");
    if (!id || !type || !text)
        return NULL;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    int n_opts = cJSON_IsArray(opts) ? cJSON_GetArraySize(opts) : 0;
    bool optional = !required(q);
    enum { TEXT, BUTTONS, LIST } kind = TEXT;
    struct vt_wa_choice c[VT_WA_MAX_ROWS];
    char ids[VT_WA_MAX_ROWS][80], titles[VT_WA_MAX_ROWS][16];
    size_t nc = 0;
    const char *tap = "", *typed = "", *button = "Elegir";
    bool list_opts = false; /* the options numbered in the text */
    if (strcmp(type, "rating") == 0) {
        kind = LIST;
        for (int v = 1; v <= 5; v++, nc++) {
            snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%d", id, v);
            snprintf(titles[nc], sizeof(titles[nc]), "%d", v);
            c[nc] = (struct vt_wa_choice){ids[nc], titles[nc],
                                          v == 1   ? "Lo más bajo"
                                          : v == 5 ? "Lo más alto"
                                                   : NULL};
        }
        tap = "Toque *Elegir* y marque un número del 1 al 5, o escríbalo.";
        typed = "Escriba un número del 1 al 5.";
    } else if (strcmp(type, "nps") == 0 && step == 0) {
        /* Eleven values, and a list holds ten rows: the half first, then the
         * number, so that no score needs more effort than another. */
        kind = BUTTONS;
        snprintf(ids[0], sizeof(ids[0]), SQ "%s.bajo", id);
        snprintf(ids[1], sizeof(ids[1]), SQ "%s.alto", id);
        c[nc++] = (struct vt_wa_choice){ids[0], "De 0 a 5", NULL};
        c[nc++] = (struct vt_wa_choice){ids[1], "De 6 a 10", NULL};
        tap = "Toque el grupo de su nota y luego elija el número, o escriba directamente un "
              "número del 0 al 10.";
        typed = "Escriba un número del 0 al 10.";
    } else if (strcmp(type, "nps") == 0) {
        kind = LIST;
        button = "Elegir nota";
        for (int v = step == 1 ? 0 : 6; v <= (step == 1 ? 5 : 10); v++, nc++) {
            snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%d", id, v);
            snprintf(titles[nc], sizeof(titles[nc]), "%d", v);
            c[nc] = (struct vt_wa_choice){ids[nc], titles[nc],
                                          v == 0    ? "Nada probable"
                                          : v == 10 ? "Muy probable"
                                                    : NULL};
        }
        tap = "Elija su nota en la lista, o escríbala (del 0 al 10).";
        typed = "Escriba un número del 0 al 10.";
    } else if (strcmp(type, "yes_no") == 0) {
        kind = BUTTONS;
        snprintf(ids[0], sizeof(ids[0]), SQ "%s.si", id);
        snprintf(ids[1], sizeof(ids[1]), SQ "%s.no", id);
        c[nc++] = (struct vt_wa_choice){ids[0], "Sí", NULL};
        c[nc++] = (struct vt_wa_choice){ids[1], "No", NULL};
        tap = "Toque una opción, o escriba sí o no.";
        typed = "Escriba sí o no.";
    } else if (strcmp(type, "single") == 0) {
        list_opts = true;
        if (n_opts + optional <= VT_WA_MAX_ROWS) {
            kind = LIST;
            button = "Ver opciones";
            const cJSON *o;
            cJSON_ArrayForEach(o, opts)
            {
                snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.%zu", id, nc + 1);
                /* The title holds 24 characters; what follows goes below it. */
                char head[VT_WA_ROW_TITLE_MAX * 4 + 1];
                vt_wa_cut(o->valuestring, VT_WA_ROW_TITLE_MAX, head, sizeof(head));
                const char *rest = o->valuestring + strlen(head);
                c[nc] = (struct vt_wa_choice){ids[nc], o->valuestring, *rest ? rest : NULL};
                nc++;
            }
        }
        tap = "Toque *Ver opciones* y elija una, o escriba su número.";
        typed = "Escriba el número de su opción.";
    } else if (strcmp(type, "multiple") == 0) {
        list_opts = true;
        tap = typed = "Escriba los números de todas las opciones que elija, separados por comas "
                      "(por ejemplo: 1, 3).";
    } else { /* text */
        tap = typed = "Escriba su respuesta en un mensaje.";
    }
    if (optional && (kind != TEXT || strcmp(type, "multiple") == 0 || strcmp(type, "text") == 0)) {
        snprintf(ids[nc], sizeof(ids[nc]), SQ "%s.omitir", id);
        c[nc] = (struct vt_wa_choice){ids[nc], "Omitir", NULL};
        nc++;
        if (kind == TEXT)
            kind = BUTTONS; /* only "Omitir": the answer itself is typed */
    }
    /* An interactive body holds 1,024 characters: the numbered options go
     * first, then the buttons or rows (the answer is typed instead). */
    struct vt_buf b = {0};
    for (int pass = 0; pass < 3; pass++) {
        bool with_list = list_opts && (pass == 0 || kind == TEXT);
        vt_buf_cleanup(&b);
        vt_buf_printf(&b, "%s%sPregunta %d de %d: %s", lead && *lead ? lead : "",
                      lead && *lead ? "\n\n" : "", i + 1, cJSON_GetArraySize(questions(def)), text);
        if (with_list)
            numbered(&b, opts);
        vt_buf_printf(&b, "\n\n%s", kind == TEXT ? typed : tap);
        if (optional)
            vt_buf_puts(&b, kind == TEXT ? " Si prefiere no responder, escriba *omitir*."
                                         : " Si prefiere no responder, toque *Omitir*.");
        if (!b.data || kind == TEXT || vt_utf8_chars(b.data, b.len) <= VT_WA_BODY_MAX)
            break;
        if (pass == 0 && kind == LIST && list_opts)
            continue; /* the rows name the options: try without the numbered text */
        kind = TEXT;  /* typed, with the options numbered */
        pass = 1;
    }
    char *out = NULL;
    if (b.data)
        out = kind == LIST      ? vt_wa_msg_list(b.data, button, c, nc)
              : kind == BUTTONS ? vt_wa_msg_buttons(b.data, c, nc)
                                : vt_wa_msg_text(b.data);
    vt_buf_cleanup(&b);
    return out;
}

static enum vt_wa_survey_reading bad(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return VT_WA_SURVEY_BAD;
}

enum vt_wa_survey_reading vt_wa__survey_read(const cJSON *q, int step, const char *reply_id,
                                             const char *text, cJSON **value, int *next_step,
                                             char *why, size_t whylen)
{
    *value = NULL;
    *next_step = 0;
    const char *id = dstr(q, "id"), *type = dstr(q, "type");
    if (!id || !type)
        return bad(why, whylen, "No pudimos leer esta pregunta.");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    int n_opts = cJSON_IsArray(opts) ? cJSON_GetArraySize(opts) : 0;
    char prefix[64], fold[256] = "";
    snprintf(prefix, sizeof(prefix), SQ "%s.", id);
    const char *tap = NULL;
    if (reply_id && *reply_id) {
        if (!has_prefix(reply_id, prefix))
            return bad(why, whylen,
                       has_prefix(reply_id, SQ) ? "Esa respuesta es de otra pregunta."
                                                : "Responda esta pregunta de la encuesta, o "
                                                  "escriba *cancelar* para salir.");
        tap = reply_id + strlen(prefix);
    } else if (text) {
        fold_trim(text, fold, sizeof(fold));
    } else {
        return bad(why, whylen,
                   "En la encuesta solo leemos texto y las opciones que le ofrecemos.");
    }
    const char *s = tap ? tap : fold;
    if (strcmp(s, "omitir") == 0) {
        if (required(q))
            return bad(why, whylen, "Esta pregunta es obligatoria.");
        return VT_WA_SURVEY_SKIP;
    }
    char v[16];
    if (strcmp(type, "rating") == 0 || strcmp(type, "nps") == 0) {
        bool rating = type[0] == 'r';
        if (!rating && tap && (strcmp(tap, "bajo") == 0 || strcmp(tap, "alto") == 0)) {
            *next_step = tap[0] == 'b' ? 1 : 2;
            return VT_WA_SURVEY_STEP;
        }
        int n = whole_in(s, rating ? 1 : 0, rating ? 5 : 10);
        if (n < 0)
            return bad(why, whylen,
                       rating ? "Elija un número del 1 al 5." : "Elija un número del 0 al 10.");
        snprintf(v, sizeof(v), "%d", n);
    } else if (strcmp(type, "yes_no") == 0) {
        if (strcmp(s, "si") != 0 && strcmp(s, "no") != 0)
            return bad(why, whylen, "Responda sí o no.");
        snprintf(v, sizeof(v), "%s", s[0] == 's' ? "si" : "no");
    } else if (strcmp(type, "single") == 0) {
        int k = whole_in(s, 1, n_opts);
        for (int j = 0; k < 0 && !tap && j < n_opts; j++) {
            char of[256]; /* the option's text typed out */
            fold_trim(cJSON_GetArrayItem(opts, j)->valuestring, of, sizeof(of));
            if (*fold && strcmp(of, fold) == 0)
                k = j + 1;
        }
        if (k < 0)
            return bad(why, whylen, "Elija una de las opciones: toque una o escriba su número.");
        snprintf(v, sizeof(v), "%d", k - 1);
    } else if (strcmp(type, "multiple") == 0) {
        int ks[20];
        int n = tap ? -1 : vt_wa_read_numbers(fold, 1, n_opts, ks, 20);
        if (n <= 0)
            return bad(why, whylen,
                       "Escriba los números de las opciones que elija, separados por comas (por "
                       "ejemplo: 1, 3).");
        cJSON *arr = cJSON_CreateArray();
        for (int j = 0; arr && j < n; j++) {
            snprintf(v, sizeof(v), "%d", ks[j] - 1);
            cJSON_AddItemToArray(arr, cJSON_CreateString(v));
        }
        *value = arr;
        return arr ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
    } else { /* text: the message itself, not its folded form */
        if (tap)
            return bad(why, whylen, "Escriba su respuesta en un mensaje.");
        size_t len = strlen(text);
        while (len && isspace((unsigned char)text[len - 1]))
            len--;
        while (len && isspace((unsigned char)*text))
            text++, len--;
        if (len == 0)
            return bad(why, whylen, "Escriba su respuesta en un mensaje.");
        if (vt_utf8_chars(text, len) > 2000)
            return bad(why, whylen, "La respuesta puede tener hasta 2.000 caracteres.");
        char *t = strndup(text, len);
        *value = t ? cJSON_CreateString(t) : NULL;
        free(t);
        return *value ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
    }
    (void)step; /* a typed number counts at either step */
    *value = cJSON_CreateString(v);
    return *value ? VT_WA_SURVEY_VALUE : bad(why, whylen, "Intente de nuevo.");
}

char *vt_wa_conv_survey_invitation(const char *text, int64_t item_id)
{
    static const char more[] = "\n\nO responda aquí mismo, pregunta por pregunta: toque "
                               "*Responder ahora*.";
    /* Room for the link's token, which replaces "{codigo}" (8 characters
     * for 64) only when the message is sent. */
    char cut[VT_WA_BODY_MAX * 4 + 1], body[VT_WA_BODY_MAX * 4 + sizeof(more)];
    vt_wa_cut(text, VT_WA_BODY_MAX - 56 - (sizeof(more) - 1), cut, sizeof(cut));
    snprintf(body, sizeof(body), "%s%s", cut, more);
    char start[48], later[48];
    snprintf(start, sizeof(start), "survey.start.%lld", (long long)item_id);
    snprintf(later, sizeof(later), "survey.later.%lld", (long long)item_id);
    const struct vt_wa_choice c[] = {{start, "Responder ahora", NULL}, {later, "Ahora no", NULL}};
    return vt_wa_msg_buttons(body, c, 2);
}

int vt_wa_conv_survey_invited(struct vt_store_tx *tx, const char *wa_id, int64_t item_id,
                              int64_t due_at)
{
    struct vt_wa_conv c;
    int rc = vt_wa_db_conv_get(tx, wa_id, &c);
    if (rc || strcmp(c.state, "survey") == 0) /* a survey being answered keeps its place */
        goto done;
    cJSON *d = cJSON_Parse(c.draft);
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        d = cJSON_CreateObject();
    }
    cJSON *m = cJSON_CreateObject();
    rc = VT_ENOMEM;
    if (d && m) {
        cJSON_AddNumberToObject(m, "item", (double)item_id);
        cJSON_AddNumberToObject(m, "due", (double)due_at);
        jset(d, "survey", m);
        m = NULL;
        char *s = cJSON_PrintUnformatted(d);
        /* A number Ventanilla never heard from gets a conversation in state
         * new: its first message is still welcomed. */
        if (s)
            rc = vt_wa_db_conv_put(tx, wa_id, c.exists ? c.state : "new", s, c.last_inbound_at);
        free(s);
    }
    cJSON_Delete(m);
    cJSON_Delete(d);
done:
    vt_wa_conv_cleanup(&c);
    return rc;
}

static cJSON *survey_mark(struct turn *t)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(t->draft, "survey");
    return cJSON_IsObject(m) ? m : NULL;
}

static void survey_drop(struct turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->draft, "survey");
}

/* On each message: the mark's invitation id, looked up once. */
static int survey_resolve(struct turn *t)
{
    cJSON *m = survey_mark(t);
    if (!m || jnum(m, "inv"))
        return 0;
    int64_t inv;
    int rc = vt_survey_invitation_of_item(t->tx, jnum(m, "item"), &inv);
    if (rc == VT_ENOTFOUND)
        survey_drop(t);
    else if (rc == 0)
        jset(m, "inv", cJSON_CreateNumber((double)inv));
    return rc == VT_ENOTFOUND ? 0 : rc;
}

/* The mark's survey; VT_ENOTFOUND drops the mark. */
static int survey_form(struct turn *t, struct vt_survey_form *f)
{
    memset(f, 0, sizeof(*f));
    int rc = survey_resolve(t);
    cJSON *m = survey_mark(t);
    if (rc == 0 && !m)
        rc = VT_ENOTFOUND;
    if (rc == 0 && (rc = vt_survey_find_invitation(t->tx, jnum(m, "inv"), f)) == VT_ENOTFOUND)
        survey_drop(t);
    return rc;
}

static const char NOT_FOUND[] =
    "No encontramos esa encuesta. Escriba *menú* para ver las opciones.";
static const char USED[] = "Esta encuesta ya fue respondida: cada invitación sirve una sola vez. "
                           "¡Gracias por su tiempo!";
static const char EXPIRED[] = "El plazo para responder esta encuesta terminó. Si quiere contarnos "
                              "algo, escriba *menú* y radique una sugerencia.";

/* Why f cannot be answered any more (the mark goes), or NULL. */
static const char *survey_closed(struct turn *t, const struct vt_survey_form *f)
{
    const char *why = f->used_at ? USED : vt_store_tx_now(t->tx) > f->expires_at ? EXPIRED : NULL;
    if (why)
        survey_drop(t);
    return why;
}

static bool filing(const struct turn *t)
{
    return has_prefix(t->state, "pqrsd.");
}

/* The step of the PQRSD being filed, asked again after a word about the survey. */
static int flow_resume(struct turn *t, const char *note)
{
    int rc = say(t, note);
    const char *s = t->state;
    if (rc)
        return rc;
    if (strcmp(s, "pqrsd.type") == 0)
        return ask_type(t);
    if (strcmp(s, "pqrsd.description") == 0)
        return ask_description(t);
    if (strcmp(s, "pqrsd.attachments") == 0)
        return ask_attachments(t, NULL);
    if (strcmp(s, "pqrsd.identity") == 0)
        return ask_identity(t);
    if (strcmp(s, "pqrsd.name") == 0)
        return ask_name(t);
    if (strcmp(s, "pqrsd.id") == 0)
        return ask_id(t);
    if (strcmp(s, "pqrsd.email") == 0)
        return ask_email(t, false);
    return ask_consent(t);
}

static int ask_question(struct turn *t, const cJSON *def, const char *lead)
{
    cJSON *m = survey_mark(t);
    return send_body(t, "prompt",
                     vt_wa__survey_question(def, (int)jnum(m, "q"), (int)jnum(m, "step"), lead), 0,
                     NULL, NULL, NULL);
}

static void survey_restart(cJSON *m)
{
    if (!m)
        return;
    jset(m, "q", cJSON_CreateNumber(0));
    jset(m, "step", NULL);
    jset(m, "a", cJSON_CreateObject());
}

static int survey_start(struct turn *t, int64_t item)
{
    cJSON *m = survey_mark(t);
    if (!m || jnum(m, "item") != item) {
        /* An older invitation's button: the item must be the sender's. */
        struct vt_wa_item w;
        int rc = item > 0 ? vt_wa_db_item_by_id(t->tx, item, t->phone, &w) : VT_ENOTFOUND;
        if (rc == VT_ENOTFOUND)
            return filing(t) ? flow_resume(t, NOT_FOUND) : say(t, NOT_FOUND);
        if (rc)
            return rc;
        if (!(m = cJSON_CreateObject()))
            return VT_ENOMEM;
        cJSON_AddNumberToObject(m, "item", (double)item);
        jset(t->draft, "survey", m);
    }
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    const char *closed = rc == VT_ENOTFOUND ? NOT_FOUND : rc ? NULL : survey_closed(t, &f);
    if (rc && rc != VT_ENOTFOUND)
        goto done;
    rc = 0;
    if (closed) {
        if (strcmp(t->state, "survey") == 0)
            set_state(t, "idle");
        rc = filing(t) ? flow_resume(t, closed) : say(t, closed);
        goto done;
    }
    if (filing(t)) {
        jset(survey_mark(t), "quiet", NULL);
        rc = flow_resume(t, "Primero terminemos de radicar su solicitud. Cuando terminemos le "
                            "ofrecemos de nuevo la encuesta.");
        goto done;
    }
    clear_draft(t); /* an offer to add a message to an item, say, is over */
    survey_restart(survey_mark(t));
    set_state(t, "survey");
    char intro[1400];
    const char *in = dstr(f.definition, "intro");
    snprintf(intro, sizeof(intro),
             "%s%sEn cualquier momento puede escribir *omitir* para saltar una pregunta que no sea "
             "obligatoria, o *cancelar* para salir sin guardar nada.",
             in ? in : "", in && *in ? "\n\n" : "");
    if ((rc = say(t, intro)) == 0)
        rc = ask_question(t, f.definition, NULL);
done:
    vt_survey_form_cleanup(&f);
    return rc;
}

static int survey_later(struct turn *t, int64_t item)
{
    cJSON *m = survey_mark(t);
    if (m && jnum(m, "item") == item)
        jset(m, "quiet", cJSON_CreateTrue());
    static const char later[] = "Entendido. Si cambia de opinión, escriba *encuesta* en este chat, "
                                "o use el enlace del mensaje mientras esté vigente.";
    if (filing(t))
        return flow_resume(t, later);
    if (strcmp(t->state, "survey") == 0)
        set_state(t, "idle"); /* nothing of it was saved */
    return say(t, later);
}

static int survey_offer(struct turn *t, const char *lead)
{
    cJSON *m = survey_mark(t);
    int64_t item = jnum(m, "item");
    struct vt_wa_item w;
    int rc = vt_wa_db_item_by_id(t->tx, item, NULL, &w);
    if (rc && rc != VT_ENOTFOUND)
        return rc;
    char text[400], start[48], later[48];
    snprintf(text, sizeof(text),
             "%sTiene pendiente una encuesta corta sobre cómo atendimos su solicitud%s%s%s. ¿La "
             "responde ahora?",
             lead ? lead : "", rc ? "" : " *", rc ? "" : w.radicado, rc ? "" : "*");
    snprintf(start, sizeof(start), "survey.start.%lld", (long long)item);
    snprintf(later, sizeof(later), "survey.later.%lld", (long long)item);
    const struct vt_wa_choice c[] = {{start, "Responder ahora", NULL}, {later, "Ahora no", NULL}};
    return buttons(t, text, c, 2);
}

/* A PQRSD flow just ended: a pending invitation (arrived meanwhile, or
 * before and not answered) is offered once more, once. */
static int survey_after_flow(struct turn *t)
{
    cJSON *m = survey_mark(t);
    if (!m || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "quiet")) ||
        jnum(m, "due") > vt_store_tx_now(t->tx))
        return 0;
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    if (rc == 0 && !survey_closed(t, &f)) {
        jset(survey_mark(t), "quiet", cJSON_CreateTrue());
        rc = survey_offer(t, NULL);
    }
    vt_survey_form_cleanup(&f);
    return rc == VT_ENOTFOUND ? 0 : rc;
}

/* "encuesta" typed, or the menu's option. */
static int survey_menu(struct turn *t)
{
    cJSON *m = survey_mark(t);
    if (m)
        return survey_start(t, jnum(m, "item"));
    set_state(t, "idle");
    return say(t, "Por ahora no tiene una encuesta pendiente. Cuando respondamos una de sus "
                  "solicitudes le invitaremos a contarnos cómo lo atendimos. Escriba *menú* "
                  "para ver las demás opciones.");
}

static int survey_cancel(struct turn *t)
{
    cJSON *m = survey_mark(t);
    if (m)
        survey_restart(m);
    set_state(t, "idle");
    return say(t, "Cancelamos la encuesta y no guardamos ninguna de sus respuestas. Si quiere "
                  "responderla más adelante, escriba *encuesta*.");
}

/* vt_survey_read_answers' view of the collected answers. */
static const char *answer_value(void *ctx, const char *name, int i)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, name + 2); /* "q_" + id */
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, i);
    else if (i > 0)
        return NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The last answer: saved by src/survey.c in this transaction. */
static int survey_save(struct turn *t, const struct vt_survey_form *f)
{
    cJSON *m = survey_mark(t), *answers = NULL;
    int csat, nps;
    char field[48], why[200];
    if (vt_survey_read_answers(f->definition, answer_value,
                               cJSON_GetObjectItemCaseSensitive(m, "a"), &answers, &csat, &nps,
                               field, sizeof(field), why, sizeof(why))) {
        /* The definition changed while the citizen answered. */
        survey_restart(m);
        return ask_question(t, f->definition,
                            "La encuesta cambió mientras la respondía. Empecemos de nuevo.");
    }
    if (!t->a->srv) {
        cJSON_Delete(answers);
        return VT_EINVAL;
    }
    struct vt_survey_answer ans = {.cfg = vt_app_config(t->a->srv),
                                   .invitation_id = f->invitation_id,
                                   .channel = "whatsapp",
                                   .answers = answers,
                                   .csat = csat,
                                   .nps = nps};
    int rc = vt_survey_answer_run(t->tx, &ans);
    cJSON_Delete(answers);
    if (ans.item && keep_item(t, ans.item) && !rc)
        rc = VT_ENOMEM;
    if (rc)
        return rc;
    survey_drop(t);
    set_state(t, "idle");
    if (ans.outcome)
        return say(t, ans.outcome == VT_EEXIST   ? USED
                      : ans.outcome == VT_ERANGE ? EXPIRED
                                                 : NOT_FOUND);
    /* As the web page says it: the review is promised only when a
     * follow-up task opened. */
    return say(t, ans.followup
                      ? "¡Gracias por responder! Lamentamos que su experiencia no haya sido "
                        "buena. La dependencia que atendió su solicitud revisará su caso para "
                        "mejorar."
                      : "¡Gracias por responder! Guardamos sus respuestas: nos ayudan a mejorar "
                        "la atención.");
}

/* State survey: the answer to the question asked. */
static int on_survey(struct turn *t)
{
    struct vt_survey_form f;
    int rc = survey_form(t, &f);
    const char *closed = rc == VT_ENOTFOUND ? NOT_FOUND : rc ? NULL : survey_closed(t, &f);
    if (closed) {
        set_state(t, "idle");
        rc = say(t, closed);
        goto done;
    }
    if (rc)
        goto done;
    cJSON *m = survey_mark(t), *a = cJSON_GetObjectItemCaseSensitive(m, "a");
    int n = cJSON_GetArraySize(questions(f.definition)), i = (int)jnum(m, "q");
    if (i < 0 || i >= n || !cJSON_IsObject(a)) { /* a shorter new version */
        survey_restart(m);
        rc = ask_question(t, f.definition, "Empecemos de nuevo.");
        goto done;
    }
    const cJSON *q = cJSON_GetArrayItem(questions(f.definition), i);
    cJSON *value;
    int step;
    char why[200];
    switch (vt_wa__survey_read(q, (int)jnum(m, "step"), t->ev->reply_id,
                               t->ev->type == VT_WA_MSG_TEXT ? t->ev->text : NULL, &value, &step,
                               why, sizeof(why))) {
    case VT_WA_SURVEY_BAD:
        rc = ask_question(t, f.definition, why);
        goto done;
    case VT_WA_SURVEY_STEP:
        jset(m, "step", cJSON_CreateNumber(step));
        rc = ask_question(t, f.definition, NULL);
        goto done;
    case VT_WA_SURVEY_VALUE:
    case VT_WA_SURVEY_SKIP:
        jset(a, dstr(q, "id"), value);
        break;
    }
    jset(m, "step", NULL);
    jset(m, "q", cJSON_CreateNumber(++i));
    rc = i < n ? ask_question(t, f.definition, NULL) : survey_save(t, &f);
done:
    vt_survey_form_cleanup(&f);
    return rc;
}

/* Taps on an invitation: its reply buttons, or a template's quick replies
 * (their text comes back). 1 when ev is none of them. */
static int survey_tap(struct turn *t)
{
    const char *id = t->ev->reply_id;
    if (has_prefix(id, "survey.start.") || has_prefix(id, "survey.later.")) {
        long long item = strtoll(id + 13, NULL, 10);
        return id[7] == 's' ? survey_start(t, item) : survey_later(t, item);
    }
    if (t->ev->type != VT_WA_MSG_BUTTON)
        return 1;
    char f[64];
    fold_trim(t->ev->text, f, sizeof(f));
    cJSON *m = survey_mark(t);
    if (strcmp(f, "responder ahora") == 0)
        return m ? survey_start(t, jnum(m, "item")) : survey_menu(t);
    if (strcmp(f, "ahora no") == 0)
        return survey_later(t, jnum(m, "item"));
    return 1;
}

/* "encuesta" typed; "responder" and the like only while one is pending. */
static bool survey_word(struct turn *t)
{
    static const char *const words[] = {"responder", "responder ahora", "responder encuesta",
                                        "encuesta", NULL};
    for (int i = survey_mark(t) ? 0 : 3; words[i]; i++)
        if (strcmp(t->fold, words[i]) == 0)
            return true;
    return false;
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
        if (strcmp(t->state, "survey") == 0)
            return survey_cancel(t);
        bool flow = filing(t);
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
        clear_draft(t);
        set_state(t, "idle");
        rc = say(t, "Listo, cancelamos lo que estaba haciendo y no guardamos nada. Escriba "
                    "*menú* cuando quiera empezar de nuevo.");
        return rc == 0 && flow ? survey_after_flow(t) : rc;
    }
    if (strcmp(t->state, "offer") == 0 && strcmp(id, "item.add") != 0) {
        /* The offer was declined: a file sent with the message goes nowhere. */
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
    }
    if (strcmp(t->fold, "menu") == 0 || strcmp(id, "menu.open") == 0)
        return show_menu(t, false);
    int rc = survey_tap(t);
    if (rc <= 0)
        return rc;
    if (!t->conv.exists || strcmp(t->state, "new") == 0)
        return show_menu(t, true);
    if (has_prefix(id, "menu."))
        return on_menu(t); /* a menu tapped again later still works */
    const char *s = t->state;
    if (strcmp(s, "survey") == 0)
        return on_survey(t);
    if (!filing(t) && survey_word(t))
        return survey_menu(t);
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
    if (strcmp(s, "hearing.text") == 0)
        return on_hearing_text(t);
    if (strcmp(s, "hearing.name") == 0)
        return on_hearing_name(t);
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
    fold_trim(ev->type == VT_WA_MSG_TEXT ? ev->text : "", t.fold, sizeof(t.fold));
    if ((rc = survey_resolve(&t)))
        goto done;

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
