/* relay.h - the live feed across instances: what the other instances that
 * share the database (PostgreSQL) commit reaches this instance's /live
 * subscribers.
 *
 * Owns: the SQL of the live_relay table (migration 0016): the rows the
 * store's writer adds inside each batch's transaction, with a NOTIFY on
 * VT_RELAY_CHANNEL (delivered at the commit, never for a rolled-back batch),
 * their pruning, and the relay thread that reads the rows of the other
 * instances on a listening connection of its own.
 * Must not: call lws or the live feed itself: it hands what it read to its
 * hooks (daemon.c queues it for the loop thread). On SQLite nothing of this
 * runs: one daemon owns the database, and its writer tells its feed.
 *
 * The relay thread (relay_main):
 *
 *   connect --LISTEN ok--> (first time: position = max id) --> read
 *   read (rows with id > position, in id order; hooks for the other
 *        instances' rows; position moves past every row) --> wait
 *   wait --notified (at most one read per GAP_MS: notifications coalesce),
 *          or POLL_MS passed--> read
 *   any failure (connect, LISTEN, read, the connection lost) --> closed
 *   closed --after a backoff (0.5 s doubling to 5 s)--> connect
 *
 * Reading after every reconnect and every POLL_MS, not only on a
 * notification, is what makes a missed NOTIFY lose nothing: the rows stay
 * for RETAIN_MS (an hour), and ids are taken under the write lock, so they
 * are in commit order and a row below the position is never committed
 * later.
 */
#ifndef VT_RELAY_H
#define VT_RELAY_H
#include <stddef.h>
#include <stdint.h>

#include "core/item.h"
#include "store/migrate.h"

struct vt_db;
struct vt_relay;

#define VT_RELAY_CHANNEL "ventanilla_live"

/* What the relay thread tells, on its own thread; each may be NULL. What is
 * passed is borrowed for the call. */
struct vt_relay_hooks {
    void *ctx;
    /* Items another instance filed, in commit order, with what the feed
     * shows (id, radicado, kind, type, channel, group, status as filed,
     * due date, receipt time); nothing else of them is filled. */
    void (*items)(void *ctx, struct vt_item *const *items, size_t n);
    /* Item changes another instance committed, in commit order. */
    void (*changes)(void *ctx, const struct vt_item_change *c, size_t n);
    /* Another instance moderated a question of hearing code. */
    void (*wall)(void *ctx, const char *code);
};

/* Connects to place's database for instance (vt_store_instance) and takes
 * the newest row as the position: 0 with *out set, 0 with *out NULL when
 * place is not shared (SQLite: nothing to relay), VT_ESTORE when the
 * database cannot be reached (logged) or VT_ENOMEM. No hook runs before
 * vt_relay_start. */
int vt_relay_new(const struct vt_store_place *place, const char *instance,
                 const struct vt_relay_hooks *hooks, struct vt_relay **out);
/* Starts the relay thread (it reconnects by itself from then on): 0 or
 * VT_ENOMEM; NULL ok (does nothing). */
int vt_relay_start(struct vt_relay *r);
/* Stops the thread (within about a quarter of a second) and frees; NULL ok.
 * No hook runs after it returns. */
void vt_relay_free(struct vt_relay *r);

/* ---- the writer's side (store.c, writer thread) ---- */

/* Inside the batch's transaction, just before its COMMIT: one row with the
 * public facts of the items filed (JSON), a row for each change noted and
 * each wall (hearing code) changed, then the NOTIFY. 0 or VT_E* (the batch then fails). */
int vt_relay__write(struct vt_db *db, const char *instance, int64_t now,
                    struct vt_item *const *items, size_t n_items,
                    const struct vt_item_change *changes, size_t n_changes, const char (*walls)[64],
                    size_t n_walls);
/* Outside any transaction: when the oldest row is older than RETAIN_MS,
 * deletes a bounded number of the oldest in a write transaction of its own.
 * 0 or VT_E* (logged; the next call tries again). */
int vt_relay__prune(struct vt_db *db, int64_t now);

#endif
