/* domain.c - the domain's channels that can send (domain.h). */
#include "domain/domain.h"

#include <string.h>

#include "core/error.h"

const struct vt_sender *vt_domain_sender(const struct vt_domain *d, const char *channel)
{
    for (const struct vt_sender *const *s = d->senders; s && channel && *s; s++)
        if (strcmp((*s)->channel, channel) == 0)
            return *s;
    return NULL;
}

int vt_domain_notify(const struct vt_domain *d, struct vt_store_tx *tx, const char *channel,
                     const struct vt_notice *n)
{
    const struct vt_sender *s = vt_domain_sender(d, channel);
    return s ? s->notify(d->cfg, tx, n) : VT_ENOTFOUND;
}

int vt_domain_can_notify(const struct vt_domain *d, const char *channel, const char *recipient)
{
    const struct vt_sender *s = vt_domain_sender(d, channel);
    return s ? s->can_notify(d->cfg, recipient) : VT_ENOTFOUND;
}
