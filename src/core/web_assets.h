/* web_assets.h - the files of web/, compiled into the binary at build time
 * (cmake/embed_assets.cmake). The table ends with a {NULL, NULL, 0} entry. */
#ifndef VT_WEB_ASSETS_H
#define VT_WEB_ASSETS_H
#include <stddef.h>

struct vt_web_asset {
    const char *name;
    const unsigned char *data;
    size_t size;
};

extern const struct vt_web_asset vt_web_assets[];

#endif
