package event_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/notify"
)

// within waits for a value on ch, failing the test after a real-time deadline
// (a guard against a hang, never a way to let time pass).
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestScheduler(t *testing.T) {
	t.Run("a subscriber is reminded ten minutes before the start, once", func(t *testing.T) {
		f := newFixture(t)
		ada, bob := f.user(t, "ada"), f.user(t, "bob")
		e := f.schedule(t, ada, time.Hour, nil)
		must(t, f.events.Subscribe(t.Context(), bob.ID, e.ID))
		s := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		if d := within(t, f.clock.waiting, "the scheduler to sleep"); d != 50*time.Minute {
			t.Fatalf("the scheduler sleeps %v, want 50m (until ten minutes before the start)", d)
		}
		if got := f.notes.of(notify.KindEventReminder); len(got) != 0 {
			t.Fatalf("reminded early: %v", got)
		}
		f.clock.Advance(50 * time.Minute)
		first := within(t, f.notes.sent, "the first reminder")
		second := within(t, f.notes.sent, "the second reminder")
		got := []string{first.user, second.user}
		slices.Sort(got)
		want := []string{ada.ID, bob.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) || first.data.EventID != e.ID || first.kind != notify.KindEventReminder {
			t.Fatalf("reminded %v (%+v), want the host and the subscriber", got, first)
		}
		within(t, f.clock.waiting, "the scheduler to sleep again")
		f.clock.Advance(time.Hour)
		within(t, f.clock.waiting, "the scheduler to look again")
		if n := len(f.notes.of(notify.KindEventReminder)); n != 2 {
			t.Fatalf("%d reminders after another hour, want still 2", n)
		}
	})

	t.Run("a restarted scheduler does not remind again", func(t *testing.T) {
		f := newFixture(t)
		ada := f.user(t, "ada")
		f.schedule(t, ada, 5*time.Minute, nil)
		s := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		_, err := s.Tick(t.Context())
		must(t, err)
		again := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		next, err := again.Tick(t.Context())
		must(t, err)
		if n := len(f.notes.of(notify.KindEventReminder)); n != 1 {
			t.Fatalf("%d reminders, want 1", n)
		}
		if !next.IsZero() {
			t.Fatalf("next = %v, want none", next)
		}
	})

	t.Run("a scheduled event wakes a sleeping scheduler", func(t *testing.T) {
		f := newFixture(t)
		ada := f.user(t, "ada")
		s := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		f.events = event.NewService(event.Options{Store: f.db, Graph: f.db, Clubs: f.clubs, Notifier: f.notes,
			Rooms: f.rooms, Now: f.clock.Now, Wake: s.Wake})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		if d := within(t, f.clock.waiting, "the idle scheduler"); d != event.DefaultIdle {
			t.Fatalf("an idle scheduler sleeps %v, want %v", d, event.DefaultIdle)
		}
		f.schedule(t, ada, 5*time.Minute, nil)
		within(t, f.notes.sent, "the reminder of the new event")
	})

	t.Run("a moved event is reminded again before its new start", func(t *testing.T) {
		f := newFixture(t)
		ada := f.user(t, "ada")
		e := f.schedule(t, ada, 5*time.Minute, nil)
		s := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		_, err := s.Tick(t.Context())
		must(t, err)
		_, err = f.events.Update(t.Context(), ada.ID, e.ID, event.Details{Title: e.Title, StartsAt: t0.Add(2 * time.Hour)})
		must(t, err)
		next, err := s.Tick(t.Context())
		must(t, err)
		if want := t0.Add(2*time.Hour - event.DefaultLead); !next.Equal(want) {
			t.Fatalf("next = %v, want %v", next, want)
		}
		f.clock.Advance(2*time.Hour - event.DefaultLead)
		_, err = s.Tick(t.Context())
		must(t, err)
		if n := len(f.notes.of(notify.KindEventReminder)); n != 2 {
			t.Fatalf("%d reminders, want 2 (one per start)", n)
		}
	})

	t.Run("cancelled, started and long-past events are not reminded", func(t *testing.T) {
		f := newFixture(t)
		ada := f.user(t, "ada")
		cancelled := f.schedule(t, ada, 5*time.Minute, nil)
		_, err := f.events.Cancel(t.Context(), ada.ID, cancelled.ID)
		must(t, err)
		started := f.schedule(t, ada, 5*time.Minute, nil)
		_, err = f.events.Start(t.Context(), ada.ID, started.ID)
		must(t, err)
		f.schedule(t, ada, time.Minute, nil)
		f.clock.Advance(time.Minute + event.DefaultLate) // the server was down at the start
		s := event.NewScheduler(f.events, event.SchedulerOptions{Clock: f.clock})
		_, err = s.Tick(t.Context())
		must(t, err)
		if got := f.notes.of(notify.KindEventReminder); len(got) != 0 {
			t.Fatalf("reminded %v, want nobody", got)
		}
	})
}
