-- Replays of recorded rooms and the clips cut from them (internal/replay). The
-- audio lives in the data folder; these rows say what there is, who spoke when
-- (turns: a JSON array of {user_id, start, end}, offsets in nanoseconds), and
-- what state it is in; captions, whether captions.vtt was made beside the audio.
--
-- Like the other files, this runs unchanged on SQLite and Postgres.

-- +goose Up
CREATE TABLE replays (
    room_id     TEXT   NOT NULL PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    state       TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    duration_ms BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    turns       TEXT   NOT NULL,
    captions    BOOLEAN NOT NULL
);
-- Finding the recordings a crash cut short, and old replays for the retention job.
CREATE INDEX replays_state ON replays (state, started_at);

CREATE TABLE clips (
    id          TEXT   NOT NULL PRIMARY KEY,
    room_id     TEXT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    size        BIGINT NOT NULL
);
CREATE INDEX clips_room ON clips (room_id, created_at);

-- +goose Down
DROP TABLE clips;
DROP TABLE replays;
