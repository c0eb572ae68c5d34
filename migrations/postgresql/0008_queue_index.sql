-- 0008_queue_index.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0008_queue_index.sql: the staff queue in its own order (items by
-- kind, those without a due date last, by due date and radicado, with every
-- column the queue filters on).
-- What differs: PostgreSQL writes the expression column in parentheses.
CREATE INDEX items_queue ON items (kind, (due_date IS NULL), due_date, radicado, status, type,
    petition_class, channel, stakeholder_group, dependencia, assignee_id);
