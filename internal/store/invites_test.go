package store_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

// signUpCases cover CreateUser with an invite code.
func signUpCases() []storeCase {
	return []storeCase{
		{"redeeming an invite links the new user to its creator and uses the invite up", func(t *testing.T, db *store.DB) {
			inviter := newUser(t, db, "inviter")
			inv := newInvite(t, db, inviter.ID, false, t0.Add(time.Hour))
			now := t0.Add(time.Minute)
			u, err := signUp(t, db, "newbie", inv.Code, now)
			must(t, err)
			if u.InvitedBy != inviter.ID || u.IsAdmin {
				t.Fatalf("returned InvitedBy %q, IsAdmin %v", u.InvitedBy, u.IsAdmin)
			}
			got, err := db.UserByID(t.Context(), u.ID)
			must(t, err)
			if got.InvitedBy != inviter.ID || got.IsAdmin {
				t.Fatalf("stored InvitedBy %q, IsAdmin %v", got.InvitedBy, got.IsAdmin)
			}
			used, err := db.InviteByCode(t.Context(), inv.Code)
			must(t, err)
			if used.UsedBy != u.ID || !used.UsedAt.Equal(now) || used.Usable(now) {
				t.Fatalf("invite after use: %+v", used)
			}
		}},
		{"an admin invite makes its redeemer an admin", func(t *testing.T, db *store.DB) {
			inv := newInvite(t, db, "", true, t0.Add(time.Hour))
			u, err := signUp(t, db, "root", inv.Code, t0)
			must(t, err)
			got, err := db.UserByID(t.Context(), u.ID)
			must(t, err)
			if !u.IsAdmin || !got.IsAdmin || got.InvitedBy != "" {
				t.Fatalf("returned IsAdmin %v; stored IsAdmin %v, InvitedBy %q", u.IsAdmin, got.IsAdmin, got.InvitedBy)
			}
		}},
		{"a plain invite does not take away admin from a user created as one", func(t *testing.T, db *store.DB) {
			inv := newInvite(t, db, "", false, t0.Add(time.Hour))
			u, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: "boss", IsAdmin: true}, inv.Code, t0)
			must(t, err)
			got, err := db.UserByID(t.Context(), u.ID)
			must(t, err)
			if !got.IsAdmin {
				t.Fatal("the admin flag was lost")
			}
		}},
		{"a used invite cannot be redeemed again", func(t *testing.T, db *store.DB) {
			inv := newInvite(t, db, "", false, t0.Add(time.Hour))
			_, err := signUp(t, db, "first", inv.Code, t0)
			must(t, err)
			_, err = signUp(t, db, "second", inv.Code, t0)
			wantErr(t, err, account.ErrInviteInvalid)
			_, err = db.UserByUsername(t.Context(), "second")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"an invite cannot be redeemed at or after its expiry", func(t *testing.T, db *store.DB) {
			exp := t0.Add(time.Hour)
			inv := newInvite(t, db, "", false, exp)
			for _, now := range []time.Time{exp, exp.Add(time.Millisecond)} {
				_, err := signUp(t, db, "late", inv.Code, now)
				wantErr(t, err, account.ErrInviteInvalid)
			}
			_, err := signUp(t, db, "intime", inv.Code, exp.Add(-time.Millisecond))
			must(t, err)
		}},
		{"an unknown invite code is refused and creates no user", func(t *testing.T, db *store.DB) {
			_, err := signUp(t, db, "guess", "no-such-code", t0)
			wantErr(t, err, account.ErrInviteInvalid)
			n, err := db.CountUsers(t.Context())
			must(t, err)
			if n != 0 {
				t.Fatalf("CountUsers = %d, want 0", n)
			}
		}},
		{"a taken username does not use up the invite", func(t *testing.T, db *store.DB) {
			newUser(t, db, "taken")
			inv := newInvite(t, db, "", false, t0.Add(time.Hour))
			_, err := signUp(t, db, "taken", inv.Code, t0)
			wantErr(t, err, account.ErrUsernameTaken)
			got, err := db.InviteByCode(t.Context(), inv.Code)
			must(t, err)
			if !got.Usable(t0) {
				t.Fatalf("invite consumed by a failed sign-up: %+v", got)
			}
			_, err = signUp(t, db, "free", inv.Code, t0)
			must(t, err)
		}},
	}
}

func inviteCases() []storeCase {
	return []storeCase{
		{"an invite reads back the same by its code", func(t *testing.T, db *store.DB) {
			creator := newUser(t, db, "creator")
			in := account.Invite{Code: ids.Secret(), CreatedBy: creator.ID, CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}
			must(t, db.CreateInvite(t.Context(), in, 5, t0))
			got, err := db.InviteByCode(t.Context(), in.Code)
			must(t, err)
			if !sameInvite(got, in) || !got.Usable(t0) {
				t.Fatalf("read back %+v, want %+v", got, in)
			}
		}},
		{"an invitation link to a conversation keeps its room in every read, used or not", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			creator := newUser(t, db, "creator")
			roomID := ids.New() // need not name a stored room
			in := account.Invite{Code: ids.Secret(), CreatedBy: creator.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), RoomID: roomID}
			must(t, db.CreateInvite(ctx, in, 5, t0))
			plain := newInvite(t, db, creator.ID, false, t0.Add(time.Hour))
			admin := account.Invite{Code: ids.Secret(), GrantsAdmin: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), RoomID: roomID}
			must(t, db.CreateInvite(ctx, admin, -1, t0))

			got, err := db.InviteByCode(ctx, in.Code)
			must(t, err)
			if !sameInvite(got, in) {
				t.Fatalf("by code %+v, want %+v", got, in)
			}
			list, err := db.ListInvites(ctx, creator.ID)
			must(t, err)
			rooms := map[string]string{}
			for _, inv := range list {
				rooms[inv.Code] = inv.RoomID
			}
			if len(rooms) != 2 || rooms[in.Code] != roomID || rooms[plain.Code] != "" {
				t.Fatalf("listed rooms by code %v, want %s for the link and none for the plain invite", rooms, roomID)
			}
			gotAdmin, err := db.AdminInvite(ctx, t0)
			must(t, err)
			if !sameInvite(gotAdmin, admin) {
				t.Fatalf("admin invite %+v, want %+v", gotAdmin, admin)
			}
			u, err := signUp(t, db, "guest", in.Code, t0)
			must(t, err)
			used, err := db.InviteByCode(ctx, in.Code)
			must(t, err)
			if used.UsedBy != u.ID || used.RoomID != roomID {
				t.Fatalf("after sign-up %+v, want used by %s and leading to %s", used, u.ID, roomID)
			}
		}},
		{"an unknown invite code is not found", func(t *testing.T, db *store.DB) {
			_, err := db.InviteByCode(t.Context(), "nope")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"an invite from an unknown creator is not found", func(t *testing.T, db *store.DB) {
			inv := account.Invite{Code: ids.Secret(), CreatedBy: ids.New(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			wantErr(t, db.CreateInvite(t.Context(), inv, -1, t0), account.ErrNotFound)
			wantErr(t, db.CreateInvite(t.Context(), inv, 3, t0), account.ErrNotFound)
		}},
		{"a creator cannot hold more than max usable invites", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			c := newUser(t, db, "c")
			create := func(now, exp time.Time) error {
				return db.CreateInvite(ctx, account.Invite{Code: ids.Secret(), CreatedBy: c.ID, CreatedAt: now, ExpiresAt: exp}, 2, now)
			}
			must(t, create(t0, t0.Add(time.Hour)))
			must(t, create(t0, t0.Add(2*time.Hour)))
			wantErr(t, create(t0, t0.Add(time.Hour)), account.ErrInviteLimit)

			// Another creator has a limit of their own.
			other := newUser(t, db, "other")
			must(t, db.CreateInvite(ctx, account.Invite{Code: ids.Secret(), CreatedBy: other.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, 2, t0))

			// Once the first expires, it no longer counts.
			later := t0.Add(time.Hour)
			must(t, create(later, later.Add(time.Hour)))
			wantErr(t, create(later, later.Add(time.Hour)), account.ErrInviteLimit)

			// A used invite no longer counts either.
			invs, err := db.ListInvites(ctx, c.ID)
			must(t, err)
			var open account.Invite
			for _, inv := range invs {
				if inv.Usable(later) {
					open = inv
				}
			}
			_, err = signUp(t, db, "joiner", open.Code, later)
			must(t, err)
			must(t, create(later, later.Add(time.Hour)))
		}},
		{"a negative max means no limit and zero allows none", func(t *testing.T, db *store.DB) {
			c := newUser(t, db, "c")
			for range 5 {
				must(t, db.CreateInvite(t.Context(), account.Invite{Code: ids.Secret(), CreatedBy: c.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, -1, t0))
			}
			d := newUser(t, db, "d")
			err := db.CreateInvite(t.Context(), account.Invite{Code: ids.Secret(), CreatedBy: d.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, 0, t0)
			wantErr(t, err, account.ErrInviteLimit)
		}},
		{"first-run codes without a creator have a limit of their own", func(t *testing.T, db *store.DB) {
			c := newUser(t, db, "c")
			newInvite(t, db, c.ID, false, t0.Add(time.Hour))
			first := account.Invite{Code: ids.Secret(), GrantsAdmin: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			must(t, db.CreateInvite(t.Context(), first, 1, t0))
			second := account.Invite{Code: ids.Secret(), GrantsAdmin: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			wantErr(t, db.CreateInvite(t.Context(), second, 1, t0), account.ErrInviteLimit)
		}},
		{"a user's invites are listed newest first, and nobody else's", func(t *testing.T, db *store.DB) {
			c, other := newUser(t, db, "c"), newUser(t, db, "other")
			var want []string
			for i := range 3 {
				at := t0.Add(time.Duration(i) * time.Minute)
				inv := account.Invite{Code: ids.Secret(), CreatedBy: c.ID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
				must(t, db.CreateInvite(t.Context(), inv, -1, at))
				want = append([]string{inv.Code}, want...)
			}
			newInvite(t, db, other.ID, false, t0.Add(time.Hour))
			got, err := db.ListInvites(t.Context(), c.ID)
			must(t, err)
			if len(got) != len(want) {
				t.Fatalf("listed %d invites, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Code != want[i] || got[i].CreatedBy != c.ID {
					t.Fatalf("invite %d is %+v, want code %s", i, got[i], want[i])
				}
			}
			none, err := db.ListInvites(t.Context(), ids.New())
			must(t, err)
			if len(none) != 0 {
				t.Fatalf("an unknown user has %d invites", len(none))
			}
		}},
		{"the admin invite is found only while it can be used", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			_, err := db.AdminInvite(ctx, t0)
			wantErr(t, err, account.ErrNotFound)

			c := newUser(t, db, "c")
			newInvite(t, db, c.ID, false, t0.Add(time.Hour)) // not an admin invite
			_, err = db.AdminInvite(ctx, t0)
			wantErr(t, err, account.ErrNotFound)

			admin := newInvite(t, db, "", true, t0.Add(time.Hour))
			got, err := db.AdminInvite(ctx, t0)
			must(t, err)
			if !sameInvite(got, admin) {
				t.Fatalf("AdminInvite = %+v, want %+v", got, admin)
			}
			_, err = db.AdminInvite(ctx, t0.Add(time.Hour))
			wantErr(t, err, account.ErrNotFound) // expired

			_, err = signUp(t, db, "root", admin.Code, t0)
			must(t, err)
			_, err = db.AdminInvite(ctx, t0)
			wantErr(t, err, account.ErrNotFound) // used
		}},
	}
}

// sameInvite compares invites field by field, times with Equal.
func sameInvite(a, b account.Invite) bool {
	return a.Code == b.Code && a.CreatedBy == b.CreatedBy && a.GrantsAdmin == b.GrantsAdmin &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.UsedBy == b.UsedBy && a.UsedAt.Equal(b.UsedAt) && a.RoomID == b.RoomID
}
