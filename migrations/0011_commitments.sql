-- 0011_commitments.sql - after a public hearing: the commitments (compromisos)
-- made at the event, each with a responsible dependencia and a due date, their
-- progress reports, and the evaluation survey the hearing names.

CREATE TABLE commitments (
    id INTEGER PRIMARY KEY,
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    text TEXT NOT NULL,
    dependencia TEXT NOT NULL,
    due_date TEXT NOT NULL,             -- YYYY-MM-DD
    status TEXT NOT NULL DEFAULT 'abierto' CHECK (status IN ('abierto', 'cumplido')),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX commitments_hearing ON commitments (hearing_id, due_date);

CREATE TABLE commitment_progress (
    id INTEGER PRIMARY KEY,
    commitment_id INTEGER NOT NULL REFERENCES commitments (id),
    at INTEGER NOT NULL,                -- Unix ms
    text TEXT NOT NULL,
    percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    by_user TEXT NOT NULL
);
CREATE INDEX commitment_progress_commitment ON commitment_progress (commitment_id, at);

-- The satisfaction survey (purpose event) answered at the end of the hearing.
ALTER TABLE hearings ADD COLUMN survey_code TEXT;
