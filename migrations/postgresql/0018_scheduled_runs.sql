-- 0018_scheduled_runs.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0018_scheduled_runs.sql: the last run of each periodic job and
-- the instance that ran it, so that several instances on this database run
-- it once per period. What differs: BIGINT for INTEGER.
CREATE TABLE scheduled_runs (
    name TEXT NOT NULL PRIMARY KEY,
    last_run_at BIGINT NOT NULL,
    run_by TEXT NOT NULL
);
