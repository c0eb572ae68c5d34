-- 0015_outbox_lease.sql - a message being sent is leased, so that several
-- instances on one database (PostgreSQL) send it once: claimed_by names the
-- instance sending it (host and data directory), lease_until (Unix ms) when
-- another instance may take it back if the first never records a result
-- (src/outbox/outbox.c). Rows left sending by an older version have neither
-- and are taken back as before.
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
