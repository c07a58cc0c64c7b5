package store

import (
	"context"
	"slices"
	"strconv"

	"github.com/townhall/townhall/internal/live"
)

// edgeBranches are the four directions of an edge: the column naming the other user
// in table, for rows whose anchor column is the user. The edges query tags each
// branch's rows with its index.
var edgeBranches = [...]struct{ other, table, anchor string }{
	{"followee", "follows", "follower"}, // 0: the user follows the other
	{"follower", "follows", "followee"}, // 1: the other follows the user
	{"blocked", "blocks", "blocker"},    // 2: the user blocks the other
	{"blocker", "blocks", "blocked"},    // 3: the other blocks the user
}

// Edges returns, for each of others, how it stands to userID: whether userID follows
// it, is followed by it, blocks it, is blocked by it. Others with no relation are
// missing from the map; no others give an empty map. Any number of others works:
// they are looked up inListChunk at a time.
func (db *DB) Edges(ctx context.Context, userID string, others []string) (map[string]live.Edge, error) {
	out := make(map[string]live.Edge)
	for chunk := range slices.Chunk(others, inListChunk) {
		// One round trip per chunk; each branch is a primary key or index range scan.
		var (
			q    string
			args = make([]any, 0, len(edgeBranches)*(1+len(chunk)))
		)
		for i, b := range edgeBranches {
			if i > 0 {
				q += " UNION ALL "
			}
			q += "SELECT " + b.other + ", " + strconv.Itoa(i) + " FROM " + b.table +
				" WHERE " + b.anchor + " = ? AND " + b.other + " IN (" + marks(len(chunk)) + ")"
			args = append(args, userID)
			for _, id := range chunk {
				args = append(args, id)
			}
		}
		if err := db.scanEdges(ctx, q, args, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanEdges runs an edges query and sets the edges it finds in out.
func (db *DB) scanEdges(ctx context.Context, q string, args []any, out map[string]live.Edge) error {
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return wrap("edges", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  string
			dir int
		)
		if err := rows.Scan(&id, &dir); err != nil {
			return wrap("edges", err)
		}
		e := out[id]
		switch dir {
		case 0:
			e.Follows = true
		case 1:
			e.FollowedBy = true
		case 2:
			e.Blocks = true
		case 3:
			e.BlockedBy = true
		}
		out[id] = e
	}
	return wrap("edges", rows.Err())
}

// FollowingIDs returns the IDs of up to limit users userID follows, most recently
// followed first (ties by ID descending). ErrInvalid for a limit below one.
func (db *DB) FollowingIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	if err := checkLimit("following ids", limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, `SELECT followee FROM follows WHERE follower = ?
		ORDER BY created_at DESC, followee DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, wrap("following ids", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("following ids", err)
		}
		out = append(out, id)
	}
	return out, wrap("following ids", rows.Err())
}

// FollowerIDs returns the IDs of up to limit users who follow userID, the newest
// followers first.
func (db *DB) FollowerIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	if err := checkLimit("follower ids", limit); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, `SELECT follower FROM follows WHERE followee = ?
		ORDER BY created_at DESC, follower DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, wrap("follower ids", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("follower ids", err)
		}
		out = append(out, id)
	}
	return out, wrap("follower ids", rows.Err())
}
