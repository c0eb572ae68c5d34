/* registry.c - the channels compiled into this binary, in start order. */
#include <stddef.h>

#include "channels/channel.h"

extern const struct vt_channel vt_channel_web;
extern const struct vt_channel vt_channel_whatsapp;
extern const struct vt_channel vt_channel_email;

const struct vt_channel *const vt_channels[] = {&vt_channel_web, &vt_channel_whatsapp,
                                                &vt_channel_email, NULL};
