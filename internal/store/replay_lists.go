package store

import (
	"context"
	"fmt"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/replay"
)

// ReplayListing is a ready replay in a list: a profile's, a club's, a search's.
// Whether the viewer may listen to it is for the caller to decide, room by room.
type ReplayListing struct {
	RoomID    string
	Title     string
	CreatorID string
	StartedAt time.Time
	Duration  time.Duration
}

// Cursor is where a list that ends with l goes on.
func (l ReplayListing) Cursor() account.Cursor { return account.Cursor{At: l.StartedAt, ID: l.RoomID} }

// ReplaysOfUser lists the ready replays of the rooms userID created or spoke
// in, newest first (by the recording's start, ties by room ID descending), after
// the cursor (the zero Cursor: from the start), at most limit, and the cursor of
// the next page (zero at the end).
func (db *DB) ReplaysOfUser(ctx context.Context, userID string, after account.Cursor, limit int) ([]ReplayListing, account.Cursor, error) {
	// The UNION lets each side use its index (rooms_creator, room_speakers_user_id).
	return db.replayList(ctx, "replays of user", `p.room_id IN (
			SELECT id FROM rooms WHERE creator_id = ?
			UNION
			SELECT room_id FROM room_speakers WHERE user_id = ?)`, []any{userID, userID}, after, limit)
}

// ReplaysOfClub lists the ready replays of the rooms of clubID, as ReplaysOfUser
// does. The club is in the room's setup (room.Config's ClubID): the query reads
// it from the JSON of each ready replay's room, a scan of the replays that the
// retention bounds.
func (db *DB) ReplaysOfClub(ctx context.Context, clubID string, after account.Cursor, limit int) ([]ReplayListing, account.Cursor, error) {
	field := `json_extract(r.setup, '$.ClubID')`
	if db.driver == Postgres {
		field = `(r.setup::jsonb ->> 'ClubID')`
	}
	return db.replayList(ctx, "replays of club", field+` = ?`, []any{clubID}, after, limit)
}

// ReplaysTitled lists the ready replays whose room's title holds each of terms
// (lower-case letters and digits, search.Terms), newest first, at most limit: the
// candidates of a search, which the caller narrows to whole-word prefixes. A scan
// of the ready replays (there is no index on titles), which the retention bounds.
func (db *DB) ReplaysTitled(ctx context.Context, terms []string, limit int) ([]ReplayListing, error) {
	if len(terms) == 0 {
		return nil, checkLimit("replays titled", limit)
	}
	where, args := "", []any{}
	for i, t := range terms {
		if i > 0 {
			where += " AND "
		}
		where += `LOWER(r.title) LIKE ?` // terms hold no % or _
		args = append(args, "%"+t+"%")
	}
	out, _, err := db.replayList(ctx, "replays titled", where, args, account.Cursor{}, limit)
	return out, err
}

// replayList lists the ready replays (alias p, their room r) for which where
// holds, keyset-paged on (started_at DESC, room_id DESC): one row more than limit
// is read to learn whether the list goes on.
func (db *DB) replayList(ctx context.Context, op, where string, args []any, after account.Cursor, limit int) ([]ReplayListing, account.Cursor, error) {
	if limit <= 0 {
		return nil, account.Cursor{}, fmt.Errorf("store: %s: limit %d: %w", op, limit, account.ErrInvalid)
	}
	q := `SELECT p.room_id, r.title, r.creator_id, p.started_at, p.duration_ms
		FROM replays p JOIN rooms r ON r.id = p.room_id
		WHERE p.state = ? AND ` + where
	q, args = newestFirst(q, append([]any{string(replay.Ready)}, args...), "p.started_at", "p.room_id", after, limit)
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, account.Cursor{}, wrap(op, err)
	}
	defer rows.Close()
	var out []ReplayListing
	for rows.Next() {
		var (
			l       ReplayListing
			at, dur int64
		)
		if err := rows.Scan(&l.RoomID, &l.Title, &l.CreatorID, &at, &dur); err != nil {
			return nil, account.Cursor{}, wrap(op, err)
		}
		l.StartedAt, l.Duration = fromMillis(at), time.Duration(dur)*time.Millisecond
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, account.Cursor{}, wrap(op, err)
	}
	if len(out) <= limit {
		return out, account.Cursor{}, nil
	}
	out = out[:limit]
	return out, out[limit-1].Cursor(), nil
}
