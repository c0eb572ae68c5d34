-- 0007_surveys.sql - satisfaction and perception surveys: definitions with
-- versions, invitations (single-use links), the answers (each one an item of
-- kind survey_response) and the follow-up of detractors.

-- A survey: its code names it in public links (/encuesta/p/CODE).
-- purpose: after_item (invited when a PQRSD is closed), event (a hearing or
-- event: public link and QR code), public (standalone: perception survey,
-- consultation before a hearing, post-training survey).
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL CHECK (purpose IN ('after_item', 'event', 'public')),
    active INTEGER NOT NULL DEFAULT 1,
    current_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every version of a definition is kept: an edit makes a new one, and old
-- answers keep the version they answered. definition is JSON:
-- {"title", "intro", "questions": [{"id", "type", "text", "required", "options"}]}
CREATE TABLE survey_versions (
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (survey_id, version)
) WITHOUT ROWID;

-- An invitation to answer once: the link carries a random token of which
-- only the BLAKE2b hash is kept. One per item and survey.
CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    item_id INTEGER REFERENCES items (id),
    token_hash BLOB NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    UNIQUE (survey_id, item_id)
);

-- The answers of a survey_response item.
CREATE TABLE survey_answers (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    version INTEGER NOT NULL,
    invitation_id INTEGER REFERENCES survey_invitations (id),
    source_item_id INTEGER REFERENCES items (id), -- the PQRSD the invitation was about
    answers TEXT NOT NULL,                         -- JSON: {"question id": value}
    csat INTEGER,                                  -- the first rating answer, 1-5
    nps INTEGER,                                   -- the first NPS answer, 0-10
    detractor INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX survey_answers_survey ON survey_answers (survey_id);

-- "Seguimiento a detractores": each detractor's answer opens a task for the
-- dependencia of the item it was about.
CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    answer_item_id INTEGER NOT NULL UNIQUE REFERENCES items (id),
    source_item_id INTEGER REFERENCES items (id),
    dependencia TEXT,
    status TEXT NOT NULL DEFAULT 'abierto' CHECK (status IN ('abierto', 'cerrado')),
    note TEXT,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_by INTEGER REFERENCES users (id)
);
CREATE INDEX followups_open ON followups (status, dependencia);

-- The default survey sent after a PQRSD is closed (surveys.after_item).
INSERT INTO surveys (code, purpose, current_version, created_at, updated_at)
    VALUES ('satisfaccion', 'after_item', 1, 0, 0);
INSERT INTO survey_versions (survey_id, version, definition, created_at)
    SELECT id, 1, '{"title":"¿Cómo lo atendimos?","intro":"Son cuatro preguntas cortas sobre la respuesta que recibió. Sus respuestas nos ayudan a mejorar.","questions":[{"id":"satisfaccion","type":"rating","text":"¿Qué tan satisfecho quedó con la respuesta? (1: nada satisfecho, 5: muy satisfecho)","required":true},{"id":"recomendacion","type":"nps","text":"De 0 a 10, ¿qué tan probable es que recomiende nuestra atención a un familiar o amigo?","required":false},{"id":"a_tiempo","type":"yes_no","text":"¿Recibió la respuesta a tiempo?","required":false},{"id":"mejorar","type":"text","text":"¿Qué podemos mejorar?","required":false}]}', 0
    FROM surveys WHERE code = 'satisfaccion';
