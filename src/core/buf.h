/* buf.h - a growable byte buffer, always NUL-terminated. Used to build HTTP
 * responses, HTML pages and JSON. Owns its memory: vt_buf_cleanup() frees it. */
#ifndef VT_BUF_H
#define VT_BUF_H
#include <stddef.h>

struct vt_buf {
    char *data; /* NUL-terminated, NULL until the first append */
    size_t len;
    size_t cap;
};

/* Appends n bytes; returns 0 or VT_ENOMEM. */
int vt_buf_append(struct vt_buf *b, const void *p, size_t n);
/* Appends a C string; returns 0 or VT_ENOMEM. */
int vt_buf_puts(struct vt_buf *b, const char *s);
/* Appends printf-formatted text; returns 0 or VT_ENOMEM. */
int vt_buf_printf(struct vt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the memory; the buffer is empty and reusable afterwards. NULL is fine. */
void vt_buf_cleanup(struct vt_buf *b);
/* Hands the data to the caller (who frees it) and empties the buffer. */
char *vt_buf_steal(struct vt_buf *b, size_t *len);

#endif
