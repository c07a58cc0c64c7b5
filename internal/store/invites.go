package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/townhall/townhall/internal/account"
)

// inviteColumns lists the invites columns in the order scanInvite reads them.
const inviteColumns = "code, created_by, grants_admin, created_at, expires_at, used_by, used_at, room_id"

func scanInvite(row scanner) (account.Invite, error) {
	var (
		inv                       account.Invite
		createdBy, usedBy, roomID sql.NullString
		created, expires          int64
		used                      sql.NullInt64
	)
	if err := row.Scan(&inv.Code, &createdBy, &inv.GrantsAdmin, &created, &expires, &usedBy, &used, &roomID); err != nil {
		return account.Invite{}, err
	}
	inv.CreatedBy = createdBy.String
	inv.UsedBy = usedBy.String
	inv.CreatedAt = fromMillis(created)
	inv.ExpiresAt = fromMillis(expires)
	inv.UsedAt = fromNullMillis(used)
	inv.RoomID = roomID.String
	return inv, nil
}

// CreateInvite stores inv unless its creator already has max or more usable (unused,
// unexpired at now) invites: then ErrInviteLimit. max < 0 means no limit. An empty
// CreatedBy is the first-run code, counted against the other creator-less codes.
// ErrNotFound if CreatedBy names no user. A RoomID (an invitation to a conversation)
// is kept as is: it need not name a stored room.
//
// The count and the insert are atomic: on Postgres the transaction first locks the
// creator's user row (or, for creator-less codes, the invites table), so concurrent
// calls for one creator take turns; SQLite serialises writers anyway.
func (db *DB) CreateInvite(ctx context.Context, inv account.Invite, max int, now time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		creator := `created_by = ?`
		args := []any{inv.CreatedBy}
		if inv.CreatedBy == "" {
			creator, args = `created_by IS NULL`, nil
			if db.driver == Postgres && max >= 0 {
				if _, err := tx.ExecContext(ctx, `LOCK TABLE invites IN SHARE ROW EXCLUSIVE MODE`); err != nil {
					return wrap("create invite: lock", err)
				}
			}
		} else {
			var id string
			// FOR NO KEY UPDATE, not FOR UPDATE: it still makes invite creators take
			// turns, but does not wait for the key-share locks that foreign keys
			// (sign-ups naming this user as inviter) take on the row.
			err := db.queryRow(ctx, tx, `SELECT id FROM users WHERE id = ?`+db.lockRows("FOR NO KEY UPDATE"),
				inv.CreatedBy).Scan(&id)
			if err != nil {
				return notFound("create invite: creator", err)
			}
		}
		if max >= 0 {
			var n int
			err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM invites
				WHERE `+creator+` AND used_by IS NULL AND expires_at > ?`,
				append(args, millis(now))...).Scan(&n)
			if err != nil {
				return wrap("create invite: count", err)
			}
			if n >= max {
				return account.ErrInviteLimit
			}
		}
		_, err := db.exec(ctx, tx, `INSERT INTO invites (`+inviteColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.Code, nullString(inv.CreatedBy), inv.GrantsAdmin, millis(inv.CreatedAt), millis(inv.ExpiresAt),
			nullString(inv.UsedBy), nullMillis(inv.UsedAt), nullString(inv.RoomID))
		if isForeignKeyViolation(err) { // UsedBy names no user
			return account.ErrNotFound
		}
		return wrap("create invite", err)
	})
}

// InviteByCode returns the invite with that code, usable or not, or ErrNotFound.
func (db *DB) InviteByCode(ctx context.Context, code string) (account.Invite, error) {
	inv, err := scanInvite(db.queryRow(ctx, db.sql, `SELECT `+inviteColumns+` FROM invites WHERE code = ?`, code))
	return inv, notFound("invite by code", err)
}

// ListInvites returns the invites a user created, newest first.
func (db *DB) ListInvites(ctx context.Context, creatorID string) ([]account.Invite, error) {
	rows, err := db.query(ctx, db.sql, `SELECT `+inviteColumns+` FROM invites
		WHERE created_by = ? ORDER BY created_at DESC, code DESC`, creatorID)
	if err != nil {
		return nil, wrap("list invites", err)
	}
	defer rows.Close()
	var out []account.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, wrap("list invites", err)
		}
		out = append(out, inv)
	}
	return out, wrap("list invites", rows.Err())
}

// AdminInvite returns a usable admin-granting invite at now (the newest, if there
// are several), or ErrNotFound.
func (db *DB) AdminInvite(ctx context.Context, now time.Time) (account.Invite, error) {
	inv, err := scanInvite(db.queryRow(ctx, db.sql, `SELECT `+inviteColumns+` FROM invites
		WHERE grants_admin = ? AND used_by IS NULL AND expires_at > ?
		ORDER BY created_at DESC, code DESC LIMIT 1`, true, millis(now)))
	return inv, notFound("admin invite", err)
}
