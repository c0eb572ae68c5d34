-- 0012_session_epoch.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0012_session_epoch.sql: staff sessions live only while the
-- epoch they were opened under is their account's current one, and the
-- counters of the old lockout go. What differs: INTEGER is BIGINT.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
