-- 0006_access_decision.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0006_access_decision.sql: what an answer to a request for
-- documents or information decided (concedido, parcial or negado; NULL for
-- other answers). Nothing differs.
ALTER TABLE responses ADD COLUMN access TEXT CHECK (access IN ('concedido', 'parcial', 'negado'));
