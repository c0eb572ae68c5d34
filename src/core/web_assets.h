/* web_assets.h - the files of web/ and of its folders one level down,
 * compiled into the binary at build time (cmake/embed_assets.cmake), named
 * relative to web/ ("staff.html", "staff/main.js"). The table ends with a
 * {NULL, NULL, 0} entry. */
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
