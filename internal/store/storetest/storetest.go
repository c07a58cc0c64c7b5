// Package storetest opens throwaway stores for tests: a fresh SQLite file in the
// test's temporary folder, or a fresh schema on the Postgres server named by
// $TOWNHALL_TEST_POSTGRES. Only tests import it, so the binary carries none of it.
//
// A test that runs against every driver:
//
//	for _, driver := range storetest.Drivers() {
//		t.Run(driver, func(t *testing.T) {
//			db := storetest.Open(t, driver)
//			...
//		})
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop schemas

	"github.com/townhall/townhall/internal/store"
)

// PostgresEnv names the environment variable holding the URL of the Postgres server
// tests use, e.g. postgres://townhall:townhall@127.0.0.1:5432/townhall_test?sslmode=disable.
const PostgresEnv = "TOWNHALL_TEST_POSTGRES"

// Drivers lists the drivers a store test should run against: "sqlite", "postgres".
func Drivers() []string { return []string{store.SQLite, store.Postgres} }

// Open returns a new, empty, migrated store of the given driver ("sqlite" or
// "postgres"), closed (and on Postgres, dropped) when the test ends.
//
// Without $TOWNHALL_TEST_POSTGRES, a postgres store skips the test, or fails it when
// $CI is "true": CI must not pass by silently testing less.
func Open(t testing.TB, driver string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var dsn string
	switch driver {
	case store.SQLite:
		dsn = filepath.Join(t.TempDir(), "townhall.db")
	case store.Postgres:
		dsn = PostgresSchema(t)
	default:
		t.Fatalf("storetest: unknown driver %q", driver)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("storetest: open %s store: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL returns $TOWNHALL_TEST_POSTGRES, skipping the test if it is unset (or
// failing it when $CI is "true").
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("storetest: $%s is not set, and CI must test Postgres", PostgresEnv)
		}
		t.Skipf("storetest: $%s is not set; skipping the Postgres run", PostgresEnv)
	}
	return base
}

// PostgresSchema creates a schema of its own for the test on the server at
// PostgresURL, drops it (with everything in it) when the test ends, and returns a
// URL that works inside it (its search_path is set to the schema).
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: $%s: %v", PostgresEnv, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "th_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("storetest: create schema: %v", err)
	}
	admin.SetMaxIdleConns(0) // hold no connection while the test runs
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
