-- 0016_live_relay.sql - the live feed's relay between instances that share
-- one database (PostgreSQL). The store's writer adds one row for the items a
-- batch files, one for every item change its jobs note and one for every
-- hearing wall a moderation changed, in the same transaction (so a rolled-back batch leaves none), and
-- each instance's relay thread reads the rows the others wrote, in id order,
-- and tells its own /live subscribers (src/store/relay.c). On SQLite one
-- daemon owns the database and the table stays empty.
--
-- A filed row carries the public facts the feed shows of the batch's items
-- (never personal data), so that reading the relay is a scan of its own key
-- (no join with items, whose size would otherwise set the relay's cost) and
-- a batch adds one row, not one per item, inside the write lock.
--
-- id is in commit order: ids are taken under the store's write lock. Rows
-- older than an hour are pruned by the writers: a relay only needs the tail
-- it missed while it was reconnecting.
CREATE TABLE live_relay (
    id INTEGER PRIMARY KEY,
    instance TEXT NOT NULL,          -- vt_store_instance() of the writer
    event TEXT NOT NULL CHECK (event IN ('filed', 'changed', 'wall')),
    item_id INTEGER,                 -- changed: the item; NULL for filed and wall
    old_status TEXT,                 -- changed: struct vt_item_change's fields
    new_status TEXT,
    old_dependencia TEXT,
    actor TEXT,
    action TEXT,
    hearing TEXT,                    -- wall: the hearing's code
    facts TEXT,                      -- filed: JSON [{"id","radicado","kind","type",
                                     -- "channel","group","status","due","received_at"}]
    created_at INTEGER NOT NULL      -- Unix ms
);
