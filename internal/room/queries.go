package room

import (
	"slices"

	"github.com/townhall/townhall/internal/shrink"
)

// Snapshot is the whole state of a room at one Seq: what a client needs before it
// applies the events that follow. It is a copy; changing it changes no room.
//
// It holds the pending invitations to speak and the raised hands, which only
// their listener and the moderators are told about: cut SpeakInvitations,
// RaisedHands and the listeners' HandRaised before showing it to others.
type Snapshot struct {
	Config     Config
	State      State
	Seq        uint64 // the Seq of the last event; 0 before any
	HandPolicy HandPolicy
	// GuestsAllowed says whether guests may join now (see Room.GuestsAllowed).
	GuestsAllowed bool
	// Recording says whether the room is being recorded now (Room.Recording).
	Recording bool
	// LiveCaptions says whether the live captions are on (Room.LiveCaptions).
	LiveCaptions bool
	// The backchannel: who may write in the chat, the slow mode in seconds, who
	// is muted in chat (for the moderators and themselves only), the pinned link,
	// and whether reactions are on.
	Chat             ChatMode
	SlowSeconds      int
	ChatMuted        []string
	PinnedLink       string
	ReactionsAllowed bool
	// Stage lists the people on stage, longest-serving first.
	Stage []Participant
	// RaisedHands lists the listeners with a raised hand, in the order raised.
	RaisedHands []string
	// SpeakInvitations lists the listeners invited to speak, in invitation order.
	SpeakInvitations []string
	ListenerCount    int
	// Listeners lists the audience, in the order they entered it.
	Listeners []Participant
}

// Snapshot returns the room's whole state.
func (r *Room) Snapshot() Snapshot { return r.SnapshotUpTo(-1) }

// SnapshotUpTo is Snapshot with at most n listeners (all of them if n < 0), the
// first to come: it costs the stage, the hands, the invitations and n, however
// big the audience (audience.go). ListenerCount still counts them all.
func (r *Room) SnapshotUpTo(n int) Snapshot {
	s := Snapshot{
		Config: r.cfg, State: r.state, Seq: r.seq, HandPolicy: r.policy, GuestsAllowed: r.GuestsAllowed(), Recording: r.recording,
		LiveCaptions: r.liveCaptions,
		Chat:         r.bc.chat, SlowSeconds: r.bc.slow, ChatMuted: r.ChatMutedIDs(), PinnedLink: r.bc.pinned,
		ReactionsAllowed: !r.bc.noReactions,
		Stage:            []Participant{}, RaisedHands: []string{}, SpeakInvitations: []string{},
		Listeners: []Participant{},
	}
	for _, m := range r.stageOrder() {
		s.Stage = append(s.Stage, m.participant())
	}
	for _, m := range r.raisedHands() {
		s.RaisedHands = append(s.RaisedHands, m.id)
	}
	for _, m := range byTick(r.speakInvites, func(m *member) uint64 { return m.invited }) {
		s.SpeakInvitations = append(s.SpeakInvitations, m.id)
	}
	for m := r.audience.head; m != nil && n != 0; m = m.next {
		s.Listeners = append(s.Listeners, m.participant())
		n--
	}
	s.ListenerCount = r.ListenerCount()
	return s
}

// Config returns the config the room was made with.
func (r *Room) Config() Config { return r.cfg }

// State returns where the room is in its life.
func (r *Room) State() State { return r.state }

// Ended reports whether the room is over.
func (r *Room) Ended() bool { return r.state == StateEnded }

// Participant returns the participant id, if present.
func (r *Room) Participant(id string) (Participant, bool) {
	m, ok := r.people[id]
	if !ok {
		return Participant{}, false
	}
	return m.participant(), true
}

// Audible reports whether id may be heard now: the room is live and id is on stage,
// as a speaker or a moderator, and not muted. Listeners never are.
func (r *Room) Audible(id string) bool {
	m, ok := r.stage[id]
	return ok && r.state == StateLive && !m.muted
}

// KeptOffStage reports whether id, present, joined the audience although their
// join would have put them on stage (as the creator, a co-host, a stage guest of
// Config.Speakers or the invitee of a moderator's InviteMembers{ToStage: true}),
// because they and someone on stage block one another, one way or the other. It
// holds until they come on stage or leave. The room emits nothing about it (the
// members see a listener join, as for anyone); the layer above tells the joiner
// why, with ErrKeptOffStage, right after their join.
func (r *Room) KeptOffStage(id string) bool {
	m, ok := r.people[id]
	return ok && m.keptOff
}

// IsMember reports whether id belongs to the room's conversation: present, or the
// creator or a co-host, or invited with InviteMembers or as one of the Config's
// Speakers, and not removed. In a closed room these are the only people who may
// learn anything about it.
func (r *Room) IsMember(id string) bool {
	if _, ok := r.removed[id]; ok {
		return false
	}
	if _, ok := r.people[id]; ok {
		return true
	}
	_, invited := r.invites[id]
	return invited || id == r.cfg.CreatorID || r.cfg.isCoHost(id)
}

// ListenerCount returns how many people are in the audience.
func (r *Room) ListenerCount() int { return len(r.people) - len(r.stage) }

// StageUserIDs returns the IDs of the people on stage, longest-serving first.
func (r *Room) StageUserIDs() []string {
	order := r.stageOrder()
	out := make([]string, len(order))
	for i, m := range order {
		out[i] = m.id
	}
	return out
}

// GuestsAllowed reports whether a guest may join now: the room was created to
// allow guests and the moderators have not closed it to them.
func (r *Room) GuestsAllowed() bool { return r.cfg.AllowGuests && !r.guestsClosed }

// Compact lets the room's tables, which keep the size they once had, start small
// again: the layer above calls it after a crowd left. Nothing observable changes.
func (r *Room) Compact() {
	r.people = shrink.Map(r.people)
	r.bc.lastChat = shrink.Map(r.bc.lastChat)
	r.stage = shrink.Map(r.stage)
	r.hands, r.speakInvites = shrink.Map(r.hands), shrink.Map(r.speakInvites)
	r.guestAddrs = shrink.Map(r.guestAddrs)
	r.follows = edges{out: shrink.Map(r.follows.out), in: shrink.Map(r.follows.in)}
	r.blocks = edges{out: shrink.Map(r.blocks.out), in: shrink.Map(r.blocks.in)}
}

// Invited lists, sorted, who InviteMembers (or the Config's Speakers) invited and is
// not removed: members of the conversation whether present or not.
func (r *Room) Invited() []string {
	out := make([]string, 0, len(r.invites))
	for id := range r.invites {
		if _, removed := r.removed[id]; !removed {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Removed lists, sorted, who a moderator removed.
func (r *Room) Removed() []string {
	out := make([]string, 0, len(r.removed))
	for id := range r.removed {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// PresentIDs lists, sorted, everyone present.
func (r *Room) PresentIDs() []string {
	out := make([]string, 0, len(r.people))
	for id := range r.people {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
