-- Clubs, scheduled events, delegates and their audit log, notification settings.
--
-- Like 00001, this file runs unchanged on SQLite and Postgres: TEXT, BIGINT and
-- BOOLEAN columns, no defaults, times as BIGINT unix milliseconds (UTC). The
-- full-text indexes of search differ by driver and live in a Go migration (00005).

-- +goose Up
-- name_key is the lower-cased name: club names are unique whatever their case.
CREATE TABLE clubs (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    description TEXT    NOT NULL,
    rules       TEXT    NOT NULL,
    approval    BOOLEAN NOT NULL,
    created_by  TEXT    NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    CONSTRAINT clubs_name_key UNIQUE (name_key)
);

CREATE TABLE club_members (
    club_id   TEXT   NOT NULL REFERENCES clubs (id) ON DELETE CASCADE,
    user_id   TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT   NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (club_id, user_id)
);
CREATE INDEX club_members_user_id ON club_members (user_id);

-- Pending requests to join a club by approval; a decision deletes the row.
CREATE TABLE club_requests (
    club_id    TEXT   NOT NULL REFERENCES clubs (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (club_id, user_id)
);

CREATE TABLE events (
    id           TEXT    NOT NULL PRIMARY KEY,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    starts_at    BIGINT  NOT NULL,
    time_zone    TEXT    NOT NULL,
    host_id      TEXT    NOT NULL REFERENCES users (id),
    club_id      TEXT    REFERENCES clubs (id),
    room_type    TEXT    NOT NULL,
    members_only BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    cancelled_at BIGINT,
    started_at   BIGINT,
    room_id      TEXT
);
CREATE INDEX events_starts_at ON events (starts_at, id);
CREATE INDEX events_host_id ON events (host_id, starts_at);
CREATE INDEX events_club_id ON events (club_id, starts_at);

-- seq keeps the co-hosts in the order the host named them.
CREATE TABLE event_cohosts (
    event_id TEXT   NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_cohosts_user_id ON event_cohosts (user_id);

CREATE TABLE event_subscriptions (
    event_id   TEXT   NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_subscriptions_user_id ON event_subscriptions (user_id);

CREATE TABLE event_invitations (
    event_id    TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id  TEXT    NOT NULL REFERENCES users (id),
    message     TEXT    NOT NULL,
    to_stage    BOOLEAN NOT NULL,
    status      TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    answered_at BIGINT,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_invitations_user_id ON event_invitations (user_id);

-- The notices the reminder scheduler sent, once per event and kind, so a restart
-- does not send them again.
CREATE TABLE event_reminders (
    event_id TEXT   NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind     TEXT   NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (event_id, kind)
);

-- scopes is a comma-separated list (events,invitations,rooms). Revoking deletes
-- the row; the audit log keeps what the delegate did.
CREATE TABLE delegates (
    owner_id   TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, user_id)
);
CREATE INDEX delegates_user_id ON delegates (user_id);

CREATE TABLE audit_log (
    id          TEXT   NOT NULL PRIMARY KEY,
    owner_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    delegate_id TEXT   NOT NULL REFERENCES users (id),
    action      TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX audit_log_owner_id ON audit_log (owner_id, at, id);

-- One row per notification kind a user muted.
CREATE TABLE notification_mutes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- +goose Down
DROP TABLE notification_mutes;
DROP TABLE audit_log;
DROP TABLE delegates;
DROP TABLE event_reminders;
DROP TABLE event_invitations;
DROP TABLE event_subscriptions;
DROP TABLE event_cohosts;
DROP TABLE events;
DROP TABLE club_requests;
DROP TABLE club_members;
DROP TABLE clubs;
