/* intake.h - the one way an item is filed. Every channel (the web form and
 * the JSON API, email, WhatsApp), hearing questions (from any channel or
 * staff entry) and survey answers build a struct vt_item with what differs
 * (who sent what, on which channel), then intake completes it the same way
 * for all: its status, legal term, tracking code and stakeholder group
 * (vt_intake_complete), and stores it: radicado, due date, requester,
 * attachments and the "radicado" audit event (vt_intake_file, or the store's
 * group commit for the web's intakes, vt_app_submit). The channel then
 * acknowledges on its own medium.
 *
 * Owns: the validation rules of the intake contract (JSON and form fields)
 * and the wording of their Spanish error messages; the completion rules.
 * Must not: write anything but through the store. A rejected intake leaves no
 * trace but a log line.
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

/* Completes a built item before it is stored: status "radicado" unless the
 * channel set one; its legal term from kind, type and class; a tracking code
 * for what a citizen tracks (PQRSD and hearing questions); and its
 * stakeholder group, classified from the requester and the text (with
 * declared_group, NULL for none, and the contacts register through lookup,
 * NULL for none) unless the channel set it->group itself. 0 or VT_E*. */
int vt_intake_complete(const struct vt_config *cfg, struct vt_item *it, const char *declared_group,
                       vt_contact_lookup_fn lookup, void *lookup_ctx);

/* What vt_intake_complete does, with model m (NULL: the rules only) instead
 * of the one in use, and the suggestion copied to sug (NULL: not wanted):
 * classify eval runs it on each line of a corpus. Also: when the channel
 * only guessed the type (it->needs_triage, or no type), the model's type,
 * with needs_triage left set below classify.type_confidence; a peticion
 * without a class gets the model's class (else general); and at or above
 * classify.route_confidence the item is filed routed (it->dependencia,
 * it->route_payload). 0 or VT_E*. */
struct vt_textmodel;
struct vt_suggestion;
int vt_intake_classify(const struct vt_config *cfg, const struct vt_textmodel *m,
                       struct vt_item *it, const char *declared_group, vt_contact_lookup_fn lookup,
                       void *lookup_ctx, struct vt_suggestion *sug);

/* An e-mail subject's type: its "[PQRSD:tipo]" tag, else the first
 * channels.email.type_rules keyword that is a whole word of it; NULL. */
const char *vt_intake_type_from_subject(const struct vt_config *cfg, const char *subject);

/* Writer thread, inside tx: completes it (the register read on the write
 * connection) and stores it. The caller keeps it alive until the job is
 * done (the live feed reads it after the commit). 0 or VT_E*. */
int vt_intake_file(const struct vt_config *cfg, struct vt_store_tx *tx, struct vt_item *it,
                   const char *declared_group);

/* The error as the JSON body {"error":{"code","field","message"}}; caller frees. */
char *vt_intake_error_json(const struct vt_intake_error *err);

#endif
