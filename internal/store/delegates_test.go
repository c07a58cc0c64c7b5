package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/search"
	"github.com/townhall/townhall/internal/store"
)

func delegateCases() []storeCase {
	return []storeCase{
		{"a delegate is named, changed, listed both ways and revoked", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			d := account.Delegate{OwnerID: ada.ID, UserID: bob.ID, Scopes: []account.Scope{account.ScopeEvents}, CreatedAt: t0}
			must(t, db.PutDelegate(t.Context(), d, 5))
			d.Scopes, d.CreatedAt = []account.Scope{account.ScopeInvitations, account.ScopeRooms}, t0.Add(time.Hour)
			must(t, db.PutDelegate(t.Context(), d, 5))
			got, err := db.Delegate(t.Context(), ada.ID, bob.ID)
			must(t, err)
			if !slices.Equal(got.Scopes, d.Scopes) || !got.CreatedAt.Equal(t0) {
				t.Fatalf("delegate = %+v", got)
			}
			of, err := db.DelegatesOf(t.Context(), ada.ID)
			must(t, err)
			to, err := db.DelegationsTo(t.Context(), bob.ID)
			must(t, err)
			if len(of) != 1 || len(to) != 1 || to[0].OwnerID != ada.ID {
				t.Fatalf("delegates of ada %+v, to bob %+v", of, to)
			}
			must(t, db.DeleteDelegate(t.Context(), ada.ID, bob.ID))
			wantErr(t, db.DeleteDelegate(t.Context(), ada.ID, bob.ID), account.ErrNotFound)
			_, err = db.Delegate(t.Context(), ada.ID, bob.ID)
			wantErr(t, err, account.ErrNotFound)
		}},
		{"an owner names at most max delegates", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			scopes := []account.Scope{account.ScopeEvents}
			must(t, db.PutDelegate(t.Context(), account.Delegate{OwnerID: ada.ID, UserID: bob.ID, Scopes: scopes, CreatedAt: t0}, 1))
			must(t, db.PutDelegate(t.Context(), account.Delegate{OwnerID: ada.ID, UserID: bob.ID, Scopes: scopes, CreatedAt: t0}, 1))
			err := db.PutDelegate(t.Context(), account.Delegate{OwnerID: ada.ID, UserID: cy.ID, Scopes: scopes, CreatedAt: t0}, 1)
			wantErr(t, err, account.ErrTooManyDelegates)
			err = db.PutDelegate(t.Context(), account.Delegate{OwnerID: ada.ID, UserID: ids.New(), Scopes: scopes, CreatedAt: t0}, 5)
			wantErr(t, err, account.ErrNotFound)
		}},
		{"the audit log pages newest first", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			var want []string
			for i := range 5 {
				e := account.AuditEntry{ID: ids.New(), OwnerID: ada.ID, DelegateID: bob.ID, Action: "POST /x/{id}",
					Target: "/x/1", At: t0.Add(time.Duration(i) * time.Minute)}
				must(t, db.AddAudit(t.Context(), e))
				want = append([]string{e.ID}, want...)
			}
			var got []string
			before := ""
			for {
				page, err := db.AuditLog(t.Context(), ada.ID, before, 2)
				must(t, err)
				for _, e := range page {
					got = append(got, e.ID)
				}
				if len(page) < 2 {
					break
				}
				before = page[len(page)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Fatalf("audit log = %v, want %v", got, want)
			}
			_, err := db.AuditLog(t.Context(), bob.ID, want[0], 2)
			wantErr(t, err, account.ErrNotFound)
		}},
		{"muted notification kinds are replaced as a set", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			must(t, db.SetMutedKinds(t.Context(), ada.ID, []string{"ping", "event_live"}))
			must(t, db.SetMutedKinds(t.Context(), ada.ID, []string{"new_follower", "ping"}))
			got, err := db.MutedKinds(t.Context(), ada.ID)
			must(t, err)
			if !slices.Equal(got, []string{"new_follower", "ping"}) {
				t.Fatalf("muted = %v", got)
			}
			wantErr(t, db.SetMutedKinds(t.Context(), ids.New(), nil), account.ErrNotFound)
		}},
	}
}

func searchCases() []storeCase {
	return []storeCase{
		{"people are found by a prefix of their username or display name", func(t *testing.T, db *store.DB) {
			newUser(t, db, "ada_lovelace")
			newUser(t, db, "bob")
			must(t, db.UpdateProfile(t.Context(), newUser(t, db, "cy").ID, "Cyrus Jazzman", ""))
			check := func(q string, want ...string) {
				t.Helper()
				users, err := db.SearchUsers(t.Context(), search.Terms(q), 10)
				must(t, err)
				var got []string
				for _, u := range users {
					got = append(got, u.Username)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("search %q = %v, want %v", q, got, want)
				}
			}
			check("love", "ada_lovelace")
			check("ADA", "ada_lovelace")
			check("jazz", "cy")
			check("cyrus jaz", "cy")
			check("the", "ada_lovelace", "bob") // newUser names people "The <name>"; cy changed his
			check("nobody")
		}},
		{"clubs and upcoming events are found by words of their text", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			newClub(t, db, "Late Night Jazz", ada, false)
			newClub(t, db, "Gardening", ada, false)
			clubs, err := db.SearchClubs(t.Context(), search.Terms("night jaz"), 10)
			must(t, err)
			if len(clubs) != 1 || clubs[0].Name != "Late Night Jazz" || clubs[0].Members != 1 {
				t.Fatalf("clubs = %+v", clubs)
			}
			e := newEvent(t, db, ada, t0.Add(time.Hour), func(e *event.Event) { e.Title = "Café philo" })
			newEvent(t, db, ada, t0.Add(-time.Hour), func(e *event.Event) { e.Title = "Café past" })
			gone := newEvent(t, db, ada, t0.Add(time.Hour), func(e *event.Event) { e.Title = "Café cancelled" })
			must(t, db.CancelEvent(t.Context(), gone.ID, t0))
			events, err := db.SearchEvents(t.Context(), search.Terms("café"), t0, 10)
			must(t, err)
			if !slices.Equal(ids2(events), []string{e.ID}) {
				t.Fatalf("events = %v", ids2(events))
			}
			e.Title = "Tea time"
			must(t, db.UpdateEvent(t.Context(), e, false))
			events, err = db.SearchEvents(t.Context(), search.Terms("café"), t0, 10)
			must(t, err)
			if len(events) != 0 {
				t.Fatalf("an edited title is still found: %v", ids2(events))
			}
			events, err = db.SearchEvents(t.Context(), search.Terms("tea"), t0, 10)
			must(t, err)
			if len(events) != 1 {
				t.Fatalf("the new title is not found")
			}
		}},
	}
}
