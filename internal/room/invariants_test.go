package room_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// checker holds what the invariants need to remember between steps: the last Seq,
// the removed users, the invitees, a view of the room built from events only, and
// the pairs of people on stage together when a block between them was made.
type checker struct {
	cfg     room.Config
	seq     uint64
	removed map[string]bool
	invited map[string]bool
	view    view
	// blocked tells whether a block stands between two users, either way, as the
	// social graph now has it; nil checks no block rule.
	blocked func(a, b string) bool
	// blockedOnStage holds the pairs (in ID order) who were both on stage when a
	// block between them was made: the rule moves nobody, so they may stay there
	// together, until one of them leaves the stage.
	blockedOnStage map[[2]string]bool
}

func newChecker(cfg room.Config) *checker {
	c := &checker{cfg: cfg, removed: map[string]bool{}, invited: map[string]bool{}, view: newView(cfg),
		blockedOnStage: map[[2]string]bool{}}
	for _, u := range append(append([]string(nil), cfg.CoHosts...), cfg.Speakers...) {
		c.invited[u] = true // co-hosts and stage guests belong to the conversation from the start
	}
	return c
}

// check runs every invariant after step s, which turned the room from before into
// r, returning events and err.
func (c *checker) check(t *testing.T, r *room.Room, s step, before room.Snapshot, events []room.Event, err error) {
	t.Helper()
	after := r.Snapshot()
	if err != nil {
		if len(events) != 0 {
			t.Fatalf("%v: refused with %v, yet got events %v", s, err, kinds(events))
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%v: refused with %v, yet the room changed:\nbefore %+v\nafter  %+v", s, err, before, after)
		}
	}
	if before.State == room.StateEnded && !errors.Is(err, room.ErrRoomEnded) {
		t.Fatalf("%v: the room had ended, yet got error %v, want %v", s, err, room.ErrRoomEnded)
	}
	if j, ok := s.cmd.(room.Join); ok && err == nil && j.AdminModerator {
		// An admin who came in to moderate belongs to the conversation, and is on
		// stage as a moderator unless a block kept them off it.
		c.invited[s.actor] = true
		if p, _ := r.Participant(s.actor); p.Role != room.Moderator && !r.KeptOffStage(s.actor) {
			t.Fatalf("%v: an admin who joined to moderate is %s, not kept off the stage", s, p.Role)
		}
	}
	if rel, ok := s.cmd.(room.SetRelation); ok && err == nil && rel.Blocks && onStage(before, s.actor) && onStage(before, rel.Target) {
		c.blockedOnStage[pair(s.actor, rel.Target)] = true
	}
	for _, e := range events {
		c.seq++
		if e.Sequence() != c.seq {
			t.Fatalf("%v: %s has Seq %d, want %d", s, e.Kind(), e.Sequence(), c.seq)
		}
		c.checkRecipients(t, r, s, e)
		c.view.apply(e)
		switch e := e.(type) {
		case room.Removed:
			c.removed[e.UserID] = true
		case room.MembersInvited:
			for _, u := range e.Users {
				c.invited[u] = true
			}
		case room.LeftStage:
			for p := range c.blockedOnStage {
				if p[0] == e.UserID || p[1] == e.UserID {
					delete(c.blockedOnStage, p)
				}
			}
		}
	}
	if after.Seq != c.seq {
		t.Fatalf("%v: snapshot Seq %d, want %d", s, after.Seq, c.seq)
	}
	c.view.mustMatch(t, s, after)
	c.checkState(t, r, s, after)
	c.checkBlocks(t, r, s, after)
}

// checkBlocks: no two people are on stage where one blocks the other, unless the
// block was made while both were there; and KeptOffStage only names listeners. An
// ended room is left out: its last stage stays as it was, whatever blocks come
// after.
func (c *checker) checkBlocks(t *testing.T, r *room.Room, s step, snap room.Snapshot) {
	t.Helper()
	if c.blocked == nil || snap.State == room.StateEnded {
		return
	}
	for i, a := range snap.Stage {
		if r.KeptOffStage(a.UserID) {
			t.Fatalf("%v: %.6s is on stage and kept off it", s, a.UserID)
		}
		for _, b := range snap.Stage[i+1:] {
			if c.blocked(a.UserID, b.UserID) && !c.blockedOnStage[pair(a.UserID, b.UserID)] {
				t.Fatalf("%v: %.6s and %.6s are on stage together, and one blocks the other", s, a.UserID, b.UserID)
			}
		}
	}
}

// onStage reports whether u is on the stage of snap.
func onStage(snap room.Snapshot, u string) bool {
	return slices.ContainsFunc(snap.Stage, func(p room.Participant) bool { return p.UserID == u })
}

// pair orders two user IDs.
func pair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// checkRecipients: every event goes to members only.
func (c *checker) checkRecipients(t *testing.T, r *room.Room, s step, e room.Event) {
	t.Helper()
	to := e.Recipients()
	if to.Members {
		if len(to.Users) != 0 {
			t.Fatalf("%v: %s goes to members and to %v", s, e.Kind(), to.Users)
		}
		return
	}
	if len(to.Users) == 0 {
		t.Fatalf("%v: %s goes to nobody", s, e.Kind())
	}
	for _, u := range to.Users {
		_, present := r.Participant(u)
		switch e := e.(type) {
		case room.Removed:
			present = present || u == e.UserID
		case room.MembersInvited:
			present = present || slices.Contains(e.Users, u) && r.IsMember(u)
		}
		if !present {
			t.Fatalf("%v: %s goes to %.6s, who is not a member", s, e.Kind(), u)
		}
	}
}

// checkState: the invariants of one state of the room.
func (c *checker) checkState(t *testing.T, r *room.Room, s step, snap room.Snapshot) {
	t.Helper()
	live := snap.State == room.StateLive
	moderators := 0
	for _, p := range snap.Stage {
		if p.Role == room.Moderator {
			moderators++
		}
		if p.Guest || p.Role == room.Listener || p.HandRaised || p.SpeakInvited || p.Held && !p.Muted {
			t.Fatalf("%v: impossible participant on stage %+v", s, p)
		}
	}
	if live && moderators == 0 {
		t.Fatalf("%v: the room is live with no moderator: stage %+v", s, snap.Stage)
	}
	for _, p := range snap.Listeners {
		if p.Role != room.Listener || p.Muted || p.Held || !p.Since.IsZero() || p.Guest && (p.HandRaised || p.SpeakInvited) {
			t.Fatalf("%v: impossible listener %+v", s, p)
		}
		if r.Audible(p.UserID) {
			t.Fatalf("%v: the listener %.6s is audible", s, p.UserID)
		}
	}
	if snap.ListenerCount != len(snap.Listeners) || r.ListenerCount() != len(snap.Listeners) {
		t.Fatalf("%v: listener count %d, want %d", s, snap.ListenerCount, len(snap.Listeners))
	}
	var stageIDs []string
	for _, p := range snap.Stage {
		stageIDs = append(stageIDs, p.UserID)
	}
	if got := r.StageUserIDs(); !slices.Equal(got, stageIDs) {
		t.Fatalf("%v: StageUserIDs %v, want %v", s, got, stageIDs)
	}
	for _, u := range pool {
		p, present := r.Participant(u)
		if c.removed[u] && (present || r.IsMember(u)) {
			t.Fatalf("%v: the removed user %.6s is back", s, u)
		}
		if want := present && live && p.Role != room.Listener && !p.Muted; r.Audible(u) != want {
			t.Fatalf("%v: %.6s audible %v, want %v (%+v, %s)", s, u, r.Audible(u), want, p, snap.State)
		}
		if present && c.cfg.Type == room.Closed && u != c.cfg.CreatorID && !c.invited[u] {
			t.Fatalf("%v: %.6s is in a closed room without an invitation", s, u)
		}
		if present != r.IsMember(u) && present {
			t.Fatalf("%v: %.6s is present but not a member", s, u)
		}
	}
	if r.Ended() != (snap.State == room.StateEnded) {
		t.Fatalf("%v: Ended() %v in state %s", s, r.Ended(), snap.State)
	}
}

// view is a client's view of the room, built from events alone.
type view struct {
	state     room.State
	policy    room.HandPolicy
	stage     []room.Participant
	listeners []room.Participant
	hands     []string
	invites   []string
	guests    bool // guests may join now
	chat      room.ChatMode
	slow      int
	pinned    string
	reactions bool
	recording bool
	captions  bool // live captions
}

func newView(cfg room.Config) view {
	chat := cfg.Chat
	if chat == "" {
		chat = room.DefaultChat(cfg.Type)
	}
	return view{state: room.StateWaiting, policy: room.HandsEveryone, guests: cfg.AllowGuests, chat: chat, reactions: true, recording: cfg.Record,
		stage: []room.Participant{}, listeners: []room.Participant{}, hands: []string{}, invites: []string{}}
}

// person finds u on stage or in the audience.
func (v *view) person(u string) *room.Participant {
	for _, list := range [][]room.Participant{v.stage, v.listeners} {
		for i := range list {
			if list[i].UserID == u {
				return &list[i]
			}
		}
	}
	return &room.Participant{} // unknown: a write to it is lost, and mustMatch tells
}

func without[T any](list []T, match func(T) bool) []T { return slices.DeleteFunc(list, match) }

func (v *view) apply(e room.Event) {
	is := func(u string) func(string) bool { return func(x string) bool { return x == u } }
	isP := func(u string) func(room.Participant) bool {
		return func(p room.Participant) bool { return p.UserID == u }
	}
	switch e := e.(type) {
	case room.GuestsChanged:
		v.guests = e.Allowed
	case room.RecordingChanged:
		v.recording = e.On
	case room.LiveCaptionsChanged:
		v.captions = e.On
	case room.ChatSettingsChanged:
		v.chat, v.slow = e.Mode, e.SlowSeconds
	case room.LinkPinned:
		v.pinned = e.URL
	case room.ReactionsChanged:
		v.reactions = e.Allowed
	case room.ChatMuted: // to the muted and the moderators: not in a member's view
	case room.JoinedStage:
		v.stage = append(v.stage, room.Participant{UserID: e.UserID, Role: e.Role, Muted: e.Muted, Since: e.Since})
		if v.state == room.StateWaiting {
			v.state = room.StateLive
		}
	case room.LeftStage:
		v.stage = without(v.stage, isP(e.UserID))
	case room.ListenerJoined:
		v.listeners = append(v.listeners, room.Participant{UserID: e.UserID, Guest: e.Guest, Role: room.Listener})
	case room.ListenerLeft:
		v.listeners = without(v.listeners, isP(e.UserID))
		v.hands = without(v.hands, is(e.UserID))
		v.invites = without(v.invites, is(e.UserID))
	case room.HandRaised:
		v.hands = append(v.hands, e.UserID)
		v.person(e.UserID).HandRaised = true
	case room.HandLowered:
		v.hands = without(v.hands, is(e.UserID))
		v.person(e.UserID).HandRaised = false
	case room.HandPolicyChanged:
		v.policy = e.Policy
	case room.SpeakInvited:
		v.invites = append(v.invites, e.UserID)
		v.person(e.UserID).SpeakInvited = true
	case room.SpeakDeclined:
		v.invites = without(v.invites, is(e.UserID))
		v.person(e.UserID).SpeakInvited = false
	case room.ModeratorAdded:
		v.person(e.UserID).Role = room.Moderator
	case room.ModeratorRemoved:
		v.person(e.UserID).Role = room.Speaker
	case room.Muted:
		p := v.person(e.UserID)
		p.Muted, p.Held = true, e.Held
	case room.Unmuted:
		v.person(e.UserID).Muted = false
	case room.MuteReleased:
		v.person(e.UserID).Held = false
	case room.RoomEnded:
		v.state = room.StateEnded
	case room.Removed, room.MembersInvited:
		// no change to what the room shows
	default:
		panic("view: unknown event " + e.Kind())
	}
}

// mustMatch checks that the view built from events is the room's snapshot.
func (v *view) mustMatch(t *testing.T, s step, snap room.Snapshot) {
	t.Helper()
	got := view{state: snap.State, policy: snap.HandPolicy, stage: snap.Stage,
		listeners: snap.Listeners, hands: snap.RaisedHands, invites: snap.SpeakInvitations, guests: snap.GuestsAllowed,
		chat: snap.Chat, slow: snap.SlowSeconds, pinned: snap.PinnedLink, reactions: snap.ReactionsAllowed,
		recording: snap.Recording, captions: snap.LiveCaptions}
	if !reflect.DeepEqual(*v, got) {
		t.Fatalf("%v: the view built from events differs from the snapshot:\nevents   %+v\nsnapshot %+v", s, *v, got)
	}
}
