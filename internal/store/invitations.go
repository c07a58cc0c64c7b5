package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// invitationColumns lists the invitations columns in the order scanInvitation reads
// them.
const invitationColumns = "id, room_id, inviter_id, message, to_stage, created_at"

func scanInvitation(row scanner) (live.Invitation, error) {
	var (
		inv     live.Invitation
		created int64
	)
	if err := row.Scan(&inv.ID, &inv.RoomID, &inv.InviterID, &inv.Message, &inv.ToStage, &created); err != nil {
		return live.Invitation{}, err
	}
	inv.CreatedAt = fromMillis(created)
	return inv, nil
}

// CreateInvitation stores inv with one pending Recipient per invitee, in one
// transaction. An invitee listed twice is invited once. ErrNotFound if the room, the
// inviter or an invitee does not exist (and nothing is stored); ErrInvalid for an
// empty ID or no invitees.
func (db *DB) CreateInvitation(ctx context.Context, inv live.Invitation, invitees []string) error {
	if err := checkID("create invitation", inv.ID); err != nil {
		return err
	}
	if len(invitees) == 0 {
		return fmt.Errorf("store: create invitation: no invitees: %w", account.ErrInvalid)
	}
	// Sorted, the foreign key checks lock the invitees' user rows (key share, on
	// Postgres) in ID order, like every other multi-user transaction here.
	users := slices.Compact(slices.Sorted(slices.Values(invitees)))
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO invitations (`+invitationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			inv.ID, inv.RoomID, inv.InviterID, inv.Message, inv.ToStage, millis(inv.CreatedAt))
		if isForeignKeyViolation(err) { // no such room or inviter
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("create invitation", err)
		}
		for chunk := range slices.Chunk(users, inListChunk) {
			q := `INSERT INTO invitation_recipients (invitation_id, user_id, status, text, answered_at) VALUES `
			args := make([]any, 0, 3*len(chunk))
			for i, u := range chunk {
				if i > 0 {
					q += ", "
				}
				q += "(?, ?, ?, '', NULL)"
				args = append(args, inv.ID, u, live.AnswerPending)
			}
			_, err := db.exec(ctx, tx, q, args...)
			if isForeignKeyViolation(err) { // no such invitee
				return account.ErrNotFound
			}
			if err != nil {
				return wrap("create invitation: recipients", err)
			}
		}
		return nil
	})
}

// Invitation returns the invitation with that ID and all its recipients (ordered by
// user ID), or ErrNotFound.
func (db *DB) Invitation(ctx context.Context, id string) (live.Invitation, []live.Recipient, error) {
	inv, err := scanInvitation(db.queryRow(ctx, db.sql,
		`SELECT `+invitationColumns+` FROM invitations WHERE id = ?`, id))
	if err != nil {
		return live.Invitation{}, nil, notFound("invitation", err)
	}
	rows, err := db.query(ctx, db.sql, `SELECT invitation_id, user_id, status, text, answered_at
		FROM invitation_recipients WHERE invitation_id = ? ORDER BY user_id`, id)
	if err != nil {
		return live.Invitation{}, nil, wrap("invitation: recipients", err)
	}
	defer rows.Close()
	var out []live.Recipient
	for rows.Next() {
		var (
			r        live.Recipient
			answered sql.NullInt64
		)
		if err := rows.Scan(&r.InvitationID, &r.UserID, &r.Status, &r.Text, &answered); err != nil {
			return live.Invitation{}, nil, wrap("invitation: recipients", err)
		}
		r.AnsweredAt = fromNullMillis(answered)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return live.Invitation{}, nil, wrap("invitation: recipients", err)
	}
	return inv, out, nil
}

// AnswerInvitation records userID's answer to the invitation: status (accepted,
// declined or question), text and when. A later answer replaces an earlier one.
// ErrNotFound unless userID is one of its recipients; ErrInvalid for any other
// status (pending is not an answer).
func (db *DB) AnswerInvitation(ctx context.Context, id, userID, status, text string, at time.Time) error {
	switch status {
	case live.AnswerAccepted, live.AnswerDeclined, live.AnswerQuestion:
	default:
		return fmt.Errorf("store: answer invitation: status %q: %w", status, account.ErrInvalid)
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE invitation_recipients SET status = ?, text = ?, answered_at = ?
			WHERE invitation_id = ? AND user_id = ?`, status, text, millis(at), id, userID)
		return affectedOne("answer invitation", res, err)
	})
}

// InvitationsTo lists the invitations userID received, whatever their answer,
// newest first (ties by ID descending), at most limit of them. ErrInvalid for a
// limit below one.
func (db *DB) InvitationsTo(ctx context.Context, userID string, limit int) ([]live.Invitation, error) {
	return db.invitations(ctx, "invitations to", `FROM invitations i
		JOIN invitation_recipients r ON r.invitation_id = i.id
		WHERE r.user_id = ?`, userID, limit)
}

// InvitationsFrom lists the invitations userID sent, newest first (ties by ID
// descending), at most limit of them. ErrInvalid for a limit below one.
func (db *DB) InvitationsFrom(ctx context.Context, userID string, limit int) ([]live.Invitation, error) {
	return db.invitations(ctx, "invitations from", `FROM invitations i WHERE i.inviter_id = ?`, userID, limit)
}

// invitations lists the invitations i of from (a FROM ... WHERE clause with one
// placeholder, for userID), newest first.
func (db *DB) invitations(ctx context.Context, op, from, userID string, limit int) ([]live.Invitation, error) {
	if err := checkLimit(op, limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, `SELECT `+qualify(invitationColumns, "i")+` `+from+`
		ORDER BY i.created_at DESC, i.id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []live.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, inv)
	}
	return out, wrap(op, rows.Err())
}
