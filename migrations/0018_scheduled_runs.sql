-- 0018_scheduled_runs.sql - periodic work that writes (the desistimiento
-- sweep, the expired staff sessions' sweep) runs once per period across every
-- instance on one database, not once per instance: the instance that runs a
-- job claims its period here first, inside the job's write transaction
-- (src/domain/schedule.h). last_run_at is Unix ms, run_by the instance
-- (host and data directory) that ran it.
CREATE TABLE scheduled_runs (
    name TEXT NOT NULL PRIMARY KEY,
    last_run_at INTEGER NOT NULL,
    run_by TEXT NOT NULL
);
