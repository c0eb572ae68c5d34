/* flow.c - what the WhatsApp conversation's flows share (flow.h): the
 * draft and the state of a turn, reading a message, and queueing replies.
 *
 * Owns: nothing of its own; every reply is an outbox row in the turn's
 * transaction. Must not: decide a flow's next step (its flow file does).
 */
#include "channels/whatsapp/flow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "outbox/outbox.h"

const char *vt_wa__dstr(const cJSON *d, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void vt_wa__dset(cJSON *d, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(d, k);
    if (v)
        cJSON_AddStringToObject(d, k, v);
}

void vt_wa__set_state(struct vt_wa_turn *t, const char *s)
{
    snprintf(t->state, sizeof(t->state), "%s", s);
}

void vt_wa__clear_draft(struct vt_wa_turn *t)
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
void vt_wa__fold_trim(const char *s, char *out, size_t n)
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
int vt_wa__send(struct vt_wa_turn *t, const char *kind, char *body, int64_t item_id,
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

int vt_wa__say(struct vt_wa_turn *t, const char *text)
{
    return vt_wa__send(t, "prompt", vt_wa_msg_text(text), 0, NULL, NULL, NULL);
}

int vt_wa__buttons(struct vt_wa_turn *t, const char *text, const struct vt_wa_choice *c, size_t n)
{
    return vt_wa__send(t, "prompt", vt_wa_msg_buttons(text, c, n), 0, NULL, NULL, NULL);
}

bool vt_wa__is_reply(const struct vt_wa_turn *t, const char *id)
{
    return strcmp(t->ev->reply_id, id) == 0;
}

bool vt_wa__has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

const char *vt_wa__type_label(const char *type)
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

bool vt_wa__is_media(const struct vt_wa_event *ev)
{
    return ev->type >= VT_WA_MSG_IMAGE && ev->type <= VT_WA_MSG_STICKER;
}

void vt_wa__location_text(const struct vt_wa_event *ev, char *out, size_t n)
{
    char place[512];
    vt_wa_cut(ev->text, sizeof(place), place, sizeof(place));
    snprintf(out, n, "Ubicación: %.6f, %.6f%s%s", ev->latitude, ev->longitude,
             place[0] ? " - " : "", place);
}

bool vt_wa__filing(const struct vt_wa_turn *t)
{
    return vt_wa__has_prefix(t->state, "pqrsd.");
}

int vt_wa__ack(struct vt_wa_turn *t, const struct vt_item *it, const char *due, const char *text,
               const char *mail)
{
    char params[300];
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateString(it->radicado));
    cJSON_AddItemToArray(p, cJSON_CreateString(due[0] ? due : "sin plazo"));
    cJSON_AddItemToArray(p, cJSON_CreateString("{codigo}"));
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    snprintf(params, sizeof(params), "%s", ps ? ps : "[]");
    free(ps);
    return vt_wa__send(t, "ack", vt_wa_msg_text(text), it->id, params, it->tracking_code, mail);
}
