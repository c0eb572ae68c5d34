/* flow_pqrsd.c - filing a PQRSD on WhatsApp: type, description, attachments,
 * identity, the data-processing notice, then the item and its
 * acknowledgement, all in the transaction of the last answer.
 *
 * Owns: the pqrsd.* states and their Spanish prompts; the draft's fields
 * type, class, description, anon, name, id_type, id_number and email.
 * Must not: file anything before the last answer (the draft holds it all).
 *
 *   menu --menu.pqrsd--> pqrsd.type                       vt_wa__pqrsd_start
 *   pqrsd.type --type.*--> pqrsd.description              on_type
 *   pqrsd.description --text--> pqrsd.attachments         on_description
 *   pqrsd.attachments --media--> pqrsd.attachments        on_attachments
 *   pqrsd.attachments --att.done--> pqrsd.identity        ask_identity
 *   pqrsd.identity --id.named--> pqrsd.name --> pqrsd.id --> pqrsd.email --> pqrsd.consent
 *   pqrsd.identity --id.anon--> pqrsd.consent
 *   pqrsd.consent --consent.yes|consent.no--> idle        file_pqrsd (item + acknowledgement)
 *
 * Media sent while filing wait in wa_media without an item and become the
 * item's attachments when it is filed (or are dropped by "cancelar").
 */
#include "channels/whatsapp/flow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/whatsapp/conversation.h"
#include "core/calendar.h"
#include "core/classify.h"
#include "core/error.h"
#include "core/text.h"
#include "domain/intake.h"

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

static int ask_type(struct vt_wa_turn *t)
{
    vt_wa__set_state(t, "pqrsd.type");
    return vt_wa__send(t, "prompt",
                       vt_wa_msg_list("¿Qué tipo de solicitud quiere radicar?", "Elegir tipo",
                                      type_menu, sizeof(type_menu) / sizeof(type_menu[0])),
                       0, NULL, NULL, NULL);
}

static int ask_description(struct vt_wa_turn *t)
{
    char text[300];
    snprintf(text, sizeof(text),
             "Escriba su %s en un mensaje: qué pasó o qué necesita, dónde y cuándo.",
             vt_wa__type_label(vt_wa__dstr(t->draft, "type")));
    vt_wa__set_state(t, "pqrsd.description");
    return vt_wa__say(t, text);
}

static const struct vt_wa_choice att_buttons[] = {{"att.done", "Continuar", NULL},
                                                  {"flow.cancel", "Cancelar", NULL}};

static int ask_attachments(struct vt_wa_turn *t, const char *lead)
{
    char text[500];
    snprintf(
        text, sizeof(text),
        "%s¿Quiere adjuntar fotos, audios o documentos? Envíelos ahora, uno por mensaje (hasta "
        "%d). Cuando termine, o si no tiene, toque *Continuar*.",
        lead ? lead : "", t->a->cfg->attachment_max_count);
    vt_wa__set_state(t, "pqrsd.attachments");
    return vt_wa__buttons(t, text, att_buttons, 2);
}

static int ask_identity(struct vt_wa_turn *t)
{
    static const struct vt_wa_choice c[] = {{"id.named", "Con mis datos", NULL},
                                            {"id.anon", "Anónima", NULL},
                                            {"flow.cancel", "Cancelar", NULL}};
    vt_wa__set_state(t, "pqrsd.identity");
    return vt_wa__buttons(
        t,
        "¿Quiere radicar con su nombre y documento, o de forma anónima?\n\nSi es "
        "anónima, no le pediremos datos; la respuesta se publica en la página de la "
        "entidad y también le llegará por este chat.",
        c, 3);
}

static int ask_consent(struct vt_wa_turn *t)
{
    static const struct vt_wa_choice c[] = {{"consent.yes", "Sí, autorizo", NULL},
                                            {"consent.no", "No autorizo", NULL},
                                            {"flow.cancel", "Cancelar", NULL}};
    char text[VT_WA_BODY_MAX * 4];
    const char *name = vt_wa__dstr(t->draft, "name");
    snprintf(text, sizeof(text),
             "Aviso de tratamiento de datos personales (Ley 1581 de 2012): %s es responsable de "
             "sus datos (%s%s). Los usaremos solo para tramitar y responder "
             "esta solicitud y para medir la calidad del servicio. Los datos sensibles y los de "
             "niñas, niños y adolescentes son opcionales. Usted puede conocer, actualizar, "
             "rectificar y pedir que se supriman sus datos.\n\n¿Autoriza el tratamiento de sus "
             "datos? Con cualquiera de las dos respuestas radicamos su solicitud.",
             t->a->cfg->entity_name,
             !name                            ? "solo su número de WhatsApp"
             : vt_wa__dstr(t->draft, "email") ? "nombre, documento, número de WhatsApp y correo"
                                              : "nombre, documento y número de WhatsApp",
             "");
    vt_wa__set_state(t, "pqrsd.consent");
    return vt_wa__buttons(t, text, c, 3);
}

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

static int file_pqrsd(struct vt_wa_turn *t, bool consent)
{
    const struct vt_config *cfg = t->a->cfg;
    const char *type = vt_item_enum(vt_item_types, vt_wa__dstr(t->draft, "type"));
    const char *desc = vt_wa__dstr(t->draft, "description");
    if (!type || !desc)
        return ask_type(t); /* a draft from before a crash or an edit: start again */
    struct vt_item *it = vt_item_new();
    if (vt_wa__keep_item(t, it))
        return VT_ENOMEM;

    bool anon = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->draft, "anon"));
    it->kind = "pqrsd";
    it->type = type;
    it->petition_class =
        strcmp(type, "peticion") == 0
            ? (vt_item_enum(vt_item_classes, vt_wa__dstr(t->draft, "class")) ?: "general")
            : NULL;
    it->channel = "whatsapp";
    it->reply_channel = "whatsapp";
    it->subject = summary_subject(type, desc);
    it->body = strdup(desc);
    it->req.person_type = anon ? "anonimo" : "natural";
    if (!anon) {
        const char *v;
        if ((v = vt_wa__dstr(t->draft, "name")))
            it->req.name = strdup(v);
        if ((v = vt_item_enum(vt_item_id_types, vt_wa__dstr(t->draft, "id_type"))))
            it->req.id_type = strdup(v);
        if ((v = vt_wa__dstr(t->draft, "id_number")))
            it->req.id_number = strdup(v);
        if ((v = vt_wa__dstr(t->draft, "email")))
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
    int rc = vt_intake_file(cfg, t->tx, it, NULL);
    if (rc)
        return rc;

    /* Media sent during the draft belong to the item now. */
    int attached = 0;
    if ((rc = vt_wa_db_media_link(t->tx, t->ev->from, NULL, it->id)) ||
        (rc = vt_wa_db_media_attach_ready(t->tx, it->id, &attached)))
        return rc;

    char received[32], due[16] = "", text[1200];
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
             vt_wa__type_label(type), it->radicado, received, term);
    /* The same acknowledgement for an email copy, without chat instructions. */
    char mail[1200];
    snprintf(mail, sizeof(mail),
             "%s recibió su %s enviada por WhatsApp.\n\nRadicado: %s\nFecha de recibo: %s\n%s\n"
             "Código de seguimiento: {codigo}\n\nGuarde el radicado y el código: con ellos puede "
             "consultar el estado de su solicitud en la página de la entidad.",
             cfg->entity_name, vt_wa__type_label(type), it->radicado, received, term);
    rc = vt_wa__ack(t, it, due, text, mail);
    if (rc)
        return rc;
    vt_wa__clear_draft(t);
    vt_wa__set_state(t, "idle");
    return vt_wa__survey_after_flow(t);
}

static int on_type(struct vt_wa_turn *t)
{
    const char *id = t->ev->reply_id;
    const char *type = NULL, *klass = NULL;
    if (vt_wa__has_prefix(id, "type.")) {
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
    vt_wa__dset(t->draft, "type", type);
    vt_wa__dset(t->draft, "class",
                strcmp(type, "peticion") == 0 ? (klass ? klass : "general") : NULL);
    return ask_description(t);
}

static int append_description(struct vt_wa_turn *t, const char *more)
{
    const char *cur = vt_wa__dstr(t->draft, "description");
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
    vt_wa__dset(t->draft, "description", s);
    free(s);
    return 0;
}

static int on_description(struct vt_wa_turn *t)
{
    if (t->ev->type == VT_WA_MSG_TEXT) {
        char trimmed[VT_WA_TEXT_MAX];
        snprintf(trimmed, sizeof(trimmed), "%s", t->ev->text);
        size_t len = strlen(trimmed);
        while (len && isspace((unsigned char)trimmed[len - 1]))
            trimmed[--len] = '\0';
        if (len < 3)
            return vt_wa__say(t,
                              "La descripción es muy corta. Cuéntenos en un mensaje qué pasó o qué "
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
            return vt_wa__say(t, text);
        }
        return ask_attachments(t, NULL);
    }
    if (vt_wa__is_media(t->ev)) {
        bool full;
        int rc = vt_wa__add_media(t, &full);
        if (rc)
            return rc;
        return vt_wa__say(t,
                          "Recibimos el archivo. Ahora escriba en un mensaje la descripción de su "
                          "solicitud.");
    }
    return ask_description(t);
}

static int on_attachments(struct vt_wa_turn *t)
{
    if (vt_wa__is_reply(t, "att.done"))
        return ask_identity(t);
    if (vt_wa__is_media(t->ev)) {
        bool full;
        int rc = vt_wa__add_media(t, &full);
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
            vt_wa__location_text(t->ev, loc, sizeof(loc));
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

static int ask_name(struct vt_wa_turn *t)
{
    vt_wa__set_state(t, "pqrsd.name");
    return vt_wa__say(t, "Escriba su nombre completo.");
}

static int ask_id(struct vt_wa_turn *t)
{
    vt_wa__set_state(t, "pqrsd.id");
    return vt_wa__say(t,
                      "Escriba su tipo y número de documento, por ejemplo: *CC 1020304050*. Tipos: "
                      "CC, CE, TI, RC, PA, PPT, PEP o NIT.");
}

static int ask_email(struct vt_wa_turn *t, bool again)
{
    static const struct vt_wa_choice c[] = {{"email.skip", "Omitir", NULL}};
    vt_wa__set_state(t, "pqrsd.email");
    return vt_wa__buttons(t,
                          again ? "Ese correo no parece válido. Escríbalo de nuevo (por ejemplo: "
                                  "nombre@correo.com) o toque *Omitir*."
                                : "Si quiere recibir también la respuesta por correo electrónico, "
                                  "escriba su correo. Si no, toque *Omitir*.",
                          c, 1);
}

static int on_identity(struct vt_wa_turn *t)
{
    if (vt_wa__is_reply(t, "id.named") || strcmp(t->fold, "con mis datos") == 0) {
        vt_wa__dset(t->draft, "anon", NULL);
        return ask_name(t);
    }
    if (vt_wa__is_reply(t, "id.anon") || strcmp(t->fold, "anonima") == 0 ||
        strcmp(t->fold, "anonimo") == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->draft, "anon");
        cJSON_AddTrueToObject(t->draft, "anon");
        return ask_consent(t);
    }
    return ask_identity(t);
}

static int on_name(struct vt_wa_turn *t)
{
    size_t chars = vt_utf8_chars(t->ev->text, strlen(t->ev->text));
    if (t->ev->type != VT_WA_MSG_TEXT || chars < 3 || chars > 120)
        return vt_wa__say(t, "Escriba su nombre completo (entre 3 y 120 caracteres).");
    vt_wa__dset(t->draft, "name", t->ev->text);
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

static int on_id(struct vt_wa_turn *t)
{
    char type[8], num[40];
    size_t j = parse_id(t->ev->type == VT_WA_MSG_TEXT ? t->ev->text : "", type, num);
    if (j < 3 || j > 20)
        return vt_wa__say(
            t, "No entendimos el documento. Escriba el tipo y el número, por ejemplo: *CC "
               "1020304050*.");
    vt_wa__dset(t->draft, "id_type", type);
    vt_wa__dset(t->draft, "id_number", num);
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

static int on_email(struct vt_wa_turn *t)
{
    if (vt_wa__is_reply(t, "email.skip") || strcmp(t->fold, "omitir") == 0) {
        vt_wa__dset(t->draft, "email", NULL);
        return ask_consent(t);
    }
    if (t->ev->type == VT_WA_MSG_TEXT && email_like(t->ev->text)) {
        vt_wa__dset(t->draft, "email", t->ev->text);
        return ask_consent(t);
    }
    return ask_email(t, true);
}

static int on_consent(struct vt_wa_turn *t)
{
    if (vt_wa__is_reply(t, "consent.yes") || strcmp(t->fold, "si") == 0)
        return file_pqrsd(t, true);
    if (vt_wa__is_reply(t, "consent.no") || strcmp(t->fold, "no") == 0)
        return file_pqrsd(t, false);
    return ask_consent(t);
}

/* The step of the PQRSD being filed, asked again after a word about the survey. */
int vt_wa__pqrsd_resume(struct vt_wa_turn *t, const char *note)
{
    int rc = vt_wa__say(t, note);
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

int vt_wa__pqrsd_start(struct vt_wa_turn *t)
{
    vt_wa__clear_draft(t);
    int rc = vt_wa_db_media_discard(t->tx, t->ev->from);
    return rc ? rc : ask_type(t);
}

int vt_wa__pqrsd_on(struct vt_wa_turn *t)
{
    const char *s = t->state;
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
    return 1;
}
