package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// AddChat stores a chat message. ErrNotFound for an unknown room, ErrInvalid for
// an empty ID.
func (db *DB) AddChat(ctx context.Context, m live.ChatMessage) error {
	if err := checkID("add chat", m.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO chat_messages (id, room_id, user_id, name, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, m.ID, m.RoomID, m.UserID, m.Name, m.Text, millis(m.At))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("add chat", err)
	})
}

// ChatPage lists a room's chat messages that are not deleted, newest first,
// starting before the message with ID before ("" for the newest), at most limit.
func (db *DB) ChatPage(ctx context.Context, roomID, before string, limit int) ([]live.ChatMessage, error) {
	if err := checkLimit("chat page", limit); err != nil {
		return nil, err
	}
	q := `SELECT id, room_id, user_id, name, text, created_at FROM chat_messages
		WHERE room_id = ? AND deleted_at IS NULL`
	args := []any{roomID}
	if before != "" {
		q += ` AND (created_at, id) < (SELECT created_at, id FROM chat_messages WHERE id = ? AND room_id = ?)`
		args = append(args, before, roomID)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, wrap("chat page", err)
	}
	defer rows.Close()
	var out []live.ChatMessage
	for rows.Next() {
		var m live.ChatMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.RoomID, &m.UserID, &m.Name, &m.Text, &at); err != nil {
			return nil, wrap("chat page", err)
		}
		m.At = fromMillis(at)
		out = append(out, m)
	}
	return out, wrap("chat page", rows.Err())
}

// ChatMessage returns a chat message not deleted, with its room; ErrNotFound if
// there is none.
func (db *DB) ChatMessage(ctx context.Context, id string) (live.ChatMessage, error) {
	var m live.ChatMessage
	var at int64
	err := db.queryRow(ctx, db.sql, `SELECT id, room_id, user_id, name, text, created_at FROM chat_messages
		WHERE id = ? AND deleted_at IS NULL`, id).Scan(&m.ID, &m.RoomID, &m.UserID, &m.Name, &m.Text, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return live.ChatMessage{}, account.ErrNotFound
	}
	if err != nil {
		return live.ChatMessage{}, wrap("chat message", err)
	}
	m.At = fromMillis(at)
	return m, nil
}

// DeleteChat marks a room's message deleted at at; ErrNotFound if the room has
// no such message.
func (db *DB) DeleteChat(ctx context.Context, roomID, id string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE chat_messages SET deleted_at = ? WHERE id = ? AND room_id = ? AND deleted_at IS NULL`,
			millis(at), id, roomID)
		return affectedOne("delete chat", res, err)
	})
}

// DropChat deletes a room's whole chat (a room whose host did not keep it, once
// it ended).
func (db *DB) DropChat(ctx context.Context, roomID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `DELETE FROM chat_messages WHERE room_id = ?`, roomID)
		return wrap("drop chat", err)
	})
}
