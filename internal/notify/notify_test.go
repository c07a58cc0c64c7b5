package notify_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/notify"
)

// memStore keeps muted kinds in memory.
type memStore struct {
	mu    sync.Mutex
	muted map[string][]string
}

func (m *memStore) MutedKinds(_ context.Context, user string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.muted[user]), nil
}

func (m *memStore) SetMutedKinds(_ context.Context, user string, kinds []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.muted[user] = slices.Clone(kinds)
	return nil
}

type sent struct{ user, kind string }

func newGate(perHour int, now *time.Time) (*notify.Service, *[]sent) {
	var out []sent
	g := notify.New(notify.Options{
		Store: &memStore{muted: map[string][]string{}},
		Sender: notify.SenderFunc(func(_ context.Context, user, kind string, _ any) error {
			out = append(out, sent{user, kind})
			return nil
		}),
		PingsPerHour: perHour,
		Now:          func() time.Time { return *now },
	})
	return g, &out
}

func TestGate(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("a muted kind is dropped without an error, others are delivered", func(t *testing.T) {
		now := t0
		g, out := newGate(0, &now)
		if _, err := g.SetMuted(t.Context(), "ada", []string{notify.KindEventReminder}); err != nil {
			t.Fatal(err)
		}
		if err := g.Notify(t.Context(), "ada", notify.KindEventReminder, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := g.Notify(t.Context(), "ada", notify.KindEventLive, "", nil); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(*out, []sent{{"ada", notify.KindEventLive}}) {
			t.Fatalf("sent %v", *out)
		}
		if err := g.Allow(t.Context(), "ada", notify.KindEventReminder, ""); !errors.Is(err, notify.ErrMuted) {
			t.Fatalf("Allow = %v, want ErrMuted", err)
		}
	})

	t.Run("pings are capped per sender per hour, whoever receives them", func(t *testing.T) {
		now := t0
		g, out := newGate(3, &now)
		for i, to := range []string{"a", "b", "c"} {
			now = t0.Add(time.Duration(i) * time.Minute)
			if err := g.Notify(t.Context(), to, notify.KindPing, "eve", nil); err != nil {
				t.Fatalf("ping %d: %v", i, err)
			}
		}
		if err := g.Notify(t.Context(), "d", notify.KindPing, "eve", nil); !errors.Is(err, notify.ErrPingLimit) {
			t.Fatalf("fourth ping: %v, want ErrPingLimit", err)
		}
		if err := g.Notify(t.Context(), "d", notify.KindPing, "bob", nil); err != nil {
			t.Fatalf("another sender's ping: %v", err)
		}
		now = t0.Add(time.Hour) // the first ping is an hour old
		if err := g.Notify(t.Context(), "d", notify.KindPing, "eve", nil); err != nil {
			t.Fatalf("ping an hour later: %v", err)
		}
		if err := g.Notify(t.Context(), "e", notify.KindPing, "eve", nil); !errors.Is(err, notify.ErrPingLimit) {
			t.Fatalf("ping over the cap again: %v", err)
		}
		if len(*out) != 5 {
			t.Fatalf("%d sent, want 5", len(*out))
		}
	})

	t.Run("unknown kinds cannot be muted", func(t *testing.T) {
		now := t0
		g, _ := newGate(0, &now)
		if _, err := g.SetMuted(t.Context(), "ada", []string{"spam"}); !errors.Is(err, notify.ErrUnknownKind) {
			t.Fatalf("SetMuted = %v, want ErrUnknownKind", err)
		}
	})
}
