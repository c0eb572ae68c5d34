-- 0013_identity_reserve_delivery.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0013_identity_reserve_delivery.sql: identity protection that
-- follows the item, and how each answer reached (or will reach) its requester.
-- What differs: INTEGER is BIGINT; and SQLite's LIKE folds ASCII letters
-- (only those) while PostgreSQL's is case-sensitive, so the payload's ASCII
-- letters are lowered with translate() first: the same rows are marked.

ALTER TABLE items ADD COLUMN identity_reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN reserve_requested BIGINT NOT NULL DEFAULT 0;
-- Every item that ever was a denuncia: its current or original type, or an
-- audit event that filed it or reclassified it from or to denuncia (payloads
-- are cJSON's unformatted text, so the pair is spelled exactly this way).
UPDATE items SET identity_reserved = 1
WHERE type = 'denuncia' OR original_type = 'denuncia'
   OR id IN (SELECT item_id FROM audit_events
             WHERE item_id IS NOT NULL AND action IN ('radicado', 'reclasificado')
               AND translate(payload, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                   LIKE '%"type":"denuncia"%');

-- responses.channel is now the way the answer went: email, whatsapp (queued
-- in the outbox, outbox_id the first row), carta (a printed letter, pending
-- until delivered_at), consulta (the requester's status page only) or
-- publicacion (anonymous requesters only; published = 1).
ALTER TABLE responses ADD COLUMN outbox_id BIGINT REFERENCES outbox (id);
ALTER TABLE responses ADD COLUMN delivered_at BIGINT;   -- Unix ms: a letter marked delivered
ALTER TABLE responses ADD COLUMN delivered_by BIGINT REFERENCES users (id);
ALTER TABLE responses ADD COLUMN delivery_method TEXT
    CHECK (delivery_method IN ('entrega_personal', 'correo_postal'));
ALTER TABLE responses ADD COLUMN delivery_note TEXT;     -- staff's note (a tracking number...)
