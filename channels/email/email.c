/* email.c - the email channel: one IMAP poller per configured mailbox and the
 * SMTP transport of the outbox.
 *
 * Owns: the channel's state (the pollers, the transport entry).
 * Must not: block the loop thread; it serves no route.
 */
#include <stdlib.h>

#include "channels/email/mime.h"
#include "channels/email/poller.h"
#include "channels/email/smtp.h"
#include "src/channel.h"
#include "src/error.h"
#include "src/log.h"
#include "src/outbox.h"
#include "src/server.h"

struct mail_channel {
    struct vt_outbox_transport transport;
    struct vt_mail_poller **pollers;
    size_t n_pollers;
};

static int mail_start(struct vt_server *srv, struct vt_http *http)
{
    (void)http;
    const struct vt_config *cfg = vt_server_config(srv);
    if (!cfg->email.enabled)
        return 0;
    vt_mime_init();
    struct mail_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return VT_ENOMEM;
    vt_server_set_channel_data(srv, "email", ch);
    ch->transport = (struct vt_outbox_transport){"email",       (void *)cfg,  vt_smtp_open,
                                                 vt_smtp_close, vt_smtp_send, vt_smtp_interrupt};
    int rc = vt_outbox_register(vt_server_outbox(srv), &ch->transport);
    if (rc)
        return rc;
    if (!(ch->pollers = calloc(cfg->email.n_mailboxes + 1, sizeof(*ch->pollers))))
        return VT_ENOMEM;
    for (size_t i = 0; i < cfg->email.n_mailboxes; i++) {
        struct vt_mail_poller *p = vt_mail_poller_start(
            cfg, &cfg->email.mailboxes[i], vt_server_store(srv), vt_server_data_dir(srv));
        if (!p)
            return VT_ENOMEM;
        ch->pollers[ch->n_pollers++] = p;
    }
    vt_log(VT_LOG_INFO, "email_ready", "mailboxes=%zu", ch->n_pollers);
    return 0;
}

static void mail_stop(struct vt_server *srv)
{
    struct mail_channel *ch = vt_server_channel_data(srv, "email");
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n_pollers; i++)
        vt_mail_poller_stop(ch->pollers[i]);
    free(ch->pollers);
    vt_server_set_channel_data(srv, "email", NULL);
    free(ch);
}

const struct vt_channel vt_channel_email = {"email", mail_start, mail_stop};
