/* domain.h - what the domain is given to act: the configuration, the data
 * directory and the channels that can send a message to a requester.
 *
 * Owns: struct vt_domain, made once by the daemon (src/daemon.c) and passed
 * to every domain module that acts on items (casework, delivery, surveys);
 * and the notice, the one way the domain reaches a channel. A channel plugs
 * its sender in (channels/channel.h); the domain never includes a channel's
 * header and never sees HTTP or the daemon.
 */
#ifndef VT_DOMAIN_H
#define VT_DOMAIN_H
#include <stddef.h>
#include <stdint.h>

struct vt_config;
struct vt_store_tx;

/* A file to send with a notice: attachment bytes already stored (attach.h),
 * named by their SHA-256; the channel reads them when it sends. */
struct vt_notice_file {
    const char *sha256; /* lowercase hex */
    const char *filename, *content_type;
};

/* A message from staff to an item's requester (an answer, an extension...). */
struct vt_notice {
    int64_t item_id;
    const char *radicado;
    const char *recipient; /* the requester's address on this channel */
    const char *kind;      /* respuesta, prorroga, traslado, completar, desistimiento, ... */
    const char *subject;   /* for channels that have one */
    const char *text;      /* plain text, Spanish */
    const struct vt_notice_file *files;
    size_t n_files;
    int64_t not_before; /* Unix ms: not sent before (a survey invitation's delay), 0: now */
    const char *secret; /* replaces "{codigo}" in text at send time, erased once delivered;
                           NULL for none (struct vt_outbound.secret) */
};

/* A channel that can send to a requester. */
struct vt_sender {
    const char *channel;
    /* Writer thread, inside tx: queues n on this channel's outbox. 0,
     * VT_EINVAL (the recipient is not an address of this channel),
     * VT_ENOTFOUND (the channel is not enabled), or VT_E*. */
    int (*notify)(const struct vt_config *cfg, struct vt_store_tx *tx, const struct vt_notice *n);
    /* Any thread, no side effect: whether notify() would take recipient now.
     * 0, VT_EINVAL or VT_ENOTFOUND as above. */
    int (*can_notify)(const struct vt_config *cfg, const char *recipient);
};

struct vt_domain {
    const struct vt_config *cfg;
    const struct vt_sender *const *senders; /* NULL-terminated; NULL for none */
};

/* The sender of channel, or NULL. */
const struct vt_sender *vt_domain_sender(const struct vt_domain *d, const char *channel);
/* Queues n on channel inside tx: the sender's notify(), or VT_ENOTFOUND
 * when no channel of that name can send. */
int vt_domain_notify(const struct vt_domain *d, struct vt_store_tx *tx, const char *channel,
                     const struct vt_notice *n);
/* Whether a notice to recipient on channel would be taken now: 0,
 * VT_EINVAL or VT_ENOTFOUND. */
int vt_domain_can_notify(const struct vt_domain *d, const char *channel, const char *recipient);

#endif
