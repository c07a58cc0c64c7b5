-- A room's chat: the text backchannel beside the stage. Messages live as long as
-- the room, and after it only if its host chose to keep them (room.Config.KeepChat).
--
-- Like the other files, this runs unchanged on SQLite and Postgres.

-- +goose Up
CREATE TABLE chat_messages (
    id         TEXT   NOT NULL PRIMARY KEY,
    room_id    TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
-- Paging a room's chat newest first.
CREATE INDEX chat_messages_room ON chat_messages (room_id, created_at, id);

-- +goose Down
DROP TABLE chat_messages;
