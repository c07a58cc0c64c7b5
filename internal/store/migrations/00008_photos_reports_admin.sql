-- Profile photos, reports and the admin console's audit log, one-time password
-- reset links, when a session was last seen, and deleted accounts.
--
-- Like the other files, this runs unchanged on SQLite and Postgres. BYTEA is
-- Postgres's byte string; SQLite, which takes any type name, stores the same
-- []byte as a BLOB (a BYTEA column has NUMERIC affinity there, which leaves blobs
-- as they are).

-- +goose Up
-- photo: the content hash of the user's current photo (its URL names it); NULL
-- without one.
ALTER TABLE users ADD COLUMN photo TEXT NULL;
-- deleted_at: the account was deleted by its owner; the row stays, emptied, so
-- that the history of rooms, invitations and events that name it holds.
ALTER TABLE users ADD COLUMN deleted_at BIGINT NULL;
-- last_seen_at: the last request the session made, to the nearest few minutes.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NULL;

-- One row per size of a photo: the re-encoded square image itself. Kept in the
-- database so that every node of a cluster serves it.
CREATE TABLE photos (
    hash         TEXT   NOT NULL,
    size         BIGINT NOT NULL,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT   NOT NULL,
    data         BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (hash, size)
);
CREATE INDEX photos_user_id ON photos (user_id);

-- A report of a user, a room, a chat message or an invitation. subject_id is the
-- user the report is about (the user, the room's creator, the message's author,
-- the inviter); context is a JSON snapshot of what was reported, taken when it
-- was, since rooms end and messages go.
CREATE TABLE reports (
    id          TEXT   NOT NULL PRIMARY KEY,
    reporter_id TEXT   NOT NULL REFERENCES users (id),
    kind        TEXT   NOT NULL,
    target_id   TEXT   NOT NULL,
    subject_id  TEXT   REFERENCES users (id),
    reason      TEXT   NOT NULL,
    details     TEXT   NOT NULL,
    context     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT   REFERENCES users (id),
    resolution  TEXT   NOT NULL
);
CREATE INDEX reports_created_at ON reports (created_at, id);
CREATE INDEX reports_open ON reports (created_at, id) WHERE resolved_at IS NULL;
CREATE INDEX reports_target ON reports (kind, target_id);

-- What admins did, for the admin console.
CREATE TABLE admin_log (
    id       TEXT   NOT NULL PRIMARY KEY,
    admin_id TEXT   NOT NULL REFERENCES users (id),
    action   TEXT   NOT NULL,
    target   TEXT   NOT NULL,
    detail   TEXT   NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX admin_log_at ON admin_log (at, id);

-- One-time password reset links an admin made: only the token's SHA-256 is kept.
CREATE TABLE password_resets (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT   NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user_id ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE admin_log;
DROP TABLE reports;
DROP TABLE photos;
ALTER TABLE sessions DROP COLUMN last_seen_at;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN photo;
