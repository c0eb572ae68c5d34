-- 0020_drop_items_dependencia.sql - drops the index on items (dependencia,
-- status) of 0005: no query uses it (the queues filter on
-- COALESCE(dependencia, the triage dependencia) through the covering
-- items_queue indexes of 0008 and 0009, the dashboard and the reports read
-- whole ranges), and every item filed or routed to a dependencia paid for
-- it: one more page written per dependencia per commit (bench/README.md,
-- issue 15). IF EXISTS: re-running the migrations of a store is harmless.
DROP INDEX IF EXISTS items_dependencia;
