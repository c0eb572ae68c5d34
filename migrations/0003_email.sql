-- 0003_email.sql - the email channel: where each polled mailbox stands, every
-- message it took in (exactly once), and the Message-IDs that thread replies.

-- One row per configured mailbox: its UIDVALIDITY and the highest UID whose
-- message is committed. Advanced in the same transaction as the item, so a
-- crash at any point refetches from the right place.
CREATE TABLE email_mailboxes (
    name TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every message taken in, whatever became of it (outcome): filed (a new item),
-- threaded (joined an item's timeline), ignored_auto, ignored_bulk, ignored_own,
-- bounce (marked one of our messages failed). dedup_key is the Message-ID, or
-- the SHA-256 of the raw message when it has none: a UIDVALIDITY resync skips
-- what it already took.
CREATE TABLE email_messages (
    id INTEGER PRIMARY KEY,
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    dedup_key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    item_id INTEGER REFERENCES items (id),
    at INTEGER NOT NULL,
    UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX email_messages_dedup ON email_messages (mailbox, dedup_key);

-- Message-IDs that belong to an item: the citizen's own messages and the ones
-- we sent. A reply naming any of them (In-Reply-To, References) threads there.
CREATE TABLE email_threads (
    message_id TEXT PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    ours INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Items whose type was guessed (an email declares none): staff confirm it.
ALTER TABLE items ADD COLUMN needs_triage INTEGER NOT NULL DEFAULT 0;
