package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/store/storetest"
)

// storeCase is one behaviour of the store, checked on a fresh, empty store of each
// driver. Its name reads as a sentence.
type storeCase struct {
	name string
	run  func(t *testing.T, db *store.DB)
}

// TestStore runs every case against every driver: TestStore/sqlite/..., and
// TestStore/postgres/... (skipped without $TOWNHALL_TEST_POSTGRES, failed in CI).
func TestStore(t *testing.T) {
	var cases []storeCase
	for _, group := range [][]storeCase{
		openCases(), userCases(), emailCases(), signUpCases(), sessionCases(), inviteCases(),
		graphCases(), listCases(), concurrencyCases(),
		roomCases(), invitationCases(), notificationCases(), edgeCases(),
		clubCases(), eventCases(), exploreCases(), delegateCases(), searchCases(), adminCases(), chatCases(),
		invitationPageCases(), replayCases(), replayFileCases(), replayListCases(),
	} {
		cases = append(cases, group...)
	}
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			if driver == store.Postgres {
				storetest.PostgresURL(t) // skip (or fail in CI) once, not per case
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, storetest.Open(t, driver))
				})
			}
		})
	}
}

func openCases() []storeCase {
	return []storeCase{
		{"the store names its driver and answers a ping", func(t *testing.T, db *store.DB) {
			if d := db.Driver(); d != store.SQLite && d != store.Postgres {
				t.Fatalf("Driver() = %q", d)
			}
			must(t, db.Ping(t.Context()))
		}},
		{"a closed store fails its ping", func(t *testing.T, db *store.DB) {
			must(t, db.Close())
			if err := db.Ping(t.Context()); err == nil {
				t.Fatal("Ping on a closed store succeeded")
			}
		}},
	}
}

// TestOpen covers what happens around the suite: opening files, reopening them,
// failing to connect.
func TestOpen(t *testing.T) {
	t.Run("a sqlite store is created with its missing folders and keeps its data when reopened", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a", "b", "townhall.db")
		db, err := store.Open(t.Context(), path)
		must(t, err)
		if db.Driver() != store.SQLite {
			t.Fatalf("Driver() = %q, want sqlite", db.Driver())
		}
		u := newUser(t, db, "kept")
		must(t, db.Close())

		db, err = store.Open(t.Context(), path) // migrations already applied: a no-op
		must(t, err)
		defer db.Close()
		got, err := db.UserByID(t.Context(), u.ID)
		must(t, err)
		if got.Username != "kept" {
			t.Fatalf("after reopening, username = %q", got.Username)
		}
	})
	t.Run("a sqlite path with spaces and a question mark works", func(t *testing.T) {
		db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "my data?x=1", "town hall.db"))
		must(t, err)
		defer db.Close()
		newUser(t, db, "odd")
	})
	t.Run("a sqlite path that cannot be created fails to open", func(t *testing.T) {
		dir := t.TempDir()
		must(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
		if _, err := store.Open(t.Context(), filepath.Join(dir, "file", "townhall.db")); err == nil {
			t.Fatal("Open under a regular file succeeded")
		}
	})
	t.Run("a postgres URL with nothing listening fails to open", func(t *testing.T) {
		if _, err := store.Open(t.Context(), "postgres://nobody:x@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"); err == nil {
			t.Fatal("Open of an unreachable Postgres succeeded")
		}
	})
	t.Run("a postgres store opened twice on one schema migrates once and shares its data", func(t *testing.T) {
		dsn := storetest.PostgresSchema(t)
		a, err := store.Open(t.Context(), dsn)
		must(t, err)
		defer a.Close()
		if a.Driver() != store.Postgres {
			t.Fatalf("Driver() = %q, want postgres", a.Driver())
		}
		u := newUser(t, a, "shared")
		b, err := store.Open(t.Context(), dsn)
		must(t, err)
		defer b.Close()
		if _, err := b.UserByID(t.Context(), u.ID); err != nil {
			t.Fatalf("second store: %v", err)
		}
	})
}

// t0 is the suite's clock: a fixed instant, so expiry and ordering are exact.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// newUser creates an active user named username, created at t0.
func newUser(t *testing.T, db *store.DB, username string) account.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), account.User{
		ID: ids.New(), Username: username, DisplayName: "The " + username,
		PasswordHash: "phc-" + username, CreatedAt: t0,
	}, "", t0)
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// newInvite stores a fresh invite by creator ("" for a first-run code), with no limit.
func newInvite(t *testing.T, db *store.DB, creator string, admin bool, expires time.Time) account.Invite {
	t.Helper()
	inv := account.Invite{Code: ids.Secret(), CreatedBy: creator, GrantsAdmin: admin, CreatedAt: t0, ExpiresAt: expires}
	if err := db.CreateInvite(t.Context(), inv, -1, t0); err != nil {
		t.Fatalf("create invite: %v", err)
	}
	return inv
}

// signUp creates a user with an invite code.
func signUp(t *testing.T, db *store.DB, username, code string, now time.Time) (account.User, error) {
	t.Helper()
	return db.CreateUser(t.Context(), account.User{
		ID: ids.New(), Username: username, PasswordHash: "phc-" + username, CreatedAt: now,
	}, code, now)
}
