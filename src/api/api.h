/* api.h - the JSON API routes and the helpers channels share with it. */
#ifndef VT_API_H
#define VT_API_H

#include "core/form.h"
#include "http/http.h"
#include "domain/intake.h"
#include "store/store.h"

struct vt_app;

/* Registers /api/v1/items, /api/v1/track, /healthz and /metrics. */
int vt_api_register(struct vt_http *http);

/* Parses an urlencoded or multipart request body into form; 0, or non-zero
 * with e set (400 malformed, 413 too many fields). Caller cleans up form. */
int vt_api_parse_form(struct vt_http_request *req, struct vt_form *form, struct vt_intake_error *e);

/* The public status of an item by radicado and tracking code; VT_ENOTFOUND
 * alike for an unknown radicado and a wrong code. Loop thread. */
int vt_api_track_lookup(struct vt_app *srv, const char *radicado, const char *code,
                        struct vt_track *out);

/* Spanish sentence for a public audit action. */
const char *vt_api_action_description(const char *action);

#endif
