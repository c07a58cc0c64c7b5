package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/invitation"
)

var _ invitation.Store = (*DB)(nil)

// pageColumns lists the invitation_pages columns in the order scanPage reads them.
const pageColumns = "code, key_hash, inviter_id, invitee_id, invitee_name, room_id, event_id, invitation_id, " +
	"signup_code, message, to_stage, public, status, created_at, expires_at, seen_at, answered_at, updated_at, posts"

func scanPage(row scanner) (invitation.Invitation, error) {
	var (
		p                                       invitation.Invitation
		invitee, roomID, eventID, invID, signup sql.NullString
		created, expires, updated               int64
		seen, answered                          sql.NullInt64
	)
	err := row.Scan(&p.Code, &p.KeyHash, &p.InviterID, &invitee, &p.InviteeName, &roomID, &eventID, &invID,
		&signup, &p.Message, &p.ToStage, &p.Public, &p.Status, &created, &expires, &seen, &answered, &updated, &p.Posts)
	if err != nil {
		return invitation.Invitation{}, err
	}
	p.InviteeID, p.RoomID, p.EventID, p.InvitationID, p.SignupCode =
		invitee.String, roomID.String, eventID.String, invID.String, signup.String
	p.CreatedAt, p.ExpiresAt, p.UpdatedAt = fromMillis(created), fromMillis(expires), fromMillis(updated)
	p.SeenAt, p.AnsweredAt = fromNullMillis(seen), fromNullMillis(answered)
	return p, nil
}

// pageNotFound maps a missing row to invitation.ErrNotFound.
func pageNotFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return invitation.ErrNotFound
	}
	return wrap(op, err)
}

// CreateInvitationPages stores pages, all or none. account.ErrNotFound if a
// page names a user, room or event that does not exist.
func (db *DB) CreateInvitationPages(ctx context.Context, pages []invitation.Invitation) error {
	if len(pages) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, p := range pages {
			if p.Code == "" || p.KeyHash == "" || (p.RoomID == "") == (p.EventID == "") {
				return fmt.Errorf("store: create invitation page: a code, a key and one room or event: %w", account.ErrInvalid)
			}
			_, err := db.exec(ctx, tx, `INSERT INTO invitation_pages (`+pageColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.Code, p.KeyHash, p.InviterID, nullString(p.InviteeID), p.InviteeName, nullString(p.RoomID),
				nullString(p.EventID), nullString(p.InvitationID), nullString(p.SignupCode), p.Message, p.ToStage,
				p.Public, p.Status, millis(p.CreatedAt), millis(p.ExpiresAt), nullMillis(p.SeenAt),
				nullMillis(p.AnsweredAt), millis(p.UpdatedAt), 0)
			if isForeignKeyViolation(err) {
				return account.ErrNotFound
			}
			if err != nil {
				return wrap("create invitation page", err)
			}
		}
		return nil
	})
}

// InvitationPage returns a page and its thread, oldest post first.
func (db *DB) InvitationPage(ctx context.Context, code string) (invitation.Invitation, []invitation.Post, error) {
	p, err := scanPage(db.queryRow(ctx, db.sql, `SELECT `+pageColumns+` FROM invitation_pages WHERE code = ?`, code))
	if err != nil {
		return invitation.Invitation{}, nil, pageNotFound("invitation page", err)
	}
	posts, err := db.InvitationPosts(ctx, []string{code})
	if err != nil {
		return invitation.Invitation{}, nil, err
	}
	return p, posts[code], nil
}

// InvitationPageFor returns the page of the invitation to a room of.InvitationID,
// or the newest of the event of.EventID, for the invitee of.InviteeID.
func (db *DB) InvitationPageFor(ctx context.Context, of invitation.Of) (invitation.Invitation, error) {
	var where string
	var arg string
	switch {
	case of.InvitationID != "":
		where, arg = "invitation_id = ?", of.InvitationID
	case of.EventID != "":
		where, arg = "event_id = ?", of.EventID
	default:
		return invitation.Invitation{}, invitation.ErrNotFound
	}
	p, err := scanPage(db.queryRow(ctx, db.sql, `SELECT `+pageColumns+` FROM invitation_pages
		WHERE `+where+` AND invitee_id = ? ORDER BY created_at DESC, code DESC LIMIT 1`, arg, of.InviteeID))
	return p, pageNotFound("invitation page for", err)
}

// InvitationPageBySignup returns the page whose sign-up code is code.
func (db *DB) InvitationPageBySignup(ctx context.Context, code string) (invitation.Invitation, error) {
	p, err := scanPage(db.queryRow(ctx, db.sql, `SELECT `+pageColumns+` FROM invitation_pages WHERE signup_code = ?`, code))
	return p, pageNotFound("invitation page by sign-up code", err)
}

// AddInvitationPost appends p to the thread of code (p.Seq is set to the next
// number) and sets the page's status unless status is "": at most max posts.
// The page's row is locked while it counts, so two posts never take one number.
func (db *DB) AddInvitationPost(ctx context.Context, code string, p invitation.Post, status string, max int) (invitation.Post, error) {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var n int
		err := db.queryRow(ctx, tx, `SELECT posts FROM invitation_pages WHERE code = ?`+db.lockRows("FOR UPDATE"), code).Scan(&n)
		if err != nil {
			return pageNotFound("add invitation post", err)
		}
		if n >= max {
			return invitation.ErrTooManyPosts
		}
		p.Seq = n + 1
		_, err = db.exec(ctx, tx, `INSERT INTO invitation_posts (code, seq, side, kind, author_id, for_id, name, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, code, p.Seq, p.Side, p.Kind, nullString(p.AuthorID), nullString(p.ForID),
			p.Name, p.Text, millis(p.At))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("add invitation post", err)
		}
		q := `UPDATE invitation_pages SET posts = ?, updated_at = ?`
		args := []any{p.Seq, millis(p.At)}
		if status != "" {
			q += `, status = ?`
			args = append(args, status)
			if p.Side == invitation.SideInvitee {
				q += `, answered_at = ?`
				args = append(args, millis(p.At))
			}
		}
		_, err = db.exec(ctx, tx, q+` WHERE code = ?`, append(args, code)...)
		return wrap("add invitation post", err)
	})
	return p, err
}

// MarkInvitationSeen sets a sent page's status to seen.
func (db *DB) MarkInvitationSeen(ctx context.Context, code string, at time.Time) (bool, error) {
	var changed bool
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE invitation_pages SET status = ?, seen_at = ?, updated_at = ?
			WHERE code = ? AND status = ?`, invitation.StatusSeen, millis(at), millis(at), code, invitation.StatusSent)
		if err != nil {
			return wrap("mark invitation seen", err)
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return wrap("mark invitation seen", err)
	})
	return changed, err
}

// ClaimInvitationPage makes an unclaimed page userID's and uses up its sign-up
// code (so that it makes no account after), in one transaction. Claiming a page
// that is userID's already does nothing; another's is ErrClaimed.
func (db *DB) ClaimInvitationPage(ctx context.Context, code, userID string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var (
			invitee, signup sql.NullString
		)
		err := db.queryRow(ctx, tx, `SELECT invitee_id, signup_code FROM invitation_pages WHERE code = ?`+db.lockRows("FOR UPDATE"),
			code).Scan(&invitee, &signup)
		if err != nil {
			return pageNotFound("claim invitation page", err)
		}
		switch {
		case invitee.String == userID:
			return nil
		case invitee.Valid:
			return invitation.ErrClaimed
		}
		_, err = db.exec(ctx, tx, `UPDATE invitation_pages SET invitee_id = ?, updated_at = ? WHERE code = ?`,
			userID, millis(at), code)
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("claim invitation page", err)
		}
		if signup.Valid {
			_, err = db.exec(ctx, tx, `UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL`,
				userID, millis(at), signup.String)
		}
		return wrap("claim invitation page: sign-up code", err)
	})
}

// SetInvitationPublic makes a page public or private.
func (db *DB) SetInvitationPublic(ctx context.Context, code string, public bool, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE invitation_pages SET public = ?, updated_at = ? WHERE code = ?`,
			public, millis(at), code)
		if err := affectedOne("set invitation public", res, err); errors.Is(err, account.ErrNotFound) {
			return invitation.ErrNotFound
		} else if err != nil {
			return err
		}
		return nil
	})
}

// InvitationPages lists pages newest first, of one room, event, inviter or
// invitee, only the public ones when public.
func (db *DB) InvitationPages(ctx context.Context, of invitation.Of, public bool, limit int) ([]invitation.Invitation, error) {
	if err := checkLimit("invitation pages", limit); err != nil {
		return nil, err
	}
	var where string
	var arg string
	switch {
	case of.RoomID != "":
		where, arg = "room_id = ?", of.RoomID
	case of.EventID != "":
		where, arg = "event_id = ?", of.EventID
	case of.InviterID != "":
		where, arg = "inviter_id = ?", of.InviterID
	case of.InviteeID != "":
		where, arg = "invitee_id = ?", of.InviteeID
	default:
		return nil, fmt.Errorf("store: invitation pages: of what? %w", account.ErrInvalid)
	}
	args := []any{arg}
	if public {
		where += " AND public = ?"
		args = append(args, true)
	}
	rows, err := db.query(ctx, db.sql, `SELECT `+pageColumns+` FROM invitation_pages WHERE `+where+`
		ORDER BY created_at DESC, code DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, wrap("invitation pages", err)
	}
	defer rows.Close()
	var out []invitation.Invitation
	for rows.Next() {
		p, err := scanPage(rows)
		if err != nil {
			return nil, wrap("invitation pages", err)
		}
		out = append(out, p)
	}
	return out, wrap("invitation pages", rows.Err())
}

// InvitationPosts returns the threads of the pages codes, oldest post first.
func (db *DB) InvitationPosts(ctx context.Context, codes []string) (map[string][]invitation.Post, error) {
	out := map[string][]invitation.Post{}
	for i := 0; i < len(codes); i += inListChunk {
		chunk := codes[i:min(i+inListChunk, len(codes))]
		args := make([]any, len(chunk))
		for j, c := range chunk {
			args[j] = c
		}
		rows, err := db.query(ctx, db.sql, `SELECT code, seq, side, kind, author_id, for_id, name, text, created_at
			FROM invitation_posts WHERE code IN (`+marks(len(chunk))+`) ORDER BY code, seq`, args...)
		if err != nil {
			return nil, wrap("invitation posts", err)
		}
		for rows.Next() {
			var (
				code          string
				p             invitation.Post
				author, forID sql.NullString
				at            int64
			)
			if err := rows.Scan(&code, &p.Seq, &p.Side, &p.Kind, &author, &forID, &p.Name, &p.Text, &at); err != nil {
				rows.Close()
				return nil, wrap("invitation posts", err)
			}
			p.AuthorID, p.ForID, p.At = author.String, forID.String, fromMillis(at)
			out[code] = append(out[code], p)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("invitation posts", err)
		}
	}
	return out, nil
}
