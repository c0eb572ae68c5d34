-- 0001_init.sql - the foundation schema: items, requesters, attachments,
-- the audit chain, radicado counters and the contacts registry.
-- Applied in one transaction by the store; recorded in schema_migrations.

-- One row per calendar year: the last radicado number given. Updated in the
-- same transaction as the item that takes the number, so numbers are gap-free.
CREATE TABLE radicado_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Items: PQRSD, hearing questions and survey responses. No personal data here.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('pqrsd', 'hearing_question', 'survey_response')),
    radicado TEXT UNIQUE,              -- NULL for survey responses
    radicado_year INTEGER,
    radicado_seq INTEGER,
    tracking_hash BLOB,                -- BLAKE2b-256 of the citizen's tracking code
    type TEXT,                         -- peticion|queja|reclamo|sugerencia|denuncia|felicitacion
    petition_class TEXT,               -- general|documentos|consulta (peticion only)
    channel TEXT NOT NULL,             -- web|api|email|whatsapp|staff
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at INTEGER NOT NULL,      -- Unix time in milliseconds
    filed_date TEXT NOT NULL,          -- business day the receipt counts on, YYYY-MM-DD
    term_days INTEGER,                 -- legal term in business days, NULL when none
    due_date TEXT,                     -- YYYY-MM-DD, NULL when no term applies
    stakeholder_group TEXT NOT NULL,
    classified_by TEXT NOT NULL,       -- which rule decided the group
    reply_channel TEXT,
    UNIQUE (radicado_year, radicado_seq)
);
CREATE INDEX items_status_due ON items (status, due_date);
CREATE INDEX items_received ON items (received_at);

-- Requester data lives apart so it can be protected and purged.
CREATE TABLE requesters (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    person_type TEXT NOT NULL,         -- natural|juridica|nna|anonimo
    name TEXT,
    id_type TEXT,
    id_number TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    municipality TEXT,
    data_consent INTEGER NOT NULL DEFAULT 0,
    characterization TEXT,             -- JSON object of optional fields, or NULL
    purged_at INTEGER                  -- set when the personal data was erased
);

-- Files are stored content-addressed on disk (attachments/ab/abcdef...);
-- this table links them to items.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    filename TEXT NOT NULL
);
CREATE INDEX attachments_item ON attachments (item_id);

-- Append-only audit trail. Each event's hash is BLAKE2b over the previous
-- event's hash and this event's fields, so any edit, deletion or insertion
-- made out of band breaks the chain (see src/audit.c).
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    item_id INTEGER REFERENCES items (id),
    at INTEGER NOT NULL,               -- Unix time in milliseconds
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,             -- JSON
    public INTEGER NOT NULL DEFAULT 0, -- shown to the citizen on the status page
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_item ON audit_events (item_id, id);

-- The chain's head, updated with every event: a deleted tail shows up too.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);

-- The entity's "matriz de partes interesadas": known contacts and their group.
CREATE TABLE contacts (
    key_type TEXT NOT NULL CHECK (key_type IN ('email', 'phone', 'id')),
    key TEXT NOT NULL,                 -- normalized (see src/classify.h)
    group_id TEXT NOT NULL,
    label TEXT,
    PRIMARY KEY (key_type, key)
) WITHOUT ROWID;
