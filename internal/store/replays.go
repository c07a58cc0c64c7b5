package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/replay"
)

var _ replay.Store = (*DB)(nil)

// SaveReplay creates or replaces the replay of r.RoomID. ErrNotFound for an
// unknown room.
func (db *DB) SaveReplay(ctx context.Context, r replay.Replay) error {
	if err := checkID("save replay", r.RoomID); err != nil {
		return err
	}
	turns := r.Turns
	if turns == nil {
		turns = []replay.Turn{}
	}
	js, err := json.Marshal(turns)
	if err != nil {
		return wrap("save replay", err)
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO replays (room_id, state, started_at, ended_at, duration_ms, size, turns, captions)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (room_id) DO UPDATE SET state = excluded.state, started_at = excluded.started_at,
				ended_at = excluded.ended_at, duration_ms = excluded.duration_ms, size = excluded.size,
				turns = excluded.turns, captions = excluded.captions`,
			r.RoomID, string(r.State), millis(r.StartedAt), nullMillis(r.EndedAt), r.Duration.Milliseconds(), r.Size, string(js),
			r.Captions)
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("save replay", err)
	})
}

// Replay returns the replay of roomID, or ErrNotFound.
func (db *DB) Replay(ctx context.Context, roomID string) (replay.Replay, error) {
	var (
		r            replay.Replay
		state, turns string
		started      int64
		ended        sql.NullInt64
		durationMS   int64
	)
	err := db.queryRow(ctx, db.sql, `SELECT room_id, state, started_at, ended_at, duration_ms, size, turns, captions
		FROM replays WHERE room_id = ?`, roomID).Scan(&r.RoomID, &state, &started, &ended, &durationMS, &r.Size, &turns,
		&r.Captions)
	if err != nil {
		return replay.Replay{}, notFound("replay", err)
	}
	r.State, r.StartedAt, r.EndedAt = replay.State(state), fromMillis(started), fromNullMillis(ended)
	r.Duration = time.Duration(durationMS) * time.Millisecond
	if err := json.Unmarshal([]byte(turns), &r.Turns); err != nil {
		return replay.Replay{}, wrap("replay turns", err)
	}
	return r, nil
}

// DeleteReplay removes the replay of roomID and, in the same transaction, the
// files of its room kept in the database (PutFile: its audio, captions and
// clips): ErrNotFound if there is none, so that of two nodes deleting one
// replay, one learns it was the other, and the bytes go exactly once.
func (db *DB) DeleteReplay(ctx context.Context, roomID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM replays WHERE room_id = ?`, roomID)
		if err := affectedOne("delete replay", res, err); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `DELETE FROM replay_files WHERE room_id = ?`, roomID)
		return wrap("delete replay: its files", err)
	})
}

// RecordingReplays lists the rooms whose replay is still being recorded.
func (db *DB) RecordingReplays(ctx context.Context) ([]string, error) {
	return db.replayRooms(ctx, "recording replays", `SELECT room_id FROM replays WHERE state = ? ORDER BY started_at`,
		string(replay.Recording))
}

// ReplaysBefore lists the rooms whose replay was started before t (the retention
// job's), at most limit, oldest first.
func (db *DB) ReplaysBefore(ctx context.Context, t time.Time, limit int) ([]string, error) {
	if err := checkLimit("replays before", limit); err != nil {
		return nil, err
	}
	return db.replayRooms(ctx, "replays before", `SELECT room_id FROM replays WHERE state <> ? AND started_at < ?
		ORDER BY started_at LIMIT ?`, string(replay.Recording), millis(t), limit)
}

func (db *DB) replayRooms(ctx context.Context, op, q string, args ...any) ([]string, error) {
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, id)
	}
	return out, wrap(op, rows.Err())
}

// AddClip stores a clip. ErrNotFound for an unknown room.
func (db *DB) AddClip(ctx context.Context, c replay.Clip) error {
	if err := checkID("add clip", c.ID); err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO clips (id, room_id, user_id, created_at, duration_ms, size)
			VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.RoomID, c.UserID, millis(c.CreatedAt), c.Duration.Milliseconds(), c.Size)
		if isForeignKeyViolation(err) {
			return account.ErrNotFound
		}
		return wrap("add clip", err)
	})
}

// Clip returns the clip id, or ErrNotFound.
func (db *DB) Clip(ctx context.Context, id string) (replay.Clip, error) {
	var (
		c           replay.Clip
		created, ms int64
	)
	err := db.queryRow(ctx, db.sql, `SELECT id, room_id, user_id, created_at, duration_ms, size FROM clips WHERE id = ?`,
		id).Scan(&c.ID, &c.RoomID, &c.UserID, &created, &ms, &c.Size)
	if err != nil {
		return replay.Clip{}, notFound("clip", err)
	}
	c.CreatedAt, c.Duration = fromMillis(created), time.Duration(ms)*time.Millisecond
	return c, nil
}

// DeleteClipsOf removes the clips of roomID and returns their IDs.
func (db *DB) DeleteClipsOf(ctx context.Context, roomID string) ([]string, error) {
	var out []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := db.query(ctx, tx, `SELECT id FROM clips WHERE room_id = ?`, roomID)
		if err != nil {
			return wrap("delete clips", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap("delete clips", err)
			}
			out = append(out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("delete clips", err)
		}
		_, err = db.exec(ctx, tx, `DELETE FROM clips WHERE room_id = ?`, roomID)
		return wrap("delete clips", err)
	})
	return out, err
}

// RoomSetup returns the room.Config a room was created with, as JSON (nil if it
// was stored without one), or ErrNotFound.
func (db *DB) RoomSetup(ctx context.Context, roomID string) ([]byte, error) {
	var setup sql.NullString
	err := db.queryRow(ctx, db.sql, `SELECT setup FROM rooms WHERE id = ?`, roomID).Scan(&setup)
	if err != nil {
		return nil, notFound("room setup", err)
	}
	if !setup.Valid {
		return nil, nil
	}
	return []byte(setup.String), nil
}
