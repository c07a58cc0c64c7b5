-- The page of every invitation to a conversation (/i/{code}) and its thread of
-- questions and answers; Web Push subscriptions and the kinds each user wants
-- pushed.
--
-- Like the other files, this runs unchanged on SQLite and Postgres: TEXT, BIGINT
-- and BOOLEAN columns, no defaults, times as BIGINT unix milliseconds (UTC).

-- +goose Up
-- One row per invitee: an invitation to a live room (room_id) or to a scheduled
-- event (event_id), sent by inviter_id to invitee_id, or, for someone without an
-- account, to whoever holds the key of the link (key_hash: SHA-256 of it, hex) and
-- may sign up with signup_code until the page is claimed (invitee_id set).
-- invitation_id names the invitation to a room (invitations.id) it belongs to.
-- status: sent, seen, question, accepted, declined. posts: how many posts the
-- thread has (the next post is posts + 1).
CREATE TABLE invitation_pages (
    code          TEXT    NOT NULL PRIMARY KEY,
    key_hash      TEXT    NOT NULL,
    inviter_id    TEXT    NOT NULL REFERENCES users (id),
    invitee_id    TEXT    REFERENCES users (id),
    invitee_name  TEXT    NOT NULL,
    room_id       TEXT    REFERENCES rooms (id),
    event_id      TEXT    REFERENCES events (id),
    invitation_id TEXT,
    signup_code   TEXT,
    message       TEXT    NOT NULL,
    to_stage      BOOLEAN NOT NULL,
    public        BOOLEAN NOT NULL,
    status        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    seen_at       BIGINT,
    answered_at   BIGINT,
    updated_at    BIGINT  NOT NULL,
    posts         BIGINT  NOT NULL
);
CREATE INDEX invitation_pages_inviter ON invitation_pages (inviter_id, created_at);
CREATE INDEX invitation_pages_invitee ON invitation_pages (invitee_id, created_at);
CREATE INDEX invitation_pages_room ON invitation_pages (room_id, created_at);
CREATE INDEX invitation_pages_event ON invitation_pages (event_id, created_at);
CREATE INDEX invitation_pages_invitation ON invitation_pages (invitation_id);
CREATE UNIQUE INDEX invitation_pages_signup ON invitation_pages (signup_code);

-- The thread: side is inviter or invitee, kind question, reply, accepted or
-- declined. author_id wrote it (NULL: someone without an account, who gave
-- name); for_id is the account a delegate wrote it for.
CREATE TABLE invitation_posts (
    code       TEXT   NOT NULL REFERENCES invitation_pages (code) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    side       TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    author_id  TEXT   REFERENCES users (id),
    for_id     TEXT   REFERENCES users (id),
    name       TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (code, seq)
);

-- A browser's push subscription (its endpoint is unique to it), for one user.
CREATE TABLE push_subscriptions (
    endpoint   TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    p256dh     TEXT   NOT NULL,
    auth       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, created_at);

-- The notification kinds a user wants pushed (opt-in).
CREATE TABLE push_kinds (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- +goose Down
DROP TABLE push_kinds;
DROP TABLE push_subscriptions;
DROP TABLE invitation_posts;
DROP TABLE invitation_pages;
