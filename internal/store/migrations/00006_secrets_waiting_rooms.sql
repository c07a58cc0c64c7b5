-- Secrets the server keeps for itself (the key that signs guest cookies), what a
-- restart needs to bring back a room that was created but not yet opened, and the
-- fencing epoch of a room run by a cluster, and the claims on reminders.
--
-- Like the other files, this runs unchanged on SQLite and Postgres.

-- +goose Up
CREATE TABLE secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
-- opened_at: when the creator (or a co-host) first joined; NULL while waiting.
ALTER TABLE rooms ADD COLUMN opened_at BIGINT NULL;
-- setup: the room's configuration as JSON (co-hosts, stage guests, club...).
ALTER TABLE rooms ADD COLUMN setup TEXT NULL;
-- epoch: the lease of the node that runs the room (a cluster); a node whose lease
-- is older can no longer end it.
ALTER TABLE rooms ADD COLUMN epoch BIGINT NULL;
-- claim_until: a reminder claimed by a node that has not sent it yet; NULL once
-- sent. Another node takes over a claim that expired (its node died).
ALTER TABLE event_reminders ADD COLUMN claim_until BIGINT NULL;

-- +goose Down
ALTER TABLE event_reminders DROP COLUMN claim_until;
ALTER TABLE rooms DROP COLUMN epoch;
ALTER TABLE rooms DROP COLUMN setup;
ALTER TABLE rooms DROP COLUMN opened_at;
DROP TABLE secrets;
