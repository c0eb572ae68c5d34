-- 0020_drop_items_dependencia.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0020_drop_items_dependencia.sql: the index on items
-- (dependencia, status) of 0005, which no query uses, goes. Nothing differs.
DROP INDEX IF EXISTS items_dependencia;
