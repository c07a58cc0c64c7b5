package event_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/store/storetest"
)

// t0 is the tests' start of time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan time.Duration // each After call, with its duration
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock { return &fakeClock{now: t0, waiting: make(chan time.Duration, 100)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	}
	c.waiting <- d
	return ch
}

// Advance moves the clock and fires the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// notice is one notification a test's notifier received.
type notice struct {
	user, kind, sender string
	data               event.Notice
}

// notifier records notices and signals each one.
type notifier struct {
	mu   sync.Mutex
	list []notice
	sent chan notice
}

func newNotifier() *notifier { return &notifier{sent: make(chan notice, 100)} }

func (n *notifier) Notify(_ context.Context, user, kind, sender string, data any) error {
	d, _ := data.(event.Notice)
	x := notice{user, kind, sender, d}
	n.mu.Lock()
	n.list = append(n.list, x)
	n.mu.Unlock()
	n.sent <- x
	return nil
}

// of lists the users who got notices of kind, in order.
func (n *notifier) of(kind string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.list {
		if x.kind == kind {
			out = append(out, x.user)
		}
	}
	return out
}

// starter opens rooms as pure state machines, so tests can join them.
type starter struct {
	rooms map[string]*room.Room
}

func (s *starter) StartRoom(_ context.Context, creator string, cfg room.Config) (string, error) {
	cfg.ID, cfg.CreatorID = ids.New(), creator
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	s.rooms[cfg.ID] = room.New(cfg)
	return cfg.ID, nil
}

// fixture is an event service over a real SQLite store with a fake clock.
type fixture struct {
	db     *store.DB
	clock  *fakeClock
	notes  *notifier
	rooms  *starter
	events *event.Service
	clubs  *club.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{db: storetest.Open(t, store.SQLite), clock: newClock(), notes: newNotifier(),
		rooms: &starter{rooms: map[string]*room.Room{}}}
	f.clubs = club.NewService(club.Options{Store: f.db, Now: f.clock.Now})
	f.events = event.NewService(event.Options{Store: f.db, Graph: f.db, Clubs: f.clubs, Notifier: f.notes,
		Rooms: f.rooms, Now: f.clock.Now})
	return f
}

// user creates an account.
func (f *fixture) user(t *testing.T, name string) account.User {
	t.Helper()
	u, err := f.db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: name, DisplayName: name,
		PasswordHash: "x", CreatedAt: t0}, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// schedule creates an event of host starting in after, changed by tweak.
func (f *fixture) schedule(t *testing.T, host account.User, after time.Duration, tweak func(*event.Details)) event.Event {
	t.Helper()
	d := event.Details{Title: "Jazz night", StartsAt: f.clock.Now().Add(after), TimeZone: "Europe/Paris"}
	if tweak != nil {
		tweak(&d)
	}
	e, err := f.events.Create(t.Context(), host.ID, d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
