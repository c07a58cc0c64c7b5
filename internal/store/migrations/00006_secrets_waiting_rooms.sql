-- Secrets the server keeps for itself (the key that signs guest cookies), and what a
-- restart needs to bring back a room that was created but not yet opened.
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

-- +goose Down
ALTER TABLE rooms DROP COLUMN setup;
ALTER TABLE rooms DROP COLUMN opened_at;
DROP TABLE secrets;
