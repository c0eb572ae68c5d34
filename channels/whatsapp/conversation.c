/* conversation.c - the WhatsApp conversation's state machine (conversation.h):
 * applying a webhook delivery, each message recorded, dispatched by state to
 * its flow (flow.h), and the conversation written back; the main menu; and,
 * outside any flow, offering to add a citizen's message to their open item.
 *
 * Owns: the dispatch order (what "cancelar", "menú", an invitation's tap, a
 * menu tapped again and each state mean, in that order), and the states
 * new, menu, idle and offer. Each flow owns its own states (flow.h lists the
 * files).
 * Must not: hold a flow's steps or texts; touch the network.
 */
#include "channels/whatsapp/conversation.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "channels/whatsapp/flow.h"
#include "core/calendar.h"
#include "core/error.h"
#include "domain/casework.h"
#include "outbox/outbox.h"

/* ---- the job's results ---- */

/* Keeps it (NULL: no memory) alive until the job is done, committed or not:
 * the store's committed hook reads the items a job inserted. Frees it on
 * failure. 0 or VT_ENOMEM. */
int vt_wa__keep_item(struct vt_wa_turn *t, struct vt_item *it)
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

int vt_wa__add_media(struct vt_wa_turn *t, bool *full)
{
    int n = 0, rc = vt_wa_db_media_unfiled(t->tx, t->ev->from, &n);
    *full = rc == 0 && n >= t->a->cfg->attachment_max_count;
    if (rc || *full)
        return rc;
    if ((rc = vt_wa_db_media_add(t->tx, t->ev)) == 0)
        t->a->media_added = true;
    return rc;
}

/* ---- the main menu ---- */

static const struct vt_wa_choice main_menu[] = {
    {"menu.pqrsd", "Radicar una PQRSD", "Petición, queja, reclamo, sugerencia o denuncia"},
    {"menu.status", "Consultar un trámite", "Estado de una solicitud ya radicada"},
    {"menu.hearing", "Audiencia pública", "Enviar una pregunta para la rendición de cuentas"},
    {"menu.survey", "Encuesta", "Contarnos cómo lo atendimos"},
};

int vt_wa__show_menu(struct vt_wa_turn *t, bool welcome)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "%s%s%s¿Qué quiere hacer? Toque *Ver opciones* y elija una.\n\nEn cualquier momento "
             "puede escribir *menú* para volver aquí o *cancelar* para empezar de nuevo.",
             welcome ? "Hola, le damos la bienvenida al canal de atención al ciudadano de " : "",
             welcome ? t->a->cfg->entity_name : "", welcome ? ".\n\n" : "");
    vt_wa__set_state(t, "menu");
    return vt_wa__send(t, "prompt", vt_wa_msg_list(text, "Ver opciones", main_menu, 4), 0, NULL,
                       NULL, NULL);
}

static int offer_add(struct vt_wa_turn *t, const struct vt_wa_item *w)
{
    static const struct vt_wa_choice c[] = {{"item.add", "Sí, agregarlo", NULL},
                                            {"menu.open", "Ver el menú", NULL}};
    char text[500], when[32];
    vt_time_format_es(w->received_at, when);
    snprintf(text, sizeof(text),
             "Tiene abierto el trámite *%s* (%s, recibido el %.10s). ¿Quiere agregar este "
             "mensaje a ese trámite?",
             w->radicado, vt_wa__type_label(w->type), when);
    vt_wa__dset(t->draft, "pending_item", w->radicado);
    vt_wa__dset(t->draft, "pending_wamid", t->ev->id);
    vt_wa__dset(t->draft, "pending_text",
                t->ev->text[0] ? t->ev->text : (t->ev->media_id[0] ? "(archivo adjunto)" : ""));
    vt_wa__set_state(t, "offer");
    return vt_wa__buttons(t, text, c, 2);
}

static int accept_add(struct vt_wa_turn *t)
{
    const char *rad = vt_wa__dstr(t->draft, "pending_item");
    struct vt_wa_item w;
    int rc = rad ? vt_wa_db_own_item(t->tx, t->phone, rad, &w) : VT_ENOTFOUND;
    if (rc == VT_ENOTFOUND) {
        vt_wa__clear_draft(t);
        return vt_wa__show_menu(t, false);
    }
    if (rc)
        return rc;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "channel", "whatsapp");
    cJSON_AddStringToObject(p, "wamid", vt_wa__dstr(t->draft, "pending_wamid") ?: "");
    cJSON_AddStringToObject(p, "text", vt_wa__dstr(t->draft, "pending_text") ?: "");
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!ps)
        return VT_ENOMEM;
    rc = vt_store_tx_event(t->tx, w.id, "ciudadano:whatsapp", "mensaje_ciudadano", ps, 0);
    free(ps);
    if (rc == 0 && t->a->srv) /* an item waiting for completion takes up its term again */
        rc = vt_casework_citizen_replied(vt_app_domain(t->a->srv), t->tx, w.id);
    int attached = 0;
    const char *wamid = vt_wa__dstr(t->draft, "pending_wamid");
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
    vt_wa__clear_draft(t);
    vt_wa__set_state(t, "idle");
    return vt_wa__say(t, text);
}

static int on_menu(struct vt_wa_turn *t)
{
    const char *id = t->ev->reply_id;
    const char *f = t->fold;
    if (strcmp(id, "menu.pqrsd") == 0 || strcmp(f, "1") == 0)
        return vt_wa__pqrsd_start(t);
    if (strcmp(id, "menu.status") == 0 || strcmp(f, "2") == 0)
        return vt_wa__status_start(t);
    if (strcmp(id, "menu.hearing") == 0 || strcmp(f, "3") == 0)
        return vt_wa__hearing_start(t);
    if (strcmp(id, "menu.survey") == 0 || strcmp(f, "4") == 0)
        return vt_wa__survey_menu(t);
    return vt_wa__show_menu(t, false);
}

static int on_idle(struct vt_wa_turn *t)
{
    if (t->ev->type == VT_WA_MSG_TEXT || vt_wa__is_media(t->ev) ||
        t->ev->type == VT_WA_MSG_LOCATION) {
        struct vt_wa_item own[1];
        size_t n = 0;
        int rc = vt_wa_db_open_items(t->tx, t->phone, own, 1, &n);
        if (rc)
            return rc;
        if (n == 1) {
            if (vt_wa__is_media(t->ev)) {
                bool full;
                if ((rc = vt_wa__add_media(t, &full)))
                    return rc;
            }
            if (t->ev->type == VT_WA_MSG_LOCATION) {
                char loc[VT_WA_TEXT_MAX];
                vt_wa__location_text(t->ev, loc, sizeof(loc));
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
    return vt_wa__show_menu(t, false);
}

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

/* One message to its handler. The order is part of the contract (README):
 * "cancelar" and "menú" work in every state, an invitation's tap in every
 * state, a menu tapped again later still works; then the state decides. */
static int dispatch(struct vt_wa_turn *t)
{
    const struct vt_wa_event *ev = t->ev;
    const char *id = ev->reply_id;
    if (ev->type == VT_WA_MSG_REACTION)
        return 0; /* recorded; a reaction asks nothing */
    if (ev->type == VT_WA_MSG_UNKNOWN)
        return vt_wa__say(
            t, "No podemos leer ese tipo de mensaje. Por favor escriba un texto o envíe una "
               "foto, un audio o un documento.");
    if (strcmp(t->fold, "cancelar") == 0 || strcmp(id, "flow.cancel") == 0) {
        if (strcmp(t->state, "survey") == 0)
            return vt_wa__survey_cancel(t);
        bool flow = vt_wa__filing(t);
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
        vt_wa__clear_draft(t);
        vt_wa__set_state(t, "idle");
        rc = vt_wa__say(t, "Listo, cancelamos lo que estaba haciendo y no guardamos nada. Escriba "
                           "*menú* cuando quiera empezar de nuevo.");
        return rc == 0 && flow ? vt_wa__survey_after_flow(t) : rc;
    }
    if (strcmp(t->state, "offer") == 0 && strcmp(id, "item.add") != 0) {
        /* The offer was declined: a file sent with the message goes nowhere. */
        int rc = vt_wa_db_media_discard(t->tx, ev->from);
        if (rc)
            return rc;
    }
    if (strcmp(t->fold, "menu") == 0 || strcmp(id, "menu.open") == 0)
        return vt_wa__show_menu(t, false);
    int rc = vt_wa__survey_tap(t);
    if (rc <= 0)
        return rc;
    if (!t->conv.exists || strcmp(t->state, "new") == 0)
        return vt_wa__show_menu(t, true);
    if (vt_wa__has_prefix(id, "menu."))
        return on_menu(t); /* a menu tapped again later still works */
    const char *s = t->state;
    if (strcmp(s, "survey") == 0)
        return vt_wa__survey_on(t);
    if (!vt_wa__filing(t) && vt_wa__survey_word(t))
        return vt_wa__survey_menu(t);
    if (strcmp(s, "menu") == 0)
        return on_menu(t);
    if ((rc = vt_wa__pqrsd_on(t)) <= 0)
        return rc;
    if ((rc = vt_wa__hearing_on(t)) <= 0)
        return rc;
    if (strcmp(s, "status") == 0)
        return vt_wa__status_on(t);
    if (strcmp(s, "offer") == 0) {
        if (strcmp(id, "item.add") == 0)
            return accept_add(t);
        vt_wa__clear_draft(t);
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
    struct vt_wa_turn t = {.tx = tx, .a = a, .ev = ev};
    snprintf(t.phone, sizeof(t.phone), "+%s", ev->from);
    if ((rc = vt_wa_db_conv_get(tx, ev->from, &t.conv)))
        goto done;
    snprintf(t.state, sizeof(t.state), "%s", t.conv.state);
    t.draft = cJSON_Parse(t.conv.draft);
    if (!cJSON_IsObject(t.draft)) {
        cJSON_Delete(t.draft);
        t.draft = cJSON_CreateObject();
    }
    vt_wa__fold_trim(ev->type == VT_WA_MSG_TEXT ? ev->text : "", t.fold, sizeof(t.fold));
    if ((rc = vt_wa__survey_resolve(&t)))
        goto done;

    if ((rc = dispatch(&t)))
        goto done;
    /* Mark the citizen's message read: they see the blue ticks. */
    if (ev->type != VT_WA_MSG_REACTION &&
        (rc = vt_wa__send(&t, "read", vt_wa_msg_read(ev->id), 0, NULL, NULL, NULL)))
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
