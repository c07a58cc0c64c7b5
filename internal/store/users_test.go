package store_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

func userCases() []storeCase {
	return []storeCase{
		{"a new user reads back the same by ID and by username", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			inviter := newUser(t, db, "inviter")
			in := account.User{
				ID: ids.New(), Username: "alice", DisplayName: "Alice A.", Bio: "talks about birds",
				PasswordHash: "$argon2id$v=19$...", InvitedBy: inviter.ID, CreatedAt: t0,
			}
			created, err := db.CreateUser(ctx, in, "", t0)
			must(t, err)
			if !sameUser(created, in) {
				t.Fatalf("CreateUser returned %+v, want %+v", created, in)
			}
			byID, err := db.UserByID(ctx, in.ID)
			must(t, err)
			byName, err := db.UserByUsername(ctx, "alice")
			must(t, err)
			for _, got := range []account.User{byID, byName} {
				if !sameUser(got, in) {
					t.Fatalf("read back %+v, want %+v", got, in)
				}
			}
			if byID.Disabled() || byID.IsAdmin {
				t.Fatalf("new user is disabled or admin: %+v", byID)
			}
		}},
		{"times come back in UTC to the millisecond", func(t *testing.T, db *store.DB) {
			paris := time.FixedZone("CET", 3600)
			at := time.Date(2026, 3, 1, 13, 0, 0, 123_456_789, paris)
			u, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: "clock", CreatedAt: at}, "", at)
			must(t, err)
			got, err := db.UserByID(t.Context(), u.ID)
			must(t, err)
			want := time.Date(2026, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
			if !got.CreatedAt.Equal(want) || !u.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
				t.Fatalf("CreatedAt = %v (returned %v), want %v", got.CreatedAt, u.CreatedAt, want)
			}
		}},
		{"a user without an ID or a creation time gets them", func(t *testing.T, db *store.DB) {
			u, err := db.CreateUser(t.Context(), account.User{Username: "bare"}, "", t0)
			must(t, err)
			if !ids.Valid(u.ID) || !u.CreatedAt.Equal(t0) {
				t.Fatalf("got ID %q, CreatedAt %v", u.ID, u.CreatedAt)
			}
			if _, err := db.UserByID(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"usernames are stored lower-cased and found whatever their case", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "MiXed")
			if u.Username != "mixed" {
				t.Fatalf("stored username %q", u.Username)
			}
			got, err := db.UserByUsername(t.Context(), "MIXED")
			must(t, err)
			if got.ID != u.ID {
				t.Fatalf("found %s, want %s", got.ID, u.ID)
			}
		}},
		{"a taken username is refused whatever its case", func(t *testing.T, db *store.DB) {
			newUser(t, db, "bob")
			_, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: "BOB"}, "", t0)
			wantErr(t, err, account.ErrUsernameTaken)
			n, err := db.CountUsers(t.Context())
			must(t, err)
			if n != 1 {
				t.Fatalf("CountUsers = %d after the refused sign-up, want 1", n)
			}
		}},
		{"an unknown user ID or username is not found", func(t *testing.T, db *store.DB) {
			_, err := db.UserByID(t.Context(), ids.New())
			wantErr(t, err, account.ErrNotFound)
			_, err = db.UserByUsername(t.Context(), "nobody")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"users are counted, disabled ones too", func(t *testing.T, db *store.DB) {
			n, err := db.CountUsers(t.Context())
			must(t, err)
			if n != 0 {
				t.Fatalf("empty store counts %d users", n)
			}
			newUser(t, db, "one")
			two := newUser(t, db, "two")
			must(t, db.DisableUser(t.Context(), two.ID, t0))
			n, err = db.CountUsers(t.Context())
			must(t, err)
			if n != 2 {
				t.Fatalf("CountUsers = %d, want 2", n)
			}
		}},
		{"a profile update changes the display name and bio only", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "carol")
			must(t, db.UpdateProfile(t.Context(), u.ID, "Carol C.", "new bio"))
			got, err := db.UserByID(t.Context(), u.ID)
			must(t, err)
			want := u
			want.DisplayName, want.Bio = "Carol C.", "new bio"
			if !sameUser(got, want) {
				t.Fatalf("after update %+v, want %+v", got, want)
			}
		}},
		{"updating the profile of an unknown user is not found", func(t *testing.T, db *store.DB) {
			wantErr(t, db.UpdateProfile(t.Context(), ids.New(), "x", "y"), account.ErrNotFound)
		}},
		{"disabling a user records when and signs out all its sessions", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u, other := newUser(t, db, "dave"), newUser(t, db, "erin")
			s1, s2 := newSession(t, db, u.ID, t0), newSession(t, db, u.ID, t0.Add(time.Second))
			kept := newSession(t, db, other.ID, t0)
			at := t0.Add(time.Hour)
			must(t, db.DisableUser(ctx, u.ID, at))
			got, err := db.UserByID(ctx, u.ID)
			must(t, err)
			if !got.Disabled() || !got.DisabledAt.Equal(at) {
				t.Fatalf("DisabledAt = %v, want %v", got.DisabledAt, at)
			}
			for _, s := range []account.Session{s1, s2} {
				_, err := db.SessionByTokenHash(ctx, s.TokenHash)
				wantErr(t, err, account.ErrNotFound)
			}
			if _, err := db.SessionByTokenHash(ctx, kept.TokenHash); err != nil {
				t.Fatalf("another user's session went too: %v", err)
			}
		}},
		{"disabling an unknown user is not found", func(t *testing.T, db *store.DB) {
			wantErr(t, db.DisableUser(t.Context(), ids.New(), t0), account.ErrNotFound)
		}},
	}
}

// sameUser compares users field by field, times with Equal.
func sameUser(a, b account.User) bool {
	ta, tb := a.CreatedAt, b.CreatedAt
	da, dbb := a.DisabledAt, b.DisabledAt
	a.CreatedAt, b.CreatedAt, a.DisabledAt, b.DisabledAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && da.Equal(dbb)
}
