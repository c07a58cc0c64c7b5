package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// notificationColumns lists the notifications columns in the order
// scanNotification reads them.
const notificationColumns = "id, user_id, kind, data, created_at, read_at"

func scanNotification(row scanner) (live.Notification, error) {
	var (
		n       live.Notification
		data    string
		created int64
		read    sql.NullInt64
	)
	if err := row.Scan(&n.ID, &n.UserID, &n.Kind, &data, &created, &read); err != nil {
		return live.Notification{}, err
	}
	n.Data = []byte(data)
	n.CreatedAt = fromMillis(created)
	n.ReadAt = fromNullMillis(read)
	return n, nil
}

// emptyData is what a notification without Data stores and reads back.
const emptyData = "{}"

// notificationData checks that data is a JSON object (empty data stands for {}),
// valid UTF-8, so that it can be stored as TEXT on both drivers and decoded when
// read back. ErrInvalid otherwise.
func notificationData(data []byte) (string, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return emptyData, nil
	}
	if trimmed[0] != '{' || !utf8.Valid(data) || !json.Valid(data) {
		return "", fmt.Errorf("store: add notification: data is not a JSON object: %w", account.ErrInvalid)
	}
	return string(data), nil
}

// AddNotification stores n, read or not (a zero ReadAt stores it unread). Data must
// be a JSON object, stored as is; empty Data is stored as {}. ErrNotFound if the
// user does not exist; ErrInvalid for an empty ID or Data that is not a JSON object.
func (db *DB) AddNotification(ctx context.Context, n live.Notification) error {
	if err := checkID("add notification", n.ID); err != nil {
		return err
	}
	data, err := notificationData(n.Data)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO notifications (`+notificationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			n.ID, n.UserID, n.Kind, data, millis(n.CreatedAt), nullMillis(n.ReadAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("add notification", err)
	})
}

// Notifications lists userID's notifications newest first (by creation time, ties
// by ID descending), at most limit of them, starting after the notification with ID
// before in that order ("" for the newest). Paging with the last ID of each page
// walks them all once. ErrNotFound if before is not one of userID's notifications;
// ErrInvalid for a limit below one.
func (db *DB) Notifications(ctx context.Context, userID, before string, limit int) ([]live.Notification, error) {
	if err := checkLimit("notifications", limit); err != nil {
		return nil, err
	}
	q := `SELECT ` + notificationColumns + ` FROM notifications WHERE user_id = ?`
	args := []any{userID}
	if before != "" {
		// Keyset on (created_at, id): the cursor's time, looked up among userID's own.
		var at int64
		err := db.queryRow(ctx, db.sql, `SELECT created_at FROM notifications WHERE id = ? AND user_id = ?`,
			before, userID).Scan(&at)
		if err != nil {
			return nil, notFound("notifications: cursor", err)
		}
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, before)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)

	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, wrap("notifications", err)
	}
	defer rows.Close()
	var out []live.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, wrap("notifications", err)
		}
		out = append(out, n)
	}
	return out, wrap("notifications", rows.Err())
}

// MarkNotificationsRead marks the listed notifications of userID read at at, or all
// of them when ids is empty. Notifications already read keep their first read time;
// IDs that are unknown or belong to another user are ignored. ErrInvalid for the
// zero time.
func (db *DB) MarkNotificationsRead(ctx context.Context, userID string, ids []string, at time.Time) error {
	if err := checkTime("mark notifications read", at); err != nil {
		return err
	}
	const update = `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`
	return db.tx(ctx, func(tx *sql.Tx) error {
		if len(ids) == 0 {
			_, err := db.exec(ctx, tx, update, millis(at), userID)
			return wrap("mark notifications read", err)
		}
		for chunk := range slices.Chunk(ids, inListChunk) {
			args := make([]any, 0, 2+len(chunk))
			args = append(args, millis(at), userID)
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := db.exec(ctx, tx, update+` AND id IN (`+marks(len(chunk))+`)`, args...); err != nil {
				return wrap("mark notifications read", err)
			}
		}
		return nil
	})
}

// AddNotificationOnce stores n unless a notification with its ID exists, and says
// whether it stored it.
func (db *DB) AddNotificationOnce(ctx context.Context, n live.Notification) (bool, error) {
	if err := checkID("add notification", n.ID); err != nil {
		return false, err
	}
	data, err := notificationData(n.Data)
	if err != nil {
		return false, err
	}
	var added bool
	err = db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO notifications (`+notificationColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, n.ID, n.UserID, n.Kind, data, millis(n.CreatedAt), nullMillis(n.ReadAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("add notification", err)
		}
		k, err := res.RowsAffected()
		added = k == 1
		return wrap("add notification", err)
	})
	return added, err
}
