/* flow_hearing.c - a question for a public hearing, sent on WhatsApp while a
 * hearing takes questions (domain/hearing.h decides which one and files it).
 *
 * Owns: the hearing.* states, their Spanish prompts and the draft's fields
 * hearing (the hearing's code) and question.
 * Must not: judge the question window itself: vt_hearing_open_now offers the
 * hearing, and vt_hearing_question_run checks the window again when filing.
 *
 *   menu --menu.hearing--> hearing.text                   vt_wa__hearing_start
 *   menu --menu.hearing, no hearing takes questions--> idle
 *   hearing.text --text--> hearing.name                   on_hearing_text
 *   hearing.text --text, no profile name--> idle          hearing_file
 *   hearing.name --hq.name|hq.anon--> idle                hearing_file
 *
 * Without a WhatsApp profile name there is no name to show on the wall, so
 * the question is filed at once; with one, the citizen chooses. The question
 * is an item with a radicado, acknowledged like a PQRSD. If the window
 * closed meanwhile nothing is filed and the citizen is told so.
 */
#include "channels/whatsapp/flow.h"

#include <stdio.h>
#include <string.h>

#include "channels/whatsapp/conversation.h"
#include "core/calendar.h"
#include "core/error.h"
#include "core/text.h"
#include "domain/hearing.h"

static const char HEARING_CLOSED[] =
    "Por ahora no hay una audiencia pública abierta para recibir preguntas. Cuando la entidad "
    "la convoque, podrá enviar su pregunta por aquí. Escriba *menú* para ver las demás opciones.";

static const struct vt_wa_choice hearing_name_buttons[] = {{"hq.name", "Sí, con mi nombre", NULL},
                                                           {"hq.anon", "Sin nombre", NULL}};

int vt_wa__hearing_start(struct vt_wa_turn *t)
{
    struct vt_hearing h;
    int rc = vt_hearing_open_now(t->tx, &h);
    if (rc == VT_ENOTFOUND) {
        vt_wa__set_state(t, "idle");
        return vt_wa__say(t, HEARING_CLOSED);
    }
    if (rc)
        return rc;
    vt_wa__clear_draft(t);
    if ((rc = vt_wa_db_media_discard(t->tx, t->ev->from)))
        return rc;
    vt_wa__dset(t->draft, "hearing", h.code);
    char date[16], text[900];
    vt_date_format_es(h.date, date);
    snprintf(text, sizeof(text),
             "Audiencia pública: *%s* (%s%s%s).\n\nEscriba en un solo mensaje su pregunta para "
             "la audiencia (máximo 2000 caracteres). Escriba *cancelar* para salir.",
             h.name, date, h.place[0] ? ", " : "", h.place);
    vt_wa__set_state(t, "hearing.text");
    return vt_wa__say(t, text);
}

static int hearing_file(struct vt_wa_turn *t, bool show)
{
    const char *code = vt_wa__dstr(t->draft, "hearing");
    const char *text = vt_wa__dstr(t->draft, "question");
    if (!code || !text)
        return vt_wa__hearing_start(t); /* a draft from before a crash or an edit */
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
        vt_wa__clear_draft(t);
        vt_wa__set_state(t, "idle");
        return vt_wa__say(
            t, "La recepción de preguntas para esta audiencia ya cerró y no guardamos su "
               "pregunta. Si quiere, puede radicar una petición: escriba *menú*.");
    }
    struct vt_item *it = q.item;
    if (vt_wa__keep_item(t, it))
        return VT_ENOMEM;
    if ((rc = vt_hearing_question_contact(t->tx, it, t->phone, NULL, "whatsapp")))
        return rc;
    char received[32], due[16] = "", msg[1200], mail[1200];
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
    if ((rc = vt_wa__ack(t, it, due, msg, mail)))
        return rc;
    vt_wa__clear_draft(t);
    vt_wa__set_state(t, "idle");
    return 0;
}

static int on_hearing_text(struct vt_wa_turn *t)
{
    const struct vt_wa_event *ev = t->ev;
    size_t n = ev->type == VT_WA_MSG_TEXT ? strlen(ev->text) : 0;
    if (!n || strspn(ev->text, " \t\r\n") == n)
        return vt_wa__say(t,
                          "Escriba su pregunta como un mensaje de texto, o *cancelar* para salir.");
    if (n > 2000 || !vt_utf8_valid(ev->text, n))
        return vt_wa__say(t,
                          "Su pregunta es demasiado larga: escríbala en máximo 2000 caracteres.");
    vt_wa__dset(t->draft, "question", ev->text);
    if (!ev->profile_name[0])
        return hearing_file(t, false);
    char text[400];
    snprintf(text, sizeof(text),
             "¿Quiere que su nombre (*%s*) aparezca con la pregunta en la pantalla de la "
             "audiencia?",
             ev->profile_name);
    vt_wa__set_state(t, "hearing.name");
    return vt_wa__buttons(t, text, hearing_name_buttons, 2);
}

static int on_hearing_name(struct vt_wa_turn *t)
{
    const char *f = t->fold;
    if (vt_wa__is_reply(t, "hq.name") || strcmp(f, "si") == 0 ||
        strcmp(f, "si, con mi nombre") == 0)
        return hearing_file(t, true);
    if (vt_wa__is_reply(t, "hq.anon") || strcmp(f, "no") == 0 || strcmp(f, "sin nombre") == 0)
        return hearing_file(t, false);
    return vt_wa__buttons(t,
                          "Elija una opción: ¿mostramos su nombre en la pantalla de la audiencia?",
                          hearing_name_buttons, 2);
}

int vt_wa__hearing_on(struct vt_wa_turn *t)
{
    if (strcmp(t->state, "hearing.text") == 0)
        return on_hearing_text(t);
    if (strcmp(t->state, "hearing.name") == 0)
        return on_hearing_name(t);
    return 1;
}
