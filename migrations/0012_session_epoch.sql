-- 0012_session_epoch.sql - staff sessions end when their account's password
-- changes or the account is disabled, whichever process made the change (the
-- daemon, or `ventanilla user passwd|disable` beside it): each such change
-- adds one to session_epoch, and a session lives only while the epoch it was
-- opened under is the account's current one (src/auth.c checks it at every
-- request and live event).
--
-- Failed sign-ins no longer lock an account: they bring growing delays kept in
-- the daemon's memory per username and address (docs/staff-api.md), so the
-- counters of the old lockout go.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
