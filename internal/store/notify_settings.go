package store

import (
	"context"
	"database/sql"

	"github.com/townhall/townhall/internal/notify"
)

var _ notify.Store = (*DB)(nil)

// MutedKinds lists the notification kinds userID muted, sorted.
func (db *DB) MutedKinds(ctx context.Context, userID string) ([]string, error) {
	rows, err := db.query(ctx, db.sql, `SELECT kind FROM notification_mutes WHERE user_id = ? ORDER BY kind`, userID)
	if err != nil {
		return nil, wrap("muted kinds", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, wrap("muted kinds", err)
		}
		out = append(out, k)
	}
	return out, wrap("muted kinds", rows.Err())
}

// SetMutedKinds replaces the kinds userID muted, in one transaction.
// account.ErrNotFound for an unknown user.
func (db *DB) SetMutedKinds(ctx context.Context, userID string, kinds []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := db.queryRow(ctx, tx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound("set muted kinds", err)
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM notification_mutes WHERE user_id = ?`, userID); err != nil {
			return wrap("set muted kinds", err)
		}
		for _, k := range kinds {
			_, err := db.exec(ctx, tx, `INSERT INTO notification_mutes (user_id, kind) VALUES (?, ?)
				ON CONFLICT (user_id, kind) DO NOTHING`, userID, k)
			if err != nil {
				return wrap("set muted kinds", err)
			}
		}
		return nil
	})
}
