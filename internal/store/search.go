package store

import (
	"context"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/search"
)

var _ search.Store = (*DB)(nil)

// match returns the WHERE clause and its argument that find the rows of table
// (alias t) whose text columns hold a word starting with each of the terms: an
// FTS5 MATCH on SQLite, a tsquery of prefixes on Postgres. Terms hold only
// letters and digits (search.Terms), so neither query language sees an operator.
func (db *DB) match(table, columns string, terms []string) (string, any) {
	if db.driver == Postgres {
		q := make([]string, len(terms))
		for i, t := range terms {
			q[i] = t + ":*"
		}
		return tsvector(prefixed("t.", columns)) + ` @@ to_tsquery('simple', ?)`, strings.Join(q, " & ")
	}
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + t + `"*`
	}
	return `t.id IN (SELECT id FROM ` + table + `_fts WHERE ` + table + `_fts MATCH ?)`, strings.Join(q, " ")
}

// SearchUsers finds active users whose username or display name holds a word
// starting with each term, by username, at most limit.
func (db *DB) SearchUsers(ctx context.Context, terms []string, limit int) ([]account.User, error) {
	if err := checkLimit("search users", limit); err != nil || len(terms) == 0 {
		return nil, err
	}
	where, arg := db.match("users", "username, display_name", terms)
	rows, err := db.query(ctx, db.sql, `SELECT `+qualify(userColumns, "t")+` FROM users t
		WHERE t.disabled_at IS NULL AND `+where+` ORDER BY t.username LIMIT ?`, arg, limit)
	if err != nil {
		return nil, wrap("search users", err)
	}
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("search users", err)
		}
		out = append(out, u)
	}
	return out, wrap("search users", rows.Err())
}

// SearchClubs finds clubs whose name or description holds a word starting with
// each term, by name, at most limit.
func (db *DB) SearchClubs(ctx context.Context, terms []string, limit int) ([]club.Club, error) {
	if err := checkLimit("search clubs", limit); err != nil || len(terms) == 0 {
		return nil, err
	}
	where, arg := db.match("clubs", "name, description", terms)
	rows, err := db.query(ctx, db.sql, `SELECT t.id, t.name, t.description, t.rules, t.approval, t.created_by, t.created_at,
		(SELECT COUNT(*) FROM club_members m WHERE m.club_id = t.id) FROM clubs t
		WHERE `+where+` ORDER BY t.name_key LIMIT ?`, arg, limit)
	if err != nil {
		return nil, wrap("search clubs", err)
	}
	defer rows.Close()
	var out []club.Club
	for rows.Next() {
		c, err := scanClub(rows)
		if err != nil {
			return nil, wrap("search clubs", err)
		}
		out = append(out, c)
	}
	return out, wrap("search clubs", rows.Err())
}

// SearchEvents finds events not cancelled starting at or after from whose title
// or description holds a word starting with each term, by start, at most limit.
func (db *DB) SearchEvents(ctx context.Context, terms []string, from time.Time, limit int) ([]event.Event, error) {
	if err := checkLimit("search events", limit); err != nil || len(terms) == 0 {
		return nil, err
	}
	where, arg := db.match("events", "title, description", terms)
	return db.listEvents(ctx, "search events", `SELECT `+qualify(eventColumns, "t")+` FROM events t
		WHERE t.cancelled_at IS NULL AND t.starts_at >= ? AND `+where+` ORDER BY t.starts_at, t.id LIMIT ?`,
		millis(from), arg, limit)
}
