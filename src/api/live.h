/* live.h - the live feed: WebSocket /live (subprotocol ventanilla-live) with
 * the "items" and "metrics" topics, and the "staff" and "dashboard" topics
 * for staff sessions.
 *
 * Owns: the subscriber list, each subscriber's outgoing queue, the dashboard
 * counts (loaded from the store at start, then advanced by each commit) and
 * the hand-off queue from the writer thread.
 * Must not: carry personal data on the public topics. Item events hold only
 * radicado, kind, type, channel, group, status, due date and receipt time.
 * The cookie of a handshake is used only when its Origin is ours
 * (entity.public_url's, live.allowed_origins, or the Host the browser
 * addressed): a page of another site opening /live with a staff member's
 * browser gets what a visitor without a session gets (cross-site WebSocket
 * hijacking). Public topics need no Origin.
 * The "staff" topic is for a connection whose handshake carried a staff
 * session cookie: it gets queue rows (subject included) of the items in the
 * staff member's scope, re-checked against the session at every event, so a
 * logout, an expiry or a disabled account stops the flow.
 * The "dashboard" topic is for a gerente's session (checked when subscribing
 * and again before every send, like "staff"): the managers' figures
 * (dashboard.h) on subscribing, then again after committed changes and at
 * each due refresh, at most once a second. A subscriber without a session,
 * or of another role, gets {"topic":"error","code":"unauthenticated" or
 * "forbidden"} instead, as does one whose session ends later.
 *
 * Threads: vt_live_publish, vt_live_publish_changes and vt_live_publish_wall
 * only queue and wake the loop: they run on the store's writer thread and
 * on the live relay's (store/relay.h: what other instances committed).
 * Every other function runs on the loop thread.
 */
#ifndef VT_LIVE_H
#define VT_LIVE_H
#include <stddef.h>
#include <stdint.h>

#include "core/item.h"
#include "store/store.h"

struct vt_live;
struct vt_app;
struct lws_protocols;

/* Creates the feed with counts from the database (snapshot may be NULL). */
struct vt_live *vt_live_new(struct vt_app *srv, const struct vt_snapshot *snapshot);
void vt_live_free(struct vt_live *l); /* NULL ok */

/* Writer thread: queues the committed items' public facts and wakes the loop. */
void vt_live_publish(struct vt_live *l, struct vt_item *const *items, size_t n);
/* Loop thread: sends what was queued to the subscribers. */
void vt_live_drain(struct vt_live *l);
/* Loop thread: replaces overdue/due-soon counts (they move with the clock);
 * the dashboard topic's figures are refreshed too. */
void vt_live_set_due_counts(struct vt_live *l, long long overdue, long long due_soon);

/* Writer thread (the store's changed hook): queues committed item changes.
 * Staff subscribers in scope of the item's dependencia, before or after the
 * change, get its queue row; the status counts move. */
void vt_live_publish_changes(struct vt_live *l, const struct vt_item_change *c, size_t n);
/* Loop thread: an item entered the due-soon window. */
void vt_live_staff_due_soon(struct vt_live *l, int64_t item_id);

/* Loop thread: a question of hearing code was moderated; its "wall"
 * subscribers get the wall again (vt_hearing_wall_json). */
void vt_live_wall_changed(struct vt_live *l, const char *code);

/* Any thread (the live relay's): queues vt_live_wall_changed(l, code) for
 * the loop thread and wakes it. */
void vt_live_publish_wall(struct vt_live *l, const char *code);

/* Connected WebSocket clients (for /metrics). */
int vt_live_clients(struct vt_live *l);

/* The lws protocol entry for "ventanilla-live". */
const struct lws_protocols *vt_live_protocol(void);

#endif
