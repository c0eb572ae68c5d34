-- 0008_queue_index.sql - the staff queue in its own order: items by kind,
-- those without a due date last, by due date and radicado, with every column
-- the queue filters on. A page is read in index order and stops after its
-- rows; a count reads the index, not the table (bench/queue).
CREATE INDEX items_queue ON items (kind, due_date IS NULL, due_date, radicado, status, type,
    petition_class, channel, stakeholder_group, dependencia, assignee_id);
