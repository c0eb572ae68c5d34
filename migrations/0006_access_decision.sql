-- 0006_access_decision.sql - what an answer to a request for documents or
-- information decided (Decreto 1081 de 2015, art. 2.1.1.6.2, counts the
-- requests where access was denied): concedido, parcial or negado. NULL for
-- other answers.
ALTER TABLE responses ADD COLUMN access TEXT CHECK (access IN ('concedido', 'parcial', 'negado'));
