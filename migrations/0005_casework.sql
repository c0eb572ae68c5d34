-- 0005_casework.sql - what staff do with items: the entity's dependencias,
-- routing (dependencia, assignee), corrected labels, the pause of art. 17,
-- the extension of art. 14, transfers, responses, and the full-text index of
-- the queue.

-- The entity's offices. Managed by admins (POST /api/v1/dependencias).
CREATE TABLE dependencias (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A one-time password (the first admin's) must be changed at first login.
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;

-- Routing: NULL dependencia means "not routed yet" (the triage office's).
ALTER TABLE items ADD COLUMN dependencia TEXT;
ALTER TABLE items ADD COLUMN assignee_id INTEGER REFERENCES users (id);
-- The labels the item had before its first reclassification (NULL: never
-- reclassified). The current labels stay in type, petition_class and
-- stakeholder_group, which every filter and report reads.
ALTER TABLE items ADD COLUMN original_type TEXT;
ALTER TABLE items ADD COLUMN original_petition_class TEXT;
ALTER TABLE items ADD COLUMN original_group TEXT;
ALTER TABLE items ADD COLUMN reclassified INTEGER NOT NULL DEFAULT 0;
-- Art. 17: while status is pendiente_completar the term is paused; the
-- requester has until completion_deadline (YYYY-MM-DD) to answer.
ALTER TABLE items ADD COLUMN completion_deadline TEXT;
ALTER TABLE items ADD COLUMN completion_requested_on TEXT;
-- Art. 14 parágrafo: the due date before the one extension (NULL: none).
ALTER TABLE items ADD COLUMN original_due_date TEXT;
ALTER TABLE items ADD COLUMN updated_at INTEGER;
CREATE INDEX items_dependencia ON items (dependencia, status);
CREATE INDEX items_due ON items (due_date);

-- Answers given by staff. published: the requester is anonymous (or chose
-- no channel we can send on), so the answer is shown on the public status
-- page and the published-answers page (CPACA art. 69) instead of being sent.
CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    channel TEXT NOT NULL,             -- email|whatsapp|publicacion
    published INTEGER NOT NULL DEFAULT 0,
    at INTEGER NOT NULL
);
CREATE INDEX responses_item ON responses (item_id);
CREATE INDEX responses_published ON responses (published, at);

CREATE TABLE response_files (
    response_id INTEGER NOT NULL REFERENCES responses (id),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    filename TEXT NOT NULL
);
CREATE INDEX response_files_response ON response_files (response_id);

-- Free text search of the queue: subject and body, accent- and
-- case-insensitive (unicode61 with remove_diacritics 2), kept in step with
-- items by triggers.
CREATE VIRTUAL TABLE items_fts USING fts5 (
    subject, body, content = 'items', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO items_fts (rowid, subject, body) SELECT id, subject, body FROM items;
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF subject, body ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, subject, body)
        VALUES ('delete', old.id, old.subject, old.body);
    INSERT INTO items_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, subject, body)
        VALUES ('delete', old.id, old.subject, old.body);
END;
