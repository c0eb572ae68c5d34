-- 0014_staff_sessions.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0014_staff_sessions.sql: staff sessions in the database, only
-- the BLAKE2b-256 hash of each cookie's token (never the token, nor the CSRF
-- token), so that every instance on this database knows every session.
-- What differs: BLOB is BYTEA, INTEGER is BIGINT, no WITHOUT ROWID.
CREATE TABLE staff_sessions (
    token_hash BYTEA NOT NULL PRIMARY KEY,  -- BLAKE2b-256 of the cookie's token
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL,                  -- users.session_epoch when it was opened
    created_at BIGINT NOT NULL,             -- Unix ms: the login (maximum age)
    last_used_at BIGINT NOT NULL            -- Unix ms: the last use, moved at most once a minute
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_last ON staff_sessions (last_used_at);
