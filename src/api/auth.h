/* auth.h - staff sessions: login, logout, the session cookie, CSRF tokens,
 * and the throttling of failed logins (docs/staff-api.md).
 *
 * Owns: what a session means over HTTP (the cookie, its CSRF token, expiry,
 * the routes /api/v1/session, /api/v1/session/logout and
 * /api/v1/session/password); the pool of login workers that verify Argon2id
 * hashes off the loop (a queue fair between client addresses); the failure
 * counts of logins (in memory, loop thread). The sessions themselves are rows
 * of the database (domain/sessions.h), so that every instance on one database
 * knows them and they outlive a restart.
 * Must not: decide what a role may do with an item (casework.h and
 * staff_api.c do); keep a password or a session token anywhere but in the
 * caller's memory (only the BLAKE2b hash of a token is stored; the CSRF token
 * is derived from the token and not stored at all); answer a login for an
 * unknown username any differently from one for a real account.
 *
 * A session's life:
 *
 *   POST /api/v1/session --worker: hash ok, row stored--> created (cookie + CSRF token)
 *   created --any request within idle time (vt_auth_check)--> last use moved
 *             (written at most once a minute, in the background)
 *   created --idle too long | max age reached--> gone (row deleted when seen,
 *             or by the minute sweep, vt_auth_sweep)
 *   created --account disabled or password changed (its session_epoch moved
 *             on, by any instance or by `ventanilla user passwd|disable`),
 *             seen at the next request or live event--> gone
 *   created --POST /api/v1/session/logout (row deleted, committed before
 *             the answer)--> gone on every instance
 *   daemon restart --> unchanged (the row is in the database)
 *
 * A failed login, or a wrong current password on a password change, counts
 * against the username from that address and against the username alone;
 * past staff.login_delay_after of them each further attempt from that
 * address waits a growing delay (429 throttled, Retry-After), whether the
 * account exists or not (auth.c tells the whole rule). Attempts from one
 * address are also limited to login_per_minute whatever the username. These
 * counts stay per instance.
 *
 * Threads: everything here runs on the loop thread except the workers.
 */
#ifndef VT_AUTH_H
#define VT_AUTH_H
#include <stdbool.h>
#include <stdint.h>

#include "domain/staff.h"
#include "http/http.h"

struct vt_auth;
struct vt_app;

/* Starts the login workers. NULL when out of memory or no thread. */
struct vt_auth *vt_auth_new(struct vt_app *srv);
/* Stops the workers (answering what they still hold with 503) and frees. NULL ok. */
void vt_auth_free(struct vt_auth *a);
/* Registers the session routes. */
int vt_auth_register(struct vt_http *http);

/* The staff member of req's session (loop thread). write: the request changes
 * state, so its X-CSRF-Token must match. Returns 0 with *out filled; or
 * answers req itself (401 unauthenticated, 403 csrf, 403
 * password_change_required, 503 unavailable when the database cannot be
 * read) and returns VT_EPERM. */
int vt_auth_check(struct vt_http_request *req, bool write, struct vt_staff *out);

/* vt_auth_check, then the role: roles is a mask of 1 << enum vt_role. True
 * with *who filled; false having answered (401, 403 csrf, 403 forbidden). */
bool vt_auth_require(struct vt_http_request *req, unsigned roles, bool write, struct vt_staff *who);

/* The staff member of a Cookie header (a WebSocket handshake), without
 * touching the session's idle time; a session that has ended is forgotten.
 * 0 or VT_EPERM. Loop thread. */
int vt_auth_cookie_staff(struct vt_app *srv, const char *cookie, struct vt_staff *out);

/* Deletes the expired sessions, and those their accounts no longer admit, in
 * the background (a store job), unless another instance on the database did
 * within staff.due_refresh_seconds (domain/schedule.h). Loop thread; the
 * daemon calls it every staff.due_refresh_seconds. */
void vt_auth_sweep(struct vt_app *srv);

#endif
