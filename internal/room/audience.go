package room

import (
	"cmp"
	"slices"

	"github.com/townhall/townhall/internal/errcode"
)

// A room of a million listeners must not walk, sort or copy a million entries
// for anything it does often: a snapshot (one for every join) lists the first
// listeners, the raised hands and the pending invitations to speak, and the
// saved state keeps the stage, the hands and the invitations. So the room keeps
// the audience in the order it came, in a list threaded through its members, and
// the hands and invitations in tables of their own.

// audienceList is the listeners in the order they entered the audience.
type audienceList struct {
	head, tail *member
}

// push puts m, in no list, last.
func (l *audienceList) push(m *member) {
	m.prev, m.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = m
	} else {
		l.head = m
	}
	l.tail = m
}

// remove takes m out of the list; m in no list is left alone.
func (l *audienceList) remove(m *member) {
	if m.prev == nil && l.head != m {
		return
	}
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		l.head = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		l.tail = m.prev
	}
	m.prev, m.next = nil, nil
}

// relinkAudience rebuilds the list from the listeners present, in the order of
// their arrival ticks (Load).
func (r *Room) relinkAudience() {
	var ls []*member
	for _, m := range r.people {
		if m.role == Listener {
			ls = append(ls, m)
		}
	}
	slices.SortFunc(ls, func(a, b *member) int { return cmp.Compare(a.inAud, b.inAud) })
	r.audience = audienceList{}
	for _, m := range ls {
		r.audience.push(m)
	}
}

// setHand sets m's hand tick (0: down) and keeps the hands' table.
func (r *Room) setHand(m *member, tick uint64) { mark(r.hands, m, &m.hand, tick) }

// setInvited sets the tick of m's pending invitation to speak (0: none) and keeps
// the invitations' table.
func (r *Room) setInvited(m *member, tick uint64) { mark(r.speakInvites, m, &m.invited, tick) }

// mark sets one of m's ticks, *field, and keeps m in table t while it is not 0.
func mark(t map[string]*member, m *member, field *uint64, tick uint64) {
	*field = tick
	if tick != 0 {
		t[m.id] = m
	} else {
		delete(t, m.id)
	}
}

// byTick returns the members of t ordered by tick.
func byTick(t map[string]*member, tick func(*member) uint64) []*member {
	out := make([]*member, 0, len(t))
	for _, m := range t {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *member) int { return cmp.Compare(tick(a), tick(b)) })
	return out
}

// ErrAudienceCursor refuses a page of the audience after someone no longer in it.
var ErrAudienceCursor = errcode.New(errcode.Conflict, "the listener to page after is no longer in the audience: start again from the first page")

// AudiencePage lists at most n (> 0) listeners in the order they came, after the
// listener after ("" for the first page), and says whether more follow. It costs
// n, however big the audience. A listener who went on stage and came back is
// after everyone who was there before.
func (r *Room) AudiencePage(after string, n int) ([]Participant, bool, error) {
	m := r.audience.head
	if after != "" {
		a, ok := r.people[after]
		if !ok || a.role != Listener {
			return nil, false, ErrAudienceCursor
		}
		m = a.next
	}
	out := []Participant{}
	for ; m != nil && len(out) < n; m = m.next {
		out = append(out, m.participant())
	}
	return out, m != nil, nil
}
