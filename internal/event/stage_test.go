package event_test

import (
	"errors"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/room"
)

// TestStageBlocks checks that an event refuses to plan a stage that the room's
// block rule would split: co-hosts and the guests the hosts invite on stage, with a
// block between one of them and a host or another guest.
//
// Every case has ada host an open event co-hosted by cy, with gus invited on stage
// by ada; then the blocks are made, {blocker, blocked} by name, and do runs.
func TestStageBlocks(t *testing.T) {
	type people = map[string]account.User
	invite := func(f *fixture, e event.Event, p people, by string, names ...string) error {
		var users []string
		for _, n := range names {
			users = append(users, p[n].ID)
		}
		_, err := f.events.Invite(t.Context(), p[by].ID, e.ID, users, "")
		return err
	}
	details := func(e event.Event, cohosts ...account.User) event.Details {
		d := event.Details{Title: e.Title, StartsAt: e.StartsAt, TimeZone: e.TimeZone, RoomType: e.RoomType}
		for _, u := range cohosts {
			d.CoHosts = append(d.CoHosts, u.ID)
		}
		return d
	}
	cases := []struct {
		name   string
		blocks [][2]string
		do     func(f *fixture, e event.Event, p people) error
		err    error
	}{
		{
			name: "the host can invite on stage a guest no block separates from the hosts and guests",
			do:   func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee") },
		},
		{
			name:   "the host cannot invite on stage a guest who blocks a co-host",
			blocks: [][2]string{{"dee", "cy"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "the host cannot invite on stage a guest whom a co-host blocks",
			blocks: [][2]string{{"cy", "dee"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "a co-host cannot invite on stage a guest who blocks the host",
			blocks: [][2]string{{"dee", "ada"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "cy", "dee") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "the host cannot invite on stage a guest who blocks a guest already invited on stage",
			blocks: [][2]string{{"dee", "gus"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "the host cannot invite on stage a guest whom a guest already invited blocks",
			blocks: [][2]string{{"gus", "dee"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "the host cannot invite on stage together two guests who block one another",
			blocks: [][2]string{{"dee", "eve"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "ada", "dee", "eve") },
			err:    event.ErrStageBlocked,
		},
		{
			name:   "a guest who declined will not be on stage and does not count",
			blocks: [][2]string{{"dee", "gus"}},
			do: func(f *fixture, e event.Event, p people) error {
				if _, err := f.events.Answer(t.Context(), p["gus"].ID, e.ID, event.AnswerDeclined, ""); err != nil {
					return err
				}
				return invite(f, e, p, "ada", "dee")
			},
		},
		{
			name:   "someone who is not a host invites only to listen, whatever the blocks",
			blocks: [][2]string{{"dee", "gus"}},
			do:     func(f *fixture, e event.Event, p people) error { return invite(f, e, p, "lou", "dee") },
		},
		{
			name:   "an event cannot be scheduled with two co-hosts who block one another",
			blocks: [][2]string{{"dee", "eve"}},
			do: func(f *fixture, e event.Event, p people) error {
				_, err := f.events.Create(t.Context(), p["ada"].ID, details(e, p["dee"], p["eve"]))
				return err
			},
			err: event.ErrStageBlocked,
		},
		{
			name:   "an update cannot add a co-host who blocks a guest invited on stage",
			blocks: [][2]string{{"dee", "gus"}},
			do: func(f *fixture, e event.Event, p people) error {
				_, err := f.events.Update(t.Context(), p["ada"].ID, e.ID, details(e, p["cy"], p["dee"]))
				return err
			},
			err: event.ErrStageBlocked,
		},
		{
			name:   "an update keeps the co-hosts the event had, even if a block came between them and a guest since",
			blocks: [][2]string{{"cy", "gus"}},
			do: func(f *fixture, e event.Event, p people) error {
				_, err := f.events.Update(t.Context(), p["ada"].ID, e.ID, details(e, p["cy"]))
				return err
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			p := people{}
			for _, n := range []string{"ada", "cy", "gus", "dee", "eve", "lou"} {
				p[n] = f.user(t, n)
			}
			e := f.schedule(t, p["ada"], time.Hour, func(d *event.Details) { d.CoHosts = []string{p["cy"].ID} })
			must(t, invite(f, e, p, "ada", "gus"))
			for _, b := range c.blocks {
				must(t, f.db.Block(t.Context(), p[b[0]].ID, p[b[1]].ID, t0))
			}
			if err := c.do(f, e, p); !errors.Is(err, c.err) {
				t.Fatalf("got error %v, want %v", err, c.err)
			}
		})
	}
}

// TestStartKeepsABlockedGuestOffTheStage checks the rule where it lives, in the
// room the event opens: a guest who blocked a co-host after being invited joins
// that room as a listener.
func TestStartKeepsABlockedGuestOffTheStage(t *testing.T) {
	f := newFixture(t)
	ada, cy, gus := f.user(t, "ada"), f.user(t, "cy"), f.user(t, "gus")
	e := f.schedule(t, ada, time.Hour, func(d *event.Details) { d.CoHosts = []string{cy.ID} })
	_, err := f.events.Invite(t.Context(), ada.ID, e.ID, []string{gus.ID}, "come talk")
	must(t, err)
	must(t, f.db.Block(t.Context(), gus.ID, cy.ID, t0))

	e, err = f.events.Start(t.Context(), ada.ID, e.ID)
	must(t, err)
	r := f.rooms.rooms[e.RoomID]
	for _, u := range []string{ada.ID, cy.ID} {
		_, err := r.Apply(u, room.Join{Now: t0})
		must(t, err)
	}
	_, err = r.Apply(gus.ID, room.Join{Now: t0, Rel: room.Relations{Blocks: []string{cy.ID}}})
	must(t, err)
	if p, _ := r.Participant(gus.ID); p.Role != room.Listener || !r.KeptOffStage(gus.ID) {
		t.Fatalf("gus is %+v (kept off the stage: %v), want a listener kept off the stage", p, r.KeptOffStage(gus.ID))
	}
}
