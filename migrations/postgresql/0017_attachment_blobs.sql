-- 0017_attachment_blobs.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0017_attachment_blobs.sql: attachment bytes by SHA-256, so any
-- instance on the database serves any file (src/store/attach.c). What
-- differs: BYTEA for BLOB.
CREATE TABLE attachment_blobs (
    sha256 TEXT NOT NULL PRIMARY KEY,
    bytes BYTEA NOT NULL
);
