package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
)

// Subscribe makes userID a subscriber of the event (idempotent: the first time is
// kept). account.ErrNotFound if the event or the user does not exist.
func (db *DB) Subscribe(ctx context.Context, eventID, userID string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO event_subscriptions (event_id, user_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (event_id, user_id) DO NOTHING`, eventID, userID, millis(at))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("subscribe", err)
	})
}

// Unsubscribe is idempotent.
func (db *DB) Unsubscribe(ctx context.Context, eventID, userID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `DELETE FROM event_subscriptions WHERE event_id = ? AND user_id = ?`, eventID, userID)
		return wrap("unsubscribe", err)
	})
}

// Subscribers lists an event's subscribers, first subscribed first.
func (db *DB) Subscribers(ctx context.Context, eventID string) ([]string, error) {
	rows, err := db.query(ctx, db.sql, `SELECT user_id FROM event_subscriptions WHERE event_id = ?
		ORDER BY created_at, user_id`, eventID)
	if err != nil {
		return nil, wrap("subscribers", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, wrap("subscribers", err)
		}
		out = append(out, u)
	}
	return out, wrap("subscribers", rows.Err())
}

// IsSubscribed reports whether userID subscribed to the event.
func (db *DB) IsSubscribed(ctx context.Context, eventID, userID string) (bool, error) {
	var one int
	err := db.queryRow(ctx, db.sql, `SELECT 1 FROM event_subscriptions WHERE event_id = ? AND user_id = ?`,
		eventID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap("is subscribed", err)
}

// AddEventInvitations invites users to an event, pending, with inv's inviter,
// message, stage flag and time. An invitee already invited keeps their invitation
// and answer; a stage invitation upgrades theirs to the stage. In one transaction;
// account.ErrNotFound if the event or a user does not exist.
func (db *DB) AddEventInvitations(ctx context.Context, inv event.Invitation, users []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, u := range users {
			_, err := db.exec(ctx, tx, `INSERT INTO event_invitations
				(event_id, user_id, inviter_id, message, to_stage, status, text, created_at, answered_at)
				VALUES (?, ?, ?, ?, ?, ?, '', ?, NULL)
				ON CONFLICT (event_id, user_id) DO UPDATE
				SET to_stage = (event_invitations.to_stage OR excluded.to_stage)`,
				inv.EventID, u, inv.InviterID, inv.Message, inv.ToStage, event.AnswerPending, millis(inv.CreatedAt))
			if isForeignKeyViolation(err) {
				return account.ErrNotFound
			}
			if err != nil {
				return wrap("add event invitations", err)
			}
		}
		return nil
	})
}

const eventInvitationColumns = "event_id, user_id, inviter_id, message, to_stage, status, text, created_at, answered_at"

func scanEventInvitation(row scanner) (event.Invitation, error) {
	var (
		inv      event.Invitation
		created  int64
		answered sql.NullInt64
	)
	if err := row.Scan(&inv.EventID, &inv.UserID, &inv.InviterID, &inv.Message, &inv.ToStage, &inv.Status, &inv.Text,
		&created, &answered); err != nil {
		return event.Invitation{}, err
	}
	inv.CreatedAt, inv.AnsweredAt = fromMillis(created), fromNullMillis(answered)
	return inv, nil
}

// EventInvitation returns userID's invitation to the event, or event.ErrNoInvitation.
func (db *DB) EventInvitation(ctx context.Context, eventID, userID string) (event.Invitation, error) {
	inv, err := scanEventInvitation(db.queryRow(ctx, db.sql, `SELECT `+eventInvitationColumns+`
		FROM event_invitations WHERE event_id = ? AND user_id = ?`, eventID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return event.Invitation{}, event.ErrNoInvitation
	}
	return inv, wrap("event invitation", err)
}

func (db *DB) listEventInvitations(ctx context.Context, op, query string, args ...any) ([]event.Invitation, error) {
	rows, err := db.query(ctx, db.sql, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []event.Invitation
	for rows.Next() {
		inv, err := scanEventInvitation(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, inv)
	}
	return out, wrap(op, rows.Err())
}

// EventInvitations lists an event's invitations, first invited first.
func (db *DB) EventInvitations(ctx context.Context, eventID string) ([]event.Invitation, error) {
	return db.listEventInvitations(ctx, "event invitations", `SELECT `+eventInvitationColumns+`
		FROM event_invitations WHERE event_id = ? ORDER BY created_at, user_id`, eventID)
}

// EventInvitationsTo lists userID's invitations to events not cancelled starting at
// or after from, by the event's start.
func (db *DB) EventInvitationsTo(ctx context.Context, userID string, from time.Time, limit int) ([]event.Invitation, error) {
	if err := checkLimit("event invitations to", limit); err != nil {
		return nil, err
	}
	return db.listEventInvitations(ctx, "event invitations to", `SELECT `+qualify(eventInvitationColumns, "i")+`
		FROM event_invitations i JOIN events e ON e.id = i.event_id
		WHERE i.user_id = ? AND e.cancelled_at IS NULL AND e.starts_at >= ?
		ORDER BY e.starts_at, e.id LIMIT ?`, userID, millis(from), limit)
}

// AnswerEventInvitation records userID's answer. event.ErrNoInvitation if none;
// ErrInvalid for the zero time.
func (db *DB) AnswerEventInvitation(ctx context.Context, eventID, userID, status, text string, at time.Time) error {
	if err := checkTime("answer event invitation", at); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE event_invitations SET status = ?, text = ?, answered_at = ?
			WHERE event_id = ? AND user_id = ?`, status, text, millis(at), eventID, userID)
		if err := affectedOne("answer event invitation", res, err); err != nil {
			if errors.Is(err, account.ErrNotFound) {
				return event.ErrNoInvitation
			}
			return err
		}
		return nil
	})
}

// dueWhere selects events neither cancelled nor started, without a reminder of a
// kind (the first argument), starting after the second.
// dueWhere picks the events neither cancelled nor started whose reminder of a
// kind was neither sent (claim_until NULL) nor claimed by a claim still running at
// now. Its parameters: kind, now, from.
const dueWhere = ` FROM events e WHERE e.cancelled_at IS NULL AND e.started_at IS NULL
	AND NOT EXISTS (SELECT 1 FROM event_reminders r WHERE r.event_id = e.id AND r.kind = ?
		AND (r.claim_until IS NULL OR r.claim_until > ?))
	AND e.starts_at > ?`

// DueEvents lists events neither cancelled nor started starting in (from, to]
// whose reminder of kind was neither sent nor claimed at now, by start, at most
// limit.
func (db *DB) DueEvents(ctx context.Context, kind string, now, from, to time.Time, limit int) ([]event.Event, error) {
	if err := checkLimit("due events", limit); err != nil {
		return nil, err
	}
	return db.listEvents(ctx, "due events", `SELECT `+qualify(eventColumns, "e")+dueWhere+` AND e.starts_at <= ?
		ORDER BY e.starts_at, e.id LIMIT ?`, kind, millis(now), millis(from), millis(to), limit)
}

// NextDue returns the earliest start after from of an event neither cancelled
// nor started whose reminder of kind was not sent: claimed by a scheduler that
// may die before it sends it, or not.
func (db *DB) NextDue(ctx context.Context, kind string, from time.Time) (time.Time, bool, error) {
	var at int64
	err := db.queryRow(ctx, db.sql, `SELECT e.starts_at FROM events e WHERE e.cancelled_at IS NULL AND e.started_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM event_reminders r WHERE r.event_id = e.id AND r.kind = ? AND r.claim_until IS NULL)
		AND e.starts_at > ? ORDER BY e.starts_at LIMIT 1`, kind, millis(from)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, wrap("next due", err)
	}
	return fromMillis(at), true, nil
}

// MarkReminder records that the reminder of kind for the event went out at at;
// first is false if it was recorded already. event.ErrNotFound for an unknown event.
func (db *DB) MarkReminder(ctx context.Context, eventID, kind string, at time.Time) (bool, error) {
	var first bool
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO event_reminders (event_id, kind, sent_at) VALUES (?, ?, ?)
			ON CONFLICT (event_id, kind) DO NOTHING`, eventID, kind, millis(at))
		if isForeignKeyViolation(err) {
			return event.ErrNotFound
		}
		if err != nil {
			return wrap("mark reminder", err)
		}
		n, err := res.RowsAffected()
		first = n == 1
		return wrap("mark reminder", err)
	})
	return first, err
}

// ClaimReminder claims the sending of the reminder of kind for the event at at,
// until until: true for the first caller, and for the first caller after a claim
// that expired unfinished (its node died between claiming and finishing); false
// once it was sent (FinishReminder or MarkReminder). event.ErrNotFound for an
// unknown event.
func (db *DB) ClaimReminder(ctx context.Context, eventID, kind string, at, until time.Time) (bool, error) {
	var ok bool
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO event_reminders (event_id, kind, sent_at, claim_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (event_id, kind) DO UPDATE SET sent_at = excluded.sent_at, claim_until = excluded.claim_until
			WHERE event_reminders.claim_until IS NOT NULL AND event_reminders.claim_until <= excluded.sent_at`,
			eventID, kind, millis(at), millis(until))
		if isForeignKeyViolation(err) {
			return event.ErrNotFound
		}
		if err != nil {
			return wrap("claim reminder", err)
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return wrap("claim reminder", err)
	})
	return ok, err
}

// FinishReminder records that a claimed reminder went out, for good.
func (db *DB) FinishReminder(ctx context.Context, eventID, kind string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `UPDATE event_reminders SET claim_until = NULL WHERE event_id = ? AND kind = ?`, eventID, kind)
		return wrap("finish reminder", err)
	})
}
