-- 0015_outbox_lease.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0015_outbox_lease.sql: a message being sent is leased
-- (claimed_by, lease_until in Unix ms), so that several instances on one
-- database send it once. What differs: BIGINT for INTEGER.
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
