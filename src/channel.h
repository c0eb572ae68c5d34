/* channel.h - how a channel (web, whatsapp, email) plugs into the core.
 *
 * The core knows channels only through this table; channels/registry.c lists
 * them. A channel registers its routes and starts its threads in start(), and
 * stops them in stop(). The core never includes a channel's own headers.
 */
#ifndef VT_CHANNEL_H
#define VT_CHANNEL_H

struct vt_server;
struct vt_http;

struct vt_channel {
    const char *name;
    /* Registers routes on http and starts whatever the channel runs; 0 or VT_E*. */
    int (*start)(struct vt_server *srv, struct vt_http *http);
    /* Stops what start started; may be NULL. */
    void (*stop)(struct vt_server *srv);
};

/* NULL-terminated list of the compiled-in channels (channels/registry.c). */
extern const struct vt_channel *const vt_channels[];

#endif
