package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
)

// userColumns lists the users columns in the order scanUser reads them.
const userColumns = insertUserColumns + ", photo, deleted_at, email"

// insertUserColumns are the columns a new user row is written with.
const insertUserColumns = "id, username, display_name, bio, password_hash, is_admin, invited_by, created_at, disabled_at"

// userColumnsOf is userColumns qualified with a table alias, for joins.
func userColumnsOf(alias string) string { return qualify(userColumns, alias) }

// qualify prefixes each of the comma-separated columns with a table alias.
func qualify(columns, alias string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

type scanner interface{ Scan(dest ...any) error }

// scanUser reads the userColumns of a row, followed by extra destinations.
func scanUser(row scanner, extra ...any) (account.User, error) {
	var (
		u         account.User
		invitedBy sql.NullString
		created   int64
		disabled  sql.NullInt64
		photo     sql.NullString
		deleted   sql.NullInt64
		email     sql.NullString
	)
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Bio, &u.PasswordHash,
		&u.IsAdmin, &invitedBy, &created, &disabled, &photo, &deleted, &email}, extra...)
	if err := row.Scan(dest...); err != nil {
		return account.User{}, err
	}
	u.InvitedBy = invitedBy.String
	u.CreatedAt = fromMillis(created)
	u.DisabledAt = fromNullMillis(disabled)
	u.Photo = photo.String
	u.DeletedAt = fromNullMillis(deleted)
	u.Email = email.String
	return u, nil
}

// CreateUser inserts u and, if inviteCode is not empty, redeems that invite for it in
// the same transaction. The username is stored lower-cased; an empty u.ID gets a new
// one, a zero u.CreatedAt becomes now. When an invite is redeemed, the stored user's
// InvitedBy is the invite's creator and IsAdmin is set if the invite grants admin.
// Errors: ErrUsernameTaken, ErrInviteInvalid (unknown, used or expired at now); on
// either, nothing is written and the invite stays usable.
func (db *DB) CreateUser(ctx context.Context, u account.User, inviteCode string, now time.Time) (account.User, error) {
	u.Username = strings.ToLower(u.Username)
	if u.ID == "" {
		u.ID = ids.New()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	invitedBy := u.InvitedBy
	if inviteCode != "" {
		invitedBy = "" // set below, from the invite itself
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		// The user row goes in first: the invite's used_by references it.
		_, err := db.exec(ctx, tx, `INSERT INTO users (`+insertUserColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, u.DisplayName, u.Bio, u.PasswordHash, u.IsAdmin,
			nullString(invitedBy), millis(u.CreatedAt), nullMillis(u.DisabledAt))
		if err != nil {
			if unique, _, hint := constraintError(err); unique && strings.Contains(hint, "username") {
				return account.ErrUsernameTaken
			}
			if isForeignKeyViolation(err) { // InvitedBy names no user
				return account.ErrNotFound
			}
			return wrap("create user", err)
		}
		if inviteCode == "" {
			return nil
		}
		// The WHERE clause is the whole single-use check: of concurrent redeemers, the
		// first to update the row wins, and the others find used_by set (on Postgres
		// they wait for the winner's commit, then re-check the row).
		var (
			grantsAdmin bool
			createdBy   sql.NullString
		)
		err = db.queryRow(ctx, tx, `UPDATE invites SET used_by = ?, used_at = ?
			WHERE code = ? AND used_by IS NULL AND expires_at > ?
			RETURNING grants_admin, created_by`,
			u.ID, millis(now), inviteCode, millis(now)).Scan(&grantsAdmin, &createdBy)
		if errors.Is(err, sql.ErrNoRows) {
			return account.ErrInviteInvalid
		}
		if err != nil {
			return wrap("redeem invite", err)
		}
		u.InvitedBy = createdBy.String
		u.IsAdmin = u.IsAdmin || grantsAdmin
		_, err = db.exec(ctx, tx, `UPDATE users SET invited_by = ?, is_admin = ? WHERE id = ?`,
			nullString(u.InvitedBy), u.IsAdmin, u.ID)
		return wrap("create user", err)
	})
	if err != nil {
		return account.User{}, err
	}
	u.CreatedAt = fromMillis(millis(u.CreatedAt))
	if !u.DisabledAt.IsZero() {
		u.DisabledAt = fromMillis(millis(u.DisabledAt))
	}
	return u, nil
}

// UserByID returns the user with that ID, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (account.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.sql, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFound("user by id", err)
}

// UserByUsername returns the user with that username (matched lower-cased), or
// ErrNotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (account.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.sql, `SELECT `+userColumns+` FROM users WHERE username = ?`,
		strings.ToLower(username)))
	return u, notFound("user by username", err)
}

// CountUsers returns how many accounts exist, disabled ones included.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, db.sql, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

// UpdateProfile sets the user's display name and bio; ErrNotFound for an unknown ID.
func (db *DB) UpdateProfile(ctx context.Context, id, displayName, bio string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET display_name = ?, bio = ? WHERE id = ?`,
			displayName, bio, id)
		return affectedOne("update profile", res, err)
	})
}

// SetEmail sets the account's e-mail address, or clears it with ""; ErrNotFound
// for an unknown or deleted account. The caller validates the address.
func (db *DB) SetEmail(ctx context.Context, id, email string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET email = ? WHERE id = ? AND deleted_at IS NULL`, nullString(email), id)
		return affectedOne("set email", res, err)
	})
}

// DisableUser marks the account disabled at at and deletes all its sessions, in one
// transaction; ErrNotFound for an unknown ID.
func (db *DB) DisableUser(ctx context.Context, id string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET disabled_at = ? WHERE id = ?`, millis(at), id)
		if err := affectedOne("disable user", res, err); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, id)
		return wrap("disable user: delete sessions", err)
	})
}

// SetPassword replaces the user's password hash and deletes their other sessions
// (all but keep), in one transaction; ErrNotFound for an unknown ID.
func (db *DB) SetPassword(ctx context.Context, id, hash, keep string) ([]string, error) {
	var ended []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		ended = ended[:0]
		res, err := db.exec(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
		if err := affectedOne("set password", res, err); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT id FROM sessions WHERE user_id = ? AND id <> ?`, id, keep)
		if err != nil {
			return wrap("set password: list sessions", err)
		}
		for rows.Next() {
			var sid string
			if err := rows.Scan(&sid); err != nil {
				rows.Close()
				return wrap("set password: list sessions", err)
			}
			ended = append(ended, sid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("set password: list sessions", err)
		}
		_, err = db.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, id, keep)
		return wrap("set password: delete sessions", err)
	})
	return ended, err
}

// notFound maps sql.ErrNoRows to ErrNotFound and wraps other errors.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return account.ErrNotFound
	}
	return wrap(op, err)
}

// affectedOne checks that a statement touched a row: ErrNotFound if none.
func affectedOne(op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return account.ErrNotFound
	}
	return nil
}
