-- 0002_outbox_whatsapp.sql - the durable outbox (every channel) and the
-- WhatsApp channel's conversations, inbound deduplication and media.

-- Every message Ventanilla sends, written in the same transaction as the
-- change that causes it, then delivered by the outbox's sender thread.
-- States (src/outbox.h draws the diagram):
--   pending -> sending -> sent -> delivered -> read
--   sending -> pending (retry later) | dead (attempts used up or refused)
--   any but read -> failed (provider said so) ; dead -> pending (staff retry)
--   pending -> undeliverable (WhatsApp window closed, no template)
--   failed (131047) -> superseded, with a new pending copy sent as a template
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    item_id INTEGER REFERENCES items (id),   -- NULL for conversation prompts
    channel TEXT NOT NULL,                   -- whatsapp|email
    recipient TEXT NOT NULL,                 -- wa_id or email address
    kind TEXT NOT NULL,                      -- ack|prompt|status|reply|read...
    body TEXT NOT NULL,                      -- the message as JSON for the channel
    params TEXT,                             -- JSON array: template parameters
    secret TEXT,                             -- tracking code substituted at send, erased once delivered
    fallback TEXT,                           -- plain text for an email copy, if WhatsApp cannot carry it
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,        -- Unix ms
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    provider_id TEXT,                        -- e.g. the wamid Meta gave
    last_error TEXT,
    via_template TEXT,                       -- name of the template used, if any
    template_only INTEGER NOT NULL DEFAULT 0, -- 1: the provider refused free-form text
    shard INTEGER NOT NULL DEFAULT 0         -- hash of recipient: which sender thread delivers it
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE UNIQUE INDEX outbox_provider ON outbox (channel, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX outbox_item ON outbox (item_id);
-- One recipient's messages go in order: a message waits for earlier ones.
CREATE INDEX outbox_recipient ON outbox (channel, recipient, id) WHERE status IN ('pending', 'sending');

-- Every delivery status a provider reported (sent, delivered, read, failed),
-- kept as the delivery log. A status may arrive before the send's own result
-- is recorded; it is applied then.
CREATE TABLE outbox_statuses (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code INTEGER,
    error_title TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX outbox_statuses_provider ON outbox_statuses (channel, provider_id);

-- Provider events already applied (idempotency): inbound message ids and
-- status notifications, as Meta re-delivers for days.
CREATE TABLE inbound_seen (
    channel TEXT NOT NULL,
    event_id TEXT NOT NULL,                  -- wamid, or wamid/status for statuses
    at INTEGER NOT NULL,
    PRIMARY KEY (channel, event_id)
) WITHOUT ROWID;

-- One row per WhatsApp number: where its conversation stands. Survives restarts.
CREATE TABLE wa_conversations (
    wa_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    draft TEXT NOT NULL DEFAULT '{}',        -- JSON: the PQRSD being filed
    last_inbound_at INTEGER NOT NULL,        -- Unix ms: opens the 24-hour window
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every inbound WhatsApp message, whatever its type, for traceability.
CREATE TABLE wa_messages (
    id INTEGER PRIMARY KEY,
    wamid TEXT NOT NULL UNIQUE,
    wa_id TEXT NOT NULL,
    type TEXT NOT NULL,
    summary TEXT NOT NULL,                   -- JSON: text, reply id, media id, location...
    item_id INTEGER REFERENCES items (id),
    at INTEGER NOT NULL
);
CREATE INDEX wa_messages_sender ON wa_messages (wa_id, id);

-- Media a citizen sent: fetched from the Graph API by the media worker.
CREATE TABLE wa_media (
    id INTEGER PRIMARY KEY,
    wamid TEXT NOT NULL UNIQUE,
    wa_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    declared_type TEXT,
    filename TEXT,
    item_id INTEGER REFERENCES items (id),   -- set when the item is filed
    status TEXT NOT NULL DEFAULT 'pending',  -- pending|stored|rejected|failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sha256 TEXT,
    size INTEGER,
    content_type TEXT,
    error TEXT,
    attached INTEGER NOT NULL DEFAULT 0      -- 1 once an attachments row names it
);
CREATE INDEX wa_media_due ON wa_media (status, next_attempt_at);
CREATE INDEX wa_media_sender ON wa_media (wa_id, item_id);

-- Lookup of a citizen's items by phone (WhatsApp status queries).
CREATE INDEX requesters_phone ON requesters (phone);
