/* reply.h - the standard answers: JSON errors under /api/ and /webhooks/, a
 * short Spanish page elsewhere, and JSON bodies. Every error answer of the
 * daemon goes through vt_reply_error, which builds the body with cJSON, so
 * its length and its UTF-8 are always right.
 *
 * Owns: the error envelope {"error": {"code", "field" (null when none),
 * "message" (Spanish)}} and the error page. Must not: know a route or a
 * domain rule. Loop thread, like every vt_http_respond.
 */
#ifndef VT_REPLY_H
#define VT_REPLY_H
#include <stdbool.h>

#include "http/request.h"

struct cJSON;

/* The error envelope with status; field NULL or "" is null. JSON always. */
void vt_reply_error(struct vt_http_request *req, int status, const char *code, const char *field,
                    const char *message);
/* Answers o (owned, freed here) as JSON with status. */
void vt_reply_json(struct vt_http_request *req, int status, struct cJSON *o);
/* A short page with a title and a sentence, or the error envelope under
 * /api/ and /webhooks/ (code and message as given). */
void vt_reply_problem(struct vt_http_request *req, int status, const char *code,
                      const char *title, const char *message);
/* 404, 413 (the largest files the daemon takes in its message), 500. */
void vt_reply_not_found(struct vt_http_request *req);
void vt_reply_too_large(struct vt_http_request *req);
void vt_reply_internal_error(struct vt_http_request *req);
/* 503 with Retry-After: request bodies in flight fill the body budget. */
void vt_reply_busy(struct vt_http_request *req);
/* 503 with Retry-After: the store could not read or write. */
void vt_reply_store_failed(struct vt_http_request *req);
/* True when req's body is declared JSON; else answers 415 and returns false.
 * Staff endpoints take JSON only: a cross-site form cannot send
 * application/json without a CORS preflight we never grant (login CSRF). */
bool vt_reply_require_json(struct vt_http_request *req);
/* True when the answer to req is JSON (an API or webhook path). */
bool vt_reply_wants_json(const struct vt_http_request *req);

#endif
