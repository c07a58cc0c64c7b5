-- Invites can lead into a room: the link of an invitation to a conversation, for
-- someone without an account. Signing up with it lands in that room.
--
-- room_id has no foreign key: an invite belongs to the account layer and outlives
-- the room it names (a room that ended or is unknown just leads nowhere), and
-- keeping it free of rooms lets this migration stand on its own.

-- +goose Up
ALTER TABLE invites ADD COLUMN room_id TEXT NULL;

-- +goose Down
ALTER TABLE invites DROP COLUMN room_id;
