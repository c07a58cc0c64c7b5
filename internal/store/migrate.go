package store

import (
	"context"
	"embed"
	"fmt"
	"hash/crc64"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles is the schema: one set of goose .sql files that both drivers run.
// Add a file (00002_rooms.sql, ...) to change it; never edit one that has shipped.
// What the drivers spell differently (full-text search) is a Go migration in the
// same sequence: 00005 (searchMigration).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations the database has not seen yet, through a goose
// Provider of its own (no global goose state).
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(db.searchMigration())}
	dialect := goose.DialectSQLite3
	if db.driver == Postgres {
		dialect = goose.DialectPostgres
		// Two townhall processes starting at once must not both migrate. The lock is
		// per schema, so separate schemas (one per test) do not wait on each other.
		var schema string
		if err := db.sql.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("store: current schema: %w", err)
		}
		id := int64(crc64.Checksum([]byte("townhall migrations "+schema), crc64.MakeTable(crc64.ECMA)) >> 1)
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// On SQLite, goose's own transactions begin IMMEDIATE (see sqliteDSN), which
	// serialises concurrent migrators.
	p, err := goose.NewProvider(dialect, db.sql, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
