package store

import (
	"context"
	"database/sql"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/push"
)

var _ push.Store = (*DB)(nil)

// PutPushSubscription stores s, replacing the endpoint's row if there is one, and
// deletes its user's oldest subscriptions beyond max, in one transaction.
func (db *DB) PutPushSubscription(ctx context.Context, s push.Subscription, max int) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
			p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
			s.Endpoint, s.UserID, s.P256dh, s.Auth, millis(s.CreatedAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("put push subscription", err)
		}
		_, err = db.exec(ctx, tx, `DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint NOT IN
			(SELECT endpoint FROM push_subscriptions WHERE user_id = ? ORDER BY created_at DESC, endpoint DESC LIMIT ?)`,
			s.UserID, s.UserID, max)
		return wrap("put push subscription: trim", err)
	})
}

// DeletePushSubscription forgets an endpoint (of userID, or of anyone for "").
func (db *DB) DeletePushSubscription(ctx context.Context, userID, endpoint string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q, args := `DELETE FROM push_subscriptions WHERE endpoint = ?`, []any{endpoint}
		if userID != "" {
			q, args = q+` AND user_id = ?`, append(args, userID)
		}
		_, err := db.exec(ctx, tx, q, args...)
		return wrap("delete push subscription", err)
	})
}

// PushSubscriptions lists a user's subscriptions, newest first.
func (db *DB) PushSubscriptions(ctx context.Context, userID string) ([]push.Subscription, error) {
	rows, err := db.query(ctx, db.sql, `SELECT endpoint, user_id, p256dh, auth, created_at FROM push_subscriptions
		WHERE user_id = ? ORDER BY created_at DESC, endpoint DESC`, userID)
	if err != nil {
		return nil, wrap("push subscriptions", err)
	}
	defer rows.Close()
	var out []push.Subscription
	for rows.Next() {
		var (
			s  push.Subscription
			at int64
		)
		if err := rows.Scan(&s.Endpoint, &s.UserID, &s.P256dh, &s.Auth, &at); err != nil {
			return nil, wrap("push subscriptions", err)
		}
		s.CreatedAt = fromMillis(at)
		out = append(out, s)
	}
	return out, wrap("push subscriptions", rows.Err())
}

// PushKinds lists the kinds userID wants pushed, sorted.
func (db *DB) PushKinds(ctx context.Context, userID string) ([]string, error) {
	rows, err := db.query(ctx, db.sql, `SELECT kind FROM push_kinds WHERE user_id = ? ORDER BY kind`, userID)
	if err != nil {
		return nil, wrap("push kinds", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, wrap("push kinds", err)
		}
		out = append(out, k)
	}
	return out, wrap("push kinds", rows.Err())
}

// SetPushKinds replaces the kinds userID wants pushed, in one transaction.
func (db *DB) SetPushKinds(ctx context.Context, userID string, kinds []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := db.queryRow(ctx, tx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound("set push kinds", err)
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM push_kinds WHERE user_id = ?`, userID); err != nil {
			return wrap("set push kinds", err)
		}
		for _, k := range kinds {
			_, err := db.exec(ctx, tx, `INSERT INTO push_kinds (user_id, kind) VALUES (?, ?)
				ON CONFLICT (user_id, kind) DO NOTHING`, userID, k)
			if err != nil {
				return wrap("set push kinds", err)
			}
		}
		return nil
	})
}
