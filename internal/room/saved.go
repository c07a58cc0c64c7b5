package room

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Saved is the part of a room's state that outlives the process running it: what
// another node needs to go on with the room when its owner is gone (its config,
// state, hand policy and moderation, the stage, the listeners with a raised hand
// or a pending invitation to speak, the invitations to join, the removals and the
// relations among the people kept). The rest of the audience is left out: a
// listener comes back by joining again, as a listener. It encodes to JSON.
type Saved struct {
	Config       Config
	State        State
	Policy       HandPolicy
	Seq          uint64
	Tick         uint64
	GuestsClosed bool          `json:",omitempty"`
	Recording    *bool         `json:",omitempty"` // nil: as Config.Record says
	LiveCaptions bool          `json:",omitempty"`
	Members      []SavedMember // the people kept, present again after Load
	Removed      []string      `json:",omitempty"`
	Barred       []string      `json:",omitempty"` // "b:" browser or "a:" address
	Invites      []SavedInvite `json:",omitempty"`
	Follows      [][2]string   `json:",omitempty"` // from, to: among Members
	Blocks       [][2]string   `json:",omitempty"`
	// The backchannel's settings.
	Chat        ChatMode `json:",omitempty"`
	SlowSeconds int      `json:",omitempty"`
	ChatMuted   []string `json:",omitempty"`
	Pinned      string   `json:",omitempty"`
	NoReactions bool     `json:",omitempty"`
}

// SavedMember is one person kept in a Saved room.
type SavedMember struct {
	ID      string
	Guest   bool      `json:",omitempty"`
	Browser string    `json:",omitempty"`
	Addr    string    `json:",omitempty"`
	Role    Role      // speaker or moderator on stage; listener in the audience
	Muted   bool      `json:",omitempty"`
	Held    bool      `json:",omitempty"`
	Since   time.Time `json:",omitzero"`
	OnStage uint64    `json:",omitempty"` // the ticks of member
	InAud   uint64    `json:",omitempty"`
	Hand    uint64    `json:",omitempty"`
	Invited uint64    `json:",omitempty"`
}

// SavedInvite is a pending InviteMembers invitation.
type SavedInvite struct {
	UserID  string
	ToStage bool `json:",omitempty"`
}

// ErrBadSaved refuses a Saved room that is not one a Room could have saved.
var ErrBadSaved = errors.New("room: the saved state is inconsistent")

// Save returns the room's lasting state. Equal rooms save equal values: lists are
// sorted.
func (r *Room) Save() Saved {
	recording := r.recording
	s := Saved{Config: r.cfg, State: r.state, Policy: r.policy, Seq: r.seq, Tick: r.tick, GuestsClosed: r.guestsClosed,
		Recording: &recording, LiveCaptions: r.liveCaptions}
	kept := map[string]bool{}
	for _, m := range r.keptMembers() {
		if kept[m.id] {
			continue
		}
		kept[m.id] = true
		s.Members = append(s.Members, SavedMember{ID: m.id, Guest: m.guest, Browser: m.browser, Addr: m.addr,
			Role: m.role, Muted: m.muted, Held: m.held, Since: m.since, OnStage: m.onStage, InAud: m.inAud,
			Hand: m.hand, Invited: m.invited})
	}
	slices.SortFunc(s.Members, func(a, b SavedMember) int { return cmp.Compare(a.ID, b.ID) })
	for id := range r.removed {
		s.Removed = append(s.Removed, id)
	}
	for k := range r.barred {
		s.Barred = append(s.Barred, k)
	}
	for id, inv := range r.invites {
		s.Invites = append(s.Invites, SavedInvite{UserID: id, ToStage: inv.toStage})
	}
	slices.Sort(s.Removed)
	slices.Sort(s.Barred)
	slices.SortFunc(s.Invites, func(a, b SavedInvite) int { return cmp.Compare(a.UserID, b.UserID) })
	s.Follows = keptEdges(r.follows, kept)
	s.Blocks = keptEdges(r.blocks, kept)
	s.Chat, s.SlowSeconds, s.ChatMuted, s.Pinned, s.NoReactions = r.bc.chat, r.bc.slow, r.ChatMutedIDs(), r.bc.pinned, r.bc.noReactions
	if len(s.ChatMuted) == 0 {
		s.ChatMuted = nil
	}
	return s
}

// keptEdges lists the edges of e between kept people, sorted.
func keptEdges(e edges, kept map[string]bool) [][2]string {
	var out [][2]string
	for from, tos := range e.out {
		if !kept[from] {
			continue
		}
		for to := range tos {
			if kept[to] {
				out = append(out, [2]string{from, to})
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	return out
}

// Load returns the room s describes, with everyone it kept present again. It
// checks that s is a state a Room could have saved: a valid config, a live or
// waiting room, people once each in a role that fits their ticks, relations
// among them, and in a live room someone on stage with a moderator among them.
func Load(s Saved) (*Room, error) {
	if err := s.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSaved, err)
	}
	if s.State != StateLive && s.State != StateWaiting || !s.Policy.valid() {
		return nil, fmt.Errorf("%w: state %q, hand policy %q", ErrBadSaved, s.State, s.Policy)
	}
	r := New(s.Config)
	r.state, r.policy, r.seq, r.tick, r.guestsClosed = s.State, s.Policy, s.Seq, s.Tick, s.GuestsClosed
	if s.Recording != nil {
		r.recording = *s.Recording
	}
	r.liveCaptions = s.LiveCaptions && s.State == StateLive
	for _, sm := range s.Members {
		if err := r.loadMember(sm); err != nil {
			return nil, err
		}
	}
	r.relinkAudience()
	for _, id := range s.Removed {
		if _, present := r.people[id]; present || id == "" {
			return nil, fmt.Errorf("%w: %q is removed and present", ErrBadSaved, id)
		}
		r.removed[id] = struct{}{}
	}
	for _, k := range s.Barred {
		r.barred[k] = struct{}{}
	}
	r.invites = map[string]memberInvite{} // New put Config.Speakers in; s has them as they stand now
	for _, inv := range s.Invites {
		r.invites[inv.UserID] = memberInvite{toStage: inv.ToStage}
	}
	for _, list := range []struct {
		pairs [][2]string
		e     edges
	}{{s.Follows, r.follows}, {s.Blocks, r.blocks}} {
		for _, p := range list.pairs {
			if r.people[p[0]] == nil || r.people[p[1]] == nil || p[0] == p[1] {
				return nil, fmt.Errorf("%w: a relation %v of people not kept", ErrBadSaved, p)
			}
			list.e.add(p[0], p[1])
		}
	}
	if s.Chat != "" {
		if !s.Chat.valid() || s.SlowSeconds < 0 || s.SlowSeconds > MaxSlowSeconds || s.Pinned != "" && !validLink(s.Pinned) {
			return nil, fmt.Errorf("%w: chat settings", ErrBadSaved)
		}
		r.bc.chat, r.bc.slow, r.bc.pinned = s.Chat, s.SlowSeconds, s.Pinned
	}
	r.bc.noReactions = s.NoReactions
	for _, id := range s.ChatMuted {
		r.bc.chatMuted[id] = struct{}{}
	}
	if r.state == StateLive && r.moderators() == 0 {
		return nil, fmt.Errorf("%w: a live room without a moderator on stage", ErrBadSaved)
	}
	if r.state == StateWaiting && len(r.people) > 0 {
		return nil, fmt.Errorf("%w: people in a room that was never opened", ErrBadSaved)
	}
	return r, nil
}

// loadMember puts one kept person back, checking that their fields agree.
func (r *Room) loadMember(sm SavedMember) error {
	bad := func(why string) error { return fmt.Errorf("%w: %s: %s", ErrBadSaved, sm.ID, why) }
	if _, dup := r.people[sm.ID]; dup || sm.ID == "" {
		return bad("twice, or no ID")
	}
	m := &member{id: sm.ID, guest: sm.Guest, browser: sm.Browser, addr: sm.Addr, role: sm.Role, muted: sm.Muted,
		held: sm.Held, since: sm.Since, onStage: sm.OnStage, inAud: sm.InAud, hand: sm.Hand, invited: sm.Invited}
	for _, tick := range []uint64{m.onStage, m.inAud, m.hand, m.invited} {
		if tick > r.tick {
			return bad("a tick from the future")
		}
	}
	switch m.role {
	case Speaker, Moderator:
		if m.onStage == 0 || m.inAud != 0 || m.hand != 0 || m.invited != 0 || m.guest || m.held && !m.muted {
			return bad("on stage with an audience's marks")
		}
		r.stage[m.id] = m
	case Listener:
		if m.inAud == 0 || m.onStage != 0 || m.muted || m.held || m.hand == 0 && m.invited == 0 || m.guest && (m.hand != 0 || m.invited != 0) {
			return bad("a listener kept without a hand or an invitation")
		}
	default:
		return bad("an unknown role")
	}
	r.people[m.id] = m
	if m.hand != 0 {
		r.hands[m.id] = m
	}
	if m.invited != 0 {
		r.speakInvites[m.id] = m
	}
	if m.guest {
		r.guests++
		if m.addr != "" {
			r.guestAddrs[m.addr]++
		}
	}
	return nil
}

// keptMembers are the people the saved state keeps: the stage, and the listeners
// with a raised hand or a pending invitation to speak (some twice), without a
// walk over the audience.
func (r *Room) keptMembers() []*member {
	out := make([]*member, 0, len(r.stage)+len(r.hands)+len(r.speakInvites))
	for _, t := range []map[string]*member{r.stage, r.hands, r.speakInvites} {
		for _, m := range t {
			out = append(out, m)
		}
	}
	return out
}
