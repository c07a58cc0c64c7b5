package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
)

// newEvent stores an open event of host starting at start, changed by tweak.
func newEvent(t *testing.T, db *store.DB, host account.User, start time.Time, tweak func(*event.Event)) event.Event {
	t.Helper()
	e := event.Event{ID: ids.New(), Title: "Jazz night", Description: "Records and talk", StartsAt: start,
		TimeZone: "Europe/Paris", HostID: host.ID, RoomType: room.Open, CreatedAt: t0, UpdatedAt: t0}
	if tweak != nil {
		tweak(&e)
	}
	must(t, db.CreateEvent(t.Context(), e))
	return e
}

func ids2(list []event.Event) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}

func eventCases() []storeCase {
	return []storeCase{
		{"an event reads back with its co-hosts in order", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			e := newEvent(t, db, ada, t0.Add(time.Hour), func(e *event.Event) { e.CoHosts = []string{cy.ID, bob.ID} })
			got, err := db.EventByID(t.Context(), e.ID)
			must(t, err)
			if got.Title != e.Title || !got.StartsAt.Equal(e.StartsAt) || got.TimeZone != "Europe/Paris" ||
				!slices.Equal(got.CoHosts, []string{cy.ID, bob.ID}) || got.Cancelled() || got.Started() || got.ClubID != "" {
				t.Fatalf("event = %+v", got)
			}
			_, err = db.EventByID(t.Context(), ids.New())
			wantErr(t, err, event.ErrNotFound)
		}},
		{"an event of an unknown host or co-host is refused", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			err := db.CreateEvent(t.Context(), event.Event{ID: ids.New(), Title: "x", StartsAt: t0, HostID: ids.New(), RoomType: room.Open})
			wantErr(t, err, account.ErrNotFound)
			err = db.CreateEvent(t.Context(), event.Event{ID: ids.New(), Title: "x", StartsAt: t0, HostID: ada.ID,
				RoomType: room.Open, CoHosts: []string{ids.New()}})
			wantErr(t, err, account.ErrNotFound)
		}},
		{"an edit changes the event and forgets its reminder when it moves", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			e := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			first, err := db.MarkReminder(t.Context(), e.ID, event.ReminderSoon, t0)
			must(t, err)
			if !first {
				t.Fatal("first reminder not first")
			}
			e.Title, e.StartsAt, e.CoHosts, e.RoomType = "Blues night", t0.Add(3*time.Hour), []string{bob.ID}, room.Closed
			must(t, db.UpdateEvent(t.Context(), e, true))
			got, err := db.EventByID(t.Context(), e.ID)
			must(t, err)
			if got.Title != "Blues night" || got.RoomType != room.Closed || !slices.Equal(got.CoHosts, []string{bob.ID}) {
				t.Fatalf("event = %+v", got)
			}
			first, err = db.MarkReminder(t.Context(), e.ID, event.ReminderSoon, t0)
			must(t, err)
			if !first {
				t.Fatal("the reminder of the moved event was still recorded")
			}
		}},
		{"a cancelled or started event can be neither edited nor started again", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			a := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			b := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			must(t, db.CancelEvent(t.Context(), a.ID, t0))
			wantErr(t, db.CancelEvent(t.Context(), a.ID, t0), event.ErrClosed)
			wantErr(t, db.ClaimEventStart(t.Context(), a.ID, t0), event.ErrClosed)
			wantErr(t, db.UpdateEvent(t.Context(), a, false), event.ErrClosed)
			must(t, db.ClaimEventStart(t.Context(), b.ID, t0))
			wantErr(t, db.ClaimEventStart(t.Context(), b.ID, t0), event.ErrClosed)
			must(t, db.UnclaimEventStart(t.Context(), b.ID))
			must(t, db.ClaimEventStart(t.Context(), b.ID, t0.Add(time.Minute)))
			room := ids.New()
			must(t, db.SetEventRoom(t.Context(), b.ID, room))
			got, err := db.EventByID(t.Context(), b.ID)
			must(t, err)
			if got.RoomID != room || !got.StartedAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("event = %+v", got)
			}
			wantErr(t, db.CancelEvent(t.Context(), ids.New(), t0), event.ErrNotFound)
		}},
		{"upcoming events are those of followed hosts, clubs, subscriptions and invitations", func(t *testing.T, db *store.DB) {
			ada, bob, cy, dee := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy"), newUser(t, db, "dee")
			must(t, db.Follow(t.Context(), bob.ID, ada.ID, t0))
			followed := newEvent(t, db, ada, t0.Add(2*time.Hour), nil)
			cohosted := newEvent(t, db, cy, t0.Add(3*time.Hour), func(e *event.Event) { e.CoHosts = []string{ada.ID} })
			subscribed := newEvent(t, db, dee, t0.Add(4*time.Hour), nil)
			invited := newEvent(t, db, dee, t0.Add(5*time.Hour), nil)
			c := newClub(t, db, "Jazz", dee, false)
			ofClub := newEvent(t, db, dee, t0.Add(6*time.Hour), func(e *event.Event) { e.ClubID = c.ID })
			newEvent(t, db, dee, t0.Add(time.Hour), nil)                // unrelated
			newEvent(t, db, ada, t0.Add(-time.Hour), nil)               // past
			cancelled := newEvent(t, db, ada, t0.Add(7*time.Hour), nil) // cancelled
			must(t, db.CancelEvent(t.Context(), cancelled.ID, t0))
			must(t, db.Subscribe(t.Context(), subscribed.ID, bob.ID, t0))
			must(t, db.AddEventInvitations(t.Context(), event.Invitation{EventID: invited.ID, InviterID: dee.ID, CreatedAt: t0}, []string{bob.ID}))
			must(t, db.AddClubMember(t.Context(), clubMember(c.ID, bob.ID)))
			got, err := db.UpcomingEvents(t.Context(), bob.ID, t0, 50)
			must(t, err)
			want := []string{followed.ID, cohosted.ID, subscribed.ID, invited.ID, ofClub.ID}
			if !slices.Equal(ids2(got), want) {
				t.Fatalf("upcoming = %v, want %v", ids2(got), want)
			}
			hosted, err := db.HostedEvents(t.Context(), ada.ID, t0, 50)
			must(t, err)
			if !slices.Equal(ids2(hosted), []string{followed.ID, cohosted.ID}) {
				t.Fatalf("hosted = %v", ids2(hosted))
			}
			club, err := db.ClubEvents(t.Context(), c.ID, t0, 50)
			must(t, err)
			if !slices.Equal(ids2(club), []string{ofClub.ID}) {
				t.Fatalf("club events = %v", ids2(club))
			}
		}},
		{"subscriptions are idempotent", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			e := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			must(t, db.Subscribe(t.Context(), e.ID, bob.ID, t0))
			must(t, db.Subscribe(t.Context(), e.ID, cy.ID, t0.Add(time.Second)))
			must(t, db.Subscribe(t.Context(), e.ID, bob.ID, t0.Add(time.Hour)))
			subs, err := db.Subscribers(t.Context(), e.ID)
			must(t, err)
			if !slices.Equal(subs, []string{bob.ID, cy.ID}) {
				t.Fatalf("subscribers = %v", subs)
			}
			must(t, db.Unsubscribe(t.Context(), e.ID, bob.ID))
			must(t, db.Unsubscribe(t.Context(), e.ID, bob.ID))
			ok, err := db.IsSubscribed(t.Context(), e.ID, bob.ID)
			must(t, err)
			if ok {
				t.Fatal("bob still subscribed")
			}
			wantErr(t, db.Subscribe(t.Context(), ids.New(), bob.ID, t0), account.ErrNotFound)
		}},
		{"event invitations are answered and a stage invitation upgrades a plain one", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			e := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			must(t, db.AddEventInvitations(t.Context(), event.Invitation{EventID: e.ID, InviterID: cy.ID, Message: "come", CreatedAt: t0}, []string{bob.ID}))
			must(t, db.AnswerEventInvitation(t.Context(), e.ID, bob.ID, event.AnswerAccepted, "yes", t0.Add(time.Minute)))
			must(t, db.AddEventInvitations(t.Context(), event.Invitation{EventID: e.ID, InviterID: ada.ID, ToStage: true, CreatedAt: t0}, []string{bob.ID}))
			inv, err := db.EventInvitation(t.Context(), e.ID, bob.ID)
			must(t, err)
			if !inv.ToStage || inv.Status != event.AnswerAccepted || inv.Text != "yes" || inv.InviterID != cy.ID || inv.Message != "come" {
				t.Fatalf("invitation = %+v", inv)
			}
			wantErr(t, db.AnswerEventInvitation(t.Context(), e.ID, cy.ID, event.AnswerAccepted, "", t0), event.ErrNoInvitation)
			_, err = db.EventInvitation(t.Context(), e.ID, cy.ID)
			wantErr(t, err, event.ErrNoInvitation)
			to, err := db.EventInvitationsTo(t.Context(), bob.ID, t0, 10)
			must(t, err)
			if len(to) != 1 || to[0].EventID != e.ID {
				t.Fatalf("invitations to bob = %+v", to)
			}
		}},
		{"due events are found once their reminder is not recorded", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			soon := newEvent(t, db, ada, t0.Add(5*time.Minute), nil)
			later := newEvent(t, db, ada, t0.Add(time.Hour), nil)
			started := newEvent(t, db, ada, t0.Add(2*time.Minute), nil)
			must(t, db.ClaimEventStart(t.Context(), started.ID, t0))
			due, err := db.DueEvents(t.Context(), event.ReminderSoon, t0, t0, t0.Add(10*time.Minute), 10)
			must(t, err)
			if !slices.Equal(ids2(due), []string{soon.ID}) {
				t.Fatalf("due = %v", ids2(due))
			}
			first, err := db.MarkReminder(t.Context(), soon.ID, event.ReminderSoon, t0)
			must(t, err)
			again, err := db.MarkReminder(t.Context(), soon.ID, event.ReminderSoon, t0)
			must(t, err)
			if !first || again {
				t.Fatalf("first %v, again %v", first, again)
			}
			next, ok, err := db.NextDue(t.Context(), event.ReminderSoon, t0)
			must(t, err)
			if !ok || !next.Equal(later.StartsAt) {
				t.Fatalf("next due = %v %v, want %v", next, ok, later.StartsAt)
			}
			_, err = db.MarkReminder(t.Context(), ids.New(), event.ReminderSoon, t0)
			wantErr(t, err, event.ErrNotFound)
		}},
		{"a claimed reminder goes to one claimer, then to another once its claim expired unfinished, and never once sent", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ada := newUser(t, db, "ada")
			e := newEvent(t, db, ada, t0.Add(5*time.Minute), nil)
			claim := func(at time.Time) bool {
				t.Helper()
				ok, err := db.ClaimReminder(ctx, e.ID, event.ReminderSoon, at, at.Add(30*time.Second))
				must(t, err)
				return ok
			}
			due := func(now time.Time) int {
				t.Helper()
				list, err := db.DueEvents(ctx, event.ReminderSoon, now, t0, t0.Add(10*time.Minute), 10)
				must(t, err)
				return len(list)
			}
			if !claim(t0) {
				t.Fatal("the first claim was refused")
			}
			if claim(t0.Add(time.Second)) || due(t0.Add(time.Second)) != 0 {
				t.Fatal("a running claim was given again, or the event is still due")
			}
			if due(t0.Add(31*time.Second)) != 1 || !claim(t0.Add(31*time.Second)) {
				t.Fatal("an expired claim was not due again, or not given to the next claimer")
			}
			must(t, db.FinishReminder(ctx, e.ID, event.ReminderSoon))
			if claim(t0.Add(time.Hour)) || due(t0.Add(time.Hour)) != 0 {
				t.Fatal("a sent reminder was claimed again, or is still due")
			}
			_, err := db.ClaimReminder(ctx, ids.New(), event.ReminderSoon, t0, t0)
			wantErr(t, err, event.ErrNotFound)
		}},
		{"a notification stored once under its ID is not stored again", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			n := live.Notification{ID: ids.From("reminder:x:" + u.ID), UserID: u.ID, Kind: "event_reminder", CreatedAt: t0}
			first, err := db.AddNotificationOnce(t.Context(), n)
			must(t, err)
			again, err := db.AddNotificationOnce(t.Context(), n)
			must(t, err)
			if !first || again {
				t.Fatalf("first %v, again %v", first, again)
			}
			list, err := db.Notifications(t.Context(), u.ID, "", 10)
			must(t, err)
			if len(list) != 1 {
				t.Fatalf("%d notifications stored, want 1", len(list))
			}
		}},
	}
}
