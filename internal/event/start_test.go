package event_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
)

func TestStart(t *testing.T) {
	t.Run("the event goes live: co-hosts moderate and invited guests land on stage", func(t *testing.T) {
		f := newFixture(t)
		ada, cy, gus, dee, sub := f.user(t, "ada"), f.user(t, "cy"), f.user(t, "gus"), f.user(t, "dee"), f.user(t, "sub")
		// sub may not see a closed event they were not invited to, so cannot subscribe.
		e := f.schedule(t, ada, time.Hour, func(d *event.Details) { d.CoHosts = []string{cy.ID}; d.RoomType = room.Closed })
		_, err := f.events.Invite(t.Context(), ada.ID, e.ID, []string{gus.ID, dee.ID}, "come talk")
		must(t, err)
		_, err = f.events.Answer(t.Context(), gus.ID, e.ID, event.AnswerAccepted, "")
		must(t, err)
		_, err = f.events.Answer(t.Context(), dee.ID, e.ID, event.AnswerDeclined, "busy")
		must(t, err)
		if err := f.events.Subscribe(t.Context(), sub.ID, e.ID); !errors.Is(err, event.ErrNotFound) {
			t.Fatalf("subscribing to a closed event uninvited: %v, want ErrNotFound", err)
		}
		must(t, f.events.Subscribe(t.Context(), gus.ID, e.ID))

		e, err = f.events.Start(t.Context(), ada.ID, e.ID)
		must(t, err)
		r := f.rooms.rooms[e.RoomID]
		if r == nil {
			t.Fatal("no room opened")
		}
		cfg := r.Config()
		if cfg.CreatorID != ada.ID || !slices.Equal(cfg.CoHosts, []string{cy.ID}) || !slices.Equal(cfg.Speakers, []string{gus.ID}) ||
			cfg.Type != room.Closed || cfg.Title != "Jazz night" {
			t.Fatalf("room config = %+v", cfg)
		}
		for _, u := range []string{ada.ID, cy.ID, gus.ID} {
			if _, err := r.Apply(u, room.Join{Now: t0}); err != nil {
				t.Fatalf("join of %s: %v", u, err)
			}
		}
		if _, err := r.Apply(dee.ID, room.Join{Now: t0}); !errors.Is(err, room.ErrNotInvited) {
			t.Fatalf("the guest who declined joined the closed room: %v", err)
		}
		roles := map[string]room.Role{}
		for _, p := range r.Snapshot().Stage {
			roles[p.UserID] = p.Role
		}
		if roles[ada.ID] != room.Moderator || roles[cy.ID] != room.Moderator || roles[gus.ID] != room.Speaker {
			t.Fatalf("stage = %v", roles)
		}
		live := f.notes.of(notify.KindEventLive)
		slices.Sort(live)
		want := []string{cy.ID, gus.ID}
		slices.Sort(want)
		if !slices.Equal(live, want) {
			t.Fatalf("told it is live: %v, want the co-host and the guest, once each", live)
		}
	})

	t.Run("two clicks open one room and subscribers hear of it once", func(t *testing.T) {
		f := newFixture(t)
		ada, bob := f.user(t, "ada"), f.user(t, "bob")
		e := f.schedule(t, ada, time.Hour, nil)
		must(t, f.events.Subscribe(t.Context(), bob.ID, e.ID))
		_, err := f.events.Start(t.Context(), ada.ID, e.ID)
		must(t, err)
		_, err = f.events.Start(t.Context(), ada.ID, e.ID)
		if !errors.Is(err, event.ErrClosed) || len(f.rooms.rooms) != 1 {
			t.Fatalf("second start: %v, %d rooms", err, len(f.rooms.rooms))
		}
		if got := f.notes.of(notify.KindEventLive); !slices.Equal(got, []string{bob.ID}) {
			t.Fatalf("told it is live: %v, want the subscriber once", got)
		}
	})

	t.Run("a co-host may start the event and the host co-hosts its room", func(t *testing.T) {
		f := newFixture(t)
		ada, cy := f.user(t, "ada"), f.user(t, "cy")
		e := f.schedule(t, ada, time.Hour, func(d *event.Details) { d.CoHosts = []string{cy.ID} })
		e, err := f.events.Start(t.Context(), cy.ID, e.ID)
		must(t, err)
		cfg := f.rooms.rooms[e.RoomID].Config()
		if cfg.CreatorID != cy.ID || !slices.Equal(cfg.CoHosts, []string{ada.ID}) {
			t.Fatalf("room config = %+v", cfg)
		}
	})

	t.Run("someone who is not a host cannot start it, nor answer after the start", func(t *testing.T) {
		f := newFixture(t)
		ada, bob := f.user(t, "ada"), f.user(t, "bob")
		e := f.schedule(t, ada, time.Hour, nil)
		_, err := f.events.Invite(t.Context(), ada.ID, e.ID, []string{bob.ID}, "")
		must(t, err)
		if _, err := f.events.Start(t.Context(), bob.ID, e.ID); !errors.Is(err, event.ErrNotHost) {
			t.Fatalf("start by a guest: %v, want ErrNotHost", err)
		}
		f.clock.Advance(time.Hour)
		if _, err := f.events.Answer(t.Context(), bob.ID, e.ID, event.AnswerAccepted, ""); !errors.Is(err, event.ErrTooLate) {
			t.Fatalf("answer at the start: %v, want ErrTooLate", err)
		}
	})
}
