/* flow_status.c - looking an item up on WhatsApp: the sender's own open
 * items (by the phone number WhatsApp proves), or any item by its radicado
 * and tracking code.
 *
 * Owns: the status state and its Spanish texts.
 * Must not: show an item to anyone but its requester: a listed item is
 * looked up again by the sender's phone, a typed one needs its code.
 *
 *   menu --menu.status--> status                          vt_wa__status_start
 *   status --status.item.R | "R CODE"--> idle             status_reply
 *   status --anything else--> status (asked again)        vt_wa__status_on
 */
#include "channels/whatsapp/flow.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "channels/whatsapp/conversation.h"
#include "core/calendar.h"
#include "core/error.h"

static int status_reply(struct vt_wa_turn *t, const struct vt_wa_item *w)
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
    vt_wa__set_state(t, "idle");
    return vt_wa__say(t, text);
}

int vt_wa__status_start(struct vt_wa_turn *t)
{
    struct vt_wa_item own[9];
    size_t n = 0;
    int rc = vt_wa_db_open_items(t->tx, t->phone, own, 9, &n);
    if (rc)
        return rc;
    vt_wa__set_state(t, "status");
    char ask[300];
    snprintf(ask, sizeof(ask),
             "Escriba el radicado y el código de seguimiento separados por un espacio, por "
             "ejemplo: %s%s2026-000123 ABCD2345EF",
             t->a->cfg->radicado_prefix, t->a->cfg->radicado_prefix[0] ? "-" : "");
    if (n == 0)
        return vt_wa__say(t, ask);
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
    return vt_wa__send(t, "prompt", vt_wa_msg_list(text, "Ver trámites", c, n), 0, NULL, NULL,
                       NULL);
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

int vt_wa__status_on(struct vt_wa_turn *t)
{
    if (vt_wa__has_prefix(t->ev->reply_id, "status.item.")) {
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
    return vt_wa__say(t,
                      "No encontramos un trámite con ese radicado y código. Revíselos e intente de "
                      "nuevo (por ejemplo: 2026-000123 ABCD2345EF), o escriba *menú*.");
}
