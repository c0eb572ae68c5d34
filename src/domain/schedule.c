/* schedule.c - the claims of periodic work (schedule.h). */
#include "domain/schedule.h"

#include "core/error.h"
#include "core/log.h"
#include "store/db.h"

/* One statement: the row made on the first run, moved on when the rule of
 * schedule.h grants the period; no row changed means another instance ran
 * the job within it. */
static const char SQL_CLAIM[] =
    "INSERT INTO scheduled_runs (name, last_run_at, run_by) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at, "
    "run_by = excluded.run_by WHERE scheduled_runs.last_run_at <= ?4 "
    "OR scheduled_runs.run_by = ?3 OR ?5 = 1";

int vt_schedule_claim(struct vt_store_tx *tx, const char *name, int64_t period_ms,
                      const char *instance, bool shared)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_CLAIM);
    if (!st)
        return VT_ESTORE;
    int64_t now = vt_store_tx_now(tx);
    vt_db_bind_text(st, 1, name);
    vt_db_bind_int(st, 2, now);
    vt_db_bind_text(st, 3, instance);
    vt_db_bind_int(st, 4, now - period_ms);
    vt_db_bind_int(st, 5, !shared);
    int rc = vt_db_run(st);
    if (rc)
        return rc;
    bool claimed = vt_db_changes(st) > 0;
    if (claimed)
        vt_log(VT_LOG_DEBUG, "scheduled_run", "name=%s at=%lld", name, (long long)now);
    else
        vt_log(VT_LOG_DEBUG, "scheduled_skipped", "name=%s note=\"another instance ran it\"", name);
    return claimed;
}
