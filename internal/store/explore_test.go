package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
)

// explore lists viewer's Explore page at t0 (started events kept for an hour).
func explore(t *testing.T, db *store.DB, viewer account.User, after account.Cursor, limit int) ([]string, account.Cursor) {
	t.Helper()
	list, next, err := db.ExploreEvents(t.Context(), viewer.ID, t0.Add(-time.Hour), t0, after, limit)
	must(t, err)
	return ids2(list), next
}

func exploreCases() []storeCase {
	return []storeCase{
		{"explore lists the open events of strangers soonest first and leaves out what is not for everyone", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			c := newClub(t, db, "Jazz", cy, false)
			later := newEvent(t, db, ada, t0.Add(3*time.Hour), nil)
			sooner := newEvent(t, db, cy, t0.Add(time.Hour), nil)
			ofClub := newEvent(t, db, cy, t0.Add(2*time.Hour), func(e *event.Event) { e.ClubID = c.ID })
			mine := newEvent(t, db, bob, t0.Add(4*time.Hour), nil)
			newEvent(t, db, ada, t0.Add(time.Hour), func(e *event.Event) { e.RoomType = room.Social })
			newEvent(t, db, ada, t0.Add(time.Hour), func(e *event.Event) { e.RoomType = room.Closed })
			newEvent(t, db, cy, t0.Add(time.Hour), func(e *event.Event) { e.ClubID, e.MembersOnly = c.ID, true })
			cancelled := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			must(t, db.CancelEvent(t.Context(), cancelled.ID, t0))
			newEvent(t, db, ada, t0.Add(-time.Minute), nil) // its start passed and it never opened
			got, next := explore(t, db, bob, account.Cursor{}, 50)
			if want := []string{sooner.ID, ofClub.ID, later.ID, mine.ID}; !slices.Equal(got, want) {
				t.Fatalf("explore = %v, want %v", got, want)
			}
			if !next.IsZero() {
				t.Fatalf("the only page has a next cursor %+v", next)
			}
		}},
		{"explore keeps an event whose room opened while it started within the window", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			live := newEvent(t, db, ada, t0.Add(-30*time.Minute), nil)
			must(t, db.ClaimEventStart(t.Context(), live.ID, t0.Add(-30*time.Minute)))
			old := newEvent(t, db, ada, t0.Add(-2*time.Hour), nil)
			must(t, db.ClaimEventStart(t.Context(), old.ID, t0.Add(-2*time.Hour)))
			if got, _ := explore(t, db, bob, account.Cursor{}, 50); !slices.Equal(got, []string{live.ID}) {
				t.Fatalf("explore = %v, want only the live event", got)
			}
		}},
		{"explore leaves out events a block separates from the viewer either way, or of a disabled host", func(t *testing.T, db *store.DB) {
			ada, bob, cy, dee, eve := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy"), newUser(t, db, "dee"), newUser(t, db, "eve")
			kept := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			newEvent(t, db, cy, t0.Add(time.Hour), nil)  // cy blocks bob
			newEvent(t, db, dee, t0.Add(time.Hour), nil) // bob blocks dee
			newEvent(t, db, ada, t0.Add(2*time.Hour), func(e *event.Event) { e.CoHosts = []string{cy.ID} })
			newEvent(t, db, ada, t0.Add(2*time.Hour), func(e *event.Event) { e.CoHosts = []string{dee.ID} })
			newEvent(t, db, eve, t0.Add(time.Hour), nil) // eve is disabled
			must(t, db.Block(t.Context(), cy.ID, bob.ID, t0))
			must(t, db.Block(t.Context(), bob.ID, dee.ID, t0))
			must(t, db.DisableUser(t.Context(), eve.ID, t0))
			if got, _ := explore(t, db, bob, account.Cursor{}, 50); !slices.Equal(got, []string{kept.ID}) {
				t.Fatalf("explore = %v, want %v", got, []string{kept.ID})
			}
		}},
		{"explore pages by start then ID, events at one start split across pages", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			byStart := map[string]time.Time{}
			for i := range 5 {
				e := newEvent(t, db, ada, t0.Add(time.Duration(1+i/2)*time.Hour), nil) // two at 1h, two at 2h, one at 3h
				byStart[e.ID] = e.StartsAt
			}
			all, _ := explore(t, db, bob, account.Cursor{}, 50)
			if len(all) != 5 || !slices.IsSortedFunc(all, func(a, b string) int {
				if c := byStart[a].Compare(byStart[b]); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			}) {
				t.Fatalf("explore = %v, not the five events by start then ID", all)
			}
			var got []string
			var after account.Cursor
			for pages := 1; ; pages++ {
				if pages > 3 {
					t.Fatal("explore in pages of two took more than three pages for five events")
				}
				page, next := explore(t, db, bob, after, 2)
				got = append(got, page...)
				if next.IsZero() {
					break
				}
				after = next
			}
			if !slices.Equal(got, all) {
				t.Fatalf("paged = %v, want %v", got, all)
			}
		}},
	}
}
