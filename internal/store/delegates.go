package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/townhall/townhall/internal/account"
)

var _ account.DelegateStore = (*DB)(nil)

func joinScopes(s []account.Scope) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return strings.Join(out, ",")
}

func splitScopes(s string) []account.Scope {
	var out []account.Scope
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, account.Scope(x))
		}
	}
	return out
}

func scanDelegate(row scanner) (account.Delegate, error) {
	var (
		d       account.Delegate
		scopes  string
		created int64
	)
	if err := row.Scan(&d.OwnerID, &d.UserID, &scopes, &created); err != nil {
		return account.Delegate{}, err
	}
	d.Scopes, d.CreatedAt = splitScopes(scopes), fromMillis(created)
	return d, nil
}

// PutDelegate names d.UserID a delegate of d.OwnerID, or replaces the scopes of an
// existing delegate. account.ErrTooManyDelegates if the owner would have more than
// max; account.ErrNotFound if a user is missing. On Postgres the owner's row is
// locked, so that two concurrent namings cannot both pass the count.
func (db *DB) PutDelegate(ctx context.Context, d account.Delegate, max int) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, `SELECT 1 FROM users WHERE id = ?`+db.lockRows("FOR NO KEY UPDATE"), d.OwnerID).Scan(&one)
		if err != nil {
			return notFound("put delegate: owner", err)
		}
		var n int
		err = db.queryRow(ctx, tx, `SELECT COUNT(*) FROM delegates WHERE owner_id = ? AND user_id <> ?`,
			d.OwnerID, d.UserID).Scan(&n)
		if err != nil {
			return wrap("put delegate: count", err)
		}
		if n >= max {
			return account.ErrTooManyDelegates
		}
		_, err = db.exec(ctx, tx, `INSERT INTO delegates (owner_id, user_id, scopes, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (owner_id, user_id) DO UPDATE SET scopes = excluded.scopes`,
			d.OwnerID, d.UserID, joinScopes(d.Scopes), millis(d.CreatedAt))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("put delegate", err)
	})
}

// DeleteDelegate revokes a delegate; account.ErrNotFound if there is none.
func (db *DB) DeleteDelegate(ctx context.Context, ownerID, userID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM delegates WHERE owner_id = ? AND user_id = ?`, ownerID, userID)
		return affectedOne("delete delegate", res, err)
	})
}

// Delegate returns userID's delegation by ownerID, or account.ErrNotFound.
func (db *DB) Delegate(ctx context.Context, ownerID, userID string) (account.Delegate, error) {
	d, err := scanDelegate(db.queryRow(ctx, db.sql, `SELECT owner_id, user_id, scopes, created_at FROM delegates
		WHERE owner_id = ? AND user_id = ?`, ownerID, userID))
	return d, notFound("delegate", err)
}

func (db *DB) listDelegates(ctx context.Context, column, id string) ([]account.Delegate, error) {
	rows, err := db.query(ctx, db.sql, `SELECT owner_id, user_id, scopes, created_at FROM delegates
		WHERE `+column+` = ? ORDER BY created_at, owner_id, user_id`, id)
	if err != nil {
		return nil, wrap("delegates", err)
	}
	defer rows.Close()
	var out []account.Delegate
	for rows.Next() {
		d, err := scanDelegate(rows)
		if err != nil {
			return nil, wrap("delegates", err)
		}
		out = append(out, d)
	}
	return out, wrap("delegates", rows.Err())
}

// DelegatesOf lists the delegates ownerID named, oldest first.
func (db *DB) DelegatesOf(ctx context.Context, ownerID string) ([]account.Delegate, error) {
	return db.listDelegates(ctx, "owner_id", ownerID)
}

// DelegationsTo lists the delegations held by userID, oldest first.
func (db *DB) DelegationsTo(ctx context.Context, userID string) ([]account.Delegate, error) {
	return db.listDelegates(ctx, "user_id", userID)
}

// AddAudit appends e to its owner's audit log. account.ErrNotFound if a user is
// missing; ErrInvalid for an empty ID.
func (db *DB) AddAudit(ctx context.Context, e account.AuditEntry) error {
	if err := checkID("add audit", e.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO audit_log (id, owner_id, delegate_id, action, target, at)
			VALUES (?, ?, ?, ?, ?, ?)`, e.ID, e.OwnerID, e.DelegateID, e.Action, e.Target, millis(e.At))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("add audit", err)
	})
}

// AuditLog lists ownerID's audit log newest first (ties by ID descending), after
// the entry before ("" for the newest), at most limit. account.ErrNotFound if
// before is not one of the owner's entries; ErrInvalid for a limit below one.
func (db *DB) AuditLog(ctx context.Context, ownerID, before string, limit int) ([]account.AuditEntry, error) {
	if err := checkLimit("audit log", limit); err != nil {
		return nil, err
	}
	q := `SELECT id, owner_id, delegate_id, action, target, at FROM audit_log WHERE owner_id = ?`
	args := []any{ownerID}
	if before != "" {
		var at int64
		err := db.queryRow(ctx, db.sql, `SELECT at FROM audit_log WHERE id = ? AND owner_id = ?`, before, ownerID).Scan(&at)
		if err != nil {
			return nil, notFound("audit log: cursor", err)
		}
		q += ` AND (at < ? OR (at = ? AND id < ?))`
		args = append(args, at, at, before)
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, wrap("audit log", err)
	}
	defer rows.Close()
	var out []account.AuditEntry
	for rows.Next() {
		var (
			e  account.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &e.OwnerID, &e.DelegateID, &e.Action, &e.Target, &at); err != nil {
			return nil, wrap("audit log", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, wrap("audit log", rows.Err())
}
