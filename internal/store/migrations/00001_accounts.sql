-- Accounts: users, sessions, invite codes, follows and blocks.
--
-- This file runs unchanged on SQLite and Postgres, so it keeps to the SQL both speak:
-- TEXT, BIGINT and BOOLEAN columns, no defaults, no driver-specific types. Times are
-- BIGINT unix milliseconds (UTC); hashes are hex TEXT.

-- +goose Up
CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    bio           TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      BOOLEAN NOT NULL,
    invited_by    TEXT    REFERENCES users (id),
    created_at    BIGINT  NOT NULL,
    disabled_at   BIGINT,
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE sessions (
    id         TEXT   NOT NULL PRIMARY KEY,
    token_hash TEXT   NOT NULL,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE invites (
    code         TEXT    NOT NULL PRIMARY KEY,
    created_by   TEXT    REFERENCES users (id),
    grants_admin BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_by      TEXT    REFERENCES users (id),
    used_at      BIGINT
);
CREATE INDEX invites_created_by ON invites (created_by, created_at);

CREATE TABLE follows (
    follower   TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee   TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (follower, followee)
);
CREATE INDEX follows_followee ON follows (followee, created_at);
CREATE INDEX follows_follower ON follows (follower, created_at);

CREATE TABLE blocks (
    blocker    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker, blocked)
);

-- +goose Down
DROP TABLE blocks;
DROP TABLE follows;
DROP TABLE invites;
DROP TABLE sessions;
DROP TABLE users;
