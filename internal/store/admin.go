package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
)

// TouchSession records that the session made a request at at.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, millis(at), id)
		return wrap("touch session", err)
	})
}

// EnableUser lifts an admin's disabling of the account; ErrNotFound for an
// unknown or deleted account.
func (db *DB) EnableUser(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET disabled_at = NULL WHERE id = ? AND deleted_at IS NULL`, id)
		return affectedOne("enable user", res, err)
	})
}

// likePattern makes q a LIKE pattern that matches it anywhere, with LIKE's own
// wildcards in it escaped.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// ListUsers lists accounts for the admin console, newest first: those whose
// username or display name holds q (any case; every account when q is empty),
// disabled ones included, deleted ones left out; at most limit.
func (db *DB) ListUsers(ctx context.Context, q string, limit int) ([]account.User, error) {
	if err := checkLimit("list users", limit); err != nil {
		return nil, err
	}
	p := likePattern(q)
	rows, err := db.query(ctx, db.sql, `SELECT `+userColumns+` FROM users
		WHERE deleted_at IS NULL AND (username LIKE ? ESCAPE '\' OR LOWER(display_name) LIKE ? ESCAPE '\')
		ORDER BY created_at DESC, id DESC LIMIT ?`, p, p, limit)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
}

// idsOf runs a query of one text column and returns its values.
func (db *DB) idsOf(ctx context.Context, tx *sql.Tx, op, query string, args ...any) ([]string, error) {
	rows, err := db.query(ctx, tx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, s)
	}
	return out, wrap(op, rows.Err())
}

// DeleteAccount empties the account of user id, in one transaction, and returns
// the sessions it ended and the events it cancelled. What happens (docs/api.md,
// "Delete my account"): the row stays, so that the rooms, invitations and events
// that name it keep their history, but its username becomes deleted_<id> (the
// name is free again, and no look-up finds the account), its names, bio, photo,
// e-mail address and password go, and it is disabled. Its sessions, follows both ways, blocks
// both ways, notifications and their settings, delegations both ways, event
// subscriptions, co-hostings and invitations to events, pending club requests,
// unused invite codes and reset links are deleted. The events it hosts that have
// not started are cancelled. In each club it belongs to, it leaves; a club
// whose last admin it was passes to its longest-standing leader, or else
// member; a club with nobody else in it is deleted (its past events stay,
// detached from it; its upcoming ones are cancelled).
func (db *DB) DeleteAccount(ctx context.Context, id string, at time.Time) (ended, cancelled []string, err error) {
	err = db.tx(ctx, func(tx *sql.Tx) error {
		ended, cancelled = nil, nil
		res, err := db.exec(ctx, tx, `UPDATE users SET username = ?, display_name = 'Deleted account', bio = '',
			password_hash = '!', photo = NULL, email = NULL, is_admin = ?, disabled_at = COALESCE(disabled_at, ?), deleted_at = ?
			WHERE id = ? AND deleted_at IS NULL`, "deleted_"+id, false, millis(at), millis(at), id)
		if err := affectedOne("delete account", res, err); err != nil {
			return err
		}
		if ended, err = db.idsOf(ctx, tx, "delete account: sessions", `SELECT id FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		if cancelled, err = db.idsOf(ctx, tx, "delete account: events", `SELECT id FROM events
			WHERE host_id = ? AND cancelled_at IS NULL AND started_at IS NULL`, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `UPDATE events SET cancelled_at = ?, updated_at = ?
			WHERE host_id = ? AND cancelled_at IS NULL AND started_at IS NULL`, millis(at), millis(at), id); err != nil {
			return wrap("delete account: cancel events", err)
		}
		if err := db.leaveClubs(ctx, tx, id, at, &cancelled); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM follows WHERE follower = ? OR followee = ?`,
			`DELETE FROM blocks WHERE blocker = ? OR blocked = ?`,
			`DELETE FROM notifications WHERE user_id = ?`,
			`DELETE FROM notification_mutes WHERE user_id = ?`,
			`DELETE FROM delegates WHERE owner_id = ? OR user_id = ?`,
			`DELETE FROM event_subscriptions WHERE user_id = ?`,
			`DELETE FROM event_cohosts WHERE user_id = ?`,
			`DELETE FROM event_invitations WHERE user_id = ?`,
			`DELETE FROM club_requests WHERE user_id = ?`,
			`DELETE FROM invites WHERE created_by = ? AND used_by IS NULL`,
			`DELETE FROM password_resets WHERE user_id = ?`,
			`DELETE FROM photos WHERE user_id = ?`,
		} {
			args := []any{id}
			if strings.Count(q, "?") == 2 {
				args = append(args, id)
			}
			if _, err := db.exec(ctx, tx, q, args...); err != nil {
				return wrap("delete account", err)
			}
		}
		return nil
	})
	return ended, cancelled, err
}

// leaveClubs takes user out of every club, handing on or deleting the clubs it
// was the last admin of (see DeleteAccount); the events it cancels are added to
// cancelled.
func (db *DB) leaveClubs(ctx context.Context, tx *sql.Tx, user string, at time.Time, cancelled *[]string) error {
	clubs, err := db.idsOf(ctx, tx, "delete account: clubs", `SELECT club_id FROM club_members WHERE user_id = ? AND role = 'admin'`, user)
	if err != nil {
		return err
	}
	for _, c := range clubs {
		var admins int
		if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM club_members WHERE club_id = ? AND role = 'admin' AND user_id <> ?`,
			c, user).Scan(&admins); err != nil {
			return wrap("delete account: club admins", err)
		}
		if admins > 0 {
			continue
		}
		var heir string
		err := db.queryRow(ctx, tx, `SELECT user_id FROM club_members WHERE club_id = ? AND user_id <> ?
			ORDER BY CASE role WHEN 'leader' THEN 0 ELSE 1 END, joined_at, user_id LIMIT 1`, c, user).Scan(&heir)
		switch {
		case err == nil:
			if _, err := db.exec(ctx, tx, `UPDATE club_members SET role = 'admin' WHERE club_id = ? AND user_id = ?`, c, heir); err != nil {
				return wrap("delete account: hand on club", err)
			}
		case errors.Is(err, sql.ErrNoRows):
			ids, err := db.idsOf(ctx, tx, "delete account: club events", `SELECT id FROM events
				WHERE club_id = ? AND cancelled_at IS NULL AND started_at IS NULL`, c)
			if err != nil {
				return err
			}
			*cancelled = append(*cancelled, ids...)
			for _, q := range []string{
				`UPDATE events SET cancelled_at = ?, updated_at = ? WHERE club_id = ? AND cancelled_at IS NULL AND started_at IS NULL`,
				`UPDATE events SET club_id = NULL, members_only = ?, updated_at = ? WHERE club_id = ?`,
			} {
				args := []any{millis(at), millis(at), c}
				if strings.Contains(q, "members_only") {
					args = []any{false, millis(at), c}
				}
				if _, err := db.exec(ctx, tx, q, args...); err != nil {
					return wrap("delete account: club events", err)
				}
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM clubs WHERE id = ?`, c); err != nil {
				return wrap("delete account: delete club", err)
			}
		default:
			return wrap("delete account: club heir", err)
		}
	}
	_, err = db.exec(ctx, tx, `DELETE FROM club_members WHERE user_id = ?`, user)
	return wrap("delete account: leave clubs", err)
}

// CreatePasswordReset stores a reset link (its token's hash).
func (db *DB) CreatePasswordReset(ctx context.Context, r account.PasswordReset) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, hex.EncodeToString(r.TokenHash), r.UserID, r.CreatedBy, millis(r.CreatedAt), millis(r.ExpiresAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("create password reset", err)
	})
}

// PasswordResetUser returns the account a usable reset link at now is for:
// ErrNotFound for an unknown, used or expired link, or a deleted account.
func (db *DB) PasswordResetUser(ctx context.Context, hash []byte, now time.Time) (account.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.sql, `SELECT `+userColumnsOf("u")+` FROM password_resets r
		JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ? AND u.deleted_at IS NULL`,
		hex.EncodeToString(hash), millis(now)))
	return u, notFound("password reset", err)
}

// UsePasswordReset spends a usable reset link: the account's password becomes
// passwordHash, every session of the account ends, and every other open link of
// it is spent too, in one transaction. It returns the account and the sessions
// it ended; ErrNotFound as PasswordResetUser.
func (db *DB) UsePasswordReset(ctx context.Context, hash []byte, passwordHash string, now time.Time) (string, []string, error) {
	var (
		user  string
		ended []string
	)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		err := db.queryRow(ctx, tx, `UPDATE password_resets SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
			AND user_id IN (SELECT id FROM users WHERE deleted_at IS NULL)
			RETURNING user_id`, millis(now), hex.EncodeToString(hash), millis(now)).Scan(&user)
		if err != nil {
			return notFound("use password reset", err)
		}
		if _, err := db.exec(ctx, tx, `UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL`,
			millis(now), user); err != nil {
			return wrap("use password reset", err)
		}
		if _, err := db.exec(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, user); err != nil {
			return wrap("use password reset", err)
		}
		if ended, err = db.idsOf(ctx, tx, "use password reset", `SELECT id FROM sessions WHERE user_id = ?`, user); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, user)
		return wrap("use password reset", err)
	})
	return user, ended, err
}

// Figures counts what the admin console's health panel shows from the store.
func (db *DB) Figures(ctx context.Context) (users, disabled int, err error) {
	err = db.queryRow(ctx, db.sql, `SELECT COUNT(*), COUNT(disabled_at) FROM users WHERE deleted_at IS NULL`).Scan(&users, &disabled)
	return users, disabled, wrap("figures", err)
}

// CountAdmins counts the admins whose accounts are active.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, db.sql, `SELECT COUNT(*) FROM users WHERE is_admin = ? AND disabled_at IS NULL`, true).Scan(&n)
	return n, wrap("count admins", err)
}
