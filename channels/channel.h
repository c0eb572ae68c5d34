/* channel.h - how a channel (web, whatsapp, email) plugs into the daemon.
 *
 * The daemon knows channels only through this table; channels/registry.c
 * lists them. A channel registers its routes and starts its threads in
 * start(), and stops them in stop(). A channel that can send a message to a
 * requester gives its sender (domain/domain.h): the domain reaches it only
 * through that. The rest of the daemon never includes a channel's own headers.
 */
#ifndef VT_CHANNEL_H
#define VT_CHANNEL_H

#include "api/app.h"
#include "domain/domain.h"
#include "http/http.h"

struct vt_channel {
    const char *name;
    /* Registers routes on http and starts whatever the channel runs; 0 or VT_E*. */
    int (*start)(struct vt_app *app, struct vt_http *http);
    /* Stops what start started; may be NULL. */
    void (*stop)(struct vt_app *app);
    /* How the domain sends to a requester on this channel; NULL when it cannot. */
    const struct vt_sender *sender;
};

/* NULL-terminated list of the compiled-in channels (channels/registry.c). */
extern const struct vt_channel *const vt_channels[];

#endif
