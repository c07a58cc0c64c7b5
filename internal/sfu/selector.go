package sfu

import (
	"cmp"
	"slices"
	"time"
)

// Slot selection constants.
const (
	// rerankInterval is how often the slots are re-ranked and OnActive is called.
	rerankInterval = 200 * time.Millisecond
	// audibleFloor is the smoothed loudness under which a speaker counts as silent:
	// -120 dBov. Quieter speakers never enter a slot.
	audibleFloor = int32(127-120) << loudShift
	// switchMargin is how much louder than the quietest occupant a challenger must be
	// to take its slot...
	switchMargin = int32(6) << loudShift
	// ...and switchHold is for how long, without a break, so that slots do not flap.
	switchHold = 500 * time.Millisecond
	// silentAfter is how long an occupant may stay silent before any audible
	// challenger takes its slot at once, however quiet.
	silentAfter = time.Second
	// kickSpacing limits how often one speaker asks for an early re-rank.
	kickSpacing = 50 * time.Millisecond
)

// selState is the selector's view of one member, guarded by Forwarder.assignMu.
type selState struct {
	slot     int  // index of the main slot this member occupies, -1 if none
	alt      bool // the member is the (K+1)-th speaker, heard by occupants in their own slot
	loud     int32
	audible  bool
	lastLoud int64 // forwarder clock of the last re-rank that found it audible, 0 = never

	challengeSince int64 // start of its challenge for a main slot, valid if challenging
	challenging    bool
	altSince       int64 // start of its challenge for the alternate, valid if altChallenging
	altChallenging bool
}

// selector assigns speakers to K fixed slots with hysteresis. A speaker in a slot
// keeps that same slot until it leaves, is no longer allowed, or a challenger beats
// it: free slots are filled at once with the loudest audible speakers; a challenger
// then takes the quietest occupant's slot if it has been louder by switchMargin for
// switchHold, or at once if that occupant has been silent for silentAfter.
//
// Next to the K slots it keeps an alternate, the loudest other speaker (with the same
// hysteresis), which an occupant hears in its own slot instead of itself.
//
// The selector is guarded by Forwarder.assignMu.
type selector struct {
	slots []*member // len K; nil = free
	alt   *member
	prev  []*member // scratch: slots before this re-rank
	cands []*member // scratch: audible non-occupants, loudest first
}

func newSelector(k int) selector {
	return selector{slots: make([]*member, k), prev: make([]*member, k)}
}

// selectable says whether m may be in a slot at all: allowed, and its peer
// attached, or its audio relayed from an edge.
func selectable(m *member) bool { return m.allowed.Load() && (m.attached.Load() || m.remote.Load()) }

// rerank updates the assignment at time now (forwarder clock, ns) from the members'
// level meters, and returns how many slots changed to a new speaker.
func (s *selector) rerank(now int64, members []*member) (switches int) {
	copy(s.prev, s.slots)
	for _, m := range members {
		st := &m.sel
		st.loud, st.audible = 0, false
		if selectable(m) {
			loud, fresh := m.meter.read(now)
			st.loud, st.audible = loud, fresh && loud >= audibleFloor
		}
		if st.audible {
			st.lastLoud = now
		}
	}
	for i, occ := range s.slots {
		if occ != nil && !selectable(occ) {
			s.slots[i] = nil
		}
	}
	if s.alt != nil && !selectable(s.alt) {
		s.alt = nil
	}

	cands := s.candidates(members)
	for i := range s.slots {
		if s.slots[i] == nil && len(cands) > 0 {
			s.slots[i], cands = cands[0], cands[1:]
		}
	}
	for _, c := range cands {
		i := s.weakest(now)
		occ := s.slots[i]
		switch {
		case now-occ.sel.lastLoud >= int64(silentAfter):
		case c.sel.loud >= occ.sel.loud+switchMargin:
			if !c.sel.challenging {
				c.sel.challenging, c.sel.challengeSince = true, now
			}
			if now-c.sel.challengeSince < int64(switchHold) {
				continue
			}
		default:
			c.sel.challenging = false
			continue
		}
		s.slots[i] = c
	}

	for _, m := range s.prev {
		if m != nil {
			m.sel.slot = -1
		}
	}
	for i, m := range s.slots {
		if m == nil {
			continue
		}
		m.sel.slot, m.sel.challenging = i, false
		if m != s.prev[i] {
			switches++
		}
	}
	s.rerankAlt(now, s.candidates(members))
	return switches
}

// claimFree puts m, audible now (loud) and in no slot, into the first free main
// slot at once, so that a speaker who starts while a slot is free loses no packet
// to the wait for the next re-rank. It says whether it did.
func (s *selector) claimFree(m *member, loud int32, now int64) bool {
	if m.sel.slot >= 0 || m.sel.alt || !selectable(m) {
		return false
	}
	for i, occ := range s.slots {
		if occ == nil {
			s.slots[i] = m
			m.sel.slot, m.sel.challenging = i, false
			m.sel.loud, m.sel.audible, m.sel.lastLoud = loud, true, now
			return true
		}
	}
	return false
}

// candidates returns the audible members outside the main slots, loudest first,
// and resets the challenge of everyone else.
func (s *selector) candidates(members []*member) []*member {
	c := s.cands[:0]
	for _, m := range members {
		if m.sel.audible && !s.occupies(m) {
			c = append(c, m)
			continue
		}
		m.sel.challenging = false
	}
	slices.SortFunc(c, func(a, b *member) int {
		if d := cmp.Compare(b.sel.loud, a.sel.loud); d != 0 {
			return d
		}
		return cmp.Compare(a.id, b.id) // ties: a stable, deterministic order
	})
	s.cands = c
	return c
}

// occupies says whether m is in a main slot of the assignment being built.
func (s *selector) occupies(m *member) bool {
	return slices.Contains(s.slots, m)
}

// weakest returns the index of the occupant to challenge: one silent for silentAfter
// if any, else the quietest. All slots are occupied when it is called.
func (s *selector) weakest(now int64) int {
	w := 0
	for i := 1; i < len(s.slots); i++ {
		if weaker(s.slots[i], s.slots[w], now) {
			w = i
		}
	}
	return w
}

// weaker orders occupants for weakest: long-silent first, then quieter, then the one
// heard least recently.
func weaker(a, b *member, now int64) bool {
	as, bs := now-a.sel.lastLoud >= int64(silentAfter), now-b.sel.lastLoud >= int64(silentAfter)
	if as != bs {
		return as
	}
	if a.sel.loud != b.sel.loud {
		return a.sel.loud < b.sel.loud
	}
	return a.sel.lastLoud < b.sel.lastLoud
}

// rerankAlt picks the alternate among the audible non-occupants (cands, loudest
// first), with the same hysteresis as the main slots.
func (s *selector) rerankAlt(now int64, cands []*member) {
	if s.alt != nil {
		s.alt.sel.alt = false
		if s.occupies(s.alt) {
			s.alt = nil
		}
	}
	var best *member
	for _, c := range cands {
		if c != s.alt {
			best = c
			break
		}
	}
	switch {
	case best == nil:
	case s.alt == nil, now-s.alt.sel.lastLoud >= int64(silentAfter):
		s.alt = best
	case best.sel.loud >= s.alt.sel.loud+switchMargin:
		if !best.sel.altChallenging {
			best.sel.altChallenging, best.sel.altSince = true, now
		}
		if now-best.sel.altSince >= int64(switchHold) {
			s.alt = best
		}
	default:
		best.sel.altChallenging = false
	}
	for _, c := range cands {
		if c != best {
			c.sel.altChallenging = false
		}
	}
	if s.alt != nil {
		s.alt.sel.alt, s.alt.sel.altChallenging = true, false
	}
}

// view returns the assignment as the general audience sees it, for OnActive.
func (s *selector) view() []SlotState {
	out := make([]SlotState, len(s.slots))
	for i, m := range s.slots {
		out[i] = SlotState{Slot: i, Level: 127}
		if m == nil {
			continue
		}
		out[i].ParticipantID = m.id
		out[i].Speaking = m.sel.audible
		if m.sel.audible {
			out[i].Level = loudToLevel(m.sel.loud)
		}
	}
	return out
}
