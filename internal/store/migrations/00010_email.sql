-- An optional e-mail address per account, which its owner sets (with their
-- password) and to which an admin may send a password reset link when the server
-- has a mail server (--smtp-addr). NULL without one. Not unique: two accounts may
-- share a family's address.
--
-- Like the other files, this runs unchanged on SQLite and Postgres.

-- +goose Up
ALTER TABLE users ADD COLUMN email TEXT;

-- +goose Down
ALTER TABLE users DROP COLUMN email;
