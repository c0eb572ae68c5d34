-- 0017_attachment_blobs.sql - attachment bytes in the database, by their
-- SHA-256 (lowercase hex, as attachments.sha256 names them). Only the
-- PostgreSQL backend fills it: several instances then read every file from
-- the one database its replication and backups already cover. On SQLite the
-- table stays empty and the files stay under DATA_DIR/attachments
-- (src/store/attach.c). Content-addressed: written once, never updated.
CREATE TABLE attachment_blobs (
    sha256 TEXT NOT NULL PRIMARY KEY,
    bytes BLOB NOT NULL
);
