/* registry.c - the channels compiled into this binary, in start order. */
#include <stddef.h>

#include "src/channel.h"

extern const struct vt_channel vt_channel_web;

const struct vt_channel *const vt_channels[] = {&vt_channel_web, NULL};
