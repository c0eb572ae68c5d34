/* email.c - the email channel: one IMAP poller per configured mailbox and the
 * SMTP transport of the outbox.
 *
 * Owns: the channel's state (the pollers, the transport entry).
 * Must not: block the loop thread; it serves no route.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "channels/email/db.h"
#include "channels/email/take.h"

#include "channels/email/mime.h"
#include "channels/email/poller.h"
#include "channels/email/smtp.h"
#include "channels/channel.h"
#include "core/error.h"
#include "core/log.h"
#include "outbox/outbox.h"
#include "api/app.h"
#include "http/reply.h"

struct mail_channel {
    struct vt_outbox_transport transport;
    struct vt_mail_poller **pollers;
    size_t n_pollers;
};

static int mail_start(struct vt_app *srv, struct vt_http *http)
{
    (void)http;
    const struct vt_config *cfg = vt_app_config(srv);
    if (!cfg->email.enabled)
        return 0;
    vt_mime_init();
    struct mail_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return VT_ENOMEM;
    vt_app_set_channel_data(srv, "email", ch);
    ch->transport = (struct vt_outbox_transport){"email",       (void *)cfg,  vt_smtp_open,
                                                 vt_smtp_close, vt_smtp_send, vt_smtp_interrupt};
    int rc = vt_outbox_register(vt_app_outbox(srv), &ch->transport);
    if (rc)
        return rc;
    if (!(ch->pollers = calloc(cfg->email.n_mailboxes + 1, sizeof(*ch->pollers))))
        return VT_ENOMEM;
    for (size_t i = 0; i < cfg->email.n_mailboxes; i++) {
        struct vt_mail_poller *p =
            vt_mail_poller_start(srv, cfg, &cfg->email.mailboxes[i], vt_app_store(srv));
        if (!p)
            return VT_ENOMEM;
        ch->pollers[ch->n_pollers++] = p;
    }
    vt_log(VT_LOG_INFO, "email_ready", "mailboxes=%zu", ch->n_pollers);
    return 0;
}

static void mail_stop(struct vt_app *srv)
{
    struct mail_channel *ch = vt_app_channel_data(srv, "email");
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n_pollers; i++)
        vt_mail_poller_stop(ch->pollers[i]);
    free(ch->pollers);
    vt_app_set_channel_data(srv, "email", NULL);
    free(ch);
}

/* Writer thread: a staff message to a requester (or to another entity), as
 * a reply in the requester's own thread when they wrote to us by email. */
static int mail_can_notify(const struct vt_config *cfg, const char *recipient)
{
    if (!cfg->email.enabled)
        return VT_ENOTFOUND; /* nothing would ever send it */
    if (!recipient || !strchr(recipient, '@') || strpbrk(recipient, " \r\n<>,;"))
        return VT_EINVAL;
    return 0;
}

static int mail_notify(const struct vt_config *cfg, struct vt_store_tx *tx,
                       const struct vt_notice *n)
{
    int rc = mail_can_notify(cfg, n->recipient);
    if (rc)
        return rc;
    char mid[200], last[1000] = "";
    vt_mail_new_message_id(cfg, mid, sizeof(mid));
    vt_mail_db_last_citizen_message(tx, n->item_id, last, sizeof(last));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "subject", n->subject ? n->subject : "");
    cJSON_AddStringToObject(b, "text", n->text);
    cJSON_AddStringToObject(b, "message_id", mid);
    if (last[0] && strcmp(n->kind, "traslado_entidad") != 0) {
        cJSON_AddStringToObject(b, "in_reply_to", last);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(b, "references"), cJSON_CreateString(last));
    }
    if (n->n_files) {
        cJSON *arr = cJSON_AddArrayToObject(b, "attachments");
        for (size_t i = 0; i < n->n_files; i++) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "sha256", n->files[i].sha256);
            cJSON_AddStringToObject(f, "filename", n->files[i].filename);
            cJSON_AddStringToObject(f, "content_type", n->files[i].content_type);
            cJSON_AddItemToArray(arr, f);
        }
    }
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    if (!body)
        return VT_ENOMEM;
    struct vt_outbound o = {n->item_id, "email",   n->recipient, n->kind,      body,
                            NULL,       n->secret, NULL,         n->not_before};
    rc = vt_outbox_add(tx, &o);
    free(body);
    /* A reply to our answer threads into the item. */
    return rc ? rc : vt_mail_db_thread_add(tx, mid, n->item_id, true);
}

static const struct vt_sender mail_sender = {"email", mail_notify, mail_can_notify};

const struct vt_channel vt_channel_email = {"email", mail_start, mail_stop, &mail_sender};
