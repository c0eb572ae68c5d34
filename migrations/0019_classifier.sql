-- 0019_classifier.sql - the learned classifier (src/domain/classifier.h).
-- items.classifier: what the model suggested when the item was filed (JSON:
-- the model version and, per task, the label, its confidence and the
-- features that weighed most); NULL for items filed without a model.
-- classifier_models: every model trained (its bytes, the text of
-- core/textmodel.h), with its scores on the shipped held-out corpus; the
-- newest active row is the one every instance uses.
-- classifier_labels: what staff set or confirmed (type, petition_class,
-- group, dependencia) per item: the training data the store adds to the
-- shipped corpus.
ALTER TABLE items ADD COLUMN classifier TEXT;
CREATE TABLE classifier_models (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    trained_on INTEGER NOT NULL,
    corrections INTEGER NOT NULL,
    scores TEXT NOT NULL,
    active INTEGER NOT NULL,
    model TEXT NOT NULL
);
CREATE TABLE classifier_labels (
    item_id INTEGER NOT NULL REFERENCES items(id),
    task TEXT NOT NULL,
    label TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (item_id, task)
);
