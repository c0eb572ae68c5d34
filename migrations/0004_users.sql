-- 0004_users.sql - staff accounts: who may log in, with which role and in
-- which dependencia (office). Passwords are Argon2id hashes (libsodium
-- crypto_pwhash_str); nothing else about a password is kept.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agente', 'coordinador', 'gerente', 'moderador', 'admin')),
    dependencia TEXT,                   -- the office whose items the user works, NULL for none
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,               -- Unix ms: temporary lockout after failed logins
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
