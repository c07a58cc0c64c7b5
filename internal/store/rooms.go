package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// roomColumns lists the rooms columns in the order scanRoom reads them.
const roomColumns = "id, title, description, type, allow_guests, creator_id, created_at, ended_at"

// roomColumnsOf is roomColumns qualified with a table alias, for joins.
func roomColumnsOf(alias string) string { return qualify(roomColumns, alias) }

func scanRoom(row scanner, extra ...any) (live.RoomRecord, error) {
	var (
		r       live.RoomRecord
		created int64
		ended   sql.NullInt64
	)
	dest := append([]any{&r.ID, &r.Title, &r.Description, &r.Type, &r.AllowGuests, &r.CreatorID,
		&created, &ended}, extra...)
	if err := row.Scan(dest...); err != nil {
		return live.RoomRecord{}, err
	}
	r.CreatedAt = fromMillis(created)
	r.EndedAt = fromNullMillis(ended)
	return r, nil
}

// CreateRoom stores r (a zero EndedAt stores it live). ErrNotFound if the creator
// does not exist, ErrInvalid for an empty ID.
func (db *DB) CreateRoom(ctx context.Context, r live.RoomRecord) error {
	if err := checkID("create room", r.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		var setup any // NULL without one
		if r.Setup != nil {
			setup = string(r.Setup)
		}
		_, err := db.exec(ctx, tx, `INSERT INTO rooms (`+roomColumns+`, setup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Title, r.Description, r.Type, r.AllowGuests, r.CreatorID,
			millis(r.CreatedAt), nullMillis(r.EndedAt), setup)
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("create room", err)
	})
}

// RoomByID returns the room with that ID, live or ended, or ErrNotFound.
func (db *DB) RoomByID(ctx context.Context, id string) (live.RoomRecord, error) {
	r, err := scanRoom(db.queryRow(ctx, db.sql, `SELECT `+roomColumns+` FROM rooms WHERE id = ?`, id))
	return r, notFound("room by id", err)
}

// EndRoom marks the room ended at at, by the node whose lease is epoch. Ending an
// ended room is a no-op that keeps the first end time, and so is ending it with
// an epoch older than the one that claimed it last (ClaimRoom): a node that lost
// the room cannot end it. ErrNotFound for an unknown room, ErrInvalid for the
// zero time.
func (db *DB) EndRoom(ctx context.Context, id string, at time.Time, epoch uint64) error {
	if err := checkTime("end room", at); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		// On Postgres, a concurrent EndRoom waits for this row, then re-checks
		// ended_at and updates nothing.
		res, err := db.exec(ctx, tx, `UPDATE rooms SET ended_at = ? WHERE id = ? AND ended_at IS NULL
			AND (epoch IS NULL OR epoch <= ?)`, millis(at), id, int64(epoch))
		if err != nil {
			return wrap("end room", err)
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return wrap("end room", err)
		}
		var one int
		err = db.queryRow(ctx, tx, `SELECT 1 FROM rooms WHERE id = ?`, id).Scan(&one)
		return notFound("end room", err)
	})
}

// AddSpeaker records that userID spoke in the room, first at at. Adding a speaker
// again keeps their first time and place. ErrNotFound if the room or the user does
// not exist. Speaking in an ended room is recorded too: the store keeps history and
// leaves the rules to the live layer.
//
// Each speaker gets the next number of the room (seq), so speakers who first spoke
// in the same millisecond stay in the order they were added. On Postgres the
// transaction locks the room row FOR NO KEY UPDATE, so concurrent calls for one room
// take turns (foreign keys' key-share locks on the row do not wait for it); SQLite
// serialises writers anyway.
func (db *DB) AddSpeaker(ctx context.Context, roomID, userID string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, `SELECT 1 FROM rooms WHERE id = ?`+db.lockRows("FOR NO KEY UPDATE"),
			roomID).Scan(&one)
		if err != nil {
			return notFound("add speaker: room", err)
		}
		var seq int64
		err = db.queryRow(ctx, tx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM room_speakers WHERE room_id = ?`,
			roomID).Scan(&seq)
		if err != nil {
			return wrap("add speaker: next seq", err)
		}
		_, err = db.exec(ctx, tx, `INSERT INTO room_speakers (room_id, user_id, first_at, seq)
			VALUES (?, ?, ?, ?) ON CONFLICT (room_id, user_id) DO NOTHING`, roomID, userID, millis(at), seq)
		// Only a repeated speaker is a no-op: were two calls ever to take the same seq,
		// the unique (room_id, seq) would fail one of them rather than drop it.
		if isForeignKeyViolation(err) { // userID names no user
			return account.ErrNotFound
		}
		return wrap("add speaker", err)
	})
}

// RoomSpeakers lists the IDs of who spoke in the room, in the order they first did
// (by first time, then in the order they were added). ErrNotFound for an unknown
// room; a room nobody spoke in has an empty list.
func (db *DB) RoomSpeakers(ctx context.Context, roomID string) ([]string, error) {
	// The LEFT JOIN tells an unknown room (no row) from a silent one (one row, NULL).
	rows, err := db.query(ctx, db.sql, `SELECT s.user_id FROM rooms r
		LEFT JOIN room_speakers s ON s.room_id = r.id
		WHERE r.id = ?
		ORDER BY s.first_at, s.seq`, roomID)
	if err != nil {
		return nil, wrap("room speakers", err)
	}
	defer rows.Close()
	var (
		out   []string
		found bool
	)
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("room speakers", err)
		}
		found = true
		if id.Valid {
			out = append(out, id.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("room speakers", err)
	}
	if !found {
		return nil, account.ErrNotFound
	}
	return out, nil
}

// EndedRoomsOf lists the ended rooms userID created or spoke in, newest first (by
// creation time, ties by ID descending), at most limit of them. Live rooms are left
// out. An unknown user has none; ErrInvalid for a limit below one.
func (db *DB) EndedRoomsOf(ctx context.Context, userID string, limit int) ([]live.RoomRecord, error) {
	if err := checkLimit("ended rooms", limit); err != nil {
		return nil, err
	}
	// The UNION lets each side use its index (rooms_creator, room_speakers_user_id).
	rows, err := db.query(ctx, db.sql, `SELECT `+roomColumnsOf("r")+` FROM rooms r
		WHERE r.ended_at IS NOT NULL AND r.id IN (
			SELECT id FROM rooms WHERE creator_id = ?
			UNION
			SELECT room_id FROM room_speakers WHERE user_id = ?)
		ORDER BY r.created_at DESC, r.id DESC
		LIMIT ?`, userID, userID, limit)
	if err != nil {
		return nil, wrap("ended rooms", err)
	}
	defer rows.Close()
	var out []live.RoomRecord
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, wrap("ended rooms", err)
		}
		out = append(out, r)
	}
	return out, wrap("ended rooms", rows.Err())
}

// EndLiveRooms marks every room still live as ended at at, and returns how many it
// ended, but for rooms still waiting to be opened that were created at or after
// keepWaitingSince (and whose setup was stored): a restart brings those back
// (WaitingRooms). It runs at start-up and shutdown: a restart loses the live state
// of opened rooms. ErrInvalid for the zero time.
func (db *DB) EndLiveRooms(ctx context.Context, at, keepWaitingSince time.Time) (int, error) {
	if err := checkTime("end live rooms", at); err != nil {
		return 0, err
	}
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE rooms SET ended_at = ? WHERE ended_at IS NULL
			AND (opened_at IS NOT NULL OR setup IS NULL OR created_at < ?)`, millis(at), millis(keepWaitingSince))
		if err != nil {
			return wrap("end live rooms", err)
		}
		n, err = res.RowsAffected()
		return wrap("end live rooms", err)
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// OpenRoom records when the room was first opened (its creator or a co-host
// joined); later calls keep the first time. ErrNotFound for an unknown room.
func (db *DB) OpenRoom(ctx context.Context, id string, at time.Time) error {
	if err := checkTime("open room", at); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `UPDATE rooms SET opened_at = ? WHERE id = ? AND opened_at IS NULL`,
			millis(at), id); err != nil {
			return wrap("open room", err)
		}
		var one int
		return notFound("open room", db.queryRow(ctx, tx, `SELECT 1 FROM rooms WHERE id = ?`, id).Scan(&one))
	})
}

// WaitingRooms lists the rooms neither opened nor ended whose setup was stored,
// oldest first, with their setup: what a restart brings back.
func (db *DB) WaitingRooms(ctx context.Context) ([]live.RoomRecord, error) {
	rows, err := db.query(ctx, db.sql, `SELECT `+roomColumns+`, setup FROM rooms
		WHERE ended_at IS NULL AND opened_at IS NULL AND setup IS NOT NULL
		ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("waiting rooms", err)
	}
	defer rows.Close()
	var out []live.RoomRecord
	for rows.Next() {
		var setup string
		r, err := scanRoom(rows, &setup)
		if err != nil {
			return nil, wrap("waiting rooms", err)
		}
		r.Setup = []byte(setup)
		out = append(out, r)
	}
	return out, wrap("waiting rooms", rows.Err())
}

// ClaimRoom records that the node whose lease is epoch runs the room now: from
// then on EndRoom with an older epoch changes nothing. A claim older than the
// last one is ignored. ErrNotFound for an unknown room.
func (db *DB) ClaimRoom(ctx context.Context, id string, epoch uint64) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `UPDATE rooms SET epoch = ? WHERE id = ? AND (epoch IS NULL OR epoch < ?)`,
			int64(epoch), id, int64(epoch)); err != nil {
			return wrap("claim room", err)
		}
		var one int
		return notFound("claim room", db.queryRow(ctx, tx, `SELECT 1 FROM rooms WHERE id = ?`, id).Scan(&one))
	})
}
