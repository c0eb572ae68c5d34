/* intake.h - turns what a citizen sent (JSON, or form fields from the web
 * channel) into a validated, classified struct vt_item ready for the store.
 *
 * Owns: the validation rules of the intake contract and the wording of their
 * Spanish error messages.
 * Must not: write anything. A rejected intake leaves no trace but a log line.
 */
#ifndef VT_INTAKE_H
#define VT_INTAKE_H
#include <stdbool.h>
#include <stddef.h>

#include "store/attach.h"
#include "core/config.h"
#include "core/form.h"
#include "core/item.h"
#include "store/store.h"

struct vt_intake_ctx {
    const struct vt_config *cfg;
    struct vt_store_reader *reader; /* contacts registry; may be NULL */
    struct vt_sniffer *sniffer;     /* content types of attachments; NULL refuses files */
};

struct vt_intake_error {
    int status;        /* HTTP status: 400, 413, 415 or 422 */
    const char *code;  /* malformed_json, invalid_utf8, missing, wrong_type, unknown_value,
                          too_long, unknown_field, invalid, too_large, unsupported_type */
    char field[64];    /* JSON path ("requester.email") or form field name ("email") */
    char message[300]; /* Spanish, for the citizen */
};

/* Parses and validates a JSON intake. On success returns 0 and a new item in
 * *out (the caller frees it); otherwise VT_EINVAL / VT_ETOOBIG with err set. */
int vt_intake_from_json(const struct vt_intake_ctx *ctx, const char *body, size_t len,
                        const char *channel, struct vt_item **out, struct vt_intake_error *err);

/* Same for flat form fields (urlencoded or multipart). File fields named
 * "attachments" become attachments whose data stays borrowed from form. */
int vt_intake_from_form(const struct vt_intake_ctx *ctx, const struct vt_form *form,
                        const char *channel, struct vt_item **out, struct vt_intake_error *err);

/* The error as the JSON body {"error":{"code","field","message"}}; caller frees. */
char *vt_intake_error_json(const struct vt_intake_error *err);

#endif
