package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/townhall/townhall/internal/account"
)

// lockPair checks that users a and b exist, holding mode's row lock on both on
// Postgres, taken in ID order so that two transactions locking the same pair cannot
// deadlock. ErrNotFound if either is missing.
//
// Follow locks FOR SHARE and Block FOR NO KEY UPDATE: follows of one user run side
// by side, but a follow and a block between the same two users take turns, so
// neither can miss what the other wrote.
func (db *DB) lockPair(ctx context.Context, tx *sql.Tx, a, b, mode string) error {
	rows, err := db.query(ctx, tx, `SELECT id FROM users WHERE id IN (?, ?) ORDER BY id`+db.lockRows(mode), a, b)
	if err != nil {
		return wrap("lock users", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return wrap("lock users", err)
	}
	want := 2
	if a == b {
		want = 1
	}
	if n != want {
		return account.ErrNotFound
	}
	return nil
}

// Follow makes follower follow followee at at; following again keeps the first time.
// ErrNotFound if either user does not exist, ErrBlocked if either blocks the other;
// both are checked in the same transaction as the insert.
func (db *DB) Follow(ctx context.Context, follower, followee string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockPair(ctx, tx, follower, followee, "FOR SHARE"); err != nil {
			return err
		}
		var blocked bool
		err := db.queryRow(ctx, tx, `SELECT EXISTS (SELECT 1 FROM blocks
			WHERE (blocker = ? AND blocked = ?) OR (blocker = ? AND blocked = ?))`,
			follower, followee, followee, follower).Scan(&blocked)
		if err != nil {
			return wrap("follow: check blocks", err)
		}
		if blocked {
			return account.ErrBlocked
		}
		_, err = db.exec(ctx, tx, `INSERT INTO follows (follower, followee, created_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, follower, followee, millis(at))
		return wrap("follow", err)
	})
}

// Unfollow makes follower stop following followee. It is idempotent.
func (db *DB) Unfollow(ctx context.Context, follower, followee string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `DELETE FROM follows WHERE follower = ? AND followee = ?`, follower, followee)
		return wrap("unfollow", err)
	})
}

// Block makes blocker block blocked at at (idempotent; blocking again keeps the first
// time) and removes any follow between them in both directions, in one transaction.
// ErrNotFound if either user does not exist.
func (db *DB) Block(ctx context.Context, blocker, blocked string, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockPair(ctx, tx, blocker, blocked, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO blocks (blocker, blocked, created_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, blocker, blocked, millis(at))
		if err != nil {
			return wrap("block", err)
		}
		_, err = db.exec(ctx, tx, `DELETE FROM follows
			WHERE (follower = ? AND followee = ?) OR (follower = ? AND followee = ?)`,
			blocker, blocked, blocked, blocker)
		return wrap("block: remove follows", err)
	})
}

// Unblock lifts blocker's block of blocked. It is idempotent, and restores no follow.
func (db *DB) Unblock(ctx context.Context, blocker, blocked string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `DELETE FROM blocks WHERE blocker = ? AND blocked = ?`, blocker, blocked)
		return wrap("unblock", err)
	})
}

// Relation tells how a and b stand to each other. Unknown users simply have no
// relations.
func (db *DB) Relation(ctx context.Context, a, b string) (account.Relation, error) {
	var r account.Relation
	err := db.queryRow(ctx, db.sql, `SELECT
		EXISTS (SELECT 1 FROM follows WHERE follower = ? AND followee = ?),
		EXISTS (SELECT 1 FROM follows WHERE follower = ? AND followee = ?),
		EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?),
		EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?)`,
		a, b, b, a, a, b, b, a).Scan(&r.AFollowsB, &r.BFollowsA, &r.ABlocksB, &r.BBlocksA)
	return r, wrap("relation", err)
}

// FollowCounts returns how many users follow userID and how many userID follows.
func (db *DB) FollowCounts(ctx context.Context, userID string) (followers, following int, err error) {
	err = db.queryRow(ctx, db.sql, `SELECT
		(SELECT COUNT(*) FROM follows WHERE followee = ?),
		(SELECT COUNT(*) FROM follows WHERE follower = ?)`,
		userID, userID).Scan(&followers, &following)
	return followers, following, wrap("follow counts", err)
}

// Followers lists the users who follow userID, newest follow first (ties broken by
// user ID, descending), starting after the cursor, at most limit of them (limit must
// be positive), leaving out anyone who blocks viewerID or whom viewerID blocks. next
// is the zero Cursor at the end of the list.
func (db *DB) Followers(ctx context.Context, userID, viewerID string, after account.Cursor, limit int) ([]account.User, account.Cursor, error) {
	return db.followList(ctx, "follower", "followee", userID, viewerID, after, limit)
}

// Following lists the users userID follows, with the same order, paging and block
// rules as Followers.
func (db *DB) Following(ctx context.Context, userID, viewerID string, after account.Cursor, limit int) ([]account.User, account.Cursor, error) {
	return db.followList(ctx, "followee", "follower", userID, viewerID, after, limit)
}

// followList lists the users in column listed of the follows whose column anchor is
// userID. Keyset pagination on (created_at DESC, id DESC): one row more than limit is
// read to learn whether the list goes on.
func (db *DB) followList(ctx context.Context, listed, anchor, userID, viewerID string,
	after account.Cursor, limit int) ([]account.User, account.Cursor, error) {
	if limit <= 0 {
		return nil, account.Cursor{}, fmt.Errorf("store: list %ss: limit %d: %w", listed, limit, account.ErrInvalid)
	}
	q := `SELECT ` + userColumnsOf("u") + `, f.created_at
		FROM follows f JOIN users u ON u.id = f.` + listed + `
		WHERE f.` + anchor + ` = ?
		AND NOT EXISTS (SELECT 1 FROM blocks b
			WHERE (b.blocker = ? AND b.blocked = u.id) OR (b.blocker = u.id AND b.blocked = ?))`
	q, args := newestFirst(q, []any{userID, viewerID, viewerID}, "f.created_at", "u.id", after, limit)

	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, account.Cursor{}, wrap("list "+listed+"s", err)
	}
	defer rows.Close()
	var (
		users []account.User
		times []int64
	)
	for rows.Next() {
		var at int64
		u, err := scanUser(rows, &at)
		if err != nil {
			return nil, account.Cursor{}, wrap("list "+listed+"s", err)
		}
		users = append(users, u)
		times = append(times, at)
	}
	if err := rows.Err(); err != nil {
		return nil, account.Cursor{}, wrap("list "+listed+"s", err)
	}
	if len(users) <= limit {
		return users, account.Cursor{}, nil
	}
	users = users[:limit]
	last := users[limit-1]
	return users, account.Cursor{At: fromMillis(times[limit-1]), ID: last.ID}, nil
}

// newestFirst pages q (a SELECT whose WHERE clause is open, with its args) newest
// first on (atCol, idCol), from after: limit rows and one more, which tells
// whether the list goes on.
func newestFirst(q string, args []any, atCol, idCol string, after account.Cursor, limit int) (string, []any) {
	if !after.IsZero() {
		at := millis(after.At)
		q += ` AND (` + atCol + ` < ? OR (` + atCol + ` = ? AND ` + idCol + ` < ?))`
		args = append(args, at, at, after.ID)
	}
	q += ` ORDER BY ` + atCol + ` DESC, ` + idCol + ` DESC LIMIT ?`
	return q, append(args, limit+1)
}
