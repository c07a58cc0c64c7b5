-- The live layer's history: rooms and who spoke in them, invitations to a
-- conversation and each invitee's answer, and per-user notifications.
--
-- Like 00001, this file runs unchanged on SQLite and Postgres: TEXT, BIGINT and
-- BOOLEAN columns, no defaults, times as BIGINT unix milliseconds (UTC).

-- +goose Up
CREATE TABLE rooms (
    id           TEXT    NOT NULL PRIMARY KEY,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    allow_guests BOOLEAN NOT NULL,
    creator_id   TEXT    NOT NULL REFERENCES users (id),
    created_at   BIGINT  NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX rooms_creator ON rooms (creator_id, created_at);
-- Live rooms only: what EndLiveRooms updates, and small however long history grows.
CREATE INDEX rooms_live ON rooms (created_at) WHERE ended_at IS NULL;

-- seq numbers a room's speakers 1, 2, 3... in the order they were recorded, so that
-- speakers who first spoke in the same millisecond keep their order.
CREATE TABLE room_speakers (
    room_id  TEXT   NOT NULL REFERENCES rooms (id),
    user_id  TEXT   NOT NULL REFERENCES users (id),
    first_at BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id),
    CONSTRAINT room_speakers_seq_key UNIQUE (room_id, seq)
);
CREATE INDEX room_speakers_user_id ON room_speakers (user_id);

CREATE TABLE invitations (
    id         TEXT    NOT NULL PRIMARY KEY,
    room_id    TEXT    NOT NULL REFERENCES rooms (id),
    inviter_id TEXT    NOT NULL REFERENCES users (id),
    message    TEXT    NOT NULL,
    to_stage   BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX invitations_inviter_id ON invitations (inviter_id, created_at);
CREATE INDEX invitations_room_id ON invitations (room_id);

CREATE TABLE invitation_recipients (
    invitation_id TEXT   NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    user_id       TEXT   NOT NULL REFERENCES users (id),
    status        TEXT   NOT NULL,
    text          TEXT   NOT NULL,
    answered_at   BIGINT,
    PRIMARY KEY (invitation_id, user_id)
);
CREATE INDEX invitation_recipients_user_id ON invitation_recipients (user_id);

-- data is a JSON object kept as TEXT (not JSONB), so it reads back byte for byte.
CREATE TABLE notifications (
    id         TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    data       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user_id ON notifications (user_id, created_at, id);

-- +goose Down
DROP TABLE notifications;
DROP TABLE invitation_recipients;
DROP TABLE invitations;
DROP TABLE room_speakers;
DROP TABLE rooms;
