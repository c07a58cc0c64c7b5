package sfu

import (
	"testing"
	"time"
)

// room is a selector with members, driven by a fake clock in 200 ms ticks.
type room struct {
	t       *testing.T
	sel     selector
	members []*member
	byID    map[string]*member
	now     int64
	levels  map[string]int // RFC 6464 level each member speaks at; -1 = not sending
}

func newRoom(t *testing.T, k int, levels map[string]int) *room {
	r := &room{t: t, sel: newSelector(k), byID: map[string]*member{}, levels: levels, now: 1}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		if _, ok := levels[id]; !ok {
			continue
		}
		m := newMember(id)
		m.allowed.Store(true)
		m.attached.Store(true)
		r.members = append(r.members, m)
		r.byID[id] = m
	}
	return r
}

// tick advances the clock by one re-rank interval, feeding every sending member's
// meter a settled level, and re-ranks.
func (r *room) tick() int {
	r.now += int64(rerankInterval)
	for _, m := range r.members {
		if l := r.levels[m.id]; l >= 0 {
			m.meter.loud.Store(int32(127-l) << loudShift)
			m.meter.heard.Store(r.now)
		}
	}
	return r.sel.rerank(r.now, r.members)
}

// run ticks for d.
func (r *room) run(d time.Duration) (switches int) {
	for i := time.Duration(0); i < d; i += rerankInterval {
		switches += r.tick()
	}
	return switches
}

// slots returns the occupants' IDs, "-" for a free slot, and the alternate.
func (r *room) slots() (string, string) {
	var s string
	for _, m := range r.sel.slots {
		if m == nil {
			s += "-"
		} else {
			s += m.id
		}
	}
	alt := "-"
	if r.sel.alt != nil {
		alt = r.sel.alt.id
	}
	return s, alt
}

func (r *room) want(slots, alt string) {
	r.t.Helper()
	if s, a := r.slots(); s != slots || a != alt {
		r.t.Fatalf("slots %q alternate %q, want %q %q", s, a, slots, alt)
	}
	for i, m := range r.sel.slots {
		if m != nil && m.sel.slot != i {
			r.t.Fatalf("%s is in slot %d but believes it is in %d", m.id, i, m.sel.slot)
		}
	}
	for _, m := range r.members {
		if m.sel.alt != (m == r.sel.alt) {
			r.t.Fatalf("%s: alt flag %v", m.id, m.sel.alt)
		}
	}
}

func TestSelectorFillsFreeSlotsWithTheLoudest(t *testing.T) {
	r := newRoom(t, 3, map[string]int{"a": 50, "b": 20, "c": 40, "d": 10, "e": 30})
	if n := r.tick(); n != 3 {
		t.Errorf("%d switches filling three slots", n)
	}
	r.want("dbe", "c")
	if n := r.run(5 * time.Second); n != 0 {
		t.Errorf("%d switches with steady levels", n)
	}
	r.want("dbe", "c")
}

func TestSelectorIgnoresWhoMayNotBeHeard(t *testing.T) {
	r := newRoom(t, 2, map[string]int{"a": 10, "b": 20, "c": 30})
	r.byID["a"].allowed.Store(false)
	r.tick()
	r.want("bc", "-")
	r.byID["b"].attached.Store(false) // its Peer left
	r.tick()
	r.want("-c", "-")
}

func TestSelectorHysteresis(t *testing.T) {
	t.Run("a challenger within the margin never takes a slot", func(t *testing.T) {
		r := newRoom(t, 2, map[string]int{"a": 20, "b": 30, "c": 40})
		r.tick()
		r.want("ab", "c")
		r.levels["c"] = 26 // 4 dB louder than b: under the margin
		if n := r.run(5 * time.Second); n != 0 {
			t.Errorf("%d switches", n)
		}
		r.want("ab", "c")
	})
	t.Run("a louder challenger waits for the hold, then takes the quietest's slot", func(t *testing.T) {
		r := newRoom(t, 3, map[string]int{"a": 20, "b": 30, "c": 25, "d": 60})
		r.tick()
		r.want("acb", "d")
		r.levels["d"] = 10
		for i := time.Duration(0); i+rerankInterval < switchHold; i += rerankInterval {
			r.tick()
			r.want("acb", "d")
		}
		r.run(2 * rerankInterval)
		r.want("acd", "b") // b was the quietest; a and c keep their slots
	})
	t.Run("a challenge that stops is forgotten", func(t *testing.T) {
		r := newRoom(t, 1, map[string]int{"a": 30, "b": 60})
		r.tick()
		r.levels["b"] = 10
		r.tick()
		r.levels["b"] = 60
		r.tick()
		r.levels["b"] = 10
		r.tick()
		r.want("a", "b")
	})
	t.Run("an occupant silent for a second loses its slot to anyone audible", func(t *testing.T) {
		r := newRoom(t, 2, map[string]int{"a": 10, "b": 20, "c": 100})
		r.tick()
		r.want("ab", "c")
		r.levels["a"] = -1 // stops sending: DTX, or the microphone was turned off
		r.run(silentAfter - rerankInterval)
		r.want("ab", "c")
		r.run(2 * rerankInterval)
		r.want("cb", "-")
	})
}

func TestSelectorAlternate(t *testing.T) {
	r := newRoom(t, 2, map[string]int{"a": 10, "b": 20, "c": 40, "d": 43})
	r.tick()
	r.want("ab", "c")
	r.levels["d"] = 38 // 2 dB louder: the alternate stays
	r.run(2 * time.Second)
	r.want("ab", "c")
	r.levels["d"] = 20
	r.run(time.Second)
	r.want("ab", "d")
	r.byID["a"].allowed.Store(false) // muted: d moves up, c becomes the alternate
	r.tick()
	r.want("db", "c")
}
