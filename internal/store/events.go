package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/room"
)

var _ event.Store = (*DB)(nil)

// eventColumns lists the events columns in the order scanEvent reads them.
const eventColumns = "id, title, description, starts_at, time_zone, host_id, club_id, room_type, members_only, " +
	"created_at, updated_at, cancelled_at, started_at, room_id"

func scanEvent(row scanner) (event.Event, error) {
	var (
		e                        event.Event
		clubID, roomID           sql.NullString
		roomType                 string
		starts, created, updated int64
		cancelled, started       sql.NullInt64
	)
	if err := row.Scan(&e.ID, &e.Title, &e.Description, &starts, &e.TimeZone, &e.HostID, &clubID, &roomType,
		&e.MembersOnly, &created, &updated, &cancelled, &started, &roomID); err != nil {
		return event.Event{}, err
	}
	e.ClubID, e.RoomID, e.RoomType = clubID.String, roomID.String, room.Type(roomType)
	e.StartsAt, e.CreatedAt, e.UpdatedAt = fromMillis(starts), fromMillis(created), fromMillis(updated)
	e.CancelledAt, e.StartedAt = fromNullMillis(cancelled), fromNullMillis(started)
	return e, nil
}

// eventNotFound maps a missing row to event.ErrNotFound.
func eventNotFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return event.ErrNotFound
	}
	return wrap(op, err)
}

// putCoHosts replaces the co-hosts of an event, keeping their order.
func (db *DB) putCoHosts(ctx context.Context, tx *sql.Tx, eventID string, cohosts []string) error {
	if _, err := db.exec(ctx, tx, `DELETE FROM event_cohosts WHERE event_id = ?`, eventID); err != nil {
		return wrap("event co-hosts", err)
	}
	for i, u := range cohosts {
		_, err := db.exec(ctx, tx, `INSERT INTO event_cohosts (event_id, user_id, seq) VALUES (?, ?, ?)`, eventID, u, i+1)
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("event co-hosts", err)
		}
	}
	return nil
}

// CreateEvent stores e with its co-hosts, in one transaction. account.ErrNotFound
// if the host, a co-host or the club does not exist; ErrInvalid for an empty ID.
func (db *DB) CreateEvent(ctx context.Context, e event.Event) error {
	if err := checkID("create event", e.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Title, e.Description, millis(e.StartsAt), e.TimeZone, e.HostID, nullString(e.ClubID),
			string(e.RoomType), e.MembersOnly, millis(e.CreatedAt), millis(e.UpdatedAt),
			nullMillis(e.CancelledAt), nullMillis(e.StartedAt), nullString(e.RoomID))
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		if err != nil {
			return wrap("create event", err)
		}
		return db.putCoHosts(ctx, tx, e.ID, e.CoHosts)
	})
}

// cohostsOf returns the co-hosts of the listed events, in order, by event.
func (db *DB) cohostsOf(ctx context.Context, q querier, events []event.Event) error {
	for i := range events {
		rows, err := db.query(ctx, q, `SELECT user_id FROM event_cohosts WHERE event_id = ? ORDER BY seq`, events[i].ID)
		if err != nil {
			return wrap("event co-hosts", err)
		}
		var list []string
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return wrap("event co-hosts", err)
			}
			list = append(list, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("event co-hosts", err)
		}
		events[i].CoHosts = list
	}
	return nil
}

// EventByID returns an event with its co-hosts, or event.ErrNotFound.
func (db *DB) EventByID(ctx context.Context, id string) (event.Event, error) {
	e, err := scanEvent(db.queryRow(ctx, db.sql, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if err != nil {
		return event.Event{}, eventNotFound("event by id", err)
	}
	list := []event.Event{e}
	if err := db.cohostsOf(ctx, db.sql, list); err != nil {
		return event.Event{}, err
	}
	return list[0], nil
}

// openEvent locks an event that is neither cancelled nor started: event.ErrClosed
// if it is, event.ErrNotFound if there is none.
func (db *DB) openEvent(ctx context.Context, tx *sql.Tx, id string) error {
	var cancelled, started sql.NullInt64
	err := db.queryRow(ctx, tx, `SELECT cancelled_at, started_at FROM events WHERE id = ?`+db.lockRows("FOR UPDATE"),
		id).Scan(&cancelled, &started)
	if err != nil {
		return eventNotFound("open event", err)
	}
	if cancelled.Valid || started.Valid {
		return event.ErrClosed
	}
	return nil
}

// UpdateEvent changes an open event, and with resetReminder forgets the reminder
// sent before its old start. event.ErrClosed, event.ErrNotFound, or
// account.ErrNotFound for an unknown co-host.
func (db *DB) UpdateEvent(ctx context.Context, e event.Event, resetReminder bool) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.openEvent(ctx, tx, e.ID); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `UPDATE events SET title = ?, description = ?, starts_at = ?, time_zone = ?,
			room_type = ?, members_only = ?, updated_at = ? WHERE id = ?`, e.Title, e.Description, millis(e.StartsAt),
			e.TimeZone, string(e.RoomType), e.MembersOnly, millis(e.UpdatedAt), e.ID)
		if err != nil {
			return wrap("update event", err)
		}
		if resetReminder {
			_, err := db.exec(ctx, tx, `DELETE FROM event_reminders WHERE event_id = ? AND kind = ?`, e.ID, event.ReminderSoon)
			if err != nil {
				return wrap("update event: reset reminder", err)
			}
		}
		return db.putCoHosts(ctx, tx, e.ID, e.CoHosts)
	})
}

// CancelEvent marks an open event cancelled at at. event.ErrClosed if it was
// cancelled or started; ErrInvalid for the zero time.
func (db *DB) CancelEvent(ctx context.Context, id string, at time.Time) error {
	return db.setEventTime(ctx, "cancel event", "cancelled_at", id, at)
}

// ClaimEventStart marks an open event started at at, once. event.ErrClosed if it
// was cancelled or started.
func (db *DB) ClaimEventStart(ctx context.Context, id string, at time.Time) error {
	return db.setEventTime(ctx, "claim event start", "started_at", id, at)
}

// setEventTime sets column (cancelled_at or started_at) of an open event.
func (db *DB) setEventTime(ctx context.Context, op, column, id string, at time.Time) error {
	if err := checkTime(op, at); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.openEvent(ctx, tx, id); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `UPDATE events SET `+column+` = ? WHERE id = ?`, millis(at), id)
		return wrap(op, err)
	})
}

// UnclaimEventStart clears started_at of an event whose room did not open.
func (db *DB) UnclaimEventStart(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE events SET started_at = NULL WHERE id = ? AND room_id IS NULL`, id)
		return eventAffected("unclaim event start", res, err)
	})
}

func eventAffected(op string, res sql.Result, err error) error {
	if err := affectedOne(op, res, err); err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return event.ErrNotFound
		}
		return err
	}
	return nil
}

// SetEventRoom records the room an event opened.
func (db *DB) SetEventRoom(ctx context.Context, id, roomID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE events SET room_id = ? WHERE id = ?`, roomID, id)
		return eventAffected("set event room", res, err)
	})
}

// listEvents runs a query of events (selecting eventColumns of alias e) and
// loads their co-hosts.
func (db *DB) listEvents(ctx context.Context, op, query string, args ...any) ([]event.Event, error) {
	rows, err := db.query(ctx, db.sql, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []event.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, db.cohostsOf(ctx, db.sql, out)
}

// UpcomingEvents lists events not cancelled starting at or after from that concern
// viewerID (see event.Store), by start then ID, at most limit.
func (db *DB) UpcomingEvents(ctx context.Context, viewerID string, from time.Time, limit int) ([]event.Event, error) {
	if err := checkLimit("upcoming events", limit); err != nil {
		return nil, err
	}
	return db.listEvents(ctx, "upcoming events", `SELECT `+qualify(eventColumns, "e")+` FROM events e
		WHERE e.cancelled_at IS NULL AND e.starts_at >= ? AND (
			e.host_id = ?
			OR e.host_id IN (SELECT followee FROM follows WHERE follower = ?)
			OR e.id IN (SELECT c.event_id FROM event_cohosts c WHERE c.user_id = ?
				OR c.user_id IN (SELECT followee FROM follows WHERE follower = ?))
			OR e.club_id IN (SELECT club_id FROM club_members WHERE user_id = ?)
			OR e.id IN (SELECT event_id FROM event_subscriptions WHERE user_id = ?)
			OR e.id IN (SELECT event_id FROM event_invitations WHERE user_id = ?))
		ORDER BY e.starts_at, e.id LIMIT ?`,
		millis(from), viewerID, viewerID, viewerID, viewerID, viewerID, viewerID, viewerID, limit)
}

// HostedEvents lists the events hostID hosts or co-hosts, not cancelled, starting
// at or after from, by start.
func (db *DB) HostedEvents(ctx context.Context, hostID string, from time.Time, limit int) ([]event.Event, error) {
	if err := checkLimit("hosted events", limit); err != nil {
		return nil, err
	}
	return db.listEvents(ctx, "hosted events", `SELECT `+qualify(eventColumns, "e")+` FROM events e
		WHERE e.cancelled_at IS NULL AND e.starts_at >= ? AND (e.host_id = ?
			OR e.id IN (SELECT event_id FROM event_cohosts WHERE user_id = ?))
		ORDER BY e.starts_at, e.id LIMIT ?`, millis(from), hostID, hostID, limit)
}

// ClubEvents lists a club's events, not cancelled, starting at or after from.
func (db *DB) ClubEvents(ctx context.Context, clubID string, from time.Time, limit int) ([]event.Event, error) {
	if err := checkLimit("club events", limit); err != nil {
		return nil, err
	}
	return db.listEvents(ctx, "club events", `SELECT `+qualify(eventColumns, "e")+` FROM events e
		WHERE e.cancelled_at IS NULL AND e.starts_at >= ? AND e.club_id = ?
		ORDER BY e.starts_at, e.id LIMIT ?`, millis(from), clubID, limit)
}

// ExploreEvents lists, for viewerID, the events anyone may join: open, not
// members-only, not cancelled, hosted by an account that is not disabled, with no
// block either way between the viewer and the host or a co-host. An event is
// listed while it has yet to start (after now), or once its room opened while it
// started at or after from. By start then ID, the page after after (the zero
// Cursor for the first page), at most limit; next is the cursor of the next page,
// zero on the last.
func (db *DB) ExploreEvents(ctx context.Context, viewerID string, from, now time.Time, after account.Cursor,
	limit int) (list []event.Event, next account.Cursor, err error) {
	if err := checkLimit("explore events", limit); err != nil {
		return nil, account.Cursor{}, err
	}
	page, args := "", []any{string(room.Open), false, millis(now), millis(from), viewerID, viewerID, viewerID, viewerID}
	if !after.IsZero() {
		page = ` AND (e.starts_at > ? OR e.starts_at = ? AND e.id > ?)`
		args = append(args, millis(after.At), millis(after.At), after.ID)
	}
	list, err = db.listEvents(ctx, "explore events", `SELECT `+qualify(eventColumns, "e")+` FROM events e
		JOIN users h ON h.id = e.host_id
		WHERE e.cancelled_at IS NULL AND e.room_type = ? AND e.members_only = ? AND h.disabled_at IS NULL
			AND (e.starts_at > ? OR e.started_at IS NOT NULL AND e.starts_at >= ?)
			AND NOT EXISTS (SELECT 1 FROM blocks b
				WHERE b.blocker = ? AND b.blocked = e.host_id OR b.blocked = ? AND b.blocker = e.host_id)
			AND NOT EXISTS (SELECT 1 FROM event_cohosts c JOIN blocks b
				ON b.blocker = ? AND b.blocked = c.user_id OR b.blocked = ? AND b.blocker = c.user_id
				WHERE c.event_id = e.id)`+page+`
		ORDER BY e.starts_at, e.id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, account.Cursor{}, err
	}
	if len(list) > limit {
		list = list[:limit]
		next = account.Cursor{At: list[limit-1].StartsAt, ID: list[limit-1].ID}
	}
	return list, next, nil
}
