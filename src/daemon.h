/* daemon.h - `ventanilla serve`: the daemon's lifetime, and the list of
 * its threads and their owners (daemon.c's opening comment).
 *
 * Owns: the shared context (struct vt_app, api/app.h) for the daemon's life,
 * the store hooks called at commit time, the minute tick (due counts,
 * desistimiento sweep), signals and the data directory's lock.
 * Must not: hold request logic or register a route itself (routes.c does).
 */
#ifndef VT_DAEMON_H
#define VT_DAEMON_H

#include "core/config.h"
#include "store/migrate.h"

/* Runs the daemon until SIGTERM/SIGINT. Returns a process exit code. */
int vt_daemon_main(struct vt_config *cfg, const struct vt_store_place *place, int port);

#endif
