/* channel.h - how a channel (web, whatsapp, email) plugs into the core.
 *
 * The core knows channels only through this table; channels/registry.c lists
 * them. A channel registers its routes and starts its threads in start(), and
 * stops them in stop(). The core never includes a channel's own headers.
 */
#ifndef VT_CHANNEL_H
#define VT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

struct vt_server;
struct vt_http;
struct vt_store_tx;

/* A file to send with a notice: stored under DATA_DIR/attachments. */
struct vt_notice_file {
    const char *path; /* absolute path of the stored file */
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

struct vt_channel {
    const char *name;
    /* Registers routes on http and starts whatever the channel runs; 0 or VT_E*. */
    int (*start)(struct vt_server *srv, struct vt_http *http);
    /* Stops what start started; may be NULL. */
    void (*stop)(struct vt_server *srv);
    /* Writer thread, inside tx: queues n on this channel's outbox. NULL when
     * the channel cannot send to a requester. 0, VT_EINVAL (the recipient is
     * not an address of this channel), VT_ENOTFOUND (the channel is not
     * enabled), or VT_E*. */
    int (*notify)(struct vt_server *srv, struct vt_store_tx *tx, const struct vt_notice *n);
    /* Any thread, no side effect: whether notify() would take recipient now.
     * 0, VT_EINVAL (not an address of this channel) or VT_ENOTFOUND (the
     * channel is not enabled). NULL exactly when notify is NULL. Lets staff
     * see how an answer will travel before they send it (src/delivery.h). */
    int (*can_notify)(struct vt_server *srv, const char *recipient);
};

/* The compiled-in channel called name, or NULL. */
const struct vt_channel *vt_channel_find(const char *name);

/* NULL-terminated list of the compiled-in channels (channels/registry.c). */
extern const struct vt_channel *const vt_channels[];

#endif
