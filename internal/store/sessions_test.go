package store_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

// newSession stores a session of userID created at created, valid for a day.
func newSession(t *testing.T, db *store.DB, userID string, created time.Time) account.Session {
	t.Helper()
	return newSessionUntil(t, db, userID, created, created.Add(24*time.Hour))
}

func newSessionUntil(t *testing.T, db *store.DB, userID string, created, expires time.Time) account.Session {
	t.Helper()
	hash := sha256.Sum256([]byte(ids.Secret()))
	s := account.Session{ID: ids.New(), TokenHash: hash[:], UserID: userID, UserAgent: "test/1.0",
		CreatedAt: created, ExpiresAt: expires}
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return s
}

func sessionCases() []storeCase {
	return []storeCase{
		{"a session reads back the same by its token hash, even once expired", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "sam")
			in := newSessionUntil(t, db, u.ID, t0, t0.Add(time.Minute))
			got, err := db.SessionByTokenHash(t.Context(), in.TokenHash)
			must(t, err)
			if got.ID != in.ID || !bytes.Equal(got.TokenHash, in.TokenHash) || got.UserID != u.ID ||
				got.UserAgent != in.UserAgent || !got.CreatedAt.Equal(in.CreatedAt) || !got.ExpiresAt.Equal(in.ExpiresAt) {
				t.Fatalf("read back %+v, want %+v", got, in)
			}
		}},
		{"an unknown token hash is not found", func(t *testing.T, db *store.DB) {
			hash := sha256.Sum256([]byte("nope"))
			_, err := db.SessionByTokenHash(t.Context(), hash[:])
			wantErr(t, err, account.ErrNotFound)
		}},
		{"a session for an unknown user is not found", func(t *testing.T, db *store.DB) {
			hash := sha256.Sum256([]byte("x"))
			err := db.CreateSession(t.Context(), account.Session{ID: ids.New(), TokenHash: hash[:], UserID: ids.New(),
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			wantErr(t, err, account.ErrNotFound)
		}},
		{"a disabled user cannot get a new session", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "gone")
			must(t, db.DisableUser(t.Context(), u.ID, t0))
			hash := sha256.Sum256([]byte("x"))
			err := db.CreateSession(t.Context(), account.Session{ID: ids.New(), TokenHash: hash[:], UserID: u.ID,
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			wantErr(t, err, account.ErrDisabled)
		}},
		{"a user's unexpired sessions are listed newest first, and nobody else's", func(t *testing.T, db *store.DB) {
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			now := t0.Add(time.Hour)
			older := newSession(t, db, u.ID, t0)
			newer := newSession(t, db, u.ID, t0.Add(time.Minute))
			newSessionUntil(t, db, u.ID, t0, now) // expires exactly now: not listed
			newSessionUntil(t, db, u.ID, t0, t0.Add(time.Minute))
			newSession(t, db, other.ID, t0)
			got, err := db.ListSessions(t.Context(), u.ID, now)
			must(t, err)
			if len(got) != 2 || got[0].ID != newer.ID || got[1].ID != older.ID {
				t.Fatalf("listed %+v, want [%s %s]", got, newer.ID, older.ID)
			}
		}},
		{"a user can delete their own session but not someone else's", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			mine := newSession(t, db, u.ID, t0)
			theirs := newSession(t, db, other.ID, t0)
			wantErr(t, db.DeleteSession(ctx, u.ID, theirs.ID), account.ErrNotFound)
			wantErr(t, db.DeleteSession(ctx, u.ID, ids.New()), account.ErrNotFound)
			must(t, db.DeleteSession(ctx, u.ID, mine.ID))
			_, err := db.SessionByTokenHash(ctx, mine.TokenHash)
			wantErr(t, err, account.ErrNotFound)
			wantErr(t, db.DeleteSession(ctx, u.ID, mine.ID), account.ErrNotFound)
			if _, err := db.SessionByTokenHash(ctx, theirs.TokenHash); err != nil {
				t.Fatalf("the other user's session is gone: %v", err)
			}
		}},
		{"sessions that expired before now are swept and counted", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u := newUser(t, db, "u")
			now := t0.Add(time.Hour)
			gone1 := newSessionUntil(t, db, u.ID, t0, t0.Add(time.Minute))
			gone2 := newSessionUntil(t, db, u.ID, t0, now.Add(-time.Millisecond))
			edge := newSessionUntil(t, db, u.ID, t0, now)
			live := newSession(t, db, u.ID, t0)
			n, err := db.DeleteExpiredSessions(ctx, now)
			must(t, err)
			if n != 2 {
				t.Fatalf("swept %d sessions, want 2", n)
			}
			for _, s := range []account.Session{gone1, gone2} {
				_, err := db.SessionByTokenHash(ctx, s.TokenHash)
				wantErr(t, err, account.ErrNotFound)
			}
			for _, s := range []account.Session{edge, live} {
				if _, err := db.SessionByTokenHash(ctx, s.TokenHash); err != nil {
					t.Fatalf("session expiring at %v was swept: %v", s.ExpiresAt, err)
				}
			}
			n, err = db.DeleteExpiredSessions(ctx, now)
			must(t, err)
			if n != 0 {
				t.Fatalf("second sweep removed %d", n)
			}
		}},
	}
}
