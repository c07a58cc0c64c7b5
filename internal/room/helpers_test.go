package room_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// id makes a user ID of the shape ids.New makes, readable in failures.
func id(name string) string { return name + strings.Repeat("x", 26-len(name)) }

// The people of the rule tests. creator made the room.
var (
	creator = id("creator")
	ann     = id("ann")
	bob     = id("bob")
	cat     = id("cat")
	dan     = id("dan")
	guest   = id("guest")
	nobody  = id("nobody") // never joins
)

var t0 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

// at returns t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// config returns a valid open room config, changed by tweak if not nil.
func config(tweak func(*room.Config)) room.Config {
	c := room.Config{
		ID:          id("room"),
		Title:       "Late night jazz",
		Description: "Bring your favourite record.",
		Type:        room.Open,
		CreatorID:   creator,
		CreatedAt:   t0,
	}
	if tweak != nil {
		tweak(&c)
	}
	return c
}

// Config tweaks of the rule tests.
var (
	social   = func(c *room.Config) { c.Type = room.Social }
	closed   = func(c *room.Config) { c.Type = room.Closed }
	guests   = func(c *room.Config) { c.AllowGuests = true }
	capacity = func(n int) func(*room.Config) {
		return func(c *room.Config) { c.MaxParticipants = n }
	}
)

// step is one command from one actor.
type step struct {
	actor string
	cmd   room.Command
}

func (s step) String() string { return fmt.Sprintf("%.6s %T%+v", s.actor, s.cmd, s.cmd) }

// by is a step: actor applies cmd.
func by(actor string, cmd room.Command) step { return step{actor, cmd} }

// steps concatenates lists of steps.
func steps(parts ...[]step) []step { return slices.Concat(parts...) }

// opened is the creator's first join, which opens the room.
var opened = []step{by(creator, room.Join{Now: at(0)})}

// listener has u join as a plain signed-in listener.
func listener(u string) []step { return []step{by(u, room.Join{Now: at(1)})} }

// speaker has u join and come on stage at minute n through an invitation to speak.
func speaker(u string, n int) []step {
	return []step{
		by(u, room.Join{Now: at(n)}),
		by(creator, room.InviteToSpeak{Target: u}),
		by(u, room.AcceptSpeak{Now: at(n)}),
	}
}

// joinWith has u join with relations rel.
func joinWith(u string, rel room.Relations) step { return by(u, room.Join{Rel: rel, Now: at(1)}) }

// newRoom makes a room for the config tweak and applies the given steps, each of
// which must succeed.
func newRoom(t *testing.T, tweak func(*room.Config), given []step) *room.Room {
	t.Helper()
	r := room.New(config(tweak))
	for i, s := range given {
		if _, err := r.Apply(s.actor, s.cmd); err != nil {
			t.Fatalf("given step %d (%v): got error %v, want none", i, s, err)
		}
	}
	return r
}

// kinds lists the kinds of events.
func kinds(events []room.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Kind())
	}
	return out
}

// mustRefuse applies s to r and checks that it fails with want, emits nothing and
// leaves the room as it was.
func mustRefuse(t *testing.T, r *room.Room, s step, want error) {
	t.Helper()
	before := r.Snapshot()
	events, err := r.Apply(s.actor, s.cmd)
	if !errors.Is(err, want) {
		t.Fatalf("%v: got error %v, want %v", s, err, want)
	}
	if len(events) != 0 {
		t.Errorf("%v: refused, yet got events %v, want none", s, kinds(events))
	}
	if after := r.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("%v: refused, yet the room changed:\nbefore %+v\nafter  %+v", s, before, after)
	}
}

// mustApply applies s to r, checks that it succeeds with events of the kinds want,
// and returns the events.
func mustApply(t *testing.T, r *room.Room, s step, want ...string) []room.Event {
	t.Helper()
	events, err := r.Apply(s.actor, s.cmd)
	if err != nil {
		t.Fatalf("%v: got error %v, want none", s, err)
	}
	if got := kinds(events); !slices.Equal(got, want) {
		t.Errorf("%v: got events %v, want %v", s, got, want)
	}
	return events
}

// participant returns u, who must be present.
func participant(t *testing.T, r *room.Room, u string) room.Participant {
	t.Helper()
	p, ok := r.Participant(u)
	if !ok {
		t.Fatalf("%.6s is not in the room, want present", u)
	}
	return p
}

// wantRole checks u's role.
func wantRole(t *testing.T, r *room.Room, u string, want room.Role) {
	t.Helper()
	if got := participant(t, r, u).Role; got != want {
		t.Errorf("%.6s: got role %s, want %s", u, got, want)
	}
}

// wantAbsent checks that u is not in the room.
func wantAbsent(t *testing.T, r *room.Room, u string) {
	t.Helper()
	if _, ok := r.Participant(u); ok {
		t.Errorf("%.6s is in the room, want absent", u)
	}
}

// wantEqual checks got == want for comparable values.
func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
