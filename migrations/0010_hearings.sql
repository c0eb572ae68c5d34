-- 0010_hearings.sql - public accountability hearings (audiencias públicas de
-- rendición de cuentas) and the questions asked for them. A question is an
-- item of kind hearing_question (radicado, legal term); this table keeps what
-- only a hearing question has: its hearing, source and moderation.

CREATE TABLE hearings (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,          -- a-z0-9_, in the public links
    name TEXT NOT NULL,
    date TEXT NOT NULL,                 -- YYYY-MM-DD
    place TEXT NOT NULL DEFAULT '',
    stream_url TEXT NOT NULL DEFAULT '',
    convoked_on TEXT NOT NULL,          -- YYYY-MM-DD, the public convocation
    questions_open_at INTEGER NOT NULL, -- Unix ms
    questions_close_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE hearing_questions (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    source TEXT NOT NULL
        CHECK (source IN ('web', 'whatsapp', 'email', 'buzon', 'redes', 'tarjeta', 'staff')),
    show_name INTEGER NOT NULL DEFAULT 0, -- the asker agreed to show their name on the wall
    display_name TEXT,
    status TEXT NOT NULL DEFAULT 'pendiente'
        CHECK (status IN ('pendiente', 'aprobada', 'rechazada', 'fusionada', 'seleccionada',
                          'respondida_en_vivo')),
    reason TEXT,
    merged_into INTEGER REFERENCES items (id),
    topic TEXT,
    moderated_at INTEGER,
    moderated_by TEXT
);
CREATE INDEX hearing_questions_hearing ON hearing_questions (hearing_id, status);
