-- 0009_queue_status_index.sql (PostgreSQL) - the PostgreSQL twin of
-- migrations/0009_queue_status_index.sql: the staff queue filtered by status,
-- the same columns as items_queue with status second.
-- What differs: PostgreSQL writes the expression column in parentheses.
CREATE INDEX items_queue_status ON items (kind, status, (due_date IS NULL), due_date, radicado,
    type, petition_class, channel, stakeholder_group, dependencia, assignee_id);
