-- The finished files of replays (mixed audio, captions) and clips, for a
-- cluster: kept in Postgres so that every node serves them (docs/cluster.md,
-- "Replays"). A single node on SQLite keeps them in its data folder instead, and
-- these tables stay empty there.
--
-- A file is one row of replay_files (its name, e.g. replays/<room>/replay.ogg,
-- and size) and its bytes in numbered chunks of 256 KiB, so that a range request
-- reads only the chunks it covers. A file belongs to its room: deleting the
-- room's replay (DeleteReplay) deletes them in the same transaction, and
-- deleting the room deletes them too.
--
-- Like the other files, this runs unchanged on SQLite and Postgres.

-- +goose Up
CREATE TABLE replay_files (
    name       TEXT   NOT NULL PRIMARY KEY,
    room_id    TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX replay_files_room ON replay_files (room_id);

CREATE TABLE replay_chunks (
    name TEXT   NOT NULL REFERENCES replay_files (name) ON DELETE CASCADE,
    seq  BIGINT NOT NULL,
    data BYTEA  NOT NULL,
    PRIMARY KEY (name, seq)
);

-- +goose Down
DROP TABLE replay_chunks;
DROP TABLE replay_files;
