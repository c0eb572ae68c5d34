/* form.h - parsing of HTML form bodies held whole in memory:
 * application/x-www-form-urlencoded (also URL query strings) and
 * multipart/form-data (RFC 7578). The HTTP layer enforces the size limit
 * before calling; these functions only read the bytes they are given and never
 * keep pointers into them. */
#ifndef VT_FORM_H
#define VT_FORM_H
#include <stddef.h>

struct vt_form_field {
    char *name;  /* decoded, NUL-terminated, never holds a NUL byte */
    char *value; /* decoded bytes, NUL-terminated; files may contain NULs: use value_len */
    size_t value_len;
    char *filename;     /* NULL unless the part had a filename= (path components stripped) */
    char *content_type; /* the part's declared Content-Type, or NULL */
};

/* A parsed form owns every string of every field; vt_form_cleanup frees them. */
struct vt_form {
    struct vt_form_field *fields;
    size_t n;
};

/* Parses a=b&c=d (+ as space, %XX), appending to out (start it as {0}).
 * Returns 0, VT_EINVAL on a malformed escape or a %00 in a name, VT_ETOOBIG
 * when more than max_fields fields, VT_ENOMEM. Caller cleans up out even on
 * failure. body may be NULL when len is 0. */
int vt_form_parse_urlencoded(const char *body, size_t len, size_t max_fields, struct vt_form *out);

/* Parses multipart/form-data, appending to out (start it as {0}); content_type
 * is the request's Content-Type value (NULL gives VT_EINVAL). Returns 0,
 * VT_EINVAL (not multipart/form-data, no boundary, missing closing delimiter,
 * part without Content-Disposition: form-data; name=, malformed headers or a
 * part's header block over 8 KiB), VT_ETOOBIG (more than max_fields parts),
 * VT_ENOMEM. A part with filename="" and no content (an empty file input) is
 * skipped. Caller cleans up out even on failure. */
int vt_form_parse_multipart(const char *content_type, const char *body, size_t len,
                            size_t max_fields, struct vt_form *out);

/* First field named name, or NULL; the form keeps ownership. NULL f is fine. */
const struct vt_form_field *vt_form_get(const struct vt_form *f, const char *name);

/* Frees every field; NULL ok; the form is empty and reusable afterwards. */
void vt_form_cleanup(struct vt_form *f);

#endif
