/* schedule.h - periodic work that writes runs once per period across every
 * instance on one database: table scheduled_runs (migration 0018), one row
 * per job name.
 *
 * Owns: the reads and writes of scheduled_runs.
 * Must not: know what a job does, or run it (its caller does, in the same
 * transaction, right after claiming).
 *
 * A job's run claims its period inside the job's own write transaction,
 * which takes the write lock every instance's writers share (db.h), so two
 * instances never both see the period free. The claim is granted when
 *   - nobody ran the job within the last period, or
 *   - this instance ran it last (it keeps its own rhythm, one run per tick;
 *     another takes over only when it missed a whole period), or
 *   - the store is not shared (SQLite: one instance, which always runs).
 * The claim and the work commit or roll back together.
 *
 * Threads: inside a store job (writer thread).
 */
#ifndef VT_SCHEDULE_H
#define VT_SCHEDULE_H
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Claims the period of job name for instance (vt_store_instance) at the
 * transaction's now: 1 claimed (run the job), 0 another instance ran it
 * within period_ms (do nothing), or VT_E*. shared: vt_store_shared. */
int vt_schedule_claim(struct vt_store_tx *tx, const char *name, int64_t period_ms,
                      const char *instance, bool shared);

#endif
