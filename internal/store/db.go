// Package store is townhall's durable storage: one implementation of the queries over
// database/sql that runs on SQLite (a file, the default) and on Postgres, so the two
// cannot drift apart. Both pass the same test suite.
//
// Queries are written once, with ? placeholders, and rebound to $1..$n for Postgres.
// Times are stored as BIGINT unix milliseconds (UTC). The schema lives in migrations/,
// one set of .sql files shared by both drivers, and Open applies it.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// Driver names, as returned by (*DB).Driver.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Pool sizes. SQLite serialises writers anyway (see DB.tx); its extra connections
// serve concurrent readers, which WAL lets run beside the writer.
const (
	sqliteMaxConns   = 8
	postgresMaxConns = 10
	sqliteBusyMillis = 10_000
)

// DB is the durable store. It implements account.Store and live.Store, and is safe for
// concurrent use.
type DB struct {
	sql    *sql.DB
	driver string
	// writeSlot, on SQLite only, lets one write transaction of this process run at a
	// time: the others queue here, in order and cancellably, instead of spinning in
	// SQLite's busy handler. busy_timeout still covers other processes.
	writeSlot chan struct{}
}

var (
	_ account.Store = (*DB)(nil)
	_ live.Store    = (*DB)(nil)
)

// Open opens the store named by dsn and brings its schema up to date. A dsn starting
// with postgres:// or postgresql:// is a Postgres connection URL (pgx syntax, e.g.
// postgres://user:pass@host:5432/db?sslmode=disable&search_path=app); anything else
// is the path of a SQLite database file, created along with its folder if missing.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if isPostgres(dsn) {
		db, err = openPostgres(ctx, dsn)
	} else {
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	sdb.SetMaxOpenConns(postgresMaxConns)
	sdb.SetMaxIdleConns(postgresMaxConns)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	return &DB{sql: sdb, driver: Postgres}, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("store: create database folder: %w", err)
	}
	sdb, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	sdb.SetMaxOpenConns(sqliteMaxConns)
	sdb.SetMaxIdleConns(sqliteMaxConns)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", abs, err)
	}
	return &DB{sql: sdb, driver: SQLite, writeSlot: make(chan struct{}, 1)}, nil
}

// sqliteDSN builds modernc's URI for the file at abs: every connection of the pool
// gets the same pragmas, and transactions begin IMMEDIATE so a transaction that
// reads then writes never has to upgrade its lock (which can fail with SQLITE_BUSY
// however long busy_timeout is).
func sqliteDSN(abs string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(sqliteBusyMillis)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	// url.URL writes file:///abs, the form SQLite expects of a URI with an empty authority.
	return u.String()
}

// Close closes the store's connections.
func (db *DB) Close() error { return db.sql.Close() }

// Driver names the database behind the store: "sqlite" or "postgres".
func (db *DB) Driver() string { return db.driver }

// Ping checks the store is reachable (readiness).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, db.rebind(query), args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, db.rebind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, db.rebind(query), args...)
}

// rebind turns the ? placeholders of query into $1..$n on Postgres. Queries in this
// package never hold a ? inside a string literal or identifier.
func (db *DB) rebind(query string) string {
	if db.driver != Postgres {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(query string) string {
	n := strings.Count(query, "?")
	if n == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 2*n)
	arg := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		arg++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(arg))
	}
	return b.String()
}

// tx runs fn in a write transaction and commits it, or rolls it back if fn or the
// commit fails. fn's error is returned as is, so sentinel errors pass through.
func (db *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.writeSlot != nil {
		select {
		case db.writeSlot <- struct{}{}:
			defer func() { <-db.writeSlot }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// lockRows returns the row-locking clause to append to a SELECT inside a
// transaction: mode ("FOR SHARE", "FOR NO KEY UPDATE"...) on Postgres, nothing on
// SQLite, whose IMMEDIATE transactions already hold the database's write lock.
func (db *DB) lockRows(mode string) string {
	if db.driver == Postgres {
		return " " + mode
	}
	return ""
}

// constraintError reports whether err is a unique (or primary key) violation or a
// foreign key violation, whichever the driver raised, and a hint naming the
// constraint or its columns (the Postgres constraint name, SQLite's message).
func constraintError(err error) (unique, foreignKey bool, hint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return true, false, pgErr.ConstraintName
		case "23503": // foreign_key_violation
			return false, true, pgErr.ConstraintName
		}
		return false, false, ""
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true, false, sqErr.Error()
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return false, true, sqErr.Error()
		}
	}
	return false, false, ""
}

func isUniqueViolation(err error) bool {
	u, _, _ := constraintError(err)
	return u
}

func isForeignKeyViolation(err error) bool {
	_, fk, _ := constraintError(err)
	return fk
}

// millis is how a time is stored.
func millis(t time.Time) int64 { return t.UnixMilli() }

// nullMillis stores the zero time as NULL.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis reads a stored time back, in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromNullMillis reads a nullable stored time; NULL is the zero time.
func fromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

// nullString stores "" as NULL (for optional references to users).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// wrap prefixes a storage failure with what was being done. Sentinel errors of
// package account are returned without it, as the caller compares them with errors.Is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// inListChunk is how many values one IN (...) list holds. Longer lists are cut into
// chunks of this size, which keeps every statement far below SQLite's limit on
// variables (32766) and Postgres's on parameters (65535), even with the list
// repeated in a statement.
const inListChunk = 500

// marks returns n comma-separated ? placeholders, for an IN (...) list.
func marks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// checkLimit refuses a list limit below one: ErrInvalid.
func checkLimit(op string, limit int) error {
	if limit < 1 {
		return fmt.Errorf("store: %s: limit %d: %w", op, limit, account.ErrInvalid)
	}
	return nil
}

// checkID refuses an empty ID for a new row: ErrInvalid. (Callers make IDs with
// ids.New; an empty one is a bug that would otherwise be stored as a real key.)
func checkID(op, id string) error {
	if id == "" {
		return fmt.Errorf("store: %s: empty ID: %w", op, account.ErrInvalid)
	}
	return nil
}

// checkTime refuses the zero time where it would be stored as an event time
// (ended_at, read_at): stored, it would read back as the zero time, which means
// "not yet". ErrInvalid.
func checkTime(op string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("store: %s: zero time: %w", op, account.ErrInvalid)
	}
	return nil
}

// Secret returns the server's secret called name: 32 random bytes made the first
// time it is asked for and kept in the database, so that every process of one
// installation (every node of a cluster) shares it.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	var value string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, hex.EncodeToString(fresh), millis(time.Now()))
		if err != nil {
			return wrap("secret", err)
		}
		return wrap("secret", db.queryRow(ctx, tx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value))
	})
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return b, nil
}
