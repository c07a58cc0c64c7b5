package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/townhall/townhall/internal/account"
)

// sessionColumns lists the sessions columns in the order scanSession reads them.
const sessionColumns = insertSessionColumns + ", last_seen_at"

// insertSessionColumns are the columns a new session row is written with.
const insertSessionColumns = "id, token_hash, user_id, user_agent, created_at, expires_at"

func scanSession(row scanner) (account.Session, error) {
	var (
		s                account.Session
		hash             string
		created, expires int64
		seen             sql.NullInt64
	)
	if err := row.Scan(&s.ID, &hash, &s.UserID, &s.UserAgent, &created, &expires, &seen); err != nil {
		return account.Session{}, err
	}
	h, err := hex.DecodeString(hash)
	if err != nil {
		return account.Session{}, err
	}
	s.TokenHash = h
	s.CreatedAt = fromMillis(created)
	s.ExpiresAt = fromMillis(expires)
	s.LastSeen = fromNullMillis(seen)
	return s, nil
}

// CreateSession stores s. The token hash is kept as hex text, the same on both
// drivers. ErrNotFound if the user does not exist, ErrDisabled if the account is
// disabled: the check holds a lock on the user row on Postgres (SQLite serialises
// writers), so a session cannot slip in beside a concurrent DisableUser.
func (db *DB) CreateSession(ctx context.Context, s account.Session) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var disabled sql.NullInt64
		err := db.queryRow(ctx, tx, `SELECT disabled_at FROM users WHERE id = ?`+db.lockRows("FOR SHARE"),
			s.UserID).Scan(&disabled)
		if err != nil {
			return notFound("create session: user", err)
		}
		if disabled.Valid {
			return account.ErrDisabled
		}
		_, err = db.exec(ctx, tx, `INSERT INTO sessions (`+insertSessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			s.ID, hex.EncodeToString(s.TokenHash), s.UserID, s.UserAgent, millis(s.CreatedAt), millis(s.ExpiresAt))
		return wrap("create session", err)
	})
}

// SessionByTokenHash returns the session with that token hash, expired or not (the
// caller checks expiry), or ErrNotFound.
func (db *DB) SessionByTokenHash(ctx context.Context, hash []byte) (account.Session, error) {
	s, err := scanSession(db.queryRow(ctx, db.sql,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hex.EncodeToString(hash)))
	return s, notFound("session by token hash", err)
}

// ListSessions returns the user's sessions that are unexpired at now (expiring after
// it), newest first.
func (db *DB) ListSessions(ctx context.Context, userID string, now time.Time) ([]account.Session, error) {
	rows, err := db.query(ctx, db.sql, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, userID, millis(now))
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	defer rows.Close()
	var out []account.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, wrap("list sessions", err)
		}
		out = append(out, s)
	}
	return out, wrap("list sessions", rows.Err())
}

// DeleteSession deletes the user's session; ErrNotFound if the user has no session
// with that ID.
func (db *DB) DeleteSession(ctx context.Context, userID, sessionID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, sessionID, userID)
		return affectedOne("delete session", res, err)
	})
}

// DeleteExpiredSessions removes sessions that expired before now and returns how
// many it removed.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM sessions WHERE expires_at < ?`, millis(now))
		if err != nil {
			return wrap("delete expired sessions", err)
		}
		n, err = res.RowsAffected()
		return wrap("delete expired sessions", err)
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
