-- 0014_staff_sessions.sql - staff sessions move from the daemon's memory to
-- the database, so that a session and its CSRF token work on every instance
-- that shares the database and survive a restart (src/domain/sessions.h).
--
-- Only hashes: token_hash is the BLAKE2b-256 of the random token in the
-- cookie, never the token; the CSRF token is not kept at all (the daemon
-- derives it from the cookie's token with a keyed BLAKE2b, api/auth.c). A row
-- lives while the account's session_epoch is still the one it was opened
-- under (0012), until logout, or until it expires (idle time, maximum age);
-- expired rows are deleted by the daemon's minute sweep.
CREATE TABLE staff_sessions (
    token_hash BLOB NOT NULL PRIMARY KEY,   -- BLAKE2b-256 of the cookie's token
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,                 -- users.session_epoch when it was opened
    created_at INTEGER NOT NULL,            -- Unix ms: the login (maximum age)
    last_used_at INTEGER NOT NULL           -- Unix ms: the last use, moved at most once a minute
) WITHOUT ROWID;
-- A password change ends the account's other sessions.
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
-- The least recently used go first when the table is full, and the sweep.
CREATE INDEX staff_sessions_last ON staff_sessions (last_used_at);
